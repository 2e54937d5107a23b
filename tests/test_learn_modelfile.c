/* Tests for learn/modelfile: round trip, and every kind of damage -
 * truncation at every offset, every flipped byte, wrong magic, version or
 * kind, and structurally bad files that carry a valid checksum - must be
 * rejected with "file: byte offset N: reason", never a crash. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "learn/modelfile.h"
#include "test.h"

static void build(ps_buf *out)
{
    ps_modelfile m;
    ps_modelfile_init(&m, "ridge");
    float w[3] = {1.5f, -2.0f, 0.25f}, M[6] = {1, 2, 3, 4, 5, 6};
    ps_modelfile_add_vec(&m, "w", w, 3);
    ps_modelfile_add_scalar(&m, "b", 0.5);
    ps_modelfile_add_mat(&m, "M", M, 2, 3);
    ps_modelfile_serialize(&m, out);
    ps_modelfile_free(&m);
}

/* Recompute the trailing checksum after editing bytes. */
static void reseal(unsigned char *p, size_t len)
{
    ps_sha256 c;
    ps_sha256_init(&c);
    ps_sha256_update(&c, p, len - 32);
    ps_sha256_final(&c, p + len - 32);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

TEST(round_trip_keeps_names_shapes_and_values)
{
    ps_buf b = {0};
    build(&b);
    ps_modelfile m;
    ps_error err;
    CHECK_INT(ps_modelfile_parse(b.data, b.len, "mem", "ridge", &m, &err), 0);
    CHECK_STR(m.kind, "ridge");
    CHECK_INT(m.n, 3);
    uint64_t d3[1] = {3}, d23[2] = {2, 3};
    const float *w = ps_modelfile_array(&m, "w", 1, d3, &err);
    CHECK(w && w[0] == 1.5f && w[2] == 0.25f);
    const float *M = ps_modelfile_array(&m, "M", 2, d23, &err);
    CHECK(M && M[5] == 6.0f);
    double bv;
    CHECK_INT(ps_modelfile_scalar(&m, "b", &bv, &err), 0);
    CHECK(bv == 0.5);
    long iv;
    CHECK_INT(ps_modelfile_int(&m, "b", 0, 9, &iv, &err), -1);
    CHECK_CONTAINS(err.msg, "'b' is 0.5, expected an integer");
    uint64_t d4[1] = {4};
    CHECK(ps_modelfile_array(&m, "w", 1, d4, &err) == NULL);
    CHECK_CONTAINS(err.msg, "mem: byte offset 56: array 'w' has shape [3], expected [4]");
    CHECK(ps_modelfile_array(&m, "nope", 1, d4, &err) == NULL);
    CHECK_CONTAINS(err.msg, "has no array 'nope'");
    size_t n;
    CHECK(ps_modelfile_vec(&m, "M", &n, &err) == NULL);
    CHECK_CONTAINS(err.msg, "expected a non-empty 1-D array");
    ps_modelfile_free(&m);
    /* Serializing the same arrays twice gives the same bytes. */
    ps_buf c = {0};
    build(&c);
    CHECK(b.len == c.len && memcmp(b.data, c.data, b.len) == 0);
    ps_buf_free(&b);
    ps_buf_free(&c);
}

TEST(every_truncation_is_rejected)
{
    ps_buf b = {0};
    build(&b);
    ps_error err;
    for (size_t len = 0; len < b.len; len++) {
        /* A private copy of exactly len bytes, so ASan sees any overread. */
        unsigned char *p = malloc(len ? len : 1);
        memcpy(p, b.data, len);
        ps_modelfile m;
        int rc = ps_modelfile_parse(p, len, "t.model", NULL, &m, &err);
        CHECK_INT(rc, -1);
        if (rc == -1) {
            CHECK_CONTAINS(err.msg, "t.model: byte offset ");
            CHECK_CONTAINS(err.msg, "truncated");
        }
        free(p);
    }
    ps_buf_free(&b);
}

TEST(every_flipped_byte_is_rejected)
{
    ps_buf b = {0};
    build(&b);
    ps_error err;
    unsigned char *p = malloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(p, b.data, b.len);
            p[i] ^= (unsigned char)(1u << bit);
            ps_modelfile m;
            int rc = ps_modelfile_parse(p, b.len, "f.model", "ridge", &m, &err);
            CHECK_INT(rc, -1);
            if (rc == -1)
                CHECK_CONTAINS(err.msg, "f.model: byte offset ");
        }
    }
    free(p);
    ps_buf_free(&b);
}

