/*
 * decode.h - load a photo (JPEG, PNG or WebP) into an 8-bit RGB image.
 *
 * The format is chosen by the file's first bytes, never by its name.  Every
 * input is treated as hostile: the decoders run with their own error
 * handlers (libjpeg and libpng would otherwise exit() or abort), every size
 * is checked against a limit BEFORE anything is allocated for it, and a bad
 * file yields an error sentence such as
 *   "photo.jpg: image is 100000x100000 pixels, more than the limit of 256 megapixels"
 *
 * Reduced decoding.  The caller says how small the result may be
 * (min_short_side / min_long_side) and the decoder picks the largest
 * reduction M/8 (M = 1..8) that keeps both sides at or above those minimums:
 *   - JPEG: libjpeg's DCT-domain scaling (scale_num/scale_denom), so a large
 *     photo is never decoded at full size when a 224 px result is needed;
 *   - WebP: libwebp's built-in scaler (decodes row by row into the reduced
 *     buffer, so memory is bounded by the reduced size);
 *   - PNG: always decoded at full size (there is no cheaper path).
 * The reduction actually applied is reported in ps_image_info (scale_x,
 * scale_y), which resize.h uses to map crop boxes from full-size
 * coordinates into the reduced image.
 *
 * Colour handling.
 *   - JPEG: YCbCr, RGB and grayscale become RGB; CMYK and YCCK become RGB by
 *     the usual naive formula R = (1-C)(1-K).  A file with an Adobe APP14
 *     marker (Photoshop and everything that copies it) stores CMYK inverted,
 *     a file without one is taken as plain CMYK.
 *   - PNG: palette, gray (1..16 bit), gray+alpha, RGB and RGBA, 8 or 16 bit.
 *     16-bit samples are scaled to 8 bits with rounding (v*255/65535).
 *   - Transparency (PNG alpha or tRNS, WebP alpha) is composited over WHITE,
 *     not dropped: transparent pixels often hold arbitrary colours (black,
 *     left-over paint), and a photo viewer or browser shows them over a light
 *     background, which is what a person searching for the picture saw.
 *   - Gamma, ICC profiles and colour management are ignored (as PIL does when
 *     it made the reference tensors).
 *
 * EXIF orientation (tags 1..8, from a JPEG APP1 "Exif" segment, a PNG eXIf
 * chunk or a WebP EXIF chunk) is applied, so the pixels come out the way a
 * viewer displays them; orientations 5..8 swap width and height.
 *
 * Damaged files.  Real photo folders hold truncated JPEGs (an interrupted
 * copy: "Premature end of JPEG file").  Policy: a JPEG or non-interlaced PNG
 * whose data ends or goes corrupt after at least half of its rows decoded is
 * ACCEPTED; the missing rows are mid-gray, info->partial is set and
 * info->warning says what happened.  If less than half decoded (or a
 * progressive JPEG breaks inside its first scan) it is an error: such an
 * image is mostly filler and would only pollute search results.  Harmless
 * libjpeg warnings (extraneous bytes before a marker, odd JFIF version) are
 * recorded in info->warning but do not set partial.  Interlaced PNG and WebP
 * have no usable partial result: truncation is an error.
 *
 * Threads: no shared state; any number of decodes may run concurrently.
 */
#ifndef PS_IMAGE_DECODE_H
#define PS_IMAGE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Default limits (ps_decode_opts_init). */
#define PS_IMAGE_MAX_FILE_BYTES ((size_t)128 << 20)      /* bytes read from a file */
#define PS_IMAGE_MAX_PIXELS 64000000ULL                 /* decoded (after reduction) */
#define PS_IMAGE_MAX_HEADER_PIXELS 256000000ULL         /* as the header states it */
#define PS_IMAGE_MAX_CODEC_MEMORY ((size_t)1024 << 20)   /* libjpeg working memory */

typedef enum ps_image_format {
    PS_IMAGE_UNKNOWN = 0,
    PS_IMAGE_JPEG,
    PS_IMAGE_PNG,
    PS_IMAGE_WEBP
} ps_image_format;

typedef enum ps_reduce_mode {
    PS_REDUCE_EIGHTHS = 0, /* any M/8, M = 1..8 (default) */
    PS_REDUCE_POW2,        /* only 1/1, 1/2, 1/4, 1/8 */
    PS_REDUCE_NONE         /* always decode at full size */
} ps_reduce_mode;

typedef struct ps_decode_opts {
    /* Smallest acceptable decoded size; both 0 means full size.  The sides
     * are those of the image as stored (orientation does not matter: the
     * shorter side stays the shorter side). */
    int min_short_side;
    int min_long_side;
    ps_reduce_mode reduce;
    size_t max_file_bytes;      /* ps_image_load: larger files are refused */
    uint64_t max_pixels;        /* width*height of the decoded (reduced) image */
    uint64_t max_header_pixels; /* width*height the file declares, before reduction */
    size_t max_codec_memory;    /* libjpeg's working memory (progressive JPEGs) */
} ps_decode_opts;

/* An 8-bit RGB image: `pixels` holds width*height*3 bytes, rows top to
 * bottom, no padding.  The image owns `pixels`; ps_image_free() releases it.
 * A zeroed ps_image is empty and may be freed. */
typedef struct ps_image {
    int width, height;
    unsigned char *pixels;
} ps_image;

#define PS_IMAGE_WARNING_MAX 200

/* What the decoder found and did.  Filled on success. */
typedef struct ps_image_info {
    ps_image_format format;
    int file_width, file_height; /* as stored in the file */
    int full_width, full_height; /* full size after orientation (5..8 swap) */
    int orientation;             /* EXIF orientation applied, 1 = none */
    double scale_x, scale_y;     /* decoded pixels per full-size pixel (1 = not reduced) */
    int partial;                 /* 1: damaged/truncated data, some rows are filler */
    char warning[PS_IMAGE_WARNING_MAX]; /* first decoder warning, "" if none */
} ps_image_info;

/* Defaults: full size, PS_REDUCE_EIGHTHS, the PS_IMAGE_MAX_* limits. */
void ps_decode_opts_init(ps_decode_opts *o);

/* Read the file at `path` (at most o->max_file_bytes) and decode it.
 * opts may be NULL for the defaults; info may be NULL.  On failure `out` is
 * left empty and err says "path: reason". */
int ps_image_load(const char *path, const ps_decode_opts *opts, ps_image *out,
                  ps_image_info *info, ps_error *err);

/* Decode `len` bytes from memory.  `name` (a path or "<upload>") prefixes
 * error messages.  The caller keeps ownership of `data`. */
int ps_image_decode(const void *data, size_t len, const char *name, const ps_decode_opts *opts,
                    ps_image *out, ps_image_info *info, ps_error *err);

void ps_image_free(ps_image *img);

/* The format the first bytes announce (PS_IMAGE_UNKNOWN if none we read). */
ps_image_format ps_image_sniff(const void *data, size_t len);
const char *ps_image_format_name(ps_image_format f); /* "JPEG", "PNG", "WebP", "unknown" */

/* EXIF orientation (1..8) from TIFF-structured EXIF data, with or without
 * the leading "Exif\0\0" of a JPEG APP1 segment.  Returns 0 when the data
 * has no valid orientation tag.  Every offset is bounds-checked. */
int ps_exif_orientation(const unsigned char *data, size_t len);

/* Rotate/flip `img` in place (it gets a new pixel buffer) so that an image
 * stored with EXIF orientation `orientation` shows upright.  1 or an
 * invalid value leaves it unchanged. */
void ps_image_apply_orientation(ps_image *img, int orientation);

#endif
