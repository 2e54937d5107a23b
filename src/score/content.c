/*
 * content.c - the photo content classifier (weak labels from captions).
 */
#include "score/content.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/splits.h"
#include "score/relfeat.h"

void ps_content_opts_default(ps_content_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = PS_CONTENT_RIDGE;
    o->photo_mask = PS_PF_MNV2 | PS_PF_MNV1 | PS_PF_LOGPROB | PS_PF_VOC;
    o->target_recall = 0.95;
    o->folds = 5;
    o->seed = 42;
    o->mlp = ps_mlp_defaults();
    o->mlp.hidden[0] = 64;
    o->mlp.n_hidden = 1;
    o->mlp.dropout = 0.2f;
    o->mlp.l2 = 1e-3f;
}

void ps_content_free(ps_content_model *m)
{
    ps_ridge_free(&m->ridge);
    ps_mlp_free(&m->mlp);
    memset(m, 0, sizeof *m);
}

/* ---- fitting ------------------------------------------------------------------- */

static int fit(ps_content_model *m, const ps_content_opts *o, const ps_mat *X, const float *y,
               const size_t *rows, size_t n, ps_error *err)
{
    ps_rows R = ps_rows_dense(X);
    memset(m, 0, sizeof *m);
    m->kind = o->kind;
    m->photo_mask = o->photo_mask;
    if (o->kind == PS_CONTENT_RIDGE) {
        ps_ridge_opts ro = ps_ridge_defaults();
        ro.seed = o->seed;
        if (o->ridge_alpha > 0) {
            ro.alphas = &o->ridge_alpha;
            ro.n_alphas = 1;
        }
        return ps_ridge_fit(&m->ridge, &R, y, rows, n, &ro, err);
    }
    /* Early stopping on a random 15% of the rows (each photo is its own
     * group). */
    uint32_t *g = ps_xmalloc((n ? n : 1) * sizeof *g);
    for (size_t i = 0; i < n; i++)
        g[i] = (uint32_t)i;
    ps_split sp;
    int rc = ps_group_shuffle_split(g, n, 0.15, o->seed, &sp, err);
    free(g);
    if (rc != 0)
        return -1;
    for (size_t i = 0; i < sp.n_train; i++)
        sp.train[i] = rows[sp.train[i]];
    for (size_t i = 0; i < sp.n_test; i++)
        sp.test[i] = rows[sp.test[i]];
    ps_mlp_opts mo = o->mlp;
    mo.seed = o->seed;
    rc = ps_mlp_train(&m->mlp, &R, y, sp.train, sp.n_train, sp.test, sp.n_test, &mo, err);
    ps_split_free(&sp);
    return rc;
}

static void predict(const ps_content_model *m, const ps_mat *X, const size_t *rows, size_t n,
                    float *out)
{
    ps_rows R = ps_rows_dense(X);
    if (m->kind == PS_CONTENT_RIDGE)
        ps_ridge_predict(&m->ridge, &R, rows, n, out);
    else
        ps_mlp_predict(&m->mlp, &R, rows, n, out);
}

static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* The highest threshold whose recall on (score, label) reaches target. */
static float choose_threshold(const float *score, const float *label, size_t n, double target)
{
    size_t npos = 0;
    float *pos = ps_xmalloc((n ? n : 1) * sizeof *pos);
    for (size_t i = 0; i < n; i++)
        if (label[i] > 0.5f)
            pos[npos++] = score[i];
    if (npos == 0) {
        free(pos);
        return 3.0e38f; /* nothing to find: flag nothing (finite, so it can be saved) */
    }
    qsort(pos, npos, sizeof *pos, cmp_desc);
    size_t need = (size_t)ceil(target * (double)npos - 1e-9);
    if (need < 1)
        need = 1;
    if (need > npos)
        need = npos;
    float t = pos[need - 1];
    free(pos);
    return t;
}

static void confusion(const float *score, const float *label, size_t n, float t, size_t *tp,
                      size_t *fp, size_t *fn, size_t *tn)
{
    *tp = *fp = *fn = *tn = 0;
    for (size_t i = 0; i < n; i++) {
        int flag = score[i] >= t, pos = label[i] > 0.5f;
        if (flag && pos)
            (*tp)++;
        else if (flag)
            (*fp)++;
        else if (pos)
            (*fn)++;
        else
            (*tn)++;
    }
}

