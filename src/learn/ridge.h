/*
 * ridge.h - ridge regression with an intercept, alpha chosen by grouped
 * k-fold cross-validation.
 *
 * Model: y ~ b + w . x.  Features are centered (and, with `standardize`,
 * scaled to unit variance) before the penalty alpha |w|^2, so the intercept
 * is never shrunk; the stored w and b are folded back into the original
 * units, so prediction is one dot product.
 *
 * Solving: closed form with a Cholesky factorization of X^T X + alpha I
 * (d x d, "primal") or, when there are fewer rows than features, of
 * X X^T + alpha I (n x n, "dual"); both give the same w.  Cross-validation
 * reuses one Gram matrix of all rows minus the Gram of each held-out fold,
 * so its cost is about two Gram products plus one Cholesky per (fold,
 * alpha); the alphas of one fold are solved in parallel.
 *
 * Alphas are given relative to the mean diagonal of the centered (scaled)
 * Gram matrix, i.e. alpha = rel * trace(X^T X) / d: rel = 1 shrinks about
 * as much as the data pulls.  The default grid is rel = 1e-4 .. 1e3.
 */
#ifndef PS_LEARN_RIDGE_H
#define PS_LEARN_RIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "learn/matrix.h"

enum { PS_RIDGE_AUTO, PS_RIDGE_PRIMAL, PS_RIDGE_DUAL };

typedef struct ps_ridge_opts {
    int standardize;        /* scale features to unit variance (default 1) */
    const double *alphas;   /* relative alpha grid; NULL = default grid */
    size_t n_alphas;        /* one alpha = no cross-validation */
    int folds;              /* default 5 */
    uint64_t seed;          /* for the fold assignment */
    const uint32_t *groups; /* group id per row of X; NULL = every row its own group */
    int threads;            /* default 2 */
    int solver;             /* PS_RIDGE_AUTO (default), _PRIMAL or _DUAL */
} ps_ridge_opts;

typedef struct ps_ridge {
    size_t d;
    float *w; /* d weights in the original feature units */
    float b;  /* intercept */
    double alpha_rel, alpha; /* the chosen alpha, relative and absolute */
    /* The cross-validation curve (not saved): MSE per grid alpha. */
    size_t n_grid;
    double *grid_rel, *grid_mse;
} ps_ridge;

ps_ridge_opts ps_ridge_defaults(void);

/* Fit on the rows idx[0..n) of X (idx NULL = rows 0..n-1); y and
 * opts->groups are indexed by row number of X.  *m is overwritten (free it
 * with ps_ridge_free). */
int ps_ridge_fit(ps_ridge *m, const ps_rows *X, const float *y, const size_t *idx, size_t n,
                 const ps_ridge_opts *opts, ps_error *err);

float ps_ridge_predict_row(const ps_ridge *m, const float *x);
/* out[i] = prediction for row idx[i] (idx NULL = row i). */
void ps_ridge_predict(const ps_ridge *m, const ps_rows *X, const size_t *idx, size_t n, float *out);

int ps_ridge_save(const ps_ridge *m, const char *path, ps_error *err);
int ps_ridge_load(ps_ridge *m, const char *path, ps_error *err);
void ps_ridge_free(ps_ridge *m);

#endif
