/*
 * test_tflite.c - the model reader against damaged and hostile files, the
 * quantized arithmetic against hand-computed values, and the AVX2 kernels
 * against the reference kernels on random shapes.
 *
 * Small models are built here with a minimal FlatBuffer writer, so that each
 * test can break exactly one thing (a shape, a buffer size, an index, an
 * option) and check the message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "nn/interp.h"
#include "nn/ops.h"
#include "nn/qmath.h"
#include "nn/tflite.h"
#include "test.h"

/* ---- a forward FlatBuffer writer ----------------------------------------------
 * Objects are appended in order; a reference field is written as a
 * placeholder and patched once its target (always later in the file, as
 * FlatBuffers requires) is written. */

typedef struct fbb {
    unsigned char *b;
    size_t len, cap;
} fbb;

static size_t fb_put(fbb *f, const void *p, size_t n);

static void fb_pad(fbb *f, size_t align)
{
    while (f->len % align)
        fb_put(f, "", 1);
}

static size_t fb_put(fbb *f, const void *p, size_t n)
{
    if (f->len + n > f->cap) {
        f->cap = (f->len + n) * 2;
        f->b = ps_xrealloc(f->b, f->cap);
    }
    size_t at = f->len;
    memcpy(f->b + at, p, n);
    f->len += n;
    return at;
}

static size_t fb_u32(fbb *f, uint32_t v)
{
    return fb_put(f, &v, 4);
}

static void fb_patch(fbb *f, size_t field, size_t target)
{
    uint32_t off = (uint32_t)(target - field);
    memcpy(f->b + field, &off, 4);
}

typedef struct fld {
    int id;
    int size;   /* 1, 4 or 8 */
    uint64_t v; /* value (ignored for references) */
    int ref;    /* 1: a reference, patched later */
} fld;

/* Write a vtable and its table; field positions go into pos[]. */
static size_t fb_table(fbb *f, const fld *fs, int n, size_t *pos)
{
    int maxid = -1;
    for (int i = 0; i < n; i++)
        maxid = fs[i].id > maxid ? fs[i].id : maxid;
    fb_pad(f, 4);
    size_t vt = f->len;
    uint16_t vtlen = (uint16_t)(4 + 2 * (maxid + 1));
    uint16_t zero = 0;
    for (int i = 0; i < vtlen / 2; i++)
        fb_put(f, &zero, 2);
    fb_pad(f, 8);
    if ((f->len + 4) % 8)
        fb_u32(f, 0); /* keep 8-byte fields aligned */
    size_t t = f->len;
    int32_t soff = (int32_t)(t - vt);
    fb_put(f, &soff, 4);
    for (int i = 0; i < n; i++) {
        if (fs[i].size == 8)
            fb_pad(f, 8);
        size_t at = f->len;
        if (fs[i].size == 1) {
            uint8_t v = (uint8_t)fs[i].v;
            fb_put(f, &v, 1);
            fb_pad(f, 4);
        } else if (fs[i].size == 8) {
            fb_put(f, &fs[i].v, 8);
        } else {
            uint32_t v = (uint32_t)fs[i].v;
            fb_put(f, &v, 4);
        }
        uint16_t off = (uint16_t)(at - t);
        memcpy(f->b + vt + 4 + 2 * fs[i].id, &off, 2);
        if (pos)
            pos[i] = at;
    }
    uint16_t tlen = (uint16_t)(f->len - t);
    memcpy(f->b + vt, &vtlen, 2);
    memcpy(f->b + vt + 2, &tlen, 2);
    return t;
}

static size_t fb_vec(fbb *f, const void *data, uint32_t n, size_t elem)
{
    fb_pad(f, elem > 4 ? 8 : 4);
    if (elem == 8 && (f->len + 4) % 8)
        fb_u32(f, 0);
    size_t at = fb_u32(f, n);
    if (n)
        fb_put(f, data, n * elem);
    return at;
}

/* A vector of n references; their positions go into elems[]. */
static size_t fb_refs(fbb *f, uint32_t n, size_t *elems)
{
    fb_pad(f, 4);
    size_t at = fb_u32(f, n);
    for (uint32_t i = 0; i < n; i++)
        elems[i] = fb_u32(f, 0);
    return at;
}

static size_t fb_string(fbb *f, const char *s)
{
    size_t at = fb_vec(f, s, (uint32_t)strlen(s), 1);
    fb_put(f, "", 1);
    return at;
}

/* ---- a tiny model: input -> CONV_2D -> output ----------------------------------- */

typedef struct spec {
    int32_t in_dims[4];
    int32_t w_dims[4];
    int32_t out_dims[4];
    int w_bytes;       /* bytes in the filter buffer */
    int opcode;        /* builtin code of the operator */
    const char *custom;
    int stride;
    int act;
    float in_scale;
    int64_t in_zp;
    int nscales;       /* of the input tensor */
    int op_input;      /* tensor index of the op's first input */
    int opcode_index;
    int version;
} spec;

static spec default_spec(void)
{
    spec s = {{1, 4, 4, 3}, {2, 1, 1, 3}, {1, 4, 4, 2}, 6, PS_TFL_OP_CONV_2D, NULL, 1, 0, 0.5f,
              3, 1, 0, 0, 3};
    return s;
}

/* Filter 2x1x1x3 (values 1..6, zero point 2), bias {10, -10}; input scale
 * 0.5 zp 3, filter scale 0.25, output scale 1 zp 100: M = 0.125. */
