/*
 * bench_image.c - decode + center-square resize time per photo, with and
 * without JPEG DCT reduction.  Not part of the ctest suite (timings are
 * never asserted); build and run by hand:
 *
 *   cmake -S . -B build && cmake --build build
 *   cc -O2 -Isrc bench/bench_image.c build/libpicseek_lib.a \
 *      $(pkg-config --libs libjpeg libpng libwebp) -lm -o build/bench_image
 *   ./build/bench_image ../shared/dataset/test_images [repeats]
 *
 * For every photo (dotfiles skipped) and each mode it takes the best of
 * `repeats` runs of ps_image_load_square (file read + decode + crop +
 * resize), then prints the mean and median over photos.  Last, the cost the
 * colour shares add to feature extraction (image/color.h): both regions of
 * the 513-pixel square, as nn/extract does.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/buf.h"
#include "core/file.h"
#include "image/color.h"
#include "image/decode.h"
#include "image/resize.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_image DIR [repeats]\n");
        return 2;
    }
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    DIR *d = opendir(argv[1]);
    if (!d) {
        perror(argv[1]);
        return 1;
    }
    char **paths = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        paths = ps_xrealloc(paths, sizeof *paths * (size_t)(n + 1));
        paths[n++] = ps_path_join(argv[1], e->d_name);
    }
    closedir(d);
    struct {
        const char *name;
        ps_reduce_mode reduce;
        int tight; /* min_short_side = size instead of the 2x default */
    } modes[] = {{"no DCT reduction", PS_REDUCE_NONE, 0},
                 {"default (2x margin)", PS_REDUCE_EIGHTHS, 0},
                 {"tight M/8 (>= size)", PS_REDUCE_EIGHTHS, 1}};
    int sizes[] = {224, 513};
    double *t = ps_xmalloc(sizeof *t * (size_t)(n ? n : 1));
    unsigned char *out = ps_xmalloc(513 * 513 * 3);
    for (int si = 0; si < 2; si++) {
        for (int mi = 0; mi < 3; mi++) {
            ps_decode_opts o;
            ps_decode_opts_init(&o);
            o.reduce = modes[mi].reduce;
            o.min_short_side = modes[mi].tight ? sizes[si] : 0;
            double sum = 0;
            int ok = 0;
            for (int i = 0; i < n; i++) {
                double best = 1e9;
                for (int r = 0; r < repeats; r++) {
                    ps_error err;
                    double t0 = bench_now();
                    int rc = ps_image_load_square(paths[i], sizes[si], &o, out, &err);
                    double dt = bench_now() - t0;
                    if (rc != 0) {
                        fprintf(stderr, "%s\n", err.msg);
                        best = -1;
                        break;
                    }
                    if (dt < best)
                        best = dt;
                }
                if (best >= 0) {
                    t[ok++] = best;
                    sum += best;
                }
            }
            qsort(t, (size_t)ok, sizeof *t, bench_cmp_double);
            printf("%3d px  %-20s photos %3d  mean %6.2f ms  median %6.2f ms  total %7.1f ms\n",
                   sizes[si], modes[mi].name, ok, ok ? sum / ok * 1e3 : 0,
                   ok ? t[ok / 2] * 1e3 : 0, sum * 1e3);
        }
    }
    /* Colour shares of all pixels and of a half selected (a stand-in for
     * DeepLab's foreground), best of `repeats`. */
    unsigned char *sel = ps_xmalloc(513 * 513);
    for (int i = 0; i < 513 * 513; i++)
        sel[i] = (unsigned char)(i % 513 >= 256);
    double sum = 0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        ps_error err;
        if (ps_image_load_square(paths[i], 513, NULL, out, &err) != 0)
            continue;
        double best = 1e9;
        for (int r = 0; r < repeats; r++) {
            float shares[2][PS_COLORS];
            double t0 = bench_now();
            ps_color_shares(out, 513 * 513, sel, shares[0], shares[1]);
            double dt = bench_now() - t0;
            if (dt < best)
                best = dt;
        }
        t[ok++] = best;
        sum += best;
    }
    qsort(t, (size_t)ok, sizeof *t, bench_cmp_double);
    printf("513 px  colour shares (2 regions) photos %3d  mean %6.2f ms  median %6.2f ms\n", ok,
           ok ? sum / ok * 1e3 : 0, ok ? t[ok / 2] * 1e3 : 0);
    free(sel);
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    free(t);
    free(out);
    return 0;
}
