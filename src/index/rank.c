/*
 * rank.c - AVX2 float16 dot products and top-k selection (see rank.h).
 * Float32 rows are scored with ps_dot_f32 (learn/linalg.h): the same
 * four-accumulator kernel, and stride is a multiple of 8 so it has no
 * scalar tail.
 *
 * F16C (the float16 conversions) comes with every AVX2 processor; it is
 * enabled per function so the rest of the build keeps its flags.
 */
#include "index/rank.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#include "learn/linalg.h"

size_t ps_rank_stride(size_t dim)
{
    return (dim + 7) & ~(size_t)7;
}

static inline float hsum(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma,f16c"))) static inline __m256 load_half8(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_load_si128((const __m128i *)p));
}

__attribute__((target("avx2,fma,f16c"))) float ps_rank_dot_f16(const uint16_t *a, const float *b, size_t stride)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= stride; i += 32) {
        s0 = _mm256_fmadd_ps(load_half8(a + i), _mm256_load_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(load_half8(a + i + 8), _mm256_load_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_half8(a + i + 16), _mm256_load_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_half8(a + i + 24), _mm256_load_ps(b + i + 24), s3);
    }
    for (; i < stride; i += 8)
        s0 = _mm256_fmadd_ps(load_half8(a + i), _mm256_load_ps(b + i), s0);
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

__attribute__((target("avx2,fma,f16c"))) void ps_rank_row_to_f16(const float *src, size_t stride,
                                                                 uint16_t *dst, float *scale)
{
    float m = 0;
    for (size_t i = 0; i < stride; i++)
        if (fabsf(src[i]) > m)
            m = fabsf(src[i]);
    if (!(m > 0) || !isfinite(m))
        m = 1; /* zero row, or non-finite values that rank last anyway */
    __m256 inv = _mm256_set1_ps(1.0f / m);
    for (size_t i = 0; i < stride; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(src + i), inv), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    *scale = m;
}

/* a ranks before b: higher score, then lower row. */
static inline int better(float sa, uint32_t ra, float sb, uint32_t rb)
{
    return sa > sb || (sa == sb && ra < rb);
}

static void sift_down(ps_ranked *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i; /* w: the worst of i and its children */
        if (l < n && better(h[w].raw, h[w].row, h[l].raw, h[l].row))
            w = l;
        if (r < n && better(h[w].raw, h[w].row, h[r].raw, h[r].row))
            w = r;
        if (w == i)
            return;
        ps_ranked t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static void sift_up(ps_ranked *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!better(h[p].raw, h[p].row, h[i].raw, h[i].row))
            return;
        ps_ranked t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

/* Offer one scored row to the heap out[0..*n) of capacity k. */
static inline void offer(ps_ranked *out, size_t *n, size_t k, uint32_t row, float s)
{
    if (isnan(s))
        s = -INFINITY;
    if (*n < k) {
        out[*n] = (ps_ranked){row, s};
        sift_up(out, *n);
        (*n)++;
    } else if (better(s, row, out[0].raw, out[0].row)) {
        out[0] = (ps_ranked){row, s};
        sift_down(out, *n, 0);
    }
}

/* Heap sort in place: repeatedly move the worst to the end. */
static void heap_sort(ps_ranked *h, size_t n)
{
    for (size_t m = n; m > 1; m--) {
        ps_ranked t = h[0];
        h[0] = h[m - 1];
        h[m - 1] = t;
        sift_down(h, m - 1, 0);
    }
}

size_t ps_rank_topk(const ps_rank_matrix *m, size_t row0, size_t row1, const float *q, size_t k,
                    ps_ranked *out)
{
    if (row1 > m->rows)
        row1 = m->rows;
    if (row0 >= row1 || k == 0)
        return 0;
    size_t n = 0;
    if (m->f16) {
        for (size_t i = row0; i < row1; i++)
            offer(out, &n, k, (uint32_t)i, m->scale[i] * ps_rank_dot_f16(m->f16 + i * m->stride, q, m->stride));
    } else {
        for (size_t i = row0; i < row1; i++)
            offer(out, &n, k, (uint32_t)i, ps_dot_f32(m->f32 + i * m->stride, q, m->stride));
    }
    heap_sort(out, n);
    return n;
}

static int cmp_ranked(const void *a, const void *b)
{
    const ps_ranked *x = a, *y = b;
    if (better(x->raw, x->row, y->raw, y->row))
        return -1;
    return better(y->raw, y->row, x->raw, x->row) ? 1 : 0;
}

size_t ps_rank_merge(ps_ranked *cand, size_t n, size_t k)
{
    qsort(cand, n, sizeof *cand, cmp_ranked);
    return n < k ? n : k;
}