static unsigned char *build(const spec *s, size_t *len)
{
    fbb f = {ps_xmalloc(4096), 0, 4096};
    fb_u32(&f, 0);
    fb_put(&f, "TFL3", 4);
    size_t p[8];
    /* Model: version, operator_codes, subgraphs, description, buffers. */
    fld model[] = {{0, 4, 3, 0}, {1, 4, 0, 1}, {2, 4, 0, 1}, {3, 4, 0, 1}, {4, 4, 0, 1}};
    size_t mt = fb_table(&f, model, 5, p);
    fb_patch(&f, 0, mt);
    size_t m_codes = p[1], m_sgs = p[2], m_desc = p[3], m_bufs = p[4];

    size_t elem;
    size_t v = fb_refs(&f, 1, &elem);
    fb_patch(&f, m_codes, v);
    fld oc[] = {{0, 1, (uint64_t)(s->opcode < 127 ? s->opcode : 127), 0},
                {1, 4, 0, 1},
                {2, 4, (uint64_t)s->version, 0},
                {3, 4, (uint64_t)s->opcode, 0}};
    size_t oct = fb_table(&f, oc, 4, p);
    fb_patch(&f, elem, oct);
    size_t oc_custom = p[1];
    fb_patch(&f, oc_custom, fb_string(&f, s->custom ? s->custom : ""));

    /* One subgraph. */
    v = fb_refs(&f, 1, &elem);
    fb_patch(&f, m_sgs, v);
    fld sg[] = {{0, 4, 0, 1}, {1, 4, 0, 1}, {2, 4, 0, 1}, {3, 4, 0, 1}};
    size_t sgt = fb_table(&f, sg, 4, p);
    fb_patch(&f, elem, sgt);
    size_t sg_tensors = p[0], sg_in = p[1], sg_out = p[2], sg_ops = p[3];

    /* Tensors: 0 input, 1 filter, 2 bias, 3 output. */
    size_t te[4];
    v = fb_refs(&f, 4, te);
    fb_patch(&f, sg_tensors, v);
    const int32_t *dims[4] = {s->in_dims, s->w_dims, NULL, s->out_dims};
    const int types[4] = {PS_TFL_UINT8, PS_TFL_UINT8, PS_TFL_INT32, PS_TFL_UINT8};
    const float scales[4] = {s->in_scale, 0.25f, 0.125f, 1.0f};
    const int64_t zps[4] = {s->in_zp, 2, 0, 100};
    int32_t bias_dims[1] = {s->w_dims[0]};
    for (int i = 0; i < 4; i++) {
        fld tf[] = {{0, 4, 0, 1}, {1, 1, (uint64_t)types[i], 0}, {2, 4, (uint64_t)(i + 1), 0},
                    {3, 4, 0, 1}, {4, 4, 0, 1}};
        size_t tt = fb_table(&f, tf, 5, p);
        fb_patch(&f, te[i], tt);
        size_t shape = p[0], name = p[3], quant = p[4];
        fb_patch(&f, shape, i == 2 ? fb_vec(&f, bias_dims, 1, 4) : fb_vec(&f, dims[i], 4, 4));
        char nm[16];
        snprintf(nm, sizeof nm, "t%d", i);
        fb_patch(&f, name, fb_string(&f, nm));
        fld qf[] = {{2, 4, 0, 1}, {3, 4, 0, 1}};
        size_t qt = fb_table(&f, qf, 2, p);
        size_t qs = p[0], qz = p[1];
        fb_patch(&f, quant, qt);
        int n = i == 0 ? s->nscales : 1;
        float sc[2] = {scales[i], scales[i]};
        int64_t zp[2] = {zps[i], zps[i]};
        fb_patch(&f, qs, fb_vec(&f, sc, (uint32_t)n, 4));
        fb_patch(&f, qz, fb_vec(&f, zp, (uint32_t)n, 8));
    }
    int32_t ins[1] = {0}, outs[1] = {3};
    fb_patch(&f, sg_in, fb_vec(&f, ins, 1, 4));
    fb_patch(&f, sg_out, fb_vec(&f, outs, 1, 4));

    /* One operator with Conv2DOptions. */
    v = fb_refs(&f, 1, &elem);
    fb_patch(&f, sg_ops, v);
    fld of[] = {{0, 4, (uint64_t)s->opcode_index, 0}, {1, 4, 0, 1}, {2, 4, 0, 1},
                {3, 1, 1, 0}, {4, 4, 0, 1}};
    size_t ot = fb_table(&f, of, 5, p);
    fb_patch(&f, elem, ot);
    size_t op_in = p[1], op_out = p[2], op_opt = p[4];
    int32_t oin[3] = {s->op_input, 1, 2};
    fb_patch(&f, op_in, fb_vec(&f, oin, 3, 4));
    fb_patch(&f, op_out, fb_vec(&f, outs, 1, 4));
    fld cf[] = {{0, 1, 0, 0}, {1, 4, (uint64_t)s->stride, 0}, {2, 4, (uint64_t)s->stride, 0},
                {3, 1, (uint64_t)s->act, 0}};
    fb_patch(&f, op_opt, fb_table(&f, cf, 4, p));
    fb_patch(&f, m_desc, fb_string(&f, "tiny"));

    /* Buffers: 0 empty, 1 input (empty), 2 filter, 3 bias, 4 output (empty). */
    size_t be[5];
    v = fb_refs(&f, 5, be);
    fb_patch(&f, m_bufs, v);
    uint8_t w[64];
    for (int i = 0; i < 64; i++)
        w[i] = (uint8_t)(i + 1);
    int32_t bias[2] = {10, -10};
    for (int i = 0; i < 5; i++) {
        fld bf[] = {{0, 4, 0, 1}};
        size_t bt = fb_table(&f, bf, i == 2 || i == 3 ? 1 : 0, p);
        fb_patch(&f, be[i], bt);
        if (i == 2)
            fb_patch(&f, p[0], fb_vec(&f, w, (uint32_t)s->w_bytes, 1));
        if (i == 3)
            fb_patch(&f, p[0], fb_vec(&f, bias, 8, 1));
    }
    *len = f.len;
    return f.b;
}

static ps_tfl_model *parse_spec(const spec *s, ps_error *err)
{
    size_t len;
    unsigned char *b = build(s, &len);
    ps_tfl_model *m = ps_tfl_parse(b, len, "tiny.tflite", err);
    free(b);
    return m;
}

/* Parse + prepare; returns 0 if both succeeded. */
static int load_spec(const spec *s, ps_error *err)
{
    ps_tfl_model *t = parse_spec(s, err);
    if (!t)
        return -1;
    ps_nn_model *m = ps_nn_model_new(t, NULL, err);
    if (!m)
        return -1;
    ps_nn_model_free(m);
    return 0;
}

