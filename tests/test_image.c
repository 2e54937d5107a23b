/*
 * Tests for src/image: decoding (JPEG, PNG, WebP, EXIF orientation),
 * hostile and damaged files, resampling, thumbnails, the JPEG encoder, and
 * -- when ../shared is present -- every test photo of the dataset and the
 * golden model-input tensors.
 *
 * Every test image is generated here with libjpeg / libpng / libwebp (the
 * encoders), so expectations come from what was written, not from the
 * decoder under test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "core/buf.h"
#include "core/file.h"
#include "image/decode.h"
#include "image/encode.h"
#include "image/resize.h"
#include "test.h"

/* ---- test image generators ---------------------------------------------- */

/* A deterministic pseudo-random byte stream (noise that JPEG cannot
 * compress much, so file length tracks image rows). */
static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0xFF;
}

static unsigned char *gradient(int w, int h, int comps)
{
    unsigned char *p = ps_xmalloc((size_t)w * h * comps);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comps; c++)
                p[((size_t)y * w + x) * comps + c] =
                    (unsigned char)((c == 0 ? x * 255 / (w > 1 ? w - 1 : 1)
                                     : c == 1 ? y * 255 / (h > 1 ? h - 1 : 1)
                                              : (x + y) * 255 / (w + h)) & 0xFF);
    return p;
}

static unsigned char *noise(int w, int h, int comps, unsigned seed)
{
    unsigned char *p = ps_xmalloc((size_t)w * h * comps);
    for (size_t i = 0; i < (size_t)w * h * comps; i++)
        p[i] = (unsigned char)rnd(&seed);
    return p;
}

/* Four quadrants: red, green / blue, white (top-left, top-right / ...). */
static const unsigned char QUAD[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};

static unsigned char *quadrants(int w, int h)
{
    unsigned char *p = ps_xmalloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(p + ((size_t)y * w + x) * 3, QUAD[(y >= h / 2) * 2 + (x >= w / 2)], 3);
    return p;
}

typedef struct jpeg_spec {
    int w, h, comps;
    J_COLOR_SPACE in_cs, jpeg_cs; /* jpeg_cs JCS_UNKNOWN: libjpeg's default */
    int quality, progressive, no_adobe, yuv444;
} jpeg_spec;

static unsigned char *make_jpeg(const unsigned char *px, const jpeg_spec *s, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *mem = NULL;
    unsigned long mlen = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &mlen);
    c.image_width = (JDIMENSION)s->w;
    c.image_height = (JDIMENSION)s->h;
    c.input_components = s->comps;
    c.in_color_space = s->in_cs;
    jpeg_set_defaults(&c);
    if (s->jpeg_cs != JCS_UNKNOWN)
        jpeg_set_colorspace(&c, s->jpeg_cs);
    if (s->no_adobe)
        c.write_Adobe_marker = FALSE;
    jpeg_set_quality(&c, s->quality ? s->quality : 90, TRUE);
    if (s->progressive)
        jpeg_simple_progression(&c);
    if (s->yuv444)
        for (int i = 0; i < c.num_components; i++)
            c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)px + (size_t)c.next_scanline * s->w * s->comps;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = mlen;
    return mem;
}

static unsigned char *rgb_jpeg(const unsigned char *px, int w, int h, int quality, size_t *len)
{
    jpeg_spec s = {w, h, 3, JCS_RGB, JCS_UNKNOWN, quality, 0, 0, 0};
    return make_jpeg(px, &s, len);
}

/* TIFF-structured EXIF with a Make tag and the orientation tag in IFD0. */
static size_t make_exif(unsigned char *b, int orientation, int big)
{
    memset(b, 0, 64);
#define P16(o, v) (big ? (b[o] = (unsigned char)((v) >> 8), b[(o) + 1] = (unsigned char)(v)) \
                       : (b[o] = (unsigned char)(v), b[(o) + 1] = (unsigned char)((v) >> 8)))
#define P32(o, v) (big ? (P16(o, 0), P16((o) + 2, v)) : (P16(o, v), P16((o) + 2, 0)))
    memcpy(b, big ? "MM" : "II", 2);
    P16(2, 42);
    P32(4, 8);
    P16(8, 2);                      /* two entries */
    P16(10, 0x010F);                /* Make, ASCII, 6 bytes at offset 38 */
    P16(12, 2);
    P32(14, 6);
    P32(18, 38);
    P16(22, 0x0112);                /* Orientation, SHORT, 1 */
    P16(24, 3);
    P32(26, 1);
    P16(30, orientation);
    P32(34, 0);                     /* next IFD: none */
    memcpy(b + 38, "Test\0", 6);
#undef P16
#undef P32
    return 44;
}

/* Insert an APP1 "Exif" segment right after SOI. */
static unsigned char *jpeg_with_exif(const unsigned char *j, size_t len, int orientation, int big,
                                     size_t *out_len)
{
    unsigned char tiff[64];
    size_t n = make_exif(tiff, orientation, big);
    size_t seg = 2 + 6 + n; /* length field counts itself */
    unsigned char *o = ps_xmalloc(len + 2 + seg);
    memcpy(o, j, 2);
    o[2] = 0xFF;
    o[3] = 0xE1;
    o[4] = (unsigned char)(seg >> 8);
    o[5] = (unsigned char)seg;
    memcpy(o + 6, "Exif\0\0", 6);
    memcpy(o + 12, tiff, n);
    memcpy(o + 12 + n, j + 2, len - 2);
    *out_len = len + 2 + seg;
    return o;
}

typedef struct png_spec {
    int w, h, color_type, bit_depth, interlace;
    const png_color *palette;
    int npalette;
    const unsigned char *trns;
    int ntrns;
    const unsigned char *exif;
    int nexif;
} png_spec;

static void png_write_buf(png_structp png, png_bytep d, size_t n)
{
    ps_buf_append(png_get_io_ptr(png), d, n);
}

static void png_flush_buf(png_structp png)
{
    (void)png;
}

/* `rows`: the raw PNG row bytes (packed, 16-bit big-endian), tightly packed. */
static unsigned char *make_png(const unsigned char *rows, const png_spec *s, size_t *len)
{
    ps_buf b = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_set_write_fn(png, &b, png_write_buf, png_flush_buf);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->bit_depth, s->color_type,
                 s->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette)
        png_set_PLTE(png, info, s->palette, s->npalette);
    if (s->trns)
        png_set_tRNS(png, info, s->trns, s->ntrns, NULL);
    if (s->exif)
        png_set_eXIf_1(png, info, (png_uint_32)s->nexif, (png_bytep)s->exif);
    png_write_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    int passes = png_set_interlace_handling(png);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < s->h; y++)
            png_write_row(png, rows + (size_t)y * rowbytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *len = b.len;
    return (unsigned char *)ps_buf_steal(&b);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ---- comparison helpers --------------------------------------------------- */

static double mean_abs_diff(const unsigned char *a, const unsigned char *b, size_t n, int *max)
{
    double s = 0;
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs(a[i] - b[i]);
        s += d;
        if (d > m)
            m = d;
    }
    if (max)
        *max = m;
    return n ? s / (double)n : 0;
}

/* The colour in the middle of a quadrant (q: 0 TL, 1 TR, 2 BL, 3 BR). */
static const unsigned char *quad_pixel(const ps_image *img, int q)
{
    int x = (q & 1) ? img->width * 3 / 4 : img->width / 4;
    int y = (q & 2) ? img->height * 3 / 4 : img->height / 4;
    return img->pixels + ((size_t)y * img->width + x) * 3;
}

static int near_color(const unsigned char *p, const unsigned char *c, int tol)
{
    return abs(p[0] - c[0]) <= tol && abs(p[1] - c[1]) <= tol && abs(p[2] - c[2]) <= tol;
}

static ps_decode_opts opts_none(void)
{
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.reduce = PS_REDUCE_NONE;
    return o;
}

/* ---- JPEG ------------------------------------------------------------------- */

