/*
 * releval.h - how well a relevance model predicts the annotations and how
 * well it retrieves, by the protocols of `picseek eval model`:
 *
 *   poc        the proof of concept's protocol: ONE split of the labelled
 *              pairs, 70% of the photos for training and 30% held out,
 *              grouped by photo, fixed seed;
 *   cv         5-fold cross-validation grouped by photo: the mean and the
 *              sample standard deviation of each metric over the folds;
 *              and retrieval among each fold's held-out photos: every
 *              training caption written for a held-out photo ranks that
 *              fold's held-out photos (cut into groups of about 100, as in
 *              the test set), ranks pooled over the folds, with models
 *              trained a second time without any pair of those captions
 *              (so they are unseen, like test queries).  This measures
 *              retrieval without the test set, to choose settings by;
 *   retrieval  the model trained on all labelled pairs scores every
 *              allowed test query against the 100 test photos; recall@K
 *              (ties counted by their expected position), MRR and the
 *              median rank of the photo the query describes.
 *
 * Pair metrics, on held-out pairs only: MSE, MAE, R^2 of the prediction
 * against the target; Kendall tau-c between the prediction and the expert
 * ratings with each of the three ratings its own row (CLIPScore's
 * Flickr8K-Expert protocol: x = the prediction repeated three times, y = the
 * three ratings); tau-b against the crowd ratio on the pairs that have one.
 *
 * The zero-shot score is evaluated next to the models: its pair metrics use
 * its calibrated value (zeroshot.h), its ranks the raw score.
 */
#ifndef PS_SCORE_RELEVAL_H
#define PS_SCORE_RELEVAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "score/relmodel.h"
#include "score/relset.h"

#define PS_RECALL_CURVE_MAX 100 /* recall@K for K = 1..this */

typedef struct ps_relmetrics {
    double mse, mae, r2, tau_c_expert, tau_b_crowd;
    size_t n_pairs, n_crowd;
} ps_relmetrics;

typedef struct ps_retrieval {
    size_t n_queries, n_photos;
    double recall_1, recall_5, recall_10, mrr, median_rank;
    double curve[PS_RECALL_CURVE_MAX]; /* curve[k-1] = recall@k, k <= n_photos */
} ps_retrieval;

/* Metrics of predictions pred[i] for pairs idx[i] of s. */
void ps_releval_pairs(const ps_relset *s, const size_t *idx, size_t n, const float *pred,
                      ps_relmetrics *out);
/* Retrieval metrics from scores (n_queries x n_test_photos, row-major, the
 * test photos in s's order). */
int ps_releval_ranks(const ps_relset *s, const float *scores, ps_retrieval *out, ps_error *err);

/* The zero-shot raw scores of s's test queries against the test photos
 * (caller frees), and of labelled pairs (out[i] for pair idx[i], raw). */
float *ps_releval_zeroshot_matrix(const ps_relset *s);
void ps_releval_zeroshot_pairs(const ps_relset *s, const size_t *idx, size_t n, float *out);

/* Scores of a trained model on s's test queries x test photos (caller
 * frees). */
float *ps_releval_model_matrix(const ps_relset *s, const ps_relmodel *m);

typedef struct ps_releval_opts {
    double test_frac;  /* poc: held-out share of photos (0.3) */
    uint64_t split_seed; /* poc split and cv folds (42) */
    int folds;         /* 5; 0 = no cross-validation */
    int retrieval;     /* 1: train on all pairs and rank test photos */
    int crowd_pairs;   /* 1: also train on the crowd-only pairs (relset.h) */
    int cv_retrieval;  /* 1: retrieval among the folds' held-out photos */
    ps_relmodel_opts model;
    FILE *log;         /* progress, or NULL */
} ps_releval_opts;

void ps_releval_opts_default(ps_releval_opts *o);

/* Everything measured for one model (or the zero-shot score). */
typedef struct ps_releval_model {
    char name[32];
    int trained;             /* 0 for the zero-shot score */
    ps_relmetrics poc;
    float *poc_pred;         /* predictions for the poc test pairs (owned) */
    ps_relmetrics cv_mean, cv_sd;
    int folds_run;
    ps_retrieval ret;
    int has_ret;
    ps_retrieval cv_ret;     /* retrieval among held-out photos, over the folds */
    double seconds;          /* CPU-independent wall time of its training runs */
    /* A summary of the poc fit (epochs, alpha), for the report. */
    char note[96];
} ps_releval_model;

typedef struct ps_releval {
    ps_releval_opts opts;
    size_t *poc_test, n_poc_test, n_poc_train; /* the held-out pairs (owned) */
    ps_releval_model *models;                  /* models[n], the zero-shot score last */
    size_t n;
} ps_releval;

/* Evaluate the given kinds (and the zero-shot score) on s. */
int ps_releval_run(const ps_relset *s, const ps_relmodel_kind *kinds, size_t n_kinds,
                   const ps_releval_opts *o, ps_releval *out, ps_error *err);
void ps_releval_free(ps_releval *r);

#endif
