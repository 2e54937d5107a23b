/*
 * jpeg.c - JPEG decoding with libjpeg(-turbo), hardened for hostile files.
 *
 * - libjpeg's default error handler prints and calls exit(); ours formats
 *   the message and longjmps back to ps_jpeg_decode, which frees everything.
 *   All state that changes after setjmp lives in a heap context, so nothing
 *   depends on the values of non-volatile locals after the longjmp.
 * - Warnings never reach stderr; they are classified (see emit_message) to
 *   implement the partial-image policy described in decode.h.
 * - The declared size is checked before start_decompress allocates
 *   anything; libjpeg's working memory (progressive JPEGs keep all DCT
 *   coefficients) is capped with mem->max_memory_to_use; a progress monitor
 *   refuses files with absurd scan counts (a known CPU exhaustion trick).
 * - Decoding uses DCT-domain scaling: scale_num/8 with the M chosen by
 *   ps_pick_eighths, and the accurate integer IDCT (JDCT_ISLOW), which is
 *   also what PIL used for the reference tensors.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
/* after jpeglib.h: jconfig.h decides which message codes exist */
#include <jerror.h>

#include "core/buf.h"
#include "image/codec.h"

#define PS_JPEG_MAX_SCANS 500

typedef struct jctx {
    struct jpeg_decompress_struct cinfo; /* first: callbacks cast back */
    struct jpeg_error_mgr jerr;
    struct jpeg_progress_mgr progress;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX + 100]; /* why decoding stopped */
    int msg_is_sentence;             /* msg is ours, not libjpeg's */
    char warning[JMSG_LENGTH_MAX];   /* first warning */
    long nwarnings;
    int saw_eof;           /* the data ran out (the source faked an EOI) */
    int damaged;           /* a warning that means lost image data */
    unsigned damage_row;   /* output_scanline at the first damage */
    int damage_scan;       /* input_scan_number at the first damage */
    size_t max_memory;
    unsigned char *pixels; /* the result being filled (ours until success) */
    unsigned char *row;    /* one CMYK row */
} jctx;

static void on_error(j_common_ptr c)
{
    jctx *x = (jctx *)(void *)c;
    if (c->err->msg_code == JERR_NO_BACKING_STORE) {
        snprintf(x->msg, sizeof x->msg,
                 "decoding this JPEG needs more than the limit of %.4g MiB of working memory",
                 (double)x->max_memory / (1 << 20));
        x->msg_is_sentence = 1;
    } else {
        (*c->err->format_message)(c, x->msg);
    }
    longjmp(x->jb, 1);
}

/* Which warnings mean the pixels after this point are not the photo. */
static int is_damage(int code)
{
    switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
#ifdef D_ARITH_CODING_SUPPORTED
    case JWRN_ARITH_BAD_CODE:
#endif
        return 1;
    default:
        return 0;
    }
}

static void emit_message(j_common_ptr c, int level)
{
    if (level >= 0)
        return; /* trace messages */
    jctx *x = (jctx *)(void *)c;
    j_decompress_ptr d = &x->cinfo;
    int code = c->err->msg_code;
    if (x->nwarnings++ == 0)
        (*c->err->format_message)(c, x->warning);
    if (code == JWRN_JPEG_EOF)
        x->saw_eof = 1;
    if (is_damage(code) && !x->damaged) {
        x->damaged = 1;
        x->damage_row = d->output_scanline;
        x->damage_scan = d->input_scan_number;
    }
}

static void output_message(j_common_ptr c)
{
    (void)c; /* never print: messages are returned to the caller */
}

static void progress(j_common_ptr c)
{
    jctx *x = (jctx *)(void *)c;
    if (x->cinfo.input_scan_number > PS_JPEG_MAX_SCANS) {
        snprintf(x->msg, sizeof x->msg, "JPEG file has more than %d scans", PS_JPEG_MAX_SCANS);
        x->msg_is_sentence = 1;
        longjmp(x->jb, 1);
    }
}

static int orientation_from_markers(j_decompress_ptr d)
{
    for (jpeg_saved_marker_ptr m = d->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return ps_exif_orientation(m->data, m->data_length);
    }
    return 0;
}

/* CMYK (as stored) to RGB.  Adobe files store 255 - ink. */
static void cmyk_to_rgb(unsigned char *dst, const unsigned char *src, unsigned n, int inverted)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned c = src[4 * i], m = src[4 * i + 1], y = src[4 * i + 2], k = src[4 * i + 3];
        if (!inverted) {
            c = 255 - c;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        dst[3 * i] = (unsigned char)((c * k + 127) / 255);
        dst[3 * i + 1] = (unsigned char)((m * k + 127) / 255);
        dst[3 * i + 2] = (unsigned char)((y * k + 127) / 255);
    }
}

/* Apply the partial-image policy once the scanlines are read (or while
 * reading, to stop early).  Returns 1 if the image must be refused. */
static int refuse_damage(const jctx *x, unsigned out_h)
{
    if (!x->damaged)
        return 0;
    if (jpeg_has_multiple_scans((j_decompress_ptr)&x->cinfo))
        return x->damage_scan <= 1;
    return x->damage_row < out_h / 2 + out_h % 2;
}

