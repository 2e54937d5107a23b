#include "learn/ridge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/linalg.h"
#include "learn/modelfile.h"
#include "learn/parallel.h"
#include "learn/splits.h"

static const double DEFAULT_GRID[] = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000};

ps_ridge_opts ps_ridge_defaults(void)
{
    ps_ridge_opts o = {0};
    o.standardize = 1;
    o.folds = 5;
    o.seed = 1;
    o.threads = 2;
    o.solver = PS_RIDGE_AUTO;
    return o;
}

/* The training rows, centered and scaled, in fold order: the rows of fold
 * 0 first, then fold 1, ...; the final fit uses all of them. */
typedef struct ridge_data {
    size_t n, d;
    int primal;
    float *A;      /* primal: d x n (feature j = row j); dual: n x d */
    double *yc;    /* targets minus their mean */
    double ymean;
    double *mean, *scale; /* per feature, original units */
    double *G;     /* primal: X^T X (d x d); dual: X X^T (n x n); lower */
    double *s_all; /* primal: per-feature sum over all rows */
    double *r_all; /* primal: X^T yc */
    double sum_yc;
    double unit;   /* trace(G) / d: what a relative alpha of 1 means */
    int threads;
} ridge_data;

static float at(const ridge_data *D, size_t row, size_t j)
{
    return D->primal ? D->A[j * D->n + row] : D->A[row * D->d + j];
}

/* Gather rows, check them, center and scale. */
static int gather(ridge_data *D, const ps_rows *X, const float *y, const size_t *idx,
                  const size_t *order, int standardize, ps_error *err)
{
    size_t n = D->n, d = D->d;
    D->A = ps_xmalloc(n * d * sizeof(float));
    D->yc = ps_xmalloc(n * sizeof(double));
    D->mean = ps_xcalloc(d, sizeof(double));
    D->scale = ps_xmalloc(d * sizeof(double));
    float *row = ps_xmalloc(d * sizeof(float));
    double *sq = ps_xcalloc(d, sizeof(double));
    double ysum = 0;
    for (size_t pos = 0; pos < n; pos++) {
        size_t r = idx ? idx[order[pos]] : order[pos];
        ps_rows_get(X, r, row);
        if (!isfinite(y[r])) {
            free(row);
            free(sq);
            return ps_errorf(err, "ridge: row %zu: the target is not a finite number", r);
        }
        ysum += y[r];
        D->yc[pos] = y[r];
        for (size_t j = 0; j < d; j++) {
            if (!isfinite(row[j])) {
                free(row);
                free(sq);
                return ps_errorf(err, "ridge: row %zu, column %zu: not a finite number", r, j);
            }
            D->mean[j] += row[j];
            if (D->primal)
                D->A[j * n + pos] = row[j];
            else
                D->A[pos * d + j] = row[j];
        }
    }
    D->ymean = ysum / (double)n;
    for (size_t pos = 0; pos < n; pos++)
        D->yc[pos] -= D->ymean;
    for (size_t j = 0; j < d; j++)
        D->mean[j] /= (double)n;
    for (size_t pos = 0; pos < n; pos++)
        for (size_t j = 0; j < d; j++) {
            double c = at(D, pos, j) - D->mean[j];
            sq[j] += c * c;
        }
    double trace = 0;
    for (size_t j = 0; j < d; j++) {
        double sd = sqrt(sq[j] / (double)n);
        D->scale[j] = standardize && sd > 1e-12 ? sd : 1.0;
        trace += sq[j] / (D->scale[j] * D->scale[j]);
    }
    D->unit = trace > 0 ? trace / (double)d : 1.0;
    for (size_t pos = 0; pos < n; pos++)
        for (size_t j = 0; j < d; j++) {
            float *a = D->primal ? &D->A[j * n + pos] : &D->A[pos * d + j];
            *a = (float)(((double)*a - D->mean[j]) / D->scale[j]);
        }
    free(row);
    free(sq);
    return 0;
}