static double ratio(size_t a, size_t b)
{
    return b ? (double)a / (double)b : NAN;
}

int ps_content_train(const ps_relset *s, const ps_content_opts *opts, ps_content_model *m,
                     ps_content_report *rep, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_content_opts o;
    if (opts)
        o = *opts;
    else
        ps_content_opts_default(&o);
    if (o.photo_mask & PS_PF_ZS || !(o.photo_mask & PS_PF_ALL))
        return ps_errorf(err, "content classifier: the photo features must be pixel features "
                              "(mnv2, mnv1, logprob, voc)");
    if (!(o.target_recall > 0 && o.target_recall <= 1) || o.folds < 2)
        return ps_errorf(err, "content classifier: target recall must be in (0, 1] and folds "
                              "at least 2");
    size_t d = ps_relfeat_photo_dim(o.photo_mask, 0);
    ps_mat X = ps_mat_new(s->n_photos, d);
    float *y = ps_xmalloc((s->n_photos ? s->n_photos : 1) * sizeof *y);
    size_t *train = ps_xmalloc((s->n_photos ? s->n_photos : 1) * sizeof *train);
    size_t *held = ps_xmalloc((s->n_photos ? s->n_photos : 1) * sizeof *held);
    size_t n_train = 0, n_held = 0;
    for (size_t i = 0; i < s->n_photos; i++) {
        ps_relfeat_photo(o.photo_mask, &s->features[i], NULL, 0, ps_mat_row(&X, i));
        y[i] = s->child[i] > 0 ? 1.0f : 0.0f;
        if (s->child[i] < 0)
            continue;
        if (i < s->n_train_photos) {
            if (!o.max_train || n_train < o.max_train)
                train[n_train++] = i;
        } else {
            held[n_held++] = i;
        }
    }
    int rc = -1;
    float *oof = ps_xmalloc((n_train ? n_train : 1) * sizeof *oof);
    float *ylab = ps_xmalloc((n_train ? n_train : 1) * sizeof *ylab);
    int *fold_of = ps_xmalloc((n_train ? n_train : 1) * sizeof *fold_of);
    uint32_t *g = ps_xmalloc((n_train ? n_train : 1) * sizeof *g);
    for (size_t i = 0; i < n_train; i++) {
        g[i] = (uint32_t)i;
        ylab[i] = y[train[i]];
    }
    if (n_train < (size_t)o.folds * 2) {
        ps_errorf(err, "content classifier: %zu labelled training photos are too few", n_train);
        goto out;
    }
    if (ps_group_kfold(g, n_train, o.folds, o.seed, fold_of, err) != 0)
        goto out;
    for (int f = 0; f < o.folds; f++) {
        ps_split sp;
        ps_fold_split(fold_of, n_train, f, &sp);
        for (size_t i = 0; i < sp.n_train; i++)
            sp.train[i] = train[sp.train[i]];
        size_t *rows = ps_xmalloc((sp.n_test ? sp.n_test : 1) * sizeof *rows);
        for (size_t i = 0; i < sp.n_test; i++)
            rows[i] = train[sp.test[i]];
        ps_content_model fm;
        int frc = fit(&fm, &o, &X, y, sp.train, sp.n_train, err);
        if (frc == 0) {
            float *p = ps_xmalloc((sp.n_test ? sp.n_test : 1) * sizeof *p);
            predict(&fm, &X, rows, sp.n_test, p);
            for (size_t i = 0; i < sp.n_test; i++)
                oof[sp.test[i]] = p[i];
            free(p);
            ps_content_free(&fm);
        }
        free(rows);
        ps_split_free(&sp);
        if (frc != 0)
            goto out;
    }
    float t = choose_threshold(oof, ylab, n_train, o.target_recall);
    if (fit(m, &o, &X, y, train, n_train, err) != 0)
        goto out;
    m->threshold = t;
    if (rep) {
        memset(rep, 0, sizeof *rep);
        size_t tp, fp, fn, tn;
        rep->n_train = n_train;
        for (size_t i = 0; i < n_train; i++)
            rep->n_train_pos += ylab[i] > 0.5f;
        rep->threshold = t;
        confusion(oof, ylab, n_train, t, &tp, &fp, &fn, &tn);
        rep->oof_precision = ratio(tp, tp + fp);
        rep->oof_recall = ratio(tp, tp + fn);
        float *p = ps_xmalloc((n_held ? n_held : 1) * sizeof *p);
        float *yh = ps_xmalloc((n_held ? n_held : 1) * sizeof *yh);
        predict(m, &X, held, n_held, p);
        for (size_t i = 0; i < n_held; i++) {
            yh[i] = y[held[i]];
            rep->n_heldout_pos += yh[i] > 0.5f;
        }
        rep->n_heldout = n_held;
        confusion(p, yh, n_held, t, &rep->tp, &rep->fp, &rep->fn, &rep->tn);
        rep->precision = ratio(rep->tp, rep->tp + rep->fp);
        rep->recall = ratio(rep->tp, rep->tp + rep->fn);
        rep->flagged = ratio(rep->tp + rep->fp, n_held);
        free(p);
        free(yh);
    }
    rc = 0;
out:
    if (rc != 0)
        ps_content_free(m);
    free(oof);
    free(ylab);
    free(fold_of);
    free(g);
    free(train);
    free(held);
    free(y);
    ps_mat_free(&X);
    return rc;
}

