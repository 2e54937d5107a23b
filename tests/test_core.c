/* Tests for src/core: UTF-8, JSON writer, SHA-256, buffers, files. */
#include <string.h>

#include "core/buf.h"
#include "core/digits.h"
#include "core/file.h"
#include "core/json.h"
#include "core/lines.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "test.h"

TEST(utf8_accepts_valid_and_rejects_invalid)
{
    size_t bad = 99;
    CHECK(ps_utf8_validate("caf\xC3\xA9", 5, &bad));
    CHECK(ps_utf8_validate("\xF0\x9F\x90\xB6 dog", 8, &bad));
    CHECK(!ps_utf8_validate("ab\xC3", 3, &bad)); /* truncated */
    CHECK_INT(bad, 2);
    CHECK(!ps_utf8_validate("\xC0\xAF", 2, &bad)); /* overlong '/' */
    CHECK_INT(bad, 0);
    CHECK(!ps_utf8_validate("x\xED\xA0\x80", 4, &bad)); /* surrogate */
    CHECK_INT(bad, 1);
    CHECK(!ps_utf8_validate("\xF4\x90\x80\x80", 4, &bad)); /* > U+10FFFF */
    char out[4];
    CHECK_INT(ps_utf8_encode(0x1F436, out), 4);
    CHECK(memcmp(out, "\xF0\x9F\x90\xB6", 4) == 0);
}

TEST(json_writer_escapes_and_nests)
{
    ps_buf b = {0};
    ps_json j;
    ps_json_init(&j, &b, 0);
    ps_json_obj(&j);
    ps_json_key(&j, "q");
    ps_json_str(&j, "a \"dog\"\n\x01");
    ps_json_key(&j, "bad");
    ps_json_strn(&j, "x\xFFy", 3);
    ps_json_key(&j, "list");
    ps_json_arr(&j);
    ps_json_int(&j, -3);
    ps_json_num(&j, 0.25);
    ps_json_num(&j, 1.0 / 0.0);
    ps_json_bool(&j, true);
    ps_json_end(&j);
    ps_json_key(&j, "empty");
    ps_json_obj(&j);
    ps_json_end(&j);
    ps_json_end(&j);
    CHECK_STR(b.data, "{\"q\":\"a \\\"dog\\\"\\n\\u0001\",\"bad\":\"x\xEF\xBF\xBDy\","
                      "\"list\":[-3,0.25,null,true],\"empty\":{}}");
    ps_buf_free(&b);
}

TEST(sha256_known_vectors)
{
    char hex[65];
    ps_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ps_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* Two blocks. */
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ps_sha256_hex(m, strlen(m), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(read_file_reports_missing_and_limits)
{
    ps_error err = {{0}};
    size_t len;
    CHECK(ps_read_file("/nonexistent/x", 100, &len, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent/x: cannot open");
    const char *p = test_write_tmp("ten.txt", "0123456789", 10);
    CHECK(ps_read_file(p, 5, &len, &err) == NULL);
    CHECK_CONTAINS(err.msg, "more than the limit of 5");
    char *d = ps_read_file(p, 10, &len, &err);
    CHECK(d != NULL);
    CHECK_INT(len, 10);
    free(d);
}

TEST(atomic_write_replaces_file)
{
    ps_error err = {{0}};
    const char *p = test_write_tmp("atomic.txt", "old", 3);
    CHECK_INT(ps_write_file_atomic(p, "new!", 4, &err), 0);
    size_t len;
    char *d = ps_read_file(p, 100, &len, &err);
    CHECK_STR(d, "new!");
    free(d);
}

/* Reads every line of data[0..len) into "line|line|..." with numbers. */
static void all_lines(const char *data, size_t len, int data_only, ps_buf *out)
{
    ps_lines r;
    ps_lines_init(&r, data, len);
    const char *s;
    size_t n;
    while (data_only ? ps_lines_next_data(&r, &s, &n) : ps_lines_next(&r, &s, &n))
        ps_buf_printf(out, "%d@%zu:%.*s|", r.no, ps_lines_offset(&r, s), (int)n, s);
}

static void check_lines(const char *data, int data_only, const char *want)
{
    ps_buf b = {0};
    all_lines(data, strlen(data), data_only, &b);
    CHECK_STR(b.data ? b.data : "", want);
    ps_buf_free(&b);
}

TEST(lines_split_lf_crlf_and_skip_comments)
{
    check_lines("", 0, "");
    check_lines("a", 0, "1@0:a|");
    check_lines("a\n", 0, "1@0:a|");          /* a final newline starts no line */
    check_lines("a\nb", 0, "1@0:a|2@2:b|");    /* nor does its absence lose one */
    check_lines("a\r\nb\r\n", 0, "1@0:a|2@3:b|"); /* CRLF reads like LF */
    check_lines("a\r", 0, "1@0:a|");
    check_lines("a\r\r\n", 0, "1@0:a\r|");      /* only one CR goes */
    check_lines("\n\nx\n", 0, "1@0:|2@1:|3@2:x|");
    /* Data lines skip blanks and comments but keep counting them. */
    check_lines("# head\n\nk\tv\n  # not a comment\r\n#\nlast", 1,
                "3@8:k\tv|4@12:  # not a comment|6@33:last|");
    check_lines("#only\n\r\n", 1, "");
    /* NUL bytes are ordinary bytes. */
    const char nul[] = {'a', '\0', 'b', '\n', 'c'};
    ps_lines r;
    ps_lines_init(&r, nul, sizeof nul);
    const char *s;
    size_t n;
    CHECK_INT(ps_lines_next(&r, &s, &n), 1);
    CHECK(s == nul && n == 3);
    CHECK_INT(ps_lines_next(&r, &s, &n), 1);
    CHECK(s == nul + 4 && n == 1 && r.no == 2);
    CHECK_INT(ps_lines_next(&r, &s, &n), 0);
    CHECK(s == nul + 4 && n == 1); /* left as they were at the end */
}

TEST(digits_are_plain_decimal_numbers)
{
    uint64_t v = 7;
    CHECK_INT(ps_parse_digits("0", 1, 9, &v), 0);
    CHECK(v == 0);
    CHECK_INT(ps_parse_digits("123456789", 9, 9, &v), 0);
    CHECK(v == 123456789u);
    CHECK_INT(ps_parse_digits("1234567890", 10, 9, &v), -1); /* too many digits */
    CHECK_INT(ps_parse_digits("42x", 2, 9, &v), 0);           /* only n bytes count */
    CHECK(v == 42);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1.5", "0x1", "\xd9\xa1", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK_INT(ps_parse_digits(bad[i], strlen(bad[i]), 9, &v), -1);
    /* 19 digits is the most, whatever max_digits says: always fits. */
    CHECK_INT(ps_parse_digits("9999999999999999999", 19, 30, &v), 0);
    CHECK(v == 9999999999999999999u);
    CHECK_INT(ps_parse_digits("10000000000000000000", 20, 30, &v), -1);
}

int main(void)
{
    RUN(utf8_accepts_valid_and_rejects_invalid);
    RUN(json_writer_escapes_and_nests);
    RUN(sha256_known_vectors);
    RUN(read_file_reports_missing_and_limits);
    RUN(atomic_write_replaces_file);
    RUN(lines_split_lf_crlf_and_skip_comments);
    RUN(digits_are_plain_decimal_numbers);
    return test_summary();
}
