/*
 * ops_avx2.c - AVX2 versions of the hot uint8 kernels, bit-exact with
 * ops_ref.c.
 *
 * Convolutions run as an integer GEMM: each output pixel is a row of K
 * input values (the pixel itself for a 1x1 convolution, its receptive field
 * otherwise - "im2col"), each output channel a column of K weights.  Inputs
 * are widened to int16 and weights stored as int16 (w - w_zp), so that
 * _mm256_madd_epi16 forms exact sums of two products per int32 lane; the
 * input zero point is folded into a per-channel bias:
 *   sum (x - x_zp)(w - w_zp) = sum x (w - w_zp) - x_zp * sum (w - w_zp).
 * Padding pixels are filled with x_zp, which cancels exactly.  A 4-pixel by
 * 16-channel tile keeps 8 accumulators in registers.
 *
 * Requantization runs on 8 lanes: the doubling high multiply
 * (a*b + 2^30) >> 31 (equal to the reference's nudge-and-truncate for a
 * positive multiplier), then the rounding right shift, the clamp and the
 * zero point.
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "nn/ops.h"

/* Depthwise filters with at most this many taps use the paired-tap kernel. */
#define DW_MAX_TAPS 64

/* ---- vector requantization ------------------------------------------------ */

typedef struct vrq {
    __m256i mult, nudge, mask, half, lo, hi, zp;
    __m128i lshift, rshift;
    int fp32;
    __m256 fscale, flo, fhi;
} vrq;

static vrq vrq_make(int32_t mult, int shift, int32_t zp, int32_t lo, int32_t hi)
{
    vrq r;
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    r.mult = _mm256_set1_epi32(mult);
    r.nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    r.mask = _mm256_set1_epi32(mask);
    r.half = _mm256_set1_epi32(mask >> 1);
    r.lo = _mm256_set1_epi32(lo - zp);
    r.hi = _mm256_set1_epi32(hi - zp);
    r.zp = _mm256_set1_epi32(zp);
    r.lshift = _mm_cvtsi32_si128(left);
    r.rshift = _mm_cvtsi32_si128(right);
    r.fp32 = 0;
    r.fscale = r.flo = r.fhi = _mm256_setzero_ps();
    return r;
}

static vrq vrq_from(const ps_nn_rq *q)
{
    vrq r = vrq_make(q->mult, q->shift, q->zp, q->lo, q->hi);
    if (q->fp32) {
        r.fp32 = 1;
        r.fscale = _mm256_set1_ps(q->fscale);
        r.flo = _mm256_set1_ps((float)(q->lo - q->zp));
        r.fhi = _mm256_set1_ps((float)(q->hi - q->zp));
    }
    return r;
}

/* x * mult * 2^(shift-31) with the reference's two roundings. */
static inline __m256i vmul(__m256i x, const vrq *r)
{
    x = _mm256_sll_epi32(x, r->lshift);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, r->mult), r->nudge);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), r->mult), r->nudge);
    /* Bits 31..62 of each 64-bit sum: low half for even lanes, high half for odd. */
    even = _mm256_srli_epi64(even, 31);
    odd = _mm256_slli_epi64(odd, 1);
    x = _mm256_blend_epi32(even, odd, 0xAA);
    __m256i rem = _mm256_and_si256(x, r->mask);
    __m256i thr = _mm256_sub_epi32(r->half, _mm256_srai_epi32(x, 31));
    return _mm256_sub_epi32(_mm256_sra_epi32(x, r->rshift), _mm256_cmpgt_epi32(rem, thr));
}

static inline __m256i vrq_apply(__m256i acc, const vrq *r)
{
    if (r->fp32) {
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), r->fscale);
        f = _mm256_min_ps(_mm256_max_ps(f, r->flo), r->fhi);
        /* cvtps rounds to nearest even under the default MXCSR. */
        return _mm256_add_epi32(_mm256_cvtps_epi32(f), r->zp);
    }
    __m256i v = vmul(acc, r);
    v = _mm256_min_epi32(_mm256_max_epi32(v, r->lo), r->hi);
    return _mm256_add_epi32(v, r->zp);
}

/* Store 8 int32 lanes holding 0..255 as 8 bytes. */
static inline void store8(uint8_t *out, __m256i v)
{
    __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64((__m128i *)out, _mm_packus_epi16(p16, p16));
}

