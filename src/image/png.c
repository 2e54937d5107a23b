/*
 * png.c - PNG decoding with libpng, hardened for hostile files.
 *
 * libpng reports errors by calling our error function, which must not
 * return: it longjmps to the setjmp in ps_png_decode.  Everything that
 * changes after setjmp lives in a heap context (see jpeg.c for why).
 *
 * Every PNG flavour is reduced to 8-bit RGB or RGBA by libpng transforms
 * (palette expansion, gray expansion, tRNS to alpha, 16-bit scaling with
 * rounding); RGBA is then composited over white (decode.h says why).
 * Limits: the IHDR size is checked before the pixel buffer exists, libpng's
 * per-chunk allocation is capped (compressed text and ICC chunks can be
 * decompression bombs of their own) and unknown chunks are skipped.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "core/buf.h"
#include "image/codec.h"

#define PS_PNG_CHUNK_MALLOC_MAX ((png_alloc_size_t)8 << 20)
#define PS_PNG_CHUNK_CACHE_MAX 1000

enum { STAGE_HEADER, STAGE_ROWS, STAGE_END };

typedef struct pctx {
    const unsigned char *data;
    size_t len, pos;
    int truncated;        /* a read went past the end of the data */
    int stage;
    char msg[256];        /* libpng's error */
    char warning[256];    /* libpng's first warning */
    png_structp png;
    png_infop pinfo;
    unsigned w, h, channels;
    int interlaced;
    unsigned rows_done;   /* complete rows in `pixels` (non-interlaced) */
    unsigned char *pixels;
    unsigned char *buf;   /* one RGBA row, or the whole RGBA image if interlaced */
    png_bytep *rows;      /* row pointers for interlaced images */
    int orientation;
} pctx;

