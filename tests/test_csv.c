/* Tests for the strict RFC 4180 reader (src/data/csv.h). */
#include "test.h"

#include "core/buf.h"
#include "data/csv.h"

/* Read all of data and render it as "[f1|f2];[f1];..." with the start line
 * of each record as "@L" when show_lines.  Returns the last ps_csv_next
 * code; err holds the first error message seen. */
static int dump(const char *data, size_t len, const ps_csv_opts *o, int show_lines, ps_buf *out,
                ps_error *first)
{
    ps_csv r;
    ps_error err;
    first->msg[0] = '\0';
    if (ps_csv_open(&r, "t.csv", data, len, o, &err) != 0) {
        *first = err;
        return -9;
    }
    int rc;
    while ((rc = ps_csv_next(&r, &err)) != PS_CSV_END) {
        if (rc == PS_CSV_BAD || rc == PS_CSV_ERROR) {
            if (!first->msg[0])
                *first = err;
            ps_buf_puts(out, rc == PS_CSV_BAD ? "BAD;" : "ERR;");
            if (rc == PS_CSV_ERROR)
                break;
            continue;
        }
        if (show_lines)
            ps_buf_printf(out, "@%zu", ps_csv_line(&r));
        ps_buf_putc(out, '[');
        for (size_t i = 0; i < ps_csv_nfields(&r); i++) {
            size_t n;
            const char *f = ps_csv_field(&r, i, &n);
            if (i)
                ps_buf_putc(out, '|');
            ps_buf_append(out, f, n);
            CHECK_INT(strlen(f), n); /* NUL-terminated, no NUL inside */
        }
        ps_buf_puts(out, "];");
    }
    ps_csv_close(&r);
    return rc;
}

/* dump() for a NUL-terminated literal with the given separator. */
static char *parse(const char *s, char sep, size_t nfields, ps_error *err)
{
    ps_buf out = {0};
    ps_csv_opts o = {.sep = sep, .nfields = nfields};
    dump(s, strlen(s), &o, 0, &out, err);
    ps_buf_putc(&out, '\0');
    return ps_buf_steal(&out);
}

#define CHECK_PARSE(input, sep, nf, expect_out, expect_err)                  \
    do {                                                                      \
        ps_error e_;                                                          \
        char *got_ = parse(input, sep, nf, &e_);                              \
        CHECK_STR(got_, expect_out);                                          \
        CHECK_STR(e_.msg, expect_err);                                        \
        free(got_);                                                           \
    } while (0)

TEST(simple_records)
{
    CHECK_PARSE("a,b,c\n1,2,3\n", ',', 0, "[a|b|c];[1|2|3];", "");
    /* a missing final newline is fine */
    CHECK_PARSE("a,b\n1,2", ',', 0, "[a|b];[1|2];", "");
    /* empty fields, including a trailing one */
    CHECK_PARSE(",,\na,b,\n", ',', 0, "[||];[a|b|];", "");
    /* spaces are data */
    CHECK_PARSE(" a , b \n", ',', 0, "[ a | b ];", "");
}

TEST(quoted_fields)
{
    CHECK_PARSE("\"x,y\",\"he said \"\"hi\"\"\",\"\"\n", ',', 0, "[x,y|he said \"hi\"|];", "");
    /* embedded LF and CRLF inside quotes are data */
    CHECK_PARSE("\"l1\nl2\",\"c\r\nd\"\n", ',', 0, "[l1\nl2|c\r\nd];", "");
    /* only doubled quotes */
    CHECK_PARSE("\"\"\"\"\"\"\n", ',', 0, "[\"\"];", "");
    /* a quoted field at end of data without newline */
    CHECK_PARSE("a,\"b\"", ',', 0, "[a|b];", "");
}

TEST(crlf_and_lines)
{
    ps_buf out = {0};
    ps_error e;
    const char *s = "h1,h2\r\n\"multi\r\nline\",x\r\nlast,y\r\n";
    ps_csv_opts o = {0};
    int rc = dump(s, strlen(s), &o, 1, &out, &e);
    CHECK_INT(rc, PS_CSV_END);
    ps_buf_putc(&out, '\0');
    CHECK_STR(out.data, "@1[h1|h2];@2[multi\r\nline|x];@4[last|y];");
    ps_buf_free(&out);

    /* mixed LF and CRLF */
    CHECK_PARSE("a,b\r\nc,d\ne,f", ',', 0, "[a|b];[c|d];[e|f];", "");
}