/* 16 bytes from two vectors of 8 int32 lanes (channels 0-7, 8-15). */
static inline __m128i pack16(__m256i a, __m256i b)
{
    __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
    return _mm_packus_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
}

static inline __m256i load8_u8(const uint8_t *p)
{
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

/* ---- convolution as GEMM ------------------------------------------------------ */

static void *xaligned(size_t n)
{
    void *p = NULL;
    n = (n + 63) / 64 * 64;
    if (posix_memalign(&p, 64, n ? n : 64) != 0 || !p) {
        fprintf(stderr, "picseek: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

void ps_nn_conv_pack(ps_nn_conv *p)
{
    if (p->depthwise) {
        p->wdw = NULL;
        if (p->depth_mult != 1)
            return;
        size_t n = (size_t)p->K * p->out_c;
        p->wdw = xaligned(n * sizeof(int32_t));
        for (size_t i = 0; i < n; i++)
            p->wdw[i] = (int32_t)p->w[i] - p->w_zp;
        p->wdw16 = NULL;
        if (p->K > DW_MAX_TAPS)
            return;
        /* Tap pairs interleaved per channel, in the lane order that
         * _mm256_unpacklo/hi_epi16 give: lo = channels 0-3 and 8-11 of a
         * block of 16, hi = channels 4-7 and 12-15. */
        static const int lo_ch[8] = {0, 1, 2, 3, 8, 9, 10, 11};
        static const int hi_ch[8] = {4, 5, 6, 7, 12, 13, 14, 15};
        const int blocks = (p->out_c + 15) / 16, pairs = (p->K + 1) / 2;
        p->wdw16 = xaligned((size_t)pairs * blocks * 32 * sizeof(int16_t));
        for (int tp = 0; tp < pairs; tp++)
            for (int cb = 0; cb < blocks; cb++) {
                int16_t *dst = p->wdw16 + ((size_t)tp * blocks + cb) * 32;
                for (int i = 0; i < 8; i++)
                    for (int t = 0; t < 2; t++) {
                        int tap = 2 * tp + t;
                        int cl = cb * 16 + lo_ch[i], ch = cb * 16 + hi_ch[i];
                        dst[2 * i + t] = (int16_t)(tap < p->K && cl < p->out_c
                                                       ? p->wdw[(size_t)tap * p->out_c + cl] : 0);
                        dst[16 + 2 * i + t] = (int16_t)(tap < p->K && ch < p->out_c
                                                            ? p->wdw[(size_t)tap * p->out_c + ch] : 0);
                    }
            }
        return;
    }
    int K = p->K;
    p->Kp = (K + 1) & ~1;
    p->Np = (p->out_c + 15) & ~15;
    p->pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                   p->pad_h == 0 && p->pad_w == 0;
    size_t pairs = (size_t)p->Kp / 2;
    p->wp = xaligned((size_t)p->Np * p->Kp * sizeof(int16_t));
    p->bias_eff = xaligned((size_t)p->Np * sizeof(int32_t));
    for (int nb = 0; nb < p->Np / 16; nb++)
        for (size_t kp = 0; kp < pairs; kp++)
            for (int j = 0; j < 16; j++)
                for (int t = 0; t < 2; t++) {
                    int oc = nb * 16 + j;
                    size_t k = 2 * kp + (size_t)t;
                    int16_t v = 0;
                    if (oc < p->out_c && k < (size_t)K)
                        v = (int16_t)((int32_t)p->w[(size_t)oc * K + k] - p->w_zp);
                    p->wp[((size_t)nb * pairs + kp) * 32 + (size_t)j * 2 + (size_t)t] = v;
                }
    for (int oc = 0; oc < p->Np; oc++) {
        uint32_t b = 0;
        if (oc < p->out_c) {
            int32_t sum = 0;
            for (int k = 0; k < K; k++)
                sum += (int32_t)p->w[(size_t)oc * K + k] - p->w_zp;
            b = (uint32_t)p->bias[oc] - (uint32_t)p->in_zp * (uint32_t)sum;
        }
        p->bias_eff[oc] = (int32_t)b;
    }
}

void ps_nn_conv_unpack(ps_nn_conv *p)
{
    free(p->wp);
    free(p->bias_eff);
    free(p->wdw);
    free(p->wdw16);
    p->wp = NULL;
    p->bias_eff = NULL;
    p->wdw = NULL;
    p->wdw16 = NULL;
}

/* Pixels per im2col chunk: keep the chunk near 128 KiB. */
static int chunk_rows(const ps_nn_conv *p)
{
    int rows = (int)((128 * 1024) / ((size_t)p->Kp * 2));
    rows = rows / 4 * 4;
    if (rows < 4)
        rows = 4;
    if (rows > 64)
        rows = 64;
    return rows;
}

size_t ps_nn_conv_scratch(const ps_nn_conv *p)
{
    if (p->depthwise)
        return 0;
    return (size_t)chunk_rows(p) * p->Kp * sizeof(int16_t) + 64;
}

/* Widen n bytes to int16. */
static void widen(int16_t *dst, const uint8_t *src, int n)
{
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i),
                            _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + i))));
    if (i + 8 <= n) {
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(src + i))));
        i += 8;
    }
    for (; i < n; i++)
        dst[i] = src[i];
}

