#include "learn/splits.h"

#include <math.h>
#include <stdlib.h>

#include "core/buf.h"
#include "learn/rng.h"

void ps_split_free(ps_split *s)
{
    free(s->train);
    free(s->test);
    s->train = s->test = NULL;
    s->n_train = s->n_test = 0;
}

typedef struct group_info {
    uint32_t id;
    size_t count;
} group_info;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The distinct group ids in ascending order with their row counts
 * (ascending order makes the result independent of row order). */
static group_info *distinct_groups(const uint32_t *groups, size_t n, size_t *n_groups)
{
    uint32_t *sorted = ps_xmalloc((n ? n : 1) * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        sorted[i] = groups[i];
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    group_info *g = ps_xmalloc((n ? n : 1) * sizeof *g);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || g[m - 1].id != sorted[i])
            g[m++] = (group_info){sorted[i], 0};
        g[m - 1].count++;
    }
    free(sorted);
    *n_groups = m;
    return g;
}

/* Index of id in the sorted group list (it is always present). */
static size_t group_pos(const group_info *g, size_t m, uint32_t id)
{
    size_t lo = 0, hi = m;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (g[mid].id <= id)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* 0..m-1 in the order a generator seeded with `seed` shuffles them (caller
 * frees). */
static size_t *shuffled(size_t m, uint64_t seed)
{
    size_t *order = ps_xmalloc((m ? m : 1) * sizeof *order);
    for (size_t i = 0; i < m; i++)
        order[i] = i;
    ps_rng rng;
    ps_rng_seed(&rng, seed);
    ps_rng_shuffle(&rng, order, m);
    return order;
}

int ps_group_shuffle_split(const uint32_t *groups, size_t n, double test_frac, uint64_t seed,
                           ps_split *out, ps_error *err)
{
    *out = (ps_split){0};
    if (!(test_frac > 0.0 && test_frac < 1.0))
        return ps_errorf(err, "group split: the test fraction must lie strictly between 0 and 1, not %g",
                         test_frac);
    size_t m;
    group_info *g = distinct_groups(groups, n, &m);
    if (m < 2) {
        free(g);
        return ps_errorf(err, "group split: needs at least 2 distinct groups, found %zu", m);
    }
    size_t *order = shuffled(m, seed);
    size_t n_test_groups = (size_t)llround(test_frac * (double)m);
    if (n_test_groups < 1)
        n_test_groups = 1;
    if (n_test_groups > m - 1)
        n_test_groups = m - 1;
    unsigned char *is_test = ps_xcalloc(m, 1);
    for (size_t i = 0; i < n_test_groups; i++)
        is_test[order[i]] = 1;
    out->train = ps_xmalloc((n ? n : 1) * sizeof(size_t));
    out->test = ps_xmalloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        if (is_test[group_pos(g, m, groups[i])])
            out->test[out->n_test++] = i;
        else
            out->train[out->n_train++] = i;
    }
    free(is_test);
    free(order);
    free(g);
    return 0;
}

typedef struct sized_group {
    size_t count, rank, group;
} sized_group;

static int cmp_sized(const void *a, const void *b)
{
    const sized_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

int ps_group_kfold(const uint32_t *groups, size_t n, int k, uint64_t seed, int *fold_of,
                   ps_error *err)
{
    size_t m;
    group_info *g = distinct_groups(groups, n, &m);
    if (k < 2 || (size_t)k > m) {
        free(g);
        return ps_errorf(err, "group k-fold: %d folds need between 2 and %zu (the number of distinct groups)",
                         k, m);
    }
    size_t *order = shuffled(m, seed);
    /* Largest group first; the shuffled position breaks ties, so the seed
     * decides among groups of equal size. */
    sized_group *by_size = ps_xmalloc(m * sizeof *by_size);
    for (size_t i = 0; i < m; i++)
        by_size[i] = (sized_group){g[order[i]].count, i, order[i]};
    qsort(by_size, m, sizeof *by_size, cmp_sized);
    int *fold_of_group = ps_xmalloc(m * sizeof *fold_of_group);
    size_t *load = ps_xcalloc((size_t)k, sizeof *load);
    for (size_t i = 0; i < m; i++) {
        int best = 0;
        for (int f = 1; f < k; f++)
            if (load[f] < load[best])
                best = f;
        fold_of_group[by_size[i].group] = best;
        load[best] += by_size[i].count;
    }
    for (size_t i = 0; i < n; i++)
        fold_of[i] = fold_of_group[group_pos(g, m, groups[i])];
    free(load);
    free(fold_of_group);
    free(by_size);
    free(order);
    free(g);
    return 0;
}

void ps_fold_split(const int *fold_of, size_t n, int f, ps_split *out)
{
    *out = (ps_split){0};
    out->train = ps_xmalloc((n ? n : 1) * sizeof(size_t));
    out->test = ps_xmalloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        if (fold_of[i] == f)
            out->test[out->n_test++] = i;
        else
            out->train[out->n_train++] = i;
    }
}
