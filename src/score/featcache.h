/*
 * featcache.h - a photo's ps_features (nn/features.h), computed once per
 * photo content and kept on disk.
 *
 * Running the three models on a photo costs a fraction of a second
 * (DeepLab most of it); evaluation and training need the features of the
 * same 1,100 dataset photos again and again, so they are cached:
 *
 *   <dir>/<sha256 of the file's bytes>-v<PS_FEATURES_VERSION>.psf
 *
 * <dir> defaults to $PICSEEK_FEATURES, else <cache>/features (core/paths.h:
 * $PICSEEK_CACHE...).
 * The key is the photo's CONTENT, so renaming or copying a photo reuses the
 * entry and editing it does not; the features version in the name retires
 * every entry when the meaning of ps_features changes.  An entry is a
 * learn/modelfile container of kind "features" (four arrays: class_prob,
 * mnv2, mnv1, voc_area) with its SHA-256 checksum, written atomically; an
 * entry that fails to parse (truncated, corrupt, wrong shapes) is treated
 * as a miss and rewritten, never trusted.
 *
 * Features are computed as `picseek classify` does: the file is decoded
 * twice, each time center-square cropped and resized for the model input
 * (224 for the MobileNets, 513 for DeepLab; image/resize.h).
 *
 * A ps_featcache loads the models only on its first miss.  It is NOT
 * thread-safe (one per thread); entries written by concurrent processes are
 * safe because each write is a rename of a complete file.
 *
 * Ownership: ps_featcache_open returns an object freed by
 * ps_featcache_close.
 */
#ifndef PS_SCORE_FEATCACHE_H
#define PS_SCORE_FEATCACHE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"
#include "nn/extract.h"
#include "nn/features.h"

typedef struct ps_featcache ps_featcache;

/* dir NULL = $PICSEEK_FEATURES or <cache>/features (created if missing);
 * models_dir NULL = ps_models_dir(NULL); threads <= 0 = the nn layer's
 * default. */
ps_featcache *ps_featcache_open(const char *dir, const char *models_dir, int threads,
                                ps_error *err);
void ps_featcache_close(ps_featcache *c);

/* With cached_only set, a photo whose features are not in the cache is an
 * error ("... not in the feature cache ...") instead of being computed:
 * for tests and checks that must not spend minutes on the models. */
void ps_featcache_cached_only(ps_featcache *c, int cached_only);

/* The features of the photo file at `path`, from the cache or computed
 * (and stored).  *computed (may be NULL) is set to 1 when the models ran.
 * Fails for an unreadable file, an undecodable image or missing models;
 * a cache folder that cannot be written is not an error (the features are
 * still returned). */
int ps_featcache_photo(ps_featcache *c, const char *path, ps_features *out, int *computed,
                       ps_error *err);

/* Counts since opening: entries found, photos computed, entries that were
 * present but invalid (recomputed). */
void ps_featcache_stats(const ps_featcache *c, size_t *hits, size_t *computed,
                        size_t *invalid);

/* Run the three models on an encoded photo held in memory (name prefixes
 * error messages). */
int ps_features_compute(const ps_extractor *x, ps_extractor_ws *w, const void *data, size_t len,
                        const char *name, ps_features *out, ps_error *err);

/* The entry format, public for tests: serialize appends the file image to
 * out; parse checks it completely (source names it in messages). */
void ps_features_serialize(const ps_features *f, ps_buf *out);
int ps_features_parse(const void *data, size_t len, const char *source, ps_features *out,
                      ps_error *err);

#endif