TEST(bom_skipped)
{
    CHECK_PARSE("\xEF\xBB\xBFimage\na.jpg\n", ',', 0, "[image];[a.jpg];", "");
    /* a BOM elsewhere is just data (U+FEFF is valid UTF-8) */
    CHECK_PARSE("x\n\xEF\xBB\xBFy\n", ',', 0, "[x];[\xEF\xBB\xBFy];", "");
}

TEST(other_separators)
{
    CHECK_PARSE("a\tb,c\t\"d\te\"\n", '\t', 0, "[a|b,c|d\te];", "");
    CHECK_PARSE("|query_id|query_text|image\n0|q#0|\"A \"\"x\"\" |y\"|i.jpg\n", '|', 0,
                "[|query_id|query_text|image];[0|q#0|A \"x\" |y|i.jpg];", "");
}

TEST(wrong_field_count)
{
    /* too few, then the reader goes on */
    CHECK_PARSE("a,b,c\n1,2\n4,5,6\n", ',', 0, "[a|b|c];BAD;[4|5|6];",
                "t.csv:2: column 3: record has 2 fields, expected 3");
    CHECK_PARSE("a,b\n1,2,3\n", ',', 0, "[a|b];BAD;",
                "t.csv:2: column 3: record has 3 fields, expected 2");
    /* the expected count from the options applies to the first record too */
    CHECK_PARSE("a\n", ',', 2, "BAD;", "t.csv:1: column 2: record has 1 field, expected 2");
    /* an empty line is one empty field */
    CHECK_PARSE("a,b\n\nc,d\n", ',', 0, "[a|b];BAD;[c|d];",
                "t.csv:2: column 2: record has 1 field, expected 2");
}

TEST(truncated_input)
{
    /* a last line cut short: too few fields and no line end */
    CHECK_PARSE("a,b,c\n1,2", ',', 0, "[a|b|c];BAD;",
                "t.csv:2: column 3: record has 2 fields, expected 3 (truncated last line?)");
    /* too few fields but with a line end: not called truncated */
    CHECK_PARSE("a,b,c\n1,2\n", ',', 0, "[a|b|c];BAD;",
                "t.csv:2: column 3: record has 2 fields, expected 3");
    /* a quoted field still open at the end */
    CHECK_PARSE("a,b\n1,\"abc\ndef", ',', 0, "[a|b];ERR;",
                "t.csv:2: column 2: unterminated quoted field at end of file (truncated file?)");
    CHECK_PARSE("\"", ',', 0, "ERR;",
                "t.csv:1: column 1: unterminated quoted field at end of file (truncated file?)");
}

TEST(syntax_errors)
{
    CHECK_PARSE("a,b\"c\n", ',', 0, "ERR;",
                "t.csv:1: column 2: quote character inside an unquoted field (quote the whole "
                "field and double the quote)");
    CHECK_PARSE("x\n\"a\"x,b\n", ',', 0, "[x];ERR;",
                "t.csv:2: column 1: unexpected 'x' after the closing quote (a quote inside a "
                "quoted field must be doubled)");
    CHECK_PARSE("\"a\" ,b\n", ',', 0, "ERR;",
                "t.csv:1: column 1: unexpected ' ' after the closing quote (a quote inside a "
                "quoted field must be doubled)");
    CHECK_PARSE("a\rb,c\n", ',', 0, "ERR;",
                "t.csv:1: column 1: carriage return not followed by a line feed");
    CHECK_PARSE("a,b\r", ',', 0, "ERR;",
                "t.csv:1: column 2: carriage return not followed by a line feed");
    /* after a fatal error the reader stays stopped */
    ps_csv r;
    ps_error e;
    const char *s = "a\"\nb\n";
    CHECK_INT(ps_csv_open(&r, "t.csv", s, strlen(s), NULL, &e), 0);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_ERROR);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_ERROR);
    CHECK_STR(e.msg, "t.csv: the reader already stopped at an error");
    ps_csv_close(&r);
}

