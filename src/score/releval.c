/*
 * releval.c - the evaluation protocols of `picseek eval model`.
 */
#include "score/releval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "learn/linalg.h"
#include "learn/metrics.h"
#include "learn/splits.h"

void ps_releval_opts_default(ps_releval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->test_frac = 0.3;
    o->split_seed = 42;
    o->folds = 5;
    o->retrieval = 1;
    o->crowd_pairs = 1;
    o->cv_retrieval = 1;
    ps_relmodel_opts_default(&o->model);
}

void ps_releval_pairs(const ps_relset *s, const size_t *idx, size_t n, const float *pred,
                      ps_relmetrics *out)
{
    memset(out, 0, sizeof *out);
    float *y = ps_xmalloc((n ? n : 1) * sizeof *y);
    float *x3 = ps_xmalloc((n ? 3 * n : 1) * sizeof *x3);
    float *e3 = ps_xmalloc((n ? 3 * n : 1) * sizeof *e3);
    float *xc = ps_xmalloc((n ? n : 1) * sizeof *xc);
    float *yc = ps_xmalloc((n ? n : 1) * sizeof *yc);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = idx[i];
        y[i] = s->y[k];
        for (int e = 0; e < 3; e++) {
            x3[3 * i + (size_t)e] = pred[i];
            e3[3 * i + (size_t)e] = s->expert[3 * k + (size_t)e];
        }
        if (s->has_crowd[k]) {
            xc[nc] = pred[i];
            yc[nc++] = s->crowd[k];
        }
    }
    out->n_pairs = n;
    out->n_crowd = nc;
    out->mse = ps_mse(pred, y, n);
    out->mae = ps_mae(pred, y, n);
    out->r2 = ps_r2(pred, y, n);
    ps_kendall k;
    ps_kendall_tau(x3, e3, 3 * n, &k);
    out->tau_c_expert = k.tau_c;
    ps_kendall_tau(xc, yc, nc, &k);
    out->tau_b_crowd = k.tau_b;
    free(y);
    free(x3);
    free(e3);
    free(xc);
    free(yc);
}

/* Retrieval metrics of n queries ranked among n_photos photos each (all 0
 * when n is 0). */
static void retrieval_of(const ps_rank *r, size_t n, size_t n_photos, ps_retrieval *out)
{
    memset(out, 0, sizeof *out);
    out->n_queries = n;
    out->n_photos = n_photos;
    if (!n)
        return;
    out->recall_1 = ps_recall_at_k(r, n, 1, PS_TIES_AVERAGE);
    out->recall_5 = ps_recall_at_k(r, n, 5, PS_TIES_AVERAGE);
    out->recall_10 = ps_recall_at_k(r, n, 10, PS_TIES_AVERAGE);
    out->mrr = ps_mean_reciprocal_rank(r, n, PS_TIES_AVERAGE);
    out->median_rank = ps_median_rank(r, n, PS_TIES_AVERAGE);
    for (size_t k = 1; k <= PS_RECALL_CURVE_MAX && k <= n_photos; k++)
        out->curve[k - 1] = ps_recall_at_k(r, n, k, PS_TIES_AVERAGE);
}

int ps_releval_ranks(const ps_relset *s, const float *scores, ps_retrieval *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    size_t nq = s->n_queries, np = s->n_photos - s->n_train_photos;
    size_t *correct = ps_xmalloc((nq ? nq : 1) * sizeof *correct);
    ps_rank *r = ps_xmalloc((nq ? nq : 1) * sizeof *r);
    for (size_t i = 0; i < nq; i++)
        correct[i] = s->query_photo[i] - s->n_train_photos;
    int rc = ps_rank_queries(scores, nq, np, correct, r, err);
    if (rc == 0)
        retrieval_of(r, nq, np, out);
    free(correct);
    free(r);
    return rc;
}

/* The test photos and test queries as index lists. */
static void test_lists(const ps_relset *s, uint32_t **texts, uint32_t **photos, size_t *np)
{
    *np = s->n_photos - s->n_train_photos;
    *photos = ps_xmalloc((*np ? *np : 1) * sizeof **photos);
    for (size_t j = 0; j < *np; j++)
        (*photos)[j] = (uint32_t)(s->n_train_photos + j);
    *texts = ps_xmalloc((s->n_queries ? s->n_queries : 1) * sizeof **texts);
    memcpy(*texts, s->query_text, s->n_queries * sizeof **texts);
}