TEST(jpeg_sizes_and_qualities_round_trip)
{
    int sizes[][2] = {{1, 1}, {7, 5}, {64, 48}, {300, 200}, {1000, 10}, {17, 333}};
    int qualities[] = {50, 95};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int q = 0; q < 2; q++) {
            int w = sizes[i][0], h = sizes[i][1];
            unsigned char *px = gradient(w, h, 3);
            size_t len;
            /* 4:4:4 for the tiny steep gradients: 4:2:0 would blur them
             * in the encoder, which is not what is under test. */
            jpeg_spec sp = {w, h, 3, JCS_RGB, JCS_UNKNOWN, qualities[q], 0, 0, w < 16 || h < 16};
            unsigned char *j = make_jpeg(px, &sp, &len);
            ps_image img;
            ps_image_info info;
            ps_error err;
            int rc = ps_image_decode(j, len, "g.jpg", NULL, &img, &info, &err);
            CHECK_INT(rc, 0);
            if (rc == 0) {
                CHECK_INT(img.width, w);
                CHECK_INT(img.height, h);
                CHECK_INT(info.format, PS_IMAGE_JPEG);
                CHECK_INT(info.partial, 0);
                CHECK_STR(info.warning, "");
                double d = mean_abs_diff(img.pixels, px, (size_t)w * h * 3, NULL);
                if (!(d < (qualities[q] == 95 ? 3.0 : 8.0)))
                    fprintf(stderr, "%dx%d q%d: mean difference %.2f\n", w, h, qualities[q], d);
                CHECK(d < (qualities[q] == 95 ? 3.0 : 8.0));
            }
            ps_image_free(&img);
            free(j);
            free(px);
        }
    }
}

TEST(jpeg_dct_reduction_picks_largest_reduction)
{
    int w = 800, h = 600;
    unsigned char *px = gradient(w, h, 3);
    size_t len;
    unsigned char *j = rgb_jpeg(px, w, h, 90, &len);
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    ps_image img, full;
    ps_image_info info;
    ps_error err;

    /* 600 * M/8 >= 224 first holds for M = 3: 225 rows, ceil(800*3/8) = 300. */
    o.min_short_side = 224;
    CHECK_INT(ps_image_decode(j, len, "r.jpg", &o, &img, &info, &err), 0);
    CHECK_INT(img.width, 300);
    CHECK_INT(img.height, 225);
    CHECK_NEAR(info.scale_x, 3.0 / 8, 1e-12);
    CHECK_INT(info.file_width, 800);
    CHECK_INT(info.full_height, 600);
    /* The reduced decode shows the same picture as a full decode resized. */
    ps_decode_opts n = opts_none();
    CHECK_INT(ps_image_decode(j, len, "r.jpg", &n, &full, NULL, &err), 0);
    ps_image small;
    ps_image_resize(&full, 300, 225, &small);
    CHECK(mean_abs_diff(small.pixels, img.pixels, 300 * 225 * 3, NULL) < 2.0);
    ps_image_free(&small);
    ps_image_free(&full);
    ps_image_free(&img);

    /* Powers of two only: 1/2 keeps 300 >= 224, 1/4 would give 150. */
    o.reduce = PS_REDUCE_POW2;
    CHECK_INT(ps_image_decode(j, len, "r.jpg", &o, &img, &info, &err), 0);
    CHECK_INT(img.width, 400);
    CHECK_INT(img.height, 300);
    ps_image_free(&img);

    /* Long-side minimum (thumbnails): 800*M/8 >= 100 -> M = 1 (100x75). */
    o.reduce = PS_REDUCE_EIGHTHS;
    o.min_short_side = 0;
    o.min_long_side = 100;
    CHECK_INT(ps_image_decode(j, len, "r.jpg", &o, &img, &info, &err), 0);
    CHECK_INT(img.width, 100);
    CHECK_INT(img.height, 75);
    ps_image_free(&img);

    /* A minimum larger than the photo: full size. */
    o.min_long_side = 0;
    o.min_short_side = 5000;
    CHECK_INT(ps_image_decode(j, len, "r.jpg", &o, &img, &info, &err), 0);
    CHECK_INT(img.width, 800);
    CHECK_NEAR(info.scale_y, 1.0, 0);
    ps_image_free(&img);
    free(j);
    free(px);
}

TEST(jpeg_grayscale_becomes_rgb)
{
    int w = 40, h = 30;
    unsigned char *px = gradient(w, h, 1);
    jpeg_spec s = {w, h, 1, JCS_GRAYSCALE, JCS_UNKNOWN, 95, 0, 0, 0};
    size_t len;
    unsigned char *j = make_jpeg(px, &s, &len);
    ps_image img;
    ps_error err;
    CHECK_INT(ps_image_decode(j, len, "gray.jpg", NULL, &img, NULL, &err), 0);
    CHECK_INT(img.width, w);
    int same = 1, close = 1;
    for (int i = 0; i < w * h; i++) {
        const unsigned char *p = img.pixels + 3 * i;
        same &= p[0] == p[1] && p[1] == p[2];
        close &= abs(p[0] - px[i]) <= 6;
    }
    CHECK(same);
    CHECK(close);
    ps_image_free(&img);
    free(j);
    free(px);
}

/* Patches of ink (C, M, Y, K as amounts 0..255) and the RGB they show. */
static const unsigned char INK[4][4] = {
    {255, 0, 0, 0}, {0, 255, 255, 0}, {0, 0, 0, 128}, {0, 0, 255, 0}};
static const unsigned char INK_RGB[4][3] = {{0, 255, 255}, {255, 0, 0}, {127, 127, 127}, {255, 255, 0}};

static void check_cmyk(J_COLOR_SPACE jpeg_cs, int adobe)
{
    int w = 64, h = 16;
    unsigned char *px = ps_xmalloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 4; c++) {
                unsigned char ink = INK[x / 16][c];
                /* Adobe (Photoshop) files store 255 - ink. */
                px[((size_t)y * w + x) * 4 + c] = adobe ? (unsigned char)(255 - ink) : ink;
            }
    jpeg_spec s = {w, h, 4, JCS_CMYK, jpeg_cs, 100, 0, !adobe, 0};
    size_t len;
    unsigned char *j = make_jpeg(px, &s, &len);
    ps_image img;
    ps_error err;
    CHECK_INT(ps_image_decode(j, len, "cmyk.jpg", NULL, &img, NULL, &err), 0);
    for (int k = 0; k < 4 && img.pixels; k++) {
        const unsigned char *p = img.pixels + ((size_t)8 * w + k * 16 + 8) * 3;
        if (!near_color(p, INK_RGB[k], 8)) {
            fprintf(stderr, "cmyk cs %d adobe %d patch %d: got %d,%d,%d\n", jpeg_cs, adobe, k,
                    p[0], p[1], p[2]);
            CHECK(0);
        }
    }
    ps_image_free(&img);
    free(j);
    free(px);
}

TEST(jpeg_cmyk_and_ycck)
{
    check_cmyk(JCS_CMYK, 1);
    check_cmyk(JCS_YCCK, 1);
    check_cmyk(JCS_CMYK, 0);
}

/* Where the four stored quadrants (R G / B W) appear once displayed, per
 * the EXIF spec's meaning of each orientation value: displayed TL, TR, BL,
 * BR as indices into QUAD. */
static const int SHOWN[9][4] = {
    {0, 0, 0, 0},
    {0, 1, 2, 3}, /* 1 normal */
    {1, 0, 3, 2}, /* 2 mirrored left-right */
    {3, 2, 1, 0}, /* 3 rotated 180 */
    {2, 3, 0, 1}, /* 4 mirrored top-bottom */
    {0, 2, 1, 3}, /* 5 transposed */
    {2, 0, 3, 1}, /* 6 rotate 90 clockwise to view */
    {3, 1, 2, 0}, /* 7 transversed */
    {1, 3, 0, 2}, /* 8 rotate 90 counter-clockwise to view */
};

static void check_shown(const ps_image *img, int o, int sw, int sh, const char *what)
{
    int swap = o >= 5;
    CHECK_INT(img->width, swap ? sh : sw);
    CHECK_INT(img->height, swap ? sw : sh);
    for (int q = 0; q < 4 && img->pixels; q++) {
        const unsigned char *p = quad_pixel(img, q);
        const unsigned char *want = QUAD[SHOWN[o][q]];
        if (!near_color(p, want, 40)) {
            fprintf(stderr, "%s orientation %d quadrant %d: got %d,%d,%d want %d,%d,%d\n", what,
                    o, q, p[0], p[1], p[2], want[0], want[1], want[2]);
            CHECK(0);
        }
    }
}

