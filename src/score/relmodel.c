/*
 * relmodel.c - fit and apply the compared relevance models.
 */
#include "score/relmodel.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/splits.h"

static const char *const NAMES[PS_RM_NKINDS] = {"constant", "ridge", "mlp", "bilinear"};

const char *ps_relmodel_name(ps_relmodel_kind k)
{
    return (unsigned)k < PS_RM_NKINDS ? NAMES[k] : "?";
}

int ps_relmodel_parse(const char *s)
{
    for (int k = 0; k < PS_RM_NKINDS; k++)
        if (strcmp(s, NAMES[k]) == 0)
            return k;
    return -1;
}

void ps_relmodel_opts_default(ps_relmodel_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ridge = ps_ridge_defaults();
    o->mlp = ps_mlp_defaults();
    o->bilinear = ps_bilinear_defaults();
    /* Chosen by the cross-validation on the training photos (regression
     * metrics and retrieval among held-out photos, docs/EVALUATION.md),
     * never by the test queries: the ranking term helps both once the
     * output is calibrated; with the PCA, an L2 of 0.1 is enough; the
     * photo-only linear term (a query-independent "popularity" of a
     * photo) does not help retrieval. */
    o->bilinear.rank = 16;
    o->bilinear.l2 = 0.1f;
    o->bilinear.rank_weight = 1.0f;
    o->bilinear.use_linear = 0;
    o->val_frac = 0.15;
    o->seed = 42;
    o->calibrate = 1;
    o->calib_mae = 0.1;
    o->photo_pca = 64;
    o->ensemble = 5;
}

static int parse_double(const char *name, const char *v, double lo, double hi, double *out,
                        ps_error *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !(d >= lo && d <= hi))
        return ps_errorf(err, "%s: '%s' is not a number in [%g, %g]", name, v, lo, hi);
    *out = d;
    return 0;
}

static int parse_size(const char *name, const char *v, size_t lo, size_t hi, size_t *out,
                      ps_error *err)
{
    double d = 0; /* set by parse_double; -O3 cannot see that */
    if (parse_double(name, v, (double)lo, (double)hi, &d, err) != 0)
        return -1;
    if (d != (double)(size_t)d)
        return ps_errorf(err, "%s: '%s' is not a whole number", name, v);
    *out = (size_t)d;
    return 0;
}

static int parse_hidden(ps_mlp_opts *m, const char *v, ps_error *err)
{
    size_t n = 0;
    if (strcmp(v, "none") != 0) {
        const char *s = v;
        while (*s) {
            char part[32];
            size_t len = strcspn(s, ",");
            if (len == 0 || len >= sizeof part || n == PS_MLP_MAX_HIDDEN)
                return ps_errorf(err, "mlp.hidden: '%s' is not a list of at most %d sizes", v,
                                 PS_MLP_MAX_HIDDEN);
            memcpy(part, s, len);
            part[len] = '\0';
            if (parse_size("mlp.hidden", part, 1, 65536, &m->hidden[n], err) != 0)
                return -1;
            n++;
            s += len + (s[len] == ',');
        }
    }
    m->n_hidden = n;
    return 0;
}

