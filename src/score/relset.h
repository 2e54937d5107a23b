/*
 * relset.h - the learning problem "how relevant is this photo to this
 * text?", assembled from the annotated dataset (data/), the content rule
 * (policy/), the photo features (nn/featcache.h) and the zero-shot score.
 *
 *   photos   every train photo (train_images/, in name order) then every
 *            test photo (test_images.csv order); photo i has its
 *            ps_features, its zero-shot embedding and its photo vector.
 *   texts    the training captions that the content rule allows, then the
 *            test queries it allows; each with its text vector and
 *            zero-shot query embedding.  Blocked texts never enter: a model
 *            is not trained on, and not evaluated with, captions about
 *            children.
 *   pairs    the labelled (caption, photo) pairs (data/labels.h: expert
 *            majority, target = 0.6 expert + 0.4 crowd) whose caption is
 *            allowed; with the three expert scores, the crowd ratio and the
 *            extra features.  Groups for splitting = photo index.  Then,
 *            with opts.crowd_pairs, the "crowd-only" pairs: the pairs of
 *            CrowdAnnotations.tsv that have no expert row (44,392 of them,
 *            ten times the expert pairs, most of them clear mismatches)
 *            whose caption is allowed, with the crowd ratio as target.  They
 *            are training material only: every metric is computed on expert
 *            pairs [0, n_expert_pairs).
 *   queries  the allowed test queries and the test photo each describes:
 *            the retrieval benchmark over the test photos.
 *   child    per photo, the weak content label of the content classifier:
 *            1 if any caption of the photo (train captions whose id names
 *            the photo; test queries of the photo) is blocked by the rule,
 *            0 if it has captions and none is, -1 if it has none.
 *
 * What a model may look at: the photo vector (pixel features only) and the
 * text vector (query text only).  Captions of a photo are used as LABELS
 * only (targets and child), never as features of that photo.
 *
 * Ownership: a ps_relset owns everything it points to (it keeps the
 * dataset, labels, policy and zero-shot model open); ps_relset_free.
 */
#ifndef PS_SCORE_RELSET_H
#define PS_SCORE_RELSET_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "data/dataset.h"
#include "data/labels.h"
#include "learn/matrix.h"
#include "nn/features.h"
#include "policy/policy.h"
#include "score/relfeat.h"
#include "score/zeroshot.h"

typedef struct ps_relset_opts {
    const char *data_dir;     /* NULL = ps_dataset_dir(NULL) */
    const char *models_dir;   /* NULL = ps_models_dir(NULL) */
    const char *features_dir; /* NULL = ps_featcache_default_dir() */
    const char *lexicon;      /* NULL = the content rule's default */
    ps_relfeat feat;          /* default: ps_relset_default_feat() */
    int crowd_pairs;          /* add the crowd-only pairs (default 1) */
    int threads;              /* for the models on a cache miss; <= 0 = default */
    int cached_only;          /* fail rather than compute missing photo features */
    FILE *log;                /* progress lines, or NULL */
} ps_relset_opts;

ps_relfeat ps_relset_default_feat(void);
void ps_relset_opts_default(ps_relset_opts *o);

typedef struct ps_relset {
    ps_dataset ds;
    ps_labels labels;
    ps_policy *policy;
    ps_zeroshot *z;
    ps_relfeat feat;
    size_t zdim, gdim;

    size_t n_photos, n_train_photos;  /* test photos: [n_train_photos, n_photos) */
    const char **photo_name;          /* borrowed from ds */
    ps_features *features;            /* n_photos */
    ps_mat zs_photo;                  /* n_photos x zdim */
    ps_mat photo;                     /* n_photos x photo dim */
    signed char *child;               /* n_photos: 1, 0, -1 (no caption) */

    size_t n_texts, n_train_texts;    /* test queries: [n_train_texts, n_texts) */
    const char **text, **text_id;     /* borrowed from ds */
    ps_mat zs_query;                  /* n_texts x zdim */
    ps_mat text_vec;                  /* n_texts x text dim */
    int32_t *text_photo;              /* the photo each text was written for
                                         (caption id prefix; test queries: their
                                         test photo), -1 if not a photo of s */

    size_t n_pairs, n_expert_pairs;   /* crowd-only: [n_expert_pairs, n_pairs) */
    uint32_t *text_idx, *photo_idx;   /* photo_idx doubles as the split group */
    float *y;                         /* target */
    float *expert;                    /* n_pairs x 3, raw scores 1..4 (0 for crowd-only) */
    float *crowd;                     /* agree ratio (meaningful where has_crowd) */
    unsigned char *has_crowd;
    ps_mat extra;                     /* n_pairs x extra dim */

    size_t n_queries;
    uint32_t *query_text;             /* text index */
    uint32_t *query_photo;            /* photo index of the correct test photo */

    /* Counts for reports. */
    size_t pairs_blocked, train_texts_blocked, test_queries_blocked;
    size_t photos_computed;           /* features computed (not from the cache) */
} ps_relset;

int ps_relset_build(const ps_relset_opts *opts, ps_relset *out, ps_error *err);
void ps_relset_free(ps_relset *s);

/* The labelled pairs as a learn/ pair view (borrows from s). */
ps_pairs ps_relset_pairs(const ps_relset *s);

/* A pair view of (query, photo) combinations for scoring: texts[i] x
 * photos[j] for all i, j (row i * n_photos + j), with the extra features
 * computed.  The view borrows s's text and photo matrices; *extra_out
 * and the two index arrays are new and freed with ps_relset_cross_free. */
typedef struct ps_relset_cross {
    ps_pairs pairs;
    ps_mat extra;
    uint32_t *text_idx, *photo_idx;
} ps_relset_cross;
void ps_relset_cross_make(const ps_relset *s, const uint32_t *texts, size_t n_texts,
                          const uint32_t *photos, size_t n_photos, ps_relset_cross *out);
void ps_relset_cross_free(ps_relset_cross *c);

#endif
