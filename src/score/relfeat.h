/*
 * relfeat.h - the numbers a learned relevance model sees: a photo vector
 * computed from the photo's pixel features only, a text vector computed
 * from the query text only, and per-pair "extra" features that are dot
 * products of the two sides (so every learned score still factors into a
 * query embedding . photo embedding, scorer.h).
 *
 * Photo vector: the concatenation, in this order, of the blocks selected
 * by a PS_PF_* mask:
 *   PS_PF_MNV2     MobileNetV2 pre-logits (1280)
 *   PS_PF_MNV1     MobileNetV1 embedding (1024)
 *   PS_PF_LOGPROB  ln(p + 1e-4) of the 1001 ImageNet class probabilities
 *   PS_PF_VOC      the 21 VOC area shares
 *   PS_PF_ZS       the zero-shot photo embedding (zeroshot.h: concept
 *                  evidence, VOC evidence, colour evidence, label vector)
 * Text vector: the blocks of a PS_TF_* mask:
 *   PS_TF_GLOVE    the unit GloVe query vector (query.h; zeros when no
 *                  word has a vector)
 *   PS_TF_ZS       the zero-shot query embedding
 * Extras (PS_EF_* mask), each Q . P of the zero-shot embeddings or a part:
 *   PS_EF_ZS       the zero-shot raw score
 *   PS_EF_ZSCLASS  its concept, VOC and colour part (all but the vector)
 *   PS_EF_ZSVEC    its query vector . label vector part
 *   PS_EF_ZSCONCEPT  its WordNet concept part (ImageNet classes and above)
 *   PS_EF_ZSVOC    its VOC part
 *   PS_EF_ZSCOLOR  its colour part
 *
 * The models standardize every column themselves.  Nothing here allocates
 * except where stated; all functions are thread-safe.
 */
#ifndef PS_SCORE_RELFEAT_H
#define PS_SCORE_RELFEAT_H

#include <stddef.h>

#include "core/error.h"
#include "nn/features.h"
#include "score/zeroshot.h"
#include "text/query.h"

enum {
    PS_PF_MNV2 = 1u << 0,
    PS_PF_MNV1 = 1u << 1,
    PS_PF_LOGPROB = 1u << 2,
    PS_PF_VOC = 1u << 3,
    PS_PF_ZS = 1u << 4,
    PS_PF_ALL = (1u << 5) - 1,
};
enum {
    PS_TF_GLOVE = 1u << 0,
    PS_TF_ZS = 1u << 1,
    PS_TF_ALL = (1u << 2) - 1,
};
enum {
    PS_EF_ZS = 1u << 0,
    PS_EF_ZSCLASS = 1u << 1,
    PS_EF_ZSVEC = 1u << 2,
    PS_EF_ZSCONCEPT = 1u << 3,
    PS_EF_ZSVOC = 1u << 4,
    PS_EF_ZSCOLOR = 1u << 5,
    PS_EF_ALL = (1u << 6) - 1,
};

/* Which blocks, as stored in a model file. */
typedef struct ps_relfeat {
    unsigned photo, text, extra;
} ps_relfeat;

/* Parse "mnv2,mnv1,logprob" / "glove" / "zs,zsclass,zsvec,zsconcept,zsvoc,zscolor"
 * ("none" = 0) into a
 * mask; print a mask into out (at least 64 bytes). */
int ps_relfeat_parse(int side, const char *s, unsigned *mask, ps_error *err);
void ps_relfeat_format(int side, unsigned mask, char *out, size_t size);
enum { PS_RF_PHOTO, PS_RF_TEXT, PS_RF_EXTRA };

/* Dimensions for a zero-shot score of embedding dimension zdim and GloVe
 * dimension gdim. */
size_t ps_relfeat_photo_dim(unsigned mask, size_t zdim);
size_t ps_relfeat_text_dim(unsigned mask, size_t zdim, size_t gdim);
size_t ps_relfeat_extra_dim(unsigned mask);

/* The photo vector; zs_photo is the zero-shot photo embedding of the same
 * photo (ps_zeroshot_embed_photo), needed only with PS_PF_ZS. */
void ps_relfeat_photo(unsigned mask, const ps_features *f, const float *zs_photo, size_t zdim,
                      float *out);
/* The text vector from a parsed query and its zero-shot embedding (zs_query
 * may be NULL without PS_TF_ZS). */
void ps_relfeat_text(unsigned mask, const ps_query *q, size_t gdim, const float *zs_query,
                     size_t zdim, float *out);
/* The extras of one (query, photo) pair from the two zero-shot embeddings
 * (z gives the layout of its dimensions). */
void ps_relfeat_extra(unsigned mask, const ps_zeroshot *z, const float *zs_query,
                      const float *zs_photo, float *out);
/* Extra k as a dot product: the range [lo, hi) of the zero-shot dimensions
 * that it sums over. */
void ps_relfeat_extra_range(const ps_zeroshot *z, unsigned mask, size_t k, size_t *lo,
                            size_t *hi);

#endif
