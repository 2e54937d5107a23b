/*
 * ops_armnn.c - the float arithmetic of Arm NN 20.08's CpuRef backend
 * (backends/reference/workloads: ConvImpl, Pooling2d, Softmax, Resize,
 * Concatenate, ElementwiseFunction), which produced the golden outputs.
 *
 * Float addition is not associative, so to give the same bytes every sum
 * here is formed term by term in the order Arm NN's loops form it: a
 * convolution adds input channel by input channel, and within one channel
 * kernel row by kernel row; the bias comes last.  Padding taps add
 * weight * 0.0f as Arm NN does (which changes nothing but the sign of a zero
 * sum).  Products and sums are separate statements: the build is ISO C, so
 * the compiler does not fuse them into FMAs, which would round differently.
 *
 * The AVX2 forms compute 16 output channels (conv) or 8 channels
 * (depthwise) at once, each lane following the scalar order exactly.
 */
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "nn/ops.h"

/* GCC in ISO C mode (-std=c11) already keeps mul and add apart; clang
 * contracts within an expression unless told not to. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

void ps_nn_fop_conv_init(ps_nn_fop *f, const ps_nn_conv *c, float w_scale, float bias_scale)
{
    const int K = c->k_h * c->k_w;
    f->bias = ps_xcalloc((size_t)c->out_c, sizeof(float));
    for (int oc = 0; oc < c->out_c; oc++)
        f->bias[oc] = (float)c->bias[oc] * bias_scale;
    if (c->depthwise) {
        /* TFLite's [1][k_h][k_w][out_c] is already tap-major. */
        size_t n = (size_t)K * c->out_c;
        f->w = ps_xcalloc(n, sizeof(float));
        for (size_t i = 0; i < n; i++)
            f->w[i] = (float)((int32_t)c->w[i] - c->w_zp) * w_scale;
        return;
    }
    /* Arm NN's order: input channel, then kernel row, then column. */
    f->ocp = (c->out_c + 15) / 16 * 16;
    f->w = ps_xcalloc((size_t)c->in_c * K * f->ocp, sizeof(float));
    for (int oc = 0; oc < c->out_c; oc++)
        for (int ky = 0; ky < c->k_h; ky++)
            for (int kx = 0; kx < c->k_w; kx++)
                for (int ic = 0; ic < c->in_c; ic++) {
                    uint8_t q = c->w[(((size_t)oc * c->k_h + ky) * c->k_w + kx) * c->in_c + ic];
                    size_t k = ((size_t)ic * c->k_h + ky) * c->k_w + kx;
                    f->w[k * f->ocp + oc] = (float)((int32_t)q - c->w_zp) * w_scale;
                }
}

/* ---- convolution ---------------------------------------------------------- */

void ps_nn_fconv_ref(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                     int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->out_c;
        for (int ox = 0; ox < p->out_w; ox++) {
            for (int oc = 0; oc < p->out_c; oc++) {
                float sum = 0.0f;
                for (int ic = 0; ic < p->in_c; ic++)
                    for (int ky = 0; ky < p->k_h; ky++)
                        for (int kx = 0; kx < p->k_w; kx++) {
                            int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                            int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                            float x = 0.0f;
                            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                                x = f->lut0[inb[((size_t)iy * p->in_w + ix) * p->in_c + ic]];
                            size_t k = ((size_t)ic * p->k_h + ky) * p->k_w + kx;
                            float prod = f->w[k * f->ocp + oc] * x;
                            sum = sum + prod;
                        }
                sum = sum + f->bias[oc];
                o[(size_t)ox * p->out_c + oc] = ps_nn_fout(f, sum);
            }
        }
    }
}

#define FC_PIX 4 /* output pixels per register tile */