TEST(jpeg_exif_orientation_1_to_8)
{
    int w = 64, h = 48;
    unsigned char *px = quadrants(w, h);
    size_t len;
    unsigned char *j = rgb_jpeg(px, w, h, 95, &len);
    for (int big = 0; big < 2; big++) {
        for (int o = 1; o <= 8; o++) {
            size_t elen;
            unsigned char *e = jpeg_with_exif(j, len, o, big, &elen);
            ps_image img;
            ps_image_info info;
            ps_error err;
            CHECK_INT(ps_image_decode(e, elen, "o.jpg", NULL, &img, &info, &err), 0);
            CHECK_INT(info.orientation, o);
            CHECK_INT(info.full_width, o >= 5 ? h : w);
            check_shown(&img, o, w, h, big ? "jpeg MM" : "jpeg II");
            ps_image_free(&img);
            free(e);
        }
    }
    free(j);
    free(px);
}

TEST(exif_orientation_in_reduced_decode_and_square)
{
    /* 800x400 stored, orientation 6: shown 400 wide, 800 tall.  The square
     * crop must come from the middle of the displayed (tall) picture. */
    int w = 800, h = 400;
    unsigned char *px = ps_xmalloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            /* stored columns: left quarter red, middle half green, right quarter blue */
            const unsigned char *c = x < 200 ? QUAD[0] : x < 600 ? QUAD[1] : QUAD[2];
            memcpy(px + ((size_t)y * w + x) * 3, c, 3);
        }
    size_t len, elen;
    unsigned char *j = rgb_jpeg(px, w, h, 95, &len);
    unsigned char *e = jpeg_with_exif(j, len, 6, 0, &elen);
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.min_short_side = 100; /* -> 2/8: 200x100 stored, 100x200 shown */
    ps_image img;
    ps_image_info info;
    ps_error err;
    CHECK_INT(ps_image_decode(e, elen, "r6.jpg", &o, &img, &info, &err), 0);
    CHECK_INT(img.width, 100);
    CHECK_INT(img.height, 200);
    CHECK_INT(info.full_width, 400);
    CHECK_INT(info.full_height, 800);
    unsigned char sq[32 * 32 * 3];
    ps_image_center_square(&img, &info, 32, sq);
    /* Shown picture: rotated clockwise, stored left (red) is now the top;
     * the centred square lies entirely in the green middle. */
    int all_green = 1;
    for (int i = 0; i < 32 * 32; i++)
        all_green &= near_color(sq + 3 * i, QUAD[1], 40);
    CHECK(all_green);
    const unsigned char *top = img.pixels + (5 * (size_t)img.width + 50) * 3;
    CHECK(near_color(top, QUAD[0], 40));
    ps_image_free(&img);
    free(e);
    free(j);
    free(px);
}

TEST(exif_parser_rejects_malformed_blocks)
{
    unsigned char b[64], c[70];
    size_t n = make_exif(b, 6, 0);
    CHECK_INT(ps_exif_orientation(b, n), 6);
    memcpy(c, "Exif\0\0", 6);
    memcpy(c + 6, b, n);
    CHECK_INT(ps_exif_orientation(c, n + 6), 6);
    /* Every truncation: never a read past the end (ASan), and the value is
     * only found once the entry is complete. */
    for (size_t k = 0; k < n; k++) {
        int v = ps_exif_orientation(b, k);
        CHECK(v == 0 || (v == 6 && k >= 34));
    }
    CHECK_INT(ps_exif_orientation(NULL, 0), 0);
    unsigned char bad[64];
    memcpy(bad, b, n);
    bad[4] = 0xF0; /* IFD offset far beyond the end */
    CHECK_INT(ps_exif_orientation(bad, n), 0);
    memcpy(bad, b, n);
    bad[8] = 0xFF;
    bad[9] = 0xFF; /* 65535 entries claimed */
    CHECK_INT(ps_exif_orientation(bad, n), 6);
    memcpy(bad, b, n);
    bad[30] = 9; /* not an orientation */
    CHECK_INT(ps_exif_orientation(bad, n), 0);
    memcpy(bad, b, n);
    bad[2] = 43; /* not TIFF */
    CHECK_INT(ps_exif_orientation(bad, n), 0);
    memcpy(bad, b, n);
    bad[0] = 'X';
    CHECK_INT(ps_exif_orientation(bad, n), 0);
    memcpy(bad, b, n);
    bad[24] = 4; /* LONG instead of SHORT: tolerated */
    CHECK_INT(ps_exif_orientation(bad, n), 6);
    memcpy(bad, b, n);
    bad[24] = 2; /* ASCII: rejected */
    CHECK_INT(ps_exif_orientation(bad, n), 0);
    n = make_exif(b, 3, 1);
    CHECK_INT(ps_exif_orientation(b, n), 3);
}

/* ---- PNG --------------------------------------------------------------------- */

TEST(png_rgb_rgba_gray_palette_16bit_interlaced)
{
    ps_error err;
    ps_image img;
    size_t len;
    int w = 9, h = 7;

    /* 8-bit RGB, plain and interlaced: exact. */
    unsigned char *rgb = gradient(w, h, 3);
    for (int il = 0; il < 2; il++) {
        png_spec s = {w, h, PNG_COLOR_TYPE_RGB, 8, il ? PNG_INTERLACE_ADAM7 : 0, 0, 0, 0, 0, 0, 0};
        unsigned char *p = make_png(rgb, &s, &len);
        CHECK_INT(ps_image_decode(p, len, "rgb.png", NULL, &img, NULL, &err), 0);
        CHECK_INT(img.width, w);
        CHECK(img.pixels && memcmp(img.pixels, rgb, (size_t)w * h * 3) == 0);
        ps_image_free(&img);
        free(p);
    }
    free(rgb);

    /* RGBA, plain and interlaced: composited over white. */
    unsigned char rgba[4 * 4] = {0, 0, 0, 0, 255, 0, 0, 128, 10, 20, 30, 255, 0, 0, 255, 64};
    const unsigned char want_rgba[4][3] = {{255, 255, 255}, {255, 127, 127}, {10, 20, 30},
                                           {191, 191, 255}};
    for (int il = 0; il < 2; il++) {
        png_spec s = {4, 1, PNG_COLOR_TYPE_RGBA, 8, il ? PNG_INTERLACE_ADAM7 : 0, 0, 0, 0, 0, 0, 0};
        unsigned char *p = make_png(rgba, &s, &len);
        CHECK_INT(ps_image_decode(p, len, "rgba.png", NULL, &img, NULL, &err), 0);
        for (int i = 0; i < 4 && img.pixels; i++)
            CHECK(near_color(img.pixels + 3 * i, want_rgba[i], 1));
        ps_image_free(&img);
        free(p);
    }

    /* Gray at 1, 2, 4, 8, 16 bits: a row of black then white. */
    int depths[] = {1, 2, 4, 8, 16};
    for (int d = 0; d < 5; d++) {
        int bd = depths[d];
        unsigned char row[4] = {0, 0, 0, 0};
        /* pixel 0 black, pixel 1 white (max value) */
        if (bd == 16) {
            row[2] = 0xFF;
            row[3] = 0xFF;
        } else if (bd == 8) {
            row[1] = 0xFF;
        } else {
            row[0] = (unsigned char)(((1 << bd) - 1) << (8 - 2 * bd));
        }
        png_spec s = {2, 1, PNG_COLOR_TYPE_GRAY, bd, 0, 0, 0, 0, 0, 0, 0};
        unsigned char *p = make_png(row, &s, &len);
        CHECK_INT(ps_image_decode(p, len, "gray.png", NULL, &img, NULL, &err), 0);
        static const unsigned char black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
        CHECK(img.pixels && near_color(img.pixels, black, 0) && near_color(img.pixels + 3, white, 0));
        ps_image_free(&img);
        free(p);
    }

    /* Gray + alpha (8-bit): 100 at alpha 0 -> white; 100 at 255 -> 100. */
    unsigned char ga[4] = {100, 0, 100, 255};
    png_spec sga = {2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0, 0, 0, 0, 0, 0};
    unsigned char *p = make_png(ga, &sga, &len);
    CHECK_INT(ps_image_decode(p, len, "ga.png", NULL, &img, NULL, &err), 0);
    static const unsigned char white[3] = {255, 255, 255}, g100[3] = {100, 100, 100};
    CHECK(img.pixels && near_color(img.pixels, white, 0) && near_color(img.pixels + 3, g100, 0));
    ps_image_free(&img);
    free(p);

    /* 16-bit RGB: 0x1234 -> round(4660 * 255 / 65535) = 18; 0xFFFF -> 255. */
    unsigned char r16[12] = {0x12, 0x34, 0xFF, 0xFF, 0x00, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF};
    png_spec s16 = {2, 1, PNG_COLOR_TYPE_RGB, 16, 0, 0, 0, 0, 0, 0, 0};
    p = make_png(r16, &s16, &len);
    CHECK_INT(ps_image_decode(p, len, "rgb16.png", NULL, &img, NULL, &err), 0);
    const unsigned char want16[6] = {18, 255, 0, 128, 1, 255};
    CHECK(img.pixels && memcmp(img.pixels, want16, 6) == 0);
    ps_image_free(&img);
    free(p);

    /* Palette (4-bit) with a transparent entry. */
    png_color pal[3] = {{255, 0, 0}, {0, 0, 0}, {0, 128, 0}};
    unsigned char trns[2] = {255, 0}; /* entry 1 fully transparent */
    unsigned char idx[2] = {0x01, 0x20}; /* pixels 0,1,2,0 at 4 bits */
    png_spec sp = {4, 1, PNG_COLOR_TYPE_PALETTE, 4, 0, pal, 3, trns, 2, 0, 0};
    p = make_png(idx, &sp, &len);
    CHECK_INT(ps_image_decode(p, len, "pal.png", NULL, &img, NULL, &err), 0);
    const unsigned char wantp[12] = {255, 0, 0, 255, 255, 255, 0, 128, 0, 255, 0, 0};
    CHECK(img.pixels && memcmp(img.pixels, wantp, 12) == 0);
    ps_image_free(&img);
    free(p);
}

