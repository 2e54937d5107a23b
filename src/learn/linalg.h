/*
 * linalg.h - the few dense kernels learn/ needs, written for AVX2+FMA
 * without BLAS.
 *
 * Every kernel sums in a fixed order that depends only on the sizes, so a
 * result is bit-identical from run to run (and for any thread count).
 * Matrices are row-major; `ld` is the distance in elements between rows.
 * Only ps_cholesky allocates (a panel buffer, freed before it returns).
 */
#ifndef PS_LEARN_LINALG_H
#define PS_LEARN_LINALG_H

#include <stddef.h>

#include "core/error.h"

float ps_dot_f32(const float *a, const float *b, size_t n);
double ps_dot_f64(const double *a, const double *b, size_t n);
/* y += a * x */
void ps_axpy_f32(float a, const float *x, float *y, size_t n);

/* G = A A^T for the lower triangle (j <= i) of the rows x rows matrix G,
 * where A is rows x len (float, leading dimension lda).  Products are summed
 * in float over chunks of 256 and the chunks in double, which keeps the
 * error near double's for the lengths learn/ sees.  The upper triangle is
 * left untouched.  Runs on up to `threads` threads. */
void ps_gram_lower(const float *A, size_t rows, size_t len, size_t lda, double *G, size_t ldg,
                   int threads);

/* C (m x n) = A (m x k) B^T where B is n x k: every C[i][j] is the dot
 * product of row i of A and row j of B. */
void ps_gemm_nt(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                size_t m, size_t n, size_t k);
/* C (m x n) += A (m x k) B (k x n). */
void ps_gemm_nn_acc(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                    size_t m, size_t n, size_t k);
/* C (m x n) += A^T B where A is k x m and B is k x n. */
void ps_gemm_tn_acc(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                    size_t m, size_t n, size_t k);

/* In-place Cholesky factorization of the symmetric positive definite n x n
 * matrix whose lower triangle is in A: afterwards the lower triangle holds
 * L with A = L L^T (the upper triangle is not read or written).  Fails with
 * "matrix is not positive definite (pivot N)" if it is not. */
int ps_cholesky(double *A, size_t n, size_t lda, ps_error *err);
/* Solve L L^T x = b in place (b becomes x), L from ps_cholesky. */
void ps_cholesky_solve(const double *L, size_t n, size_t lda, double *b);

#endif