static void damage_message(const jctx *x, const char *name, unsigned out_h, ps_error *err)
{
    const char *what = x->saw_eof ? "truncated" : "corrupt";
    if (jpeg_has_multiple_scans((j_decompress_ptr)&x->cinfo))
        ps_errorf(err, "%s: JPEG file is %s inside its first scan, no usable image (%s)", name,
                  what, x->warning);
    else
        ps_errorf(err, "%s: JPEG file is %s: only the top %d%% of the image could be decoded (%s)",
                  name, what, ps_percent_rows(x->damage_row, out_h), x->warning);
}

static int fail(jctx *x, int rc)
{
    jpeg_destroy_decompress(&x->cinfo);
    free(x->pixels);
    free(x->row);
    free(x);
    return rc;
}

int ps_jpeg_decode(const unsigned char *data, size_t len, const char *name,
                   const ps_decode_opts *o, ps_image *out, ps_image_info *info, ps_error *err)
{
    jctx *x = ps_xcalloc(1, sizeof *x);
    x->max_memory = o->max_codec_memory;
    j_decompress_ptr d = &x->cinfo;
    d->err = jpeg_std_error(&x->jerr);
    x->jerr.error_exit = on_error;
    x->jerr.emit_message = emit_message;
    x->jerr.output_message = output_message;
    if (setjmp(x->jb)) {
        if (x->msg_is_sentence)
            ps_errorf(err, "%s: %s", name, x->msg);
        else if (x->saw_eof)
            ps_errorf(err, "%s: JPEG file is truncated (%s)", name, x->msg);
        else
            ps_errorf(err, "%s: invalid JPEG data: %s", name, x->msg);
        return fail(x, -1);
    }
    jpeg_create_decompress(d);
    d->mem->max_memory_to_use = (long)(o->max_codec_memory > 0x7fffffffL
                                           ? 0x7fffffffL : (long)o->max_codec_memory);
    x->progress.progress_monitor = progress;
    d->progress = &x->progress;
    jpeg_mem_src(d, data, (unsigned long)len);
    jpeg_save_markers(d, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(d, TRUE);

    int cmyk = 0;
    switch (d->jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
        d->out_color_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        d->out_color_space = JCS_CMYK; /* libjpeg converts YCCK to CMYK */
        cmyk = 1;
        break;
    default:
        ps_errorf(err, "%s: unsupported JPEG colour space (%d components)", name,
                  d->num_components);
        return fail(x, -1);
    }
    int m = ps_pick_eighths(d->image_width, d->image_height, o);
    d->scale_num = (unsigned)m;
    d->scale_denom = 8;
    d->dct_method = JDCT_ISLOW;
    jpeg_calc_output_dimensions(d);
    if (ps_check_image_size(name, d->image_width, d->image_height, d->output_width,
                            d->output_height, o, err) != 0)
        return fail(x, -1);
    info->file_width = (int)d->image_width;
    info->file_height = (int)d->image_height;
    info->orientation = orientation_from_markers(d);
    info->scale_x = info->scale_y = m / 8.0;

    jpeg_start_decompress(d);
    unsigned w = d->output_width, h = d->output_height;
    if (d->output_components != (cmyk ? 4 : 3)) {
        ps_errorf(err, "%s: unexpected JPEG output (%d components)", name, d->output_components);
        return fail(x, -1);
    }
    x->pixels = ps_xmalloc((size_t)w * h * 3);
    if (cmyk)
        x->row = ps_xmalloc((size_t)w * 4);
    int inverted = d->saw_Adobe_marker;
    while (d->output_scanline < h) {
        unsigned y = d->output_scanline;
        unsigned char *dst = x->pixels + (size_t)y * w * 3;
        JSAMPROW r = cmyk ? x->row : dst;
        if (jpeg_read_scanlines(d, &r, 1) != 1)
            break; /* cannot happen with a memory source; be safe */
        if (cmyk)
            cmyk_to_rgb(dst, x->row, w, inverted);
        if (refuse_damage(x, h)) {
            damage_message(x, name, h, err);
            return fail(x, -1);
        }
    }
    if (d->output_scanline < h) {
        ps_errorf(err, "%s: JPEG decoder stopped early", name);
        return fail(x, -1);
    }
    if (refuse_damage(x, h)) {
        damage_message(x, name, h, err);
        return fail(x, -1);
    }
    if (x->damaged) {
        info->partial = 1;
        if (jpeg_has_multiple_scans(d))
            snprintf(info->warning, sizeof info->warning,
                     "%.100s: later scans are missing, the image is blurred or discoloured",
                     x->warning);
        else
            snprintf(info->warning, sizeof info->warning,
                     "%.100s: the bottom %d%% of the image is filler", x->warning,
                     100 - ps_percent_rows(x->damage_row, h));
    } else if (x->nwarnings) {
        ps_note_warning(info, x->warning);
    }
    /* No jpeg_finish_decompress: everything after the last scanline (and
     * any junk there) is irrelevant, and destroy frees all the same. */
    out->pixels = x->pixels;
    out->width = (int)w;
    out->height = (int)h;
    x->pixels = NULL;
    return fail(x, 0);
}