/* Build the int16 rows of pixels [m, m + rows) in A (Kp values each). */
static void build_rows(const ps_nn_conv *p, const uint8_t *in, int m, int rows, int16_t *A)
{
    const int Kp = p->Kp;
    if (p->pointwise) {
        for (int r = 0; r < rows; r++) {
            int16_t *a = A + (size_t)r * Kp;
            widen(a, in + (size_t)(m + r) * p->in_c, p->in_c);
            if (Kp > p->K)
                a[p->K] = 0;
        }
        return;
    }
    const int hw = p->out_h * p->out_w;
    const size_t in_image = (size_t)p->in_h * p->in_w * p->in_c;
    for (int r = 0; r < rows; r++) {
        int pix = m + r;
        int b = pix / hw, rem = pix % hw;
        int oy = rem / p->out_w, ox = rem % p->out_w;
        const uint8_t *inb = in + (size_t)b * in_image;
        int16_t *a = A + (size_t)r * Kp;
        int iy0 = oy * p->stride_h - p->pad_h, ix0 = ox * p->stride_w - p->pad_w;
        for (int ky = 0; ky < p->k_h; ky++) {
            int iy = iy0 + ky * p->dil_h;
            for (int kx = 0; kx < p->k_w; kx++) {
                int ix = ix0 + kx * p->dil_w;
                if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                    for (int c = 0; c < p->in_c; c++)
                        a[c] = (int16_t)p->in_zp;
                } else {
                    widen(a, inb + ((size_t)iy * p->in_w + ix) * p->in_c, p->in_c);
                }
                a += p->in_c;
            }
        }
        if (Kp > p->K)
            *a = 0;
    }
}

static inline __m256i bcast_pair(const int16_t *a)
{
    int32_t v;
    memcpy(&v, a, 4);
    return _mm256_set1_epi32(v);
}

/* Requantize two accumulator vectors (16 channels) and store nvalid bytes. */
static inline void store_tile_row(__m256i acc0, __m256i acc1, __m256i bias0, __m256i bias1,
                                  const vrq *r, uint8_t *o, int nvalid)
{
    __m256i v0 = vrq_apply(_mm256_add_epi32(acc0, bias0), r);
    __m256i v1 = vrq_apply(_mm256_add_epi32(acc1, bias1), r);
    __m128i bytes = pack16(v0, v1);
    if (nvalid == 16) {
        _mm_storeu_si128((__m128i *)o, bytes);
    } else {
        uint8_t tmp[16];
        _mm_storeu_si128((__m128i *)tmp, bytes);
        memcpy(o, tmp, (size_t)nvalid);
    }
}

/* 4 pixels x 16 channels.  The eight accumulators are named variables so
 * that they stay in registers across the K loop. */