TEST(header_errors_say_what_is_wrong)
{
    ps_buf b = {0};
    build(&b);
    unsigned char *p = malloc(b.len);
    ps_modelfile m;
    ps_error err;
    memcpy(p, b.data, b.len);
    memcpy(p, "GIF89a..", 8);
    CHECK_INT(ps_modelfile_parse(p, b.len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "x: byte offset 0: not a picseek model file (bad magic)");
    memcpy(p, b.data, b.len);
    put32(p + 8, 2);
    CHECK_INT(ps_modelfile_parse(p, b.len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "x: byte offset 8: model file format version 2; this picseek reads version 1");
    memcpy(p, b.data, b.len);
    CHECK_INT(ps_modelfile_parse(p, b.len, "x", "bilinear", &m, &err), -1);
    CHECK_CONTAINS(err.msg, "x: byte offset 12: this is a 'ridge' model, expected a 'bilinear' model");
    memcpy(p, b.data, b.len);
    p[20] = 'X'; /* a kind field with garbage after the NUL */
    CHECK_INT(ps_modelfile_parse(p, b.len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 12: invalid model kind field");
    memcpy(p, b.data, b.len);
    p[b.len - 1] ^= 1;
    CHECK_INT(ps_modelfile_parse(p, b.len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "checksum mismatch");
    /* Extra bytes after the declared end. */
    unsigned char *q = malloc(b.len + 5);
    memcpy(q, b.data, b.len);
    memset(q + b.len, 0, 5);
    CHECK_INT(ps_modelfile_parse(q, b.len + 5, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "5 unexpected bytes after the declared end");
    free(q);
    free(p);
    ps_buf_free(&b);
}

TEST(checksummed_but_malformed_files_are_rejected)
{
    ps_buf b = {0};
    build(&b);
    size_t len = b.len;
    unsigned char *p = malloc(len);
    ps_modelfile m;
    ps_error err;
    /* Layout of the first array: name length at 56, "w" at 60, ndim at 61,
     * dims[0] at 65, values at 73. */
    memcpy(p, b.data, len);
    put32(p + 61, 9);
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 61: array 'w': 9 dimensions");
    memcpy(p, b.data, len);
    memset(p + 65, 0xff, 8); /* dims[0] = 2^64 - 1 */
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 65: array 'w': dimension 0");
    memcpy(p, b.data, len);
    float nan = NAN;
    memcpy(p + 77, &nan, 4);
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 77: array 'w': value 1 is not a finite number");
    memcpy(p, b.data, len);
    p[60] = 'b'; /* rename "w" to "b": the second array's name becomes a duplicate */
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "duplicate array name 'b'");
    memcpy(p, b.data, len);
    p[60] = '/';
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 60: array 0: invalid name");
    memcpy(p, b.data, len);
    put32(p + 44, 2); /* claims 2 arrays: the third is left over */
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "unexpected bytes after the last array");
    memcpy(p, b.data, len);
    put32(p + 44, 4); /* claims 4 arrays: the fourth runs off the end */
    reseal(p, len);
    CHECK_INT(ps_modelfile_parse(p, len, "x", NULL, &m, &err), -1);
    CHECK_CONTAINS(err.msg, "array 3: header runs past the end");
    free(p);
    ps_buf_free(&b);
}

TEST(save_and_load_through_files)
{
    ps_modelfile m, l;
    ps_modelfile_init(&m, "mlp");
    float v[2] = {3, 4};
    ps_modelfile_add_vec(&m, "v", v, 2);
    ps_modelfile_add_vec(&m, "empty", v, 0);
    const char *path = test_write_tmp("mf.model", "", 0);
    ps_error err;
    CHECK_INT(ps_modelfile_save(&m, path, &err), 0);
    CHECK_INT(ps_modelfile_load(path, "mlp", &l, &err), 0);
    CHECK_INT(l.n, 2);
    CHECK_INT(ps_modelfile_find(&l, "empty")->count, 0);
    CHECK_STR(l.source, path);
    ps_modelfile_free(&l);
    ps_modelfile_free(&m);
    CHECK_INT(ps_modelfile_load("/nonexistent/m.model", NULL, &l, &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/m.model: cannot open");
}

int main(void)
{
    RUN(round_trip_keeps_names_shapes_and_values);
    RUN(every_truncation_is_rejected);
    RUN(every_flipped_byte_is_rejected);
    RUN(header_errors_say_what_is_wrong);
    RUN(checksummed_but_malformed_files_are_rejected);
    RUN(save_and_load_through_files);
    return test_summary();
}
