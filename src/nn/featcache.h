/*
 * featcache.h - a folder of computed photo features, so that running the
 * models (about a second per photo) happens once per photo.
 *
 * Key: the SHA-256 of the photo file's bytes (not its name: a renamed photo
 * is found, an edited one is recomputed) and PS_FEATURES_VERSION (a new
 * version of the feature record ignores older files).  Layout:
 *
 *   DIR/v<PS_FEATURES_VERSION>/<sha256 hex>.feat
 *
 * File: "PSFEAT\0\0", u32 version, u32 float count, the ps_features floats
 * (little-endian IEEE 754, in struct order), then the SHA-256 of everything
 * before it.  A file that is short, damaged, of another version or size,
 * or that holds a non-finite number is treated as absent (and rewritten by
 * the next put); files are written atomically, so concurrent writers are
 * harmless.  The folder is untrusted input like any other.
 *
 * ps_feature_source bundles the cache with an extractor that is created
 * (the models loaded) only on the first miss.  Not thread-safe: one per
 * thread.
 */
#ifndef PS_NN_FEATCACHE_H
#define PS_NN_FEATCACHE_H

#include <stdbool.h>

#include "core/error.h"
#include "nn/features.h"

/* The default folder: $PICSEEK_FEATURES, else <cache>/features
 * (core/paths.h ps_cache_dir).  Caller frees. */
char *ps_featcache_default_dir(ps_error *err);

/* 1 and *out filled if DIR holds valid features for the digest, else 0. */
int ps_featcache_get(const char *dir, const char *sha256_hex, ps_features *out);
/* Store (creating DIR/v<N>/ if needed). */
int ps_featcache_put(const char *dir, const char *sha256_hex, const ps_features *f,
                     ps_error *err);

typedef struct ps_feature_source ps_feature_source;

/* cache_dir NULL = ps_featcache_default_dir(); models_dir NULL = the
 * default models folder (loaded on the first miss).  threads: per model
 * (<= 0: the interpreter's default). */
ps_feature_source *ps_feature_source_new(const char *cache_dir, const char *models_dir,
                                         int threads, ps_error *err);
void ps_feature_source_free(ps_feature_source *s);

/* The features of a photo file: from the cache if there, else computed and
 * stored.  *from_cache (may be NULL) says which. */
int ps_feature_source_get(ps_feature_source *s, const char *path, ps_features *out,
                          bool *from_cache, ps_error *err);

#endif