TEST(tiny_model_runs_and_computes_the_conv)
{
    spec s = default_spec();
    ps_error err;
    /* Also leave the model in the test folder: it seeds the fuzzer. */
    size_t blen;
    unsigned char *bytes = build(&s, &blen);
    test_write_tmp("tiny_conv.tflite", bytes, blen);
    free(bytes);
    ps_tfl_model *t = parse_spec(&s, &err);
    CHECK(t != NULL);
    if (!t) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_INT(t->ntensors, 4);
    CHECK_INT(t->nops, 1);
    CHECK_INT(t->ops[0].code, PS_TFL_OP_CONV_2D);
    CHECK_STR(t->tensors[1].name, "t1");
    CHECK_INT(t->tensors[1].zero_point, 2);
    CHECK(t->tensors[1].data != NULL);
    CHECK(t->tensors[0].data == NULL);
    ps_nn_model *m = ps_nn_model_new(t, NULL, &err);
    CHECK(m != NULL);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    uint8_t in[48];
    for (int i = 0; i < 48; i++)
        in[i] = (uint8_t)(i * 5 + 1);
    for (int ref = 0; ref < 2; ref++) {
        ps_nn_workspace *ws = ps_nn_workspace_new(m, 1);
        ps_nn_workspace_set_reference(ws, ref);
        CHECK(ps_nn_run(m, ws, in, sizeof in, &err) == 0);
        const uint8_t *out = ps_nn_tensor_data(m, ws, 3, NULL);
        CHECK(out != NULL);
        for (int px = 0; out && px < 16; px++)
            for (int oc = 0; oc < 2; oc++) {
                int acc = oc ? -10 : 10;
                for (int c = 0; c < 3; c++)
                    acc += (in[px * 3 + c] - 3) * ((oc * 3 + c + 1) - 2);
                /* M = 0.125 = 2^30 * 2^-33: TFLite rounds twice, first acc / 2
                 * half up (the doubling high multiply), then that / 4 half away
                 * from zero.  Plus the zero point 100, clamped to a byte. */
                int h = acc >= 0 ? (acc + 1) / 2 : -((-acc) / 2);
                int q = h >= 0 ? (h + 2) / 4 : -((-h + 2) / 4);
                q += 100;
                CHECK_INT(out[px * 2 + oc], q < 0 ? 0 : q > 255 ? 255 : q);
            }
        CHECK(ps_nn_run(m, ws, in, 47, &err) == -1);
        CHECK_CONTAINS(err.msg, "needs 48");
        ps_nn_workspace_free(ws);
    }
    ps_nn_model_free(m);
}

TEST(empty_and_foreign_files_are_refused)
{
    ps_error err;
    CHECK(ps_tfl_parse("", 0, "empty.tflite", &err) == NULL);
    CHECK_CONTAINS(err.msg, "empty.tflite: byte offset 0: file is too small");
    const char *text = "this is certainly not a model file\n";
    CHECK(ps_tfl_parse(text, strlen(text), "notes.txt", &err) == NULL);
    CHECK_CONTAINS(err.msg, "not a TensorFlow Lite model");
    const char *p = test_write_tmp("zero.tflite", "", 0);
    CHECK(ps_tfl_read(p, &err) == NULL);
    CHECK_CONTAINS(err.msg, "too small");
    CHECK(ps_tfl_read("/nonexistent/model.tflite", &err) == NULL);
    CHECK_CONTAINS(err.msg, "cannot open");
}

/* The default tiny model changed by `edit` (an expression on the spec `s`)
 * must be refused with a message containing `want`.  A macro, so that a
 * failed check names the case's own line. */
#define CHECK_REFUSED(edit, want)                                             \
    do {                                                                      \
        spec s = default_spec();                                              \
        ps_error err = {{0}};                                                 \
        (void)(edit);                                                         \
        CHECK(load_spec(&s, &err) != 0);                                      \
        CHECK_CONTAINS(err.msg, want);                                        \
    } while (0)

TEST(bad_values_give_clear_messages)
{
    /* Messages of the reader name the file and the byte offset. */
    CHECK_REFUSED(s.opcode = 18, "tiny.tflite: byte offset ");
    CHECK_REFUSED(s.opcode = 18, "MUL is not supported");
    CHECK_REFUSED((s.opcode = 32, s.custom = "TFLite_Detection_PostProcess"),
                  "custom operator 'TFLite_Detection_PostProcess' is not supported");
    /* a code only the int32 field can hold */
    CHECK_REFUSED(s.opcode = 150, "builtin operator 150 is not supported");
    CHECK_REFUSED(s.in_dims[1] = 70000, "dimension 1 is 70000");
    CHECK_REFUSED(s.in_dims[0] = s.in_dims[1] = s.in_dims[2] = 65536, "is larger than");
    CHECK_REFUSED(s.in_dims[2] = 0, "dimension 2 is 0");
    CHECK_REFUSED(s.w_bytes = 5, "holds 5 bytes, but shape and type UINT8 need 6");
    CHECK_REFUSED(s.op_input = 9, "tensor index 9 is out of range");
    CHECK_REFUSED(s.opcode_index = 3, "opcode index 3 is out of range");
    CHECK_REFUSED(s.stride = 0, "stride_w is 0");
    CHECK_REFUSED(s.act = 4, "fused activation TANH is not supported");
    CHECK_REFUSED(s.in_scale = 0.0f, "scale 0 is not a positive finite number");
    CHECK_REFUSED(s.in_scale = -1.0f, "is not a positive finite number");
    CHECK_REFUSED(s.in_scale = NAN, "is not a positive finite number");
    CHECK_REFUSED(s.in_zp = 300, "zero point 300 is out of range for UINT8");
    CHECK_REFUSED(s.nscales = 2, "per-channel quantization (2 scales)");

    /* Graph-level checks (interpreter). */
    CHECK_REFUSED((s.w_dims[3] = 1, s.w_bytes = 2),
                  "operator 0 (CONV_2D): filter has 1 input channels, the input has 3");
    CHECK_REFUSED(s.out_dims[1] = 5, "has shape 1x5x4x2, but the operator produces 1x4x4x2");
    CHECK_REFUSED(s.op_input = 3, "before any operator writes it"); /* reads its own output */

    /* The same model with stride 2 and the matching output loads. */
    spec ok = default_spec();
    ok.stride = 2;
    ok.out_dims[1] = ok.out_dims[2] = 2;
    ps_error err;
    CHECK(load_spec(&ok, &err) == 0);
}