/* One tile: up to FC_PIX pixels of one output row times 16 channels. */
static void fconv_tile(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *inb, int oy,
                       int ox0, int npix, int oc0, float acc_out[FC_PIX][16])
{
    __m256 a[FC_PIX][2];
    for (int j = 0; j < FC_PIX; j++)
        a[j][0] = a[j][1] = _mm256_setzero_ps();
    const float *w = f->w + oc0;
    const size_t row = (size_t)p->in_w * p->in_c;
    if (p->k_h == 1 && p->k_w == 1) {
        const uint8_t *ip[FC_PIX];
        int ok[FC_PIX];
        int iy = oy * p->stride_h - p->pad_h;
        for (int j = 0; j < FC_PIX; j++) {
            int ix = (ox0 + j) * p->stride_w - p->pad_w;
            ok[j] = j < npix && iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            ip[j] = ok[j] ? inb + (size_t)iy * row + (size_t)ix * p->in_c : inb;
        }
        for (int ic = 0; ic < p->in_c; ic++) {
            const float *wk = w + (size_t)ic * f->ocp;
            __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
            for (int j = 0; j < FC_PIX; j++) {
                __m256 x = _mm256_set1_ps(ok[j] ? f->lut0[ip[j][ic]] : 0.0f);
                a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(w0, x));
                a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(w1, x));
            }
        }
    } else {
        for (int ic = 0; ic < p->in_c; ic++)
            for (int ky = 0; ky < p->k_h; ky++) {
                int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                int yok = iy >= 0 && iy < p->in_h;
                for (int kx = 0; kx < p->k_w; kx++) {
                    size_t k = ((size_t)ic * p->k_h + ky) * p->k_w + kx;
                    const float *wk = w + k * f->ocp;
                    __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
                    for (int j = 0; j < FC_PIX; j++) {
                        int ix = (ox0 + j) * p->stride_w - p->pad_w + kx * p->dil_w;
                        float xv = 0.0f;
                        if (j < npix && yok && ix >= 0 && ix < p->in_w)
                            xv = f->lut0[inb[(size_t)iy * row + (size_t)ix * p->in_c + ic]];
                        __m256 x = _mm256_set1_ps(xv);
                        a[j][0] = _mm256_add_ps(a[j][0], _mm256_mul_ps(w0, x));
                        a[j][1] = _mm256_add_ps(a[j][1], _mm256_mul_ps(w1, x));
                    }
                }
            }
    }
    for (int j = 0; j < FC_PIX; j++) {
        _mm256_storeu_ps(acc_out[j], a[j][0]);
        _mm256_storeu_ps(acc_out[j] + 8, a[j][1]);
    }
}

void ps_nn_fconv(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                 int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    float acc[FC_PIX][16];
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->out_c;
        for (int ox = 0; ox < p->out_w; ox += FC_PIX) {
            int npix = p->out_w - ox < FC_PIX ? p->out_w - ox : FC_PIX;
            for (int oc0 = 0; oc0 < p->out_c; oc0 += 16) {
                fconv_tile(p, f, inb, oy, ox, npix, oc0, acc);
                int nc = p->out_c - oc0 < 16 ? p->out_c - oc0 : 16;
                for (int j = 0; j < npix; j++)
                    for (int c = 0; c < nc; c++) {
                        float s = acc[j][c] + f->bias[oc0 + c];
                        o[(size_t)(ox + j) * p->out_c + oc0 + c] = ps_nn_fout(f, s);
                    }
            }
        }
    }
}

/* ---- depthwise convolution ----------------------------------------------------- */

void ps_nn_fdw_ref(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                   int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->out_c;
        for (int ox = 0; ox < p->out_w; ox++)
            for (int oc = 0; oc < p->out_c; oc++) {
                int ic = oc / p->depth_mult;
                float sum = 0.0f;
                for (int ky = 0; ky < p->k_h; ky++)
                    for (int kx = 0; kx < p->k_w; kx++) {
                        int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                        int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                        float x = 0.0f;
                        if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                            x = f->lut0[inb[((size_t)iy * p->in_w + ix) * p->in_c + ic]];
                        float prod = f->w[((size_t)ky * p->k_w + kx) * p->out_c + oc] * x;
                        sum = sum + prod;
                    }
                sum = sum + f->bias[oc];
                o[(size_t)ox * p->out_c + oc] = ps_nn_fout(f, sum);
            }
    }
}

