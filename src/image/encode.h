/*
 * encode.h - JPEG encoding for thumbnails served by the web server.
 *
 * Output is baseline JPEG, 4:2:0, Huffman tables optimised, with a JFIF
 * header and no EXIF: the pixels are already upright (decode.h applied the
 * orientation), so no viewer must rotate them again.
 */
#ifndef PS_IMAGE_ENCODE_H
#define PS_IMAGE_ENCODE_H

#include <stddef.h>

#include "core/error.h"
#include "image/decode.h"

/* Encode img at `quality` (1..100, clamped) into a new buffer *out of
 * *out_len bytes; the caller frees *out with free(). */
int ps_jpeg_encode(const ps_image *img, int quality, unsigned char **out, size_t *out_len,
                   ps_error *err);

/* Load the photo at `path`, shrink it to fit max_side x max_side (the JPEG
 * decoder reduces in the DCT domain as far as it can first) and encode it.
 * opts may be NULL (defaults; its min_* fields are ignored).  The caller
 * frees *out with free(). */
int ps_image_thumbnail_jpeg(const char *path, int max_side, int quality,
                            const ps_decode_opts *opts, unsigned char **out, size_t *out_len,
                            ps_error *err);

#endif