TEST(invalid_utf8_and_nul)
{
    CHECK_PARSE("a,b\n1,\xff\n2,3\n", ',', 0, "[a|b];BAD;[2|3];",
                "t.csv:2: column 2: invalid UTF-8 at byte offset 6");
    /* inside a quoted multi-line field: the record's first line is named */
    CHECK_PARSE("a,b\n1,\"x\ny\xc3(\"\n", ',', 0, "[a|b];BAD;",
                "t.csv:2: column 2: invalid UTF-8 at byte offset 10");
    /* overlong encoding and surrogate are invalid too */
    CHECK_PARSE("\xc0\xaf\n", ',', 0, "BAD;", "t.csv:1: column 1: invalid UTF-8 at byte offset 0");
    CHECK_PARSE("\xed\xa0\x80\n", ',', 0, "BAD;", "t.csv:1: column 1: invalid UTF-8 at byte offset 0");
    /* a sequence cut by the end of the field */
    CHECK_PARSE("ab\xe2\x82,c\n", ',', 0, "BAD;", "t.csv:1: column 1: invalid UTF-8 at byte offset 2");
    /* valid multi-byte text passes */
    CHECK_PARSE("caf\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x93\xb7\n", ',', 0,
                "[caf\xc3\xa9|\xe2\x82\xac|\xf0\x9f\x93\xb7];", "");

    ps_buf out = {0};
    ps_error e;
    const char nul[] = "a,b\n1,x\0y\n";
    ps_csv_opts o = {0};
    CHECK_INT(dump(nul, sizeof nul - 1, &o, 0, &out, &e), PS_CSV_END);
    CHECK_STR(e.msg, "t.csv:2: column 2: NUL byte at byte offset 7");
    ps_buf_free(&out);
}

TEST(limits)
{
    ps_buf out = {0};
    ps_error e;
    ps_csv_opts o = {.max_field = 4};
    const char *s = "abcd,\"ab\"\"c\"\nabcde\n";
    dump(s, strlen(s), &o, 0, &out, &e);
    ps_buf_putc(&out, '\0');
    CHECK_STR(out.data, "[abcd|ab\"c];ERR;");
    CHECK_STR(e.msg, "t.csv:2: column 1: field is longer than the limit of 4 bytes");
    ps_buf_clear(&out);

    ps_csv_opts o2 = {.max_record = 5};
    s = "ab,cd\nab,cd,ef\n";
    dump(s, strlen(s), &o2, 0, &out, &e);
    ps_buf_putc(&out, '\0');
    CHECK_STR(out.data, "[ab|cd];ERR;");
    CHECK_STR(e.msg, "t.csv:2: column 3: record is longer than the limit of 5 bytes");
    ps_buf_clear(&out);

    ps_csv_opts o3 = {.max_fields = 3};
    s = "a,b,c,d\n";
    dump(s, strlen(s), &o3, 0, &out, &e);
    CHECK_STR(e.msg, "t.csv:1: column 4: record has more than 3 fields");
    ps_buf_free(&out);
}

TEST(files)
{
    ps_csv r;
    ps_error e;
    const char *empty = test_write_tmp("empty.csv", "", 0);
    CHECK_INT(ps_csv_open_file(&r, empty, NULL, &e), -1);
    char want[1024];
    snprintf(want, sizeof want, "%s: file is empty", empty);
    CHECK_STR(e.msg, want);

    const char *bom = test_write_tmp("bom_only.csv", "\xEF\xBB\xBF", 3);
    CHECK_INT(ps_csv_open_file(&r, bom, NULL, &e), -1);
    snprintf(want, sizeof want, "%s: file is empty", bom);
    CHECK_STR(e.msg, want);

    ps_csv_opts allow = {.allow_empty = true};
    CHECK_INT(ps_csv_open_file(&r, empty, &allow, &e), 0);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_END);
    ps_csv_close(&r);

    char missing[600];
    snprintf(missing, sizeof missing, "%s.does-not-exist", empty);
    CHECK_INT(ps_csv_open_file(&r, missing, NULL, &e), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
    CHECK_STR(e.msg, want);

    const char *big = test_write_tmp("big.csv", "0123456789,0123456789\n", 22);
    ps_csv_opts small = {.max_file = 10};
    CHECK_INT(ps_csv_open_file(&r, big, &small, &e), -1);
    snprintf(want, sizeof want, "%s: file is 22 bytes, more than the limit of 10", big);
    CHECK_STR(e.msg, want);

    /* the path read from disk is named in record errors */
    const char *bad = test_write_tmp("bad.csv", "a,b\n1\n", 6);
    CHECK_INT(ps_csv_open_file(&r, bad, NULL, &e), 0);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_RECORD);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_BAD);
    snprintf(want, sizeof want, "%s:2: column 2: record has 1 field, expected 2", bad);
    CHECK_STR(e.msg, want);
    CHECK_STR(ps_csv_path(&r), bad);
    ps_csv_close(&r);
}

