/*
 * webp.c - WebP decoding with libwebp (lossy, lossless, alpha).
 *
 * libwebp never exits or aborts on bad data; it returns a status code.
 * Reduction uses libwebp's own scaler (it decodes row by row into the
 * reduced output, so our buffer is the reduced size).  Lossless images are
 * held at full size inside libwebp whatever the output size, so for them
 * the decoded-pixel limit applies to the full size.  The output buffer is
 * ours (external memory), allocated only after the size checks.  Animated
 * WebP is refused.  EXIF orientation comes from the RIFF "EXIF" chunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>

#include "core/buf.h"
#include "core/le.h"
#include "image/codec.h"

static const char *status_text(VP8StatusCode st)
{
    switch (st) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data";
    default: return "unknown error";
    }
}

static int status_error(const char *name, VP8StatusCode st, ps_error *err)
{
    if (st == VP8_STATUS_NOT_ENOUGH_DATA)
        return ps_errorf(err, "%s: WebP file is truncated (not enough data)", name);
    return ps_errorf(err, "%s: invalid WebP data: %s", name, status_text(st));
}

/* Walk the RIFF chunks (FourCC, u32 little-endian size, payload padded to
 * even length) for an "EXIF" chunk; every size is checked against the data. */
static int webp_orientation(const unsigned char *p, size_t len)
{
    if (len < 12)
        return 0;
    size_t riff = (size_t)ps_le32(p + 4);
    if (riff <= len - 8)
        len = riff + 8;
    size_t off = 12;
    while (off <= len && len - off >= 8) {
        size_t n = (size_t)ps_le32(p + off + 4);
        if (n > len - off - 8)
            break;
        if (memcmp(p + off, "EXIF", 4) == 0)
            return ps_exif_orientation(p + off + 8, n);
        off += 8 + n + (n & 1);
    }
    return 0;
}

int ps_webp_decode(const unsigned char *data, size_t len, const char *name,
                   const ps_decode_opts *o, ps_image *out, ps_image_info *info, ps_error *err)
{
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(data, len, &f);
    if (st != VP8_STATUS_OK)
        return status_error(name, st, err);
    if (f.has_animation)
        return ps_errorf(err, "%s: animated WebP images are not supported", name);
    unsigned w = (unsigned)f.width, h = (unsigned)f.height;
    int m = ps_pick_eighths(w, h, o);
    unsigned dw = (w * (unsigned)m + 7) / 8, dh = (h * (unsigned)m + 7) / 8;
    int lossless = f.format == 2;
    if (ps_check_image_size(name, w, h, lossless ? w : dw, lossless ? h : dh, o, err) != 0)
        return -1;

    int ch = f.has_alpha ? 4 : 3;
    size_t size = (size_t)dw * dh * (size_t)ch;
    unsigned char *buf = ps_xmalloc(size);
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg)) {
        free(buf);
        return ps_errorf(err, "%s: WebP library version mismatch", name);
    }
    if (m < 8) {
        cfg.options.use_scaling = 1;
        cfg.options.scaled_width = (int)dw;
        cfg.options.scaled_height = (int)dh;
    }
    cfg.output.colorspace = f.has_alpha ? MODE_RGBA : MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = buf;
    cfg.output.u.RGBA.stride = (int)(dw * (unsigned)ch);
    cfg.output.u.RGBA.size = size;
    st = WebPDecode(data, len, &cfg);
    WebPFreeDecBuffer(&cfg.output);
    if (st != VP8_STATUS_OK) {
        free(buf);
        return status_error(name, st, err);
    }
    if (f.has_alpha) {
        unsigned char *rgb = ps_xmalloc((size_t)dw * dh * 3);
        ps_rgba_over_white(rgb, buf, (size_t)dw * dh);
        free(buf);
        buf = rgb;
    }
    out->pixels = buf;
    out->width = (int)dw;
    out->height = (int)dh;
    info->file_width = (int)w;
    info->file_height = (int)h;
    /* libwebp's scaler maps the full width exactly onto dw pixels. */
    info->scale_x = (double)dw / w;
    info->scale_y = (double)dh / h;
    info->orientation = webp_orientation(data, len);
    return 0;
}
