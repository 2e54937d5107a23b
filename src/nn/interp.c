/*
 * interp.c - prepare a parsed TFLite graph for running, and run it.
 *
 * Preparing checks the whole graph: every operator's input and output
 * types, quantization and shapes (the declared output shape must be the one
 * the operator computes), that each tensor is written once and before it is
 * read, and that the work and memory stay within bounds.  It then computes
 * each operator's fixed parameters exactly as TensorFlow Lite's Prepare
 * functions do, packs weights for the AVX2 kernels and plans activation
 * memory: tensors are placed in one arena, largest first, at the lowest
 * offset that does not collide with a tensor alive at the same time.
 */
#include "nn/interp.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "nn/ops.h"
#include "nn/threads.h"

#define ARENA_ALIGN 64
#define MAX_ARENA_BYTES ((size_t)2 << 30)
#define MAX_ACCUMULATION 32768 /* K * 255 * 255 must fit in int32 */

typedef struct nn_op {
    int code;
    int tfl_index;
    int in[PS_TFL_MAX_OP_INPUTS]; /* data inputs (tensor indices) */
    int nin;
    int out;
    size_t copy_bytes;            /* RESHAPE */
    int32_t *bias_copy;           /* owned, aligned copy of a conv bias */
    ps_nn_fop *f;                 /* Arm NN float parameters (owned), or NULL */
    union {
        ps_nn_conv conv;
        ps_nn_add add;
        ps_nn_pool pool;
        ps_nn_softmax softmax;
        ps_nn_resize resize;
        ps_nn_requant requant;
        ps_nn_concat concat;
        ps_nn_argmax argmax;
    } u;
} nn_op;

struct ps_nn_model {
    ps_tfl_model *tfl;
    nn_op *ops;
    int nops;
    size_t *offset;    /* per tensor: arena offset, or SIZE_MAX */
    char *readable;    /* per tensor: value valid after a run */
    size_t arena_bytes;
    size_t scratch_bytes; /* per thread */
};

struct ps_nn_workspace {
    const ps_nn_model *m;
    unsigned char *arena;
    unsigned char **scratch;
    ps_nn_threads *threads;
    int nthreads;
    int reference;
};

/* ---- messages ------------------------------------------------------------- */

static int op_fail(const ps_tfl_model *t, int i, ps_error *err, const char *fmt, ...)
    PS_PRINTF(4, 5);

static int op_fail(const ps_tfl_model *t, int i, ps_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(err, fmt, ap);
    va_end(ap);
    const ps_tfl_op *op = &t->ops[i];
    return ps_error_prefix(err, "%s: byte offset %zu: operator %d (%s)", t->path, op->offset, i,
                           ps_tfl_op_name(op->code) ? ps_tfl_op_name(op->code) : "?");
}

/* "1x224x224x3", or "scalar" for no dimensions. */
static void shape_str(const int32_t *dims, int ndim, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%d", d ? "x" : "", (int)dims[d]);
    if (ndim == 0)
        snprintf(buf, n, "scalar");
}

/* ---- checks shared by the operators --------------------------------------- */

typedef struct prep {
    const ps_tfl_model *t;
    int i;        /* operator index */
    ps_error *err;
} prep;

static const ps_tfl_tensor *input(const prep *p, int k)
{
    int idx = p->t->ops[p->i].inputs[k];
    return idx >= 0 ? &p->t->tensors[idx] : NULL;
}

static const ps_tfl_tensor *output(const prep *p)
{
    return &p->t->tensors[p->t->ops[p->i].outputs[0]];
}

static int arity(const prep *p, int min_in, int max_in)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (op->ninputs < min_in || op->ninputs > max_in)
        return op_fail(p->t, p->i, p->err, "has %d inputs, expected %d to %d", op->ninputs,
                       min_in, max_in);
    if (op->noutputs != 1)
        return op_fail(p->t, p->i, p->err, "has %d outputs, expected 1", op->noutputs);
    for (int k = 0; k < min_in; k++)
        if (op->inputs[k] < 0)
            return op_fail(p->t, p->i, p->err, "required input %d is missing", k);
    return 0;
}

/* A quantized uint8 tensor of the given rank (0 = any). */
static int need_u8(const prep *p, const ps_tfl_tensor *x, const char *role, int rank)
{
    if (x->type != PS_TFL_UINT8)
        return op_fail(p->t, p->i, p->err, "%s tensor '%.64s' has type %s; only UINT8 is "
                       "supported", role, x->name, ps_tfl_type_name(x->type));
    if (!x->quantized)
        return op_fail(p->t, p->i, p->err, "%s tensor '%.64s' has no quantization parameters",
                       role, x->name);
    if (rank && x->ndim != rank)
        return op_fail(p->t, p->i, p->err, "%s tensor '%.64s' has %d dimensions, expected %d",
                       role, x->name, x->ndim, rank);
    return 0;
}

static int need_const(const prep *p, const ps_tfl_tensor *x, const char *role)
{
    if (!x->data)
        return op_fail(p->t, p->i, p->err, "%s tensor '%.64s' must be a constant", role, x->name);
    return 0;
}

static int same_quant(const ps_tfl_tensor *a, const ps_tfl_tensor *b)
{
    return a->scale == b->scale && a->zero_point == b->zero_point;
}

/* The output's declared shape must be `dims`. */
static int check_out_shape(const prep *p, const int32_t *dims, int ndim)
{
    const ps_tfl_tensor *o = output(p);
    int ok = o->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++)
        ok = o->dims[d] == dims[d];
    if (ok)
        return 0;
    char got[96], want[96];
    shape_str(o->dims, o->ndim, got, sizeof got);
    shape_str(dims, ndim, want, sizeof want);
    return op_fail(p->t, p->i, p->err, "output tensor '%.64s' has shape %s, but the operator "
                   "produces %s", o->name, got, want);
}

/* Output size and leading padding along one axis (ComputeOutSize and
 * ComputePadding of TFLite). */