float *ps_releval_zeroshot_matrix(const ps_relset *s)
{
    size_t np = s->n_photos - s->n_train_photos;
    float *out = ps_xmalloc((s->n_queries && np ? s->n_queries * np : 1) * sizeof *out);
    for (size_t i = 0; i < s->n_queries; i++)
        for (size_t j = 0; j < np; j++)
            out[i * np + j] = ps_dot_f32(ps_mat_row(&s->zs_query, s->query_text[i]),
                                         ps_mat_row(&s->zs_photo, s->n_train_photos + j),
                                         s->zdim);
    return out;
}

void ps_releval_zeroshot_pairs(const ps_relset *s, const size_t *idx, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = idx ? idx[i] : i;
        out[i] = ps_dot_f32(ps_mat_row(&s->zs_query, s->text_idx[k]),
                            ps_mat_row(&s->zs_photo, s->photo_idx[k]), s->zdim);
    }
}

float *ps_releval_model_matrix(const ps_relset *s, const ps_relmodel *m)
{
    uint32_t *texts, *photos;
    size_t np;
    test_lists(s, &texts, &photos, &np);
    ps_relset_cross c;
    ps_relset_cross_make(s, texts, s->n_queries, photos, np, &c);
    float *out = ps_xmalloc((c.pairs.n ? c.pairs.n : 1) * sizeof *out);
    ps_relmodel_predict(m, &c.pairs, NULL, c.pairs.n, out);
    ps_relset_cross_free(&c);
    free(texts);
    free(photos);
    return out;
}

/* ---- the protocol ------------------------------------------------------------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t min_best(const ps_relmodel *m)
{
    size_t v = (size_t)-1;
    for (size_t k = 0; k < m->n_bl; k++)
        v = m->bl[k].best_epoch < v ? m->bl[k].best_epoch : v;
    return m->n_bl ? v : 0;
}

static size_t max_best(const ps_relmodel *m)
{
    size_t v = 0;
    for (size_t k = 0; k < m->n_bl; k++)
        v = m->bl[k].best_epoch > v ? m->bl[k].best_epoch : v;
    return v;
}

static void note_of(const ps_relmodel *m, char *out, size_t size)
{
    switch (m->kind) {
    case PS_RM_RIDGE:
        snprintf(out, size, "alpha %.3g (relative %.3g)", m->ridge.alpha, m->ridge.alpha_rel);
        break;
    case PS_RM_MLP:
        snprintf(out, size, "best epoch %zu of %zu", m->mlp.best_epoch, m->mlp.epochs_run);
        break;
    case PS_RM_BILINEAR:
        snprintf(out, size, "%zu x rank %zu, best epochs %zu..%zu", m->n_bl, m->bl[0].rank,
                 min_best(m), max_best(m));
        break;
    default: out[0] = '\0';
    }
}

#define NMETRICS 5
static void metrics_vec(const ps_relmetrics *m, double v[NMETRICS])
{
    v[0] = m->mse;
    v[1] = m->mae;
    v[2] = m->r2;
    v[3] = m->tau_c_expert;
    v[4] = m->tau_b_crowd;
}

static void metrics_set(ps_relmetrics *m, const double v[NMETRICS])
{
    m->mse = v[0];
    m->mae = v[1];
    m->r2 = v[2];
    m->tau_c_expert = v[3];
    m->tau_b_crowd = v[4];
}

/* The training pairs: the expert pairs `train` plus, with crowd, every
 * crowd-only pair whose photo is not one of the held-out pairs' photos
 * (so nothing about a held-out photo is learned).  Caller frees. */
