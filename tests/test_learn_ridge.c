/* Tests for learn/ridge: recovery of planted weights, the alpha that CV
 * picks, primal == dual, agreement with a textbook solve written here,
 * pair views, determinism and save/load. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "learn/matrix.h"
#include "learn/ridge.h"
#include "learn/rng.h"
#include "test.h"

/* X ~ N(0,1) with feature j scaled by (1 + j), y = X w* + 0.5 + noise. */
static ps_mat make_linear(size_t n, size_t d, double noise, uint64_t seed, float **y,
                          double *wstar)
{
    ps_rng r;
    ps_rng_seed(&r, seed);
    ps_mat X = ps_mat_new(n, d);
    *y = ps_xmalloc(n * sizeof(float));
    for (size_t j = 0; j < d; j++)
        wstar[j] = (double)((int)(j % 5) - 2) / (1.0 + (double)j);
    for (size_t i = 0; i < n; i++) {
        double t = 0.5;
        for (size_t j = 0; j < d; j++) {
            float x = (float)(ps_rng_normal(&r) * (1.0 + (double)j));
            ps_mat_row(&X, i)[j] = x;
            t += wstar[j] * x;
        }
        (*y)[i] = (float)(t + noise * ps_rng_normal(&r));
    }
    return X;
}

TEST(recovers_planted_weights_with_a_small_alpha)
{
    double wstar[10];
    float *y;
    ps_mat X = make_linear(400, 10, 0.01, 7, &y, wstar);
    ps_rows rows = ps_rows_dense(&X);
    ps_ridge m;
    ps_error err;
    ps_ridge_opts o = ps_ridge_defaults();
    CHECK_INT(ps_ridge_fit(&m, &rows, y, NULL, 400, &o, &err), 0);
    for (size_t j = 0; j < 10; j++)
        CHECK_NEAR(m.w[j], wstar[j], 0.01);
    CHECK_NEAR(m.b, 0.5, 0.01);
    CHECK(m.alpha_rel <= 1e-3);
    CHECK_INT(m.n_grid, 8);
    ps_ridge_free(&m);
    ps_mat_free(&X);
    free(y);
}

TEST(cv_picks_a_strong_penalty_for_pure_noise)
{
    ps_rng r;
    ps_rng_seed(&r, 9);
    ps_mat X = ps_mat_new(120, 40);
    float y[120];
    for (size_t i = 0; i < 120 * 40; i++)
        X.data[i] = (float)ps_rng_normal(&r);
    for (size_t i = 0; i < 120; i++)
        y[i] = (float)ps_rng_normal(&r);
    ps_rows rows = ps_rows_dense(&X);
    ps_ridge m;
    ps_error err;
    CHECK_INT(ps_ridge_fit(&m, &rows, y, NULL, 120, NULL, &err), 0);
    CHECK(m.alpha_rel >= 10);
    /* The CV curve must fall from the smallest to the chosen alpha. */
    CHECK(m.grid_mse[0] > m.grid_mse[m.n_grid - 1]);
    ps_ridge_free(&m);
    ps_mat_free(&X);
}

/* Textbook ridge, written independently: center, build X^T X + a I, solve
 * by Gaussian elimination with partial pivoting. */
static void reference_ridge(const ps_mat *X, const float *y, double alpha_rel, double *w,
                            double *b)
{
    size_t n = X->rows, d = X->cols;
    double *mean = calloc(d, sizeof(double)), ym = 0;
    for (size_t i = 0; i < n; i++) {
        ym += y[i] / (double)n;
        for (size_t j = 0; j < d; j++)
            mean[j] += ps_mat_row(X, i)[j] / (double)n;
    }
    double *M = calloc(d * (d + 1), sizeof(double)), trace = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < d; a++) {
            double xa = ps_mat_row(X, i)[a] - mean[a];
            for (size_t c = 0; c < d; c++)
                M[a * (d + 1) + c] += xa * (ps_mat_row(X, i)[c] - mean[c]);
            M[a * (d + 1) + d] += xa * (y[i] - ym);
        }
    for (size_t a = 0; a < d; a++)
        trace += M[a * (d + 1) + a];
    for (size_t a = 0; a < d; a++)
        M[a * (d + 1) + a] += alpha_rel * trace / (double)d;
    for (size_t c = 0; c < d; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < d; r++)
            if (fabs(M[r * (d + 1) + c]) > fabs(M[piv * (d + 1) + c]))
                piv = r;
        for (size_t k = 0; k <= d; k++) {
            double t = M[c * (d + 1) + k];
            M[c * (d + 1) + k] = M[piv * (d + 1) + k];
            M[piv * (d + 1) + k] = t;
        }
        for (size_t r = 0; r < d; r++) {
            if (r == c)
                continue;
            double f = M[r * (d + 1) + c] / M[c * (d + 1) + c];
            for (size_t k = c; k <= d; k++)
                M[r * (d + 1) + k] -= f * M[c * (d + 1) + k];
        }
    }
    *b = ym;
    for (size_t a = 0; a < d; a++) {
        w[a] = M[a * (d + 1) + d] / M[a * (d + 1) + a];
        *b -= w[a] * mean[a];
    }
    free(M);
    free(mean);
}