static int out_size(const prep *p, int padding, int in, int k, int stride, int dil, int *out,
                    int *pad)
{
    long eff = (long)(k - 1) * dil + 1;
    long o = padding == PS_TFL_PAD_SAME ? ((long)in + stride - 1) / stride
                                        : ((long)in + stride - eff) / stride;
    if (o < 1)
        return op_fail(p->t, p->i, p->err, "a %ld-wide window with VALID padding does not fit "
                       "an input of %d", eff, in);
    long total = (o - 1) * stride + eff - in;
    *out = (int)o;
    *pad = total > 0 ? (int)(total / 2) : 0;
    return 0;
}

/* ---- per-operator preparation ---------------------------------------------- */

static int prep_conv(const prep *p, nn_op *n, int fp32)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    int dw = op->code == PS_TFL_OP_DEPTHWISE_CONV_2D;
    if (arity(p, 2, 3) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *w = input(p, 1), *b = op->ninputs > 2 ? input(p, 2) : NULL;
    const ps_tfl_tensor *y = output(p);
    if (need_u8(p, x, "input", 4) != 0 || need_u8(p, w, "filter", 4) != 0 ||
        need_const(p, w, "filter") != 0 || need_u8(p, y, "output", 4) != 0)
        return -1;
    ps_nn_conv *c = &n->u.conv;
    c->depthwise = dw;
    c->batches = x->dims[0];
    c->in_h = x->dims[1];
    c->in_w = x->dims[2];
    c->in_c = x->dims[3];
    c->k_h = w->dims[1];
    c->k_w = w->dims[2];
    if (dw) {
        if (w->dims[0] != 1)
            return op_fail(p->t, p->i, p->err, "depthwise filter must have shape 1xHxWxC");
        c->out_c = w->dims[3];
        c->depth_mult = op->opt.conv.depth_multiplier;
        if ((long)c->in_c * c->depth_mult != c->out_c)
            return op_fail(p->t, p->i, p->err, "filter has %d channels, but %d input channels "
                           "times depth multiplier %d is %ld", c->out_c, c->in_c, c->depth_mult,
                           (long)c->in_c * c->depth_mult);
        c->K = c->k_h * c->k_w;
    } else {
        c->out_c = w->dims[0];
        c->depth_mult = 1;
        if (w->dims[3] != c->in_c)
            return op_fail(p->t, p->i, p->err, "filter has %d input channels, the input has %d",
                           (int)w->dims[3], c->in_c);
        if ((size_t)c->k_h * c->k_w * c->in_c > MAX_ACCUMULATION)
            return op_fail(p->t, p->i, p->err, "a %dx%dx%d filter sums too many products for "
                           "32-bit accumulation", c->k_h, c->k_w, c->in_c);
        c->K = c->k_h * c->k_w * c->in_c;
    }
    if (c->K > MAX_ACCUMULATION)
        return op_fail(p->t, p->i, p->err, "a %dx%d filter sums too many products for 32-bit "
                       "accumulation", c->k_h, c->k_w);
    c->stride_h = op->opt.conv.stride_h;
    c->stride_w = op->opt.conv.stride_w;
    c->dil_h = op->opt.conv.dilation_h;
    c->dil_w = op->opt.conv.dilation_w;
    if (out_size(p, op->opt.conv.padding, c->in_h, c->k_h, c->stride_h, c->dil_h, &c->out_h,
                 &c->pad_h) != 0 ||
        out_size(p, op->opt.conv.padding, c->in_w, c->k_w, c->stride_w, c->dil_w, &c->out_w,
                 &c->pad_w) != 0)
        return -1;
    int32_t dims[4] = {c->batches, c->out_h, c->out_w, c->out_c};
    if (check_out_shape(p, dims, 4) != 0)
        return -1;
    n->bias_copy = ps_xcalloc((size_t)c->out_c, sizeof(int32_t));
    if (b) {
        if (b->type != PS_TFL_INT32 || b->count != (size_t)c->out_c || !b->data)
            return op_fail(p->t, p->i, p->err, "bias '%.64s' must be a constant INT32 vector of "
                           "%d values", b->name, c->out_c);
        memcpy(n->bias_copy, b->data, (size_t)c->out_c * sizeof(int32_t));
        if (b->quantized) {
            /* TFLite's sanity check that the bias scale is input * filter. */
            double prod = (double)x->scale * (double)w->scale;
            if (fabs(prod - (double)b->scale) / (double)y->scale > 0.02)
                return op_fail(p->t, p->i, p->err, "bias scale %g does not match input scale "
                               "times filter scale (%g)", (double)b->scale, prod);
        }
    }
    c->bias = n->bias_copy;
    c->w = w->data;
    c->in_zp = x->zero_point;
    c->w_zp = w->zero_point;
    double real = (double)x->scale * (double)w->scale / (double)y->scale;
    if (ps_q_quantize_multiplier(real, &c->rq.mult, &c->rq.shift) != 0)
        return op_fail(p->t, p->i, p->err, "output multiplier %g cannot be represented", real);
    c->rq.zp = y->zero_point;
    c->rq.fp32 = fp32;
    c->rq.fscale = x->scale * w->scale / y->scale; /* float arithmetic, as XNNPACK */
    ps_q_activation_range(op->opt.conv.activation, y->scale, y->zero_point, &c->rq.lo, &c->rq.hi);
    ps_nn_conv_pack(c);
    return 0;
}

static int prep_pool(const prep *p, nn_op *n)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (arity(p, 1, 1) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *y = output(p);
    if (need_u8(p, x, "input", 4) != 0 || need_u8(p, y, "output", 4) != 0)
        return -1;
    if (!same_quant(x, y))
        return op_fail(p->t, p->i, p->err, "input and output quantization differ");
    ps_nn_pool *q = &n->u.pool;
    q->batches = x->dims[0];
    q->in_h = x->dims[1];
    q->in_w = x->dims[2];
    q->c = x->dims[3];
    q->k_h = op->opt.pool.filter_h;
    q->k_w = op->opt.pool.filter_w;
    q->stride_h = op->opt.pool.stride_h;
    q->stride_w = op->opt.pool.stride_w;
    if ((long)q->k_h * q->k_w > (1L << 23))
        return op_fail(p->t, p->i, p->err, "a %dx%d window is too large", q->k_h, q->k_w);
    if (out_size(p, op->opt.pool.padding, q->in_h, q->k_h, q->stride_h, 1, &q->out_h,
                 &q->pad_h) != 0 ||
        out_size(p, op->opt.pool.padding, q->in_w, q->k_w, q->stride_w, 1, &q->out_w,
                 &q->pad_w) != 0)
        return -1;
    int32_t dims[4] = {q->batches, q->out_h, q->out_w, q->c};
    if (check_out_shape(p, dims, 4) != 0)
        return -1;
    ps_q_activation_range(op->opt.pool.activation, y->scale, y->zero_point, &q->lo, &q->hi);
    return 0;
}

