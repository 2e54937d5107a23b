#include "learn/modelfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/le.h"
#include "core/sha256.h"

static const unsigned char MAGIC[8] = {'P', 'S', 'M', 'O', 'D', 'E', 'L', 0x1a};

static int valid_kind_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int valid_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

static int valid_kind(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n >= PS_MODEL_KIND_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!valid_kind_char(k[i]))
            return 0;
    return 1;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n >= PS_MODEL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!valid_name_char(s[i]))
            return 0;
    return 1;
}

static void die(const char *what, const char *name)
{
    fprintf(stderr, "picseek: modelfile: %s '%s' (a programming error)\n", what, name);
    abort();
}

void ps_modelfile_init(ps_modelfile *m, const char *kind)
{
    memset(m, 0, sizeof *m);
    if (!valid_kind(kind))
        die("invalid model kind", kind);
    memcpy(m->kind, kind, strlen(kind) + 1);
    snprintf(m->source, sizeof m->source, "(memory)");
}

void ps_modelfile_free(ps_modelfile *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->arrays[i].data);
    free(m->arrays);
    m->arrays = NULL;
    m->n = m->cap = 0;
}

const ps_model_array *ps_modelfile_find(const ps_modelfile *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->arrays[i].name, name) == 0)
            return &m->arrays[i];
    return NULL;
}

/* Append an array slot with the given shape; data is copied or zeroed. */
static ps_model_array *push_array(ps_modelfile *m, const char *name, size_t name_len, uint32_t ndim,
                                  const uint64_t *dims, size_t count)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->arrays = ps_xrealloc(m->arrays, m->cap * sizeof *m->arrays);
    }
    ps_model_array *a = &m->arrays[m->n++];
    memset(a, 0, sizeof *a);
    memcpy(a->name, name, name_len);
    a->name[name_len] = '\0';
    a->ndim = ndim;
    for (uint32_t d = 0; d < ndim; d++)
        a->dims[d] = dims[d];
    a->count = count;
    a->data = ps_xmalloc(count ? count * sizeof(float) : 1);
    return a;
}

void ps_modelfile_add(ps_modelfile *m, const char *name, const float *data, uint32_t ndim,
                      const uint64_t *dims)
{
    if (!valid_name(name, strlen(name)))
        die("invalid array name", name);
    if (ps_modelfile_find(m, name))
        die("duplicate array name", name);
    if (ndim > PS_MODEL_MAX_DIMS)
        die("too many dimensions for array", name);
    size_t count = 1;
    for (uint32_t d = 0; d < ndim; d++) {
        if (dims[d] && count > PS_MODEL_MAX_BYTES / sizeof(float) / dims[d])
            die("array too large", name);
        count *= (size_t)dims[d];
    }
    ps_model_array *a = push_array(m, name, strlen(name), ndim, dims, count);
    if (count)
        memcpy(a->data, data, count * sizeof(float));
}

void ps_modelfile_add_vec(ps_modelfile *m, const char *name, const float *data, size_t n)
{
    uint64_t d[1] = {n};
    ps_modelfile_add(m, name, data, 1, d);
}

void ps_modelfile_add_mat(ps_modelfile *m, const char *name, const float *data, size_t rows,
                          size_t cols)
{
    uint64_t d[2] = {rows, cols};
    ps_modelfile_add(m, name, data, 2, d);
}

void ps_modelfile_add_scalar(ps_modelfile *m, const char *name, double v)
{
    float f = (float)v;
    ps_modelfile_add(m, name, &f, 0, NULL);
}

const char *ps_model_key(char *out, const char *prefix, const char *name)
{
    snprintf(out, PS_MODEL_NAME_MAX, "%s%s", prefix, name);
    return out;
}

/* ---- writing ---------------------------------------------------------------- */

static void put_u32(ps_buf *b, uint32_t v)
{
    unsigned char x[4];
    ps_put_le32(x, v);
    ps_buf_append(b, x, 4);
}

