/* Tests for learn/bilinear: recovery of a planted low-rank text x photo
 * interaction that ridge cannot see, the ranking term, the retrieval path,
 * determinism and save/load. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "learn/bilinear.h"
#include "learn/matrix.h"
#include "learn/metrics.h"
#include "learn/ridge.h"
#include "learn/rng.h"
#include "learn/splits.h"
#include "test.h"

#define NT 60
#define NP 90
#define DT 12
#define DP 20
#define NPAIRS 2000

typedef struct planted {
    ps_mat T, P, E;
    uint32_t ti[NPAIRS], pi[NPAIRS];
    float y[NPAIRS];
    ps_pairs pairs;
    ps_split split; /* by photo */
} planted;

/* y = (U* t) . (V* p) + 0.8 e with rank-2 U*, V* and a per-pair extra e:
 * no linear text or photo effect at all. */
static void make_planted(planted *pl, uint64_t seed)
{
    ps_rng r;
    ps_rng_seed(&r, seed);
    pl->T = ps_mat_new(NT, DT);
    pl->P = ps_mat_new(NP, DP);
    pl->E = ps_mat_new(NPAIRS, 1);
    for (size_t i = 0; i < NT * DT; i++)
        pl->T.data[i] = (float)ps_rng_normal(&r);
    for (size_t i = 0; i < NP * DP; i++)
        pl->P.data[i] = (float)ps_rng_normal(&r);
    double U[2][DT], V[2][DP];
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < DT; j++)
            U[k][j] = ps_rng_normal(&r) / sqrt(DT);
        for (int j = 0; j < DP; j++)
            V[k][j] = ps_rng_normal(&r) / sqrt(DP);
    }
    for (size_t i = 0; i < NPAIRS; i++) {
        pl->ti[i] = (uint32_t)ps_rng_below(&r, NT);
        pl->pi[i] = (uint32_t)ps_rng_below(&r, NP);
        pl->E.data[i] = (float)ps_rng_normal(&r);
        const float *t = ps_mat_row(&pl->T, pl->ti[i]), *p = ps_mat_row(&pl->P, pl->pi[i]);
        double s = 0.8 * pl->E.data[i];
        for (int k = 0; k < 2; k++) {
            double a = 0, c = 0;
            for (int j = 0; j < DT; j++)
                a += U[k][j] * t[j];
            for (int j = 0; j < DP; j++)
                c += V[k][j] * p[j];
            s += a * c;
        }
        pl->y[i] = (float)s;
    }
    pl->pairs = (ps_pairs){&pl->T, &pl->P, NPAIRS, pl->ti, pl->pi, &pl->E};
    ps_error err;
    if (ps_group_shuffle_split(pl->pi, NPAIRS, 0.25, seed, &pl->split, &err) != 0)
        abort();
}

static void free_planted(planted *pl)
{
    ps_mat_free(&pl->T);
    ps_mat_free(&pl->P);
    ps_mat_free(&pl->E);
    ps_split_free(&pl->split);
}

static ps_bilinear_opts test_opts(void)
{
    ps_bilinear_opts o = ps_bilinear_defaults();
    o.rank = 3;
    o.sigmoid_out = 0;
    o.lr = 1e-2f;
    o.l2 = 1e-4f;
    o.batch = 32;
    o.max_epochs = 150;
    o.patience = 15;
    return o;
}

/* Validation = a quarter of the training photos. */
static void inner_split(const planted *pl, ps_split *in)
{
    uint32_t g[NPAIRS];
    for (size_t i = 0; i < pl->split.n_train; i++)
        g[i] = pl->pi[pl->split.train[i]];
    ps_error err;
    if (ps_group_shuffle_split(g, pl->split.n_train, 0.25, 5, in, &err) != 0)
        abort();
    for (size_t i = 0; i < in->n_train; i++)
        in->train[i] = pl->split.train[in->train[i]];
    for (size_t i = 0; i < in->n_test; i++)
        in->test[i] = pl->split.train[in->test[i]];
}

