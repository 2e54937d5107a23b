/*
 * learned.h - the trained model picseek searches with: a file written by
 * `picseek train`, read by `picseek search` (and the index, for the
 * content classifier), and the learned ps_scorer on top of it.
 *
 * The file is a learn/modelfile container of kind "picseek-model" holding
 *
 *   format              PS_LEARNED_FORMAT; another value is refused with a
 *                       message saying to retrain
 *   feat.photo/text/extra   the relfeat.h blocks the model reads
 *   zs.version, zs.hash the zero-shot score (and through it the query
 *                       pipeline: WordNet, GloVe, IDF weights, bridge) the
 *                       model was trained with; a picseek whose zero-shot
 *                       score differs refuses the file rather than score
 *                       with features it was not trained on
 *   zs.dim, glove.dim   dimensions, checked against the open zero-shot score
 *   rel.pca.*           the photo PCA in front of it (learn/pca.h), if any
 *   rel.members         M, the bilinear models averaged (relmodel.h)
 *   rel0.* .. relM-1.*  each member: learn/bilinear.h
 *   content.*           the content classifier (content.h)
 *   train.*             how it was trained (pairs, seed, epochs): for people
 *
 * The model holds weights only: no photo, caption or text of the training
 * set (the score of a photo depends on its pixel features and the query).
 *
 * The scorer.  Each bilinear member z_m = (U t).(V p) + w_t.t + w_p.p +
 * sum_k we_k (e_k - mean_k) / scale_k + b, whose extras e_k are dot
 * products of zero-shot embeddings (relfeat.h), factors exactly, and so
 * does their mean z = (1/M) sum_m z_m:
 *
 *   query  [ for each member: (U t)_0..r-1 / M, 1 / M,
 *              ((U t)_r + b - sum_k we_k mean_k / scale_k) / M ;
 *            w_j Qzs_j for each zero-shot dimension j, where w_j sums
 *            1/M sum_m we_mk / scale_mk over the extras k whose range
 *            holds j ]
 *   photo  [ for each member: (V p)_0..r-1, (V p)_r, 1 ; Pzs ]
 *
 * so raw = query . photo = z, and calibrate(raw) = sigmoid(z), the
 * predicted relevance in [0, 1].  Its name is "learned-v1-" and 8 hex
 * digits of the file's SHA-256: the index keys cached photo embeddings by
 * it.
 *
 * Ownership: ps_learned_model owns its arrays (ps_learned_free); the
 * scorer owns its model and zero-shot score (ps_scorer_free).
 */
#ifndef PS_SCORE_LEARNED_H
#define PS_SCORE_LEARNED_H

#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/error.h"
#include "learn/bilinear.h"
#include "learn/pca.h"
#include "nn/features.h"
#include "score/content.h"
#include "score/relfeat.h"
#include "score/relmodel.h"
#include "score/relset.h"
#include "score/scorer.h"
#include "score/zeroshot.h"

#define PS_LEARNED_KIND "picseek-model"
#define PS_LEARNED_FORMAT 1

typedef struct ps_learned_model {
    ps_relfeat feat;
    int zs_version;
    uint32_t zs_hash;         /* the 8 hex digits of the zero-shot score's name */
    size_t zdim, gdim;
    ps_pca pca;               /* k = 0: none */
    ps_bilinear *rel;         /* n_rel ensemble members (same shapes) */
    size_t n_rel;
    ps_content_model content;
    /* Training summary. */
    size_t train_pairs, train_epochs;
    uint64_t seed;
} ps_learned_model;

typedef struct ps_learned_opts {
    ps_relmodel_opts model;   /* bilinear settings, seed */
    ps_content_opts content;
    FILE *log;
} ps_learned_opts;

void ps_learned_opts_default(ps_learned_opts *o);

/* Where the model lives unless a command is told otherwise: $PICSEEK_MODEL,
 * else <cache>/model.psm (core/paths.h).  Caller frees. */
char *ps_learned_default_path(ps_error *err);

/* Train the relevance model on every labelled pair of s (expert and, if s
 * has them, crowd-only) and the content classifier; *crep (may be NULL)
 * gets the classifier's report. */
int ps_learned_train(const ps_relset *s, const ps_learned_opts *o, ps_learned_model *out,
                     ps_content_report *crep, ps_error *err);

/* The file image / reading one (source names it in messages). */
void ps_learned_serialize(const ps_learned_model *m, ps_buf *out);
int ps_learned_save(const ps_learned_model *m, const char *path, ps_error *err);
int ps_learned_parse(const void *data, size_t len, const char *source, ps_learned_model *out,
                     ps_error *err);
int ps_learned_load(const char *path, ps_learned_model *out, ps_error *err);
void ps_learned_free(ps_learned_model *m);

/* Only the content classifier of a model file, for the index (which
 * needs no query pipeline): the file is checked (checksum, kind, format)
 * like ps_learned_load.  Free with ps_content_free. */
int ps_learned_load_content(const char *path, ps_content_model *out, ps_error *err);

/* Check that a model fits an open zero-shot score (same score, same
 * dimensions); the error says to retrain. */
int ps_learned_check(const ps_learned_model *m, const ps_zeroshot *z, const char *source,
                     ps_error *err);

/* The predicted relevance of one photo to one text, computed directly by
 * the bilinear model (for tests of the scorer and for explanations). */
int ps_learned_predict(const ps_learned_model *m, const ps_zeroshot *z, const char *text,
                       size_t len, const ps_features *f, float *out, ps_error *err);

/* A scorer over the model file at path and a zero-shot score opened with
 * zcfg (NULL = the defaults). */
ps_scorer *ps_learned_scorer_new(const char *path, const ps_zs_config *zcfg, ps_error *err);
/* The model inside a scorer made by ps_learned_scorer_new (else NULL). */
const ps_learned_model *ps_learned_of(const ps_scorer *s);
/* The zero-shot score inside it, whose parts explain a result (else NULL). */
const ps_zeroshot *ps_learned_zeroshot_of(const ps_scorer *s);

#endif