/* Every truncation and every single-bit flip of the tiny model either loads
 * or fails with a message; whatever loads also runs. */
TEST(truncations_and_bit_flips_never_crash)
{
    spec s = default_spec();
    size_t len;
    unsigned char *good = build(&s, &len);
    unsigned char *b = ps_xmalloc(len);
    ps_error err;
    int loaded = 0, refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        ps_tfl_model *t = ps_tfl_parse(good, cut, "cut.tflite", &err);
        if (t) {
            ps_tfl_free(t);
            loaded++;
        } else {
            CHECK_CONTAINS(err.msg, "cut.tflite: byte offset ");
            refused++;
        }
    }
    CHECK(refused > 0);
    uint8_t in[48] = {0};
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(b, good, len);
            b[i] ^= (unsigned char)(1u << bit);
            err.msg[0] = '\0';
            ps_tfl_model *t = ps_tfl_parse(b, len, "flip.tflite", &err);
            ps_nn_model *m = t ? ps_nn_model_new(t, NULL, &err) : NULL;
            if (m) {
                const ps_tfl_tensor *x = &ps_nn_model_tfl(m)->tensors[ps_nn_input(m, 0)];
                if (x->nbytes <= sizeof in) {
                    ps_nn_workspace *ws = ps_nn_workspace_new(m, 1);
                    CHECK(ps_nn_run(m, ws, in, x->nbytes, &err) == 0);
                    ps_nn_workspace_free(ws);
                }
                ps_nn_model_free(m);
                loaded++;
            } else {
                CHECK(strlen(err.msg) > 10);
                refused++;
            }
        }
    printf("tiny model: %d variants loaded, %d refused with a message\n", loaded, refused);
    free(b);
    free(good);
}

TEST(real_model_damage_is_detected)
{
    const char *shared = test_shared_dir();
    ps_buf path = {0};
    ps_buf_printf(&path, "%s/models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
                  shared ? shared : "");
    size_t len;
    ps_error err;
    char *good = shared ? ps_read_file(path.data, 64 << 20, &len, &err) : NULL;
    ps_buf_free(&path);
    if (!good)
        SKIP("shared models missing");
    /* Truncated at 120 places: near the start, where the tables are, and
     * spread over the rest. */
    for (int k = 0; k < 120; k++) {
        size_t cut = k < 60 ? (size_t)k * 37 : len / 60 * (size_t)(k - 60);
        ps_tfl_model *t = ps_tfl_parse(good, cut, "cut.tflite", &err);
        CHECK(t == NULL);
        if (!t)
            CHECK_CONTAINS(err.msg, "cut.tflite: byte offset");
        ps_tfl_free(t);
    }
    /* 300 random byte changes; each result loads or is refused. */
    unsigned char *b = ps_xmalloc(len);
    uint32_t seed = 12345;
    int refused = 0;
    for (int k = 0; k < 300; k++) {
        memcpy(b, good, len);
        seed = seed * 1103515245u + 12345u;
        size_t at = k < 150 ? (seed >> 8) % 4096 : (seed >> 4) % len;
        b[at] = (unsigned char)(b[at] ^ (1 + (seed >> 24) % 255));
        ps_tfl_model *t = ps_tfl_parse(b, len, "flip.tflite", &err);
        if (!t) {
            refused++;
            continue;
        }
        ps_nn_model *m = ps_nn_model_new(t, NULL, &err);
        refused += m == NULL;
        ps_nn_model_free(m);
    }
    printf("real model: %d of 300 damaged copies refused\n", refused);
    free(b);
    free(good);
}

/* ---- arithmetic ------------------------------------------------------------------ */

