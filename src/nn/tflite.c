/*
 * tflite.c - FlatBuffer decoding of the TensorFlow Lite schema subset.
 *
 * FlatBuffers in brief: the file starts with a uint32 offset to the root
 * table.  A table starts with an int32 "soffset": table position minus the
 * position of its vtable.  The vtable is uint16s: vtable size, table size,
 * then one offset per field (0 = absent, default value applies) relative to
 * the table start.  Reference fields (tables, vectors, strings) hold a uint32
 * offset relative to the field's own position.  A vector is a uint32 count
 * followed by the elements; a string is a byte vector followed by a NUL.
 * All numbers are little-endian.  References only point forward, so the
 * structure cannot loop; every access below is bounds-checked, and reads use
 * memcpy so that no alignment is assumed.
 */
#include "nn/tflite.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"

typedef struct rd {
    const unsigned char *p;
    size_t len;
    const char *name;
    ps_error *err;
} rd;

typedef struct tbl {
    size_t pos;      /* table start */
    size_t vt;       /* vtable start */
    unsigned vtlen;  /* vtable size in bytes */
    unsigned tlen;   /* table size in bytes */
} tbl;

static int fail(rd *r, size_t off, const char *fmt, ...) PS_PRINTF(3, 4);

static int fail(rd *r, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(r->err, fmt, ap);
    va_end(ap);
    return ps_error_prefix(r->err, "%s: byte offset %zu", r->name, off);
}

static uint16_t ld16(const rd *r, size_t at)
{
    uint16_t v;
    memcpy(&v, r->p + at, 2);
    return v;
}

static uint32_t ld32(const rd *r, size_t at)
{
    uint32_t v;
    memcpy(&v, r->p + at, 4);
    return v;
}

static uint64_t ld64(const rd *r, size_t at)
{
    uint64_t v;
    memcpy(&v, r->p + at, 8);
    return v;
}

/* 1 if [at, at + n) lies inside the file. */
static int in_file(const rd *r, size_t at, size_t n)
{
    return at <= r->len && n <= r->len - at;
}

static int read_table(rd *r, size_t pos, tbl *t, const char *what)
{
    if (!in_file(r, pos, 4))
        return fail(r, pos, "%s: table starts past the end of the file (%zu bytes)", what, r->len);
    int32_t soff;
    uint32_t raw = ld32(r, pos);
    memcpy(&soff, &raw, 4);
    long long vt = (long long)pos - (long long)soff;
    if (vt < 0 || !in_file(r, (size_t)vt, 4))
        return fail(r, pos, "%s: vtable offset %d points outside the file", what, (int)soff);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vtlen = ld16(r, t->vt);
    t->tlen = ld16(r, t->vt + 2);
    if (t->vtlen < 4 || (t->vtlen & 1) || !in_file(r, t->vt, t->vtlen))
        return fail(r, t->vt, "%s: vtable size %u is invalid", what, t->vtlen);
    if (t->tlen < 4 || !in_file(r, pos, t->tlen))
        return fail(r, t->vt, "%s: table size %u runs past the end of the file", what, t->tlen);
    return 0;
}

/* Position of field `id` (of `size` bytes) in table t, or 0 if absent. */
static int field_at(rd *r, const tbl *t, int id, size_t size, size_t *at, const char *what)
{
    *at = 0;
    size_t slot = 4 + 2 * (size_t)id;
    if (slot + 2 > t->vtlen)
        return 0;
    unsigned off = ld16(r, t->vt + slot);
    if (off == 0)
        return 0;
    if (off < 4 || (size_t)off + size > t->tlen)
        return fail(r, t->vt + slot, "%s: field %d lies outside its table", what, id);
    *at = t->pos + off;
    return 0;
}

static int get_u8(rd *r, const tbl *t, int id, unsigned def, unsigned *out, const char *what)
{
    size_t at;
    if (field_at(r, t, id, 1, &at, what) != 0)
        return -1;
    *out = at ? r->p[at] : def;
    return 0;
}

static int get_i8(rd *r, const tbl *t, int id, int def, int *out, const char *what)
{
    size_t at;
    if (field_at(r, t, id, 1, &at, what) != 0)
        return -1;
    *out = at ? (int)(signed char)r->p[at] : def;
    return 0;
}

/* A number field: its `size` bytes copied as stored (as ld32 does), or
 * *def's when the field is absent.  out and def have the field's type. */
static int get_raw(rd *r, const tbl *t, int id, size_t size, const void *def, void *out,
                   const char *what)
{
    size_t at;
    if (field_at(r, t, id, size, &at, what) != 0)
        return -1;
    memcpy(out, at ? r->p + at : def, size);
    return 0;
}

