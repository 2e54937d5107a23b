/*
 * bench_e2e - photos per second, end to end (read + decode + crop/resize +
 * model), over a folder of photos, for each picseek model alone and for
 * all three together; and the arithmetic limit of this CPU for each model.
 *
 * usage: bench_e2e [--threads N] [--limit N] PHOTO_DIR
 * Prints one JSON object per line (see docs/PERFORMANCE.md).
 *
 * The arithmetic limit: a model's multiply-accumulates per photo (counted
 * from its CONV_2D and DEPTHWISE_CONV_2D operators) against the peak of
 * this CPU's AVX2 units at the clock in /proc/cpuinfo:
 *   - int16 multiply-add (vpmaddwd, what TFLite-exact uint8 arithmetic
 *     needs since zero points make the operands 9-bit): 16 MACs/instruction,
 *     2 per cycle -> 32 MACs/cycle/core;
 *   - fp32 FMA (what a float framework uses): 8 MACs/instruction, 2 per
 *     cycle -> 16 MACs/cycle/core.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/buf.h"
#include "core/file.h"
#include "image/decode.h"
#include "image/resize.h"
#include "nn/interp.h"
#include "nn/models.h"
#include "nn/tflite.h"

static double cpu_mhz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    double mhz = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
            break;
    if (f)
        fclose(f);
    return mhz;
}

/* MACs of one inference, from the convolution operators' shapes. */
static double model_macs(const ps_model *m)
{
    const ps_tfl_model *t = ps_nn_model_tfl(ps_model_net(m));
    double macs = 0;
    for (int i = 0; i < t->nops; i++) {
        const ps_tfl_op *op = &t->ops[i];
        if (op->code != PS_TFL_OP_CONV_2D && op->code != PS_TFL_OP_DEPTHWISE_CONV_2D)
            continue;
        const ps_tfl_tensor *out = &t->tensors[op->outputs[0]];
        const ps_tfl_tensor *w = &t->tensors[op->inputs[1]];
        /* out: NHWC; conv filter: O,KH,KW,I; depthwise filter: 1,KH,KW,O. */
        double per_out = (double)w->dims[1] * w->dims[2];
        if (op->code == PS_TFL_OP_CONV_2D)
            per_out *= w->dims[3];
        macs += (double)out->count * per_out;
    }
    return macs;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int threads = 2, limit = 100;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = atoi(argv[++i]);
        else
            dir = argv[i];
    }
    if (!dir) {
        fprintf(stderr, "usage: bench_e2e [--threads N] [--limit N] PHOTO_DIR\n");
        return 2;
    }
    /* The photos: every JPEG/PNG/WebP file of the folder, by name. */
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    char **paths = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 100000) {
        if (e->d_name[0] == '.')
            continue;
        paths = ps_xrealloc(paths, sizeof *paths * (size_t)(n + 1));
        paths[n++] = ps_path_join(dir, e->d_name);
    }
    closedir(d);
    qsort(paths, (size_t)n, sizeof *paths, cmp_str);
    if (n > limit)
        n = limit;

    ps_error err = {{0}};
    ps_model *m[3];
    ps_nn_workspace *ws[3];
    for (int k = 0; k < 3; k++) {
        m[k] = ps_model_load((ps_model_kind)k, NULL, NULL, &err);
        if (!m[k]) {
            fprintf(stderr, "bench_e2e: %s\n", err.msg);
            return 1;
        }
        ws[k] = ps_model_workspace(m[k], threads);
    }
    double mhz = cpu_mhz();
    int cores = threads;
    static unsigned char in224[224 * 224 * 3], in513[513 * 513 * 3];
    static float scores[1001], feats[1280];
    const char *names[4] = {"mobilenet_v2", "mobilenet_v1_embedding", "deeplab", "all"};
    for (int mode = 0; mode < 4; mode++) {
        int ok = 0;
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            ps_decode_opts o;
            ps_decode_opts_init(&o);
            ps_image img;
            ps_image_info info;
            int need513 = (mode == 2 || mode == 3), need224 = (mode != 2);
            o.min_short_side = need513 ? 2 * 513 : 2 * 224;
            if (ps_image_load(paths[i], &o, &img, &info, &err) != 0)
                continue; /* not a photo (.DS_Store) */
            if (need224)
                ps_image_center_square(&img, &info, 224, in224);
            if (need513)
                ps_image_center_square(&img, &info, 513, in513);
            ps_image_free(&img);
            for (int k = 0; k < 3; k++) {
                if (mode != 3 && mode != k)
                    continue;
                const unsigned char *in = k == 2 ? in513 : in224;
                size_t len = k == 2 ? sizeof in513 : sizeof in224;
                if (ps_model_run(m[k], ws[k], in, len, k == 1 ? NULL : scores,
                                 k == 2 ? NULL : feats, &err) != 0) {
                    fprintf(stderr, "bench_e2e: %s\n", err.msg);
                    return 1;
                }
            }
            ok++;
        }
        double dt = bench_now() - t0;
        double macs = 0;
        for (int k = 0; k < 3; k++)
            if (mode == 3 || mode == k)
                macs += model_macs(m[k]);
        double rate = ok / dt;
        double peak16 = mhz * 1e6 * 32 * cores, peak32 = mhz * 1e6 * 16 * cores;
        printf("{\"engine\":\"picseek\",\"model\":\"%s\",\"batch\":1,\"threads\":%d,\"photos\":%d,"
               "\"seconds\":%.3f,\"photos_per_s\":%.2f,\"gmacs_per_photo\":%.3f,"
               "\"gmacs_per_s\":%.1f,\"cpu_mhz\":%.0f,\"peak_int16_gmacs\":%.1f,"
               "\"fraction_of_int16_peak\":%.3f,\"peak_fp32_gmacs\":%.1f}\n",
               names[mode], threads, ok, dt, rate, macs / 1e9, rate * macs / 1e9, mhz,
               peak16 / 1e9, rate * macs / peak16, peak32 / 1e9);
        fflush(stdout);
    }
    for (int k = 0; k < 3; k++) {
        ps_nn_workspace_free(ws[k]);
        ps_model_free(m[k]);
    }
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return 0;
}
