/*
 * ops_ref.c - reference uint8 kernels: direct loops that follow TensorFlow
 * Lite's reference kernels (tensorflow/lite/kernels/internal/reference)
 * operation for operation.  They define the expected bytes; the AVX2
 * kernels are tested against them.
 */
#include <math.h>
#include <string.h>

#include "nn/ops.h"

void ps_nn_conv_ref(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    const size_t filter = (size_t)p->k_h * p->k_w * p->in_c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->out_c;
        int iy0 = oy * p->stride_h - p->pad_h;
        for (int ox = 0; ox < p->out_w; ox++) {
            int ix0 = ox * p->stride_w - p->pad_w;
            for (int oc = 0; oc < p->out_c; oc++) {
                const uint8_t *w = p->w + (size_t)oc * filter;
                int32_t acc = 0;
                for (int ky = 0; ky < p->k_h; ky++) {
                    int iy = iy0 + p->dil_h * ky;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (int kx = 0; kx < p->k_w; kx++) {
                        int ix = ix0 + p->dil_w * kx;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        const uint8_t *ip = inb + ((size_t)iy * p->in_w + ix) * p->in_c;
                        const uint8_t *wp = w + ((size_t)ky * p->k_w + kx) * p->in_c;
                        for (int ic = 0; ic < p->in_c; ic++)
                            acc += ((int32_t)wp[ic] - p->w_zp) * ((int32_t)ip[ic] - p->in_zp);
                    }
                }
                /* The bias may push the sum past int32; wrap as TFLite does. */
                acc = (int32_t)((uint32_t)acc + (uint32_t)p->bias[oc]);
                o[(size_t)ox * p->out_c + oc] = ps_nn_rq_apply(&p->rq, acc);
            }
        }
    }
}

void ps_nn_dw_ref(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->out_c;
        int iy0 = oy * p->stride_h - p->pad_h;
        for (int ox = 0; ox < p->out_w; ox++) {
            int ix0 = ox * p->stride_w - p->pad_w;
            for (int ic = 0; ic < p->in_c; ic++) {
                for (int m = 0; m < p->depth_mult; m++) {
                    int oc = ic * p->depth_mult + m;
                    int32_t acc = 0;
                    for (int ky = 0; ky < p->k_h; ky++) {
                        int iy = iy0 + p->dil_h * ky;
                        if (iy < 0 || iy >= p->in_h)
                            continue;
                        for (int kx = 0; kx < p->k_w; kx++) {
                            int ix = ix0 + p->dil_w * kx;
                            if (ix < 0 || ix >= p->in_w)
                                continue;
                            int32_t iv = inb[((size_t)iy * p->in_w + ix) * p->in_c + ic];
                            int32_t wv = p->w[((size_t)ky * p->k_w + kx) * p->out_c + oc];
                            acc += (wv - p->w_zp) * (iv - p->in_zp);
                        }
                    }
                    acc = (int32_t)((uint32_t)acc + (uint32_t)p->bias[oc]);
                    o[(size_t)ox * p->out_c + oc] = ps_nn_rq_apply(&p->rq, acc);
                }
            }
        }
    }
}

/* One element of ADD: both inputs scaled to a common 2^20-scaled domain,
 * summed, and rescaled to the output. */
static inline uint8_t add_one(const ps_nn_add *p, int32_t a, int32_t b)
{
    int32_t x1 = ps_q_shl(a + p->in1_off, p->left_shift);
    int32_t x2 = ps_q_shl(b + p->in2_off, p->left_shift);
    int32_t s1 = ps_q_mul(x1, p->in1_mult, p->in1_shift);
    int32_t s2 = ps_q_mul(x2, p->in2_mult, p->in2_shift);
    return ps_nn_rq_apply(&p->rq, s1 + s2);
}

