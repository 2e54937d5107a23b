/* Tests for learn/mlp: it must fit a nonlinear function far better than
 * ridge, stop early on a validation set, and be byte-for-byte
 * deterministic (same seed, 1 or 2 threads) through save/load. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "learn/matrix.h"
#include "learn/metrics.h"
#include "learn/mlp.h"
#include "learn/ridge.h"
#include "learn/rng.h"
#include "test.h"

#define N 2400
#define D 6

/* y = sigmoid(3 x0 x1 + 2 cos(3 x2) - 1.5 x3^2 + 0.5) with x4, x5 noise
 * features: an interaction, a wave and a bowl, none of them linear. */
static ps_mat make_data(float *y)
{
    ps_rng r;
    ps_rng_seed(&r, 77);
    ps_mat X = ps_mat_new(N, D);
    for (size_t i = 0; i < N; i++) {
        float *x = ps_mat_row(&X, i);
        for (size_t j = 0; j < D; j++)
            x[j] = (float)(ps_rng_uniform(&r) * 2 - 1);
        double z = 3 * x[0] * x[1] + 2 * cos(3 * x[2]) - 1.5 * x[3] * x[3] + 0.5;
        y[i] = (float)(1 / (1 + exp(-z)));
    }
    return X;
}

static ps_mlp_opts small_opts(void)
{
    ps_mlp_opts o = ps_mlp_defaults();
    o.hidden[0] = 48;
    o.hidden[1] = 24;
    o.dropout = 0.0f;
    o.lr = 3e-3f;
    o.batch = 32;
    o.max_epochs = 120;
    o.patience = 12;
    return o;
}

TEST(fits_a_nonlinear_function_better_than_ridge)
{
    static float y[N];
    ps_mat X = make_data(y);
    ps_rows rows = ps_rows_dense(&X);
    size_t tr[1600], va[400], te[400];
    for (size_t i = 0; i < 1600; i++)
        tr[i] = i;
    for (size_t i = 0; i < 400; i++) {
        va[i] = 1600 + i;
        te[i] = 2000 + i;
    }
    ps_mlp_opts o = small_opts();
    ps_mlp m;
    ps_error err;
    CHECK_INT(ps_mlp_train(&m, &rows, y, tr, 1600, va, 400, &o, &err), 0);
    float pm[400], pr[400], yt[400];
    ps_mlp_predict(&m, &rows, te, 400, pm);
    for (size_t i = 0; i < 400; i++)
        yt[i] = y[te[i]];
    ps_ridge rm;
    CHECK_INT(ps_ridge_fit(&rm, &rows, y, tr, 1600, NULL, &err), 0);
    ps_ridge_predict(&rm, &rows, te, 400, pr);
    double r2_mlp = ps_r2(pm, yt, 400), r2_ridge = ps_r2(pr, yt, 400);
    fprintf(stderr, "mlp R2 %.3f (best epoch %zu of %zu), ridge R2 %.3f\n", r2_mlp, m.best_epoch,
            m.epochs_run, r2_ridge);
    CHECK(r2_mlp > 0.9);
    CHECK(r2_ridge < 0.3);
    CHECK(m.best_epoch >= 1 && m.best_epoch <= m.epochs_run);
    CHECK(isfinite(m.best_val_mse));
    /* Outputs of a sigmoid model stay in (0, 1). */
    for (size_t i = 0; i < 400; i++)
        CHECK(pm[i] > 0 && pm[i] < 1);
    ps_mlp_free(&m);
    ps_ridge_free(&rm);
    ps_mat_free(&X);
}

TEST(early_stopping_keeps_the_best_epoch)
{
    /* Pure-noise targets: validation loss stops improving at once, so
     * training ends long before max_epochs. */
    ps_rng r;
    ps_rng_seed(&r, 3);
    ps_mat X = ps_mat_new(300, 4);
    float y[300];
    for (size_t i = 0; i < 1200; i++)
        X.data[i] = (float)ps_rng_normal(&r);
    for (size_t i = 0; i < 300; i++)
        y[i] = (float)ps_rng_uniform(&r);
    ps_rows rows = ps_rows_dense(&X);
    size_t tr[200], va[100];
    for (size_t i = 0; i < 200; i++)
        tr[i] = i;
    for (size_t i = 0; i < 100; i++)
        va[i] = 200 + i;
    ps_mlp_opts o = small_opts();
    o.max_epochs = 500;
    o.patience = 5;
    o.lr = 1e-2f;
    ps_mlp m;
    ps_error err;
    CHECK_INT(ps_mlp_train(&m, &rows, y, tr, 200, va, 100, &o, &err), 0);
    CHECK(m.epochs_run < 500);
    CHECK_INT(m.epochs_run, m.best_epoch + 5);
    /* The kept weights are the best epoch's: their validation MSE. */
    float p[100], yv[100];
    ps_mlp_predict(&m, &rows, va, 100, p);
    for (size_t i = 0; i < 100; i++)
        yv[i] = y[va[i]];
    CHECK_NEAR(ps_mse(p, yv, 100), m.best_val_mse, 1e-6);
    ps_mlp_free(&m);
    ps_mat_free(&X);
}

