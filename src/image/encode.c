/*
 * encode.c - JPEG compression with libjpeg (thumbnails).
 *
 * The error handler longjmps instead of exiting (as in jpeg.c).  Nothing
 * here reads untrusted data, so an error can only mean a bad argument or
 * out of memory, but the process must not exit for either.
 */
#include "image/encode.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "core/buf.h"
#include "image/resize.h"

typedef struct ectx {
    struct jpeg_compress_struct cinfo; /* first: the error handler casts back */
    struct jpeg_error_mgr jerr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
    unsigned char *mem; /* libjpeg's output buffer (malloc'ed by jpeg_mem_dest) */
    unsigned long mem_len;
} ectx;

static void on_error(j_common_ptr c)
{
    ectx *x = (ectx *)(void *)c;
    (*c->err->format_message)(c, x->msg);
    longjmp(x->jb, 1);
}

static void quiet(j_common_ptr c)
{
    (void)c;
}

int ps_jpeg_encode(const ps_image *img, int quality, unsigned char **out, size_t *out_len,
                   ps_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!img->pixels || img->width < 1 || img->height < 1 || img->width > 65500 ||
        img->height > 65500)
        return ps_errorf(err, "cannot encode a %dx%d image as JPEG", img->width, img->height);
    ectx *x = ps_xcalloc(1, sizeof *x);
    struct jpeg_compress_struct *c = &x->cinfo;
    c->err = jpeg_std_error(&x->jerr);
    x->jerr.error_exit = on_error;
    x->jerr.output_message = quiet;
    if (setjmp(x->jb)) {
        ps_errorf(err, "JPEG encoding failed: %s", x->msg);
        jpeg_destroy_compress(c);
        free(x->mem);
        free(x);
        return -1;
    }
    jpeg_create_compress(c);
    jpeg_mem_dest(c, &x->mem, &x->mem_len);
    c->image_width = (JDIMENSION)img->width;
    c->image_height = (JDIMENSION)img->height;
    c->input_components = 3;
    c->in_color_space = JCS_RGB;
    jpeg_set_defaults(c);
    jpeg_set_quality(c, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    c->optimize_coding = TRUE;
    jpeg_start_compress(c, TRUE);
    size_t stride = (size_t)img->width * 3;
    while (c->next_scanline < c->image_height) {
        JSAMPROW row = img->pixels + (size_t)c->next_scanline * stride;
        jpeg_write_scanlines(c, &row, 1);
    }
    jpeg_finish_compress(c);
    jpeg_destroy_compress(c);
    *out = x->mem;
    *out_len = x->mem_len;
    free(x);
    return 0;
}

int ps_image_thumbnail_jpeg(const char *path, int max_side, int quality,
                            const ps_decode_opts *opts, unsigned char **out, size_t *out_len,
                            ps_error *err)
{
    ps_decode_opts o;
    if (opts)
        o = *opts;
    else
        ps_decode_opts_init(&o);
    o.min_short_side = 0;
    o.min_long_side = max_side;
    ps_image img, thumb;
    if (ps_image_load(path, &o, &img, NULL, err) != 0)
        return -1;
    ps_image_thumbnail(&img, max_side, &thumb);
    ps_image_free(&img);
    int rc = ps_jpeg_encode(&thumb, quality, out, out_len, err);
    ps_image_free(&thumb);
    if (rc != 0)
        ps_error_prefix(err, "%s", path);
    return rc;
}
