#include "learn/matrix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

ps_mat ps_mat_new(size_t rows, size_t cols)
{
    ps_mat m = {rows, cols, NULL};
    if (rows && cols && cols > SIZE_MAX / sizeof(float) / rows)
        abort(); /* the size itself overflows: a caller bug, like OOM */
    m.data = ps_xcalloc(rows && cols ? rows * cols : 1, sizeof(float));
    return m;
}

void ps_mat_free(ps_mat *m)
{
    free(m->data);
    m->data = NULL;
    m->rows = m->cols = 0;
}

void ps_column_stats(const ps_mat *M, const unsigned char *use, int standardize, float *mean,
                     float *scale)
{
    size_t d = M->cols, cnt = 0;
    double *mu = ps_xcalloc(d ? d : 1, sizeof(double)), *sq = ps_xcalloc(d ? d : 1, sizeof(double));
    for (size_t i = 0; i < M->rows; i++) {
        if (use && !use[i])
            continue;
        cnt++;
        for (size_t j = 0; j < d; j++)
            mu[j] += ps_mat_row(M, i)[j];
    }
    for (size_t j = 0; j < d; j++)
        mu[j] /= (double)(cnt ? cnt : 1);
    /* Two passes: the deviations from the mean, not E[x^2] - E[x]^2. */
    for (size_t i = 0; i < M->rows; i++) {
        if (use && !use[i])
            continue;
        for (size_t j = 0; j < d; j++) {
            double c = ps_mat_row(M, i)[j] - mu[j];
            sq[j] += c * c;
        }
    }
    for (size_t j = 0; j < d; j++) {
        double sd = sqrt(sq[j] / (double)(cnt ? cnt : 1));
        mean[j] = standardize ? (float)mu[j] : 0.0f;
        scale[j] = standardize && sd > 1e-12 ? (float)sd : 1.0f;
    }
    free(mu);
    free(sq);
}

int ps_pairs_check(const ps_pairs *p, ps_error *err)
{
    if (!p->text || !p->photo || (p->n && (!p->text_idx || !p->photo_idx)))
        return ps_errorf(err, "pairs: the text matrix, photo matrix and index arrays are required");
    if (p->extra && p->extra->rows != p->n)
        return ps_errorf(err, "pairs: the extra-feature matrix has %zu rows for %zu pairs",
                         p->extra->rows, p->n);
    for (size_t i = 0; i < p->n; i++) {
        if (p->text_idx[i] >= p->text->rows)
            return ps_errorf(err, "pairs: pair %zu: text index %u is out of range (%zu texts)", i,
                             (unsigned)p->text_idx[i], p->text->rows);
        if (p->photo_idx[i] >= p->photo->rows)
            return ps_errorf(err, "pairs: pair %zu: photo index %u is out of range (%zu photos)",
                             i, (unsigned)p->photo_idx[i], p->photo->rows);
    }
    return 0;
}

ps_rows ps_rows_dense(const ps_mat *m)
{
    ps_rows r = {m->rows, m->cols, m, NULL};
    return r;
}

ps_rows ps_rows_pairs(const ps_pairs *p)
{
    size_t k = p->extra ? p->extra->cols : 0;
    ps_rows r = {p->n, p->text->cols + p->photo->cols + k, NULL, p};
    return r;
}

void ps_rows_get(const ps_rows *r, size_t i, float *out)
{
    if (r->dense) {
        memcpy(out, ps_mat_row(r->dense, i), r->cols * sizeof(float));
        return;
    }
    const ps_pairs *p = r->pairs;
    size_t dt = p->text->cols, dp = p->photo->cols;
    memcpy(out, ps_mat_row(p->text, p->text_idx[i]), dt * sizeof(float));
    memcpy(out + dt, ps_mat_row(p->photo, p->photo_idx[i]), dp * sizeof(float));
    if (p->extra)
        memcpy(out + dt + dp, ps_mat_row(p->extra, i), p->extra->cols * sizeof(float));
}

int ps_rows_check(const ps_rows *r, const size_t *idx, size_t n_idx, ps_error *err)
{
    if (r->pairs && ps_pairs_check(r->pairs, err) != 0)
        return -1;
    if (!r->pairs && (!r->dense || (r->dense->rows && r->dense->cols && !r->dense->data)))
        return ps_errorf(err, "rows: no data");
    if (r->cols == 0)
        return ps_errorf(err, "rows: the feature rows have no columns");
    if (idx) {
        for (size_t i = 0; i < n_idx; i++)
            if (idx[i] >= r->n)
                return ps_errorf(err, "rows: subset entry %zu: row %zu is out of range (%zu rows)",
                                 i, idx[i], r->n);
    } else if (n_idx > r->n) {
        return ps_errorf(err, "rows: %zu rows requested, only %zu exist", n_idx, r->n);
    }
    return 0;
}