static void on_error(png_structp png, png_const_charp msg)
{
    pctx *x = png_get_error_ptr(png);
    snprintf(x->msg, sizeof x->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    pctx *x = png_get_error_ptr(png);
    if (x->warning[0] == '\0')
        snprintf(x->warning, sizeof x->warning, "%s", msg);
}

static void read_data(png_structp png, png_bytep dst, size_t n)
{
    pctx *x = png_get_io_ptr(png);
    if (n > x->len - x->pos) {
        x->truncated = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(dst, x->data + x->pos, n);
    x->pos += n;
}

static int finish(pctx *x, int rc)
{
    png_destroy_read_struct(&x->png, &x->pinfo, NULL);
    free(x->pixels);
    free(x->buf);
    free(x->rows);
    free(x);
    return rc;
}

static void read_exif(pctx *x)
{
#ifdef PNG_eXIf_SUPPORTED
    png_uint_32 n = 0;
    png_bytep exif = NULL;
    if (png_get_eXIf_1(x->png, x->pinfo, &n, &exif) & PNG_INFO_eXIf)
        x->orientation = ps_exif_orientation(exif, n);
#else
    (void)x;
#endif
}

/* Set up transforms so that every row comes out as 8-bit RGB or RGBA. */
static void set_transforms(pctx *x, int bit_depth, int color_type)
{
    png_structp png = x->png;
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, x->pinfo, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (bit_depth == 16)
        png_set_scale_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
}

static void read_rows(pctx *x)
{
    size_t w = x->w;
    if (!x->interlaced) {
        for (unsigned y = 0; y < x->h; y++) {
            unsigned char *dst = x->pixels + (size_t)y * w * 3;
            png_read_row(x->png, x->channels == 4 ? x->buf : dst, NULL);
            if (x->channels == 4)
                ps_rgba_over_white(dst, x->buf, w);
            x->rows_done = y + 1;
        }
        return;
    }
    /* Interlaced: rows are only final after the last pass, so the whole
     * image is decoded in place (RGB) or into an RGBA buffer. */
    unsigned char *base = x->channels == 4 ? x->buf : x->pixels;
    x->rows = ps_xmalloc(sizeof *x->rows * x->h);
    for (unsigned y = 0; y < x->h; y++)
        x->rows[y] = base + (size_t)y * w * x->channels;
    png_read_image(x->png, x->rows);
    if (x->channels == 4)
        ps_rgba_over_white(x->pixels, x->buf, w * x->h);
    x->rows_done = x->h;
}

static void take_result(pctx *x, ps_image *out, ps_image_info *info)
{
    out->pixels = x->pixels;
    out->width = (int)x->w;
    out->height = (int)x->h;
    x->pixels = NULL;
    info->file_width = (int)x->w;
    info->file_height = (int)x->h;
    info->scale_x = info->scale_y = 1.0;
    info->orientation = x->orientation;
    if (x->warning[0])
        ps_note_warning(info, x->warning);
}

/* After a libpng error: keep what can be kept (decode.h's policy). */
static int recover(pctx *x, const char *name, ps_image *out, ps_image_info *info, ps_error *err)
{
    const char *what = x->truncated ? "truncated" : "corrupt";
    if (x->stage == STAGE_END) {
        /* All rows are in; only trailing chunks (or IEND) are bad. */
        take_result(x, out, info);
        char w[PS_IMAGE_WARNING_MAX];
        snprintf(w, sizeof w, "PNG data after the image is %s (%.120s)", what, x->msg);
        info->warning[0] = '\0';
        ps_note_warning(info, w);
        return finish(x, 0);
    }
    if (x->stage == STAGE_ROWS && !x->interlaced && x->rows_done >= x->h / 2 + x->h % 2) {
        size_t done = (size_t)x->rows_done * x->w * 3;
        memset(x->pixels + done, 128, (size_t)x->w * x->h * 3 - done);
        unsigned rows_done = x->rows_done;
        take_result(x, out, info);
        info->partial = 1;
        snprintf(info->warning, sizeof info->warning,
                 "PNG file is %s (%.120s): the bottom %d%% of the image is filler", what, x->msg,
                 100 - ps_percent_rows(rows_done, x->h));
        return finish(x, 0);
    }
    if (x->stage == STAGE_ROWS && !x->interlaced)
        ps_errorf(err, "%s: PNG file is %s: only the top %d%% of the image could be decoded (%s)",
                  name, what, ps_percent_rows(x->rows_done, x->h), x->msg);
    else if (x->stage == STAGE_ROWS)
        ps_errorf(err, "%s: interlaced PNG file is %s, no usable image (%s)", name, what, x->msg);
    else if (x->truncated)
        ps_errorf(err, "%s: PNG file is truncated before its image data (%s)", name, x->msg);
    else
        ps_errorf(err, "%s: invalid PNG data: %s", name, x->msg);
    return finish(x, -1);
}

int ps_png_decode(const unsigned char *data, size_t len, const char *name,
                  const ps_decode_opts *o, ps_image *out, ps_image_info *info, ps_error *err)
{
    pctx *x = ps_xcalloc(1, sizeof *x);
    x->data = data;
    x->len = len;
    x->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, x, on_error, on_warning);
    if (!x->png) {
        free(x);
        return ps_errorf(err, "%s: cannot create a PNG decoder", name);
    }
    x->pinfo = png_create_info_struct(x->png);
    if (!x->pinfo) {
        ps_errorf(err, "%s: cannot create a PNG decoder", name);
        return finish(x, -1);
    }
    if (setjmp(png_jmpbuf(x->png)))
        return recover(x, name, out, info, err);

    png_set_read_fn(x->png, x, read_data);
    png_set_chunk_malloc_max(x->png, PS_PNG_CHUNK_MALLOC_MAX);
    png_set_chunk_cache_max(x->png, PS_PNG_CHUNK_CACHE_MAX);
    png_set_keep_unknown_chunks(x->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_read_info(x->png, x->pinfo);

    png_uint_32 w, h;
    int bit_depth, color_type, interlace;
    png_get_IHDR(x->png, x->pinfo, &w, &h, &bit_depth, &color_type, &interlace, NULL, NULL);
    if (ps_check_image_size(name, w, h, w, h, o, err) != 0)
        return finish(x, -1);
    x->w = w;
    x->h = h;
    x->interlaced = interlace != PNG_INTERLACE_NONE;
    set_transforms(x, bit_depth, color_type);
    png_set_interlace_handling(x->png);
    png_read_update_info(x->png, x->pinfo);
    x->channels = png_get_channels(x->png, x->pinfo);
    if ((x->channels != 3 && x->channels != 4) ||
        png_get_rowbytes(x->png, x->pinfo) != (size_t)w * x->channels) {
        ps_errorf(err, "%s: unsupported PNG layout (colour type %d, %d bits)", name, color_type,
                  bit_depth);
        return finish(x, -1);
    }
    read_exif(x);
    x->pixels = ps_xmalloc((size_t)w * h * 3);
    if (x->channels == 4)
        x->buf = ps_xmalloc((size_t)w * 4 * (x->interlaced ? h : 1));
    x->stage = STAGE_ROWS;
    read_rows(x);
    x->stage = STAGE_END;
    png_read_end(x->png, x->pinfo); /* an eXIf chunk may follow the image data */
    if (!x->orientation)
        read_exif(x);
    take_result(x, out, info);
    return finish(x, 0);
}