int ps_relmodel_opts_set(ps_relmodel_opts *o, const char *name, const char *v, ps_error *err)
{
    double d = 0;
    size_t z = 0;
#define DBL(key, lo, hi, field)                                                               \
    if (strcmp(name, key) == 0) {                                                             \
        if (parse_double(key, v, lo, hi, &d, err) != 0)                                       \
            return -1;                                                                        \
        field = d;                                                                            \
        return 0;                                                                             \
    }
#define FLT(key, lo, hi, field)                                                               \
    if (strcmp(name, key) == 0) {                                                             \
        if (parse_double(key, v, lo, hi, &d, err) != 0)                                       \
            return -1;                                                                        \
        field = (float)d;                                                                     \
        return 0;                                                                             \
    }
#define SIZ(key, lo, hi, field)                                                               \
    if (strcmp(name, key) == 0) {                                                             \
        if (parse_size(key, v, lo, hi, &z, err) != 0)                                         \
            return -1;                                                                        \
        field = z;                                                                            \
        return 0;                                                                             \
    }
    DBL("ridge.alpha", 0, 1e12, o->ridge_alpha)
    if (strcmp(name, "mlp.hidden") == 0)
        return parse_hidden(&o->mlp, v, err);
    FLT("mlp.dropout", 0, 0.95, o->mlp.dropout)
    FLT("mlp.lr", 1e-7, 1, o->mlp.lr)
    FLT("mlp.l2", 0, 10, o->mlp.l2)
    SIZ("mlp.batch", 1, 1 << 20, o->mlp.batch)
    SIZ("mlp.epochs", 1, 100000, o->mlp.max_epochs)
    SIZ("mlp.patience", 1, 100000, o->mlp.patience)
    SIZ("bilinear.rank", 1, 4096, o->bilinear.rank)
    FLT("bilinear.lr", 1e-7, 1, o->bilinear.lr)
    FLT("bilinear.l2", 0, 10, o->bilinear.l2)
    SIZ("bilinear.batch", 1, 1 << 20, o->bilinear.batch)
    SIZ("bilinear.epochs", 1, 100000, o->bilinear.max_epochs)
    SIZ("bilinear.patience", 1, 100000, o->bilinear.patience)
    FLT("bilinear.rank_weight", 0, 100, o->bilinear.rank_weight)
    FLT("bilinear.rank_margin", 0, 1, o->bilinear.rank_margin)
    SIZ("bilinear.linear", 0, 1, o->bilinear.use_linear)
    DBL("val_frac", 0.01, 0.9, o->val_frac)
    SIZ("calibrate", 0, 1, o->calibrate)
    SIZ("photo_pca", 0, 4096, o->photo_pca)
    SIZ("bilinear.ensemble", 1, 64, o->ensemble)
    DBL("calib_mae", 0, 100, o->calib_mae)
    SIZ("seed", 0, (size_t)1 << 52, o->seed)
#undef DBL
#undef FLT
#undef SIZ
    return ps_errorf(err, "unknown model setting '%s'", name);
}

void ps_relmodel_free(ps_relmodel *m)
{
    ps_ridge_free(&m->ridge);
    ps_mlp_free(&m->mlp);
    for (size_t k = 0; k < m->n_bl; k++)
        ps_bilinear_free(&m->bl[k]);
    free(m->bl);
    ps_pca_free(&m->pca);
    memset(m, 0, sizeof *m);
}

/* Fit the PCA on the distinct photos of the training pairs and project
 * every photo; *proj is the new photo matrix. */
static int fit_pca(ps_relmodel *m, const ps_pairs *p, const size_t *train, size_t n_train,
                   size_t k, uint64_t seed, ps_mat *proj, ps_error *err)
{
    unsigned char *seen = ps_xcalloc(p->photo->rows ? p->photo->rows : 1, 1);
    size_t *rows = ps_xmalloc((p->photo->rows ? p->photo->rows : 1) * sizeof *rows), n = 0;
    for (size_t i = 0; i < n_train; i++) {
        uint32_t ph = p->photo_idx[train[i]];
        if (!seen[ph]) {
            seen[ph] = 1;
            rows[n++] = ph;
        }
    }
    int rc = ps_pca_fit(&m->pca, p->photo, rows, n, k, seed, err);
    free(rows);
    free(seen);
    if (rc != 0)
        return ps_error_prefix(err, "photo features");
    *proj = ps_pca_transform(&m->pca, p->photo);
    return 0;
}

