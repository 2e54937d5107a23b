/* Tests for learn/linalg, learn/rng and learn/parallel: every kernel
 * against a plain triple loop written here, at sizes that hit the tile
 * edges. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/linalg.h"
#include "learn/parallel.h"
#include "learn/rng.h"
#include "test.h"

static void fill(ps_rng *r, float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(ps_rng_uniform(r) * 2 - 1);
}

TEST(rng_is_deterministic_and_uniform)
{
    ps_rng a, b;
    ps_rng_seed(&a, 42);
    ps_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        CHECK(ps_rng_u64(&a) == ps_rng_u64(&b));
    ps_rng_seed(&b, 43);
    CHECK(ps_rng_u64(&a) != ps_rng_u64(&b));
    /* splitmix64 reference value: first output for state 0. */
    uint64_t st = 0;
    CHECK(ps_splitmix64(&st) == 0xE220A8397B1DCDAFull);
    /* Means and a bound check over many draws. */
    double su = 0, sn = 0, sn2 = 0;
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        double u = ps_rng_uniform(&a);
        CHECK(u >= 0 && u < 1);
        su += u;
        double z = ps_rng_normal(&a);
        sn += z;
        sn2 += z * z;
        counts[ps_rng_below(&a, 7)]++;
    }
    CHECK_NEAR(su / 70000, 0.5, 0.01);
    CHECK_NEAR(sn / 70000, 0.0, 0.02);
    CHECK_NEAR(sn2 / 70000, 1.0, 0.03);
    for (int k = 0; k < 7; k++)
        CHECK(counts[k] > 9400 && counts[k] < 10600);
    size_t v[10];
    for (size_t i = 0; i < 10; i++)
        v[i] = i;
    ps_rng_shuffle(&a, v, 10);
    int seen[10] = {0};
    for (size_t i = 0; i < 10; i++)
        seen[v[i]]++;
    for (size_t i = 0; i < 10; i++)
        CHECK_INT(seen[i], 1);
}

TEST(dot_and_axpy_match_loops)
{
    ps_rng r;
    ps_rng_seed(&r, 1);
    for (size_t n = 0; n < 80; n += 7) {
        float a[80], b[80], y[80], y2[80];
        fill(&r, a, n);
        fill(&r, b, n);
        fill(&r, y, n);
        memcpy(y2, y, sizeof y);
        double ref = 0;
        for (size_t i = 0; i < n; i++)
            ref += (double)a[i] * b[i];
        CHECK_NEAR(ps_dot_f32(a, b, n), ref, 1e-5);
        double da[80], db[80];
        for (size_t i = 0; i < n; i++) {
            da[i] = a[i];
            db[i] = b[i];
        }
        CHECK_NEAR(ps_dot_f64(da, db, n), ref, 1e-12);
        ps_axpy_f32(0.5f, a, y, n);
        for (size_t i = 0; i < n; i++)
            CHECK_NEAR(y[i], y2[i] + 0.5 * a[i], 1e-6);
    }
}

TEST(gram_matches_loops_for_any_thread_count)
{
    ps_rng r;
    ps_rng_seed(&r, 2);
    size_t rows = 11, len = 601, lda = 605;
    float *A = ps_xmalloc(rows * lda * sizeof(float));
    fill(&r, A, rows * lda);
    double G1[11 * 11], G2[11 * 11];
    for (size_t i = 0; i < 121; i++)
        G1[i] = G2[i] = -7; /* the upper triangle must stay untouched */
    ps_gram_lower(A, rows, len, lda, G1, rows, 1);
    ps_gram_lower(A, rows, len, lda, G2, rows, 3);
    CHECK(memcmp(G1, G2, sizeof G1) == 0);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < rows; j++) {
            if (j > i) {
                CHECK(G1[i * rows + j] == -7);
                continue;
            }
            double ref = 0;
            for (size_t k = 0; k < len; k++)
                ref += (double)A[i * lda + k] * A[j * lda + k];
            CHECK_NEAR(G1[i * rows + j], ref, 1e-4);
        }
    free(A);
}