static int get_i32(rd *r, const tbl *t, int id, int32_t def, int32_t *out, const char *what)
{
    return get_raw(r, t, id, sizeof def, &def, out, what);
}

static int get_u32(rd *r, const tbl *t, int id, uint32_t def, uint32_t *out, const char *what)
{
    return get_raw(r, t, id, sizeof def, &def, out, what);
}

static int get_u64(rd *r, const tbl *t, int id, uint64_t def, uint64_t *out, const char *what)
{
    return get_raw(r, t, id, sizeof def, &def, out, what);
}

static int get_f32(rd *r, const tbl *t, int id, float def, float *out, const char *what)
{
    return get_raw(r, t, id, sizeof def, &def, out, what);
}

/* Follow the reference in field `id`; *target = 0 if the field is absent. */
static int get_ref(rd *r, const tbl *t, int id, size_t *target, const char *what)
{
    size_t at;
    *target = 0;
    if (field_at(r, t, id, 4, &at, what) != 0)
        return -1;
    if (!at)
        return 0;
    uint32_t off = ld32(r, at);
    if (off == 0 || !in_file(r, at, (size_t)off) || at + off >= r->len)
        return fail(r, at, "%s: field %d points outside the file", what, id);
    *target = at + off;
    return 0;
}

/* A vector at pos with elements of elem bytes. */
static int read_vector(rd *r, size_t pos, size_t elem, size_t *data, uint32_t *count,
                       const char *what)
{
    if (!in_file(r, pos, 4))
        return fail(r, pos, "%s: vector length past the end of the file", what);
    uint32_t n = ld32(r, pos);
    if ((r->len - pos - 4) / elem < n)
        return fail(r, pos, "%s: vector of %u elements of %zu bytes runs past the end of the file",
                    what, n, elem);
    *data = pos + 4;
    *count = n;
    return 0;
}

/* Vector field; absent = empty. */
static int get_vector(rd *r, const tbl *t, int id, size_t elem, size_t *data, uint32_t *count,
                      const char *what)
{
    size_t pos;
    *data = 0;
    *count = 0;
    if (get_ref(r, t, id, &pos, what) != 0)
        return -1;
    if (!pos)
        return 0;
    return read_vector(r, pos, elem, data, count, what);
}

/* String field; absent = "".  The result points into the file. */
static int get_string(rd *r, const tbl *t, int id, const char **s, const char *what)
{
    size_t data;
    uint32_t n;
    *s = "";
    if (get_vector(r, t, id, 1, &data, &n, what) != 0)
        return -1;
    if (!data)
        return 0;
    if (data + n >= r->len || r->p[data + n] != '\0')
        return fail(r, data - 4, "%s: string of %u bytes lacks its terminating NUL", what, n);
    *s = (const char *)r->p + data;
    return 0;
}

/* Element i of a vector of tables. */
static int vector_table(rd *r, size_t data, uint32_t i, tbl *t, const char *what)
{
    size_t at = data + 4 * (size_t)i;
    uint32_t off = ld32(r, at);
    if (off == 0 || !in_file(r, at, (size_t)off) || at + off >= r->len)
        return fail(r, at, "%s: element %u points outside the file", what, i);
    return read_table(r, at + off, t, what);
}

static int32_t vec_i32(const rd *r, size_t data, uint32_t i)
{
    int32_t v;
    uint32_t u = ld32(r, data + 4 * (size_t)i);
    memcpy(&v, &u, 4);
    return v;
}

/* ---- names ---------------------------------------------------------------- */

static const char *const OP_NAMES[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
    "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND",
    "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX",
    "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM",
    "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN",
    "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG",
    "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD",
    "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK",
    "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
    "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD",
    "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE",
    "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND",
    "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
};

const char *ps_tfl_op_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof OP_NAMES / sizeof OP_NAMES[0])
        return NULL;
    return OP_NAMES[code];
}

const char *ps_tfl_type_name(int type)
{
    static const char *const names[] = {"FLOAT32", "FLOAT16", "INT32",     "UINT8",
                                        "INT64",   "STRING",  "BOOL",      "INT16",
                                        "COMPLEX64", "INT8",  "FLOAT64"};
    if (type < 0 || (size_t)type >= sizeof names / sizeof names[0])
        return "unknown";
    return names[type];
}

size_t ps_tfl_type_size(int type)
{
    switch (type) {
    case PS_TFL_FLOAT32: return 4;
    case PS_TFL_FLOAT16: return 2;
    case PS_TFL_INT32: return 4;
    case PS_TFL_UINT8: return 1;
    case PS_TFL_INT64: return 8;
    case PS_TFL_BOOL: return 1;
    case PS_TFL_INT16: return 2;
    case PS_TFL_INT8: return 1;
    case PS_TFL_FLOAT64: return 8;
    default: return 0;
    }
}