static void tile4(const int16_t *A, int Kp, const int16_t *B, const int32_t *bias, const vrq *r,
                  uint8_t *out, size_t out_stride, int nvalid)
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
    __m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    const int16_t *a0 = A, *a1 = A + Kp, *a2 = A + 2 * (size_t)Kp, *a3 = A + 3 * (size_t)Kp;
    const int pairs = Kp / 2;
    for (int kp = 0; kp < pairs; kp++) {
        __m256i b0 = _mm256_load_si256((const __m256i *)(B + (size_t)kp * 32));
        __m256i b1 = _mm256_load_si256((const __m256i *)(B + (size_t)kp * 32 + 16));
        __m256i x = bcast_pair(a0 + 2 * kp);
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0));
        c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
        x = bcast_pair(a1 + 2 * kp);
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0));
        c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
        x = bcast_pair(a2 + 2 * kp);
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0));
        c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
        x = bcast_pair(a3 + 2 * kp);
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0));
        c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
    }
    __m256i bias0 = _mm256_load_si256((const __m256i *)bias);
    __m256i bias1 = _mm256_load_si256((const __m256i *)(bias + 8));
    store_tile_row(c00, c01, bias0, bias1, r, out, nvalid);
    store_tile_row(c10, c11, bias0, bias1, r, out + out_stride, nvalid);
    store_tile_row(c20, c21, bias0, bias1, r, out + 2 * out_stride, nvalid);
    store_tile_row(c30, c31, bias0, bias1, r, out + 3 * out_stride, nvalid);
}

/* 1 pixel x 16 channels, with the K loop split over two accumulator pairs
 * to shorten the dependency chains (the GEMV of a final 1x1 convolution). */
static void tile1(const int16_t *A, int Kp, const int16_t *B, const int32_t *bias, const vrq *r,
                  uint8_t *out, int nvalid)
{
    __m256i c0 = _mm256_setzero_si256(), c1 = c0, d0 = c0, d1 = c0;
    const int pairs = Kp / 2;
    int kp = 0;
    for (; kp + 2 <= pairs; kp += 2) {
        __m256i x = bcast_pair(A + 2 * kp), y = bcast_pair(A + 2 * kp + 2);
        const int16_t *b = B + (size_t)kp * 32;
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(x, _mm256_load_si256((const __m256i *)b)));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(x, _mm256_load_si256((const __m256i *)(b + 16))));
        d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(y, _mm256_load_si256((const __m256i *)(b + 32))));
        d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(y, _mm256_load_si256((const __m256i *)(b + 48))));
    }
    for (; kp < pairs; kp++) {
        __m256i x = bcast_pair(A + 2 * kp);
        const int16_t *b = B + (size_t)kp * 32;
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(x, _mm256_load_si256((const __m256i *)b)));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(x, _mm256_load_si256((const __m256i *)(b + 16))));
    }
    c0 = _mm256_add_epi32(c0, d0);
    c1 = _mm256_add_epi32(c1, d1);
    store_tile_row(c0, c1, _mm256_load_si256((const __m256i *)bias),
                   _mm256_load_si256((const __m256i *)(bias + 8)), r, out, nvalid);
}