TEST(gemm_variants_match_loops)
{
    ps_rng r;
    ps_rng_seed(&r, 3);
    size_t m = 7, n = 19, k = 13;
    float A[7 * 13], At[13 * 7], B[19 * 13], Bn[13 * 19], C[7 * 19], C2[7 * 19];
    fill(&r, A, m * k);
    fill(&r, B, n * k);
    fill(&r, Bn, k * n);
    for (size_t i = 0; i < m; i++)
        for (size_t p = 0; p < k; p++)
            At[p * m + i] = A[i * k + p];
    ps_gemm_nt(A, k, B, k, C, n, m, n, k);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double ref = 0;
            for (size_t p = 0; p < k; p++)
                ref += (double)A[i * k + p] * B[j * k + p];
            CHECK_NEAR(C[i * n + j], ref, 1e-5);
        }
    /* nn and tn accumulate onto what C already holds. */
    for (size_t i = 0; i < m * n; i++)
        C[i] = C2[i] = 1.0f;
    ps_gemm_nn_acc(A, k, Bn, n, C, n, m, n, k);
    ps_gemm_tn_acc(At, m, Bn, n, C2, n, m, n, k);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double ref = 1.0;
            for (size_t p = 0; p < k; p++)
                ref += (double)A[i * k + p] * Bn[p * n + j];
            CHECK_NEAR(C[i * n + j], ref, 1e-5);
            CHECK_NEAR(C2[i * n + j], ref, 1e-5);
        }
}

TEST(cholesky_solves_spd_systems)
{
    ps_rng r;
    ps_rng_seed(&r, 4);
    /* Sizes below, at and across the 96-column blocks and the 6 x 8 tiles. */
    static const size_t sizes[] = {1, 2, 5, 7, 23, 96, 97, 203};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        double *B = ps_xmalloc(n * n * sizeof(double)), *A = ps_xmalloc(n * n * sizeof(double));
        double *L = ps_xmalloc(n * n * sizeof(double)), x[203], b[203];
        for (size_t i = 0; i < n * n; i++)
            B[i] = ps_rng_uniform(&r) - 0.5;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = i == j ? 0.1 : 0.0;
                for (size_t p = 0; p < n; p++)
                    s += B[i * n + p] * B[j * n + p];
                A[i * n + j] = s;
                L[i * n + j] = j <= i ? s : -99; /* the upper triangle must not be read */
            }
        for (size_t i = 0; i < n; i++)
            x[i] = b[i] = ps_rng_uniform(&r);
        ps_error err;
        CHECK_INT(ps_cholesky(L, n, n, &err), 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                CHECK(L[i * n + j] == -99); /* ... nor written */
        ps_cholesky_solve(L, n, n, x);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += A[i * n + j] * x[j];
            CHECK_NEAR(s, b[i], 1e-7);
        }
        free(A);
        free(B);
        free(L);
    }
    double bad[4] = {1, 0, 2, 1}; /* [[1,2],[2,1]] is indefinite */
    ps_error err;
    CHECK_INT(ps_cholesky(bad, 2, 2, &err), -1);
    CHECK_CONTAINS(err.msg, "not positive definite");
}

static void square_task(void *ctx, size_t i)
{
    long *v = ctx;
    v[i] = (long)(i * i);
}

TEST(parallel_runs_every_task_once)
{
    long v[37];
    for (int t = 1; t <= 4; t++) {
        memset(v, 0xff, sizeof v);
        ps_parallel_run(t, 37, square_task, v);
        for (long i = 0; i < 37; i++)
            CHECK_INT(v[i], i * i);
    }
}

int main(void)
{
    RUN(rng_is_deterministic_and_uniform);
    RUN(dot_and_axpy_match_loops);
    RUN(gram_matches_loops_for_any_thread_count);
    RUN(gemm_variants_match_loops);
    RUN(cholesky_solves_spd_systems);
    RUN(parallel_runs_every_task_once);
    return test_summary();
}