static int op_supported(int code)
{
    switch (code) {
    case PS_TFL_OP_ADD:
    case PS_TFL_OP_AVERAGE_POOL_2D:
    case PS_TFL_OP_CONCATENATION:
    case PS_TFL_OP_CONV_2D:
    case PS_TFL_OP_DEPTHWISE_CONV_2D:
    case PS_TFL_OP_RESHAPE:
    case PS_TFL_OP_RESIZE_BILINEAR:
    case PS_TFL_OP_SOFTMAX:
    case PS_TFL_OP_ARG_MAX:
    case PS_TFL_OP_QUANTIZE:
        return 1;
    default:
        return 0;
    }
}

#define SUPPORTED_LIST                                                                     \
    "ADD, ARG_MAX, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D, QUANTIZE, " \
    "RESHAPE, RESIZE_BILINEAR, SOFTMAX"

/* ---- tensors -------------------------------------------------------------- */

typedef struct opcode {
    int code;
    int version;
    const char *custom;
    size_t offset;
} opcode;

typedef struct ctx {
    rd r;
    ps_tfl_model *m;
    size_t buffers;  /* data position of the buffers vector */
    uint32_t nbuffers;
    opcode *opcodes;
    uint32_t nopcodes;
} ctx;

static int read_quantization(ctx *c, size_t pos, ps_tfl_tensor *t, int idx)
{
    rd *r = &c->r;
    char what[64];
    snprintf(what, sizeof what, "tensor %d quantization", idx);
    tbl q;
    if (read_table(r, pos, &q, what) != 0)
        return -1;
    unsigned details_type;
    if (get_u8(r, &q, 4, 0, &details_type, what) != 0)
        return -1;
    if (details_type != 0)
        return fail(r, pos, "tensor %d ('%.64s') uses custom quantization, which picseek does "
                    "not support", idx, t->name);
    size_t sdata, zdata;
    uint32_t ns, nz;
    if (get_vector(r, &q, 2, 4, &sdata, &ns, what) != 0 ||
        get_vector(r, &q, 3, 8, &zdata, &nz, what) != 0)
        return -1;
    if (ns == 0 && nz == 0)
        return 0; /* only min/max: not quantized for our purposes */
    if (ns != nz)
        return fail(r, pos, "tensor %d ('%.64s'): %u quantization scales but %u zero points",
                    idx, t->name, ns, nz);
    if (ns > 1)
        return fail(r, pos, "tensor %d ('%.64s'): per-channel quantization (%u scales) is not "
                    "supported", idx, t->name, ns);
    float scale;
    uint32_t u = ld32(r, sdata);
    memcpy(&scale, &u, 4);
    int64_t zp;
    uint64_t z = ld64(r, zdata);
    memcpy(&zp, &z, 8);
    if (!isfinite(scale) || !(scale >= 1e-30f) || scale > 1e30f)
        return fail(r, sdata, "tensor %d ('%.64s'): quantization scale %g is not a positive "
                    "finite number", idx, t->name, (double)scale);
    int64_t lo = 0, hi = 0;
    if (t->type == PS_TFL_UINT8) {
        hi = 255;
    } else if (t->type == PS_TFL_INT8) {
        lo = -128;
        hi = 127;
    }
    if (zp < lo || zp > hi)
        return fail(r, zdata, "tensor %d ('%.64s'): zero point %lld is out of range for %s "
                    "(%lld..%lld)", idx, t->name, (long long)zp, ps_tfl_type_name(t->type),
                    (long long)lo, (long long)hi);
    t->quantized = 1;
    t->scale = scale;
    t->zero_point = (int32_t)zp;
    return 0;
}

/* Find the constant data of buffer `b` for tensor t; empty buffers leave
 * t->data NULL. */
