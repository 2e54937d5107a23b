/*
 * Dense kernels.  The register tiles (4 x 2 dot products, 4 x 16 axpy
 * blocks) keep the loads per FMA low enough that the 2,000-dimensional
 * problems of picseek run near the speed of memory without any BLAS.
 */
#include "learn/linalg.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#include "core/buf.h"

#include "learn/parallel.h"

static inline float hsum8(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

static inline double hsum4d(__m256d v)
{
    __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
    lo = _mm_add_pd(lo, hi);
    return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

float ps_dot_f32(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

double ps_dot_f64(const double *a, const double *b, size_t n)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 4), _mm256_loadu_pd(b + i + 4), s1);
        s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 8), _mm256_loadu_pd(b + i + 8), s2);
        s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i + 12), _mm256_loadu_pd(b + i + 12), s3);
    }
    for (; i + 4 <= n; i += 4)
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i), s0);
    double s = hsum4d(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

void ps_axpy_f32(float a, const float *x, float *y, size_t n)
{
    __m256 va = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}

/* out[q][c] = dot(a_q, b_c) over k floats for 4 rows a and 2 rows b. */
static void dot4x2_f32(const float *a[4], const float *b[2], size_t k, float out[4][2])
{
    __m256 s[4][2];
    #pragma GCC unroll 8
    for (int q = 0; q < 4; q++)
        s[q][0] = s[q][1] = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + 8 <= k; p += 8) {
        __m256 b0 = _mm256_loadu_ps(b[0] + p), b1 = _mm256_loadu_ps(b[1] + p);
        #pragma GCC unroll 8
        for (int q = 0; q < 4; q++) {
            __m256 av = _mm256_loadu_ps(a[q] + p);
            s[q][0] = _mm256_fmadd_ps(av, b0, s[q][0]);
            s[q][1] = _mm256_fmadd_ps(av, b1, s[q][1]);
        }
    }
    #pragma GCC unroll 8
    for (int q = 0; q < 4; q++) {
        #pragma GCC unroll 8
        for (int c = 0; c < 2; c++) {
            float t = hsum8(s[q][c]);
            for (size_t r = p; r < k; r++)
                t += a[q][r] * b[c][r];
            out[q][c] = t;
        }
    }
}

/* ---- Gram matrix ------------------------------------------------------------ */

#define GRAM_CHUNK 256

typedef struct gram_job {
    const float *A;
    size_t rows, len, lda;
    double *G;
    size_t ldg;
} gram_job;

/* Rows past the end are clamped to the last row: the tile computes a few
 * products twice instead of needing separate edge code, and they are not
 * stored. */
static void gram_block(void *ctx, size_t task)
{
    const gram_job *g = ctx;
    size_t i0 = task * 4;
    const float *a[4];
    #pragma GCC unroll 8
    for (int q = 0; q < 4; q++) {
        size_t i = i0 + (size_t)q < g->rows ? i0 + (size_t)q : g->rows - 1;
        a[q] = g->A + i * g->lda;
    }
    size_t jend = i0 + 4 < g->rows ? i0 + 4 : g->rows;
    for (size_t j0 = 0; j0 < jend; j0 += 2) {
        size_t j1 = j0 + 1 < g->rows ? j0 + 1 : j0;
        double acc[4][2] = {{0}};
        for (size_t c = 0; c < g->len; c += GRAM_CHUNK) {
            size_t k = g->len - c < GRAM_CHUNK ? g->len - c : GRAM_CHUNK;
            const float *ac[4] = {a[0] + c, a[1] + c, a[2] + c, a[3] + c};
            const float *bc[2] = {g->A + j0 * g->lda + c, g->A + j1 * g->lda + c};
            float out[4][2];
            dot4x2_f32(ac, bc, k, out);
            #pragma GCC unroll 8
            for (int q = 0; q < 4; q++) {
                acc[q][0] += out[q][0];
                acc[q][1] += out[q][1];
            }
        }
        #pragma GCC unroll 8
        for (int q = 0; q < 4; q++) {
            size_t i = i0 + (size_t)q;
            if (i >= g->rows)
                break;
            if (j0 <= i)
                g->G[i * g->ldg + j0] = acc[q][0];
            if (j0 + 1 <= i)
                g->G[i * g->ldg + j0 + 1] = acc[q][1];
        }
    }
}

void ps_gram_lower(const float *A, size_t rows, size_t len, size_t lda, double *G, size_t ldg,
                   int threads)
{
    if (rows == 0)
        return;
    gram_job g = {A, rows, len, lda, G, ldg};
    ps_parallel_run(threads, (rows + 3) / 4, gram_block, &g);
}

