/*
 * metrics.h - regression, rank-correlation and retrieval metrics.
 *
 * Regression/correlation functions take two arrays of n floats and return a
 * double; they return NaN when the value is undefined (n too small, a
 * constant input, or any NaN input), never crash.  Nothing is allocated
 * except inside a call.
 *
 * Retrieval metrics start from a score matrix (queries x candidates,
 * row-major) and the one correct candidate of each query.  Each query is
 * summarized as (above, tied): how many other candidates score strictly
 * higher, and how many score exactly the same.  Ties are then resolved by a
 * documented rule (ps_ties):
 *   PESSIMISTIC  the correct candidate comes after every tied one:
 *                rank = above + tied + 1
 *   OPTIMISTIC   it comes before them: rank = above + 1
 *   AVERAGE      the expectation over a random order of the tied ones:
 *                rank = above + 1 + tied / 2, recall@K = the probability
 *                that the rank is <= K, reciprocal rank = the mean of 1/r
 *                over the tied positions.
 * NaN scores count as lower than every number (and equal to each other).
 */
#ifndef PS_LEARN_METRICS_H
#define PS_LEARN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

double ps_mse(const float *pred, const float *y, size_t n);
double ps_mae(const float *pred, const float *y, size_t n);
/* 1 - SSE / SST (SST around the mean of y); NaN if y is constant. */
double ps_r2(const float *pred, const float *y, size_t n);
double ps_pearson(const float *x, const float *y, size_t n);
/* Pearson correlation of the ranks, tied values getting their mean rank. */
double ps_spearman(const float *x, const float *y, size_t n);

/* Kendall's tau with exact tie handling, O(n log n) (Knight's method).
 * n0 = n(n-1)/2, n1 / n2 = pairs tied in x / in y, S = concordant minus
 * discordant pairs (pairs tied in x or y count as neither):
 *   tau_b = S / sqrt((n0 - n1)(n0 - n2))
 *   tau_c = 2 S / (n^2 (m - 1) / m),  m = min(distinct x, distinct y)
 * as in scipy.stats.kendalltau(variant='b' / 'c'). */
typedef struct ps_kendall {
    double tau_b, tau_c;
    int64_t concordant, discordant;
    int64_t ties_x, ties_y, ties_xy; /* pairs tied in x, in y, in both */
} ps_kendall;
/* Fills *out; taus are NaN when undefined (n < 2, constant x or y, NaN). */
void ps_kendall_tau(const float *x, const float *y, size_t n, ps_kendall *out);

typedef enum ps_ties { PS_TIES_PESSIMISTIC, PS_TIES_AVERAGE, PS_TIES_OPTIMISTIC } ps_ties;

typedef struct ps_rank {
    size_t above; /* other candidates scoring strictly higher */
    size_t tied;  /* other candidates scoring exactly the same */
} ps_rank;

/* One ps_rank per query.  Fails if a correct index is out of range. */
int ps_rank_queries(const float *scores, size_t n_queries, size_t n_cand, const size_t *correct,
                    ps_rank *out, ps_error *err);
/* The 1-based rank of one query under a tie rule (fractional for AVERAGE). */
double ps_rank_value(ps_rank r, ps_ties ties);
/* Share of queries whose correct candidate ranks within the top k. */
double ps_recall_at_k(const ps_rank *r, size_t n_queries, size_t k, ps_ties ties);
double ps_mean_reciprocal_rank(const ps_rank *r, size_t n_queries, ps_ties ties);
/* The median of the per-query ranks (mean of the middle two for even n). */
double ps_median_rank(const ps_rank *r, size_t n_queries, ps_ties ties);

#endif