static size_t *with_crowd(const ps_relset *s, int crowd, const size_t *train, size_t n_train,
                          const size_t *test, size_t n_test, int unseen_texts, size_t *n_out)
{
    size_t extra = crowd ? s->n_pairs - s->n_expert_pairs : 0;
    size_t *out = ps_xmalloc((n_train + extra ? n_train + extra : 1) * sizeof *out);
    unsigned char *held = ps_xcalloc(s->n_photos ? s->n_photos : 1, 1);
    for (size_t i = 0; i < n_test; i++)
        held[s->photo_idx[test[i]]] = 1;
    size_t n = 0;
    for (size_t i = 0; i < n_train; i++) {
        int32_t own = s->text_photo[s->text_idx[train[i]]];
        if (!(unseen_texts && own >= 0 && held[own]))
            out[n++] = train[i];
    }
    for (size_t k = s->n_expert_pairs; k < s->n_expert_pairs + extra; k++) {
        int32_t own = s->text_photo[s->text_idx[k]];
        if (!held[s->photo_idx[k]] && !(unseen_texts && own >= 0 && held[own]))
            out[n++] = k;
    }
    free(held);
    *n_out = n;
    return out;
}

/* Ranks pooled over the folds. */
typedef struct rank_acc {
    ps_rank *r;
    size_t n, cap;
} rank_acc;

/* Scores of texts x photos by model m (NULL: the zero-shot raw score). */
static float *score_cross(const ps_relset *s, const ps_relmodel *m, const uint32_t *texts,
                          size_t nt, const uint32_t *photos, size_t np)
{
    float *out = ps_xmalloc((nt && np ? nt * np : 1) * sizeof *out);
    if (!m) {
        for (size_t i = 0; i < nt; i++)
            for (size_t j = 0; j < np; j++)
                out[i * np + j] = ps_dot_f32(ps_mat_row(&s->zs_query, texts[i]),
                                             ps_mat_row(&s->zs_photo, photos[j]), s->zdim);
        return out;
    }
    ps_relset_cross c;
    ps_relset_cross_make(s, texts, nt, photos, np, &c);
    ps_relmodel_predict(m, &c.pairs, NULL, c.pairs.n, out);
    ps_relset_cross_free(&c);
    return out;
}

/* Retrieval among the held-out photos of `test`: the training captions
 * written for one of them rank them, in groups of about 100. */
static int heldout_ranks(const ps_relset *s, const ps_relmodel *m, const size_t *test,
                         size_t n_test, rank_acc *acc, ps_error *err)
{
    unsigned char *held = ps_xcalloc(s->n_photos ? s->n_photos : 1, 1);
    for (size_t i = 0; i < n_test; i++)
        held[s->photo_idx[test[i]]] = 1;
    uint32_t *photos = ps_xmalloc((s->n_photos ? s->n_photos : 1) * sizeof *photos);
    size_t np = 0;
    for (size_t i = 0; i < s->n_photos; i++)
        if (held[i])
            photos[np++] = (uint32_t)i;
    size_t groups = (np + 50) / 100 ? (np + 50) / 100 : 1;
    int *group_of = ps_xmalloc((s->n_photos ? s->n_photos : 1) * sizeof *group_of);
    for (size_t j = 0; j < np; j++)
        group_of[photos[j]] = (int)(j * groups / np);
    uint32_t *texts = ps_xmalloc((s->n_train_texts ? s->n_train_texts : 1) * sizeof *texts);
    size_t *correct = ps_xmalloc((s->n_train_texts ? s->n_train_texts : 1) * sizeof *correct);
    int rc = 0;
    for (size_t g = 0; g < groups && rc == 0; g++) {
        uint32_t *gp = ps_xmalloc((np ? np : 1) * sizeof *gp);
        size_t ng = 0, nt = 0;
        for (size_t j = 0; j < np; j++)
            if (group_of[photos[j]] == (int)g)
                gp[ng++] = photos[j];
        for (size_t t = 0; t < s->n_train_texts; t++) {
            int32_t own = s->text_photo[t];
            if (own < 0 || !held[own] || group_of[own] != (int)g)
                continue;
            for (size_t j = 0; j < ng; j++)
                if (gp[j] == (uint32_t)own)
                    correct[nt] = j;
            texts[nt++] = (uint32_t)t;
        }
        if (nt) {
            float *sc = score_cross(s, m, texts, nt, gp, ng);
            if (acc->n + nt > acc->cap) {
                acc->cap = (acc->n + nt) * 2;
                acc->r = ps_xrealloc(acc->r, acc->cap * sizeof *acc->r);
            }
            rc = ps_rank_queries(sc, nt, ng, correct, acc->r + acc->n, err);
            acc->n += nt;
            free(sc);
        }
        free(gp);
    }
    free(texts);
    free(correct);
    free(group_of);
    free(photos);
    free(held);
    return rc;
}