static int read_buffer(ctx *c, uint32_t b, ps_tfl_tensor *t, int idx, size_t field_pos)
{
    rd *r = &c->r;
    if (b >= c->nbuffers)
        return fail(r, field_pos, "tensor %d ('%.64s') refers to buffer %u, but the model has %u",
                    idx, t->name, b, c->nbuffers);
    tbl bt;
    if (vector_table(r, c->buffers, b, &bt, "buffer") != 0)
        return -1;
    size_t data;
    uint32_t n;
    if (get_vector(r, &bt, 0, 1, &data, &n, "buffer") != 0)
        return -1;
    size_t size = n;
    if (n == 0) {
        /* Large models keep the data outside the FlatBuffer: (offset, size)
         * from the file start.  Offset 0 or 1 means "no data". */
        uint64_t off, sz;
        if (get_u64(r, &bt, 1, 0, &off, "buffer") != 0 || get_u64(r, &bt, 2, 0, &sz, "buffer") != 0)
            return -1;
        if (off > 1) {
            if (off > r->len || sz > r->len - off)
                return fail(r, bt.pos, "buffer %u: external data (offset %llu, %llu bytes) lies "
                            "outside the file", b, (unsigned long long)off, (unsigned long long)sz);
            data = (size_t)off;
            size = (size_t)sz;
        }
    }
    if (size == 0)
        return 0;
    if (size != t->nbytes)
        return fail(r, bt.pos, "tensor %d ('%.64s'): buffer %u holds %zu bytes, but shape and "
                    "type %s need %zu", idx, t->name, b, size, ps_tfl_type_name(t->type), t->nbytes);
    t->data = r->p + data;
    return 0;
}

static int read_tensor(ctx *c, size_t vec, uint32_t i, ps_tfl_tensor *t)
{
    rd *r = &c->r;
    tbl tt;
    int idx = (int)i;
    char what[48];
    snprintf(what, sizeof what, "tensor %d", idx);
    if (vector_table(r, vec, i, &tt, what) != 0)
        return -1;
    memset(t, 0, sizeof *t);
    t->offset = tt.pos;
    if (get_string(r, &tt, 3, &t->name, what) != 0)
        return -1;
    int type;
    uint32_t buffer;
    unsigned is_variable;
    size_t sparsity, buffer_field;
    if (get_i8(r, &tt, 1, 0, &type, what) != 0 || get_u32(r, &tt, 2, 0, &buffer, what) != 0 ||
        get_u8(r, &tt, 5, 0, &is_variable, what) != 0 || get_ref(r, &tt, 6, &sparsity, what) != 0 ||
        field_at(r, &tt, 2, 4, &buffer_field, what) != 0)
        return -1;
    t->type = type;
    size_t esize = ps_tfl_type_size(type);
    if (esize == 0)
        return fail(r, tt.pos, "tensor %d ('%.64s') has type %s (%d), which picseek does not "
                    "support", idx, t->name, ps_tfl_type_name(type), type);
    if (is_variable)
        return fail(r, tt.pos, "tensor %d ('%.64s') is a variable tensor, which picseek does not "
                    "support", idx, t->name);
    if (sparsity)
        return fail(r, tt.pos, "tensor %d ('%.64s') is sparse, which picseek does not support",
                    idx, t->name);
    size_t sdata;
    uint32_t nd;
    if (get_vector(r, &tt, 0, 4, &sdata, &nd, what) != 0)
        return -1;
    if (nd > PS_TFL_MAX_DIMS)
        return fail(r, sdata - 4, "tensor %d ('%.64s') has %u dimensions; at most %d are "
                    "supported", idx, t->name, nd, PS_TFL_MAX_DIMS);
    t->ndim = (int)nd;
    size_t count = 1;
    for (uint32_t d = 0; d < nd; d++) {
        int32_t v = vec_i32(r, sdata, d);
        if (v < 1 || v > PS_TFL_MAX_DIM)
            return fail(r, sdata + 4 * d, "tensor %d ('%.64s'): dimension %u is %d (must be 1 to "
                        "%d)", idx, t->name, d, v, PS_TFL_MAX_DIM);
        t->dims[d] = v;
        /* Each factor is at most 2^16 and the running product stays under
         * 2^30, so this cannot overflow. */
        count *= (size_t)v;
        if (count > PS_TFL_MAX_TENSOR_BYTES / esize)
            return fail(r, sdata + 4 * d, "tensor %d ('%.64s') is larger than %zu bytes", idx,
                        t->name, PS_TFL_MAX_TENSOR_BYTES);
    }
    t->count = count;
    t->nbytes = count * esize;
    size_t q;
    if (get_ref(r, &tt, 4, &q, what) != 0)
        return -1;
    if (q && read_quantization(c, q, t, idx) != 0)
        return -1;
    return read_buffer(c, buffer, t, idx, buffer_field ? buffer_field : tt.pos);
}

/* ---- operators ------------------------------------------------------------ */

static int check_activation(rd *r, size_t at, int op, int act)
{
    static const char *const names[] = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH",
                                        "SIGN_BIT"};
    if (act >= 0 && act <= 3)
        return 0;
    if (act >= 4 && act <= 5)
        return fail(r, at, "operator %d: fused activation %s is not supported", op, names[act]);
    return fail(r, at, "operator %d: unknown fused activation %d", op, act);
}