void ps_nn_add_ref(const ps_nn_add *p, const uint8_t *a, const uint8_t *b, uint8_t *out,
                   size_t i0, size_t i1)
{
    if (p->xnn) {
        for (size_t i = i0; i < i1; i++) {
            /* The sum stays within int32: |xa|, |xb| < 2^21 (see interp.c). */
            int32_t acc = p->xbias + (int32_t)a[i] * p->xa + (int32_t)b[i] * p->xb;
            int32_t v = (acc >> p->xshift) + p->rq.zp; /* arithmetic shift: floor */
            out[i] = (uint8_t)ps_q_clamp(v, p->rq.lo, p->rq.hi);
        }
        return;
    }
    for (size_t i = i0; i < i1; i++)
        out[i] = add_one(p, a[i], b[i]);
}

void ps_nn_pool_ref(const ps_nn_pool *p, const uint8_t *in, uint8_t *out, int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->c;
        int iy0 = oy * p->stride_h - p->pad_h;
        int fy0 = iy0 < 0 ? -iy0 : 0;
        int fy1 = p->in_h - iy0 < p->k_h ? p->in_h - iy0 : p->k_h;
        for (int ox = 0; ox < p->out_w; ox++) {
            int ix0 = ox * p->stride_w - p->pad_w;
            int fx0 = ix0 < 0 ? -ix0 : 0;
            int fx1 = p->in_w - ix0 < p->k_w ? p->in_w - ix0 : p->k_w;
            for (int c = 0; c < p->c; c++) {
                int32_t acc = 0, count = 0;
                for (int fy = fy0; fy < fy1; fy++)
                    for (int fx = fx0; fx < fx1; fx++) {
                        acc += inb[((size_t)(iy0 + fy) * p->in_w + (ix0 + fx)) * p->c + c];
                        count++;
                    }
                int32_t v = count ? (acc + count / 2) / count : 0;
                o[(size_t)ox * p->c + c] = (uint8_t)ps_q_clamp(v, p->lo, p->hi);
            }
        }
    }
}

int ps_nn_softmax_init(ps_nn_softmax *p, float in_scale, float beta, float out_scale)
{
    /* Fixed point (PreprocessSoftmaxScaling with 5 integer bits). */
    const int int_bits = 5;
    double real = (double)beta * (double)in_scale * (double)(1 << (31 - int_bits));
    if (real > (double)((1LL << 31) - 1))
        real = (double)((1LL << 31) - 1);
    if (!(real > 1.0) || ps_q_quantize_multiplier(real, &p->in_mult, &p->in_left_shift) != 0 ||
        p->in_left_shift < 0)
        return -1;
    /* CalculateInputRadius: the largest |diff| whose rescaled value fits. */
    double radius = 1.0 * ((1 << int_bits) - 1) * (double)(1LL << (31 - int_bits)) /
                    (double)(1LL << p->in_left_shift);
    p->diff_min = -(int32_t)floor(radius);
    /* Float table (PopulateSoftmaxLookupTable). */
    const float scale = -in_scale * beta;
    for (int v = 0; v <= 255; v++)
        p->table[255 - v] = expf(scale * (float)v);
    p->out_scale = out_scale;
    return 0;
}

/* x / 2^e rounded half away from zero, for exponents past 31 too. */
static int32_t rdivpot_wide(int32_t x, int e)
{
    if (e <= 31)
        return ps_q_rdivpot(x, e);
    return 0; /* |x| < 2^31 <= 2^(e-1): rounds to zero */
}

