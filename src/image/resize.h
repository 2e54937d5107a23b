/*
 * resize.h - resampling: square model inputs and thumbnails.
 *
 * Filter.  The reference input tensors (../shared/golden/NAME.in) were made
 * with PIL: center square crop, then Image.resize(..., BILINEAR).  For
 * downscaling, PIL's "bilinear" is not 2x2 bilinear sampling but a
 * convolution with the triangle filter max(0, 1-|x|) stretched by the
 * reduction factor (support = 1 source pixel when enlarging, `scale` source
 * pixels when reducing), i.e. an antialiased area-weighted average.  The
 * models were evaluated on such inputs, so we reproduce it: same pixel-
 * centre convention (output pixel i samples source x = (i+0.5)*scale),
 * same tap range rounding, weights normalised per output pixel and turned
 * into 22-bit fixed point with round-half-away-from-zero, a horizontal pass
 * rounded and clamped to 8 bits, then a vertical pass.  On a full-size
 * decode this gives bit-identical tensors to the golden files (see
 * tests/test_image.c).  A plain 2x2 bilinear sampler would alias badly at
 * 500 -> 224 and differ from the reference by several grey levels.
 *
 * Crop semantics: a resample box is cut out first, so taps never read
 * pixels outside the box (rounded out to whole pixels) -- exactly what
 * img.crop(box).resize(...) does.
 *
 * All functions take the source read-only; outputs are caller-provided
 * buffers or new ps_images the caller frees with ps_image_free().
 */
#ifndef PS_IMAGE_RESIZE_H
#define PS_IMAGE_RESIZE_H

#include <stddef.h>

#include "core/error.h"
#include "image/decode.h"

/* Resample the box [x0,x1) x [y0,y1) of src (pixel coordinates, fractions
 * allowed; clamped to the image) to out_w x out_h RGB into `out`
 * (out_w*out_h*3 bytes).  out_w, out_h >= 1. */
void ps_image_resample(const ps_image *src, double x0, double y0, double x1, double y1,
                       int out_w, int out_h, unsigned char *out);

/* The whole image to out_w x out_h (a new image in *out). */
void ps_image_resize(const ps_image *src, int out_w, int out_h, ps_image *out);

/* The model input: the centred square of side min(W,H) of the full-size
 * photo (left = (W-side)/2, top = (H-side)/2, rounded down, as the golden
 * tensors were cut), resized to size x size and written to `out` as uint8
 * NHWC RGB (size*size*3 bytes).  img and info come from ps_image_load; if
 * the decode was reduced, info->scale_x/scale_y map the full-size crop box
 * into img.  info may be NULL when img is the full-size photo. */
void ps_image_center_square(const ps_image *img, const ps_image_info *info, int size,
                            unsigned char *out);

/* Path to model input in one call: decode, then crop+resize into `out`
 * (size*size*3 bytes).  opts may be NULL for the defaults.
 *
 * Reduction margin: unless opts->min_short_side is set (> 0), the decoder
 * is asked for a shorter side of at least PS_SQUARE_OVERSAMPLE * size, so
 * a 4000x3000 JPEG is decoded at 1/4 (750x1000) for 224 and 1/2 for 513,
 * never at full size.  Why not reduce all the way to `size`: the triangle
 * filter then has almost nothing left to do and the DCT-reduced image is
 * visibly sharper than PIL's full-size triangle reduction the models were
 * fed: on the golden photos, reducing to just >= 224 (5/8 for 500x375)
 * gives a mean difference of 1.4..3.0 grey levels (max 53), while with the
 * 2x margin the result stays within a fraction of a level (measured in
 * tests/test_image.c and reported there).  Set min_short_side = size to
 * get the tightest reduction anyway, or opts->reduce = PS_REDUCE_NONE.
 *
 * Example, for MobileNet and for DeepLab:
 *     unsigned char in224[224 * 224 * 3], *in513 = malloc(513 * 513 * 3);
 *     ps_image_load_square(path, 224, NULL, in224, &err);
 *     ps_image_load_square(path, 513, NULL, in513, &err);
 * To feed both from one decode: ps_image_load with min_short_side = 1026,
 * then ps_image_center_square twice. */
#define PS_SQUARE_OVERSAMPLE 2
int ps_image_load_square(const char *path, int size, const ps_decode_opts *opts,
                         unsigned char *out, ps_error *err);
int ps_image_decode_square(const void *data, size_t len, const char *name, int size,
                           const ps_decode_opts *opts, unsigned char *out, ps_error *err);

/* A copy of src that fits within max_side x max_side, aspect ratio kept
 * (the longer side becomes max_side, the other is rounded, at least 1);
 * an image that already fits is copied unchanged (never enlarged). */
void ps_image_thumbnail(const ps_image *src, int max_side, ps_image *out);

#endif