static int same_dims(const ps_tfl_tensor *a, const ps_tfl_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d])
            return 0;
    return 1;
}

/* XNNPACK's ADD parameters (xnn_init_qu8_add_minmax_scalar_params): the two
 * input/output scale ratios as integers with 20-21 significant bits and a
 * common shift.  Returns -1 when the ratios are outside the range XNNPACK
 * accepts (the delegate would then leave the operator to TFLite). */
static int xnn_add_params(ps_nn_add *q, float sa, float sb, float so, int32_t za, int32_t zb)
{
    const float ra = sa / so, rb = sb / so;
    if (!(ra >= 0x1.0p-10f && rb >= 0x1.0p-10f && ra < 0x1.0p+8f && rb < 0x1.0p+8f))
        return -1;
    int e;
    frexpf(ra > rb ? ra : rb, &e); /* max = m * 2^e, m in [0.5, 1): floor(log2) = e - 1 */
    int shift = 20 - (e - 1);
    if (shift < 12 || shift > 30)
        return -1;
    q->xa = (int32_t)lrintf(ldexpf(ra, shift));
    q->xb = (int32_t)lrintf(ldexpf(rb, shift));
    q->xshift = shift;
    q->xbias = (int32_t)(1 << (shift - 1)) - q->xa * za - q->xb * zb;
    q->xnn = 1;
    return 0;
}

static int prep_add(const prep *p, nn_op *n, int xnnpack)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (arity(p, 2, 2) != 0)
        return -1;
    const ps_tfl_tensor *a = input(p, 0), *b = input(p, 1), *y = output(p);
    if (need_u8(p, a, "first input", 0) != 0 || need_u8(p, b, "second input", 0) != 0 ||
        need_u8(p, y, "output", 0) != 0)
        return -1;
    if (!same_dims(a, b))
        return op_fail(p->t, p->i, p->err, "inputs of different shapes (broadcasting) are not "
                       "supported");
    if (check_out_shape(p, a->dims, a->ndim) != 0)
        return -1;
    ps_nn_add *q = &n->u.add;
    q->count = a->count;
    q->in1_off = -a->zero_point;
    q->in2_off = -b->zero_point;
    q->left_shift = 20;
    const double twice_max = 2.0 * (double)(a->scale > b->scale ? a->scale : b->scale);
    const double r1 = (double)a->scale / twice_max;
    const double r2 = (double)b->scale / twice_max;
    const double ro = twice_max / ((double)(float)((1 << 20) * y->scale));
    if (!(ro < 1.0) || ps_q_quantize_multiplier(r1, &q->in1_mult, &q->in1_shift) != 0 ||
        ps_q_quantize_multiplier(r2, &q->in2_mult, &q->in2_shift) != 0 ||
        ps_q_quantize_multiplier(ro, &q->rq.mult, &q->rq.shift) != 0)
        return op_fail(p->t, p->i, p->err, "output scale %g is too small for input scales %g "
                       "and %g", (double)y->scale, (double)a->scale, (double)b->scale);
    q->rq.zp = y->zero_point;
    ps_q_activation_range(op->opt.add.activation, y->scale, y->zero_point, &q->rq.lo, &q->rq.hi);
    if (xnnpack)
        xnn_add_params(q, a->scale, b->scale, y->scale, a->zero_point, b->zero_point);
    return 0;
}