/* 8 channels of uint8 input, dequantized exactly as the table would. */
static inline __m256 deq8(const uint8_t *q, __m256i zp, __m256 scale)
{
    __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)q));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v, zp)), scale);
}

void ps_nn_fdw(const ps_nn_conv *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out, int r0,
               int r1)
{
    if (p->depth_mult != 1 || p->out_c % 8 != 0) {
        ps_nn_fdw_ref(p, f, in, out, r0, r1);
        return;
    }
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    const __m256i zp = _mm256_set1_epi32(p->in_zp);
    const __m256 scale = _mm256_set1_ps(f->in_scale[0]);
    float acc[8];
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->out_c;
        for (int ox = 0; ox < p->out_w; ox++)
            for (int c0 = 0; c0 < p->out_c; c0 += 8) {
                __m256 sum = _mm256_setzero_ps();
                for (int ky = 0; ky < p->k_h; ky++) {
                    int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
                    for (int kx = 0; kx < p->k_w; kx++) {
                        int ix = ox * p->stride_w - p->pad_w + kx * p->dil_w;
                        __m256 w = _mm256_loadu_ps(f->w + ((size_t)ky * p->k_w + kx) * p->out_c +
                                                   c0);
                        __m256 x = _mm256_setzero_ps();
                        if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w)
                            x = deq8(inb + ((size_t)iy * p->in_w + ix) * p->in_c + c0, zp, scale);
                        sum = _mm256_add_ps(sum, _mm256_mul_ps(w, x));
                    }
                }
                _mm256_storeu_ps(acc, sum);
                for (int c = 0; c < 8; c++)
                    o[(size_t)ox * p->out_c + c0 + c] = ps_nn_fout(f, acc[c] + f->bias[c0 + c]);
            }
    }
}

/* ---- element-wise and the rest ---------------------------------------------- */

void ps_nn_fadd(const ps_nn_fop *f, const uint8_t *a, const uint8_t *b, uint8_t *out, size_t i0,
                size_t i1)
{
    for (size_t i = i0; i < i1; i++)
        out[i] = ps_nn_fout(f, f->lut0[a[i]] + f->lut1[b[i]]);
}

void ps_nn_frequant(const ps_nn_fop *f, const uint8_t *in, uint8_t *out, size_t i0, size_t i1)
{
    for (size_t i = i0; i < i1; i++)
        out[i] = ps_nn_fout(f, f->lut0[in[i]]);
}

/* Pooling2d with PaddingMethod::Exclude (what the TFLite parser asks for):
 * the divisor counts the input values under the window. */
void ps_nn_fpool(const ps_nn_pool *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                 int r0, int r1)
{
    const size_t in_image = (size_t)p->in_h * p->in_w * p->c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, oy = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->c;
        int y0 = oy * p->stride_h - p->pad_h, y1 = y0 + p->k_h;
        y0 = y0 > 0 ? y0 : 0;
        y1 = y1 < p->in_h ? y1 : p->in_h;
        for (int ox = 0; ox < p->out_w; ox++) {
            int x0 = ox * p->stride_w - p->pad_w, x1 = x0 + p->k_w;
            x0 = x0 > 0 ? x0 : 0;
            x1 = x1 < p->in_w ? x1 : p->in_w;
            float area = y1 > y0 && x1 > x0 ? (float)((y1 - y0) * (x1 - x0)) : 1.0f;
            for (int c = 0; c < p->c; c++) {
                float sum = 0.0f;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++)
                        sum = sum + f->lut0[inb[((size_t)y * p->in_w + x) * p->c + c]];
                o[(size_t)ox * p->c + c] = ps_nn_fout(f, sum / area);
            }
        }
    }
}