/* Train on `train`, predict `test` (pred has n_test entries).  With acc
 * instead: train without the pairs whose caption was written for a
 * held-out photo too, so those captions are as new to the model as test
 * queries, and rank the held-out photos for them (heldout_ranks). */
static int fit_predict(const ps_relset *s, ps_relmodel_kind kind, int crowd, const size_t *train_e,
                       size_t n_train_e, const size_t *test, size_t n_test,
                       const ps_relmodel_opts *mo, float *pred, char *note, rank_acc *acc,
                       ps_error *err)
{
    ps_pairs p = ps_relset_pairs(s);
    if (kind == (ps_relmodel_kind)-1) {
        if (acc)
            return heldout_ranks(s, NULL, test, n_test, acc, err);
        ps_releval_zeroshot_pairs(s, test, n_test, pred);
        for (size_t i = 0; i < n_test; i++)
            pred[i] = ps_zeroshot_calibrate(pred[i]);
        return 0;
    }
    size_t n_train;
    size_t *train = with_crowd(s, crowd, train_e, n_train_e, test, n_test, acc != NULL, &n_train);
    ps_relmodel m;
    int rc = ps_relmodel_train(&m, kind, &p, s->y, s->photo_idx, s->n_expert_pairs, train,
                               n_train, mo, err);
    free(train);
    if (rc != 0)
        return -1;
    if (acc)
        rc = heldout_ranks(s, &m, test, n_test, acc, err);
    else
        ps_relmodel_predict(&m, &p, test, n_test, pred);
    if (note)
        note_of(&m, note, 96);
    ps_relmodel_free(&m);
    return rc;
}