/* ---- matrix products for the MLP ----------------------------------------------- */

void ps_gemm_nt(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                size_t m, size_t n, size_t k)
{
    if (m == 0 || n == 0)
        return;
    for (size_t i0 = 0; i0 < m; i0 += 4) {
        const float *a[4];
        #pragma GCC unroll 8
        for (int q = 0; q < 4; q++)
            a[q] = A + (i0 + (size_t)q < m ? i0 + (size_t)q : m - 1) * lda;
        for (size_t j0 = 0; j0 < n; j0 += 2) {
            const float *b[2] = {B + j0 * ldb, B + (j0 + 1 < n ? j0 + 1 : j0) * ldb};
            float out[4][2];
            dot4x2_f32(a, b, k, out);
            for (int q = 0; q < 4 && i0 + (size_t)q < m; q++) {
                C[(i0 + (size_t)q) * ldc + j0] = out[q][0];
                if (j0 + 1 < n)
                    C[(i0 + (size_t)q) * ldc + j0 + 1] = out[q][1];
            }
        }
    }
}

/* C (m x n) += sum_p A(i, p) B[p][j] with A(i, p) = A[i * si + p * sp]:
 * one routine serves A and A^T.  Tiles of 4 rows x 16 columns of C stay in
 * registers while p runs. */
static void gemm_acc(const float *A, size_t si, size_t sp, const float *B, size_t ldb, float *C,
                     size_t ldc, size_t m, size_t n, size_t k)
{
    size_t i0 = 0;
    for (; i0 + 4 <= m; i0 += 4) {
        size_t j = 0;
        for (; j + 16 <= n; j += 16) {
            __m256 c[4][2];
            #pragma GCC unroll 8
            for (int q = 0; q < 4; q++) {
                c[q][0] = _mm256_loadu_ps(C + (i0 + (size_t)q) * ldc + j);
                c[q][1] = _mm256_loadu_ps(C + (i0 + (size_t)q) * ldc + j + 8);
            }
            for (size_t p = 0; p < k; p++) {
                __m256 b0 = _mm256_loadu_ps(B + p * ldb + j);
                __m256 b1 = _mm256_loadu_ps(B + p * ldb + j + 8);
                #pragma GCC unroll 8
                for (int q = 0; q < 4; q++) {
                    __m256 av = _mm256_set1_ps(A[(i0 + (size_t)q) * si + p * sp]);
                    c[q][0] = _mm256_fmadd_ps(av, b0, c[q][0]);
                    c[q][1] = _mm256_fmadd_ps(av, b1, c[q][1]);
                }
            }
            #pragma GCC unroll 8
            for (int q = 0; q < 4; q++) {
                _mm256_storeu_ps(C + (i0 + (size_t)q) * ldc + j, c[q][0]);
                _mm256_storeu_ps(C + (i0 + (size_t)q) * ldc + j + 8, c[q][1]);
            }
        }
        /* Leftover columns, one row at a time. */
        #pragma GCC unroll 8
        for (int q = 0; q < 4; q++)
            for (size_t p = 0; p < k; p++) {
                float av = A[(i0 + (size_t)q) * si + p * sp];
                for (size_t jj = j; jj < n; jj++)
                    C[(i0 + (size_t)q) * ldc + jj] += av * B[p * ldb + jj];
            }
    }
    for (; i0 < m; i0++)
        for (size_t p = 0; p < k; p++)
            ps_axpy_f32(A[i0 * si + p * sp], B + p * ldb, C + i0 * ldc, n);
}

void ps_gemm_nn_acc(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                    size_t m, size_t n, size_t k)
{
    gemm_acc(A, lda, 1, B, ldb, C, ldc, m, n, k);
}

void ps_gemm_tn_acc(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                    size_t m, size_t n, size_t k)
{
    gemm_acc(A, 1, lda, B, ldb, C, ldc, m, n, k);
}

/* ---- Cholesky ------------------------------------------------------------------------ */

/* Right-looking blocked factorization: factor a block column of CHOL_NB
 * columns, then subtract its outer product from the trailing lower
 * triangle.  The trailing update holds almost all the work; it runs as 6 x 8
 * register tiles against a transposed copy of the panel, so each loaded
 * value feeds several FMAs. */
#define CHOL_NB 96

/* Rows r0..r1-1, columns c0..c1-1 (c1 <= r0 or the diagonal block itself),
 * using only the columns from k0 on (earlier ones are already subtracted). */