static void softmax_fixed(const ps_nn_softmax *p, const uint8_t *in, uint8_t *out)
{
    int32_t max = 0;
    for (int c = 0; c < p->depth; c++)
        max = in[c] > max ? in[c] : max;
    int32_t sum = 0; /* Q12.19 */
    for (int c = 0; c < p->depth; c++) {
        int32_t diff = (int32_t)in[c] - max;
        if (diff >= p->diff_min) {
            int32_t scaled = ps_q_srdhm(ps_q_shl(diff, p->in_left_shift), p->in_mult);
            sum += ps_q_rdivpot(ps_q_exp_on_negative_values_q5(scaled), 12);
        }
    }
    /* Reciprocal of the sum, normalised to [1, 2) (GetReciprocal). */
    int headroom_plus_one = __builtin_clz((uint32_t)sum);
    int bits_over_unit = 12 - headroom_plus_one;
    int32_t shifted_minus_one = (int32_t)(((uint32_t)sum << headroom_plus_one) - (1u << 31));
    int32_t shifted_scale = ps_q_one_over_one_plus_x(shifted_minus_one);
    for (int c = 0; c < p->depth; c++) {
        int32_t diff = (int32_t)in[c] - max;
        if (diff >= p->diff_min) {
            int32_t scaled = ps_q_srdhm(ps_q_shl(diff, p->in_left_shift), p->in_mult);
            int32_t e = ps_q_exp_on_negative_values_q5(scaled);
            int32_t v = rdivpot_wide(ps_q_srdhm(shifted_scale, e), bits_over_unit + 31 - 8);
            out[c] = (uint8_t)ps_q_clamp(v, 0, 255);
        } else {
            out[c] = 0;
        }
    }
}

static void softmax_table(const ps_nn_softmax *p, const uint8_t *in, uint8_t *out)
{
    int max = 0;
    for (int c = 0; c < p->depth; c++)
        max = in[c] > max ? in[c] : max;
    const float *t = &p->table[255 - max];
    float sum = 0.0f;
    for (int c = 0; c < p->depth; c++)
        sum += t[in[c]];
    const float inv = 1.0f / (sum * p->out_scale);
    for (int c = 0; c < p->depth; c++) {
        float prob = t[in[c]] * inv;
        prob = prob + 0.5f;
        int32_t q = prob < 256.0f ? (int32_t)prob : 255;
        out[c] = (uint8_t)ps_q_clamp(q, 0, 255);
    }
}

void ps_nn_softmax_ref(const ps_nn_softmax *p, const uint8_t *in, uint8_t *out)
{
    for (size_t i = 0; i < p->outer; i++) {
        const uint8_t *ir = in + i * (size_t)p->depth;
        uint8_t *orow = out + i * (size_t)p->depth;
        if (p->fixed_point)
            softmax_fixed(p, ir, orow);
        else
            softmax_table(p, ir, orow);
    }
}

/* Source coordinate of output index v in 1/1024ths and its two neighbours
 * (ComputeInterpolationValuesInteger). */
static void resize_coord(int v, int32_t scale_10, int half_pixel, int in_size, int32_t *pos,
                         int32_t *lo, int32_t *hi)
{
    if (half_pixel)
        *pos = v * scale_10 + scale_10 / 2 - (1 << 9);
    else
        *pos = v * scale_10;
    int32_t l = *pos / (1 << 10);
    int32_t h = (*pos + (1 << 10) - 1) / (1 << 10);
    /* TFLite leaves the lower neighbour unclamped above, which reads past
     * the input for extreme upsampling; both are kept inside here. */
    l = l > 0 ? l : 0;
    l = l < in_size - 1 ? l : in_size - 1;
    h = h < in_size - 1 ? h : in_size - 1;
    *lo = l;
    *hi = h > 0 ? h : 0;
}

/* The 10-bit fixed-point scale between input and output sizes. */
static int32_t resize_scale(int in_size, int out_size, int align_corners)
{
    if (align_corners && out_size > 1)
        return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
    return ((1 << 10) * in_size + out_size / 2) / out_size;
}

