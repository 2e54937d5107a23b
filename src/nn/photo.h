/*
 * photo.h - from a photo (file or bytes) to its ps_features: decode it once
 * (image/decode.h), cut the centred square at 224 and at 513 pixels
 * (image/resize.h, as the models were trained and the golden tensors made)
 * and run the three models (extract.h).
 *
 * The photo is decoded with a shorter side of at least 2 x 513 pixels when
 * it is larger (JPEG DCT scaling), so a 4000-pixel photo is never decoded
 * at full size, while both crops keep the resampling margin resize.h
 * explains.  Thread safety as for ps_extract: the extractor may be shared,
 * the workspace is per thread.
 */
#ifndef PS_NN_PHOTO_H
#define PS_NN_PHOTO_H

#include <stddef.h>

#include "core/error.h"
#include "nn/extract.h"
#include "nn/features.h"

/* Returned when the bytes are not a photo picseek can decode (corrupt,
 * truncated, too large, another format): the photo's problem, not the
 * models'.  Other failures return -1. */
#define PS_PHOTO_UNREADABLE (-2)

/* `len` bytes of a JPEG, PNG or WebP photo; `name` prefixes messages.
 * Returns 0, PS_PHOTO_UNREADABLE or -1. */
int ps_photo_features(const ps_extractor *x, ps_extractor_ws *w, const void *data, size_t len,
                      const char *name, ps_features *out, ps_error *err);
/* The photo file at `path` ("path: reason" on failure). */
int ps_photo_features_file(const ps_extractor *x, ps_extractor_ws *w, const char *path,
                           ps_features *out, ps_error *err);

#endif
