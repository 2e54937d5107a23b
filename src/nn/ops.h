/*
 * ops.h - the uint8 kernels behind the interpreter, with their prepared
 * parameters.  Internal to the nn layer (and its tests).
 *
 * Every kernel exists in a plain C "reference" form (ops_ref.c) that follows
 * TensorFlow Lite's reference kernels literally, and the hot ones also in an
 * AVX2 form (ops_avx2.c) that must give identical bytes; tests compare the
 * two on random shapes.  Kernels compute a slice [begin, end) of their work
 * so that the interpreter can split an operator across threads; the unit of
 * the slice is given with each function.
 *
 * Parameters are filled once when a model is prepared (interp.c) and are
 * read-only afterwards.  Tensors are NHWC, batch first.
 */
#ifndef PS_NN_OPS_H
#define PS_NN_OPS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/qmath.h"

/* Requantization of an int32 accumulator to uint8:
 * clamp(zp + acc * mult * 2^(shift-31), lo, hi) in TFLite's fixed point, or,
 * when fp32 is set, clamp(zp + rint((float)acc * fscale)) as XNNPACK does. */
typedef struct ps_nn_rq {
    int32_t mult;
    int shift;
    int32_t zp;
    int32_t lo, hi;
    int fp32;
    float fscale;
} ps_nn_rq;

/* Apply rq to one accumulator.  Clamping before adding the zero point keeps
 * every intermediate in range (the same order the SIMD code uses). */
static inline uint8_t ps_nn_rq_apply(const ps_nn_rq *rq, int32_t acc)
{
    if (rq->fp32) {
        /* Clamp in float, then round to nearest even (the default mode). */
        float f = (float)acc * rq->fscale;
        float lo = (float)(rq->lo - rq->zp), hi = (float)(rq->hi - rq->zp);
        f = f < lo ? lo : f > hi ? hi : f;
        return (uint8_t)((int32_t)nearbyintf(f) + rq->zp);
    }
    int32_t v = ps_q_mul(acc, rq->mult, rq->shift);
    return (uint8_t)(ps_q_clamp(v, rq->lo - rq->zp, rq->hi - rq->zp) + rq->zp);
}

/* CONV_2D and DEPTHWISE_CONV_2D. */
typedef struct ps_nn_conv {
    int depthwise;
    int batches;
    int in_h, in_w, in_c;
    int out_h, out_w, out_c;
    int k_h, k_w;
    int stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int depth_mult;      /* depthwise: out_c = in_c * depth_mult */
    int32_t in_zp, w_zp;
    const uint8_t *w;    /* conv [out_c][k_h][k_w][in_c]; depthwise [k_h][k_w][out_c] */
    const int32_t *bias; /* out_c values, zeros when the model has none */
    ps_nn_rq rq;
    /* Packed forms for the AVX2 kernels (ps_nn_conv_pack). */
    int K;               /* conv: k_h*k_w*in_c; depthwise: k_h*k_w */
    int Kp;              /* conv: K rounded up to even */
    int Np;              /* conv: out_c rounded up to 16 */
    int pointwise;       /* conv: 1x1, stride 1, no padding: rows are input pixels */
    int16_t *wp;         /* conv: [Np/16][Kp/2][16 channels][2]; depthwise: unused */
    int32_t *wdw;        /* depthwise (depth_mult 1): [K][out_c] of w - w_zp */
    int16_t *wdw16;      /* depthwise (depth_mult 1, K <= 64): w - w_zp for tap pairs,
                            [pair][channel block of 16][lo 16, hi 16] (see ops_avx2.c) */
    int32_t *bias_eff;   /* conv: bias - in_zp * sum_k (w - w_zp), Np values */
} ps_nn_conv;

/* ADD of two same-shape tensors (TFLite's left_shift 20 rescale). */
typedef struct ps_nn_add {
    size_t count;
    int32_t in1_off, in2_off; /* minus the zero points */
    int left_shift;
    int32_t in1_mult, in2_mult;
    int in1_shift, in2_shift;
    ps_nn_rq rq;              /* output multiplier, zero point, clamp */
    /* XNNPACK's form: out = (bias + a * xa + b * xb) >> xshift, + zero point. */
    int xnn;
    int32_t xa, xb, xbias;
    int xshift;
} ps_nn_add;

/* AVERAGE_POOL_2D. */
typedef struct ps_nn_pool {
    int batches, in_h, in_w, c, out_h, out_w;
    int k_h, k_w, stride_h, stride_w, pad_h, pad_w;
    int32_t lo, hi;
} ps_nn_pool;