void ps_nn_resize_ref(const ps_nn_resize *p, const uint8_t *in, uint8_t *out, int r0, int r1)
{
    int32_t sy = resize_scale(p->in_h, p->out_h, p->align_corners);
    int32_t sx = resize_scale(p->in_w, p->out_w, p->align_corners);
    const size_t in_image = (size_t)p->in_h * p->in_w * p->c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, y = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->c;
        int32_t iy, y0, y1;
        resize_coord(y, sy, p->half_pixel_centers, p->in_h, &iy, &y0, &y1);
        int64_t dy = iy - (1 << 10) * y0;
        for (int x = 0; x < p->out_w; x++) {
            int32_t ix, x0, x1;
            resize_coord(x, sx, p->half_pixel_centers, p->in_w, &ix, &x0, &x1);
            int64_t dx = ix - (1 << 10) * x0;
            const uint8_t *p00 = inb + ((size_t)y0 * p->in_w + x0) * p->c;
            const uint8_t *p10 = inb + ((size_t)y1 * p->in_w + x0) * p->c;
            const uint8_t *p01 = inb + ((size_t)y0 * p->in_w + x1) * p->c;
            const uint8_t *p11 = inb + ((size_t)y1 * p->in_w + x1) * p->c;
            for (int c = 0; c < p->c; c++) {
                int64_t v = p00[c] * ((1 << 10) - dy) * ((1 << 10) - dx) +
                             p10[c] * dy * ((1 << 10) - dx) + p01[c] * ((1 << 10) - dy) * dx +
                             p11[c] * dy * dx;
                int64_t round = v > 0 ? (1 << 19) : -(1 << 19);
                o[(size_t)x * p->c + c] = (uint8_t)((v + round) / (1 << 20));
            }
        }
    }
}

void ps_nn_requant_ref(const ps_nn_requant *p, const uint8_t *in, uint8_t *out, size_t i0,
                       size_t i1)
{
    if (p->xnn) {
        /* |(x - zp) * xmult| <= 255 * 32768: no overflow. */
        const int32_t bias = (p->rq.zp << 8) - p->xmult * p->in_zp + 0x80;
        for (size_t i = i0; i < i1; i++)
            out[i] = (uint8_t)ps_q_clamp((bias + (int32_t)in[i] * p->xmult) >> 8, 0, 255);
        return;
    }
    for (size_t i = i0; i < i1; i++)
        out[i] = ps_nn_rq_apply(&p->rq, (int32_t)in[i] - p->in_zp);
}

void ps_nn_concat_ref(const ps_nn_concat *p, const uint8_t *const *in, uint8_t *out)
{
    for (size_t k = 0; k < p->outer; k++) {
        for (int i = 0; i < p->n; i++) {
            const uint8_t *src = in[i] + k * p->inner[i];
            if (!p->rescale[i]) {
                memcpy(out, src, p->inner[i]);
            } else {
                for (size_t j = 0; j < p->inner[i]; j++) {
                    /* Two statements: no fused multiply-add, as in TFLite. */
                    float t = (float)src[j] * p->scale[i];
                    t = t + p->bias[i];
                    float rv = roundf(t);
                    int32_t v = rv > 1e6f ? 1000000 : rv < -1e6f ? -1000000 : (int32_t)rv;
                    out[j] = (uint8_t)ps_q_clamp(v + p->out_zp, 0, 255);
                }
            }
            out += p->inner[i];
        }
    }
}

void ps_nn_argmax_ref(const ps_nn_argmax *p, const uint8_t *in, void *out, size_t i0, size_t i1)
{
    for (size_t i = i0; i < i1; i++) {
        size_t o = i / p->inner, j = i % p->inner;
        const uint8_t *src = in + o * p->axis * p->inner + j;
        uint8_t best = src[0];
        size_t idx = 0;
        for (size_t a = 1; a < p->axis; a++) {
            uint8_t v = src[a * p->inner];
            if (v > best) {
                best = v;
                idx = a;
            }
        }
        if (p->out64)
            ((int64_t *)out)[i] = (int64_t)idx;
        else
            ((int32_t *)out)[i] = (int32_t)idx;
    }
}