static double test_r2(const planted *pl, const float *pred)
{
    float yt[NPAIRS];
    for (size_t i = 0; i < pl->split.n_test; i++)
        yt[i] = pl->y[pl->split.test[i]];
    return ps_r2(pred, yt, pl->split.n_test);
}

TEST(recovers_a_planted_low_rank_interaction_that_ridge_cannot)
{
    static planted pl;
    make_planted(&pl, 21);
    ps_split in;
    inner_split(&pl, &in);
    ps_bilinear_opts o = test_opts();
    ps_bilinear m;
    ps_error err;
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, in.train, in.n_train, in.test, in.n_test, &o,
                                &err), 0);
    static float pred[NPAIRS];
    ps_bilinear_predict(&m, &pl.pairs, pl.split.test, pl.split.n_test, pred);
    double r2 = test_r2(&pl, pred);
    /* Ridge on the concatenated [t | p | e] features sees only e. */
    ps_rows rows = ps_rows_pairs(&pl.pairs);
    ps_ridge rm;
    CHECK_INT(ps_ridge_fit(&rm, &rows, pl.y, pl.split.train, pl.split.n_train, NULL, &err), 0);
    static float pr[NPAIRS];
    ps_ridge_predict(&rm, &rows, pl.split.test, pl.split.n_test, pr);
    double r2_ridge = test_r2(&pl, pr);
    fprintf(stderr, "bilinear R2 on unseen photos %.3f (epochs %zu, best %zu), ridge %.3f\n", r2,
            m.epochs_run, m.best_epoch, r2_ridge);
    CHECK(r2 > 0.9);
    CHECK(r2_ridge < 0.5);
    CHECK(m.we[0] > 0); /* the extra feature's effect has the planted sign */
    ps_ridge_free(&rm);
    ps_bilinear_free(&m);
    ps_split_free(&in);
    free_planted(&pl);
}

TEST(ranking_term_trains_and_orders_pairs_within_queries)
{
    static planted pl;
    make_planted(&pl, 22);
    ps_split in;
    inner_split(&pl, &in);
    ps_bilinear_opts o = test_opts();
    o.rank_weight = 1.0f;
    o.rank_margin = 0.1f;
    ps_bilinear m;
    ps_error err;
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, in.train, in.n_train, in.test, in.n_test, &o,
                                &err), 0);
    static float pred[NPAIRS], yt[NPAIRS];
    ps_bilinear_predict(&m, &pl.pairs, pl.split.test, pl.split.n_test, pred);
    for (size_t i = 0; i < pl.split.n_test; i++)
        yt[i] = pl.y[pl.split.test[i]];
    ps_kendall k;
    ps_kendall_tau(pred, yt, pl.split.n_test, &k);
    fprintf(stderr, "with ranking term: Kendall tau-b %.3f\n", k.tau_b);
    CHECK(k.tau_b > 0.7);
    ps_bilinear_free(&m);
    ps_split_free(&in);
    free_planted(&pl);
}

TEST(retrieval_path_matches_pair_scores)
{
    static planted pl;
    make_planted(&pl, 23);
    ps_bilinear_opts o = test_opts();
    o.max_epochs = 5;
    o.sigmoid_out = 1;
    for (size_t i = 0; i < NPAIRS; i++)
        pl.y[i] = 1 / (1 + expf(-pl.y[i]));
    ps_bilinear m;
    ps_error err;
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, NULL, NPAIRS, NULL, 0, &o, &err), 0);
    CHECK_INT(m.epochs_run, 5);
    /* Text 7 against every photo, with extra = pair 0's extra value. */
    uint32_t ti[NP], pi[NP];
    ps_mat E = ps_mat_new(NP, 1);
    for (size_t j = 0; j < NP; j++) {
        ti[j] = 7;
        pi[j] = (uint32_t)j;
        E.data[j] = pl.E.data[0] + (float)j * 0.01f;
    }
    ps_pairs q = {&pl.T, &pl.P, NP, ti, pi, &E};
    float direct[NP], fast[NP], temb[8];
    ps_bilinear_predict(&m, &q, NULL, NP, direct);
    ps_mat pemb = ps_bilinear_embed_photos(&m, &pl.P);
    CHECK_INT(pemb.cols, 4);
    ps_bilinear_embed_text(&m, ps_mat_row(&pl.T, 7), temb);
    ps_bilinear_score_embedded(&m, temb, &pemb, &E, fast);
    for (size_t j = 0; j < NP; j++)
        CHECK_NEAR(fast[j], direct[j], 1e-6);
    ps_mat_free(&pemb);
    ps_mat_free(&E);
    ps_bilinear_free(&m);
    free_planted(&pl);
}