static int check_range(rd *r, size_t at, int op, const char *field, int v, int lo, int hi)
{
    if (v < lo || v > hi)
        return fail(r, at, "operator %d: %s is %d (must be %d to %d)", op, field, v, lo, hi);
    return 0;
}

/* The options union: its type tag must be the one the operator expects (or
 * absent, in which case the defaults apply). */
static int options_table(rd *r, const tbl *ot, int op, unsigned type, unsigned want, tbl *opt,
                         int *present)
{
    size_t pos;
    *present = 0;
    if (type != 0 && type != want)
        return fail(r, ot->pos, "operator %d: builtin options of union type %u, expected %u",
                    op, type, want);
    if (get_ref(r, ot, 4, &pos, "operator options") != 0)
        return -1;
    if (type == 0 || !pos)
        return 0;
    if (read_table(r, pos, opt, "operator options") != 0)
        return -1;
    *present = 1;
    return 0;
}

#define OPT_I32(id, def, dst)                                          \
    do {                                                               \
        int32_t v_ = (def);                                            \
        if (present && get_i32(r, &o, (id), (def), &v_, what) != 0)    \
            return -1;                                                 \
        (dst) = v_;                                                    \
    } while (0)
#define OPT_I8(id, def, dst)                                           \
    do {                                                               \
        int v_ = (def);                                                \
        if (present && get_i8(r, &o, (id), (def), &v_, what) != 0)     \
            return -1;                                                 \
        (dst) = v_;                                                    \
    } while (0)

