/*
 * relmodel.h - one interface over the relevance models compared in
 * `picseek eval model` (learn/ does the fitting):
 *
 *   constant  the mean training target (the baseline every model must beat)
 *   ridge     ridge regression on [text | photo | extras], alpha chosen by
 *             5-fold cross-validation grouped by photo (learn/ridge.h)
 *   mlp       a fully connected network on the same rows: ReLU, dropout,
 *             Adam, early stopping (learn/mlp.h)
 *   bilinear  the low-rank text x photo model with the extras as linear
 *             terms, MSE + a pairwise ranking term, early stopping
 *             (learn/bilinear.h); an ensemble of `ensemble` of them (seeds
 *             seed, seed + 1, ...) whose logits are averaged - still one
 *             dot product (the embeddings concatenate), so it is the model
 *             search uses
 *
 * Early stopping uses a validation split of the training rows grouped by
 * photo (val_frac of the training photos), never the evaluation rows.
 * Outputs are then recalibrated on expert pairs: sigmoid(z) becomes
 * sigmoid(a z + c) for the MLP and the bilinear model (on the validation
 * pairs; for the bilinear model folded into its weights), ridge's p
 * becomes a p + c (on its training pairs), a > 0: two numbers fitted by
 * squared + calib_mae x absolute error, which never change a ranking but
 * put the predictions on the expert pairs' scale (the crowd-only pairs are
 * mostly clear mismatches) and undo the spread the ranking term gives the
 * bilinear model's logits.  The constant is the mean expert target.
 * With photo_pca, every model sees the photo vector through a PCA fitted
 * on the photos of its training pairs (standardized columns, pca.h): a
 * few hundred numbers instead of thousands, which makes ridge and the MLP
 * fast enough for the crowd-only pairs and regularizes all of them.
 * Every model is deterministic for a given seed.
 *
 * Ownership: a trained ps_relmodel owns its arrays; ps_relmodel_free.
 */
#ifndef PS_SCORE_RELMODEL_H
#define PS_SCORE_RELMODEL_H

#include <stdint.h>

#include "core/error.h"
#include "learn/bilinear.h"
#include "learn/matrix.h"
#include "learn/mlp.h"
#include "learn/pca.h"
#include "learn/ridge.h"

typedef enum ps_relmodel_kind {
    PS_RM_CONSTANT,
    PS_RM_RIDGE,
    PS_RM_MLP,
    PS_RM_BILINEAR,
    PS_RM_NKINDS
} ps_relmodel_kind;

/* "constant", "ridge", "mlp", "bilinear"; parse returns -1 if unknown. */
const char *ps_relmodel_name(ps_relmodel_kind k);
int ps_relmodel_parse(const char *s);

typedef struct ps_relmodel_opts {
    ps_ridge_opts ridge;
    ps_mlp_opts mlp;
    ps_bilinear_opts bilinear;
    double ridge_alpha; /* > 0: this relative alpha; 0: chosen by grouped CV */
    size_t ensemble;  /* bilinear members averaged (logits), default 5 */
    size_t photo_pca; /* > 0: reduce the photo vector to this many principal
                         components of the training photos first */
    double val_frac;  /* share of training photos held out for early stopping */
    int calibrate;    /* recalibrate the outputs (see above); default 1 */
    double calib_mae; /* weight of the absolute error in it; default 0.1 */
    uint64_t seed;    /* seeds the validation split and every model */
} ps_relmodel_opts;

/* The settings measured in docs/EVALUATION.md. */
void ps_relmodel_opts_default(ps_relmodel_opts *o);

/* Set one hyper-parameter by name, for experiments (`picseek eval model
 * --set NAME=VALUE`): ridge.alpha (a fixed relative alpha), mlp.hidden
 * ("256,64"), mlp.dropout, mlp.lr, mlp.l2, mlp.batch, mlp.epochs,
 * mlp.patience, bilinear.rank, bilinear.lr, bilinear.l2, bilinear.batch,
 * bilinear.epochs, bilinear.patience, bilinear.rank_weight,
 * bilinear.rank_margin, bilinear.linear, bilinear.ensemble, photo_pca,
 * calibrate, calib_mae, val_frac, seed. */
int ps_relmodel_opts_set(ps_relmodel_opts *o, const char *name, const char *value,
                         ps_error *err);

typedef struct ps_relmodel {
    ps_relmodel_kind kind;
    float constant;
    ps_ridge ridge;
    ps_mlp mlp;
    ps_bilinear *bl;  /* n_bl ensemble members */
    size_t n_bl;
    ps_pca pca;       /* k = 0 when the photo vector is used as it is */
    int cal;          /* output calibration of ridge / mlp (relmodel.c) */
    float cal_a, cal_c;
} ps_relmodel;

/* Train on pairs train[0..n_train) of p (train NULL = all pairs); y and
 * groups (the photo of each pair) are indexed by pair.  Pairs below
 * n_primary are the "primary" pairs (the expert pairs, relset.h): early
 * stopping and calibration look at the primary pairs of the validation
 * photos only (all of them if there are none). */
int ps_relmodel_train(ps_relmodel *m, ps_relmodel_kind kind, const ps_pairs *p, const float *y,
                      const uint32_t *groups, size_t n_primary, const size_t *train,
                      size_t n_train, const ps_relmodel_opts *o, ps_error *err);
/* out[i] = predicted relevance in [0, 1] (ridge: unclipped) of pair
 * idx[i] (idx NULL = pair i). */
void ps_relmodel_predict(const ps_relmodel *m, const ps_pairs *p, const size_t *idx, size_t n,
                         float *out);
void ps_relmodel_free(ps_relmodel *m);

/* sigmoid(mean of the members' logits) for pairs idx[0..n) (idx NULL = all)
 * of p: how an ensemble of bilinear models predicts. */
void ps_relmodel_ensemble_predict(const ps_bilinear *bl, size_t n_bl, const ps_pairs *p,
                                  const size_t *idx, size_t n, float *out);

#endif
