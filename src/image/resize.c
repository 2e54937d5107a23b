/*
 * resize.c - separable triangle-filter resampling (see resize.h for why it
 * follows PIL's "bilinear" so closely), center squares and thumbnails.
 */
#include "image/resize.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define WEIGHT_BITS 22 /* 32 bits - 8 for the sample - 2 spare */

/* For each output pixel along one axis: the first source index it reads,
 * how many, and their fixed-point weights (ksize slots per output). */
typedef struct taps {
    int ksize;
    int *first;
    int *count;
    int32_t *weight;
} taps;

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Taps mapping the interval [in0, in1) of a source axis of in_size pixels
 * onto out_size pixels. */
static void make_taps(taps *t, int in_size, double in0, double in1, int out_size)
{
    double scale = (in1 - in0) / out_size;
    double fscale = scale < 1.0 ? 1.0 : scale; /* stretch the filter only when reducing */
    double support = fscale;                   /* the triangle's radius is 1 */
    double inv = 1.0 / fscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *tmp = ps_xmalloc(sizeof *tmp * (size_t)ksize);
    t->ksize = ksize;
    t->first = ps_xmalloc(sizeof *t->first * (size_t)out_size);
    t->count = ps_xmalloc(sizeof *t->count * (size_t)out_size);
    t->weight = ps_xcalloc((size_t)out_size * (size_t)ksize, sizeof *t->weight);
    for (int o = 0; o < out_size; o++) {
        double center = in0 + (o + 0.5) * scale;
        int lo = (int)(center - support + 0.5); /* truncation, then clamped */
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        if (hi <= lo) /* only for degenerate boxes: read the nearest pixel */
            hi = (lo = lo < in_size ? lo : in_size - 1) + 1;
        int n = hi - lo;
        double sum = 0.0;
        for (int k = 0; k < n; k++) {
            tmp[k] = triangle(((k + lo) - center + 0.5) * inv);
            sum += tmp[k];
        }
        int32_t *w = t->weight + (size_t)o * (size_t)ksize;
        for (int k = 0; k < n; k++) {
            double v = sum != 0.0 ? tmp[k] / sum : 0.0;
            double f = v * (double)(1 << WEIGHT_BITS);
            w[k] = (int32_t)(f < 0 ? f - 0.5 : f + 0.5);
        }
        t->first[o] = lo;
        t->count[o] = n;
    }
    free(tmp);
}

static void free_taps(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->weight);
}

static unsigned char clamp8(int64_t v)
{
    if (v <= 0)
        return 0;
    v >>= WEIGHT_BITS;
    return v > 255 ? 255 : (unsigned char)v;
}

/* out[o] = sum of weights * src[first + k], per channel; src pixels are
 * `step` bytes apart (3 along a row, 3*width down a column). */
static void convolve(const unsigned char *src, size_t step, const taps *t, int o,
                     unsigned char *dst)
{
    const int32_t *w = t->weight + (size_t)o * (size_t)t->ksize;
    const unsigned char *s = src + (size_t)t->first[o] * step;
    int64_t r = 1 << (WEIGHT_BITS - 1), g = r, b = r;
    for (int k = 0; k < t->count[o]; k++, s += step) {
        r += (int64_t)s[0] * w[k];
        g += (int64_t)s[1] * w[k];
        b += (int64_t)s[2] * w[k];
    }
    dst[0] = clamp8(r);
    dst[1] = clamp8(g);
    dst[2] = clamp8(b);
}

static void clamp_interval(double *a, double *b, int size)
{
    if (!(*a >= 0.0)) /* also catches NaN */
        *a = 0.0;
    if (!(*b <= size))
        *b = size;
    if (*a > size - 1)
        *a = size - 1;
    if (*b < *a + 1e-9)
        *b = *a + 1e-9;
}