static int read_options(ctx *c, const tbl *ot, int idx, ps_tfl_op *op)
{
    rd *r = &c->r;
    unsigned type;
    const char *what = "operator options";
    if (get_u8(r, ot, 3, 0, &type, what) != 0)
        return -1;
    tbl o;
    int present = 0;
    size_t at = ot->pos;
    switch (op->code) {
    case PS_TFL_OP_CONV_2D:
    case PS_TFL_OP_DEPTHWISE_CONV_2D: {
        int dw = op->code == PS_TFL_OP_DEPTHWISE_CONV_2D;
        if (options_table(r, ot, idx, type, dw ? 2 : 1, &o, &present) != 0)
            return -1;
        if (present)
            at = o.pos;
        OPT_I8(0, 0, op->opt.conv.padding);
        OPT_I32(1, 0, op->opt.conv.stride_w);
        OPT_I32(2, 0, op->opt.conv.stride_h);
        if (dw) {
            OPT_I32(3, 0, op->opt.conv.depth_multiplier);
            OPT_I8(4, 0, op->opt.conv.activation);
            OPT_I32(5, 1, op->opt.conv.dilation_w);
            OPT_I32(6, 1, op->opt.conv.dilation_h);
        } else {
            op->opt.conv.depth_multiplier = 1;
            OPT_I8(3, 0, op->opt.conv.activation);
            OPT_I32(4, 1, op->opt.conv.dilation_w);
            OPT_I32(5, 1, op->opt.conv.dilation_h);
        }
        if (check_range(r, at, idx, "padding", op->opt.conv.padding, 0, 1) != 0 ||
            check_range(r, at, idx, "stride_w", op->opt.conv.stride_w, 1, 1024) != 0 ||
            check_range(r, at, idx, "stride_h", op->opt.conv.stride_h, 1, 1024) != 0 ||
            check_range(r, at, idx, "dilation_w_factor", op->opt.conv.dilation_w, 1, 1024) != 0 ||
            check_range(r, at, idx, "dilation_h_factor", op->opt.conv.dilation_h, 1, 1024) != 0 ||
            check_range(r, at, idx, "depth_multiplier", op->opt.conv.depth_multiplier, 1,
                        PS_TFL_MAX_DIM) != 0 ||
            check_activation(r, at, idx, op->opt.conv.activation) != 0)
            return -1;
        return 0;
    }
    case PS_TFL_OP_AVERAGE_POOL_2D:
        if (options_table(r, ot, idx, type, 5, &o, &present) != 0)
            return -1;
        if (present)
            at = o.pos;
        OPT_I8(0, 0, op->opt.pool.padding);
        OPT_I32(1, 0, op->opt.pool.stride_w);
        OPT_I32(2, 0, op->opt.pool.stride_h);
        OPT_I32(3, 0, op->opt.pool.filter_w);
        OPT_I32(4, 0, op->opt.pool.filter_h);
        OPT_I8(5, 0, op->opt.pool.activation);
        if (check_range(r, at, idx, "padding", op->opt.pool.padding, 0, 1) != 0 ||
            check_range(r, at, idx, "stride_w", op->opt.pool.stride_w, 1, 1024) != 0 ||
            check_range(r, at, idx, "stride_h", op->opt.pool.stride_h, 1, 1024) != 0 ||
            check_range(r, at, idx, "filter_width", op->opt.pool.filter_w, 1, PS_TFL_MAX_DIM) != 0 ||
            check_range(r, at, idx, "filter_height", op->opt.pool.filter_h, 1, PS_TFL_MAX_DIM) != 0 ||
            check_activation(r, at, idx, op->opt.pool.activation) != 0)
            return -1;
        return 0;
    case PS_TFL_OP_SOFTMAX: {
        if (options_table(r, ot, idx, type, 9, &o, &present) != 0)
            return -1;
        float beta = 0.0f;
        if (present && get_f32(r, &o, 0, 0.0f, &beta, what) != 0)
            return -1;
        if (!isfinite(beta) || !(beta > 0.0f) || beta > 1e6f)
            return fail(r, present ? o.pos : at, "operator %d: softmax beta %g is not a positive "
                        "finite number", idx, (double)beta);
        op->opt.softmax.beta = beta;
        return 0;
    }
    case PS_TFL_OP_CONCATENATION:
        if (options_table(r, ot, idx, type, 10, &o, &present) != 0)
            return -1;
        if (present)
            at = o.pos;
        OPT_I32(0, 0, op->opt.concat.axis);
        OPT_I8(1, 0, op->opt.concat.activation);
        if (check_range(r, at, idx, "axis", op->opt.concat.axis, -PS_TFL_MAX_DIMS,
                        PS_TFL_MAX_DIMS - 1) != 0)
            return -1;
        if (op->opt.concat.activation != 0)
            return fail(r, at, "operator %d: CONCATENATION with a fused activation is not "
                        "supported", idx);
        return 0;
    case PS_TFL_OP_ADD:
        if (options_table(r, ot, idx, type, 11, &o, &present) != 0)
            return -1;
        if (present)
            at = o.pos;
        OPT_I8(0, 0, op->opt.add.activation);
        return check_activation(r, at, idx, op->opt.add.activation);
    case PS_TFL_OP_RESIZE_BILINEAR: {
        if (options_table(r, ot, idx, type, 15, &o, &present) != 0)
            return -1;
        unsigned ac = 0, hp = 0;
        if (present && (get_u8(r, &o, 2, 0, &ac, what) != 0 || get_u8(r, &o, 3, 0, &hp, what) != 0))
            return -1;
        if (ac > 1 || hp > 1)
            return fail(r, present ? o.pos : at, "operator %d: boolean option is %u", idx,
                        ac > 1 ? ac : hp);
        if (ac && hp)
            return fail(r, present ? o.pos : at, "operator %d: RESIZE_BILINEAR cannot have both "
                        "align_corners and half_pixel_centers", idx);
        op->opt.resize.align_corners = (int)ac;
        op->opt.resize.half_pixel_centers = (int)hp;
        return 0;
    }
    case PS_TFL_OP_RESHAPE: {
        if (options_table(r, ot, idx, type, 17, &o, &present) != 0)
            return -1;
        if (!present)
            return 0;
        size_t data;
        uint32_t n;
        if (get_vector(r, &o, 0, 4, &data, &n, what) != 0)
            return -1;
        if (n > PS_TFL_MAX_DIMS)
            return fail(r, o.pos, "operator %d: RESHAPE new_shape has %u dimensions", idx, n);
        op->opt.reshape.present = data != 0;
        op->opt.reshape.ndim = (int)n;
        for (uint32_t i = 0; i < n; i++)
            op->opt.reshape.shape[i] = vec_i32(r, data, i);
        return 0;
    }
    case PS_TFL_OP_ARG_MAX: {
        if (options_table(r, ot, idx, type, 40, &o, &present) != 0)
            return -1;
        int t = PS_TFL_INT64;
        if (present && get_i8(r, &o, 0, PS_TFL_INT64, &t, what) != 0)
            return -1;
        if (t != PS_TFL_INT32 && t != PS_TFL_INT64)
            return fail(r, present ? o.pos : at, "operator %d: ARG_MAX output type %s is not "
                        "supported", idx, ps_tfl_type_name(t));
        op->opt.argmax.output_type = t;
        return 0;
    }
    case PS_TFL_OP_QUANTIZE:
        return options_table(r, ot, idx, type, 89, &o, &present);
    default:
        return fail(r, ot->pos, "operator %d: %s is not supported", idx,
                    ps_tfl_op_name(op->code) ? ps_tfl_op_name(op->code) : "operator");
    }
}

