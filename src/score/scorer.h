/*
 * scorer.h - the one interface every text-to-photo score implements.
 *
 * A score is a dot product between a query embedding and a photo
 * embedding of the same dimension:
 *
 *     raw(q, p) = embed_query(q) . embed_photo(features(p))
 *
 * Both the zero-shot bridge and the learned bilinear model factor this way,
 * which is what makes search scale: photo embeddings are computed once per
 * photo and scorer (and cached by the index), and a query is one
 * matrix-vector product plus a top-k selection.  `calibrate` maps a raw
 * value to the score shown to people (monotone, so it never changes the
 * order).
 *
 * embed_photo may look only at the photo's pixel features (ps_features):
 * never at captions, file names or any per-photo memory.
 *
 * A scorer is immutable after creation and safe to use from many threads.
 * Ownership: the creator returns a heap object; ps_scorer_free() releases it.
 */
#ifndef PS_SCORE_SCORER_H
#define PS_SCORE_SCORER_H

#include <stddef.h>

#include "core/error.h"
#include "nn/features.h"

typedef struct ps_scorer ps_scorer;

struct ps_scorer {
    /* Stable identifier including a version or content hash, e.g.
     * "zeroshot-v1" or "bilinear-3fa9c2e1": the index keys cached photo
     * embeddings by it. */
    char name[64];
    size_t dim;
    int (*embed_photo)(const ps_scorer *s, const ps_features *f, float *out, ps_error *err);
    /* Fails for invalid UTF-8 or a text with no usable word. */
    int (*embed_query)(const ps_scorer *s, const char *text, size_t len, float *out, ps_error *err);
    float (*calibrate)(const ps_scorer *s, float raw);
    void (*destroy)(ps_scorer *s);
    void *impl;
};

static inline void ps_scorer_free(ps_scorer *s)
{
    if (s)
        s->destroy(s);
}

#endif