static int prep_reshape(const prep *p, nn_op *n)
{
    if (arity(p, 1, 2) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *y = output(p);
    if (x->type != y->type || x->count != y->count)
        return op_fail(p->t, p->i, p->err, "cannot reshape %zu %s values into %zu %s values",
                       x->count, ps_tfl_type_name(x->type), y->count, ps_tfl_type_name(y->type));
    if (x->type == PS_TFL_UINT8 && (!x->quantized || !y->quantized || !same_quant(x, y)))
        return op_fail(p->t, p->i, p->err, "input and output quantization differ");
    n->copy_bytes = x->nbytes;
    return 0;
}

static int prep_softmax(const prep *p, nn_op *n, int fixed_point)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (arity(p, 1, 1) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *y = output(p);
    if (need_u8(p, x, "input", 0) != 0 || need_u8(p, y, "output", 0) != 0)
        return -1;
    if (x->ndim < 1)
        return op_fail(p->t, p->i, p->err, "input must have at least one dimension");
    if (check_out_shape(p, x->dims, x->ndim) != 0)
        return -1;
    if (y->zero_point != 0 || y->scale != 1.0f / 256)
        return op_fail(p->t, p->i, p->err, "output quantization must be scale 1/256, zero "
                       "point 0");
    ps_nn_softmax *q = &n->u.softmax;
    q->depth = x->dims[x->ndim - 1];
    if (q->depth > 4096)
        return op_fail(p->t, p->i, p->err, "softmax over %d values is not supported (at most "
                       "4096)", q->depth);
    q->outer = x->count / (size_t)q->depth;
    q->fixed_point = fixed_point;
    if (ps_nn_softmax_init(q, x->scale, op->opt.softmax.beta, y->scale) != 0)
        return op_fail(p->t, p->i, p->err, "beta %g times input scale %g is too small",
                       (double)op->opt.softmax.beta, (double)x->scale);
    return 0;
}

static int prep_resize(const prep *p, nn_op *n)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (arity(p, 2, 2) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *s = input(p, 1), *y = output(p);
    if (need_u8(p, x, "input", 4) != 0 || need_u8(p, y, "output", 4) != 0)
        return -1;
    if (s->type != PS_TFL_INT32 || s->count != 2 || !s->data)
        return op_fail(p->t, p->i, p->err, "size must be a constant INT32 pair");
    if (!same_quant(x, y))
        return op_fail(p->t, p->i, p->err, "input and output quantization differ");
    int32_t hw[2];
    memcpy(hw, s->data, sizeof hw);
    if (hw[0] < 1 || hw[0] > PS_TFL_MAX_DIM || hw[1] < 1 || hw[1] > PS_TFL_MAX_DIM)
        return op_fail(p->t, p->i, p->err, "output size %dx%d is out of range", (int)hw[0],
                       (int)hw[1]);
    ps_nn_resize *q = &n->u.resize;
    q->batches = x->dims[0];
    q->in_h = x->dims[1];
    q->in_w = x->dims[2];
    q->c = x->dims[3];
    q->out_h = hw[0];
    q->out_w = hw[1];
    q->align_corners = op->opt.resize.align_corners;
    q->half_pixel_centers = op->opt.resize.half_pixel_centers;
    int32_t dims[4] = {q->batches, q->out_h, q->out_w, q->c};
    return check_out_shape(p, dims, 4);
}

static int prep_quantize(const prep *p, nn_op *n, int xnnpack)
{
    if (arity(p, 1, 1) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *y = output(p);
    if (need_u8(p, x, "input", 0) != 0 || need_u8(p, y, "output", 0) != 0)
        return -1;
    if (check_out_shape(p, x->dims, x->ndim) != 0)
        return -1;
    ps_nn_requant *q = &n->u.requant;
    q->count = x->count;
    q->in_zp = x->zero_point;
    double real = (double)x->scale / (double)y->scale;
    if (ps_q_quantize_multiplier(real, &q->rq.mult, &q->rq.shift) != 0)
        return op_fail(p->t, p->i, p->err, "rescale factor %g cannot be represented", real);
    q->rq.zp = y->zero_point;
    q->rq.lo = 0;
    q->rq.hi = 255;
    /* XNNPACK's convert (xnn_init_qu8_cvt_scalar_params): the ratio in 1/256ths. */
    const float ratio = x->scale / y->scale;
    if (xnnpack && ratio >= 0x1.0p-8f && ratio <= 0x1.0p+7f) {
        q->xnn = 1;
        q->xmult = (int32_t)lrintf(256.0f * ratio);
    }
    return 0;
}

static int prep_concat(const prep *p, nn_op *n)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (arity(p, 1, PS_NN_MAX_CONCAT) != 0)
        return -1;
    const ps_tfl_tensor *y = output(p);
    if (need_u8(p, y, "output", 0) != 0)
        return -1;
    int nd = y->ndim;
    int axis = op->opt.concat.axis < 0 ? op->opt.concat.axis + nd : op->opt.concat.axis;
    if (axis < 0 || axis >= nd)
        return op_fail(p->t, p->i, p->err, "axis %d is out of range for %d dimensions",
                       op->opt.concat.axis, nd);
    ps_nn_concat *q = &n->u.concat;
    q->n = op->ninputs;
    q->outer = 1;
    for (int d = 0; d < axis; d++)
        q->outer *= (size_t)y->dims[d];
    size_t after = 1;
    for (int d = axis + 1; d < nd; d++)
        after *= (size_t)y->dims[d];
    long total = 0;
    const float inv_out = 1.0f / y->scale;
    for (int k = 0; k < q->n; k++) {
        const ps_tfl_tensor *x = input(p, k);
        if (!x)
            return op_fail(p->t, p->i, p->err, "input %d is missing", k);
        if (need_u8(p, x, "input", nd) != 0)
            return -1;
        for (int d = 0; d < nd; d++)
            if (d != axis && x->dims[d] != y->dims[d])
                return op_fail(p->t, p->i, p->err, "input %d ('%.64s') differs from the output "
                               "in dimension %d", k, x->name, d);
        total += x->dims[axis];
        q->inner[k] = (size_t)x->dims[axis] * after;
        q->rescale[k] = !same_quant(x, y);
        q->scale[k] = x->scale * inv_out;
        q->bias[k] = (float)-x->zero_point * q->scale[k];
    }
    if (total != y->dims[axis])
        return op_fail(p->t, p->i, p->err, "inputs add up to %ld along axis %d, the output has "
                       "%d", total, axis, (int)y->dims[axis]);
    q->out_zp = y->zero_point;
    return 0;
}

static int prep_argmax(const prep *p, nn_op *n)
{
    const ps_tfl_op *op = &p->t->ops[p->i];
    if (arity(p, 2, 2) != 0)
        return -1;
    const ps_tfl_tensor *x = input(p, 0), *a = input(p, 1), *y = output(p);
    if (need_u8(p, x, "input", 0) != 0)
        return -1;
    if (x->ndim < 1)
        return op_fail(p->t, p->i, p->err, "input must have at least one dimension");
    if ((a->type != PS_TFL_INT32 && a->type != PS_TFL_INT64) || a->count != 1 || !a->data)
        return op_fail(p->t, p->i, p->err, "axis must be one constant integer");
    int64_t axis;
    if (a->type == PS_TFL_INT32) {
        int32_t v;
        memcpy(&v, a->data, 4);
        axis = v;
    } else {
        memcpy(&axis, a->data, 8);
    }
    if (axis < 0)
        axis += x->ndim;
    if (axis < 0 || axis >= x->ndim)
        return op_fail(p->t, p->i, p->err, "axis is out of range for %d dimensions", x->ndim);
    if (y->type != op->opt.argmax.output_type)
        return op_fail(p->t, p->i, p->err, "output tensor has type %s, the options say %s",
                       ps_tfl_type_name(y->type), ps_tfl_type_name(op->opt.argmax.output_type));
    int32_t dims[PS_TFL_MAX_DIMS];
    int nd = 0;
    ps_nn_argmax *q = &n->u.argmax;
    q->outer = 1;
    q->inner = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (d < axis)
            q->outer *= (size_t)x->dims[d];
        else if (d > axis)
            q->inner *= (size_t)x->dims[d];
        if (d != axis)
            dims[nd++] = x->dims[d];
    }
    q->axis = (size_t)x->dims[axis];
    q->out64 = y->type == PS_TFL_INT64;
    return check_out_shape(p, dims, nd);
}