TEST(header_check)
{
    ps_csv r;
    ps_error e;
    static const char *const want[] = {"image", "query_id", "query_text"};
    const char *s = "image,query,query_text\n";
    CHECK_INT(ps_csv_open(&r, "t.csv", s, strlen(s), NULL, &e), 0);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_RECORD);
    CHECK_INT(ps_csv_expect_header(&r, want, 3, &e), -1);
    CHECK_STR(e.msg, "t.csv:1: column 2: header is 'query', expected 'query_id'");
    ps_csv_close(&r);

    s = "image,query_id\n";
    CHECK_INT(ps_csv_open(&r, "t.csv", s, strlen(s), NULL, &e), 0);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_RECORD);
    CHECK_INT(ps_csv_expect_header(&r, want, 3, &e), -1);
    CHECK_STR(e.msg, "t.csv:1: column 3: header has 2 columns, expected 3");
    ps_csv_close(&r);

    s = "\xEF\xBB\xBFimage,query_id,query_text\r\n";
    CHECK_INT(ps_csv_open(&r, "t.csv", s, strlen(s), NULL, &e), 0);
    CHECK_INT(ps_csv_next(&r, &e), PS_CSV_RECORD);
    CHECK_INT(ps_csv_expect_header(&r, want, 3, &e), 0);
    ps_csv_close(&r);
}

TEST(write_round_trip)
{
    /* the first field starts with a byte order mark (U+FEFF, octal UTF-8
     * bytes), which must survive */
    const char *fields[] = {"\357\273\277bom", "plain", "a,b", "say \"hi\"", "two\nlines",
                            "cr\r\nlf", "", "t\tab"};
    size_t nf = sizeof fields / sizeof *fields;
    const char seps[] = {',', '\t', '|'};
    for (size_t k = 0; k < 3; k++) {
        ps_buf b = {0};
        for (int rec = 0; rec < 2; rec++) {
            for (size_t i = 0; i < nf; i++) {
                if (i)
                    ps_buf_putc(&b, seps[k]);
                ps_csv_write_field(&b, fields[i], strlen(fields[i]), seps[k]);
            }
            ps_buf_putc(&b, '\n');
        }
        ps_csv r;
        ps_error e;
        ps_csv_opts o = {.sep = seps[k], .nfields = nf};
        CHECK_INT(ps_csv_open(&r, "rt.csv", b.data, b.len, &o, &e), 0);
        for (int rec = 0; rec < 2; rec++) {
            CHECK_INT(ps_csv_next(&r, &e), PS_CSV_RECORD);
            for (size_t i = 0; i < nf; i++)
                CHECK_STR(ps_csv_field(&r, i, NULL), fields[i]);
        }
        CHECK_INT(ps_csv_next(&r, &e), PS_CSV_END);
        CHECK(ps_csv_field(&r, 0, NULL) == NULL);
        ps_csv_close(&r);
        ps_buf_free(&b);
    }
}

TEST(bad_separator)
{
    ps_csv r;
    ps_error e;
    ps_csv_opts o = {.sep = '"'};
    CHECK_INT(ps_csv_open(&r, "t.csv", "a", 1, &o, &e), -1);
    CHECK_STR(e.msg, "t.csv: the separator cannot be a quote or a line end");
}

int main(void)
{
    RUN(simple_records);
    RUN(quoted_fields);
    RUN(crlf_and_lines);
    RUN(bom_skipped);
    RUN(other_separators);
    RUN(wrong_field_count);
    RUN(truncated_input);
    RUN(syntax_errors);
    RUN(invalid_utf8_and_nul);
    RUN(limits);
    RUN(files);
    RUN(header_check);
    RUN(write_round_trip);
    RUN(bad_separator);
    return test_summary();
}