TEST(png_exif_orientation)
{
    int w = 40, h = 20;
    unsigned char *px = quadrants(w, h);
    unsigned char tiff[64];
    size_t n = make_exif(tiff, 8, 1);
    png_spec s = {w, h, PNG_COLOR_TYPE_RGB, 8, 0, 0, 0, 0, 0, tiff, (int)n};
    size_t len;
    unsigned char *p = make_png(px, &s, &len);
    ps_image img;
    ps_image_info info;
    ps_error err;
    CHECK_INT(ps_image_decode(p, len, "o.png", NULL, &img, &info, &err), 0);
    CHECK_INT(info.orientation, 8);
    check_shown(&img, 8, w, h, "png");
    ps_image_free(&img);
    free(p);
    free(px);
}

/* ---- WebP -------------------------------------------------------------------- */

/* Wrap a simple WebP (RIFF/WEBP/one image chunk) in an extended container
 * with an EXIF chunk. */
static unsigned char *webp_with_exif(const unsigned char *wp, size_t len, int w, int h,
                                     const unsigned char *exif, size_t nexif, size_t *out_len)
{
    size_t body = len - 12, total = 12 + 18 + body + 8 + nexif + (nexif & 1);
    unsigned char *o = ps_xcalloc(1, total);
    memcpy(o, "RIFF", 4);
    uint32_t riff = (uint32_t)(total - 8);
    for (int i = 0; i < 4; i++)
        o[4 + i] = (unsigned char)(riff >> (8 * i));
    memcpy(o + 8, "WEBPVP8X", 8);
    o[16] = 10;
    o[20] = 0x08; /* flags: EXIF present */
    for (int i = 0; i < 3; i++) {
        o[24 + i] = (unsigned char)((w - 1) >> (8 * i));
        o[27 + i] = (unsigned char)((h - 1) >> (8 * i));
    }
    memcpy(o + 30, wp + 12, body);
    unsigned char *e = o + 30 + body;
    memcpy(e, "EXIF", 4);
    for (int i = 0; i < 4; i++)
        e[4 + i] = (unsigned char)(nexif >> (8 * i));
    memcpy(e + 8, exif, nexif);
    *out_len = total;
    return o;
}

TEST(webp_lossy_lossless_alpha_scaling_exif)
{
    ps_error err;
    ps_image img;
    ps_image_info info;
    int w = 64, h = 48;
    unsigned char *px = gradient(w, h, 3);
    uint8_t *out = NULL;

    size_t len = WebPEncodeRGB(px, w, h, w * 3, 90, &out);
    CHECK(len > 0);
    CHECK_INT(ps_image_decode(out, len, "lossy.webp", NULL, &img, &info, &err), 0);
    CHECK_INT(info.format, PS_IMAGE_WEBP);
    CHECK_INT(img.width, w);
    CHECK(img.pixels && mean_abs_diff(img.pixels, px, (size_t)w * h * 3, NULL) < 4.0);
    ps_image_free(&img);

    /* Reduced decode via libwebp's scaler: 48*M/8 >= 20 -> M = 4. */
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.min_short_side = 20;
    CHECK_INT(ps_image_decode(out, len, "lossy.webp", &o, &img, &info, &err), 0);
    CHECK_INT(img.width, 32);
    CHECK_INT(img.height, 24);
    CHECK_NEAR(info.scale_x, 0.5, 1e-12);
    ps_image_free(&img);
    WebPFree(out);

    len = WebPEncodeLosslessRGB(px, w, h, w * 3, &out);
    CHECK_INT(ps_image_decode(out, len, "ll.webp", NULL, &img, NULL, &err), 0);
    CHECK(img.pixels && memcmp(img.pixels, px, (size_t)w * h * 3) == 0);
    ps_image_free(&img);
    WebPFree(out);

    unsigned char rgba[4 * 4] = {0, 0, 0, 0, 255, 0, 0, 128, 10, 20, 30, 255, 0, 0, 255, 64};
    const unsigned char want[4][3] = {{255, 255, 255}, {255, 127, 127}, {10, 20, 30},
                                      {191, 191, 255}};
    len = WebPEncodeLosslessRGBA(rgba, 4, 1, 16, &out);
    CHECK_INT(ps_image_decode(out, len, "a.webp", NULL, &img, NULL, &err), 0);
    for (int i = 0; i < 4 && img.pixels; i++)
        CHECK(near_color(img.pixels + 3 * i, want[i], 1));
    ps_image_free(&img);
    WebPFree(out);

    unsigned char *q = quadrants(w, h);
    len = WebPEncodeLosslessRGB(q, w, h, w * 3, &out);
    for (int orient = 1; orient <= 8; orient++) {
        unsigned char tiff[64];
        size_t n = make_exif(tiff, orient, orient & 1);
        size_t elen;
        unsigned char *e = webp_with_exif(out, len, w, h, tiff, n, &elen);
        int rc = ps_image_decode(e, elen, "o.webp", NULL, &img, &info, &err);
        CHECK_INT(rc, 0);
        if (rc != 0)
            fprintf(stderr, "%s\n", err.msg);
        CHECK_INT(info.orientation, orient);
        check_shown(&img, orient, w, h, "webp");
        ps_image_free(&img);
        free(e);
    }
    WebPFree(out);
    free(q);
    free(px);
}

/* ---- hostile and damaged input -------------------------------------------- */

