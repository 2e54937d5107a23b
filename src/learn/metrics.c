#include "learn/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "core/buf.h"

static int any_nan(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(a[i]))
            return 1;
    return 0;
}

double ps_mse(const float *pred, const float *y, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - y[i];
        s += d * d;
    }
    return s / (double)n;
}

double ps_mae(const float *pred, const float *y, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)pred[i] - y[i]);
    return s / (double)n;
}

static double mean_of(const float *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i];
    return s / (double)n;
}

double ps_r2(const float *pred, const float *y, size_t n)
{
    if (n == 0)
        return NAN;
    double my = mean_of(y, n), sse = 0, sst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)y[i] - pred[i], e = y[i] - my;
        sse += d * d;
        sst += e * e;
    }
    return sst > 0 ? 1.0 - sse / sst : NAN;
}

static double pearson_d(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    if (!(sxx > 0 && syy > 0))
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

double ps_pearson(const float *x, const float *y, size_t n)
{
    if (n < 2 || any_nan(x, n) || any_nan(y, n))
        return NAN;
    double *a = ps_xmalloc(n * sizeof *a), *b = ps_xmalloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        a[i] = x[i];
        b[i] = y[i];
    }
    double r = pearson_d(a, b, n);
    free(a);
    free(b);
    return r;
}

typedef struct keyed {
    float v;
    size_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* 1-based ranks, ties sharing their mean rank. */
static void average_ranks(const float *x, size_t n, double *rank)
{
    keyed *k = ps_xmalloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){x[i], i};
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && k[e].v == k[s].v)
            e++;
        double r = (double)(s + 1 + e) / 2.0; /* mean of s+1 .. e */
        for (size_t j = s; j < e; j++)
            rank[k[j].i] = r;
        s = e;
    }
    free(k);
}

double ps_spearman(const float *x, const float *y, size_t n)
{
    if (n < 2 || any_nan(x, n) || any_nan(y, n))
        return NAN;
    double *a = ps_xmalloc(n * sizeof *a), *b = ps_xmalloc(n * sizeof *b);
    average_ranks(x, n, a);
    average_ranks(y, n, b);
    double r = pearson_d(a, b, n);
    free(a);
    free(b);
    return r;
}

/* ---- Kendall --------------------------------------------------------------- */

typedef struct xy {
    float x, y;
} xy;

static int cmp_xy(const void *pa, const void *pb)
{
    const xy *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return (a->y > b->y) - (a->y < b->y);
}

/* Pairs within runs of equal values: sum of t(t-1)/2. */
static int64_t tied_pairs_y(const float *v, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i])
            j++;
        s += (int64_t)(j - i) * (int64_t)(j - i - 1) / 2;
        i = j;
    }
    return s;
}

/* Stable merge sort of v by value, returning the number of strict
 * inversions (pairs i < j with v[i] > v[j]): the discordant pairs once the
 * rows are ordered by x. */
static int64_t sort_count(float *v, float *tmp, size_t n)
{
    if (n < 2)
        return 0;
    size_t h = n / 2;
    int64_t s = sort_count(v, tmp, h) + sort_count(v + h, tmp, n - h);
    size_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        if (v[j] < v[i]) {
            s += (int64_t)(h - i);
            tmp[o++] = v[j++];
        } else {
            tmp[o++] = v[i++];
        }
    }
    while (i < h)
        tmp[o++] = v[i++];
    while (j < n)
        tmp[o++] = v[j++];
    for (size_t k = 0; k < n; k++)
        v[k] = tmp[k];
    return s;
}

static size_t distinct_sorted(const float *v, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || v[i] != v[i - 1])
            d++;
    return d;
}

