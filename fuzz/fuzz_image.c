/*
 * fuzz_image.c - libFuzzer target: bytes -> decode -> crop/resize/thumbnail.
 *
 *   CC=clang cmake -S . -B build-fuzz -DPICSEEK_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_image
 *   ./build-fuzz/fuzz_image -max_total_time=600 -timeout=10 fuzz/corpus/image
 *
 * The input length picks the path (so the first bytes stay a valid
 * signature for the format sniffer): reduced decode + 224 square, full
 * decode + small square, power-of-two reduction + thumbnail + JPEG encode,
 * or a 513 square.  Limits are lowered so a single input can neither take
 * long nor approach libFuzzer's RSS limit.  Besides crashes and sanitizer
 * reports, the target traps on broken promises of the API: a success must
 * give pixels and a sane orientation, a partial image must say why, a
 * failure must leave no pixels and name the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/decode.h"
#include "image/encode.h"
#include "image/resize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.max_pixels = 4000000;
    o.max_header_pixels = 64000000;
    o.max_codec_memory = (size_t)256 << 20;
    int mode = (int)(size % 4), square = 0;
    switch (mode) {
    case 0: o.min_short_side = 2 * 224; square = 224; break;
    case 1: o.reduce = PS_REDUCE_NONE; square = 32; break;
    case 2: o.reduce = PS_REDUCE_POW2; o.min_long_side = 64; break;
    default: o.min_short_side = 513; square = 513; break;
    }
    (void)ps_exif_orientation(data, size);

    ps_image img;
    ps_image_info info;
    ps_error err;
    err.msg[0] = '\0';
    if (ps_image_decode(data, size, "fuzz", &o, &img, &info, &err) != 0) {
        if (img.pixels || strncmp(err.msg, "fuzz: ", 6) != 0)
            __builtin_trap();
        return 0;
    }
    if (!img.pixels || img.width < 1 || img.height < 1 || info.orientation < 1 ||
        info.orientation > 8 || (info.partial && !info.warning[0]) ||
        (uint64_t)img.width * (uint64_t)img.height > o.max_pixels)
        __builtin_trap();
    if (square) {
        unsigned char *t = malloc((size_t)square * square * 3);
        ps_image_center_square(&img, &info, square, t);
        free(t);
    } else {
        ps_image thumb;
        ps_image_thumbnail(&img, 64, &thumb);
        unsigned char *jpg = NULL;
        size_t len = 0;
        if (ps_jpeg_encode(&thumb, 75, &jpg, &len, &err) != 0)
            __builtin_trap();
        free(jpg);
        ps_image_free(&thumb);
    }
    ps_image_free(&img);
    return 0;
}
