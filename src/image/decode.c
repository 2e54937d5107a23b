/*
 * decode.c - format detection, limits and orientation around the
 * per-format decoders (jpeg.c, png.c, webp.c).
 */
#include "image/decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "image/codec.h"

void ps_decode_opts_init(ps_decode_opts *o)
{
    memset(o, 0, sizeof *o);
    o->reduce = PS_REDUCE_EIGHTHS;
    o->max_file_bytes = PS_IMAGE_MAX_FILE_BYTES;
    o->max_pixels = PS_IMAGE_MAX_PIXELS;
    o->max_header_pixels = PS_IMAGE_MAX_HEADER_PIXELS;
    o->max_codec_memory = PS_IMAGE_MAX_CODEC_MEMORY;
}

void ps_image_free(ps_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    img->pixels = NULL;
    img->width = img->height = 0;
}

const char *ps_image_format_name(ps_image_format f)
{
    switch (f) {
    case PS_IMAGE_JPEG: return "JPEG";
    case PS_IMAGE_PNG: return "PNG";
    case PS_IMAGE_WEBP: return "WebP";
    default: return "unknown";
    }
}

ps_image_format ps_image_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return PS_IMAGE_JPEG;
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return PS_IMAGE_PNG;
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return PS_IMAGE_WEBP;
    return PS_IMAGE_UNKNOWN;
}

/* Name formats people commonly have in photo folders, so the error says
 * "HEIC images are not supported" rather than just "not an image". */
static const char *known_unsupported(const unsigned char *p, size_t len)
{
    if (len >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
        return "GIF";
    if (len >= 4 && (memcmp(p, "II*\0", 4) == 0 || memcmp(p, "MM\0*", 4) == 0))
        return "TIFF (or camera raw)";
    if (len >= 2 && p[0] == 'B' && p[1] == 'M')
        return "BMP";
    if (len >= 12 && memcmp(p + 4, "ftyp", 4) == 0) {
        const unsigned char *b = p + 8;
        if (memcmp(b, "avif", 4) == 0 || memcmp(b, "avis", 4) == 0)
            return "AVIF";
        if (memcmp(b, "heic", 4) == 0 || memcmp(b, "heix", 4) == 0 ||
            memcmp(b, "mif1", 4) == 0 || memcmp(b, "msf1", 4) == 0 ||
            memcmp(b, "hevc", 4) == 0)
            return "HEIF/HEIC";
        return "MP4/QuickTime video";
    }
    if (len >= 4 && memcmp(p, "8BPS", 4) == 0)
        return "Photoshop PSD";
    if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 1 && p[3] == 0)
        return "ICO";
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0)
        return "RIFF (not WebP)";
    return NULL;
}

static int unknown_format_error(const char *name, const unsigned char *p, size_t len,
                                ps_error *err)
{
    if (len == 0)
        return ps_errorf(err, "%s: file is empty (0 bytes), not an image", name);
    const char *kind = known_unsupported(p, len);
    if (kind)
        return ps_errorf(err, "%s: %s images are not supported (picseek reads JPEG, PNG and WebP)",
                         name, kind);
    static const char digits[] = "0123456789abcdef";
    char hex[3 * 8] = "";
    size_t n = len < 8 ? len : 8, k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i)
            hex[k++] = ' ';
        hex[k++] = digits[p[i] >> 4];
        hex[k++] = digits[p[i] & 15];
    }
    hex[k] = '\0';
    return ps_errorf(err, "%s: not a JPEG, PNG or WebP image (it starts with bytes %s)", name,
                     hex);
}

int ps_image_decode(const void *data, size_t len, const char *name, const ps_decode_opts *opts,
                    ps_image *out, ps_image_info *info, ps_error *err)
{
    ps_decode_opts defaults;
    if (!opts) {
        ps_decode_opts_init(&defaults);
        opts = &defaults;
    }
    ps_image_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    memset(out, 0, sizeof *out);
    if (!name)
        name = "<image>";

    const unsigned char *p = data;
    int rc;
    ps_image_format f = ps_image_sniff(p, len);
    switch (f) {
    case PS_IMAGE_JPEG: rc = ps_jpeg_decode(p, len, name, opts, out, info, err); break;
    case PS_IMAGE_PNG: rc = ps_png_decode(p, len, name, opts, out, info, err); break;
    case PS_IMAGE_WEBP: rc = ps_webp_decode(p, len, name, opts, out, info, err); break;
    default: return unknown_format_error(name, p, len, err);
    }
    if (rc != 0) {
        ps_image_free(out);
        return -1;
    }
    info->format = f;
    int o = info->orientation;
    if (o < 1 || o > 8)
        o = 1;
    info->orientation = o;
    info->full_width = info->file_width;
    info->full_height = info->file_height;
    if (o >= 5) {
        /* Transposing orientations: the displayed image is rotated. */
        double t = info->scale_x;
        info->scale_x = info->scale_y;
        info->scale_y = t;
        info->full_width = info->file_height;
        info->full_height = info->file_width;
    }
    ps_image_apply_orientation(out, o);
    return 0;
}