static char *train_and_save(const ps_rows *rows, const float *y, int threads, const char *name,
                            size_t *len)
{
    ps_mlp_opts o = small_opts();
    o.dropout = 0.2f;
    o.max_epochs = 4;
    o.threads = threads;
    size_t tr[500], va[100];
    for (size_t i = 0; i < 500; i++)
        tr[i] = i;
    for (size_t i = 0; i < 100; i++)
        va[i] = 500 + i;
    ps_mlp m;
    ps_error err;
    if (ps_mlp_train(&m, rows, y, tr, 500, va, 100, &o, &err) != 0)
        return NULL;
    const char *path = test_write_tmp(name, "", 0);
    int rc = ps_mlp_save(&m, path, &err);
    ps_mlp_free(&m);
    return rc == 0 ? ps_read_file(path, 1 << 24, len, &err) : NULL;
}

TEST(same_seed_same_bytes_for_any_thread_count)
{
    static float y[N];
    ps_mat X = make_data(y);
    ps_rows rows = ps_rows_dense(&X);
    size_t la = 0, lb = 0, lc = 0;
    char *a = train_and_save(&rows, y, 1, "mlp_a.model", &la);
    char *b = train_and_save(&rows, y, 1, "mlp_b.model", &lb);
    char *c = train_and_save(&rows, y, 2, "mlp_c.model", &lc);
    CHECK(a && b && c);
    CHECK(la == lb && la == lc && la > 0);
    CHECK(a && b && memcmp(a, b, la) == 0);
    CHECK(a && c && memcmp(a, c, la) == 0);
    free(a);
    free(b);
    free(c);
    ps_mat_free(&X);
}

TEST(save_load_round_trip_predicts_the_same)
{
    static float y[N];
    ps_mat X = make_data(y);
    ps_rows rows = ps_rows_dense(&X);
    ps_mlp_opts o = small_opts();
    o.max_epochs = 3;
    o.n_hidden = 3;
    o.hidden[2] = 5;
    o.sigmoid_out = 0;
    ps_mlp m, l;
    ps_error err;
    CHECK_INT(ps_mlp_train(&m, &rows, y, NULL, 300, NULL, 0, &o, &err), 0);
    CHECK_INT(m.epochs_run, 3);
    const char *path = test_write_tmp("mlp_rt.model", "", 0);
    CHECK_INT(ps_mlp_save(&m, path, &err), 0);
    CHECK_INT(ps_mlp_load(&l, path, &err), 0);
    CHECK_INT(l.n_layers, 4);
    CHECK_INT(l.sizes[3], 5);
    CHECK_INT(l.sigmoid_out, 0);
    float p1[50], p2[50];
    ps_mlp_predict(&m, &rows, NULL, 50, p1);
    ps_mlp_predict(&l, &rows, NULL, 50, p2);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    ps_mlp_free(&l);
    /* A ridge file is not an MLP. */
    ps_ridge rm;
    CHECK_INT(ps_ridge_fit(&rm, &rows, y, NULL, 100, NULL, &err), 0);
    const char *rp = test_write_tmp("not_mlp.model", "", 0);
    CHECK_INT(ps_ridge_save(&rm, rp, &err), 0);
    CHECK_INT(ps_mlp_load(&l, rp, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 12: this is a 'ridge' model, expected a 'mlp' model");
    ps_ridge_free(&rm);
    ps_mlp_free(&m);
    ps_mat_free(&X);
}

TEST(rejects_bad_options_and_input)
{
    ps_mat X = ps_mat_new(10, 2);
    float y[10] = {0};
    ps_rows rows = ps_rows_dense(&X);
    ps_mlp m;
    ps_error err;
    ps_mlp_opts o = ps_mlp_defaults();
    o.dropout = 1.0f;
    CHECK_INT(ps_mlp_train(&m, &rows, y, NULL, 10, NULL, 0, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "dropout");
    o = ps_mlp_defaults();
    o.n_hidden = 9;
    CHECK_INT(ps_mlp_train(&m, &rows, y, NULL, 10, NULL, 0, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "hidden layers");
    y[4] = INFINITY;
    CHECK_INT(ps_mlp_train(&m, &rows, y, NULL, 10, NULL, 0, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "row 4");
    ps_mat_free(&X);
}

int main(void)
{
    RUN(fits_a_nonlinear_function_better_than_ridge);
    RUN(early_stopping_keeps_the_best_epoch);
    RUN(same_seed_same_bytes_for_any_thread_count);
    RUN(save_load_round_trip_predicts_the_same);
    RUN(rejects_bad_options_and_input);
    return test_summary();
}