/* The linear system of one fit: train on every row outside [h0, h1). */
typedef struct fold_sys {
    size_t h0, h1, p; /* held-out positions; system size */
    double *C;        /* p x p lower, without alpha */
    double *rhs;      /* p */
    double *m;        /* mean of the training rows (d) */
    double mu;        /* mean of the training targets (centered units) */
    size_t *tr;       /* dual: the training positions */
} fold_sys;

static void fold_sys_free(fold_sys *s)
{
    free(s->C);
    free(s->rhs);
    free(s->m);
    free(s->tr);
}

static void build_primal(const ridge_data *D, fold_sys *S)
{
    size_t n = D->n, d = D->d, nk = S->h1 - S->h0, ntr = n - nk;
    S->p = d;
    S->C = ps_xmalloc(d * d * sizeof(double));
    S->rhs = ps_xmalloc(d * sizeof(double));
    S->m = ps_xmalloc(d * sizeof(double));
    if (nk)
        ps_gram_lower(D->A + S->h0, d, nk, n, S->C, d, D->threads);
    double sy = D->sum_yc;
    for (size_t i = S->h0; i < S->h1; i++)
        sy -= D->yc[i];
    S->mu = sy / (double)ntr;
    for (size_t j = 0; j < d; j++) {
        const float *aj = D->A + j * n;
        double s = D->s_all[j], r = D->r_all[j];
        for (size_t i = S->h0; i < S->h1; i++) {
            s -= aj[i];
            r -= aj[i] * D->yc[i];
        }
        S->m[j] = s / (double)ntr;
        S->rhs[j] = r - (double)ntr * S->m[j] * S->mu;
    }
    /* C = (G_all - G_heldout) - ntr m m^T: the centered Gram of the rest. */
    for (size_t i = 0; i < d; i++) {
        double *ci = S->C + i * d;
        const double *gi = D->G + i * d;
        double f = (double)ntr * S->m[i];
        for (size_t j = 0; j <= i; j++)
            ci[j] = gi[j] - (nk ? ci[j] : 0.0) - f * S->m[j];
    }
}

static double kget(const ridge_data *D, size_t i, size_t j)
{
    return i >= j ? D->G[i * D->n + j] : D->G[j * D->n + i];
}

static void build_dual(const ridge_data *D, fold_sys *S)
{
    size_t n = D->n, d = D->d, p = n - (S->h1 - S->h0);
    S->p = p;
    S->tr = ps_xmalloc(p * sizeof(size_t));
    for (size_t i = 0, k = 0; i < n; i++)
        if (i < S->h0 || i >= S->h1)
            S->tr[k++] = i;
    S->C = ps_xmalloc(p * p * sizeof(double));
    S->rhs = ps_xmalloc(p * sizeof(double));
    S->m = ps_xcalloc(d, sizeof(double));
    double *km = ps_xcalloc(p, sizeof(double)), kmm = 0, sy = 0;
    for (size_t a = 0; a < p; a++) {
        for (size_t b = 0; b < p; b++)
            km[a] += kget(D, S->tr[a], S->tr[b]);
        km[a] /= (double)p;
        kmm += km[a];
        sy += D->yc[S->tr[a]];
        const float *row = D->A + S->tr[a] * d;
        for (size_t j = 0; j < d; j++)
            S->m[j] += row[j];
    }
    kmm /= (double)p;
    S->mu = sy / (double)p;
    for (size_t j = 0; j < d; j++)
        S->m[j] /= (double)p;
    /* Double centering gives the Gram matrix of the centered rows. */
    for (size_t a = 0; a < p; a++) {
        S->rhs[a] = D->yc[S->tr[a]] - S->mu;
        for (size_t b = 0; b <= a; b++)
            S->C[a * p + b] = kget(D, S->tr[a], S->tr[b]) - km[a] - km[b] + kmm;
    }
    free(km);
}

