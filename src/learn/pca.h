/*
 * pca.h - principal component analysis of standardized rows.
 *
 * Fit: columns are standardized ((x - mean) / scale over the fitted rows),
 * then the k directions of largest variance are found from the n x n Gram
 * matrix of the rows (n, the number of rows - photos, about a thousand - is
 * far smaller than the number of columns): block subspace iteration on the
 * Gram matrix, a Rayleigh-Ritz step solved by Jacobi rotations, and each
 * direction mapped back to column space.  Components are unit vectors,
 * ordered by variance, each with the sign that makes its largest entry
 * positive, so a fit is deterministic for a given seed.
 *
 * Transform: score_j(x) = components_j . ((x - mean) / scale).
 *
 * Ownership: a fitted ps_pca owns its arrays (ps_pca_free).
 */
#ifndef PS_LEARN_PCA_H
#define PS_LEARN_PCA_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "learn/matrix.h"
#include "learn/modelfile.h"

typedef struct ps_pca {
    size_t d, k;
    float *mean, *scale;  /* d each */
    float *components;    /* k x d, unit rows */
    float *variance;      /* k: variance of each score over the fitted rows */
} ps_pca;

/* Fit k components on rows[0..n) of X (rows NULL = all rows).  Needs
 * 1 <= k < n and k <= X->cols. */
int ps_pca_fit(ps_pca *p, const ps_mat *X, const size_t *rows, size_t n, size_t k,
               uint64_t seed, ps_error *err);

/* out (k floats) = the scores of one row of d floats. */
void ps_pca_transform_row(const ps_pca *p, const float *x, float *out);
/* A new X->rows x k matrix of scores. */
ps_mat ps_pca_transform(const ps_pca *p, const ps_mat *X);

void ps_pca_put(const ps_pca *p, ps_modelfile *f, const char *prefix);
int ps_pca_get(ps_pca *p, const ps_modelfile *f, const char *prefix, ps_error *err);
void ps_pca_free(ps_pca *p);

#endif