TEST(fixed_point_helpers_match_hand_values)
{
    CHECK_INT(ps_q_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    CHECK_INT(ps_q_srdhm(1 << 30, 1 << 30), 1 << 29);
    CHECK_INT(ps_q_srdhm(-(1 << 30), 1 << 30), -(1 << 29));
    CHECK_INT(ps_q_srdhm(3, 1 << 30), 2);   /* 1.5 rounds up */
    CHECK_INT(ps_q_srdhm(-3, 1 << 30), -1); /* -1.5 rounds up too */
    CHECK_INT(ps_q_rdivpot(5, 1), 3);
    CHECK_INT(ps_q_rdivpot(-5, 1), -3);
    CHECK_INT(ps_q_rdivpot(-4, 1), -2);
    CHECK_INT(ps_q_rdivpot(7, 0), 7);
    CHECK_INT(ps_q_rdivpot(-6, 2), -2); /* -1.5 away from zero */
    int32_t m;
    int sh;
    CHECK(ps_q_quantize_multiplier(0.5, &m, &sh) == 0);
    CHECK_INT(m, 1 << 30);
    CHECK_INT(sh, 0);
    CHECK(ps_q_quantize_multiplier(1.0, &m, &sh) == 0);
    CHECK_INT(m, 1 << 30);
    CHECK_INT(sh, 1);
    CHECK(ps_q_quantize_multiplier(0.75, &m, &sh) == 0);
    CHECK_INT(m, 1610612736);
    CHECK(ps_q_quantize_multiplier(1e-12, &m, &sh) == 0);
    CHECK_INT(m, 0);
    CHECK(ps_q_quantize_multiplier(-1.0, &m, &sh) == -1);
    CHECK(ps_q_quantize_multiplier(1e12, &m, &sh) == -1);
    CHECK_INT(ps_q_mul(100, 1 << 30, -1), 25);
    CHECK_INT(ps_q_mul(-100, 1 << 30, 2), -200);
    int32_t lo, hi;
    ps_q_activation_range(3, 6.0f / 255, 0, &lo, &hi);
    CHECK_INT(lo, 0);
    CHECK_INT(hi, 255);
    ps_q_activation_range(3, 0.1f, 10, &lo, &hi);
    CHECK_INT(lo, 10);
    CHECK_INT(hi, 70);
    ps_q_activation_range(2, 0.01f, 128, &lo, &hi);
    CHECK_INT(lo, 28);
    CHECK_INT(hi, 228);
    /* exp and reciprocal: Q0.31 values close to the real ones. */
    CHECK_INT(ps_q_exp_on_negative_values_q5(0), INT32_MAX);
    CHECK_NEAR(ps_q_exp_on_negative_values_q5(-(1 << 26)) / 2147483648.0, exp(-1.0), 1e-6);
    CHECK_NEAR(ps_q_exp_on_negative_values_q5(-(5 << 25)) / 2147483648.0, exp(-2.5), 1e-6);
    CHECK_NEAR(ps_q_one_over_one_plus_x(1 << 30) / 2147483648.0, 2.0 / 3.0, 1e-6);
    CHECK_NEAR(ps_q_one_over_one_plus_x(0) / 2147483648.0, 1.0, 1e-6);
}

TEST(softmax_paths)
{
    ps_nn_softmax p;
    memset(&p, 0, sizeof p);
    CHECK(ps_nn_softmax_init(&p, 0.1f, 1.0f, 1.0f / 256) == 0);
    p.outer = 1;
    p.depth = 4;
    uint8_t in[4] = {50, 50, 50, 50}, out[4];
    for (int fixed = 0; fixed < 2; fixed++) {
        p.fixed_point = fixed;
        ps_nn_softmax_ref(&p, in, out);
        for (int i = 0; i < 4; i++)
            CHECK_INT(out[i], 64);
        uint8_t in2[4] = {200, 190, 0, 180}, out2[4];
        ps_nn_softmax_ref(&p, in2, out2);
        /* exp(0), exp(-1), ~0, exp(-2) over their sum, times 256. */
        double e0 = 1, e1 = exp(-1.0), e3 = exp(-2.0), sum = e0 + e1 + e3;
        CHECK(abs(out2[0] - (int)(256 * e0 / sum + 0.5)) <= 1);
        CHECK(abs(out2[1] - (int)(256 * e1 / sum + 0.5)) <= 1);
        CHECK_INT(out2[2], 0);
        CHECK(abs(out2[3] - (int)(256 * e3 / sum + 0.5)) <= 1);
    }
    CHECK(ps_nn_softmax_init(&p, 1e-12f, 1.0f, 1.0f / 256) == -1);
}

/* ---- reference vs AVX2 on random shapes --------------------------------------------- */

static uint32_t rng_state = 2024;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int rnd_in(int lo, int hi)
{
    return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static void random_rq(ps_nn_rq *rq, double lo, double hi)
{
    double real = lo + (hi - lo) * (rnd() % 10000) / 10000.0;
    ps_q_quantize_multiplier(real, &rq->mult, &rq->shift);
    rq->zp = rnd_in(0, 255);
    rq->lo = rnd_in(0, 40);
    rq->hi = rnd_in(200, 255);
    rq->fp32 = (rnd() % 4) == 0;
    rq->fscale = (float)real;
}

static int out_dim(int in, int k, int s, int d, int same, int *pad)
{
    int eff = (k - 1) * d + 1;
    int o = same ? (in + s - 1) / s : (in + s - eff) / s;
    int total = (o - 1) * s + eff - in;
    *pad = total > 0 ? total / 2 : 0;
    return o;
}

/* ---- random conv problems ---------------------------------------------------------
 * The conv, depthwise and Arm NN kernel tests each draw a shape of their own;
 * the rest of a problem (output size, zero points, weights, bias, input and
 * two outputs to compare) is the same and lives here. */

typedef struct conv_case {
    ps_nn_conv p;
    uint8_t *w;      /* the filter p.w points to */
    int32_t *bias;   /* the bias p.bias points to */
    uint8_t *in;
    uint8_t *want;   /* the reference kernel's output */
    uint8_t *got;    /* the fast kernel's output */
    size_t out_n;
} conv_case;

/* Kernel, stride and dilation of each axis: 1 for a pointwise conv, else
 * 1-3, 1-2 and 1-2, drawn independently. */
static void random_window(ps_nn_conv *p, int pointwise)
{
    p->k_h = pointwise ? 1 : rnd_in(1, 3);
    p->k_w = pointwise ? 1 : rnd_in(1, 3);
    p->stride_h = pointwise ? 1 : rnd_in(1, 2);
    p->stride_w = pointwise ? 1 : rnd_in(1, 2);
    p->dil_h = pointwise ? 1 : rnd_in(1, 2);
    p->dil_w = pointwise ? 1 : rnd_in(1, 2);
}

/* Completes c->p, whose batches, input size, channels, depth multiplier,
 * window and depthwise flag are set: the output size with SAME padding (or
 * VALID when `same` is 0), K as the interpreter sets it, random zero points,
 * weights, a bias in [-bias_max, bias_max] and an input.  The caller adds
 * the requantization and frees with conv_case_free. */
static void conv_case_fill(conv_case *c, int same, int bias_max)
{
    ps_nn_conv *p = &c->p;
    p->out_h = out_dim(p->in_h, p->k_h, p->stride_h, p->dil_h, same, &p->pad_h);
    p->out_w = out_dim(p->in_w, p->k_w, p->stride_w, p->dil_w, same, &p->pad_w);
    p->in_zp = rnd_in(0, 255);
    p->w_zp = rnd_in(0, 255);
    p->K = p->k_h * p->k_w * (p->depthwise ? 1 : p->in_c);
    size_t wn = (size_t)p->out_c * p->K;
    c->w = ps_xmalloc(wn);
    fill(c->w, wn);
    c->bias = ps_xmalloc((size_t)p->out_c * 4);
    for (int i = 0; i < p->out_c; i++)
        c->bias[i] = (int32_t)(rnd() % (uint32_t)(2 * bias_max + 1)) - bias_max;
    p->w = c->w;
    p->bias = c->bias;
    size_t in_n = (size_t)p->batches * p->in_h * p->in_w * p->in_c;
    c->out_n = (size_t)p->batches * p->out_h * p->out_w * p->out_c;
    c->in = ps_xmalloc(in_n);
    fill(c->in, in_n);
    c->want = ps_xmalloc(c->out_n);
    c->got = ps_xmalloc(c->out_n);
}

/* The two outputs are the same bytes; a mismatch names the shape. */
static void conv_case_check(const conv_case *c, const char *what)
{
    const ps_nn_conv *p = &c->p;
    int diff = memcmp(c->want, c->got, c->out_n);
    if (diff)
        fprintf(stderr, "%s %dx%dx%d k%dx%d s%d d%d -> %d: mismatch\n", what, p->in_h, p->in_w,
                p->in_c, p->k_h, p->k_w, p->stride_h, p->dil_h, p->out_c);
    CHECK(diff == 0);
}

/* Also drops the packed forms (a no-op when never packed: their pointers
 * are NULL). */
static void conv_case_free(conv_case *c)
{
    ps_nn_conv_unpack(&c->p);
    free(c->w);
    free(c->bias);
    free(c->in);
    free(c->want);
    free(c->got);
}

TEST(conv_fast_matches_reference)
{
    for (int iter = 0; iter < 60; iter++) {
        conv_case c = {0};
        ps_nn_conv *p = &c.p;
        int pointwise = iter % 3 == 0;
        p->batches = rnd_in(1, 2);
        p->in_h = rnd_in(1, 9);
        p->in_w = rnd_in(1, 9);
        p->in_c = rnd_in(1, 40);
        p->out_c = rnd_in(1, 40);
        p->depth_mult = 1;
        random_window(p, pointwise);
        /* VALID padding only where the dilated window fits the input. */
        int same = pointwise ? 1 : (int)(rnd() % 2);
        if ((p->k_h - 1) * p->dil_h + 1 > p->in_h || (p->k_w - 1) * p->dil_w + 1 > p->in_w)
            same = 1;
        conv_case_fill(&c, same, 100000);
        random_rq(&p->rq, 1e-5, iter % 5 == 0 ? 3.0 : 0.01);
        ps_nn_conv_pack(p);
        void *scratch = ps_xmalloc(ps_nn_conv_scratch(p));
        ps_nn_conv_ref(p, c.in, c.want, 0, p->batches * p->out_h);
        /* In two calls, split by pixels or by output channels (at a multiple
         * of 16, the AVX2 block), as the interpreter's threads split it. */
        int pixels = p->batches * p->out_h * p->out_w;
        if (iter % 2) {
            ps_nn_conv_fast(p, c.in, c.got, 0, pixels / 2, 0, p->out_c, scratch);
            ps_nn_conv_fast(p, c.in, c.got, pixels / 2, pixels, 0, p->out_c, scratch);
        } else {
            int mid = (p->out_c / 16 / 2) * 16;
            ps_nn_conv_fast(p, c.in, c.got, 0, pixels, 0, mid, scratch);
            ps_nn_conv_fast(p, c.in, c.got, 0, pixels, mid, p->out_c, scratch);
        }
        conv_case_check(&c, "conv");
        free(scratch);
        conv_case_free(&c);
    }
}

TEST(depthwise_fast_matches_reference)
{
    for (int iter = 0; iter < 60; iter++) {
        conv_case c = {0};
        ps_nn_conv *p = &c.p;
        p->depthwise = 1;
        p->batches = rnd_in(1, 2);
        p->in_h = rnd_in(1, 10);
        p->in_w = rnd_in(1, 10);
        p->in_c = rnd_in(1, 50);
        p->depth_mult = 1;
        p->out_c = p->in_c;
        p->k_h = rnd_in(1, 3);
        p->k_w = rnd_in(1, 3);
        p->stride_h = p->stride_w = rnd_in(1, 2);
        p->dil_h = p->dil_w = rnd_in(1, 2);
        conv_case_fill(&c, 1, 10000);
        random_rq(&p->rq, 1e-4, iter % 4 == 0 ? 2.0 : 0.05);
        ps_nn_conv_pack(p);
        int rows = p->batches * p->out_h;
        ps_nn_dw_ref(p, c.in, c.want, 0, rows);
        ps_nn_dw_fast(p, c.in, c.got, 0, rows / 2);
        ps_nn_dw_fast(p, c.in, c.got, rows / 2, rows);
        conv_case_check(&c, "depthwise");
        conv_case_free(&c);
    }
}

/* Arm NN arithmetic: the AVX2 conv/depthwise against the literal scalar
 * loops, bytes identical (each lane sums in Arm NN's order). */
static void random_fop(ps_nn_fop *f, const ps_nn_conv *p)
{
    memset(f, 0, sizeof *f);
    f->in_scale[0] = (float)(rnd_in(1, 1000) / 20000.0);
    f->in_zp[0] = p->in_zp;
    for (int v = 0; v < 256; v++)
        f->lut0[v] = (float)(v - f->in_zp[0]) * f->in_scale[0];
    f->out_scale = (float)(rnd_in(1, 1000) / 4000.0);
    f->out_zp = rnd_in(0, 255);
    f->act = (int)(rnd() % 2);
    f->act_lo = 0.0f;
    f->act_hi = 6.0f;
    float ws = (float)(rnd_in(1, 1000) / 50000.0);
    ps_nn_fop_conv_init(f, p, ws, f->in_scale[0] * ws);
}

TEST(armnn_conv_fast_matches_reference)
{
    for (int iter = 0; iter < 80; iter++) {
        conv_case c = {0};
        ps_nn_conv *p = &c.p;
        p->depthwise = iter % 2;
        int pointwise = !p->depthwise && iter % 4 == 0;
        p->batches = rnd_in(1, 2);
        p->in_h = rnd_in(1, 9);
        p->in_w = rnd_in(1, 9);
        /* Depthwise: mostly whole blocks of 8 channels, every third layer
         * any count and a depth multiplier of 1 or 2. */
        p->in_c = p->depthwise && iter % 3 ? 8 * rnd_in(1, 4) : rnd_in(1, 40);
        p->depth_mult = p->depthwise && iter % 3 == 0 ? rnd_in(1, 2) : 1;
        p->out_c = p->depthwise ? p->in_c * p->depth_mult : rnd_in(1, 40);
        random_window(p, pointwise);
        conv_case_fill(&c, 1, 10000);
        ps_nn_fop f;
        random_fop(&f, p);
        int rows = p->batches * p->out_h;
        if (p->depthwise) {
            ps_nn_fdw_ref(p, &f, c.in, c.want, 0, rows);
            ps_nn_fdw(p, &f, c.in, c.got, 0, rows / 2);
            ps_nn_fdw(p, &f, c.in, c.got, rows / 2, rows);
        } else {
            ps_nn_fconv_ref(p, &f, c.in, c.want, 0, rows);
            ps_nn_fconv(p, &f, c.in, c.got, 0, rows / 2);
            ps_nn_fconv(p, &f, c.in, c.got, rows / 2, rows);
        }
        conv_case_check(&c, p->depthwise ? "armnn dw" : "armnn conv");
        free(f.w);
        free(f.bias);
        conv_case_free(&c);
    }
}

/* armnn::Quantize: round half away from zero (std::round), then the zero
 * point, then clamp; a fused ReLU6 clamps the dequantized value again. */
TEST(armnn_quantize_rounds_half_away_from_zero)
{
    CHECK_INT(ps_nn_fquant(2.5f, 1.0f, 10), 13);   /* rint would give 12 */
    CHECK_INT(ps_nn_fquant(-2.5f, 1.0f, 10), 7);   /* rint would give 8 */
    CHECK_INT(ps_nn_fquant(0.49f, 1.0f, 0), 0);
    CHECK_INT(ps_nn_fquant(1.0f, 0.5f, 100), 102);
    CHECK_INT(ps_nn_fquant(-300.0f, 1.0f, 128), 0);
    CHECK_INT(ps_nn_fquant(300.0f, 1.0f, 128), 255);
    ps_nn_fop f;
    memset(&f, 0, sizeof f);
    f.out_scale = 0.25f;
    f.out_zp = 20;
    f.act = 1;
    f.act_lo = 0.0f;
    f.act_hi = 6.0f;
    CHECK_INT(ps_nn_fout(&f, -0.5f), 20);          /* ReLU: 0.0 is the zero point */
    CHECK_INT(ps_nn_fout(&f, 7.0f), 44);           /* 6.0 / 0.25 + 20 */
    CHECK_INT(ps_nn_fout(&f, 0.125f), 21);         /* 0.5 rounds up */
}

TEST(elementwise_resize_argmax_fast_match_reference)
{
    for (int iter = 0; iter < 40; iter++) {
        size_t n = (size_t)rnd_in(1, 300);
        uint8_t *x = ps_xmalloc(n), *y = ps_xmalloc(n), *a = ps_xmalloc(n), *b = ps_xmalloc(n);
        fill(x, n);
        fill(y, n);
        ps_nn_add ad;
        memset(&ad, 0, sizeof ad);
        ad.count = n;
        ad.in1_off = -rnd_in(0, 255);
        ad.in2_off = -rnd_in(0, 255);
        ad.left_shift = 20;
        double s1 = 0.01 + (rnd() % 1000) / 1000.0, s2 = 0.01 + (rnd() % 1000) / 1000.0;
        double twice = 2 * (s1 > s2 ? s1 : s2);
        ps_q_quantize_multiplier(s1 / twice, &ad.in1_mult, &ad.in1_shift);
        ps_q_quantize_multiplier(s2 / twice, &ad.in2_mult, &ad.in2_shift);
        random_rq(&ad.rq, twice / (1 << 20) / 0.05, twice / (1 << 20) / 0.005);
        ad.rq.fp32 = 0;
        ps_nn_add_ref(&ad, x, y, a, 0, n);
        ps_nn_add_fast(&ad, x, y, b, 0, n / 3);
        ps_nn_add_fast(&ad, x, y, b, n / 3, n);
        CHECK(memcmp(a, b, n) == 0);

        ps_nn_requant rq;
        memset(&rq, 0, sizeof rq);
        rq.count = n;
        rq.in_zp = rnd_in(0, 255);
        random_rq(&rq.rq, 0.1, 4.0);
        rq.rq.fp32 = 0;
        ps_nn_requant_ref(&rq, x, a, 0, n);
        ps_nn_requant_fast(&rq, x, b, 0, n);
        CHECK(memcmp(a, b, n) == 0);
        free(x);
        free(y);
        free(a);
        free(b);
    }
    for (int iter = 0; iter < 40; iter++) {
        ps_nn_resize r;
        r.batches = rnd_in(1, 2);
        r.in_h = rnd_in(1, 8);
        r.in_w = rnd_in(1, 8);
        r.c = rnd_in(1, 24);
        r.out_h = rnd_in(1, 40);
        r.out_w = rnd_in(1, 40);
        r.align_corners = rnd() % 2;
        r.half_pixel_centers = !r.align_corners && rnd() % 2;
        if (iter == 0) { /* extreme upsampling: coordinates past the input */
            r.in_h = r.in_w = 1;
            r.out_h = r.out_w = 2000;
            r.c = 1;
        }
        size_t in_n = (size_t)r.batches * r.in_h * r.in_w * r.c;
        size_t out_n = (size_t)r.batches * r.out_h * r.out_w * r.c;
        uint8_t *in = ps_xmalloc(in_n), *a = ps_xmalloc(out_n), *b = ps_xmalloc(out_n);
        fill(in, in_n);
        ps_nn_resize_ref(&r, in, a, 0, r.batches * r.out_h);
        ps_nn_resize_fast(&r, in, b, 0, r.batches * r.out_h);
        CHECK(memcmp(a, b, out_n) == 0);
        free(in);
        free(a);
        free(b);
    }
    for (int iter = 0; iter < 20; iter++) {
        ps_nn_argmax am = {(size_t)rnd_in(1, 30), (size_t)rnd_in(1, 25), (size_t)(iter % 2 ? 1 : rnd_in(1, 4)), iter % 3 != 0};
        size_t n = am.outer * am.axis * am.inner, m = am.outer * am.inner;
        uint8_t *in = ps_xmalloc(n);
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(rnd() % 8); /* many ties */
        int64_t *a = ps_xcalloc(m, 8), *b = ps_xcalloc(m, 8);
        ps_nn_argmax_ref(&am, in, a, 0, m);
        ps_nn_argmax_fast(&am, in, b, 0, m);
        CHECK(memcmp(a, b, m * 8) == 0);
        /* The lowest index wins a tie. */
        for (size_t i = 0; i < m && am.out64; i++) {
            size_t o = i / am.inner, j = i % am.inner;
            int64_t idx = a[i];
            for (int64_t k = 0; k < idx; k++)
                CHECK(in[(o * am.axis + (size_t)k) * am.inner + j] <
                      in[(o * am.axis + (size_t)idx) * am.inner + j]);
        }
        free(in);
        free(a);
        free(b);
    }
}

/* Small cases worked out by hand from TFLite's kernel definitions. */
TEST(small_ops_match_hand_values)
{
    /* CONCATENATION: input 0 has the output's quantization (copied), input 1
     * has scale 0.5, zero point 10 against the output's 0.25 / 3:
     * q' = round((q - 10) * 2) + 3, clamped. */
    ps_nn_concat cc;
    memset(&cc, 0, sizeof cc);
    cc.n = 2;
    cc.outer = 2;
    cc.inner[0] = 1;
    cc.inner[1] = 2;
    cc.rescale[1] = 1;
    cc.scale[1] = 0.5f * (1.0f / 0.25f);
    cc.bias[1] = -10.0f * cc.scale[1];
    cc.out_zp = 3;
    const uint8_t a[2] = {7, 8}, b[4] = {20, 10, 0, 200};
    const uint8_t *ins[2] = {a, b};
    uint8_t out[6];
    ps_nn_concat_ref(&cc, ins, out);
    const uint8_t want[6] = {7, 23, 3, 8, 0, 255};
    CHECK(memcmp(out, want, 6) == 0);

    /* AVERAGE_POOL_2D 3x3, stride 1, SAME on a 2x2 image: every window sees
     * all four pixels (padding does not count): (1+2+3+5 + 2) / 4 = 3. */
    ps_nn_pool pl = {1, 2, 2, 1, 2, 2, 3, 3, 1, 1, 1, 1, 0, 255};
    const uint8_t img[4] = {1, 2, 3, 5};
    uint8_t po[4];
    ps_nn_pool_ref(&pl, img, po, 0, 2);
    for (int i = 0; i < 4; i++)
        CHECK_INT(po[i], 3);
    pl.hi = 2; /* a fused clamp */
    ps_nn_pool_ref(&pl, img, po, 0, 2);
    CHECK_INT(po[0], 2);

    /* RESIZE_BILINEAR 2x2 -> 3x3 with align_corners: corners copied, the
     * centre the mean of the four (10+20+30+41)/4 = 25.25 -> 25, edge
     * midpoints (10+20)/2 = 15, (20+41)/2 = 30.5 -> 31 (half up). */
    ps_nn_resize rs = {1, 2, 2, 1, 3, 3, 1, 0};
    const uint8_t src[4] = {10, 20, 30, 41};
    uint8_t ro[9], rf[9];
    ps_nn_resize_ref(&rs, src, ro, 0, 3);
    ps_nn_resize_fast(&rs, src, rf, 0, 3);
    const uint8_t rwant[9] = {10, 15, 20, 20, 25, 31, 30, 36, 41};
    CHECK(memcmp(ro, rwant, 9) == 0);
    CHECK(memcmp(rf, rwant, 9) == 0);

    /* QUANTIZE uint8 -> uint8: scale 0.5 -> 0.25 (x2), zero point 100 -> 0. */
    ps_nn_requant rq;
    memset(&rq, 0, sizeof rq);
    rq.in_zp = 100;
    ps_q_quantize_multiplier(2.0, &rq.rq.mult, &rq.rq.shift);
    rq.rq.lo = 0;
    rq.rq.hi = 255;
    const uint8_t qi[4] = {100, 101, 50, 227};
    uint8_t qo[4];
    ps_nn_requant_ref(&rq, qi, qo, 0, 4);
    CHECK_INT(qo[0], 0);
    CHECK_INT(qo[1], 2);
    CHECK_INT(qo[2], 0);
    CHECK_INT(qo[3], 254);

    /* ADD of equal scales 1.0 (zero points 0) into scale 2.0: (a + b) / 2
     * with TFLite's rounding; 3 + 4 = 7 -> 3.5 -> 4. */
    ps_nn_add ad;
    memset(&ad, 0, sizeof ad);
    ad.count = 2;
    ad.left_shift = 20;
    ps_q_quantize_multiplier(0.5, &ad.in1_mult, &ad.in1_shift);
    ps_q_quantize_multiplier(0.5, &ad.in2_mult, &ad.in2_shift);
    ps_q_quantize_multiplier(2.0 / ((1 << 20) * 2.0), &ad.rq.mult, &ad.rq.shift);
    ad.rq.lo = 0;
    ad.rq.hi = 255;
    const uint8_t x1[2] = {3, 200}, x2[2] = {4, 100};
    uint8_t ao[2];
    ps_nn_add_ref(&ad, x1, x2, ao, 0, 2);
    CHECK_INT(ao[0], 4);
    CHECK_INT(ao[1], 150);
}

TEST(op_names)
{
    CHECK_STR(ps_tfl_op_name(0), "ADD");
    CHECK_STR(ps_tfl_op_name(3), "CONV_2D");
    CHECK_STR(ps_tfl_op_name(23), "RESIZE_BILINEAR");
    CHECK_STR(ps_tfl_op_name(25), "SOFTMAX");
    CHECK_STR(ps_tfl_op_name(56), "ARG_MAX");
    CHECK_STR(ps_tfl_op_name(114), "QUANTIZE");
    CHECK_STR(ps_tfl_op_name(126), "BATCH_MATMUL");
    CHECK(ps_tfl_op_name(-1) == NULL);
    CHECK(ps_tfl_op_name(5000) == NULL);
}

int main(void)
{
    RUN(op_names);
    RUN(fixed_point_helpers_match_hand_values);
    RUN(softmax_paths);
    RUN(tiny_model_runs_and_computes_the_conv);
    RUN(empty_and_foreign_files_are_refused);
    RUN(bad_values_give_clear_messages);
    RUN(truncations_and_bit_flips_never_crash);
    RUN(real_model_damage_is_detected);
    RUN(conv_fast_matches_reference);
    RUN(depthwise_fast_matches_reference);
    RUN(armnn_conv_fast_matches_reference);
    RUN(armnn_quantize_rounds_half_away_from_zero);
    RUN(elementwise_resize_argmax_fast_match_reference);
    RUN(small_ops_match_hand_values);
    return test_summary();
}