TEST(matches_a_textbook_solve_in_primal_and_dual_form)
{
    /* n < d: the dual is what AUTO would use; both must agree with the
     * reference and with each other. */
    double wstar[50], wref[50], bref;
    float *y;
    ps_mat X = make_linear(30, 50, 0.3, 11, &y, wstar);
    ps_rows rows = ps_rows_dense(&X);
    double alpha = 0.05;
    reference_ridge(&X, y, alpha, wref, &bref);
    ps_ridge_opts o = ps_ridge_defaults();
    o.standardize = 0;
    o.alphas = &alpha;
    o.n_alphas = 1;
    ps_error err;
    for (int solver = PS_RIDGE_PRIMAL; solver <= PS_RIDGE_DUAL; solver++) {
        o.solver = solver;
        ps_ridge m;
        CHECK_INT(ps_ridge_fit(&m, &rows, y, NULL, 30, &o, &err), 0);
        for (size_t j = 0; j < 50; j++)
            CHECK_NEAR(m.w[j], wref[j], 1e-4 * (1 + fabs(wref[j])));
        CHECK_NEAR(m.b, bref, 1e-4 * (1 + fabs(bref)));
        ps_ridge_free(&m);
    }
    /* With the default grid the CV curves of both forms agree: closely
     * where the system is well conditioned, roughly where alpha is tiny
     * and rank-deficient X^T X amplifies the float rounding of X. */
    o.alphas = NULL;
    o.standardize = 1;
    ps_ridge mp, md;
    o.solver = PS_RIDGE_PRIMAL;
    CHECK_INT(ps_ridge_fit(&mp, &rows, y, NULL, 30, &o, &err), 0);
    o.solver = PS_RIDGE_DUAL;
    CHECK_INT(ps_ridge_fit(&md, &rows, y, NULL, 30, &o, &err), 0);
    for (size_t k = 0; k < mp.n_grid; k++)
        CHECK_NEAR(mp.grid_mse[k], md.grid_mse[k],
                   (mp.grid_rel[k] >= 0.1 ? 1e-6 : 1e-3) * (1 + mp.grid_mse[k]));
    CHECK(mp.alpha_rel == md.alpha_rel);
    ps_ridge_free(&mp);
    ps_ridge_free(&md);
    ps_mat_free(&X);
    free(y);
}