static char *train_bytes(planted *pl, const char *name, size_t *len)
{
    ps_bilinear_opts o = test_opts();
    o.max_epochs = 3;
    o.rank_weight = 0.5f;
    ps_bilinear m;
    ps_error err;
    if (ps_bilinear_train(&m, &pl->pairs, pl->y, pl->split.train, pl->split.n_train, pl->split.test,
                          pl->split.n_test, &o, &err) != 0)
        return NULL;
    const char *path = test_write_tmp(name, "", 0);
    int rc = ps_bilinear_save(&m, path, &err);
    ps_bilinear_free(&m);
    return rc == 0 ? ps_read_file(path, 1 << 24, len, &err) : NULL;
}

TEST(deterministic_bytes_and_save_load)
{
    static planted pl;
    make_planted(&pl, 24);
    size_t la = 0, lb = 0;
    char *a = train_bytes(&pl, "bil_a.model", &la), *b = train_bytes(&pl, "bil_b.model", &lb);
    CHECK(a && b && la == lb && la > 0 && memcmp(a, b, la) == 0);
    free(a);
    free(b);
    ps_bilinear m, l;
    ps_error err;
    CHECK_INT(ps_bilinear_load(&l, test_write_tmp("bil_c.model", "", 0), &err), -1);
    CHECK_CONTAINS(err.msg, "bil_c.model: byte offset 0: file is truncated");
    const char *path = test_write_tmp("bil_a.model", "", 0);
    ps_bilinear_opts o = test_opts();
    o.max_epochs = 2;
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, NULL, 500, NULL, 0, &o, &err), 0);
    CHECK_INT(ps_bilinear_save(&m, path, &err), 0);
    CHECK_INT(ps_bilinear_load(&l, path, &err), 0);
    CHECK_INT(l.rank, 3);
    CHECK_INT(l.n_extra, 1);
    float p1[100], p2[100];
    ps_bilinear_predict(&m, &pl.pairs, NULL, 100, p1);
    ps_bilinear_predict(&l, &pl.pairs, NULL, 100, p2);
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    ps_bilinear_free(&l);
    ps_bilinear_free(&m);
    free_planted(&pl);
}

TEST(rejects_bad_input)
{
    static planted pl;
    make_planted(&pl, 25);
    ps_bilinear m;
    ps_error err;
    ps_bilinear_opts o = test_opts();
    o.rank = 0;
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, NULL, NPAIRS, NULL, 0, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "rank");
    o = test_opts();
    size_t bad[2] = {0, NPAIRS};
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, bad, 2, NULL, 0, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "out of range");
    pl.P.data[5] = NAN;
    CHECK_INT(ps_bilinear_train(&m, &pl.pairs, pl.y, NULL, NPAIRS, NULL, 0, &o, &err), -1);
    CHECK_CONTAINS(err.msg, "not a finite number");
    free_planted(&pl);
}

int main(void)
{
    RUN(recovers_a_planted_low_rank_interaction_that_ridge_cannot);
    RUN(ranking_term_trains_and_orders_pairs_within_queries);
    RUN(retrieval_path_matches_pair_scores);
    RUN(deterministic_bytes_and_save_load);
    RUN(rejects_bad_input);
    return test_summary();
}
