/*
 * pca.c - principal components from the Gram matrix of the rows.
 */
#include "learn/pca.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "learn/linalg.h"
#include "learn/rng.h"

#define ITERATIONS 40 /* subspace iterations */
#define OVERSAMPLE 16 /* extra directions iterated, for convergence */

void ps_pca_free(ps_pca *p)
{
    free(p->mean);
    free(p->scale);
    free(p->components);
    free(p->variance);
    memset(p, 0, sizeof *p);
}

/* Orthonormalize the k rows (length n) of Q in place, twice over (modified
 * Gram-Schmidt; "twice is enough").  A row that vanishes is replaced by a
 * random one. */
static void orthonormalize(float *Q, size_t k, size_t n, ps_rng *rng)
{
    for (size_t i = 0; i < k; i++) {
        float *qi = Q + i * n;
        for (int tries = 0; tries < 4; tries++) {
            for (int pass = 0; pass < 2; pass++)
                for (size_t j = 0; j < i; j++) {
                    const float *qj = Q + j * n;
                    ps_axpy_f32(-ps_dot_f32(qi, qj, n), qj, qi, n);
                }
            double norm = sqrt((double)ps_dot_f32(qi, qi, n));
            if (norm > 1e-6) {
                for (size_t r = 0; r < n; r++)
                    qi[r] = (float)(qi[r] / norm);
                break;
            }
            for (size_t r = 0; r < n; r++)
                qi[r] = (float)ps_rng_normal(rng);
        }
    }
}

/* Eigen-decomposition of the symmetric m x m matrix A (destroyed) by
 * cyclic Jacobi rotations: eigenvalues in w, eigenvectors in the columns
 * of V. */
static void jacobi_eigen(double *A, size_t m, double *w, double *V)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            V[i * m + j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0, total = 0;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < m; j++) {
                total += A[i * m + j] * A[i * m + j];
                if (i != j)
                    off += A[i * m + j] * A[i * m + j];
            }
        if (off <= 1e-24 * total || off == 0)
            break;
        for (size_t p = 0; p + 1 < m; p++)
            for (size_t q = p + 1; q < m; q++) {
                double apq = A[p * m + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double theta = (A[q * m + q] - A[p * m + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t r = 0; r < m; r++) { /* columns p, q */
                    double arp = A[r * m + p], arq = A[r * m + q];
                    A[r * m + p] = c * arp - s * arq;
                    A[r * m + q] = s * arp + c * arq;
                }
                for (size_t r = 0; r < m; r++) { /* rows p, q */
                    double apr = A[p * m + r], aqr = A[q * m + r];
                    A[p * m + r] = c * apr - s * aqr;
                    A[q * m + r] = s * apr + c * aqr;
                }
                for (size_t r = 0; r < m; r++) {
                    double vrp = V[r * m + p], vrq = V[r * m + q];
                    V[r * m + p] = c * vrp - s * vrq;
                    V[r * m + q] = s * vrp + c * vrq;
                }
            }
    }
    for (size_t i = 0; i < m; i++)
        w[i] = A[i * m + i];
}

typedef struct eig {
    double value;
    size_t index;
} eig;