void ps_nn_conv_fast(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int m0, int m1,
                     int n0, int n1, void *scratch)
{
    const int Kp = p->Kp;
    const int mc_max = chunk_rows(p);
    int16_t *A = (int16_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    const vrq r = vrq_from(&p->rq);
    const size_t pairs = (size_t)Kp / 2;
    for (int m = m0; m < m1; m += mc_max) {
        int mc = m1 - m < mc_max ? m1 - m : mc_max;
        build_rows(p, in, m, mc, A);
        for (int nb = n0 / 16; nb * 16 < n1; nb++) {
            const int16_t *B = p->wp + (size_t)nb * pairs * 32;
            const int32_t *bias = p->bias_eff + nb * 16;
            int nvalid = n1 - nb * 16 < 16 ? n1 - nb * 16 : 16;
            uint8_t *o = out + (size_t)m * p->out_c + nb * 16;
            int i = 0;
            for (; i + 4 <= mc; i += 4)
                tile4(A + (size_t)i * Kp, Kp, B, bias, &r, o + (size_t)i * p->out_c,
                      (size_t)p->out_c, nvalid);
            for (; i < mc; i++)
                tile1(A + (size_t)i * Kp, Kp, B, bias, &r, o + (size_t)i * p->out_c, nvalid);
        }
    }
}

/* ---- depthwise ---------------------------------------------------------------- */

void ps_nn_dw_fast(const ps_nn_conv *p, const uint8_t *in, uint8_t *out, int r0, int r1)
{
    const int C = p->out_c;
    const size_t in_image = (size_t)p->in_h * p->in_w * C;
    const vrq r = vrq_from(&p->rq);
    const __m256i zin = _mm256_set1_epi32(p->in_zp);
    for (int row = r0; row < r1; row++) {
        int b = row / p->out_h, oy = row % p->out_h;
        const uint8_t *inb = in + (size_t)b * in_image;
        uint8_t *o = out + (size_t)row * p->out_w * C;
        int iy0 = oy * p->stride_h - p->pad_h;
        int ky0 = 0, ky1 = p->k_h;
        while (ky0 < ky1 && iy0 + ky0 * p->dil_h < 0)
            ky0++;
        while (ky1 > ky0 && iy0 + (ky1 - 1) * p->dil_h >= p->in_h)
            ky1--;
        for (int ox = 0; ox < p->out_w; ox++) {
            int ix0 = ox * p->stride_w - p->pad_w;
            int kx0 = 0, kx1 = p->k_w;
            while (kx0 < kx1 && ix0 + kx0 * p->dil_w < 0)
                kx0++;
            while (kx1 > kx0 && ix0 + (kx1 - 1) * p->dil_w >= p->in_w)
                kx1--;
            uint8_t *op = o + (size_t)ox * C;
            int c = 0;
            if (p->wdw16) {
                /* Input pointer of each tap, NULL where the tap falls in the
                 * padding (it then contributes nothing, as in the reference). */
                const uint8_t *tap[DW_MAX_TAPS + 1];
                for (int ky = 0; ky < p->k_h; ky++)
                    for (int kx = 0; kx < p->k_w; kx++) {
                        int iy = iy0 + ky * p->dil_h, ix = ix0 + kx * p->dil_w;
                        int ok = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
                        tap[ky * p->k_w + kx] =
                            ok ? inb + ((size_t)iy * p->in_w + ix) * C : NULL;
                    }
                tap[p->K] = NULL;
                const int blocks = (C + 15) / 16, pairs = (p->K + 1) / 2;
                const __m256i zin16 = _mm256_set1_epi16((int16_t)p->in_zp);
                for (int cb = 0; cb + 1 <= C / 16; cb++, c += 16) {
                    __m256i lo = _mm256_setzero_si256(), hi = lo;
                    const int16_t *w = p->wdw16 + (size_t)cb * 32;
                    for (int tp = 0; tp < pairs; tp++, w += (size_t)blocks * 32) {
                        const uint8_t *q0 = tap[2 * tp], *q1 = tap[2 * tp + 1];
                        __m256i x0 = q0 ? _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(
                                                               (const __m128i *)(q0 + c))), zin16)
                                        : _mm256_setzero_si256();
                        __m256i x1 = q1 ? _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(
                                                               (const __m128i *)(q1 + c))), zin16)
                                        : _mm256_setzero_si256();
                        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                                    _mm256_load_si256((const __m256i *)w)));
                        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                                    _mm256_load_si256((const __m256i *)(w + 16))));
                    }
                    /* Bias in the same lane order: lo = 0-3 | 8-11, hi = 4-7 | 12-15. */
                    const int32_t *bs = p->bias + c;
                    __m256i blo = _mm256_inserti128_si256(
                        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)bs)),
                        _mm_loadu_si128((const __m128i *)(bs + 8)), 1);
                    __m256i bhi = _mm256_inserti128_si256(
                        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(bs + 4))),
                        _mm_loadu_si128((const __m128i *)(bs + 12)), 1);
                    __m256i vlo = vrq_apply(_mm256_add_epi32(lo, blo), &r);
                    __m256i vhi = vrq_apply(_mm256_add_epi32(hi, bhi), &r);
                    /* packs per lane gives channels 0-7 | 8-15 already in order. */
                    __m256i p16 = _mm256_packs_epi32(vlo, vhi);
                    _mm_storeu_si128((__m128i *)(op + c),
                                     _mm_packus_epi16(_mm256_castsi256_si128(p16),
                                                      _mm256_extracti128_si256(p16, 1)));
                }
            }
            for (; c + 16 <= C; c += 16) {
                __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
                for (int ky = ky0; ky < ky1; ky++) {
                    const uint8_t *irow = inb + (size_t)(iy0 + ky * p->dil_h) * p->in_w * C + c;
                    const int32_t *wrow = p->wdw + (size_t)ky * p->k_w * C + c;
                    for (int kx = kx0; kx < kx1; kx++) {
                        const uint8_t *ip = irow + (size_t)(ix0 + kx * p->dil_w) * C;
                        const int32_t *wp = wrow + (size_t)kx * C;
                        __m256i x0 = _mm256_sub_epi32(load8_u8(ip), zin);
                        __m256i x1 = _mm256_sub_epi32(load8_u8(ip + 8), zin);
                        a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(
                                                      x0, _mm256_loadu_si256((const __m256i *)wp)));
                        a1 = _mm256_add_epi32(
                            a1, _mm256_mullo_epi32(x1, _mm256_loadu_si256((const __m256i *)(wp + 8))));
                    }
                }
                a0 = _mm256_add_epi32(a0, _mm256_loadu_si256((const __m256i *)(p->bias + c)));
                a1 = _mm256_add_epi32(a1, _mm256_loadu_si256((const __m256i *)(p->bias + c + 8)));
                _mm_storeu_si128((__m128i *)(op + c), pack16(vrq_apply(a0, &r), vrq_apply(a1, &r)));
            }
            for (; c + 8 <= C; c += 8) {
                __m256i a0 = _mm256_setzero_si256();
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        const uint8_t *ip =
                            inb + ((size_t)(iy0 + ky * p->dil_h) * p->in_w + (ix0 + kx * p->dil_w)) * C + c;
                        const int32_t *wp = p->wdw + ((size_t)ky * p->k_w + kx) * C + c;
                        __m256i x0 = _mm256_sub_epi32(load8_u8(ip), zin);
                        a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(x0, _mm256_loadu_si256((const __m256i *)wp)));
                    }
                a0 = _mm256_add_epi32(a0, _mm256_loadu_si256((const __m256i *)(p->bias + c)));
                store8(op + c, vrq_apply(a0, &r));
            }
            for (; c < C; c++) {
                int32_t acc = 0;
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++) {
                        int32_t iv = inb[((size_t)(iy0 + ky * p->dil_h) * p->in_w +
                                          (ix0 + kx * p->dil_w)) * C + c];
                        acc += p->wdw[((size_t)ky * p->k_w + kx) * C + c] * (iv - p->in_zp);
                    }
                acc = (int32_t)((uint32_t)acc + (uint32_t)p->bias[c]);
                op[c] = ps_nn_rq_apply(&p->rq, acc);
            }
        }
    }
}