void ps_kendall_tau(const float *x, const float *y, size_t n, ps_kendall *out)
{
    *out = (ps_kendall){NAN, NAN, 0, 0, 0, 0, 0};
    if (n < 2 || any_nan(x, n) || any_nan(y, n))
        return;
    xy *p = ps_xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (xy){x[i], y[i]};
    qsort(p, n, sizeof *p, cmp_xy);
    int64_t n1 = 0, n3 = 0;
    size_t dx = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && p[j].x == p[i].x)
            j++;
        n1 += (int64_t)(j - i) * (int64_t)(j - i - 1) / 2;
        dx++;
        for (size_t a = i; a < j;) { /* runs of equal y inside the x run */
            size_t b = a + 1;
            while (b < j && p[b].y == p[a].y)
                b++;
            n3 += (int64_t)(b - a) * (int64_t)(b - a - 1) / 2;
            a = b;
        }
        i = j;
    }
    float *ys = ps_xmalloc(n * sizeof *ys), *tmp = ps_xmalloc(n * sizeof *tmp);
    for (size_t i = 0; i < n; i++)
        ys[i] = p[i].y;
    int64_t swaps = sort_count(ys, tmp, n);
    int64_t n2 = tied_pairs_y(ys, n);
    size_t dy = distinct_sorted(ys, n);
    free(tmp);
    free(ys);
    free(p);

    int64_t n0 = (int64_t)n * (int64_t)(n - 1) / 2;
    out->discordant = swaps;
    out->concordant = n0 - n1 - n2 + n3 - swaps;
    out->ties_x = n1;
    out->ties_y = n2;
    out->ties_xy = n3;
    double S = (double)(out->concordant - out->discordant);
    double den = sqrt((double)(n0 - n1) * (double)(n0 - n2));
    if (den > 0)
        out->tau_b = S / den;
    size_t m = dx < dy ? dx : dy;
    if (m > 1)
        out->tau_c = 2.0 * S / ((double)n * (double)n * (double)(m - 1) / (double)m);
}

/* ---- retrieval ------------------------------------------------------------- */

/* a > b with NaN below every number. */
static int score_above(float a, float b)
{
    if (isnan(a))
        return 0;
    if (isnan(b))
        return 1;
    return a > b;
}

static int score_equal(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b;
}

int ps_rank_queries(const float *scores, size_t n_queries, size_t n_cand, const size_t *correct,
                    ps_rank *out, ps_error *err)
{
    for (size_t q = 0; q < n_queries; q++) {
        if (correct[q] >= n_cand)
            return ps_errorf(err, "ranking: query %zu: correct candidate %zu is out of range (%zu candidates)",
                             q, correct[q], n_cand);
        const float *row = scores + q * n_cand;
        float c = row[correct[q]];
        ps_rank r = {0, 0};
        for (size_t j = 0; j < n_cand; j++) {
            if (j == correct[q])
                continue;
            if (score_above(row[j], c))
                r.above++;
            else if (score_equal(row[j], c))
                r.tied++;
        }
        out[q] = r;
    }
    return 0;
}

double ps_rank_value(ps_rank r, ps_ties ties)
{
    switch (ties) {
    case PS_TIES_PESSIMISTIC:
        return (double)(r.above + r.tied + 1);
    case PS_TIES_OPTIMISTIC:
        return (double)(r.above + 1);
    default:
        return (double)r.above + 1.0 + (double)r.tied / 2.0;
    }
}

double ps_recall_at_k(const ps_rank *r, size_t n_queries, size_t k, ps_ties ties)
{
    if (n_queries == 0)
        return NAN;
    double hits = 0;
    for (size_t q = 0; q < n_queries; q++) {
        if (ties != PS_TIES_AVERAGE) {
            hits += ps_rank_value(r[q], ties) <= (double)k;
        } else if (r[q].above < k) {
            /* Positions above+1 .. above+tied+1 are equally likely. */
            double inside = (double)(k - r[q].above), span = (double)(r[q].tied + 1);
            hits += inside >= span ? 1.0 : inside / span;
        }
    }
    return hits / (double)n_queries;
}

double ps_mean_reciprocal_rank(const ps_rank *r, size_t n_queries, ps_ties ties)
{
    if (n_queries == 0)
        return NAN;
    double s = 0;
    for (size_t q = 0; q < n_queries; q++) {
        if (ties != PS_TIES_AVERAGE) {
            s += 1.0 / ps_rank_value(r[q], ties);
        } else {
            double t = 0;
            for (size_t p = r[q].above + 1; p <= r[q].above + r[q].tied + 1; p++)
                t += 1.0 / (double)p;
            s += t / (double)(r[q].tied + 1);
        }
    }
    return s / (double)n_queries;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

double ps_median_rank(const ps_rank *r, size_t n_queries, ps_ties ties)
{
    if (n_queries == 0)
        return NAN;
    double *v = ps_xmalloc(n_queries * sizeof *v);
    for (size_t q = 0; q < n_queries; q++)
        v[q] = ps_rank_value(r[q], ties);
    qsort(v, n_queries, sizeof *v, cmp_double);
    double m = n_queries % 2 ? v[n_queries / 2] : (v[n_queries / 2 - 1] + v[n_queries / 2]) / 2.0;
    free(v);
    return m;
}