TEST(pair_view_equals_dense_rows_and_subsets_work)
{
    ps_rng r;
    ps_rng_seed(&r, 5);
    ps_mat T = ps_mat_new(6, 3), P = ps_mat_new(9, 4), E = ps_mat_new(40, 1);
    for (size_t i = 0; i < 18; i++)
        T.data[i] = (float)ps_rng_normal(&r);
    for (size_t i = 0; i < 36; i++)
        P.data[i] = (float)ps_rng_normal(&r);
    uint32_t ti[40], pi[40], groups[40];
    float y[40];
    ps_mat D = ps_mat_new(40, 8);
    for (size_t i = 0; i < 40; i++) {
        ti[i] = (uint32_t)(i % 6);
        pi[i] = (uint32_t)((i * 7) % 9);
        groups[i] = pi[i];
        E.data[i] = (float)i / 40.0f;
        memcpy(ps_mat_row(&D, i), ps_mat_row(&T, ti[i]), 3 * sizeof(float));
        memcpy(ps_mat_row(&D, i) + 3, ps_mat_row(&P, pi[i]), 4 * sizeof(float));
        ps_mat_row(&D, i)[7] = E.data[i];
        y[i] = ps_mat_row(&D, i)[0] - 2 * ps_mat_row(&D, i)[5] + (float)ps_rng_normal(&r) * 0.1f;
    }
    ps_pairs pairs = {&T, &P, 40, ti, pi, &E};
    ps_rows rp = ps_rows_pairs(&pairs), rd = ps_rows_dense(&D);
    CHECK_INT(rp.cols, 8);
    size_t sub[30];
    for (size_t i = 0; i < 30; i++)
        sub[i] = i + 5;
    ps_ridge_opts o = ps_ridge_defaults();
    o.groups = groups;
    ps_ridge a, b;
    ps_error err;
    CHECK_INT(ps_ridge_fit(&a, &rp, y, sub, 30, &o, &err), 0);
    CHECK_INT(ps_ridge_fit(&b, &rd, y, sub, 30, &o, &err), 0);
    CHECK(memcmp(a.w, b.w, 8 * sizeof(float)) == 0);
    CHECK(a.b == b.b);
    float pa[40], pb[40];
    ps_ridge_predict(&a, &rp, NULL, 40, pa);
    ps_ridge_predict(&b, &rd, NULL, 40, pb);
    CHECK(memcmp(pa, pb, sizeof pa) == 0);
    ps_ridge_free(&a);
    /* An out-of-range pair index is an error, not a crash. */
    pi[3] = 99;
    CHECK_INT(ps_ridge_fit(&a, &rp, y, sub, 30, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "pair 3: photo index 99 is out of range");
    /* Fewer groups than folds. */
    pi[3] = 0;
    uint32_t two[40] = {0};
    two[39] = 1;
    o.groups = two;
    CHECK_INT(ps_ridge_fit(&a, &rp, y, NULL, 40, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "5 folds need between 2 and 2");
    ps_ridge_free(&b);
    ps_mat_free(&T);
    ps_mat_free(&P);
    ps_mat_free(&E);
    ps_mat_free(&D);
}

TEST(deterministic_bytes_and_save_load_round_trip)
{
    double wstar[12];
    float *y;
    ps_mat X = make_linear(200, 12, 0.5, 3, &y, wstar);
    ps_rows rows = ps_rows_dense(&X);
    ps_ridge_opts o = ps_ridge_defaults();
    ps_ridge a, b, c;
    ps_error err;
    o.threads = 1;
    CHECK_INT(ps_ridge_fit(&a, &rows, y, NULL, 200, &o, &err), 0);
    o.threads = 3;
    CHECK_INT(ps_ridge_fit(&b, &rows, y, NULL, 200, &o, &err), 0);
    const char *pa = test_write_tmp("ridge_a.model", "", 0);
    CHECK_INT(ps_ridge_save(&a, pa, &err), 0);
    const char *pb = test_write_tmp("ridge_b.model", "", 0);
    CHECK_INT(ps_ridge_save(&b, pb, &err), 0);
    size_t la, lb;
    char *da = ps_read_file(pa, 1 << 20, &la, &err), *db = ps_read_file(pb, 1 << 20, &lb, &err);
    CHECK(da && db && la == lb && memcmp(da, db, la) == 0);
    free(da);
    free(db);
    CHECK_INT(ps_ridge_load(&c, pa, &err), 0);
    CHECK_INT(c.d, 12);
    CHECK(memcmp(c.w, a.w, 12 * sizeof(float)) == 0 && c.b == a.b);
    CHECK(ps_ridge_predict_row(&c, ps_mat_row(&X, 4)) == ps_ridge_predict_row(&a, ps_mat_row(&X, 4)));
    ps_ridge_free(&c);
    /* Loading a file of another kind fails clearly. */
    CHECK_INT(ps_ridge_load(&c, "/nonexistent/ridge.model", &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/ridge.model");
    ps_ridge_free(&a);
    ps_ridge_free(&b);
    ps_mat_free(&X);
    free(y);
}

TEST(rejects_bad_input)
{
    ps_mat X = ps_mat_new(10, 2);
    float y[10] = {0};
    ps_rows rows = ps_rows_dense(&X);
    ps_ridge m;
    ps_error err;
    X.data[7] = NAN;
    CHECK_INT(ps_ridge_fit(&m, &rows, y, NULL, 10, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "row 3, column 1: not a finite number");
    X.data[7] = 0;
    double neg = -1;
    ps_ridge_opts o = ps_ridge_defaults();
    o.alphas = &neg;
    o.n_alphas = 1;
    CHECK_INT(ps_ridge_fit(&m, &rows, y, NULL, 10, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "positive");
    size_t bad_idx[2] = {0, 10};
    CHECK_INT(ps_ridge_fit(&m, &rows, y, bad_idx, 2, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "row 10 is out of range");
    ps_mat_free(&X);
}

int main(void)
{
    RUN(recovers_planted_weights_with_a_small_alpha);
    RUN(cv_picks_a_strong_penalty_for_pure_noise);
    RUN(matches_a_textbook_solve_in_primal_and_dual_form);
    RUN(pair_view_equals_dense_rows_and_subsets_work);
    RUN(deterministic_bytes_and_save_load_round_trip);
    RUN(rejects_bad_input);
    return test_summary();
}
