/*
 * codec.h - internal to src/image: the per-format decoders behind
 * ps_image_decode() and the helpers they share.  Not for other layers.
 *
 * Each decoder gets the whole file in memory and fills `out` (a new pixel
 * buffer the caller owns) and `info` (format, file size, scale, partial,
 * warning, orientation found in the file's EXIF -- NOT yet applied:
 * ps_image_decode applies it).  On failure it returns -1 with a message
 * "name: reason" and leaves `out` empty.
 */
#ifndef PS_IMAGE_CODEC_H
#define PS_IMAGE_CODEC_H

#include <stddef.h>

#include "image/decode.h"

int ps_jpeg_decode(const unsigned char *data, size_t len, const char *name,
                   const ps_decode_opts *o, ps_image *out, ps_image_info *info, ps_error *err);
int ps_png_decode(const unsigned char *data, size_t len, const char *name,
                  const ps_decode_opts *o, ps_image *out, ps_image_info *info, ps_error *err);
int ps_webp_decode(const unsigned char *data, size_t len, const char *name,
                   const ps_decode_opts *o, ps_image *out, ps_image_info *info, ps_error *err);

/* The reduction M/8 (M = 1..8) to decode a w x h image at: the smallest M
 * whose result ceil(w*M/8) x ceil(h*M/8) still meets o's minimum sides.
 * Returns 8 (full size) when no minimum is set or reduction is off. */
int ps_pick_eighths(unsigned w, unsigned h, const ps_decode_opts *o);

/* Refuse an image whose declared size (w x h) or decoded size (dw x dh)
 * exceeds o's limits, before anything is allocated for it. */
int ps_check_image_size(const char *name, unsigned long long w, unsigned long long h,
                        unsigned long long dw, unsigned long long dh, const ps_decode_opts *o,
                        ps_error *err);

/* Composite `n` RGBA pixels over white into RGB (dst may not overlap src). */
void ps_rgba_over_white(unsigned char *dst, const unsigned char *src, size_t n);

/* Copy a decoder's warning into info->warning, keeping only the first. */
void ps_note_warning(ps_image_info *info, const char *msg);

/* part as a whole percentage of whole, rounded down (0 when whole is 0):
 * how much of a damaged image was decoded, for messages. */
int ps_percent_rows(unsigned part, unsigned whole);

#endif