static int chol_panel(double *A, size_t lda, size_t k0, size_t r0, size_t r1, size_t c1,
                      ps_error *err)
{
    for (size_t i = r0; i < r1; i++) {
        double *ri = A + i * lda;
        for (size_t c = k0; c < c1 && c <= i; c++) {
            const double *rc = A + c * lda;
            double s = ri[c] - ps_dot_f64(ri + k0, rc + k0, c - k0);
            if (c < i) {
                ri[c] = s / rc[c];
            } else {
                if (!(s > 0.0) || !isfinite(s))
                    return ps_errorf(err, "matrix is not positive definite (pivot %zu)", i);
                ri[i] = sqrt(s);
            }
        }
    }
    return 0;
}

/* A[i][j] -= sum_p A[i][k0 + p] * PT[p][j - k1] for k1 <= j <= i < n. */
static void chol_update(double *A, size_t lda, size_t n, size_t k0, size_t kb, size_t k1,
                        const double *PT, size_t ldp)
{
    for (size_t i0 = k1; i0 < n; i0 += 6) {
        size_t ni = n - i0 < 6 ? n - i0 : 6;
        size_t j0 = k1;
        /* Full tiles strictly below the diagonal. */
        if (ni == 6) {
            for (; j0 + 8 <= i0 + 1; j0 += 8) {
                __m256d c[6][2];
                #pragma GCC unroll 8
                for (int q = 0; q < 6; q++) {
                    c[q][0] = _mm256_loadu_pd(A + (i0 + (size_t)q) * lda + j0);
                    c[q][1] = _mm256_loadu_pd(A + (i0 + (size_t)q) * lda + j0 + 4);
                }
                const double *pt = PT + (j0 - k1);
                for (size_t p = 0; p < kb; p++) {
                    __m256d b0 = _mm256_loadu_pd(pt + p * ldp);
                    __m256d b1 = _mm256_loadu_pd(pt + p * ldp + 4);
                    #pragma GCC unroll 8
                    for (int q = 0; q < 6; q++) {
                        __m256d av = _mm256_broadcast_sd(A + (i0 + (size_t)q) * lda + k0 + p);
                        c[q][0] = _mm256_fnmadd_pd(av, b0, c[q][0]);
                        c[q][1] = _mm256_fnmadd_pd(av, b1, c[q][1]);
                    }
                }
                #pragma GCC unroll 8
                for (int q = 0; q < 6; q++) {
                    _mm256_storeu_pd(A + (i0 + (size_t)q) * lda + j0, c[q][0]);
                    _mm256_storeu_pd(A + (i0 + (size_t)q) * lda + j0 + 4, c[q][1]);
                }
            }
        }
        /* The rest of these rows up to the diagonal, one entry at a time. */
        for (size_t q = 0; q < ni; q++) {
            size_t i = i0 + q;
            double *ri = A + i * lda;
            for (size_t j = j0; j <= i; j++) {
                double s = 0;
                for (size_t p = 0; p < kb; p++)
                    s += ri[k0 + p] * PT[p * ldp + (j - k1)];
                ri[j] -= s;
            }
        }
    }
}

int ps_cholesky(double *A, size_t n, size_t lda, ps_error *err)
{
    double *PT = n > CHOL_NB ? ps_xmalloc(CHOL_NB * (n - CHOL_NB) * sizeof(double)) : NULL;
    int rc = 0;
    for (size_t k0 = 0; k0 < n && rc == 0; k0 += CHOL_NB) {
        size_t kb = n - k0 < CHOL_NB ? n - k0 : CHOL_NB, k1 = k0 + kb;
        rc = chol_panel(A, lda, k0, k0, k1, k1, err);
        if (rc == 0)
            rc = chol_panel(A, lda, k0, k1, n, k1, err);
        if (rc != 0 || k1 == n)
            break;
        size_t ldp = n - k1;
        for (size_t i = k1; i < n; i++)
            for (size_t p = 0; p < kb; p++)
                PT[p * ldp + (i - k1)] = A[i * lda + k0 + p];
        chol_update(A, lda, n, k0, kb, k1, PT, ldp);
    }
    free(PT);
    return rc;
}

void ps_cholesky_solve(const double *L, size_t n, size_t lda, double *b)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (b[i] - ps_dot_f64(L + i * lda, b, i)) / L[i * lda + i];
    for (size_t i = n; i-- > 0;) {
        const double *ri = L + i * lda;
        double x = b[i] / ri[i];
        b[i] = x;
        for (size_t j = 0; j < i; j++)
            b[j] -= ri[j] * x;
    }
}