static int read_index_list(rd *r, const tbl *t, int id, int32_t *out, int max, int *n,
                           int ntensors, int allow_absent, const char *what, int idx)
{
    size_t data;
    uint32_t count;
    if (get_vector(r, t, id, 4, &data, &count, what) != 0)
        return -1;
    if (count > (uint32_t)max)
        return fail(r, data ? data - 4 : t->pos, "%s %d: %u tensors listed, at most %d are "
                    "supported", what, idx, count, max);
    for (uint32_t i = 0; i < count; i++) {
        int32_t v = vec_i32(r, data, i);
        if ((v < 0 && !(allow_absent && v == -1)) || v >= ntensors)
            return fail(r, data + 4 * i, "%s %d: tensor index %d is out of range (the graph has "
                        "%d tensors)", what, idx, v, ntensors);
        out[i] = v;
    }
    *n = (int)count;
    return 0;
}

static int read_operator(ctx *c, size_t vec, uint32_t i, ps_tfl_op *op)
{
    rd *r = &c->r;
    int idx = (int)i;
    tbl ot;
    if (vector_table(r, vec, i, &ot, "operator") != 0)
        return -1;
    memset(op, 0, sizeof *op);
    op->offset = ot.pos;
    uint32_t oc;
    if (get_u32(r, &ot, 0, 0, &oc, "operator") != 0)
        return -1;
    if (oc >= c->nopcodes)
        return fail(r, ot.pos, "operator %d: opcode index %u is out of range (the model has %u "
                    "operator codes)", idx, oc, c->nopcodes);
    const opcode *code = &c->opcodes[oc];
    op->code = code->code;
    op->version = code->version;
    if (!op_supported(op->code)) {
        const char *name = ps_tfl_op_name(op->code);
        if (op->code == 32)
            return fail(r, ot.pos, "operator %d: custom operator '%.64s' is not supported "
                        "(picseek runs %s)", idx, code->custom, SUPPORTED_LIST);
        if (name)
            return fail(r, ot.pos, "operator %d: %s is not supported (picseek runs %s)", idx,
                        name, SUPPORTED_LIST);
        return fail(r, ot.pos, "operator %d: builtin operator %d is not supported (picseek runs "
                    "%s)", idx, op->code, SUPPORTED_LIST);
    }
    int nt = c->m->ntensors;
    if (read_index_list(r, &ot, 1, op->inputs, PS_TFL_MAX_OP_INPUTS, &op->ninputs, nt, 1,
                        "operator", idx) != 0 ||
        read_index_list(r, &ot, 2, op->outputs, PS_TFL_MAX_OP_OUTPUTS, &op->noutputs, nt, 0,
                        "operator", idx) != 0)
        return -1;
    return read_options(c, &ot, idx, op);
}

static int read_opcodes(ctx *c, const tbl *model)
{
    rd *r = &c->r;
    size_t data;
    uint32_t n;
    if (get_vector(r, model, 1, 4, &data, &n, "operator_codes") != 0)
        return -1;
    if (n > PS_TFL_MAX_OPS)
        return fail(r, data - 4, "model lists %u operator codes, at most %d are supported", n,
                    PS_TFL_MAX_OPS);
    c->opcodes = ps_xcalloc(n ? n : 1, sizeof *c->opcodes);
    c->nopcodes = n;
    for (uint32_t i = 0; i < n; i++) {
        tbl t;
        int dep;
        int32_t builtin, version;
        opcode *o = &c->opcodes[i];
        if (vector_table(r, data, i, &t, "operator code") != 0 ||
            get_i8(r, &t, 0, 0, &dep, "operator code") != 0 ||
            get_string(r, &t, 1, &o->custom, "operator code") != 0 ||
            get_i32(r, &t, 2, 1, &version, "operator code") != 0 ||
            get_i32(r, &t, 3, 0, &builtin, "operator code") != 0)
            return -1;
        /* Files written before the code grew past 127 only have the int8
         * field; newer ones set both (the old one to 127 when it cannot
         * hold the value).  TFLite takes the larger of the two. */
        o->code = builtin > dep ? builtin : dep;
        o->version = version;
        o->offset = t.pos;
        if (o->code < 0)
            return fail(r, t.pos, "operator code %u: builtin code %d is negative", i, o->code);
    }
    return 0;
}

