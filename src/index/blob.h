/*
 * blob.h - the byte layout of a photo's features and embeddings in the
 * index, and the float16 conversion it uses.
 *
 * A features blob is a 12-byte header followed by the values, little-endian:
 *
 *     offset 0  u32  magic "PSF1"
 *            4  u16  PS_FEATURES_VERSION the values were computed with
 *            6  u16  encoding: 1 = IEEE float16, 2 = float32
 *            8  u32  number of values (sizeof(ps_features) / sizeof(float))
 *           12       the values, in the field order of ps_features
 *
 * float16 halves the database (6.7 KB instead of 13.4 KB a photo).  It is
 * exact for the quantized models' probabilities (k/256) and within 2^-11
 * relative error for the rest; a photo with a value outside the float16
 * range is stored as float32 instead.  Decoding accepts both.
 *
 * Embedding blobs (the per-scorer cache) are plain little-endian float32
 * arrays of the scorer's dimension.
 */
#ifndef PS_INDEX_BLOB_H
#define PS_INDEX_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "nn/features.h"

#define PS_BLOB_HEADER 12
#define PS_BLOB_F16 1
#define PS_BLOB_F32 2
#define PS_FEATURE_VALUES (sizeof(ps_features) / sizeof(float))

uint16_t ps_f32_to_f16(float f);
float ps_f16_to_f32(uint16_t h);

/* 1 if every value of f is finite. */
int ps_features_finite(const ps_features *f);

/* Append the blob for f to out (cleared first).  encoding is PS_BLOB_F16
 * (falls back to float32 when a value does not fit) or PS_BLOB_F32. */
void ps_features_encode(const ps_features *f, int encoding, ps_buf *out);

/* Decode a blob; fails (naming what is wrong) for a bad header, a length
 * that does not match, another features version or a non-finite value. */
int ps_features_decode(const void *blob, size_t len, ps_features *out, ps_error *err);

/* The features version recorded in a blob, or -1 if the header is bad. */
int ps_features_blob_version(const void *blob, size_t len);

#endif