static void put_u64(ps_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

void ps_modelfile_serialize(const ps_modelfile *m, ps_buf *out)
{
    size_t start = out->len;
    ps_buf_append(out, MAGIC, 8);
    put_u32(out, PS_MODELFILE_VERSION);
    char kind[PS_MODEL_KIND_MAX] = {0};
    memcpy(kind, m->kind, strlen(m->kind));
    ps_buf_append(out, kind, PS_MODEL_KIND_MAX);
    put_u32(out, (uint32_t)m->n);
    put_u64(out, 0); /* total length, patched below */
    for (size_t i = 0; i < m->n; i++) {
        const ps_model_array *a = &m->arrays[i];
        size_t nl = strlen(a->name);
        put_u32(out, (uint32_t)nl);
        ps_buf_append(out, a->name, nl);
        put_u32(out, a->ndim);
        for (uint32_t d = 0; d < a->ndim; d++)
            put_u64(out, a->dims[d]);
        ps_buf_reserve(out, a->count * 4);
        for (size_t k = 0; k < a->count; k++) {
            uint32_t bits;
            memcpy(&bits, &a->data[k], 4);
            put_u32(out, bits);
        }
    }
    size_t total = out->len - start + PS_MODEL_CHECKSUM_BYTES;
    ps_put_le64((unsigned char *)out->data + start + 48, total);
    unsigned char digest[32];
    ps_sha256 c;
    ps_sha256_init(&c);
    ps_sha256_update(&c, out->data + start, out->len - start);
    ps_sha256_final(&c, digest);
    ps_buf_append(out, digest, 32);
}

int ps_modelfile_save(const ps_modelfile *m, const char *path, ps_error *err)
{
    ps_buf b = {0};
    ps_modelfile_serialize(m, &b);
    int rc = ps_write_file_atomic(path, b.data, b.len, err);
    ps_buf_free(&b);
    return rc;
}

/* ---- reading ---------------------------------------------------------------- */

#define FAIL(off, ...)                                                                        \
    do {                                                                                      \
        char why_[512];                                                                       \
        snprintf(why_, sizeof why_, __VA_ARGS__);                                             \
        ps_errorf(err, "%s: byte offset %zu: %s", source, (size_t)(off), why_);             \
        goto fail;                                                                            \
    } while (0)

int ps_modelfile_parse(const void *data, size_t len, const char *source, const char *expect_kind,
                       ps_modelfile *out, ps_error *err)
{
    const unsigned char *p = data;
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", source);
    const size_t min_len = PS_MODEL_HEADER_BYTES + PS_MODEL_CHECKSUM_BYTES;

    if (len > 0 && memcmp(p, MAGIC, len < 8 ? len : 8) != 0)
        FAIL(0, "not a picseek model file (bad magic)");
    if (len < 12)
        FAIL(len, "file is truncated: %zu bytes, a model file has at least %zu", len, min_len);
    uint32_t version = ps_le32(p + 8);
    if (version != PS_MODELFILE_VERSION)
        FAIL(8, "model file format version %u; this picseek reads version %d", (unsigned)version,
             PS_MODELFILE_VERSION);
    if (len < 12 + PS_MODEL_KIND_MAX)
        FAIL(len, "file is truncated: %zu bytes, a model file has at least %zu", len, min_len);
    size_t kl = 0;
    while (kl < PS_MODEL_KIND_MAX && p[12 + kl])
        kl++;
    int kind_ok = kl > 0 && kl < PS_MODEL_KIND_MAX;
    for (size_t i = 0; i < PS_MODEL_KIND_MAX && kind_ok; i++)
        kind_ok = i < kl ? valid_kind_char((char)p[12 + i]) : p[12 + i] == 0;
    if (!kind_ok)
        FAIL(12, "invalid model kind field");
    memcpy(out->kind, p + 12, kl);
    out->kind[kl] = '\0';
    if (expect_kind && strcmp(out->kind, expect_kind) != 0)
        FAIL(12, "this is a '%s' model, expected a '%s' model", out->kind, expect_kind);
    if (len < min_len)
        FAIL(len, "file is truncated: %zu bytes, a model file has at least %zu", len, min_len);
    uint32_t n_arrays = ps_le32(p + 44);
    uint64_t total = ps_le64(p + 48);
    if (total < len)
        FAIL(total, "%zu unexpected bytes after the declared end of the file", len - (size_t)total);
    if (total > len)
        FAIL(len, "file is truncated: the header declares %llu bytes, the file has %zu",
             (unsigned long long)total, len);
    size_t end = len - PS_MODEL_CHECKSUM_BYTES;
    unsigned char digest[32];
    ps_sha256 c;
    ps_sha256_init(&c);
    ps_sha256_update(&c, p, end);
    ps_sha256_final(&c, digest);
    if (memcmp(digest, p + end, 32) != 0)
        FAIL(end, "checksum mismatch: the file is corrupt");

    /* The checksum only proves the bytes are as written; the structure is
     * still checked so that a well-checksummed bad file cannot hurt. */
    if (n_arrays > PS_MODEL_MAX_ARRAYS)
        FAIL(44, "%u arrays, more than the limit of %d", (unsigned)n_arrays, PS_MODEL_MAX_ARRAYS);
    size_t off = PS_MODEL_HEADER_BYTES;
    for (uint32_t ai = 0; ai < n_arrays; ai++) {
        size_t start = off;
        if (end - off < 4)
            FAIL(off, "array %u: header runs past the end of the data", (unsigned)ai);
        uint32_t nl = ps_le32(p + off);
        off += 4;
        if (nl == 0 || nl >= PS_MODEL_NAME_MAX || end - off < nl)
            FAIL(start, "array %u: invalid name length %u", (unsigned)ai, (unsigned)nl);
        if (!valid_name((const char *)p + off, nl))
            FAIL(off, "array %u: invalid name", (unsigned)ai);
        char name[PS_MODEL_NAME_MAX];
        memcpy(name, p + off, nl);
        name[nl] = '\0';
        off += nl;
        if (ps_modelfile_find(out, name))
            FAIL(start, "duplicate array name '%s'", name);
        if (end - off < 4)
            FAIL(off, "array '%s': header runs past the end of the data", name);
        uint32_t ndim = ps_le32(p + off);
        off += 4;
        if (ndim > PS_MODEL_MAX_DIMS)
            FAIL(off - 4, "array '%s': %u dimensions, at most %d allowed", name, (unsigned)ndim,
                 PS_MODEL_MAX_DIMS);
        if ((end - off) / 8 < ndim)
            FAIL(off, "array '%s': header runs past the end of the data", name);
        uint64_t dims[PS_MODEL_MAX_DIMS];
        size_t count = 1;
        for (uint32_t d = 0; d < ndim; d++) {
            dims[d] = ps_le64(p + off + 8 * d);
            if (dims[d] > (end - off) / 4 || (dims[d] && count > (end - off) / 4 / dims[d]))
                FAIL(off + 8 * d, "array '%s': dimension %u (%llu) does not fit in the file", name,
                     (unsigned)d, (unsigned long long)dims[d]);
            count *= (size_t)dims[d];
        }
        off += 8 * (size_t)ndim;
        if ((end - off) / 4 < count)
            FAIL(off, "array '%s': %zu values do not fit in the %zu bytes left", name, count,
                 end - off);
        ps_model_array *a = push_array(out, name, nl, ndim, dims, count);
        a->offset = start;
        for (size_t k = 0; k < count; k++) {
            uint32_t bits = ps_le32(p + off + 4 * k);
            memcpy(&a->data[k], &bits, 4);
            if (!isfinite(a->data[k]))
                FAIL(off + 4 * k, "array '%s': value %zu is not a finite number", name, k);
        }
        off += 4 * count;
    }
    if (off != end)
        FAIL(off, "%zu unexpected bytes after the last array", end - off);
    return 0;
fail:
    ps_modelfile_free(out);
    return -1;
}

int ps_modelfile_load(const char *path, const char *expect_kind, ps_modelfile *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len;
    char *data = ps_read_file(path, PS_MODEL_MAX_BYTES, &len, err);
    if (!data)
        return -1;
    int rc = ps_modelfile_parse(data, len, path, expect_kind, out, err);
    free(data);
    return rc;
}

/* ---- reading arrays back --------------------------------------------------------------- */

static void shape_str(char *s, size_t cap, uint32_t ndim, const uint64_t *dims)
{
    size_t o = (size_t)snprintf(s, cap, "[");
    for (uint32_t d = 0; d < ndim && o < cap; d++)
        o += (size_t)snprintf(s + o, cap - o, "%s%llu", d ? "," : "", (unsigned long long)dims[d]);
    if (o < cap)
        snprintf(s + o, cap - o, "]");
}

const float *ps_modelfile_array(const ps_modelfile *m, const char *name, uint32_t ndim,
                                const uint64_t *dims, ps_error *err)
{
    const ps_model_array *a = ps_modelfile_find(m, name);
    if (!a) {
        ps_errorf(err, "%s: the '%s' model has no array '%s'", m->source, m->kind, name);
        return NULL;
    }
    int same = a->ndim == ndim;
    for (uint32_t d = 0; same && d < ndim; d++)
        same = a->dims[d] == dims[d];
    if (!same) {
        char got[128], want[128];
        shape_str(got, sizeof got, a->ndim, a->dims);
        shape_str(want, sizeof want, ndim, dims);
        ps_errorf(err, "%s: byte offset %zu: array '%s' has shape %s, expected %s", m->source,
                  a->offset, name, got, want);
        return NULL;
    }
    return a->data;
}

float *ps_modelfile_take(const ps_modelfile *m, const char *name, uint32_t ndim,
                         const uint64_t *dims, ps_error *err)
{
    const float *a = ps_modelfile_array(m, name, ndim, dims, err);
    if (!a)
        return NULL;
    size_t n = ps_modelfile_find(m, name)->count;
    float *c = ps_xmalloc(n ? n * sizeof(float) : 1);
    memcpy(c, a, n * sizeof(float));
    return c;
}

/* Find name as an ndim-dimensional array with no zero dimension. */
static const ps_model_array *find_shaped(const ps_modelfile *m, const char *name, uint32_t ndim,
                                         ps_error *err)
{
    const ps_model_array *a = ps_modelfile_find(m, name);
    if (!a) {
        ps_errorf(err, "%s: the '%s' model has no array '%s'", m->source, m->kind, name);
        return NULL;
    }
    if (a->ndim != ndim || a->count == 0) {
        char got[128];
        shape_str(got, sizeof got, a->ndim, a->dims);
        ps_errorf(err, "%s: byte offset %zu: array '%s' has shape %s, expected a non-empty %u-D array",
                  m->source, a->offset, name, got, (unsigned)ndim);
        return NULL;
    }
    return a;
}

const float *ps_modelfile_vec(const ps_modelfile *m, const char *name, size_t *n, ps_error *err)
{
    const ps_model_array *a = find_shaped(m, name, 1, err);
    if (!a)
        return NULL;
    *n = (size_t)a->dims[0];
    return a->data;
}

const float *ps_modelfile_mat(const ps_modelfile *m, const char *name, size_t *rows, size_t *cols,
                              ps_error *err)
{
    const ps_model_array *a = find_shaped(m, name, 2, err);
    if (!a)
        return NULL;
    *rows = (size_t)a->dims[0];
    *cols = (size_t)a->dims[1];
    return a->data;
}

int ps_modelfile_scalar(const ps_modelfile *m, const char *name, double *out, ps_error *err)
{
    const float *v = ps_modelfile_array(m, name, 0, NULL, err);
    if (!v)
        return -1;
    *out = *v;
    return 0;
}

int ps_modelfile_int(const ps_modelfile *m, const char *name, long lo, long hi, long *out,
                     ps_error *err)
{
    double v;
    if (ps_modelfile_scalar(m, name, &v, err) != 0)
        return -1;
    if (v != floor(v) || v < (double)lo || v > (double)hi)
        return ps_errorf(err, "%s: byte offset %zu: '%s' is %g, expected an integer in [%ld, %ld]",
                         m->source, ps_modelfile_find(m, name)->offset, name, v, lo, hi);
    *out = (long)v;
    return 0;
}
