/*
 * content.h - the photo-level content classifier: does a photo probably
 * show children?  The index uses it for photos that have no captions (a
 * photo with a caption is judged by the content rule on its captions).
 *
 * Weak labels.  Nobody labelled photos; their captions did: a photo is
 * positive when any of its captions is blocked by the content rule
 * (policy.h), negative when it has captions and none is.  Train photos'
 * captions are the training captions whose id names the photo (mostly one
 * per photo); test photos have their five test queries.  Labels are noisy
 * (a caption may not mention a child that is in the picture), so the
 * classifier is judged on the test photos, whose five captions make the
 * best labels we have.
 *
 * Model.  Ridge regression of the 0/1 label (a linear probability model)
 * on the photo's pixel features (relfeat.h blocks, never the zero-shot
 * embedding, so the classifier needs nothing but ps_features), alpha by
 * 5-fold cross-validation; or a small MLP with a sigmoid output.
 *
 * Threshold.  Missing a child is worse than hiding an adult, so the
 * threshold favours recall: it is the highest value at which the
 * out-of-fold predictions on the training photos (5 folds) reach
 * target_recall (0.95 by default).  Precision and recall are then reported
 * at that threshold on the held-out test photos.
 *
 * A ps_content_model is immutable after training or loading and safe to
 * share between threads; it owns its arrays (ps_content_free).
 */
#ifndef PS_SCORE_CONTENT_H
#define PS_SCORE_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "learn/mlp.h"
#include "learn/modelfile.h"
#include "learn/ridge.h"
#include "nn/features.h"
#include "score/relset.h"

typedef enum ps_content_kind { PS_CONTENT_RIDGE, PS_CONTENT_MLP } ps_content_kind;

typedef struct ps_content_opts {
    ps_content_kind kind;
    unsigned photo_mask;    /* PS_PF_* blocks, PS_PF_ZS not allowed */
    double target_recall;   /* on out-of-fold predictions; default 0.95 */
    double ridge_alpha;     /* > 0: this relative alpha (no cross-validation);
                               0 (default): chosen by 5-fold cross-validation */
    int folds;              /* default 5 */
    uint64_t seed;          /* default 42 */
    ps_mlp_opts mlp;        /* for PS_CONTENT_MLP */
    size_t max_train;       /* 0 = all; else the first max_train labelled photos
                               (for quick tests) */
} ps_content_opts;

void ps_content_opts_default(ps_content_opts *o);

typedef struct ps_content_model {
    ps_content_kind kind;
    unsigned photo_mask;
    ps_ridge ridge;
    ps_mlp mlp;
    float threshold;
} ps_content_model;

typedef struct ps_content_report {
    size_t n_train, n_train_pos;        /* labelled training photos */
    double threshold;
    double oof_precision, oof_recall;   /* out-of-fold, training photos */
    size_t n_heldout, n_heldout_pos;    /* labelled test photos */
    size_t tp, fp, fn, tn;              /* held out, at the threshold */
    double precision, recall;           /* held out */
    double flagged;                     /* share of held-out photos flagged */
} ps_content_report;

/* Train on the labelled train photos of s, choose the threshold, evaluate
 * on its labelled test photos.  rep may be NULL. */
int ps_content_train(const ps_relset *s, const ps_content_opts *o, ps_content_model *m,
                     ps_content_report *rep, ps_error *err);

/* The classifier's score for a photo (about a probability; ridge values
 * may leave [0, 1]). */
float ps_content_score(const ps_content_model *m, const ps_features *f);
/* 1 if the photo should be treated as showing children (score >=
 * threshold), else 0; *score (may be NULL) gets the score. */
int ps_content_classify(const ps_content_model *m, const ps_features *f, float *score);

/* Store in / read from a model file, array names prefixed with `prefix`. */
void ps_content_put(const ps_content_model *m, ps_modelfile *f, const char *prefix);
int ps_content_get(ps_content_model *m, const ps_modelfile *f, const char *prefix,
                   ps_error *err);
void ps_content_free(ps_content_model *m);

#endif
