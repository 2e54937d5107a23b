/*
 * bilinear.h - a low-rank bilinear text x photo relevance model.
 *
 *   z(t, p) = (U t)·(V p) + w_t·t + w_p·p + w_e·e + b
 *   score   = sigmoid(z) (targets in [0, 1]) or z
 *
 * t is a text vector, p a photo vector (both standardized with statistics
 * of the training rows), e optional per-pair extra features (e.g. a
 * zero-shot score), U is rank x dt and V rank x dp: the model learns a
 * shared rank-dimensional space where a text and a photo meet.
 *
 * Input is a ps_pairs: text and photo features are stored once and pairs
 * refer to them by index, so photo features are not duplicated per pair.
 *
 * Training: Adam on minibatches made of whole queries (all pairs of a text
 * stay in one batch), loss = MSE + rank_weight * pairwise logistic ranking
 * loss over the pairs of the same text whose targets differ by more than
 * rank_margin (log(1 + exp(-(z_i - z_j))) for y_i > y_j + margin, averaged
 * over such pairs in the batch).  L2 on U, V and the linear weights.
 * Early stopping on validation pairs by the same objective, keeping the best
 * weights.  Deterministic for a seed.
 *
 * Retrieval: ps_bilinear_embed_text / _embed_photos project each side once
 * into rank + 1 numbers; scoring a text against N embedded photos is then
 * N dot products of length rank + 1.
 *
 * Internally (and in the file) U and V carry one extra last row: w_t and
 * w_p.  The model owns all its arrays.
 */
#ifndef PS_LEARN_BILINEAR_H
#define PS_LEARN_BILINEAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "learn/matrix.h"

typedef struct ps_bilinear_opts {
    size_t rank;         /* default 16 */
    int use_linear;      /* learn w_t and w_p (default 1) */
    int sigmoid_out;     /* default 1 */
    int standardize;     /* default 1 */
    float lr;            /* default 3e-4 */
    float l2;            /* default 1e-2 */
    size_t batch;        /* pairs per minibatch (whole texts); default 64 */
    size_t max_epochs;   /* default 200 */
    size_t patience;     /* default 15 */
    float rank_weight;   /* weight of the ranking term; 0 = MSE only (default) */
    float rank_margin;   /* default 0.05 */
    uint64_t seed;       /* default 1 */
    FILE *log;           /* one line per epoch, or NULL */
} ps_bilinear_opts;

typedef struct ps_bilinear {
    size_t dt, dp, n_extra, rank;
    float *U;  /* (rank + 1) x dt, last row w_t */
    float *V;  /* (rank + 1) x dp, last row w_p */
    float *we; /* n_extra */
    float b;
    float *t_mean, *t_scale, *p_mean, *p_scale, *e_mean, *e_scale;
    int sigmoid_out;
    /* Training summary (not saved). */
    size_t epochs_run, best_epoch;
    double best_val_loss;
} ps_bilinear;

ps_bilinear_opts ps_bilinear_defaults(void);

/* Train on pairs train[0..n_train) of p, stopping early on val[0..n_val)
 * (n_val = 0: run max_epochs).  y has one target per pair of p.  *m is
 * overwritten. */
int ps_bilinear_train(ps_bilinear *m, const ps_pairs *p, const float *y, const size_t *train,
                      size_t n_train, const size_t *val, size_t n_val,
                      const ps_bilinear_opts *opts, ps_error *err);

/* out[i] = score of pair idx[i] (idx NULL = pair i). */
void ps_bilinear_predict(const ps_bilinear *m, const ps_pairs *p, const size_t *idx, size_t n,
                         float *out);

/* Project one raw text vector (dt floats) into rank + 1 floats. */
void ps_bilinear_embed_text(const ps_bilinear *m, const float *t, float *out);
/* Project every row of P (n x dp) into a new n x (rank + 1) matrix. */
ps_mat ps_bilinear_embed_photos(const ps_bilinear *m, const ps_mat *P);
/* out[j] = score of the embedded text against embedded photo j; extra is
 * NULL (no extra features) or n x n_extra raw extra features per photo. */
void ps_bilinear_score_embedded(const ps_bilinear *m, const float *text_emb,
                                const ps_mat *photo_emb, const ps_mat *extra, float *out);

int ps_bilinear_save(const ps_bilinear *m, const char *path, ps_error *err);
int ps_bilinear_load(ps_bilinear *m, const char *path, ps_error *err);
void ps_bilinear_free(ps_bilinear *m);

#endif
