/*
 * rank.c - AVX2 dot products and top-k selection (see rank.h).
 */
#include "index/rank.h"

#include <immintrin.h>
#include <math.h>

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

float ps_dot_f32(const float *a, const float *b, size_t stride)
{
    /* Four accumulators hide the FMA latency. */
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= stride; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_load_ps(a + i), _mm256_load_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_load_ps(a + i + 8), _mm256_load_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_load_ps(a + i + 16), _mm256_load_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_load_ps(a + i + 24), _mm256_load_ps(b + i + 24), s3);
    }
    for (; i < stride; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_load_ps(a + i), _mm256_load_ps(b + i), s0);
    return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
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

size_t ps_rank_topk(const float *mat, size_t rows, size_t stride, const float *q, size_t k,
                    ps_ranked *out)
{
    if (k > rows)
        k = rows;
    if (k == 0)
        return 0;
    /* out[0..n) is a heap whose root is the worst of the best so far. */
    size_t n = 0;
    for (size_t i = 0; i < rows; i++) {
        float s = ps_dot_f32(mat + i * stride, q, stride);
        if (isnan(s))
            s = -INFINITY;
        if (n < k) {
            out[n] = (ps_ranked){(uint32_t)i, s};
            sift_up(out, n);
            n++;
        } else if (better(s, (uint32_t)i, out[0].raw, out[0].row)) {
            out[0] = (ps_ranked){(uint32_t)i, s};
            sift_down(out, n, 0);
        }
    }
    /* Heap sort in place: repeatedly move the worst to the end. */
    for (size_t m = n; m > 1; m--) {
        ps_ranked t = out[0];
        out[0] = out[m - 1];
        out[m - 1] = t;
        sift_down(out, m - 1, 0);
    }
    return n;
}
