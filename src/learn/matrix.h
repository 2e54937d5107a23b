/*
 * matrix.h - the data shapes shared by every learner in learn/.
 *
 * ps_mat is a row-major float matrix.  A ps_mat made by ps_mat_new owns its
 * data (ps_mat_free releases it); a ps_mat built by hand may just point at
 * someone else's floats, and then must not be freed.
 *
 * ps_pairs describes (text, photo) pairs without copying features: one row
 * per distinct text, one row per distinct photo, and two index arrays.
 * ps_rows is a read-only view that presents either a dense matrix or pairs
 * as one table of feature rows (for pairs a row is the concatenation
 * text row | photo row | extra row), so ridge and the MLP take both.
 * Views never own anything: the caller keeps the arrays alive.
 */
#ifndef PS_LEARN_MATRIX_H
#define PS_LEARN_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ps_mat {
    size_t rows, cols;
    float *data; /* rows * cols floats, row i at data + i * cols */
} ps_mat;

/* A zero-filled rows x cols matrix (owns its data). */
ps_mat ps_mat_new(size_t rows, size_t cols);
void ps_mat_free(ps_mat *m);
static inline float *ps_mat_row(const ps_mat *m, size_t i)
{
    return m->data + i * m->cols;
}

/* Per-column mean and standard deviation over the rows i of M with
 * use[i] != 0 (use NULL = all rows), for (x - mean) / scale
 * standardization.  Without `standardize`, or for a column whose deviation
 * is ~0, the column is left alone (mean 0, scale 1 / scale 1). */
void ps_column_stats(const ps_mat *M, const unsigned char *use, int standardize, float *mean,
                     float *scale);

typedef struct ps_pairs {
    const ps_mat *text;   /* one row per distinct text (query) */
    const ps_mat *photo;  /* one row per distinct photo */
    size_t n;             /* number of pairs */
    const uint32_t *text_idx;  /* pair i uses text row text_idx[i] */
    const uint32_t *photo_idx; /* ... and photo row photo_idx[i] */
    const ps_mat *extra;  /* NULL, or n x k per-pair scalar features */
} ps_pairs;

/* Check that every index is in range and the shapes agree; "pairs: pair
 * 12: photo index 9000 is out of range (1000 photos)" on failure. */
int ps_pairs_check(const ps_pairs *p, ps_error *err);

typedef struct ps_rows {
    size_t n, cols;
    const ps_mat *dense;   /* set for a dense view */
    const ps_pairs *pairs; /* set for a pair view */
} ps_rows;

ps_rows ps_rows_dense(const ps_mat *m);
ps_rows ps_rows_pairs(const ps_pairs *p);
/* Copy row i (cols floats) into out. */
void ps_rows_get(const ps_rows *r, size_t i, float *out);
/* Validate a view and an optional subset of row indices (idx may be NULL
 * for "all rows"). */
int ps_rows_check(const ps_rows *r, const size_t *idx, size_t n_idx, ps_error *err);

#endif