/* SOFTMAX over the last dimension. */
typedef struct ps_nn_softmax {
    size_t outer;
    int depth;
    int fixed_point;          /* 1: gemmlowp fixed-point path, 0: float table */
    int32_t in_mult;          /* fixed point: beta * scale as Q5.26 multiplier */
    int in_left_shift;
    int32_t diff_min;
    float out_scale;          /* float table path */
    float table[256];         /* exp(-beta * scale * d) for d = 255 - index */
} ps_nn_softmax;

/* RESIZE_BILINEAR of uint8 values (no rescale). */
typedef struct ps_nn_resize {
    int batches, in_h, in_w, c, out_h, out_w;
    int align_corners, half_pixel_centers;
} ps_nn_resize;

/* QUANTIZE uint8 -> uint8 (requantize). */
typedef struct ps_nn_requant {
    size_t count;
    int32_t in_zp;
    ps_nn_rq rq;
    /* XNNPACK's form: ((x - in_zp) * xmult + 128) >> 8, + zero point. */
    int xnn;
    int32_t xmult;
} ps_nn_requant;

/* CONCATENATION of uint8 tensors along one axis. */
#define PS_NN_MAX_CONCAT 16
typedef struct ps_nn_concat {
    int n;
    size_t outer;                 /* product of dims before the axis */
    size_t inner[PS_NN_MAX_CONCAT]; /* dims[axis] * product after, per input */
    int rescale[PS_NN_MAX_CONCAT];
    float scale[PS_NN_MAX_CONCAT], bias[PS_NN_MAX_CONCAT];
    int32_t out_zp;
} ps_nn_concat;

/* ARG_MAX of uint8 values over one axis. */
typedef struct ps_nn_argmax {
    size_t outer, axis, inner;
    int out64;                    /* int64 output, else int32 */
} ps_nn_argmax;

/* ---- Arm NN CpuRef's arithmetic (ops_armnn.c) ----------------------------
 * The mode that reproduces Arm NN 20.08's reference backend, which computed
 * the golden outputs: every operator dequantizes its inputs to float
 * ((float)(q - zero_point) * scale), computes in float32 in Arm NN's loop
 * order, and quantizes its result (clamp(round(v / scale) + zero_point),
 * round half away from zero).  A fused activation is a separate float
 * operator after that, as Arm NN's TFLite parser makes it: dequantize,
 * clamp, quantize again.  Parameters are per operator, next to the integer
 * ones (which still carry the shapes). */
typedef struct ps_nn_fop {
    float lut0[256], lut1[256]; /* dequantized values of inputs 0 and 1 */
    float in_scale[PS_NN_MAX_CONCAT];
    int32_t in_zp[PS_NN_MAX_CONCAT];
    float out_scale;
    int32_t out_zp;
    int act;                    /* 1: clamp to [act_lo, act_hi] after quantizing */
    float act_lo, act_hi;
    float *w;                   /* conv: [k_h*k_w*in_c in Arm NN's order][ocp], padded
                                   with zeros; depthwise: [k_h*k_w][out_c] (owned) */
    float *bias;                /* out_c values (owned) */
    int ocp;                    /* conv: out_c rounded up to 16 */
    float beta;                 /* softmax */
} ps_nn_fop;

/* Quantize one float as Arm NN does (armnn::Quantize<uint8_t>). */
static inline uint8_t ps_nn_fquant(float v, float scale, int32_t zp)
{
    float q = roundf(v / scale) + (float)zp;
    q = q > 0.0f ? q : 0.0f;
    q = q < 255.0f ? q : 255.0f;
    return (uint8_t)q;
}

/* The output byte of an operator: quantize, then the fused activation. */
static inline uint8_t ps_nn_fout(const ps_nn_fop *f, float v)
{
    uint8_t q = ps_nn_fquant(v, f->out_scale, f->out_zp);
    if (!f->act)
        return q;
    float d = (float)((int32_t)q - f->out_zp) * f->out_scale;
    d = d > f->act_lo ? d : f->act_lo; /* std::max(lo, d), then std::min(hi, .) */
    d = d < f->act_hi ? d : f->act_hi;
    return ps_nn_fquant(d, f->out_scale, f->out_zp);
}

/* Fill the weights and bias of a prepared conv/depthwise (c) from its
 * tensors' scales; the caller owns f->w and f->bias. */