static int parse(ctx *c)
{
    rd *r = &c->r;
    ps_tfl_model *m = c->m;
    if (r->len < 8)
        return fail(r, 0, "file is too small to be a TensorFlow Lite model (%zu bytes)", r->len);
    if (memcmp(r->p + 4, "TFL3", 4) != 0)
        return fail(r, 4, "not a TensorFlow Lite model (the FlatBuffer file identifier is not "
                    "'TFL3')");
    if (r->len > PS_TFL_MAX_FILE_BYTES)
        return fail(r, 0, "model file is larger than %zu bytes", PS_TFL_MAX_FILE_BYTES);
    tbl model;
    uint32_t root = ld32(r, 0);
    if (read_table(r, root, &model, "model") != 0)
        return -1;
    if (get_u32(r, &model, 0, 0, &m->version, "model") != 0)
        return -1;
    if (m->version != 3)
        return fail(r, model.pos, "schema version %u is not supported (expected 3)", m->version);
    if (read_opcodes(c, &model) != 0)
        return -1;
    if (get_vector(r, &model, 4, 4, &c->buffers, &c->nbuffers, "buffers") != 0)
        return -1;
    size_t sgs;
    uint32_t nsg;
    if (get_vector(r, &model, 2, 4, &sgs, &nsg, "subgraphs") != 0)
        return -1;
    if (nsg < 1)
        return fail(r, model.pos, "model has no subgraph");
    tbl sg;
    if (vector_table(r, sgs, 0, &sg, "subgraph") != 0)
        return -1;

    size_t tvec, ovec;
    uint32_t nt, no;
    if (get_vector(r, &sg, 0, 4, &tvec, &nt, "tensors") != 0 ||
        get_vector(r, &sg, 3, 4, &ovec, &no, "operators") != 0)
        return -1;
    if (nt > PS_TFL_MAX_TENSORS)
        return fail(r, tvec - 4, "subgraph has %u tensors, at most %d are supported", nt,
                    PS_TFL_MAX_TENSORS);
    if (no > PS_TFL_MAX_OPS)
        return fail(r, ovec - 4, "subgraph has %u operators, at most %d are supported", no,
                    PS_TFL_MAX_OPS);
    if (no == 0)
        return fail(r, sg.pos, "subgraph has no operators");
    m->tensors = ps_xcalloc(nt ? nt : 1, sizeof *m->tensors);
    m->ntensors = (int)nt;
    for (uint32_t i = 0; i < nt; i++)
        if (read_tensor(c, tvec, i, &m->tensors[i]) != 0)
            return -1;
    if (read_index_list(r, &sg, 1, m->inputs, PS_TFL_MAX_GRAPH_IO, &m->ninputs, m->ntensors, 0,
                        "subgraph", 0) != 0 ||
        read_index_list(r, &sg, 2, m->outputs, PS_TFL_MAX_GRAPH_IO, &m->noutputs, m->ntensors, 0,
                        "subgraph", 0) != 0)
        return -1;
    if (m->ninputs < 1 || m->noutputs < 1)
        return fail(r, sg.pos, "subgraph has %d inputs and %d outputs (needs at least one of each)",
                    m->ninputs, m->noutputs);
    m->ops = ps_xcalloc(no, sizeof *m->ops);
    m->nops = (int)no;
    for (uint32_t i = 0; i < no; i++)
        if (read_operator(c, ovec, i, &m->ops[i]) != 0)
            return -1;
    return 0;
}

/* Parse bytes that the new model takes ownership of. */
static ps_tfl_model *parse_owned(unsigned char *bytes, size_t len, const char *name, ps_error *err)
{
    ps_tfl_model *m = ps_xcalloc(1, sizeof *m);
    m->path = ps_xstrdup(name ? name : "model");
    m->bytes = bytes;
    m->len = len;
    ctx c = {.r = {m->bytes, len, m->path, err}, .m = m};
    int rc = parse(&c);
    free(c.opcodes);
    if (rc != 0) {
        ps_tfl_free(m);
        return NULL;
    }
    return m;
}

ps_tfl_model *ps_tfl_parse(const void *bytes, size_t len, const char *name, ps_error *err)
{
    unsigned char *copy = ps_xmalloc(len ? len : 1);
    if (len)
        memcpy(copy, bytes, len);
    return parse_owned(copy, len, name, err);
}

ps_tfl_model *ps_tfl_read(const char *path, ps_error *err)
{
    size_t len;
    char *data = ps_read_file(path, PS_TFL_MAX_FILE_BYTES, &len, err);
    if (!data)
        return NULL;
    return parse_owned((unsigned char *)data, len, path, err);
}

void ps_tfl_free(ps_tfl_model *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->bytes);
    free(m->tensors);
    free(m->ops);
    free(m);
}

int ps_tfl_find_tensor(const ps_tfl_model *m, const char *name)
{
    for (int i = 0; i < m->ntensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return i;
    return -1;
}

int ps_tfl_producer(const ps_tfl_model *m, int t)
{
    for (int i = 0; i < m->nops; i++)
        for (int j = 0; j < m->ops[i].noutputs; j++)
            if (m->ops[i].outputs[j] == t)
                return i;
    return -1;
}