void ps_image_resample(const ps_image *src, double x0, double y0, double x1, double y1,
                       int out_w, int out_h, unsigned char *out)
{
    if (out_w < 1 || out_h < 1 || !src->pixels || src->width < 1 || src->height < 1)
        return;
    clamp_interval(&x0, &x1, src->width);
    clamp_interval(&y0, &y1, src->height);
    /* The crop: whole pixels covering the box.  Taps stay inside it. */
    int cx = (int)floor(x0), cy = (int)floor(y0);
    int cw = (int)ceil(x1) - cx, chh = (int)ceil(y1) - cy;
    if (cx + cw > src->width)
        cw = src->width - cx;
    if (cy + chh > src->height)
        chh = src->height - cy;
    taps h, v;
    make_taps(&h, cw, x0 - cx, x1 - cx, out_w);
    make_taps(&v, chh, y0 - cy, y1 - cy, out_h);

    /* Horizontal pass over just the rows the vertical pass will read. */
    int row0 = v.first[0], row1 = v.first[out_h - 1] + v.count[out_h - 1];
    for (int o = 0; o < out_h; o++)
        v.first[o] -= row0;
    size_t src_stride = (size_t)src->width * 3, tmp_stride = (size_t)out_w * 3;
    unsigned char *tmp = ps_xmalloc(tmp_stride * (size_t)(row1 - row0));
    for (int y = row0; y < row1; y++) {
        const unsigned char *s = src->pixels + (size_t)(cy + y) * src_stride + (size_t)cx * 3;
        unsigned char *d = tmp + (size_t)(y - row0) * tmp_stride;
        for (int o = 0; o < out_w; o++)
            convolve(s, 3, &h, o, d + 3 * (size_t)o);
    }
    /* Vertical pass, column by column down the temporary rows. */
    for (int o = 0; o < out_h; o++) {
        unsigned char *d = out + (size_t)o * tmp_stride;
        for (int x = 0; x < out_w; x++)
            convolve(tmp + 3 * (size_t)x, tmp_stride, &v, o, d + 3 * (size_t)x);
    }
    free(tmp);
    free_taps(&h);
    free_taps(&v);
}

void ps_image_resize(const ps_image *src, int out_w, int out_h, ps_image *out)
{
    out->width = out_w;
    out->height = out_h;
    out->pixels = ps_xmalloc((size_t)out_w * (size_t)out_h * 3);
    ps_image_resample(src, 0, 0, src->width, src->height, out_w, out_h, out->pixels);
}

void ps_image_center_square(const ps_image *img, const ps_image_info *info, int size,
                            unsigned char *out)
{
    int fw = img->width, fh = img->height;
    double sx = 1.0, sy = 1.0;
    if (info && info->full_width > 0 && info->full_height > 0) {
        fw = info->full_width;
        fh = info->full_height;
        sx = info->scale_x;
        sy = info->scale_y;
    }
    int side = fw < fh ? fw : fh;
    int left = (fw - side) / 2, top = (fh - side) / 2;
    ps_image_resample(img, left * sx, top * sy, (left + side) * sx, (top + side) * sy, size, size,
                      out);
}

/* The decode options for a size x size square: the caller's (or the
 * defaults) with the PS_SQUARE_OVERSAMPLE margin unless it set its own. */
static void square_opts(const ps_decode_opts *opts, int size, ps_decode_opts *o)
{
    if (opts)
        *o = *opts;
    else
        ps_decode_opts_init(o);
    if (o->min_short_side <= 0)
        o->min_short_side = PS_SQUARE_OVERSAMPLE * size;
    o->min_long_side = 0;
}

int ps_image_decode_square(const void *data, size_t len, const char *name, int size,
                           const ps_decode_opts *opts, unsigned char *out, ps_error *err)
{
    ps_decode_opts o;
    square_opts(opts, size, &o);
    ps_image img;
    ps_image_info info;
    if (ps_image_decode(data, len, name, &o, &img, &info, err) != 0)
        return -1;
    ps_image_center_square(&img, &info, size, out);
    ps_image_free(&img);
    return 0;
}

int ps_image_load_square(const char *path, int size, const ps_decode_opts *opts,
                         unsigned char *out, ps_error *err)
{
    ps_decode_opts o;
    square_opts(opts, size, &o);
    ps_image img;
    ps_image_info info;
    if (ps_image_load(path, &o, &img, &info, err) != 0)
        return -1;
    ps_image_center_square(&img, &info, size, out);
    ps_image_free(&img);
    return 0;
}

void ps_image_thumbnail(const ps_image *src, int max_side, ps_image *out)
{
    int w = src->width, h = src->height, longest = w > h ? w : h;
    if (max_side < 1)
        max_side = 1;
    if (longest <= max_side) {
        size_t n = (size_t)w * (size_t)h * 3;
        out->width = w;
        out->height = h;
        out->pixels = ps_xmalloc(n);
        memcpy(out->pixels, src->pixels, n);
        return;
    }
    double f = (double)max_side / longest;
    int tw = w >= h ? max_side : (int)lround(w * f);
    int th = h >= w ? max_side : (int)lround(h * f);
    ps_image_resize(src, tw < 1 ? 1 : tw, th < 1 ? 1 : th, out);
}
