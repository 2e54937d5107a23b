/*
 * splits.h - train/test splits that keep groups together.
 *
 * Rows carry a group id (e.g. the photo they are about): a group is never
 * on both sides of a split, so a score measured on held-out rows is not
 * inflated by near-duplicates of training rows.  Both splits are a pure
 * function of (groups, parameters, seed).  Index arrays come back sorted
 * ascending, allocated with ps_xmalloc; the caller frees them.
 */
#ifndef PS_LEARN_SPLITS_H
#define PS_LEARN_SPLITS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ps_split {
    size_t *train, *test;
    size_t n_train, n_test;
} ps_split;

void ps_split_free(ps_split *s);

/* Shuffle the distinct groups with `seed` and put round(test_frac * number
 * of groups) of them (at least 1, at most all but 1) on the test side.
 * Needs at least 2 distinct groups and 0 < test_frac < 1. */
int ps_group_shuffle_split(const uint32_t *groups, size_t n, double test_frac, uint64_t seed,
                           ps_split *out, ps_error *err);

/* Grouped k-fold: fold_of[i] in [0, k) for every row.  Groups are shuffled
 * with `seed`, then (largest first; the shuffle breaks ties between equal
 * sizes) each goes to the fold holding the fewest rows so far, so folds are
 * balanced in rows.  Needs 2 <= k <= number of distinct groups. */
int ps_group_kfold(const uint32_t *groups, size_t n, int k, uint64_t seed, int *fold_of,
                   ps_error *err);

/* The rows of fold f as the test side and all other rows as train. */
void ps_fold_split(const int *fold_of, size_t n, int f, ps_split *out);

#endif