/* The fused activation of an operator, 0 when it has none. */
static int fused_activation(const ps_tfl_op *op)
{
    switch (op->code) {
    case PS_TFL_OP_CONV_2D:
    case PS_TFL_OP_DEPTHWISE_CONV_2D: return op->opt.conv.activation;
    case PS_TFL_OP_AVERAGE_POOL_2D: return op->opt.pool.activation;
    case PS_TFL_OP_ADD: return op->opt.add.activation;
    case PS_TFL_OP_CONCATENATION: return op->opt.concat.activation;
    default: return PS_TFL_ACT_NONE;
    }
}

/* Float parameters for the Arm NN arithmetic, after the integer
 * preparation has validated the operator. */
static void prep_float(const ps_tfl_model *t, int i, nn_op *n)
{
    const ps_tfl_op *op = &t->ops[i];
    ps_nn_fop *f = ps_xcalloc(1, sizeof *f);
    n->f = f;
    for (int k = 0; k < op->ninputs && k < PS_NN_MAX_CONCAT; k++) {
        const ps_tfl_tensor *x = op->inputs[k] >= 0 ? &t->tensors[op->inputs[k]] : NULL;
        if (x && x->quantized) {
            f->in_scale[k] = x->scale;
            f->in_zp[k] = x->zero_point;
        }
    }
    for (int v = 0; v < 256; v++) {
        f->lut0[v] = (float)(v - f->in_zp[0]) * f->in_scale[0];
        f->lut1[v] = (float)(v - f->in_zp[1]) * f->in_scale[1];
    }
    const ps_tfl_tensor *y = &t->tensors[op->outputs[0]];
    f->out_scale = y->quantized ? y->scale : 1.0f;
    f->out_zp = y->quantized ? y->zero_point : 0;
    switch (fused_activation(op)) {
    case PS_TFL_ACT_RELU: f->act = 1; f->act_lo = 0.0f; f->act_hi = INFINITY; break;
    case PS_TFL_ACT_RELU6: f->act = 1; f->act_lo = 0.0f; f->act_hi = 6.0f; break;
    case PS_TFL_ACT_RELU_N1_TO_1: f->act = 1; f->act_lo = -1.0f; f->act_hi = 1.0f; break;
    default: break;
    }
    if (op->code == PS_TFL_OP_SOFTMAX)
        f->beta = op->opt.softmax.beta;
    if (op->code == PS_TFL_OP_CONV_2D || op->code == PS_TFL_OP_DEPTHWISE_CONV_2D) {
        const ps_tfl_tensor *w = &t->tensors[op->inputs[1]];
        const ps_tfl_tensor *b = op->ninputs > 2 && op->inputs[2] >= 0
                                     ? &t->tensors[op->inputs[2]] : NULL;
        /* Arm NN dequantizes the bias with its own scale. */
        float bs = b && b->quantized ? b->scale : f->in_scale[0] * w->scale;
        ps_nn_fop_conv_init(f, &n->u.conv, w->scale, bs);
    }
}

static int prepare_op_int(const ps_tfl_model *t, int i, nn_op *n, const ps_nn_options *opt,
                          ps_error *err);

static int prepare_op(const ps_tfl_model *t, int i, nn_op *n, const ps_nn_options *opt,
                      ps_error *err)
{
    int rc = prepare_op_int(t, i, n, opt, err);
    if (rc == 0 && opt->armnn)
        prep_float(t, i, n);
    return rc;
}

static int prepare_op_int(const ps_tfl_model *t, int i, nn_op *n, const ps_nn_options *opt,
                          ps_error *err)
{
    prep p = {t, i, err};
    const ps_tfl_op *op = &t->ops[i];
    n->code = op->code;
    n->tfl_index = i;
    n->out = op->outputs[0];
    n->nin = 0;
    for (int k = 0; k < op->ninputs; k++)
        n->in[n->nin++] = op->inputs[k];
    switch (op->code) {
    case PS_TFL_OP_CONV_2D:
    case PS_TFL_OP_DEPTHWISE_CONV_2D: return prep_conv(&p, n, opt->xnnpack);
    case PS_TFL_OP_AVERAGE_POOL_2D: return prep_pool(&p, n);
    case PS_TFL_OP_ADD: return prep_add(&p, n, opt->xnnpack);
    case PS_TFL_OP_RESHAPE: return prep_reshape(&p, n);
    case PS_TFL_OP_SOFTMAX: return prep_softmax(&p, n, !opt->softmax_table);
    case PS_TFL_OP_RESIZE_BILINEAR: return prep_resize(&p, n);
    case PS_TFL_OP_QUANTIZE: return prep_quantize(&p, n, opt->xnnpack);
    case PS_TFL_OP_CONCATENATION: return prep_concat(&p, n);
    case PS_TFL_OP_ARG_MAX: return prep_argmax(&p, n);
    default: return op_fail(t, i, err, "is not supported");
    }
}

/* ---- graph structure and memory plan --------------------------------------- */

typedef struct life {
    int first, last; /* operator indices; -1 = before the first operator */
    int used;
} life;

static int check_graph(const ps_tfl_model *t, life *lt, const ps_nn_options *opt, ps_error *err)
{
    if (t->ninputs != 1)
        return ps_errorf(err, "%s: the graph has %d inputs; picseek runs single-input models",
                         t->path, t->ninputs);
    for (int k = 0; k < t->ntensors; k++) {
        lt[k].first = INT32_MAX;
        lt[k].last = -2;
    }
    int in = t->inputs[0];
    if (t->tensors[in].data)
        return ps_errorf(err, "%s: graph input tensor %d is a constant", t->path, in);
    lt[in].first = -1;
    lt[in].last = -1;
    lt[in].used = 1;
    for (int i = 0; i < t->nops; i++) {
        const ps_tfl_op *op = &t->ops[i];
        for (int k = 0; k < op->ninputs; k++) {
            int x = op->inputs[k];
            if (x < 0 || t->tensors[x].data)
                continue;
            if (!lt[x].used)
                return op_fail(t, i, err, "reads tensor %d ('%.64s') before any operator "
                               "writes it", x, t->tensors[x].name);
            lt[x].last = i;
        }
        for (int k = 0; k < op->noutputs; k++) {
            int y = op->outputs[k];
            if (t->tensors[y].data)
                return op_fail(t, i, err, "writes into constant tensor %d ('%.64s')", y,
                               t->tensors[y].name);
            if (lt[y].used)
                return op_fail(t, i, err, "writes tensor %d ('%.64s'), which is already "
                               "written by an earlier operator or is the graph input", y,
                               t->tensors[y].name);
            lt[y].used = 1;
            lt[y].first = i;
            lt[y].last = i;
        }
    }
    for (int k = 0; k < t->noutputs; k++) {
        int y = t->outputs[k];
        if (!t->tensors[y].data && !lt[y].used)
            return ps_errorf(err, "%s: graph output tensor %d ('%.64s') is never written",
                             t->path, y, t->tensors[y].name);
        lt[y].last = t->nops;
    }
    for (int k = 0; k < opt->nkeep; k++) {
        int y = opt->keep[k];
        if (y < 0 || y >= t->ntensors)
            return ps_errorf(err, "%s: tensor %d to keep does not exist", t->path, y);
        if (!t->tensors[y].data && !lt[y].used)
            return ps_errorf(err, "%s: tensor %d to keep is never written", t->path, y);
        lt[y].last = t->nops;
    }
    return 0;
}