int ps_image_load(const char *path, const ps_decode_opts *opts, ps_image *out,
                  ps_image_info *info, ps_error *err)
{
    ps_decode_opts defaults;
    if (!opts) {
        ps_decode_opts_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    size_t len = 0;
    char *data = ps_read_file(path, opts->max_file_bytes, &len, err);
    if (!data)
        return -1;
    int rc = ps_image_decode(data, len, path, opts, out, info, err);
    free(data);
    return rc;
}

/* ---- helpers shared by the decoders (codec.h) ---------------------------- */

static unsigned long long scaled(unsigned long long v, int m)
{
    return (v * (unsigned)m + 7) / 8; /* libjpeg's jdiv_round_up(v*M, 8) */
}

int ps_pick_eighths(unsigned w, unsigned h, const ps_decode_opts *o)
{
    if (o->reduce == PS_REDUCE_NONE || (o->min_short_side <= 0 && o->min_long_side <= 0))
        return 8;
    unsigned s = w < h ? w : h, l = w < h ? h : w;
    for (int m = 1; m < 8; m++) {
        if (o->reduce == PS_REDUCE_POW2 && (m & (m - 1)) != 0)
            continue;
        if (scaled(s, m) >= (unsigned long long)(o->min_short_side > 0 ? o->min_short_side : 0) &&
            scaled(l, m) >= (unsigned long long)(o->min_long_side > 0 ? o->min_long_side : 0))
            return m;
    }
    return 8;
}

int ps_check_image_size(const char *name, unsigned long long w, unsigned long long h,
                        unsigned long long dw, unsigned long long dh, const ps_decode_opts *o,
                        ps_error *err)
{
    if (w == 0 || h == 0)
        return ps_errorf(err, "%s: the header gives an empty image (%llux%llu pixels)", name, w,
                         h);
    /* w and h come from 16-bit (JPEG), 31-bit (PNG) or 14-bit (WebP)
     * fields, so the products below cannot overflow 64 bits. */
    if (w * h > o->max_header_pixels)
        return ps_errorf(err, "%s: image is %llux%llu pixels, more than the limit of %.6g megapixels",
                         name, w, h, (double)o->max_header_pixels / 1e6);
    if (dw * dh > o->max_pixels) {
        if (dw == w && dh == h)
            return ps_errorf(err,
                             "%s: image is %llux%llu pixels, more than the limit of %.6g megapixels",
                             name, w, h, (double)o->max_pixels / 1e6);
        return ps_errorf(err,
                         "%s: image is %llux%llu pixels, and even reduced to %llux%llu it is more "
                         "than the limit of %.6g megapixels",
                         name, w, h, dw, dh, (double)o->max_pixels / 1e6);
    }
    return 0;
}

void ps_rgba_over_white(unsigned char *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned a = src[4 * i + 3], na = 255 - a;
        for (int c = 0; c < 3; c++)
            dst[3 * i + c] = (unsigned char)((src[4 * i + c] * a + 255 * na + 127) / 255);
    }
}

void ps_note_warning(ps_image_info *info, const char *msg)
{
    if (info->warning[0] == '\0')
        snprintf(info->warning, sizeof info->warning, "%s", msg);
}

int ps_percent_rows(unsigned part, unsigned whole)
{
    return whole ? (int)((unsigned long long)part * 100 / whole) : 0;
}

/* ---- orientation ------------------------------------------------------------ */

void ps_image_apply_orientation(ps_image *img, int o)
{
    if (o < 2 || o > 8 || !img->pixels)
        return;
    int w = img->width, h = img->height;
    int ow = o >= 5 ? h : w, oh = o >= 5 ? w : h;
    unsigned char *dst = ps_xmalloc((size_t)w * (size_t)h * 3);
    const unsigned char *src = img->pixels;
    /* For each displayed pixel (X, Y), the stored pixel (x, y) it shows. */
    for (int Y = 0; Y < oh; Y++) {
        unsigned char *d = dst + (size_t)Y * (size_t)ow * 3;
        for (int X = 0; X < ow; X++) {
            int x, y;
            switch (o) {
            case 2: x = w - 1 - X; y = Y; break;         /* mirrored left-right */
            case 3: x = w - 1 - X; y = h - 1 - Y; break; /* rotated 180 */
            case 4: x = X; y = h - 1 - Y; break;         /* mirrored top-bottom */
            case 5: x = Y; y = X; break;                 /* transposed */
            case 6: x = Y; y = h - 1 - X; break;         /* needs 90 clockwise */
            case 7: x = w - 1 - Y; y = h - 1 - X; break; /* transversed */
            default: x = w - 1 - Y; y = X; break;        /* 8: needs 90 counter-clockwise */
            }
            const unsigned char *s = src + ((size_t)y * (size_t)w + (size_t)x) * 3;
            d[3 * X] = s[0];
            d[3 * X + 1] = s[1];
            d[3 * X + 2] = s[2];
        }
    }
    free(img->pixels);
    img->pixels = dst;
    img->width = ow;
    img->height = oh;
}
