/*
 * extract.h - all three models on one photo, into a ps_features record
 * (features.h): what the indexer stores per photo.
 *
 *   ps_extractor *x = ps_extractor_load(NULL, NULL, &err);
 *   ps_extractor_ws *w = ps_extractor_workspace(x, 0);
 *   ps_extract(x, w, rgb224, rgb513, &features, &err);
 *
 * rgb224 is the 224x224x3 center-square input of the two MobileNets, rgb513
 * the 513x513x3 input of DeepLab (the image layer makes both).  rgb513 may be
 * NULL to skip segmentation (voc_area and the foreground colours are then
 * all zero, the colours of all pixels are those of rgb224).  The colour
 * shares (features.h) are counted on rgb513, the foreground being the
 * pixels DeepLab does not class as background.
 *
 * Arithmetic: opt NULL means TFLite's integer kernels (AVX2), on purpose.
 * The armnn option (interp.h) reproduces shared/golden byte for byte but
 * runs about 6-10x slower (float MACs); the integer outputs differ from it
 * by a few quanta (MobileNetV1 embeddings at cosine >= 0.999, same top
 * classes), which search features do not notice.  Features only have to be
 * consistent between indexing and querying, and both use this default.
 *
 * Ownership: the extractor (immutable, shareable between threads) and one
 * workspace per thread, freed with their _free functions, workspaces first.
 */
#ifndef PS_NN_EXTRACT_H
#define PS_NN_EXTRACT_H

#include <stdint.h>

#include "core/error.h"
#include "nn/features.h"
#include "nn/models.h"

typedef struct ps_extractor ps_extractor;
typedef struct ps_extractor_ws ps_extractor_ws;

ps_extractor *ps_extractor_load(const char *models_dir, const ps_nn_options *opt, ps_error *err);
void ps_extractor_free(ps_extractor *x);
/* The model of one kind inside the extractor. */
const ps_model *ps_extractor_model(const ps_extractor *x, ps_model_kind kind);

/* threads <= 0: ps_nn_default_threads(). */
ps_extractor_ws *ps_extractor_workspace(const ps_extractor *x, int threads);
void ps_extractor_ws_free(ps_extractor_ws *w);

int ps_extract(const ps_extractor *x, ps_extractor_ws *w, const uint8_t *rgb224,
               const uint8_t *rgb513, ps_features *out, ps_error *err);

#endif
