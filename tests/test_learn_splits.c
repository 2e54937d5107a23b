/* Tests for learn/splits: no group on both sides, sizes, balance,
 * determinism, errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "learn/splits.h"
#include "test.h"

#define N 1000

/* Group ids spread out (not 0..k-1) and of uneven sizes. */
static void make_groups(uint32_t *g)
{
    for (size_t i = 0; i < N; i++)
        g[i] = (uint32_t)(((i * i) % 37) * 1000 + 7);
}

static int is_sorted(const size_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i] <= v[i - 1])
            return 0;
    return 1;
}

TEST(group_shuffle_split_keeps_groups_apart)
{
    uint32_t g[N];
    make_groups(g);
    ps_split s, t, u;
    ps_error err;
    CHECK_INT(ps_group_shuffle_split(g, N, 0.3, 42, &s, &err), 0);
    CHECK_INT(s.n_train + s.n_test, N);
    CHECK(is_sorted(s.train, s.n_train) && is_sorted(s.test, s.n_test));
    /* No group id appears on both sides. */
    for (size_t i = 0; i < s.n_test; i++)
        for (size_t j = 0; j < s.n_train; j++)
            CHECK(g[s.test[i]] != g[s.train[j]]);
    /* (i*i) % 37 takes 19 distinct values (the squares mod 37); 30% of 19
     * groups rounds to 6. */
    uint32_t seen[64];
    size_t ns = 0;
    for (size_t i = 0; i < s.n_test; i++) {
        int found = 0;
        for (size_t k = 0; k < ns; k++)
            found |= seen[k] == g[s.test[i]];
        if (!found)
            seen[ns++] = g[s.test[i]];
    }
    CHECK_INT(ns, 6);
    /* Same seed, same split; another seed, another split. */
    CHECK_INT(ps_group_shuffle_split(g, N, 0.3, 42, &t, &err), 0);
    CHECK(t.n_test == s.n_test && memcmp(t.test, s.test, s.n_test * sizeof(size_t)) == 0);
    CHECK_INT(ps_group_shuffle_split(g, N, 0.3, 43, &u, &err), 0);
    CHECK(u.n_test != s.n_test || memcmp(u.test, s.test, s.n_test * sizeof(size_t)) != 0);
    ps_split_free(&s);
    ps_split_free(&t);
    ps_split_free(&u);
}

TEST(group_kfold_is_balanced_and_grouped)
{
    uint32_t g[N];
    make_groups(g);
    int fold[N], fold2[N];
    ps_error err;
    CHECK_INT(ps_group_kfold(g, N, 5, 9, fold, &err), 0);
    size_t rows[5] = {0};
    for (size_t i = 0; i < N; i++) {
        CHECK(fold[i] >= 0 && fold[i] < 5);
        rows[fold[i]]++;
        for (size_t j = 0; j < i; j++)
            if (g[j] == g[i])
                CHECK_INT(fold[j], fold[i]);
    }
    size_t lo = N, hi = 0, biggest = 0;
    for (int f = 0; f < 5; f++) {
        lo = rows[f] < lo ? rows[f] : lo;
        hi = rows[f] > hi ? rows[f] : hi;
    }
    for (uint32_t v = 0; v < 37; v++) {
        size_t c = 0;
        for (size_t i = 0; i < N; i++)
            c += g[i] == v * 1000 + 7;
        biggest = c > biggest ? c : biggest;
    }
    CHECK(lo > 0);
    CHECK(hi - lo <= biggest); /* greedy filling keeps folds within one group */
    CHECK_INT(ps_group_kfold(g, N, 5, 9, fold2, &err), 0);
    CHECK(memcmp(fold, fold2, sizeof fold) == 0);
    /* fold_split gives the matching index arrays. */
    ps_split s;
    ps_fold_split(fold, N, 2, &s);
    CHECK_INT(s.n_test, rows[2]);
    CHECK_INT(s.n_train, N - rows[2]);
    for (size_t i = 0; i < s.n_test; i++)
        CHECK_INT(fold[s.test[i]], 2);
    ps_split_free(&s);
}

TEST(rejects_impossible_splits)
{
    uint32_t one[4] = {5, 5, 5, 5}, two[4] = {1, 2, 1, 2};
    ps_split s;
    int fold[4];
    ps_error err;
    CHECK_INT(ps_group_shuffle_split(one, 4, 0.5, 1, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "at least 2 distinct groups");
    CHECK_INT(ps_group_shuffle_split(two, 4, 1.0, 1, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "strictly between 0 and 1");
    CHECK_INT(ps_group_kfold(two, 4, 3, 1, fold, &err), -1);
    CHECK_CONTAINS(err.msg, "3 folds need between 2 and 2");
    /* A tiny fraction still puts one group on each side. */
    CHECK_INT(ps_group_shuffle_split(two, 4, 0.01, 1, &s, &err), 0);
    CHECK_INT(s.n_test, 2);
    ps_split_free(&s);
}

int main(void)
{
    RUN(group_shuffle_split_keeps_groups_apart);
    RUN(group_kfold_is_balanced_and_grouped);
    RUN(rejects_impossible_splits);
    return test_summary();
}
