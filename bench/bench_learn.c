/*
 * bench_learn - time the learners of learn/ on a synthetic problem the size
 * of picseek's training set: 977 texts x 100-d, 1,000 photos x 2,304-d,
 * 5,822 (text, photo) pairs grouped by photo, a 70/30 group split.
 *
 * The target is a planted low-rank text x photo interaction plus linear
 * terms and noise, squashed into [0, 1], so a bilinear model should win,
 * an MLP on the concatenated features should do something and ridge (no
 * interaction terms) little.
 *
 *   bench_learn [ridge|mlp|bilinear|all] [threads]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/buf.h"

#include "learn/bilinear.h"
#include "learn/matrix.h"
#include "learn/metrics.h"
#include "learn/mlp.h"

#include "learn/ridge.h"
#include "learn/rng.h"
#include "learn/splits.h"

#define NT 977
#define NP 1000
#define DT 100
#define DP 2304
#define NPAIRS 5822
#define RANK 8
#define LATENT 64

typedef struct problem {
    ps_mat T, P;
    uint32_t ti[NPAIRS], pi[NPAIRS];
    float y[NPAIRS];
    ps_split split;
} problem;

static void make_problem(problem *pb)
{
    ps_rng r;
    ps_rng_seed(&r, 2024);
    pb->T = ps_mat_new(NT, DT);
    pb->P = ps_mat_new(NP, DP);
    for (size_t i = 0; i < NT * DT; i++)
        pb->T.data[i] = (float)ps_rng_normal(&r);
    /* Photo features with a low-dimensional latent structure, like real
     * CNN features. */
    ps_mat Z = ps_mat_new(NP, LATENT), B = ps_mat_new(LATENT, DP);
    for (size_t i = 0; i < NP * LATENT; i++)
        Z.data[i] = (float)ps_rng_normal(&r);
    for (size_t i = 0; i < LATENT * DP; i++)
        B.data[i] = (float)(ps_rng_normal(&r) / sqrt(LATENT));
    for (size_t i = 0; i < NP; i++)
        for (size_t j = 0; j < DP; j++) {
            double s = 0.3 * ps_rng_normal(&r);
            for (size_t k = 0; k < LATENT; k++)
                s += ps_mat_row(&Z, i)[k] * ps_mat_row(&B, k)[j];
            ps_mat_row(&pb->P, i)[j] = (float)s;
        }
    /* Planted interaction on the text and the photo latents. */
    double U[RANK][DT], V[RANK][LATENT], wt[DT], wz[LATENT];
    for (int k = 0; k < RANK; k++) {
        for (int j = 0; j < DT; j++)
            U[k][j] = ps_rng_normal(&r) / sqrt(DT);
        for (int j = 0; j < LATENT; j++)
            V[k][j] = ps_rng_normal(&r) / sqrt(LATENT);
    }
    for (int j = 0; j < DT; j++)
        wt[j] = 0.3 * ps_rng_normal(&r) / sqrt(DT);
    for (int j = 0; j < LATENT; j++)
        wz[j] = 0.3 * ps_rng_normal(&r) / sqrt(LATENT);
    for (size_t i = 0; i < NPAIRS; i++) {
        pb->ti[i] = (uint32_t)ps_rng_below(&r, NT);
        pb->pi[i] = (uint32_t)ps_rng_below(&r, NP);
        const float *t = ps_mat_row(&pb->T, pb->ti[i]), *z = ps_mat_row(&Z, pb->pi[i]);
        double s = 0;
        for (int k = 0; k < RANK; k++) {
            double a = 0, c = 0;
            for (int j = 0; j < DT; j++)
                a += U[k][j] * t[j];
            for (int j = 0; j < LATENT; j++)
                c += V[k][j] * z[j];
            s += a * c;
        }
        for (int j = 0; j < DT; j++)
            s += wt[j] * t[j];
        for (int j = 0; j < LATENT; j++)
            s += wz[j] * z[j];
        s += 0.3 * ps_rng_normal(&r);
        pb->y[i] = (float)(1.0 / (1.0 + exp(-s)));
    }
    ps_mat_free(&Z);
    ps_mat_free(&B);
    ps_error err;
    if (ps_group_shuffle_split(pb->pi, NPAIRS, 0.3, 7, &pb->split, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
}

static void report(const char *name, double secs, const problem *pb, const float *pred_test)
{
    float *yt = ps_xmalloc(pb->split.n_test * sizeof(float));
    for (size_t i = 0; i < pb->split.n_test; i++)
        yt[i] = pb->y[pb->split.test[i]];
    ps_kendall k;
    ps_kendall_tau(pred_test, yt, pb->split.n_test, &k);
    printf("%-9s train %6.2f s   test R2 %.3f  Pearson %.3f  Spearman %.3f  Kendall tau-b %.3f\n",
           name, secs, ps_r2(pred_test, yt, pb->split.n_test),
           ps_pearson(pred_test, yt, pb->split.n_test),
           ps_spearman(pred_test, yt, pb->split.n_test), k.tau_b);
    free(yt);
}

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    problem *pb = ps_xcalloc(1, sizeof *pb);
    double t0 = bench_now();
    make_problem(pb);
    printf("synthetic: %d texts x %d-d, %d photos x %d-d, %d pairs; train %zu / test %zu pairs "
           "(made in %.1f s), %d threads\n",
           NT, DT, NP, DP, NPAIRS, pb->split.n_train, pb->split.n_test, bench_now() - t0, threads);
    {
        double my = 0, vy = 0;
        for (size_t i = 0; i < NPAIRS; i++)
            my += pb->y[i] / NPAIRS;
        for (size_t i = 0; i < NPAIRS; i++)
            vy += (pb->y[i] - my) * (pb->y[i] - my) / NPAIRS;
        printf("target mean %.3f variance %.4f\n", my, vy);
    }
    ps_pairs pairs = {&pb->T, &pb->P, NPAIRS, pb->ti, pb->pi, NULL};
    ps_rows rows = ps_rows_pairs(&pairs);
    float *pred = ps_xmalloc(NPAIRS * sizeof(float));
    ps_error err;

    if (!strcmp(which, "ridge") || !strcmp(which, "all")) {
        ps_ridge m;
        ps_ridge_opts o = ps_ridge_defaults();
        o.groups = pb->pi;
        o.threads = threads;
        t0 = bench_now();
        if (ps_ridge_fit(&m, &rows, pb->y, pb->split.train, pb->split.n_train, &o, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double secs = bench_now() - t0;
        ps_ridge_predict(&m, &rows, pb->split.test, pb->split.n_test, pred);
        report("ridge", secs, pb, pred);
        printf("          alpha_rel %g, 5-fold CV over %zu alphas\n", m.alpha_rel, m.n_grid);
        ps_ridge_free(&m);
    }
    /* Early stopping needs a validation part of the training photos. */
    uint32_t *gtr = ps_xmalloc(pb->split.n_train * sizeof(uint32_t));
    for (size_t i = 0; i < pb->split.n_train; i++)
        gtr[i] = pb->pi[pb->split.train[i]];
    ps_split inner;
    if (ps_group_shuffle_split(gtr, pb->split.n_train, 0.15, 11, &inner, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < inner.n_train; i++)
        inner.train[i] = pb->split.train[inner.train[i]];
    for (size_t i = 0; i < inner.n_test; i++)
        inner.test[i] = pb->split.train[inner.test[i]];
    free(gtr);

    if (!strcmp(which, "mlp") || !strcmp(which, "all")) {
        ps_mlp m;
        ps_mlp_opts o = ps_mlp_defaults();
        o.threads = threads;
        o.log = getenv("BENCH_LOG") ? stderr : NULL;
        if (getenv("BENCH_MLP_LR"))
            o.lr = (float)atof(getenv("BENCH_MLP_LR"));
        if (getenv("BENCH_MLP_L2"))
            o.l2 = (float)atof(getenv("BENCH_MLP_L2"));
        if (getenv("BENCH_MLP_DROPOUT"))
            o.dropout = (float)atof(getenv("BENCH_MLP_DROPOUT"));
        t0 = bench_now();
        if (ps_mlp_train(&m, &rows, pb->y, inner.train, inner.n_train, inner.test, inner.n_test, &o,
                         &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        double secs = bench_now() - t0;
        ps_mlp_predict(&m, &rows, pb->split.test, pb->split.n_test, pred);
        report("mlp", secs, pb, pred);
        printf("          hidden [256,64], %zu epochs (best %zu), %.2f s/epoch\n", m.epochs_run,
               m.best_epoch, secs / (double)m.epochs_run);
        ps_mlp_free(&m);
    }
    if (!strcmp(which, "bilinear") || !strcmp(which, "all")) {
        for (int ranked = 0; ranked < 2; ranked++) {
            ps_bilinear m;
            ps_bilinear_opts o = ps_bilinear_defaults();
            o.rank_weight = ranked ? 0.1f : 0.0f;
            if (getenv("BENCH_LR"))
                o.lr = (float)atof(getenv("BENCH_LR"));
            if (getenv("BENCH_L2"))
                o.l2 = (float)atof(getenv("BENCH_L2"));
            if (getenv("BENCH_RANK"))
                o.rank = (size_t)atoi(getenv("BENCH_RANK"));
            o.log = getenv("BENCH_LOG") ? stderr : NULL;
            t0 = bench_now();
            if (ps_bilinear_train(&m, &pairs, pb->y, inner.train, inner.n_train, inner.test,
                                  inner.n_test, &o, &err) != 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double secs = bench_now() - t0;
            ps_bilinear_predict(&m, &pairs, pb->split.test, pb->split.n_test, pred);
            report(ranked ? "bilin+rk" : "bilinear", secs, pb, pred);
            printf("          rank %zu%s, %zu epochs (best %zu), %.3f s/epoch\n", m.rank,
                   ranked ? ", ranking weight 0.1" : "", m.epochs_run, m.best_epoch,
                   secs / (double)m.epochs_run);
            /* Retrieval: one text against all photos. */
            t0 = bench_now();
            ps_mat emb = ps_bilinear_embed_photos(&m, &pb->P);
            double t_embed = bench_now() - t0;
            float te[64], *scores = ps_xmalloc(NP * sizeof(float));
            t0 = bench_now();
            for (int rep = 0; rep < 1000; rep++) {
                ps_bilinear_embed_text(&m, ps_mat_row(&pb->T, (size_t)rep % NT), te);
                ps_bilinear_score_embedded(&m, te, &emb, NULL, scores);
            }
            if (!ranked)
                printf("          retrieval: embed %d photos %.1f ms; one text vs %d photos %.1f us\n",
                       NP, t_embed * 1e3, NP, (bench_now() - t0) / 1000 * 1e6);
            free(scores);
            ps_mat_free(&emb);
            ps_bilinear_free(&m);
        }
    }
    ps_split_free(&inner);
    free(pred);
    ps_split_free(&pb->split);
    ps_mat_free(&pb->T);
    ps_mat_free(&pb->P);
    free(pb);
    return 0;
}