static int cmp_eig(const void *a, const void *b)
{
    const eig *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

int ps_pca_fit(ps_pca *p, const ps_mat *X, const size_t *rows, size_t n, size_t k,
               uint64_t seed, ps_error *err)
{
    memset(p, 0, sizeof *p);
    size_t d = X->cols;
    if (k < 1 || k >= n || k > d)
        return ps_errorf(err, "pca: %zu components need more than %zu rows and at most %zu "
                              "columns", k, n, d);
    for (size_t i = 0; i < n; i++)
        if ((rows ? rows[i] : i) >= X->rows)
            return ps_errorf(err, "pca: row %zu is out of range (%zu rows)", rows[i], X->rows);
    p->d = d;
    p->k = k;
    p->mean = ps_xmalloc(d * sizeof(float));
    p->scale = ps_xmalloc(d * sizeof(float));
    unsigned char *use = ps_xcalloc(X->rows ? X->rows : 1, 1);
    for (size_t i = 0; i < n; i++)
        use[rows ? rows[i] : i] = 1;
    ps_column_stats(X, use, 1, p->mean, p->scale);
    free(use);

    /* The standardized rows and their Gram matrix. */
    float *Xs = ps_xmalloc(n * d * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *x = ps_mat_row(X, rows ? rows[i] : i);
        for (size_t j = 0; j < d; j++)
            Xs[i * d + j] = (x[j] - p->mean[j]) / p->scale[j];
    }
    double *Gd = ps_xcalloc(n * n, sizeof(double));
    ps_gram_lower(Xs, n, d, d, Gd, n, 2);
    float *G = ps_xmalloc(n * n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            G[i * n + j] = G[j * n + i] = (float)Gd[i * n + j];
    free(Gd);

    /* Subspace iteration on G with m = k + OVERSAMPLE directions. */
    size_t m = k + OVERSAMPLE < n ? k + OVERSAMPLE : n;
    ps_rng rng;
    ps_rng_seed(&rng, seed);
    float *Q = ps_xmalloc(m * n * sizeof(float)), *Z = ps_xmalloc(m * n * sizeof(float));
    for (size_t i = 0; i < m * n; i++)
        Q[i] = (float)ps_rng_normal(&rng);
    orthonormalize(Q, m, n, &rng);
    for (int it = 0; it < ITERATIONS; it++) {
        ps_gemm_nt(Q, n, G, n, Z, n, m, n, n); /* Z = Q G (G is symmetric) */
        float *t = Q;
        Q = Z;
        Z = t;
        orthonormalize(Q, m, n, &rng);
    }
    /* Rayleigh-Ritz: B = Q G Q^T, B = W diag(w) W^T. */
    ps_gemm_nt(Q, n, G, n, Z, n, m, n, n);
    float *Bf = ps_xmalloc(m * m * sizeof(float));
    ps_gemm_nt(Z, n, Q, n, Bf, m, m, m, n);
    double *B = ps_xmalloc(m * m * sizeof(double)), *W = ps_xmalloc(m * m * sizeof(double));
    double *w = ps_xmalloc(m * sizeof(double));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            B[i * m + j] = 0.5 * ((double)Bf[i * m + j] + Bf[j * m + i]);
    jacobi_eigen(B, m, w, W);
    eig *order = ps_xmalloc(m * sizeof *order);
    for (size_t i = 0; i < m; i++)
        order[i] = (eig){w[i], i};
    qsort(order, m, sizeof *order, cmp_eig);

    /* Row-space eigenvectors u_i = sum_j W[j][i] Q_j, then the components
     * Xs^T u_i, normalized. */
    float *U = ps_xcalloc(k * n, sizeof(float));
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < m; j++)
            ps_axpy_f32((float)W[j * m + order[i].index], Q + j * n, U + i * n, n);
    p->components = ps_xcalloc(k * d, sizeof(float));
    p->variance = ps_xmalloc(k * sizeof(float));
    ps_gemm_nn_acc(U, n, Xs, d, p->components, d, k, d, n);
    for (size_t i = 0; i < k; i++) {
        float *v = p->components + i * d;
        double norm = sqrt((double)ps_dot_f32(v, v, d));
        size_t big = 0;
        for (size_t j = 0; j < d; j++) {
            v[j] = norm > 1e-9 ? (float)(v[j] / norm) : 0.0f;
            if (fabsf(v[j]) > fabsf(v[big]))
                big = j;
        }
        if (v[big] < 0)
            for (size_t j = 0; j < d; j++)
                v[j] = -v[j];
        double var = order[i].value / (double)n;
        p->variance[i] = (float)(var > 0 ? var : 0);
    }
    free(U);
    free(order);
    free(w);
    free(W);
    free(B);
    free(Bf);
    free(Q);
    free(Z);
    free(G);
    free(Xs);
    return 0;
}

void ps_pca_transform_row(const ps_pca *p, const float *x, float *out)
{
    float *xs = ps_xmalloc(p->d * sizeof *xs);
    for (size_t j = 0; j < p->d; j++)
        xs[j] = (x[j] - p->mean[j]) / p->scale[j];
    for (size_t i = 0; i < p->k; i++)
        out[i] = ps_dot_f32(p->components + i * p->d, xs, p->d);
    free(xs);
}

ps_mat ps_pca_transform(const ps_pca *p, const ps_mat *X)
{
    ps_mat out = ps_mat_new(X->rows, p->k);
    for (size_t i = 0; i < X->rows; i++)
        ps_pca_transform_row(p, ps_mat_row(X, i), ps_mat_row(&out, i));
    return out;
}

/* ---- files ---------------------------------------------------------------------- */

void ps_pca_put(const ps_pca *p, ps_modelfile *f, const char *prefix)
{
    char nm[PS_MODEL_NAME_MAX];
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "mean"), p->mean, p->d);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "scale"), p->scale, p->d);
    ps_modelfile_add_mat(f, ps_model_key(nm, prefix, "components"), p->components, p->k, p->d);
    ps_modelfile_add_vec(f, ps_model_key(nm, prefix, "variance"), p->variance, p->k);
}

int ps_pca_get(ps_pca *p, const ps_modelfile *f, const char *prefix, ps_error *err)
{
    memset(p, 0, sizeof *p);
    char nm[PS_MODEL_NAME_MAX];
    size_t k, d;
    if (!ps_modelfile_mat(f, ps_model_key(nm, prefix, "components"), &k, &d, err))
        return -1;
    uint64_t dk[1] = {k}, dd[1] = {d};
    p->k = k;
    p->d = d;
    if (!(p->mean = ps_modelfile_take(f, ps_model_key(nm, prefix, "mean"), 1, dd, err)) ||
        !(p->scale = ps_modelfile_take(f, ps_model_key(nm, prefix, "scale"), 1, dd, err)) ||
        !(p->variance = ps_modelfile_take(f, ps_model_key(nm, prefix, "variance"), 1, dk, err))) {
        ps_pca_free(p);
        return -1;
    }
    uint64_t dims[2] = {k, d};
    p->components = ps_modelfile_take(f, ps_model_key(nm, prefix, "components"), 2, dims, err);
    for (size_t j = 0; j < d && p->components; j++)
        if (!(p->scale[j] > 0)) {
            ps_errorf(err, "%s: byte offset %zu: %sscale[%zu] must be positive", f->source,
                      ps_modelfile_find(f, ps_model_key(nm, prefix, "scale"))->offset, prefix, j);
            ps_pca_free(p);
            return -1;
        }
    if (!p->components) {
        ps_pca_free(p);
        return -1;
    }
    return 0;
}