void ps_nn_fsoftmax(const ps_nn_softmax *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out)
{
    for (size_t i = 0; i < p->outer; i++) {
        const uint8_t *x = in + i * (size_t)p->depth;
        uint8_t *y = out + i * (size_t)p->depth;
        float max = -3.402823466e+38f;
        for (int c = 0; c < p->depth; c++) {
            float v = f->lut0[x[c]];
            max = max < v ? v : max;
        }
        float sum = 0.0f;
        for (int c = 0; c < p->depth; c++) {
            float t = (f->lut0[x[c]] - max) * f->beta;
            sum = sum + expf(t);
        }
        for (int c = 0; c < p->depth; c++) {
            float t = (f->lut0[x[c]] - max) * f->beta;
            y[c] = ps_nn_fout(f, expf(t) / sum);
        }
    }
}

/* Arm NN's Lerp: w * b + (1 - w) * a, as three roundings. */
static inline float lerp(float a, float b, float w)
{
    float wb = w * b;
    float wa = (1.0f - w) * a;
    return wb + wa;
}

static float resize_scale(int in, int out, int align_corners)
{
    if (align_corners && out > 1)
        return (float)(in - 1) / (float)(out - 1);
    return (float)in / (float)out;
}

/* Source coordinate of output index v and its two neighbours. */
static void resize_src(int v, float scale, int half_pixel, int in_size, int *i0, int *i1,
                       float *w)
{
    float s = half_pixel ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
    float fl = floorf(s);
    *i0 = (int)(fl > 0.0f ? fl : 0.0f);
    *w = s - fl;
    if (half_pixel) {
        float ce = ceilf(s);
        int c = (int)(ce > 0.0f ? ce : 0.0f);
        *i1 = c < in_size - 1 ? c : in_size - 1;
    } else {
        *i1 = *i0 + 1 < in_size - 1 ? *i0 + 1 : in_size - 1;
    }
    if (*i0 > in_size - 1)
        *i0 = in_size - 1;
}

void ps_nn_fresize(const ps_nn_resize *p, const ps_nn_fop *f, const uint8_t *in, uint8_t *out,
                   int r0, int r1)
{
    const float sy = resize_scale(p->in_h, p->out_h, p->align_corners);
    const float sx = resize_scale(p->in_w, p->out_w, p->align_corners);
    const size_t in_image = (size_t)p->in_h * p->in_w * p->c;
    for (int r = r0; r < r1; r++) {
        int b = r / p->out_h, y = r % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)r * p->out_w * p->c;
        int y0, y1;
        float yw;
        resize_src(y, sy, p->half_pixel_centers, p->in_h, &y0, &y1, &yw);
        for (int x = 0; x < p->out_w; x++) {
            int x0, x1;
            float xw;
            resize_src(x, sx, p->half_pixel_centers, p->in_w, &x0, &x1, &xw);
            const uint8_t *p00 = inb + ((size_t)y0 * p->in_w + x0) * p->c;
            const uint8_t *p01 = inb + ((size_t)y0 * p->in_w + x1) * p->c;
            const uint8_t *p10 = inb + ((size_t)y1 * p->in_w + x0) * p->c;
            const uint8_t *p11 = inb + ((size_t)y1 * p->in_w + x1) * p->c;
            for (int c = 0; c < p->c; c++) {
                float ly0 = lerp(f->lut0[p00[c]], f->lut0[p01[c]], xw);
                float ly1 = lerp(f->lut0[p10[c]], f->lut0[p11[c]], xw);
                o[(size_t)x * p->c + c] = ps_nn_fout(f, lerp(ly0, ly1, yw));
            }
        }
    }
}

void ps_nn_fconcat(const ps_nn_concat *p, const ps_nn_fop *f, const uint8_t *const *in,
                   uint8_t *out)
{
    for (size_t k = 0; k < p->outer; k++)
        for (int i = 0; i < p->n; i++) {
            const uint8_t *src = in[i] + k * p->inner[i];
            for (size_t j = 0; j < p->inner[i]; j++) {
                float v = (float)((int32_t)src[j] - f->in_zp[i]) * f->in_scale[i];
                out[j] = ps_nn_fout(f, v);
            }
            out += p->inner[i];
        }
}