/* ---- elementwise ---------------------------------------------------------------- */

void ps_nn_add_fast(const ps_nn_add *p, const uint8_t *a, const uint8_t *b, uint8_t *out,
                    size_t i0, size_t i1)
{
    if (p->xnn) { /* small and rarely used: the plain loop */
        ps_nn_add_ref(p, a, b, out, i0, i1);
        return;
    }
    const vrq r1 = vrq_make(p->in1_mult, p->in1_shift, 0, 0, 0);
    const vrq r2 = vrq_make(p->in2_mult, p->in2_shift, 0, 0, 0);
    const vrq ro = vrq_from(&p->rq);
    const __m256i off1 = _mm256_set1_epi32(p->in1_off), off2 = _mm256_set1_epi32(p->in2_off);
    const __m128i ls = _mm_cvtsi32_si128(p->left_shift);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
        __m256i x1 = _mm256_sll_epi32(_mm256_add_epi32(load8_u8(a + i), off1), ls);
        __m256i x2 = _mm256_sll_epi32(_mm256_add_epi32(load8_u8(b + i), off2), ls);
        __m256i s = _mm256_add_epi32(vmul(x1, &r1), vmul(x2, &r2));
        store8(out + i, vrq_apply(s, &ro));
    }
    if (i < i1)
        ps_nn_add_ref(p, a, b, out, i, i1);
}

void ps_nn_requant_fast(const ps_nn_requant *p, const uint8_t *in, uint8_t *out, size_t i0,
                        size_t i1)
{
    if (p->xnn) {
        ps_nn_requant_ref(p, in, out, i0, i1);
        return;
    }
    const vrq r = vrq_from(&p->rq);
    const __m256i zin = _mm256_set1_epi32(p->in_zp);
    size_t i = i0;
    for (; i + 8 <= i1; i += 8)
        store8(out + i, vrq_apply(_mm256_sub_epi32(load8_u8(in + i), zin), &r));
    if (i < i1)
        ps_nn_requant_ref(p, in, out, i, i1);
}