static int eval_one(const ps_relset *s, ps_relmodel_kind kind, const ps_releval_opts *o,
                    const ps_split *poc, const int *fold_of, ps_releval_model *r, ps_error *err)
{
    int zs = kind == (ps_relmodel_kind)-1;
    double t0 = now();
    snprintf(r->name, sizeof r->name, "%s", zs ? "zeroshot" : ps_relmodel_name(kind));
    r->trained = !zs;
    r->poc_pred = ps_xmalloc((poc->n_test ? poc->n_test : 1) * sizeof(float));
    if (fit_predict(s, kind, o->crowd_pairs, poc->train, poc->n_train, poc->test, poc->n_test,
                    &o->model,
                    r->poc_pred, r->note, NULL, err) != 0)
        return -1;
    ps_releval_pairs(s, poc->test, poc->n_test, r->poc_pred, &r->poc);
    if (o->log)
        fprintf(o->log, "%s: poc split r2 %.4f mae %.4f %s\n", r->name, r->poc.r2, r->poc.mae,
                r->note);

    if (o->folds >= 2) {
        double sum[NMETRICS] = {0}, sq[NMETRICS] = {0};
        rank_acc acc = {NULL, 0, 0};
        for (int f = 0; f < o->folds; f++) {
            ps_split sp;
            ps_fold_split(fold_of, s->n_expert_pairs, f, &sp);
            float *pred = ps_xmalloc((sp.n_test ? sp.n_test : 1) * sizeof *pred);
            int rc = fit_predict(s, kind, o->crowd_pairs, sp.train, sp.n_train, sp.test,
                                 sp.n_test, &o->model,
                                 pred, NULL, NULL, err);
            if (rc == 0 && o->cv_retrieval)
                rc = fit_predict(s, kind, o->crowd_pairs, sp.train, sp.n_train, sp.test,
                                 sp.n_test, &o->model, NULL, NULL, &acc, err);
            if (rc == 0) {
                ps_relmetrics m;
                double v[NMETRICS];
                ps_releval_pairs(s, sp.test, sp.n_test, pred, &m);
                metrics_vec(&m, v);
                for (int k = 0; k < NMETRICS; k++) {
                    sum[k] += v[k];
                    sq[k] += v[k] * v[k];
                }
                if (o->log)
                    fprintf(o->log, "%s: fold %d r2 %.4f mae %.4f\n", r->name, f + 1, m.r2,
                            m.mae);
            }
            free(pred);
            ps_split_free(&sp);
            if (rc != 0) {
                free(acc.r);
                return -1;
            }
        }
        retrieval_of(acc.r, acc.n, 100, &r->cv_ret);
        free(acc.r);
        if (o->log && o->cv_retrieval)
            fprintf(o->log, "%s: held-out photos recall@10 %.3f MRR %.3f (%zu queries)\n",
                    r->name, r->cv_ret.recall_10, r->cv_ret.mrr, r->cv_ret.n_queries);
        double mean[NMETRICS], sd[NMETRICS], k = (double)o->folds;
        for (int i = 0; i < NMETRICS; i++) {
            mean[i] = sum[i] / k;
            double var = (sq[i] - k * mean[i] * mean[i]) / (k - 1);
            sd[i] = sqrt(var > 0 ? var : 0);
        }
        metrics_set(&r->cv_mean, mean);
        metrics_set(&r->cv_sd, sd);
        r->folds_run = o->folds;
    }

    if (o->retrieval && s->n_queries) {
        float *scores;
        if (zs) {
            scores = ps_releval_zeroshot_matrix(s);
        } else {
            ps_pairs p = ps_relset_pairs(s);
            ps_relmodel m;
            size_t n_train;
            size_t ne = s->n_expert_pairs ? s->n_expert_pairs : 1;
            size_t *expert = ps_xmalloc(ne * sizeof *expert);
            for (size_t i = 0; i < s->n_expert_pairs; i++)
                expert[i] = i;
            size_t *train = with_crowd(s, o->crowd_pairs, expert, s->n_expert_pairs, NULL, 0, 0,
                                       &n_train);
            free(expert);
            int rc = ps_relmodel_train(&m, kind, &p, s->y, s->photo_idx, s->n_expert_pairs, train,
                                       n_train,
                                       &o->model, err);
            free(train);
            if (rc != 0)
                return -1;
            scores = ps_releval_model_matrix(s, &m);
            ps_relmodel_free(&m);
        }
        int rc = ps_releval_ranks(s, scores, &r->ret, err);
        free(scores);
        if (rc != 0)
            return -1;
        r->has_ret = 1;
        if (o->log)
            fprintf(o->log, "%s: recall@1 %.3f @5 %.3f @10 %.3f\n", r->name, r->ret.recall_1,
                    r->ret.recall_5, r->ret.recall_10);
    }
    r->seconds = now() - t0;
    return 0;
}

void ps_releval_free(ps_releval *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->models[i].poc_pred);
    free(r->models);
    free(r->poc_test);
    memset(r, 0, sizeof *r);
}

int ps_releval_run(const ps_relset *s, const ps_relmodel_kind *kinds, size_t n_kinds,
                   const ps_releval_opts *opts, ps_releval *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    ps_releval_opts o;
    if (opts)
        o = *opts;
    else
        ps_releval_opts_default(&o);
    out->opts = o;
    ps_split poc;
    if (ps_group_shuffle_split(s->photo_idx, s->n_expert_pairs, o.test_frac, o.split_seed, &poc,
                               err))
        return -1;
    int *fold_of = NULL;
    if (o.folds >= 2) {
        fold_of = ps_xmalloc((s->n_expert_pairs ? s->n_expert_pairs : 1) * sizeof *fold_of);
        if (ps_group_kfold(s->photo_idx, s->n_expert_pairs, o.folds, o.split_seed, fold_of, err)) {
            free(fold_of);
            ps_split_free(&poc);
            return -1;
        }
    }
    out->models = ps_xcalloc(n_kinds + 1, sizeof *out->models);
    int rc = 0;
    for (size_t i = 0; i <= n_kinds && rc == 0; i++) {
        ps_relmodel_kind k = i < n_kinds ? kinds[i] : (ps_relmodel_kind)-1;
        rc = eval_one(s, k, &o, &poc, fold_of, &out->models[i], err);
        out->n = i + 1;
    }
    free(fold_of);
    out->poc_test = poc.test;
    out->n_poc_test = poc.n_test;
    out->n_poc_train = poc.n_train;
    free(poc.train);
    if (rc != 0)
        ps_releval_free(out);
    return rc;
}