/* Weights (standardized units) for one alpha; -1 if the factorization fails. */
static int solve_alpha(const ridge_data *D, const fold_sys *S, double alpha, double *w)
{
    size_t p = S->p, d = D->d;
    double *M = ps_xmalloc(p * p * sizeof(double));
    double *x = ps_xmalloc(p * sizeof(double));
    for (size_t i = 0; i < p; i++) {
        memcpy(M + i * p, S->C + i * p, (i + 1) * sizeof(double));
        M[i * p + i] += alpha;
    }
    memcpy(x, S->rhs, p * sizeof(double));
    int rc = ps_cholesky(M, p, p, NULL);
    if (rc == 0) {
        ps_cholesky_solve(M, p, p, x);
        if (D->primal) {
            memcpy(w, x, d * sizeof(double));
        } else {
            /* w = sum_i x_i (a_i - m) */
            double sx = 0;
            memset(w, 0, d * sizeof(double));
            for (size_t a = 0; a < p; a++) {
                const float *row = D->A + S->tr[a] * d;
                sx += x[a];
                for (size_t j = 0; j < d; j++)
                    w[j] += x[a] * row[j];
            }
            for (size_t j = 0; j < d; j++)
                w[j] -= sx * S->m[j];
        }
    }
    free(M);
    free(x);
    return rc;
}

static double heldout_sse(const ridge_data *D, const fold_sys *S, const double *w)
{
    size_t nk = S->h1 - S->h0;
    double *pred = ps_xmalloc((nk ? nk : 1) * sizeof(double));
    for (size_t i = 0; i < nk; i++)
        pred[i] = S->mu;
    for (size_t j = 0; j < D->d; j++)
        for (size_t i = 0; i < nk; i++)
            pred[i] += ((double)at(D, S->h0 + i, j) - S->m[j]) * w[j];
    double sse = 0;
    for (size_t i = 0; i < nk; i++) {
        double e = pred[i] - D->yc[S->h0 + i];
        sse += e * e;
    }
    free(pred);
    return sse;
}

typedef struct alpha_job {
    const ridge_data *D;
    const fold_sys *S;
    const double *grid;
    double *sse;
} alpha_job;

static void alpha_task(void *ctx, size_t k)
{
    alpha_job *j = ctx;
    double *w = ps_xmalloc(j->D->d * sizeof(double));
    if (solve_alpha(j->D, j->S, j->grid[k] * j->D->unit, w) == 0)
        j->sse[k] += heldout_sse(j->D, j->S, w);
    else
        j->sse[k] = INFINITY;
    free(w);
}

static void build_sys(const ridge_data *D, size_t h0, size_t h1, fold_sys *S)
{
    memset(S, 0, sizeof *S);
    S->h0 = h0;
    S->h1 = h1;
    if (D->primal)
        build_primal(D, S);
    else
        build_dual(D, S);
}

static void data_free(ridge_data *D)
{
    free(D->A);
    free(D->yc);
    free(D->mean);
    free(D->scale);
    free(D->G);
    free(D->s_all);
    free(D->r_all);
}

/* Order the rows by fold; fstart[f] is where fold f begins. */
static int fold_order(const size_t *idx, size_t n, const ps_ridge_opts *o, size_t *order,
                      size_t *fstart, ps_error *err)
{
    int F = o->folds;
    int *fold = ps_xmalloc(n * sizeof(int));
    uint32_t *g = ps_xmalloc(n * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        size_t r = idx ? idx[i] : i;
        g[i] = o->groups ? o->groups[r] : (uint32_t)i;
    }
    int rc = ps_group_kfold(g, n, F, o->seed, fold, err);
    free(g);
    if (rc != 0) {
        free(fold);
        return ps_error_prefix(err, "ridge");
    }
    size_t pos = 0;
    for (int f = 0; f < F; f++) {
        fstart[f] = pos;
        for (size_t i = 0; i < n; i++)
            if (fold[i] == f)
                order[pos++] = i;
    }
    fstart[F] = pos;
    free(fold);
    return 0;
}

