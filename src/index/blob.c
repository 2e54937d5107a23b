/*
 * blob.c - features blobs (see blob.h) and float16 conversion.
 *
 * The conversion is done in software: it runs once per photo when indexing
 * and when filling the embedding cache, so it is nowhere near the hot path.
 */
#include "index/blob.h"
#include "core/le.h"

#include <math.h>
#include <string.h>

#define BLOB_MAGIC 0x31465350u /* "PSF1" read as little-endian u32 */

uint16_t ps_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xFFu;
    uint32_t mant = x & 0x7FFFFFu;

    if (exp == 0xFF) /* inf or NaN (keep NaN a NaN) */
        return (uint16_t)(sign | 0x7C00u | (mant ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) /* too large: infinity */
        return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {
        /* Subnormal half (or zero): shift the full mantissa into place,
         * rounding to nearest even. */
        if (e < -10)
            return (uint16_t)sign;
        mant |= 0x800000u;
        int shift = 14 - e;
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1)))
        half++; /* may carry into the exponent, which is still correct */
    return (uint16_t)(sign | half);
}

float ps_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    uint32_t x;
    if (exp == 0) {
        if (mant == 0) {
            x = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3FFu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7F800000u | (mant << 13);
    } else {
        x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

int ps_features_finite(const ps_features *f)
{
    const float *v = (const float *)f;
    for (size_t i = 0; i < PS_FEATURE_VALUES; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

void ps_features_encode(const ps_features *f, int encoding, ps_buf *out)
{
    const float *v = (const float *)f;
    if (encoding == PS_BLOB_F16) {
        for (size_t i = 0; i < PS_FEATURE_VALUES; i++)
            if (!(fabsf(v[i]) <= 65504.0f)) {
                encoding = PS_BLOB_F32;
                break;
            }
    } else {
        encoding = PS_BLOB_F32;
    }
    size_t width = encoding == PS_BLOB_F16 ? 2 : 4;
    ps_buf_clear(out);
    ps_buf_reserve(out, PS_BLOB_HEADER + width * PS_FEATURE_VALUES);
    unsigned char *p = (unsigned char *)out->data;
    ps_put_le32(p, BLOB_MAGIC);
    ps_put_le16(p + 4, PS_FEATURES_VERSION);
    ps_put_le16(p + 6, (uint16_t)encoding);
    ps_put_le32(p + 8, (uint32_t)PS_FEATURE_VALUES);
    p += PS_BLOB_HEADER;
    for (size_t i = 0; i < PS_FEATURE_VALUES; i++) {
        if (encoding == PS_BLOB_F16) {
            ps_put_le16(p + 2 * i, ps_f32_to_f16(v[i]));
        } else {
            uint32_t x;
            memcpy(&x, &v[i], 4);
            ps_put_le32(p + 4 * i, x);
        }
    }
    out->len = PS_BLOB_HEADER + width * PS_FEATURE_VALUES;
    out->data[out->len] = '\0';
}

int ps_features_blob_version(const void *blob, size_t len)
{
    const unsigned char *p = blob;
    if (!p || len < PS_BLOB_HEADER || ps_le32(p) != BLOB_MAGIC)
        return -1;
    return ps_le16(p + 4);
}

int ps_features_decode(const void *blob, size_t len, ps_features *out, ps_error *err)
{
    const unsigned char *p = blob;
    if (!p || len < PS_BLOB_HEADER || ps_le32(p) != BLOB_MAGIC)
        return ps_errorf(err, "features blob of %zu bytes has no valid header", len);
    unsigned version = ps_le16(p + 4), encoding = ps_le16(p + 6);
    uint32_t count = ps_le32(p + 8);
    if (version != PS_FEATURES_VERSION)
        return ps_errorf(err, "features were computed with version %u, this picseek uses version %d",
                         version, PS_FEATURES_VERSION);
    if (encoding != PS_BLOB_F16 && encoding != PS_BLOB_F32)
        return ps_errorf(err, "features blob has unknown encoding %u", encoding);
    if (count != PS_FEATURE_VALUES)
        return ps_errorf(err, "features blob holds %u values, expected %zu", (unsigned)count,
                         (size_t)PS_FEATURE_VALUES);
    size_t width = encoding == PS_BLOB_F16 ? 2 : 4;
    if (len != PS_BLOB_HEADER + width * count)
        return ps_errorf(err, "features blob is %zu bytes, expected %zu", len,
                         PS_BLOB_HEADER + width * count);
    float *v = (float *)out;
    p += PS_BLOB_HEADER;
    for (size_t i = 0; i < count; i++) {
        if (encoding == PS_BLOB_F16) {
            v[i] = ps_f16_to_f32(ps_le16(p + 2 * i));
        } else {
            uint32_t x = ps_le32(p + 4 * i);
            memcpy(&v[i], &x, 4);
        }
        if (!isfinite(v[i]))
            return ps_errorf(err, "features blob: value %zu is not a finite number", i);
    }
    return 0;
}
