/*
 * photo.c - photo bytes to ps_features (see photo.h).
 */
#include "nn/photo.h"

#include <stdlib.h>

#include "core/buf.h"
#include "image/decode.h"
#include "image/resize.h"

#define SIDE_SMALL 224
#define SIDE_LARGE 513

static int from_image(const ps_extractor *x, ps_extractor_ws *w, const ps_image *img,
                      const ps_image_info *info, const char *name, ps_features *out,
                      ps_error *err)
{
    unsigned char *small = ps_xmalloc((size_t)SIDE_SMALL * SIDE_SMALL * 3);
    unsigned char *large = ps_xmalloc((size_t)SIDE_LARGE * SIDE_LARGE * 3);
    ps_image_center_square(img, info, SIDE_SMALL, small);
    ps_image_center_square(img, info, SIDE_LARGE, large);
    int rc = ps_extract(x, w, small, large, out, err);
    if (rc)
        ps_error_prefix(err, "%s", name);
    free(small);
    free(large);
    return rc;
}

static void decode_opts(ps_decode_opts *o)
{
    ps_decode_opts_init(o);
    o->min_short_side = PS_SQUARE_OVERSAMPLE * SIDE_LARGE;
}

int ps_photo_features(const ps_extractor *x, ps_extractor_ws *w, const void *data, size_t len,
                      const char *name, ps_features *out, ps_error *err)
{
    ps_decode_opts o;
    decode_opts(&o);
    ps_image img = {0};
    ps_image_info info;
    if (ps_image_decode(data, len, name, &o, &img, &info, err))
        return PS_PHOTO_UNREADABLE;
    int rc = from_image(x, w, &img, &info, name, out, err);
    ps_image_free(&img);
    return rc;
}

int ps_photo_features_file(const ps_extractor *x, ps_extractor_ws *w, const char *path,
                           ps_features *out, ps_error *err)
{
    ps_decode_opts o;
    decode_opts(&o);
    ps_image img = {0};
    ps_image_info info;
    if (ps_image_load(path, &o, &img, &info, err))
        return -1;
    int rc = from_image(x, w, &img, &info, path, out, err);
    ps_image_free(&img);
    return rc;
}