int ps_ridge_fit(ps_ridge *m, const ps_rows *X, const float *y, const size_t *idx, size_t n,
                 const ps_ridge_opts *opts, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_ridge_opts o = opts ? *opts : ps_ridge_defaults();
    const double *grid = o.alphas ? o.alphas : DEFAULT_GRID;
    size_t ng = o.alphas ? o.n_alphas : sizeof DEFAULT_GRID / sizeof DEFAULT_GRID[0];
    if (ps_rows_check(X, idx, n, err) != 0)
        return ps_error_prefix(err, "ridge");
    if (ng == 0)
        return ps_errorf(err, "ridge: the alpha grid is empty");
    for (size_t k = 0; k < ng; k++)
        if (!(grid[k] > 0) || !isfinite(grid[k]))
            return ps_errorf(err, "ridge: alpha %g must be a positive number", grid[k]);
    if (n < 2)
        return ps_errorf(err, "ridge: needs at least 2 training rows, got %zu", n);
    int cv = ng > 1;
    if (!cv)
        o.folds = 1;

    ridge_data D = {0};
    D.n = n;
    D.d = X->cols;
    D.threads = o.threads;
    D.primal = o.solver == PS_RIDGE_PRIMAL || (o.solver == PS_RIDGE_AUTO && D.d <= n);
    size_t *order = ps_xmalloc(n * sizeof(size_t));
    size_t *fstart = ps_xcalloc((size_t)o.folds + 1, sizeof(size_t));
    int rc = 0;
    if (cv) {
        rc = fold_order(idx, n, &o, order, fstart, err);
    } else {
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        fstart[1] = n;
    }
    if (rc == 0)
        rc = gather(&D, X, y, idx, order, o.standardize, err);
    if (rc != 0) {
        free(order);
        free(fstart);
        data_free(&D);
        return -1;
    }

    size_t d = D.d;
    if (D.primal) {
        D.G = ps_xmalloc(d * d * sizeof(double));
        ps_gram_lower(D.A, d, n, n, D.G, d, o.threads);
        D.s_all = ps_xcalloc(d, sizeof(double));
        D.r_all = ps_xcalloc(d, sizeof(double));
        for (size_t j = 0; j < d; j++)
            for (size_t i = 0; i < n; i++) {
                D.s_all[j] += D.A[j * n + i];
                D.r_all[j] += D.A[j * n + i] * D.yc[i];
            }
    } else {
        D.G = ps_xmalloc(n * n * sizeof(double));
        ps_gram_lower(D.A, n, d, d, D.G, n, o.threads);
    }
    for (size_t i = 0; i < n; i++)
        D.sum_yc += D.yc[i];

    m->n_grid = ng;
    m->grid_rel = ps_xmalloc(ng * sizeof(double));
    m->grid_mse = ps_xcalloc(ng, sizeof(double));
    memcpy(m->grid_rel, grid, ng * sizeof(double));
    size_t best = 0;
    if (cv) {
        for (int f = 0; f < o.folds; f++) {
            fold_sys S;
            build_sys(&D, fstart[f], fstart[f + 1], &S);
            alpha_job job = {&D, &S, grid, m->grid_mse};
            ps_parallel_run(o.threads, ng, alpha_task, &job);
            fold_sys_free(&S);
        }
        for (size_t k = 0; k < ng; k++) {
            m->grid_mse[k] /= (double)n;
            /* Prefer the larger alpha on a tie: the simpler model. */
            if (m->grid_mse[k] <= m->grid_mse[best])
                best = k;
        }
        if (!isfinite(m->grid_mse[best])) {
            free(order);
            free(fstart);
            data_free(&D);
            ps_ridge_free(m);
            return ps_errorf(err, "ridge: no alpha in the grid gave a solvable system");
        }
    }

    fold_sys S;
    build_sys(&D, 0, 0, &S);
    double *w = ps_xmalloc(d * sizeof(double));
    m->alpha_rel = grid[best];
    m->alpha = grid[best] * D.unit;
    rc = solve_alpha(&D, &S, m->alpha, w);
    if (rc == 0) {
        /* Fold centering and scaling into w and b. */
        m->d = d;
        m->w = ps_xmalloc(d * sizeof(float));
        double b = D.ymean + S.mu;
        for (size_t j = 0; j < d; j++) {
            double wr = w[j] / D.scale[j];
            m->w[j] = (float)wr;
            b -= S.m[j] * w[j] + wr * D.mean[j];
        }
        m->b = (float)b;
    }
    free(w);
    fold_sys_free(&S);
    free(order);
    free(fstart);
    data_free(&D);
    if (rc != 0) {
        ps_ridge_free(m);
        return ps_errorf(err, "ridge: the system is not positive definite at alpha %g", grid[best]);
    }
    return 0;
}