/* Split the training rows by photo into fit and early-stopping rows. */
static int inner_split(const uint32_t *groups, size_t n_primary, const size_t *train, size_t n,
                       double frac, uint64_t seed, size_t **fit, size_t *n_fit, size_t **val,
                       size_t *n_val, ps_error *err)
{
    uint32_t *g = ps_xmalloc((n ? n : 1) * sizeof *g);
    for (size_t i = 0; i < n; i++)
        g[i] = groups[train[i]];
    ps_split s;
    int rc = ps_group_shuffle_split(g, n, frac, seed, &s, err);
    free(g);
    if (rc != 0)
        return -1;
    /* Map positions in train[] back to pair numbers. */
    for (size_t i = 0; i < s.n_train; i++)
        s.train[i] = train[s.train[i]];
    /* Validate on the primary pairs of the validation photos, when there
     * are some: they are the pairs every metric is computed on. */
    size_t nv = 0;
    for (size_t i = 0; i < s.n_test; i++)
        if (train[s.test[i]] < n_primary)
            s.test[nv++] = train[s.test[i]];
    if (nv == 0) {
        for (size_t i = 0; i < s.n_test; i++)
            s.test[i] = train[s.test[i]];
        nv = s.n_test;
    }
    s.n_test = nv;
    *fit = s.train;
    *n_fit = s.n_train;
    *val = s.test;
    *n_val = s.n_test;
    return 0;
}

/* Output recalibration: a monotone map fitted on expert pairs, so a model
 * trained on the skewed crowd-only pairs too predicts on the expert
 * pairs' scale.  LOGIT: sigmoid(a logit(p) + c) for sigmoid outputs;
 * LINEAR: a p + c.  Loss: squared error + w * absolute error. */
enum { CAL_NONE, CAL_LOGIT, CAL_LINEAR };

static double cal_apply(int kind, double a, double c, double x)
{
    return kind == CAL_LOGIT ? 1.0 / (1.0 + exp(-(a * x + c))) : a * x + c;
}

static double calib_loss(const float *x, const float *y, size_t n, int kind, double a, double c,
                         double w)
{
    double sq = 0, ab = 0;
    for (size_t i = 0; i < n; i++) {
        double e = cal_apply(kind, a, c, x[i]) - y[i];
        sq += e * e;
        ab += fabs(e);
    }
    return sq + w * ab;
}

/* Minimize over a in [0.05, 5] (log grid) and c (LOGIT: [-5, 5], LINEAR:
 * [-1, 1]): a coarse grid, then three finer grids around the best point.
 * Deterministic and robust for a non-smooth loss. */
static void fit_calibration(const float *x, const float *y, size_t n, int kind, double w,
                            float *a_out, float *c_out)
{
    double la = 0, c = 0, best = calib_loss(x, y, n, kind, 1, 0, w);
    double cr = kind == CAL_LOGIT ? 5 : 1;
    double la_lo = log(0.05), la_hi = log(5.0), c_lo = -cr, c_hi = cr;
    for (int level = 0; level < 4; level++) {
        const int G = 24;
        double bla = la, bc = c;
        for (int i = 0; i <= G; i++)
            for (int j = 0; j <= G; j++) {
                double ta = la_lo + (la_hi - la_lo) * i / G, tc = c_lo + (c_hi - c_lo) * j / G;
                double l = calib_loss(x, y, n, kind, exp(ta), tc, w);
                if (l < best) {
                    best = l;
                    bla = ta;
                    bc = tc;
                }
            }
        la = bla;
        c = bc;
        double wa = (la_hi - la_lo) / G * 2, wc = (c_hi - c_lo) / G * 2;
        la_lo = la - wa;
        la_hi = la + wa;
        c_lo = c - wc;
        c_hi = c + wc;
    }
    *a_out = (float)exp(la);
    *c_out = (float)c;
}

static void raw_predict(const ps_relmodel *m, const ps_pairs *p, const size_t *idx, size_t n,
                        float *out);

/* Fit the output calibration of m (ridge, mlp) or of one bilinear member
 * `member` (folded into its weights: the scorer needs it there) on pairs
 * rows[0..n) of the (projected) view p. */
static void calibrate(ps_relmodel *m, ps_bilinear *member, const ps_pairs *p, const float *y,
                      const size_t *rows, size_t n, int kind, double w)
{
    if (n < 10)
        return;
    float *x = ps_xmalloc(n * sizeof *x), *yv = ps_xmalloc(n * sizeof *yv);
    if (member)
        ps_bilinear_predict(member, p, rows, n, x);
    else
        raw_predict(m, p, rows, n, x);
    for (size_t i = 0; i < n; i++) {
        if (kind == CAL_LOGIT) {
            double q = x[i] < 1e-7f ? 1e-7 : x[i] > 1 - 1e-7f ? 1 - 1e-7 : x[i];
            x[i] = (float)log(q / (1 - q));
        }
        yv[i] = y[rows[i]];
    }
    float a, c;
    fit_calibration(x, yv, n, kind, w, &a, &c);
    if (member) {
        ps_bilinear_rescale(member, a, c);
    } else {
        m->cal = kind;
        m->cal_a = a;
        m->cal_c = c;
    }
    free(x);
    free(yv);
}