/* ---- applying ------------------------------------------------------------------- */

float ps_content_score(const ps_content_model *m, const ps_features *f)
{
    size_t d = ps_relfeat_photo_dim(m->photo_mask, 0);
    ps_mat X = ps_mat_new(1, d);
    ps_relfeat_photo(m->photo_mask, f, NULL, 0, X.data);
    float p;
    predict(m, &X, NULL, 1, &p);
    ps_mat_free(&X);
    return p;
}

int ps_content_classify(const ps_content_model *m, const ps_features *f, float *score)
{
    float p = ps_content_score(m, f);
    if (score)
        *score = p;
    return p >= m->threshold;
}

/* ---- files ------------------------------------------------------------------------ */

void ps_content_put(const ps_content_model *m, ps_modelfile *f, const char *prefix)
{
    char nm[PS_MODEL_NAME_MAX];
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "kind"), m->kind);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "photo_mask"), m->photo_mask);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "threshold"), m->threshold);
    ps_model_key(nm, prefix, m->kind == PS_CONTENT_RIDGE ? "ridge." : "mlp.");
    if (m->kind == PS_CONTENT_RIDGE)
        ps_ridge_put(&m->ridge, f, nm);
    else
        ps_mlp_put(&m->mlp, f, nm);
}

int ps_content_get(ps_content_model *m, const ps_modelfile *f, const char *prefix, ps_error *err)
{
    memset(m, 0, sizeof *m);
    char nm[PS_MODEL_NAME_MAX];
    long kind, mask;
    double t;
    if (ps_modelfile_int(f, ps_model_key(nm, prefix, "kind"), PS_CONTENT_RIDGE, PS_CONTENT_MLP,
                         &kind, err) != 0 ||
        ps_modelfile_int(f, ps_model_key(nm, prefix, "photo_mask"), 1, PS_PF_ALL & ~PS_PF_ZS,
                         &mask, err) != 0 ||
        ps_modelfile_scalar(f, ps_model_key(nm, prefix, "threshold"), &t, err) != 0)
        return -1;
    m->kind = (ps_content_kind)kind;
    m->photo_mask = (unsigned)mask;
    m->threshold = (float)t;
    size_t d = ps_relfeat_photo_dim(m->photo_mask, 0);
    ps_model_key(nm, prefix, m->kind == PS_CONTENT_RIDGE ? "ridge." : "mlp.");
    int rc = m->kind == PS_CONTENT_RIDGE ? ps_ridge_get(&m->ridge, f, nm, err)
                                         : ps_mlp_get(&m->mlp, f, nm, err);
    if (rc != 0)
        return -1;
    size_t got = m->kind == PS_CONTENT_RIDGE ? m->ridge.d : m->mlp.sizes[0];
    if (got != d) {
        ps_errorf(err, "%s: the content classifier takes %zu inputs, its photo features have %zu",
                  f->source, got, d);
        ps_content_free(m);
        return -1;
    }
    return 0;
}