float ps_ridge_predict_row(const ps_ridge *m, const float *x)
{
    return m->b + ps_dot_f32(m->w, x, m->d);
}

void ps_ridge_predict(const ps_ridge *m, const ps_rows *X, const size_t *idx, size_t n, float *out)
{
    float *row = ps_xmalloc(X->cols * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        ps_rows_get(X, idx ? idx[i] : i, row);
        out[i] = ps_ridge_predict_row(m, row);
    }
    free(row);
}

void ps_ridge_put(const ps_ridge *m, ps_modelfile *f, const char *prefix)
{
    char nm[PS_MODEL_NAME_MAX];
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "w"), m->w, m->d);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "b"), m->b);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "alpha"), m->alpha);
    ps_modelfile_add_scalar(f, ps_model_key(nm, prefix, "alpha_rel"), m->alpha_rel);
}

int ps_ridge_save(const ps_ridge *m, const char *path, ps_error *err)
{
    ps_modelfile f;
    ps_modelfile_init(&f, "ridge");
    ps_ridge_put(m, &f, "");
    int rc = ps_modelfile_save(&f, path, err);
    ps_modelfile_free(&f);
    return rc;
}

int ps_ridge_get(ps_ridge *m, const ps_modelfile *f, const char *prefix, ps_error *err)
{
    memset(m, 0, sizeof *m);
    char nm[PS_MODEL_NAME_MAX];
    size_t d = 0;
    const float *w = ps_modelfile_vec(f, ps_model_key(nm, prefix, "w"), &d, err);
    double b, alpha, alpha_rel;
    if (!w || ps_modelfile_scalar(f, ps_model_key(nm, prefix, "b"), &b, err) != 0 ||
        ps_modelfile_scalar(f, ps_model_key(nm, prefix, "alpha"), &alpha, err) != 0 ||
        ps_modelfile_scalar(f, ps_model_key(nm, prefix, "alpha_rel"), &alpha_rel, err) != 0)
        return -1;
    m->d = d;
    m->w = ps_xmalloc(m->d * sizeof(float));
    memcpy(m->w, w, m->d * sizeof(float));
    m->b = (float)b;
    m->alpha = alpha;
    m->alpha_rel = alpha_rel;
    return 0;
}

int ps_ridge_load(ps_ridge *m, const char *path, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_modelfile f;
    if (ps_modelfile_load(path, "ridge", &f, err) != 0)
        return -1;
    int rc = ps_ridge_get(m, &f, "", err);
    ps_modelfile_free(&f);
    return rc;
}

void ps_ridge_free(ps_ridge *m)
{
    free(m->w);
    free(m->grid_rel);
    free(m->grid_mse);
    memset(m, 0, sizeof *m);
}