/* ---- resize --------------------------------------------------------------------- */

static int32_t resize_scale10(int in_size, int out_size, int align_corners)
{
    if (align_corners && out_size > 1)
        return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
    return ((1 << 10) * in_size + out_size / 2) / out_size;
}

static void coord(int v, int32_t scale, int half_pixel, int in_size, int32_t *lo, int32_t *hi,
                  int32_t *frac)
{
    int32_t pos = half_pixel ? v * scale + scale / 2 - (1 << 9) : v * scale;
    int32_t l = pos / (1 << 10), h = (pos + (1 << 10) - 1) / (1 << 10);
    l = l > 0 ? l : 0;
    l = l < in_size - 1 ? l : in_size - 1;
    h = h < in_size - 1 ? h : in_size - 1;
    h = h > 0 ? h : 0;
    *lo = l;
    *hi = h;
    *frac = pos - (1 << 10) * l;
}

/* Separable form of the reference: sum_ij p_ij wy_i wx_j equals
 * sum_j wx_j (sum_i p_ij wy_i) exactly in integers, so a vertical pass per
 * output row followed by a horizontal pass gives the same bytes.  Rows or
 * columns whose weights leave [0, 1024] (extreme upsampling) take the
 * reference's 64-bit path. */
void ps_nn_resize_fast(const ps_nn_resize *p, const uint8_t *in, uint8_t *out, int r0, int r1)
{
    const int32_t sy = resize_scale10(p->in_h, p->out_h, p->align_corners);
    const int32_t sx = resize_scale10(p->in_w, p->out_w, p->align_corners);
    const int C = p->c;
    const size_t in_image = (size_t)p->in_h * p->in_w * C;
    const size_t rowlen = (size_t)p->in_w * C;
    int32_t *tmp = ps_xmalloc(rowlen * sizeof(int32_t));
    for (int row = r0; row < r1; row++) {
        int b = row / p->out_h, y = row % p->out_h;
        int32_t y0, y1, dy;
        coord(y, sy, p->half_pixel_centers, p->in_h, &y0, &y1, &dy);
        if (dy < 0 || dy > 1024) {
            ps_nn_resize_ref(p, in, out, row, row + 1);
            continue;
        }
        const uint8_t *ra = in + (size_t)b * in_image + (size_t)y0 * rowlen;
        const uint8_t *rb = in + (size_t)b * in_image + (size_t)y1 * rowlen;
        for (size_t i = 0; i < rowlen; i++)
            tmp[i] = ra[i] * (1024 - dy) + rb[i] * dy;
        uint8_t *o = out + (size_t)row * p->out_w * C;
        for (int x = 0; x < p->out_w; x++) {
            int32_t x0, x1, dx;
            coord(x, sx, p->half_pixel_centers, p->in_w, &x0, &x1, &dx);
            uint8_t *op = o + (size_t)x * C;
            if (dx < 0 || dx > 1024) {
                /* Rare: fall back on the reference for this pixel's row. */
                ps_nn_resize_ref(p, in, out, row, row + 1);
                break;
            }
            const int32_t *ta = tmp + (size_t)x0 * C, *tb = tmp + (size_t)x1 * C;
            for (int c = 0; c < C; c++) {
                /* The sum is at most 255 * 2^20 and never negative. */
                int32_t v = ta[c] * (1024 - dx) + tb[c] * dx;
                op[c] = (uint8_t)((v + (1 << 19)) >> 20);
            }
        }
    }
    free(tmp);
}

/* ---- argmax --------------------------------------------------------------------- */

void ps_nn_argmax_fast(const ps_nn_argmax *p, const uint8_t *in, void *out, size_t i0, size_t i1)
{
    if (p->inner != 1) {
        ps_nn_argmax_ref(p, in, out, i0, i1);
        return;
    }
    const size_t A = p->axis;
    for (size_t i = i0; i < i1; i++) {
        const uint8_t *src = in + i * A;
        unsigned best = src[0];
        size_t idx = 0;
        for (size_t a = 1; a < A; a++) {
            unsigned v = src[a];
            int gt = v > best;
            best = gt ? v : best;
            idx = gt ? a : idx;
        }
        if (p->out64)
            ((int64_t *)out)[i] = (int64_t)idx;
        else
            ((int32_t *)out)[i] = (int32_t)idx;
    }
}