typedef struct placed {
    size_t off, size;
    int first, last;
} placed;

static int by_size_desc(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return x->first - y->first;
}

static int by_offset(const void *a, const void *b)
{
    const placed *x = *(const placed *const *)a, *y = *(const placed *const *)b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Greedy placement: largest tensors first, each at the lowest aligned
 * offset that is free for its whole lifetime. */
static int plan_memory(ps_nn_model *m, const life *lt, ps_error *err)
{
    const ps_tfl_model *t = m->tfl;
    int n = 0;
    placed *ps = ps_xcalloc((size_t)t->ntensors + 1, sizeof *ps);
    int *ids = ps_xcalloc((size_t)t->ntensors + 1, sizeof *ids);
    for (int k = 0; k < t->ntensors; k++) {
        m->offset[k] = SIZE_MAX;
        if (t->tensors[k].data || !lt[k].used)
            continue;
        ps[n].size = (t->tensors[k].nbytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
        ps[n].first = lt[k].first;
        ps[n].last = lt[k].last;
        ps[n].off = (size_t)k; /* remember the tensor until sorted */
        n++;
    }
    qsort(ps, (size_t)n, sizeof *ps, by_size_desc);
    for (int i = 0; i < n; i++) {
        ids[i] = (int)ps[i].off;
        ps[i].off = SIZE_MAX;
    }
    const placed **live = ps_xcalloc((size_t)n + 1, sizeof *live);
    size_t arena = 0;
    for (int i = 0; i < n; i++) {
        int nl = 0;
        for (int j = 0; j < i; j++)
            if (ps[j].first <= ps[i].last && ps[i].first <= ps[j].last)
                live[nl++] = &ps[j];
        qsort(live, (size_t)nl, sizeof *live, by_offset);
        size_t off = 0;
        for (int j = 0; j < nl; j++) {
            if (live[j]->off >= off + ps[i].size)
                break;
            if (live[j]->off + live[j]->size > off)
                off = live[j]->off + live[j]->size;
        }
        ps[i].off = off;
        if (off + ps[i].size > arena)
            arena = off + ps[i].size;
        m->offset[ids[i]] = off;
    }
    free(live);
    free(ps);
    free(ids);
    if (arena > MAX_ARENA_BYTES)
        return ps_errorf(err, "%s: the graph needs %zu bytes of activations, more than the "
                         "limit of %zu", t->path, arena, MAX_ARENA_BYTES);
    m->arena_bytes = arena ? arena : ARENA_ALIGN;
    return 0;
}

ps_nn_model *ps_nn_model_new(ps_tfl_model *tfl, const ps_nn_options *opt, ps_error *err)
{
    if (!tfl)
        return NULL;
    ps_nn_options defaults = {.nkeep = 0, .softmax_table = 0};
    if (!opt)
        opt = &defaults;
    ps_nn_model *m = ps_xcalloc(1, sizeof *m);
    m->tfl = tfl;
    m->ops = ps_xcalloc((size_t)tfl->nops, sizeof *m->ops);
    m->nops = tfl->nops;
    m->offset = ps_xcalloc((size_t)tfl->ntensors + 1, sizeof *m->offset);
    m->readable = ps_xcalloc((size_t)tfl->ntensors + 1, 1);
    life *lt = ps_xcalloc((size_t)tfl->ntensors + 1, sizeof *lt);
    int rc = check_graph(tfl, lt, opt, err);
    for (int i = 0; rc == 0 && i < tfl->nops; i++)
        rc = prepare_op(tfl, i, &m->ops[i], opt, err);
    if (rc == 0)
        rc = plan_memory(m, lt, err);
    if (rc == 0) {
        for (int k = 0; k < tfl->ntensors; k++)
            m->readable[k] = tfl->tensors[k].data != NULL || lt[k].last == tfl->nops;
        for (int i = 0; i < m->nops; i++) {
            const nn_op *n = &m->ops[i];
            if (n->code == PS_TFL_OP_CONV_2D) {
                size_t s = ps_nn_conv_scratch(&n->u.conv);
                if (s > m->scratch_bytes)
                    m->scratch_bytes = s;
            }
        }
    }
    free(lt);
    if (rc != 0) {
        ps_nn_model_free(m);
        return NULL;
    }
    return m;
}

ps_nn_model *ps_nn_model_load(const char *path, const ps_nn_options *opt, ps_error *err)
{
    ps_tfl_model *t = ps_tfl_read(path, err);
    return t ? ps_nn_model_new(t, opt, err) : NULL;
}

void ps_nn_model_free(ps_nn_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nops; i++) {
        nn_op *n = &m->ops[i];
        if (n->code == PS_TFL_OP_CONV_2D || n->code == PS_TFL_OP_DEPTHWISE_CONV_2D)
            ps_nn_conv_unpack(&n->u.conv);
        free(n->bias_copy);
        if (n->f) {
            free(n->f->w);
            free(n->f->bias);
            free(n->f);
        }
    }
    free(m->ops);
    free(m->offset);
    free(m->readable);
    ps_tfl_free(m->tfl);
    free(m);
}

const ps_tfl_model *ps_nn_model_tfl(const ps_nn_model *m)
{
    return m->tfl;
}

int ps_nn_input(const ps_nn_model *m, int i)
{
    return i >= 0 && i < m->tfl->ninputs ? m->tfl->inputs[i] : -1;
}

int ps_nn_output(const ps_nn_model *m, int i)
{
    return i >= 0 && i < m->tfl->noutputs ? m->tfl->outputs[i] : -1;
}

size_t ps_nn_arena_bytes(const ps_nn_model *m)
{
    return m->arena_bytes;
}

/* ---- workspaces -------------------------------------------------------------- */

static void *alloc_aligned(size_t n)
{
    void *p = NULL;
    n = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (posix_memalign(&p, ARENA_ALIGN, n ? n : ARENA_ALIGN) != 0 || !p) {
        fprintf(stderr, "picseek: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

ps_nn_workspace *ps_nn_workspace_new(const ps_nn_model *m, int threads)
{
    ps_nn_workspace *ws = ps_xcalloc(1, sizeof *ws);
    ws->m = m;
    ws->threads = ps_nn_threads_new(threads > 0 ? threads : ps_nn_default_threads());
    ws->nthreads = ps_nn_threads_count(ws->threads);
    ws->arena = alloc_aligned(m->arena_bytes);
    /* Deterministic contents, so a kernel bug reading unwritten memory
     * would at least be repeatable. */
    memset(ws->arena, 0, m->arena_bytes);
    ws->scratch = ps_xcalloc((size_t)ws->nthreads, sizeof *ws->scratch);
    for (int i = 0; i < ws->nthreads; i++)
        ws->scratch[i] = alloc_aligned(m->scratch_bytes);
    return ws;
}

void ps_nn_workspace_free(ps_nn_workspace *ws)
{
    if (!ws)
        return;
    ps_nn_threads_free(ws->threads);
    for (int i = 0; i < ws->nthreads; i++)
        free(ws->scratch[i]);
    free(ws->scratch);
    free(ws->arena);
    free(ws);
}

int ps_nn_workspace_threads(const ps_nn_workspace *ws)
{
    return ws->nthreads;
}

void ps_nn_workspace_set_reference(ps_nn_workspace *ws, int on)
{
    ws->reference = on != 0;
}

/* ---- running ------------------------------------------------------------------ */

static unsigned char *tensor_ptr(const ps_nn_model *m, const ps_nn_workspace *ws, int t)
{
    const ps_tfl_tensor *x = &m->tfl->tensors[t];
    if (x->data)
        return (unsigned char *)x->data;
    return ws->arena + m->offset[t];
}

const void *ps_nn_tensor_data(const ps_nn_model *m, const ps_nn_workspace *ws, int t,
                              size_t *nbytes)
{
    if (t < 0 || t >= m->tfl->ntensors || !m->readable[t] || ws->m != m)
        return NULL;
    if (nbytes)
        *nbytes = m->tfl->tensors[t].nbytes;
    return tensor_ptr(m, ws, t);
}

/* One operator split into `ntasks` slices of `total` work units. */
typedef struct job {
    const nn_op *op;
    const ps_nn_workspace *ws;
    const uint8_t *in0, *in1;
    uint8_t *out;
    size_t total;
    int ntasks;
    int split_n; /* conv: slices over output channel blocks instead of pixels */
} job;

static void slice(const job *j, int task, size_t *b, size_t *e)
{
    *b = j->total * (size_t)task / (size_t)j->ntasks;
    *e = j->total * (size_t)(task + 1) / (size_t)j->ntasks;
}

/* The Arm NN arithmetic's share of task_fn. */
static void float_task(const job *j, size_t b, size_t e, int ref)
{
    const nn_op *n = j->op;
    const ps_nn_fop *f = n->f;
    switch (n->code) {
    case PS_TFL_OP_CONV_2D:
        (ref ? ps_nn_fconv_ref : ps_nn_fconv)(&n->u.conv, f, j->in0, j->out, (int)b, (int)e);
        break;
    case PS_TFL_OP_DEPTHWISE_CONV_2D:
        (ref ? ps_nn_fdw_ref : ps_nn_fdw)(&n->u.conv, f, j->in0, j->out, (int)b, (int)e);
        break;
    case PS_TFL_OP_ADD:
        ps_nn_fadd(f, j->in0, j->in1, j->out, b, e);
        break;
    case PS_TFL_OP_AVERAGE_POOL_2D:
        ps_nn_fpool(&n->u.pool, f, j->in0, j->out, (int)b, (int)e);
        break;
    case PS_TFL_OP_RESIZE_BILINEAR:
        ps_nn_fresize(&n->u.resize, f, j->in0, j->out, (int)b, (int)e);
        break;
    case PS_TFL_OP_QUANTIZE:
        ps_nn_frequant(f, j->in0, j->out, b, e);
        break;
    case PS_TFL_OP_ARG_MAX:
        /* Dequantizing is monotonic: the integer argmax is Arm NN's. */
        ps_nn_argmax_ref(&n->u.argmax, j->in0, j->out, b, e);
        break;
    default:
        break;
    }
}

static void task_fn(void *arg, int task, int thread)
{
    const job *j = arg;
    const nn_op *n = j->op;
    size_t b, e;
    slice(j, task, &b, &e);
    if (b >= e)
        return;
    int ref = j->ws->reference;
    if (n->f) {
        float_task(j, b, e, ref);
        return;
    }
    switch (n->code) {
    case PS_TFL_OP_CONV_2D: {
        const ps_nn_conv *c = &n->u.conv;
        if (ref) {
            ps_nn_conv_ref(c, j->in0, j->out, (int)b, (int)e);
        } else if (j->split_n) {
            int n0 = (int)b * 16, n1 = (int)e * 16;
            ps_nn_conv_fast(c, j->in0, j->out, 0, c->batches * c->out_h * c->out_w, n0,
                            n1 < c->out_c ? n1 : c->out_c, j->ws->scratch[thread]);
        } else {
            ps_nn_conv_fast(c, j->in0, j->out, (int)b, (int)e, 0, c->out_c,
                            j->ws->scratch[thread]);
        }
        break;
    }
    case PS_TFL_OP_DEPTHWISE_CONV_2D:
        if (ref || n->u.conv.depth_mult != 1)
            ps_nn_dw_ref(&n->u.conv, j->in0, j->out, (int)b, (int)e);
        else
            ps_nn_dw_fast(&n->u.conv, j->in0, j->out, (int)b, (int)e);
        break;
    case PS_TFL_OP_ADD:
        (ref ? ps_nn_add_ref : ps_nn_add_fast)(&n->u.add, j->in0, j->in1, j->out, b, e);
        break;
    case PS_TFL_OP_AVERAGE_POOL_2D:
        ps_nn_pool_ref(&n->u.pool, j->in0, j->out, (int)b, (int)e);
        break;
    case PS_TFL_OP_RESIZE_BILINEAR:
        (ref ? ps_nn_resize_ref : ps_nn_resize_fast)(&n->u.resize, j->in0, j->out, (int)b,
                                                      (int)e);
        break;
    case PS_TFL_OP_QUANTIZE:
        (ref ? ps_nn_requant_ref : ps_nn_requant_fast)(&n->u.requant, j->in0, j->out, b, e);
        break;
    case PS_TFL_OP_ARG_MAX:
        (ref ? ps_nn_argmax_ref : ps_nn_argmax_fast)(&n->u.argmax, j->in0, j->out, b, e);
        break;
    default:
        break;
    }
}

/* Split `total` units into tasks when the operator is big enough
 * (`work` is a rough count of inner-loop steps) to pay for waking threads. */
static void run_split(ps_nn_workspace *ws, job *j, size_t total, double work)
{
    j->total = total;
    int nt = ws->nthreads;
    if (work < 20000 || nt == 1 || total < 2) {
        j->ntasks = 1;
    } else {
        /* Several tasks per thread: if the OS takes a core away mid-run
         * (the machine is shared), the others finish the unclaimed tasks
         * and only the one task in hand is late. */
        size_t want = (size_t)nt * (work > 2e5 ? 8 : 2);
        j->ntasks = (int)(want < total ? want : total);
    }
    ps_nn_threads_run(ws->threads, j->ntasks, task_fn, j);
}

static void run_op(const ps_nn_model *m, ps_nn_workspace *ws, const nn_op *n)
{
    job j = {.op = n, .ws = ws};
    j.in0 = tensor_ptr(m, ws, n->in[0]);
    j.in1 = n->nin > 1 && n->in[1] >= 0 ? tensor_ptr(m, ws, n->in[1]) : NULL;
    j.out = tensor_ptr(m, ws, n->out);
    switch (n->code) {
    case PS_TFL_OP_CONV_2D: {
        const ps_nn_conv *c = &n->u.conv;
        size_t pixels = (size_t)c->batches * c->out_h * c->out_w;
        double work = (double)pixels * c->out_c * c->K;
        if (ws->reference || n->f) {
            run_split(ws, &j, (size_t)c->batches * c->out_h, work);
        } else if (pixels >= (size_t)16 * ws->nthreads) {
            run_split(ws, &j, pixels, work);
        } else {
            j.split_n = 1;
            run_split(ws, &j, (size_t)(c->out_c + 15) / 16, work);
        }
        break;
    }
    case PS_TFL_OP_DEPTHWISE_CONV_2D: {
        const ps_nn_conv *c = &n->u.conv;
        double work = (double)c->batches * c->out_h * c->out_w * c->out_c * c->K;
        run_split(ws, &j, (size_t)c->batches * c->out_h, work);
        break;
    }
    case PS_TFL_OP_ADD:
        run_split(ws, &j, n->u.add.count, (double)n->u.add.count * 4);
        break;
    case PS_TFL_OP_AVERAGE_POOL_2D: {
        const ps_nn_pool *q = &n->u.pool;
        double work = (double)q->batches * q->out_h * q->out_w * q->c * q->k_h * q->k_w;
        run_split(ws, &j, (size_t)q->batches * q->out_h, work);
        break;
    }
    case PS_TFL_OP_RESIZE_BILINEAR: {
        const ps_nn_resize *q = &n->u.resize;
        double work = (double)q->batches * q->out_h * q->out_w * q->c * 4;
        run_split(ws, &j, (size_t)q->batches * q->out_h, work);
        break;
    }
    case PS_TFL_OP_QUANTIZE:
        run_split(ws, &j, n->u.requant.count, (double)n->u.requant.count * 2);
        break;
    case PS_TFL_OP_ARG_MAX: {
        const ps_nn_argmax *q = &n->u.argmax;
        run_split(ws, &j, q->outer * q->inner, (double)q->outer * q->inner * q->axis);
        break;
    }
    case PS_TFL_OP_RESHAPE:
        memmove(j.out, j.in0, n->copy_bytes);
        break;
    case PS_TFL_OP_SOFTMAX:
        if (n->f)
            ps_nn_fsoftmax(&n->u.softmax, n->f, j.in0, j.out);
        else
            ps_nn_softmax_ref(&n->u.softmax, j.in0, j.out);
        break;
    case PS_TFL_OP_CONCATENATION: {
        const uint8_t *ins[PS_NN_MAX_CONCAT];
        for (int k = 0; k < n->u.concat.n; k++)
            ins[k] = tensor_ptr(m, ws, n->in[k]);
        if (n->f)
            ps_nn_fconcat(&n->u.concat, n->f, ins, j.out);
        else
            ps_nn_concat_ref(&n->u.concat, ins, j.out);
        break;
    }
    default:
        break;
    }
}

int ps_nn_run(const ps_nn_model *m, ps_nn_workspace *ws, const void *input, size_t len,
              ps_error *err)
{
    if (ws->m != m)
        return ps_errorf(err, "%s: workspace belongs to another model", m->tfl->path);
    int in = m->tfl->inputs[0];
    const ps_tfl_tensor *x = &m->tfl->tensors[in];
    if (len != x->nbytes) {
        char shape[96];
        shape_str(x->dims, x->ndim, shape, sizeof shape);
        return ps_errorf(err, "%s: input is %zu bytes, the model's input tensor '%.64s' (%s %s) "
                         "needs %zu", m->tfl->path, len, x->name, shape,
                         ps_tfl_type_name(x->type), x->nbytes);
    }
    memcpy(tensor_ptr(m, ws, in), input, len);
    for (int i = 0; i < m->nops; i++)
        run_op(m, ws, &m->ops[i]);
    return 0;
}