TEST(not_images_give_exact_messages)
{
    ps_error err;
    ps_image img;
    char want[1024];

    const char *p = test_write_tmp("empty.jpg", "", 0);
    CHECK_INT(ps_image_load(p, NULL, &img, NULL, &err), -1);
    snprintf(want, sizeof want, "%s: file is empty (0 bytes), not an image", p);
    CHECK_STR(err.msg, want);
    CHECK(img.pixels == NULL);

    p = test_write_tmp("notes.jpg", "hello world, not a photo\n", 25);
    CHECK_INT(ps_image_load(p, NULL, &img, NULL, &err), -1);
    snprintf(want, sizeof want,
             "%s: not a JPEG, PNG or WebP image (it starts with bytes 68 65 6c 6c 6f 20 77 6f)", p);
    CHECK_STR(err.msg, want);

    unsigned char ds[6148] = {0, 0, 0, 1, 'B', 'u', 'd', '1', 0, 0, 0x10, 0};
    p = test_write_tmp(".DS_Store", ds, sizeof ds);
    CHECK_INT(ps_image_load(p, NULL, &img, NULL, &err), -1);
    snprintf(want, sizeof want,
             "%s: not a JPEG, PNG or WebP image (it starts with bytes 00 00 00 01 42 75 64 31)", p);
    CHECK_STR(err.msg, want);

    CHECK_INT(ps_image_decode("GIF89a\1\0\1\0", 10, "anim.gif", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "anim.gif: GIF images are not supported (picseek reads JPEG, PNG and WebP)");
    CHECK_INT(ps_image_decode("\0\0\0\x18" "ftypheic\0\0\0\0", 16, "IMG_1.HEIC", NULL, &img, NULL,
                              &err), -1);
    CHECK_STR(err.msg,
              "IMG_1.HEIC: HEIF/HEIC images are not supported (picseek reads JPEG, PNG and WebP)");
    CHECK_INT(ps_image_decode("\xFF\xD8", 2, "two.jpg", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "two.jpg: not a JPEG, PNG or WebP image (it starts with bytes ff d8)");

    /* A JPEG signature followed by garbage. */
    unsigned char junk[64];
    unsigned s = 7;
    for (int i = 0; i < 64; i++)
        junk[i] = (unsigned char)rnd(&s);
    junk[0] = 0xFF;
    junk[1] = 0xD8;
    junk[2] = 0xFF;
    junk[3] = 0x01;
    CHECK_INT(ps_image_decode(junk, sizeof junk, "junk.jpg", NULL, &img, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "junk.jpg: ");
    CHECK_CONTAINS(err.msg, "JPEG");

    /* Missing and oversized files. */
    CHECK_INT(ps_image_load("/nonexistent/x.jpg", NULL, &img, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.jpg: cannot open");
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.max_file_bytes = 100;
    p = test_write_tmp("big.bin", ds, sizeof ds);
    CHECK_INT(ps_image_load(p, &o, &img, NULL, &err), -1);
    snprintf(want, sizeof want, "%s: file is 6148 bytes, more than the limit of 100", p);
    CHECK_STR(err.msg, want);
}

/* Patch the first SOF marker's height/width fields. */
static void patch_sof(unsigned char *j, size_t len, unsigned w, unsigned h)
{
    for (size_t i = 2; i + 9 < len; i++) {
        if (j[i] == 0xFF && (j[i + 1] == 0xC0 || j[i + 1] == 0xC2)) {
            j[i + 5] = (unsigned char)(h >> 8);
            j[i + 6] = (unsigned char)h;
            j[i + 7] = (unsigned char)(w >> 8);
            j[i + 8] = (unsigned char)w;
            return;
        }
    }
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

TEST(huge_headers_are_refused_before_allocating)
{
    long rss0 = max_rss_kb();
    ps_error err;
    ps_image img;
    unsigned char *px = gradient(16, 16, 3);
    size_t len;
    unsigned char *j = rgb_jpeg(px, 16, 16, 90, &len);

    /* 65500x65500 is the largest libjpeg accepts (the SOF field could say
     * 65535; libjpeg refuses that itself). */
    patch_sof(j, len, 65500, 65500);
    CHECK_INT(ps_image_decode(j, len, "huge.jpg", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "huge.jpg: image is 65500x65500 pixels, more than the limit of 256 megapixels");
    patch_sof(j, len, 65535, 65535);
    CHECK_INT(ps_image_decode(j, len, "huge.jpg", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "huge.jpg: invalid JPEG data: Maximum supported image dimension is 65500 pixels");

    /* 15000x15000 = 225 MP: under the header limit, over the decoded limit
     * at full size ... */
    patch_sof(j, len, 15000, 15000);
    CHECK_INT(ps_image_decode(j, len, "big.jpg", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "big.jpg: image is 15000x15000 pixels, more than the limit of 64 megapixels");
    /* ... and reduced to 5/8 still too big ... */
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.min_short_side = 8500;
    CHECK_INT(ps_image_decode(j, len, "big.jpg", &o, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "big.jpg: image is 15000x15000 pixels, and even reduced to 9375x9375 it is "
                       "more than the limit of 64 megapixels");
    /* ... while at 1/8 it is allowed, and the 16x16 worth of data then
     * ends at once: refused as truncated, quickly and without the 675 MB a
     * full-size buffer would take. */
    o.min_short_side = 224;
    CHECK_INT(ps_image_decode(j, len, "big.jpg", &o, &img, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "big.jpg: JPEG file is ");
    CHECK_CONTAINS(err.msg, "only the top 0% of the image could be decoded");
    free(j);

    /* PNG IHDR claiming 100000x100000, with a valid CRC and a tiny IDAT. */
    unsigned char png[8 + 25 + 12 + 12];
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    unsigned char *c = png + 8;
    put32be(c, 13);
    memcpy(c + 4, "IHDR", 4);
    put32be(c + 8, 100000);
    put32be(c + 12, 100000);
    c[16] = 8;  /* bit depth */
    c[17] = 2;  /* RGB */
    c[18] = c[19] = c[20] = 0;
    put32be(c + 21, crc32_of(c + 4, 17));
    c += 25;
    put32be(c, 0);
    memcpy(c + 4, "IDAT", 4);
    put32be(c + 8, crc32_of(c + 4, 4));
    c += 12;
    put32be(c, 0);
    memcpy(c + 4, "IEND", 4);
    put32be(c + 8, crc32_of(c + 4, 4));
    CHECK_INT(ps_image_decode(png, sizeof png, "huge.png", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg,
              "huge.png: image is 100000x100000 pixels, more than the limit of 256 megapixels");

    /* WebP lossless header claiming 16384x16384 (the format's maximum). */
    unsigned char wp[30] = {'R', 'I', 'F', 'F', 22, 0, 0, 0, 'W', 'E', 'B', 'P',
                            'V', 'P', '8', 'L', 10, 0, 0, 0, 0x2F};
    uint32_t bits = 16383u | 16383u << 14; /* width-1, height-1; no alpha, version 0 */
    for (int i = 0; i < 4; i++)
        wp[21 + i] = (unsigned char)(bits >> (8 * i));
    CHECK_INT(ps_image_decode(wp, sizeof wp, "huge.webp", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg,
              "huge.webp: image is 16384x16384 pixels, more than the limit of 256 megapixels");

    free(px);
    /* Nothing above allocated anything like the sizes claimed. */
    CHECK(max_rss_kb() - rss0 < 200 * 1024);
}

TEST(png_decompression_bomb_is_bounded)
{
    /* 3000x3000 of zeros: 9 MB of pixels from a file of a few KB. */
    int w = 3000, h = 3000;
    unsigned char *zeros = ps_xcalloc((size_t)w * h, 1);
    png_spec s = {w, h, PNG_COLOR_TYPE_GRAY, 8, 0, 0, 0, 0, 0, 0, 0};
    size_t len;
    unsigned char *p = make_png(zeros, &s, &len);
    free(zeros);
    CHECK(len < 64 * 1024);
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.max_pixels = 4000000;
    ps_image img;
    ps_error err;
    CHECK_INT(ps_image_decode(p, len, "bomb.png", &o, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "bomb.png: image is 3000x3000 pixels, more than the limit of 4 megapixels");
    /* Within the default limits it decodes, to exactly what was written. */
    CHECK_INT(ps_image_decode(p, len, "bomb.png", NULL, &img, NULL, &err), 0);
    CHECK_INT(img.width, w);
    int black = img.pixels != NULL;
    for (size_t i = 0; black && i < (size_t)w * h * 3; i += 4099)
        black = img.pixels[i] == 0;
    CHECK(black);
    ps_image_free(&img);
    free(p);
}

/* Decode every prefix length (in steps) of a file: never a crash, every
 * failure is a sentence naming the file, and every success of a cut file is
 * flagged partial. */
static void truncation_sweep(const unsigned char *data, size_t len, const char *name,
                             int *n_ok, int *n_err)
{
    size_t step = len / 150 ? len / 150 : 1;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s: ", name);
    for (size_t l = 0; l < len; l += (l < 64 ? 1 : step)) {
        unsigned char *cut = ps_xmalloc(l ? l : 1); /* exact size: ASan sees overreads */
        memcpy(cut, data, l);
        ps_image img;
        ps_image_info info;
        ps_error err;
        err.msg[0] = '\0';
        int rc = ps_image_decode(cut, l, name, NULL, &img, &info, &err);
        if (rc == 0) {
            (*n_ok)++;
            if (!info.partial) {
                /* only acceptable if just the very end (EOI/IEND) is missing */
                CHECK(l + 32 >= len);
            } else {
                CHECK(info.warning[0] != '\0');
            }
            CHECK(img.pixels != NULL);
        } else {
            (*n_err)++;
            CHECK(strncmp(err.msg, prefix, strlen(prefix)) == 0);
            CHECK(strlen(err.msg) > strlen(prefix) + 10);
            CHECK(img.pixels == NULL);
        }
        ps_image_free(&img);
        free(cut);
    }
}

TEST(truncated_files_at_many_lengths)
{
    int w = 256, h = 192, ok, bad;
    unsigned char *px = noise(w, h, 3, 42);
    size_t len;

    unsigned char *j = rgb_jpeg(px, w, h, 90, &len);
    ok = bad = 0;
    truncation_sweep(j, len, "cut.jpg", &ok, &bad);
    CHECK(ok > 20 && bad > 20);
    /* 90% of the bytes: most rows are there -> accepted, flagged. */
    ps_image img;
    ps_image_info info;
    ps_error err;
    CHECK_INT(ps_image_decode(j, len * 9 / 10, "cut.jpg", NULL, &img, &info, &err), 0);
    CHECK_INT(info.partial, 1);
    CHECK_CONTAINS(info.warning, "Premature end of JPEG file");
    CHECK_CONTAINS(info.warning, "of the image is filler");
    /* The top rows are what a full decode gives, the bottom rows gray. */
    ps_image full;
    CHECK_INT(ps_image_decode(j, len, "cut.jpg", NULL, &full, NULL, &err), 0);
    CHECK(memcmp(img.pixels, full.pixels, (size_t)w * (h / 2) * 3) == 0);
    ps_image_free(&full);
    const unsigned char *last = img.pixels + ((size_t)(h - 1) * w + w / 2) * 3;
    static const unsigned char gray[3] = {128, 128, 128};
    CHECK(near_color(last, gray, 2));
    ps_image_free(&img);
    /* 30%: refused. */
    CHECK_INT(ps_image_decode(j, len * 3 / 10, "cut.jpg", NULL, &img, &info, &err), -1);
    CHECK_CONTAINS(err.msg, "cut.jpg: JPEG file is truncated: only the top ");
    CHECK_CONTAINS(err.msg, "(Premature end of JPEG file)");
    free(j);

    jpeg_spec ps = {w, h, 3, JCS_RGB, JCS_UNKNOWN, 90, 1, 0, 0};
    j = make_jpeg(px, &ps, &len);
    ok = bad = 0;
    truncation_sweep(j, len, "prog.jpg", &ok, &bad);
    CHECK(ok > 20 && bad > 20);
    CHECK_INT(ps_image_decode(j, 400, "prog.jpg", NULL, &img, &info, &err), -1);
    CHECK_CONTAINS(err.msg, "prog.jpg: JPEG file is truncated");
    free(j);

    for (int il = 0; il < 2; il++) {
        png_spec s = {w, h, PNG_COLOR_TYPE_RGB, 8, il ? PNG_INTERLACE_ADAM7 : 0, 0, 0, 0, 0, 0, 0};
        unsigned char *p = make_png(px, &s, &len);
        ok = bad = 0;
        truncation_sweep(p, len, il ? "cut-interlaced.png" : "cut.png", &ok, &bad);
        CHECK(bad > 20);
        if (!il) {
            CHECK(ok > 20);
            CHECK_INT(ps_image_decode(p, len * 9 / 10, "cut.png", NULL, &img, &info, &err), 0);
            CHECK_INT(info.partial, 1);
            CHECK_CONTAINS(info.warning, "PNG file is truncated");
            CHECK(memcmp(img.pixels, px, (size_t)w * 100 * 3) == 0);
            ps_image_free(&img);
            CHECK_INT(ps_image_decode(p, len / 4, "cut.png", NULL, &img, &info, &err), -1);
            CHECK_CONTAINS(err.msg, "cut.png: PNG file is truncated: only the top ");
        } else {
            CHECK_INT(ps_image_decode(p, len * 9 / 10, "cut-i.png", NULL, &img, &info, &err), -1);
            CHECK_CONTAINS(err.msg, "cut-i.png: interlaced PNG file is truncated, no usable image");
        }
        /* Missing IEND only: the whole image is there. */
        CHECK_INT(ps_image_decode(p, len - 12, "noiend.png", NULL, &img, &info, &err), 0);
        CHECK_INT(info.partial, 0);
        CHECK(img.pixels && memcmp(img.pixels, px, (size_t)w * h * 3) == 0);
        ps_image_free(&img);
        free(p);
    }

    uint8_t *wp = NULL;
    len = WebPEncodeRGB(px, w, h, w * 3, 80, &wp);
    ok = bad = 0;
    truncation_sweep(wp, len, "cut.webp", &ok, &bad);
    CHECK(bad > 100);
    CHECK_INT(ps_image_decode(wp, len / 2, "cut.webp", NULL, &img, &info, &err), -1);
    CHECK_STR(err.msg, "cut.webp: WebP file is truncated (not enough data)");
    WebPFree(wp);
    free(px);
}

TEST(corrupt_bytes_never_crash)
{
    /* Flip bytes all over valid files; any outcome but a crash is fine,
     * and failures must still name the file. */
    int w = 48, h = 32;
    unsigned char *px = noise(w, h, 3, 9);
    size_t lens[3];
    unsigned char *files[3];
    files[0] = rgb_jpeg(px, w, h, 80, &lens[0]);
    png_spec s = {w, h, PNG_COLOR_TYPE_RGB, 8, 0, 0, 0, 0, 0, 0, 0};
    files[1] = make_png(px, &s, &lens[1]);
    uint8_t *wp = NULL;
    lens[2] = WebPEncodeRGB(px, w, h, w * 3, 80, &wp);
    files[2] = wp;
    unsigned seed = 1;
    for (int f = 0; f < 3; f++) {
        for (int trial = 0; trial < 150; trial++) {
            unsigned char *c = ps_xmalloc(lens[f]);
            memcpy(c, files[f], lens[f]);
            int flips = 1 + (int)(rnd(&seed) % 8);
            for (int k = 0; k < flips; k++) {
                size_t at = ((size_t)rnd(&seed) << 8 | rnd(&seed)) % lens[f];
                c[at] = (unsigned char)rnd(&seed);
            }
            ps_image img;
            ps_error err;
            if (ps_image_decode(c, lens[f], "flip", NULL, &img, NULL, &err) != 0)
                CHECK(strncmp(err.msg, "flip: ", 6) == 0);
            ps_image_free(&img);
            free(c);
        }
    }
    free(files[0]);
    free(files[1]);
    WebPFree(wp);
    free(px);
}

TEST(jpeg_resource_limits_and_harmless_warnings)
{
    ps_error err;
    ps_image img;
    ps_image_info info;
    int w = 600, h = 400;
    unsigned char *px = gradient(w, h, 3);
    size_t len;
    jpeg_spec sp = {w, h, 3, JCS_RGB, JCS_UNKNOWN, 80, 1, 0, 0};
    unsigned char *j = make_jpeg(px, &sp, &len);

    /* A progressive JPEG keeps all coefficients: 600x400 needs ~1 MB. */
    ps_decode_opts o = opts_none();
    o.max_codec_memory = 512 << 10;
    CHECK_INT(ps_image_decode(j, len, "p.jpg", &o, &img, NULL, &err), -1);
    CHECK_STR(err.msg,
              "p.jpg: decoding this JPEG needs more than the limit of 0.5 MiB of working memory");
    CHECK_INT(ps_image_decode(j, len, "p.jpg", NULL, &img, NULL, &err), 0);
    ps_image_free(&img);

    /* The last scan repeated 600 times: refused by the scan limit rather
     * than decoded for ever (a known CPU-exhaustion trick). */
    size_t last_sos = 0;
    for (size_t i = 2; i + 1 < len; i++)
        if (j[i] == 0xFF && j[i + 1] == 0xDA)
            last_sos = i;
    CHECK(last_sos > 0);
    size_t scan = len - 2 - last_sos; /* the scan without EOI */
    size_t blen = last_sos + 600 * scan + 2;
    unsigned char *bomb = ps_xmalloc(blen);
    memcpy(bomb, j, last_sos);
    for (int k = 0; k < 600; k++)
        memcpy(bomb + last_sos + k * scan, j + last_sos, scan);
    memcpy(bomb + blen - 2, "\xFF\xD9", 2);
    CHECK_INT(ps_image_decode(bomb, blen, "scans.jpg", NULL, &img, NULL, &err), -1);
    CHECK_STR(err.msg, "scans.jpg: JPEG file has more than 500 scans");
    free(bomb);
    free(j);

    /* Junk between two segments (here before SOS): libjpeg warns and
     * skips it; the image is complete, so it is not partial. */
    j = rgb_jpeg(px, w, h, 80, &len);
    size_t sos = 0;
    for (size_t i = 2; i + 1 < len && !sos; i++)
        if (j[i] == 0xFF && j[i + 1] == 0xDA)
            sos = i;
    unsigned char *junk = ps_xmalloc(len + 5);
    memcpy(junk, j, sos);
    memcpy(junk + sos, "\x01\x02\x03\x04\x05", 5);
    memcpy(junk + sos + 5, j + sos, len - sos);
    CHECK_INT(ps_image_decode(junk, len + 5, "junk.jpg", NULL, &img, &info, &err), 0);
    CHECK_INT(info.partial, 0);
    CHECK_CONTAINS(info.warning, "extraneous bytes before marker");
    ps_image_free(&img);
    free(junk);
    free(j);
    free(px);
}

/* ---- resampling ------------------------------------------------------------ */

/* An independent, direct implementation of the triangle filter: 2-D,
 * floating point, no intermediate rounding. */
static double ref_weight(double x, double support)
{
    x = fabs(x) / support;
    return x < 1 ? 1 - x : 0;
}

static void ref_resample(const ps_image *src, int x0, int y0, int cw, int ch, int ow, int oh,
                         double *out)
{
    double sx = (double)cw / ow, sy = (double)ch / oh;
    double rx = sx > 1 ? sx : 1, ry = sy > 1 ? sy : 1;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            double cx = (ox + 0.5) * sx, cy = (oy + 0.5) * sy, acc[3] = {0, 0, 0}, wsum = 0;
            for (int y = 0; y < ch; y++) {
                double wy = ref_weight(y + 0.5 - cy, ry);
                if (wy == 0)
                    continue;
                for (int x = 0; x < cw; x++) {
                    double wgt = wy * ref_weight(x + 0.5 - cx, rx);
                    const unsigned char *p =
                        src->pixels + ((size_t)(y0 + y) * src->width + x0 + x) * 3;
                    for (int c = 0; c < 3; c++)
                        acc[c] += wgt * p[c];
                    wsum += wgt;
                }
            }
            for (int c = 0; c < 3; c++)
                out[((size_t)oy * ow + ox) * 3 + c] = acc[c] / wsum;
        }
}

TEST(resample_matches_direct_triangle_filter)
{
    ps_image src = {97, 61, noise(97, 61, 3, 5)};
    int cases[][6] = {
        {0, 0, 97, 61, 23, 17},   /* reduce ~4x */
        {18, 0, 61, 61, 32, 32},  /* centre square, reduce ~2x */
        {18, 0, 61, 61, 100, 100}, /* centre square, enlarge */
        {5, 7, 30, 20, 30, 20},   /* same size: identity */
        {0, 0, 97, 61, 97, 3},    /* one axis only */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int *c = cases[k];
        size_t n = (size_t)c[4] * c[5] * 3;
        unsigned char *got = ps_xmalloc(n);
        double *want = ps_xmalloc(n * sizeof *want);
        ps_image_resample(&src, c[0], c[1], c[0] + c[2], c[1] + c[3], c[4], c[5], got);
        ref_resample(&src, c[0], c[1], c[2], c[3], c[4], c[5], want);
        double worst = 0;
        for (size_t i = 0; i < n; i++)
            worst = fmax(worst, fabs(got[i] - want[i]));
        if (worst > 1.0)
            fprintf(stderr, "resample case %zu: worst difference %.3f\n", k, worst);
        CHECK(worst <= 1.0);
        if (c[2] == c[4] && c[3] == c[5]) { /* identity is exact */
            int same = 1;
            for (int y = 0; y < c[5]; y++)
                same &= memcmp(got + (size_t)y * c[4] * 3,
                               src.pixels + ((size_t)(c[1] + y) * 97 + c[0]) * 3,
                               (size_t)c[4] * 3) == 0;
            CHECK(same);
        }
        free(got);
        free(want);
    }
    ps_image_free(&src);
}

TEST(resample_is_antialiased_not_point_sampled)
{
    /* One white column in four: 4x reduction must average to ~255/4.
     * (2x2 bilinear sampling at the output centres would read only the
     * black columns between and give 0.) */
    int w = 400, h = 8;
    ps_image src = {w, h, ps_xcalloc((size_t)w * h * 3, 1)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x += 4)
            memset(src.pixels + ((size_t)y * w + x) * 3, 255, 3);
    ps_image out;
    ps_image_resize(&src, w / 4, h, &out);
    int ok = 1;
    for (int i = 3; i < w / 4 - 3; i++)
        ok &= abs(out.pixels[(size_t)(4 * w / 4 + i) * 3] - 64) <= 2;
    CHECK(ok);
    ps_image_free(&out);
    ps_image_free(&src);

    /* A flat colour stays exactly flat at any scale. */
    ps_image flat = {300, 200, ps_xmalloc(300 * 200 * 3)};
    for (int i = 0; i < 300 * 200; i++)
        memcpy(flat.pixels + 3 * i, "\x0a\xc8\x1e", 3);
    unsigned char sq[224 * 224 * 3];
    ps_image_center_square(&flat, NULL, 224, sq);
    int same = 1;
    for (int i = 0; i < 224 * 224; i++)
        same &= memcmp(sq + 3 * i, "\x0a\xc8\x1e", 3) == 0;
    CHECK(same);
    ps_image_free(&flat);
}

TEST(center_square_takes_the_middle)
{
    /* 300x200 with a distinct value per column: the 200x200 square is
     * columns 50..249 exactly (left = (300-200)/2). */
    ps_image src = {300, 200, ps_xmalloc(300 * 200 * 3)};
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 300; x++) {
            unsigned char *p = src.pixels + ((size_t)y * 300 + x) * 3;
            p[0] = (unsigned char)x;
            p[1] = (unsigned char)(x >> 8);
            p[2] = (unsigned char)y;
        }
    unsigned char *sq = ps_xmalloc(200 * 200 * 3);
    ps_image_center_square(&src, NULL, 200, sq);
    CHECK_INT(sq[0] + 256 * sq[1], 50);
    CHECK_INT(sq[(199) * 3] + 256 * sq[199 * 3 + 1], 249);
    CHECK_INT(sq[(199 * 200) * 3 + 2], 199);
    /* Odd difference rounds down, as the reference tensors were cut:
     * 301 wide -> left = 50. */
    free(sq);
    ps_image_free(&src);
}

TEST(thumbnail_fits_and_keeps_aspect)
{
    ps_image src = {1000, 500, gradient(1000, 500, 3)}, t;
    ps_image_thumbnail(&src, 256, &t);
    CHECK_INT(t.width, 256);
    CHECK_INT(t.height, 128);
    ps_image_free(&t);
    ps_image_free(&src);
    src = (ps_image){500, 1000, gradient(500, 1000, 3)};
    ps_image_thumbnail(&src, 256, &t);
    CHECK_INT(t.width, 128);
    CHECK_INT(t.height, 256);
    ps_image_free(&t);
    ps_image_free(&src);
    src = (ps_image){3, 1000, gradient(3, 1000, 3)};
    ps_image_thumbnail(&src, 256, &t);
    CHECK_INT(t.width, 1);
    CHECK_INT(t.height, 256);
    ps_image_free(&t);
    ps_image_free(&src);
    src = (ps_image){100, 50, gradient(100, 50, 3)};
    ps_image_thumbnail(&src, 256, &t); /* already fits: unchanged copy */
    CHECK_INT(t.width, 100);
    CHECK(t.pixels != src.pixels && memcmp(t.pixels, src.pixels, 100 * 50 * 3) == 0);
    ps_image_free(&t);
    ps_image_free(&src);
}

TEST(jpeg_encoder_and_thumbnail_file)
{
    int w = 800, h = 600;
    ps_image src = {w, h, gradient(w, h, 3)};
    unsigned char *jpg = NULL;
    size_t len = 0;
    ps_error err;
    CHECK_INT(ps_jpeg_encode(&src, 90, &jpg, &len, &err), 0);
    CHECK(len > 100 && jpg[0] == 0xFF && jpg[1] == 0xD8);
    ps_image back;
    CHECK_INT(ps_image_decode(jpg, len, "enc.jpg", NULL, &back, NULL, &err), 0);
    CHECK_INT(back.width, w);
    CHECK(mean_abs_diff(back.pixels, src.pixels, (size_t)w * h * 3, NULL) < 3.0);
    ps_image_free(&back);

    const char *path = test_write_tmp("thumbsrc.jpg", jpg, len);
    free(jpg);
    CHECK_INT(ps_image_thumbnail_jpeg(path, 160, 80, NULL, &jpg, &len, &err), 0);
    CHECK_INT(ps_image_decode(jpg, len, "thumb.jpg", NULL, &back, NULL, &err), 0);
    CHECK_INT(back.width, 160);
    CHECK_INT(back.height, 120);
    /* Same picture: compare with our own resize of the source. */
    ps_image small;
    ps_image_resize(&src, 160, 120, &small);
    CHECK(mean_abs_diff(back.pixels, small.pixels, 160 * 120 * 3, NULL) < 4.0);
    ps_image_free(&small);
    ps_image_free(&back);
    free(jpg);

    ps_image bad = {0, 0, NULL};
    CHECK_INT(ps_jpeg_encode(&bad, 90, &jpg, &len, &err), -1);
    CHECK_STR(err.msg, "cannot encode a 0x0 image as JPEG");
    CHECK_INT(ps_image_thumbnail_jpeg("/nonexistent.jpg", 160, 80, NULL, &jpg, &len, &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent.jpg: cannot open");
    ps_image_free(&src);
}

/* ---- the dataset and the golden tensors (need ../shared) ------------------ */

static char *shared_path(const char *a, const char *b)
{
    const char *s = test_shared_dir();
    if (!s)
        return NULL;
    char *d = ps_path_join(s, a);
    char *p = ps_path_join(d, b);
    free(d);
    return p;
}

TEST(decodes_every_test_photo)
{
    char *dir = shared_path("dataset", "test_images");
    if (!dir || !ps_is_dir(dir)) {
        free(dir);
        SKIP("no ../shared/dataset/test_images");
    }
    DIR *d = opendir(dir);
    struct dirent *e;
    int photos = 0, failures = 0;
    unsigned char *sq = ps_xmalloc(224 * 224 * 3);
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || e->d_name[1] == '.'))
            continue;
        char *p = ps_path_join(dir, e->d_name);
        ps_error err;
        int rc = ps_image_load_square(p, 224, NULL, sq, &err);
        if (strcmp(e->d_name, ".DS_Store") == 0) {
            CHECK_INT(rc, -1); /* macOS folder metadata: refused, by content */
            CHECK_CONTAINS(err.msg, "not a JPEG, PNG or WebP image");
        } else {
            photos++;
            if (rc != 0) {
                fprintf(stderr, "%s\n", err.msg);
                failures++;
            }
        }
        free(p);
    }
    closedir(d);
    free(sq);
    free(dir);
    fprintf(stderr, "decoded %d test photos, %d failures\n", photos, failures);
    CHECK(photos >= 100);
    CHECK_INT(failures, 0);
}

/* Compare our tensors with the golden NAME.in of one model folder. */
static void golden_folder(const char *model, int size, double tol_default)
{
    char *gdir = shared_path("golden", model);
    char *manifest = gdir ? ps_path_join(gdir, "MANIFEST.txt") : NULL;
    ps_error err;
    size_t mlen;
    char *m = manifest ? ps_read_file(manifest, 1 << 20, &mlen, &err) : NULL;
    if (!m) {
        free(gdir);
        free(manifest);
        SKIP("no golden tensors in ../shared/golden");
    }
    size_t n = (size_t)size * size * 3;
    unsigned char *t = ps_xmalloc(n);
    int count = 0;
    for (char *line = strtok(m, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "image ", 6) != 0)
            continue;
        const char *name = line + 6;
        char *photo = shared_path("dataset/test_images", name);
        if (!ps_is_file(photo)) {
            free(photo);
            photo = shared_path("dataset/train_images", name);
        }
        char gname[512];
        snprintf(gname, sizeof gname, "%.*s.in", (int)(strlen(name) - 4), name);
        char *gpath = ps_path_join(gdir, gname);
        size_t glen = 0;
        unsigned char *g = (unsigned char *)ps_read_file(gpath, 1 << 24, &glen, &err);
        CHECK(g != NULL);
        CHECK_INT(glen, n);
        if (g && glen == n) {
            /* default: 2x margin; none: full-size decode; tight: reduce
             * until the shorter side is just >= size (any M/8) */
            const char *modes[3] = {"default", "no reduction", "tight M/8"};
            double mean[3];
            int max[3];
            for (int k = 0; k < 3; k++) {
                ps_decode_opts o;
                ps_decode_opts_init(&o);
                if (k == 1)
                    o.reduce = PS_REDUCE_NONE;
                if (k == 2)
                    o.min_short_side = size;
                int rc = ps_image_load_square(photo, size, &o, t, &err);
                CHECK_INT(rc, 0);
                mean[k] = rc == 0 ? mean_abs_diff(t, g, n, &max[k]) : 999;
            }
            printf("golden %s %s: %s mean %.4f max %d; %s mean %.4f max %d; %s mean %.4f max %d\n",
                   model, name, modes[0], mean[0], max[0], modes[1], mean[1], max[1], modes[2],
                   mean[2], max[2]);
            CHECK(mean[0] < tol_default);
            CHECK(mean[1] < tol_default);
            CHECK(mean[2] < 4.0); /* documented: 1.4..3.0 on these photos */
            count++;
        }
        free(g);
        free(gpath);
        free(photo);
    }
    CHECK(count >= 3);
    free(t);
    free(m);
    free(manifest);
    free(gdir);
}

/* Tolerance: mean absolute difference < 2.0 grey levels per value.  On
 * the reference machine the default path is bit-exact (0.0, max 0): PIL
 * decoded with the same libjpeg-turbo ISLOW IDCT and our filter follows
 * PIL's arithmetic.  Another libjpeg build (or PIL version) could differ
 * by rounding only, hence the tolerance rather than equality. */
TEST(golden_mobilenet_224_tensors)
{
    golden_folder("mobilenet_v2_1.0_224_quant", 224, 2.0);
}

TEST(golden_deeplab_513_tensors)
{
    golden_folder("deeplabv3_mnv2_pascal_quant", 513, 2.0);
}

int main(void)
{
    RUN(jpeg_sizes_and_qualities_round_trip);
    RUN(jpeg_dct_reduction_picks_largest_reduction);
    RUN(jpeg_grayscale_becomes_rgb);
    RUN(jpeg_cmyk_and_ycck);
    RUN(jpeg_exif_orientation_1_to_8);
    RUN(exif_orientation_in_reduced_decode_and_square);
    RUN(exif_parser_rejects_malformed_blocks);
    RUN(png_rgb_rgba_gray_palette_16bit_interlaced);
    RUN(png_exif_orientation);
    RUN(webp_lossy_lossless_alpha_scaling_exif);
    RUN(not_images_give_exact_messages);
    RUN(huge_headers_are_refused_before_allocating);
    RUN(png_decompression_bomb_is_bounded);
    RUN(truncated_files_at_many_lengths);
    RUN(corrupt_bytes_never_crash);
    RUN(jpeg_resource_limits_and_harmless_warnings);
    RUN(resample_matches_direct_triangle_filter);
    RUN(resample_is_antialiased_not_point_sampled);
    RUN(center_square_takes_the_middle);
    RUN(thumbnail_fits_and_keeps_aspect);
    RUN(jpeg_encoder_and_thumbnail_file);
    RUN(decodes_every_test_photo);
    RUN(golden_mobilenet_224_tensors);
    RUN(golden_deeplab_513_tensors);
    return test_summary();
}