/* The primary pairs among rows (all rows if there are none); caller frees. */
static size_t *primary_rows(const size_t *rows, size_t n, size_t n_primary, size_t *n_out)
{
    size_t *out = ps_xmalloc((n ? n : 1) * sizeof *out), k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i] < n_primary)
            out[k++] = rows[i];
    if (k == 0) {
        memcpy(out, rows, n * sizeof *out);
        k = n;
    }
    *n_out = k;
    return out;
}

int ps_relmodel_train(ps_relmodel *m, ps_relmodel_kind kind, const ps_pairs *p, const float *y,
                      const uint32_t *groups, size_t n_primary, const size_t *train,
                      size_t n_train, const ps_relmodel_opts *o, ps_error *err)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
    size_t *all = NULL;
    if (!train) {
        all = ps_xmalloc((p->n ? p->n : 1) * sizeof *all);
        for (size_t i = 0; i < p->n; i++)
            all[i] = i;
        train = all;
        n_train = p->n;
    }
    int rc = -1;
    ps_mat proj = {0, 0, NULL};
    ps_pairs pp = *p;
    if (o->photo_pca && kind != PS_RM_CONSTANT) {
        if (ps_pairs_check(p, err) != 0 ||
            fit_pca(m, p, train, n_train, o->photo_pca, o->seed, &proj, err) != 0) {
            free(all);
            ps_relmodel_free(m);
            return -1;
        }
        pp.photo = &proj;
        p = &pp;
    }
    ps_rows rows = ps_rows_pairs(p);
    size_t *fit = NULL, *val = NULL, n_fit = 0, n_val = 0;
    switch (kind) {
    case PS_RM_CONSTANT: {
        /* The mean target of the primary (expert) training pairs: the
         * best constant for the metrics. */
        size_t np;
        size_t *prim = primary_rows(train, n_train, n_primary, &np);
        double s = 0;
        for (size_t i = 0; i < np; i++)
            s += y[prim[i]];
        m->constant = np ? (float)(s / (double)np) : 0.0f;
        free(prim);
        rc = 0;
        break;
    }
    case PS_RM_RIDGE: {
        ps_ridge_opts ro = o->ridge;
        ro.groups = groups;
        ro.seed = o->seed;
        if (o->ridge_alpha > 0) {
            ro.alphas = &o->ridge_alpha;
            ro.n_alphas = 1;
        }
        rc = ps_ridge_fit(&m->ridge, &rows, y, train, n_train, &ro, err);
        if (rc == 0 && o->calibrate) {
            /* Ridge has no validation split: two numbers fitted on the
             * training pairs cannot overfit much. */
            size_t np;
            size_t *prim = primary_rows(train, n_train, n_primary, &np);
            calibrate(m, NULL, p, y, prim, np, CAL_LINEAR, o->calib_mae);
            free(prim);
        }
        break;
    }
    case PS_RM_MLP: {
        ps_mlp_opts mo = o->mlp;
        mo.seed = o->seed;
        if (inner_split(groups, n_primary, train, n_train, o->val_frac, o->seed, &fit, &n_fit,
                        &val, &n_val, err) == 0)
            rc = ps_mlp_train(&m->mlp, &rows, y, fit, n_fit, val, n_val, &mo, err);
        if (rc == 0 && o->calibrate)
            calibrate(m, NULL, p, y, val, n_val, mo.sigmoid_out ? CAL_LOGIT : CAL_LINEAR,
                      o->calib_mae);
        break;
    }
    case PS_RM_BILINEAR: {
        /* An ensemble: member k has seed + k, so its own early-stopping
         * photos and initial weights; each is calibrated on its validation
         * pairs, and the ensemble's logit is the members' mean. */
        size_t ne = o->ensemble ? o->ensemble : 1;
        m->bl = ps_xcalloc(ne, sizeof *m->bl);
        rc = 0;
        for (size_t k = 0; k < ne && rc == 0; k++) {
            ps_bilinear_opts bo = o->bilinear;
            bo.seed = o->seed + k;
            free(fit);
            free(val);
            fit = val = NULL;
            rc = inner_split(groups, n_primary, train, n_train, o->val_frac, bo.seed, &fit,
                             &n_fit, &val, &n_val, err);
            if (rc == 0)
                rc = ps_bilinear_train(&m->bl[k], p, y, fit, n_fit, val, n_val, &bo, err);
            if (rc == 0)
                m->n_bl = k + 1;
            if (rc == 0 && o->calibrate && bo.sigmoid_out)
                calibrate(m, &m->bl[k], p, y, val, n_val, CAL_LOGIT, o->calib_mae);
        }
        break;
    }
    default:
        ps_errorf(err, "unknown model kind %d", (int)kind);
    }
    free(fit);
    free(val);
    free(all);
    ps_mat_free(&proj);
    if (rc != 0)
        ps_relmodel_free(m);
    return rc;
}