void ps_nn_fop_conv_init(ps_nn_fop *f, const ps_nn_conv *c, float w_scale, float bias_scale);

/* Slices as the integer kernels: conv/dw/pool/resize over output rows,
 * add/requant over elements. "_ref" kernels are the literal scalar loops;
 * ps_nn_fconv/ps_nn_fdw are the AVX2 forms, which must give identical bytes
 * (each output's sum is formed in the same order, only several outputs at
 * once). */
void ps_nn_fconv_ref(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                     int r0, int r1);
void ps_nn_fdw_ref(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                   int r0, int r1);
void ps_nn_fconv(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                 int r0, int r1);
void ps_nn_fdw(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out, int r0,
               int r1);
void ps_nn_fadd(const ps_nn_fop *f, const uint8_t *a, const uint8_t *b, uint8_t *out, size_t i0,
                size_t i1);
void ps_nn_fpool(const ps_nn_pool *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                 int r0, int r1);
void ps_nn_fsoftmax(const ps_nn_softmax *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out);
void ps_nn_fresize(const ps_nn_resize *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                   int r0, int r1);
void ps_nn_frequant(const ps_nn_fop *f, const uint8_t *in, uint8_t *out, size_t i0, size_t i1);
void ps_nn_fconcat(const ps_nn_concat *p, const ps_nn_fop *f, const uint8_t *const *in,
                   uint8_t *out);

/* ---- reference kernels (ops_ref.c) ---------------------------------------
 * conv, depthwise, pool, resize: slice over output rows (batch * out_h).
 * add, requant: slice over elements.  argmax: slice over outer * inner. */
void ps_nn_conv_ref(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int r0, int r1);
void ps_nn_dw_ref(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int r0, int r1);
void ps_nn_add_ref(const ps_nn_add *p, const uint8_t *a, const uint8_t *b, uint8_t *out,
                   size_t i0, size_t i1);
void ps_nn_pool_ref(const ps_nn_pool *p, const uint8_t *in, uint8_t *out, int r0, int r1);
void ps_nn_softmax_ref(const ps_nn_softmax *p, const uint8_t *in, uint8_t *out);
void ps_nn_resize_ref(const ps_nn_resize *p, const uint8_t *in, uint8_t *out, int r0, int r1);
void ps_nn_requant_ref(const ps_nn_requant *p, const uint8_t *in, uint8_t *out, size_t i0,
                       size_t i1);
void ps_nn_concat_ref(const ps_nn_concat *p, const uint8_t *const *in, uint8_t *out);
void ps_nn_argmax_ref(const ps_nn_argmax *p, const uint8_t *in, void *out, size_t i0, size_t i1);

/* Softmax parameter setup from the input scale and beta (both paths).
 * Returns -1 if beta * scale is too small for the fixed-point form. */
int ps_nn_softmax_init(ps_nn_softmax *p, float in_scale, float beta, float out_scale);

/* ---- AVX2 kernels (ops_avx2.c) -------------------------------------------
 * Pack a prepared conv/depthwise for the AVX2 kernels (allocates wp, wdw,
 * bias_eff; ps_nn_conv_unpack frees them). */
void ps_nn_conv_pack(ps_nn_conv *p);
void ps_nn_conv_unpack(ps_nn_conv *p);

/* Scratch bytes one thread needs for ps_nn_conv_fast. */
size_t ps_nn_conv_scratch(const ps_nn_conv *p);

/* Convolution as a GEMM: output pixels [m0, m1) (over batch*out_h*out_w)
 * times output channels [n0, n1) (n0 a multiple of 16). */
void ps_nn_conv_fast(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int m0, int m1,
                     int n0, int n1, void *scratch);
/* Depthwise with depth_mult 1: output rows [r0, r1). */
void ps_nn_dw_fast(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int r0, int r1);
void ps_nn_add_fast(const ps_nn_add *p, const uint8_t *a, const uint8_t *b, uint8_t *out,
                    size_t i0, size_t i1);
void ps_nn_requant_fast(const ps_nn_requant *p, const uint8_t *in, uint8_t *out, size_t i0,
                        size_t i1);
void ps_nn_resize_fast(const ps_nn_resize *p, const uint8_t *in, uint8_t *out, int r0, int r1);
void ps_nn_argmax_fast(const ps_nn_argmax *p, const uint8_t *in, void *out, size_t i0, size_t i1);

#endif
