/*
 * paths.h - where picseek finds the assets it cannot ship: the dataset and
 * the pretrained models (../shared in a checkout), and its cache.
 *
 * Resolution order, first hit wins:
 *   1. the explicit override (a command-line flag), if non-NULL;
 *   2. the environment: $PICSEEK_DATA (dataset), $PICSEEK_MODELS (models),
 *      or $PICSEEK_SHARED (the folder holding dataset/ and models/);
 *   3. ./shared, ../shared, and ../shared relative to the picseek
 *      executable's own checkout (<repo>/build/picseek -> <repo>/../shared).
 */
#ifndef PS_CORE_PATHS_H
#define PS_CORE_PATHS_H

#include "core/error.h"

/* Each returns a new string (caller frees) or NULL with an error that tells
 * the user where picseek looked and how to provide the asset. */
char *ps_shared_dir(ps_error *err);
char *ps_dataset_dir(const char *override, ps_error *err);
char *ps_models_dir(const char *override, ps_error *err);

/* Cache folder for derived files (converted word vectors, thumbnails):
 * $PICSEEK_CACHE, else $XDG_CACHE_HOME/picseek, else ~/.cache/picseek.
 * Created if missing. */
char *ps_cache_dir(ps_error *err);

/* Check that dir/name exists and has the given SHA-256; on mismatch or
 * absence, the error says what was expected and where to get the file. */
int ps_verify_asset(const char *dir, const char *name, const char *sha256_hex, ps_error *err);

#endif