/* Predict from the view the model was trained on (photos projected). */
static void raw_predict(const ps_relmodel *m, const ps_pairs *p, const size_t *idx, size_t n,
                        float *out)
{
    ps_rows rows = ps_rows_pairs(p);
    switch (m->kind) {
    case PS_RM_CONSTANT:
        for (size_t i = 0; i < n; i++)
            out[i] = m->constant;
        break;
    case PS_RM_RIDGE: ps_ridge_predict(&m->ridge, &rows, idx, n, out); break;
    case PS_RM_MLP: ps_mlp_predict(&m->mlp, &rows, idx, n, out); break;
    case PS_RM_BILINEAR: ps_relmodel_ensemble_predict(m->bl, m->n_bl, p, idx, n, out); break;
    default: break;
    }
}

static double logit(float p)
{
    double q = p < 1e-7f ? 1e-7 : p > 1 - 1e-7f ? 1 - 1e-7 : p;
    return log(q / (1 - q));
}

void ps_relmodel_ensemble_predict(const ps_bilinear *bl, size_t n_bl, const ps_pairs *p,
                                  const size_t *idx, size_t n, float *out)
{
    if (n_bl == 1 || !bl[0].sigmoid_out) {
        ps_bilinear_predict(&bl[0], p, idx, n, out);
        return;
    }
    double *z = ps_xcalloc(n ? n : 1, sizeof *z);
    float *o = ps_xmalloc((n ? n : 1) * sizeof *o);
    for (size_t k = 0; k < n_bl; k++) {
        ps_bilinear_predict(&bl[k], p, idx, n, o);
        for (size_t i = 0; i < n; i++)
            z[i] += logit(o[i]);
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (float)(1.0 / (1.0 + exp(-z[i] / (double)n_bl)));
    free(z);
    free(o);
}

void ps_relmodel_predict(const ps_relmodel *m, const ps_pairs *p, const size_t *idx, size_t n,
                         float *out)
{
    ps_mat proj = {0, 0, NULL};
    ps_pairs pp = *p;
    if (m->pca.k) {
        proj = ps_pca_transform(&m->pca, p->photo);
        pp.photo = &proj;
        p = &pp;
    }
    raw_predict(m, p, idx, n, out);
    if (m->cal == CAL_LOGIT)
        for (size_t i = 0; i < n; i++) {
            double q = out[i] < 1e-7f ? 1e-7 : out[i] > 1 - 1e-7f ? 1 - 1e-7 : out[i];
            out[i] = (float)cal_apply(CAL_LOGIT, m->cal_a, m->cal_c, log(q / (1 - q)));
        }
    else if (m->cal == CAL_LINEAR)
        for (size_t i = 0; i < n; i++)
            out[i] = (float)cal_apply(CAL_LINEAR, m->cal_a, m->cal_c, out[i]);
    ps_mat_free(&proj);
}
