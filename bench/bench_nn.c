/*
 * bench_nn - photos per second of the three models, tensor in -> outputs
 * out (ps_model_run: inference plus dequantizing the outputs), with 1 and 2
 * threads, and the per-operator-type time of one run.
 *
 *   bench_nn [--models DIR] [--runs N] [--reference] [MODEL...]
 *
 * MODEL is mobilenet_v2, mobilenet_v1_embedding or deeplab (default: all).
 * Inputs are the first golden tensor of each model when shared/golden is
 * there, else a fixed pattern (the speed does not depend on the values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/buf.h"
#include "core/file.h"
#include "nn/models.h"

static uint8_t *input_for(const ps_model *m)
{
    size_t n = ps_model_input_bytes(m);
    uint8_t *x = ps_xmalloc(n);
    for (size_t i = 0; i < n; i++)
        x[i] = (uint8_t)(i * 2654435761u >> 24);
    const char *shared = getenv("PICSEEK_SHARED");
    static const char *const dirs[] = {"mobilenet_v2_1.0_224_quant",
                                       "mobilenet_v1_1.0_224_quant_embedding_extractor",
                                       "deeplabv3_mnv2_pascal_quant"};
    static const char *const first = "1177994172_10d143cb8d.in";
    ps_buf p = {0};
    ps_buf_printf(&p, "%s/golden/%s/%s", shared ? shared : "../shared",
                  dirs[ps_model_get_kind(m)], first);
    size_t len;
    ps_error err;
    char *data = ps_read_file(p.data, n + 1, &len, &err);
    if (data && len == n)
        memcpy(x, data, n);
    free(data);
    ps_buf_free(&p);
    return x;
}

int main(int argc, char **argv)
{
    const char *models = NULL;
    int runs = 0, reference = 0;
    int want[3] = {0, 0, 0}, any = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--models") == 0 && i + 1 < argc) {
            models = argv[++i];
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--reference") == 0) {
            reference = 1;
        } else {
            int k = ps_model_kind_parse(argv[i]);
            if (k < 0) {
                fprintf(stderr, "usage: bench_nn [--models DIR] [--runs N] [--reference] "
                                "[mobilenet_v2|mobilenet_v1_embedding|deeplab]...\n");
                return 2;
            }
            want[k] = any = 1;
        }
    }
    for (int k = 0; k < 3; k++) {
        if (any && !want[k])
            continue;
        ps_error err;
        ps_model *m = ps_model_load((ps_model_kind)k, models, NULL, &err);
        if (!m) {
            fprintf(stderr, "bench_nn: %s\n", err.msg);
            return 1;
        }
        uint8_t *x = input_for(m);
        int nc = ps_model_num_classes(m), nf = ps_model_feature_dim(m);
        float *scores = ps_xcalloc((size_t)(nc ? nc : 1), sizeof(float));
        float *feat = ps_xcalloc((size_t)(nf ? nf : 1), sizeof(float));
        int n = runs > 0 ? runs : (k == PS_MODEL_SEGMENTER ? 10 : 40);
        printf("%-24s", ps_model_name(m));
        for (int threads = 1; threads <= 2; threads++) {
            ps_nn_workspace *ws = ps_model_workspace(m, threads);
            ps_nn_workspace_set_reference(ws, reference);
            /* One warm-up run (first touch of the arena and weights). */
            ps_model_run(m, ws, x, ps_model_input_bytes(m), nc ? scores : NULL,
                         nf ? feat : NULL, &err);
            double best = 1e9, total = 0;
            for (int r = 0; r < n; r++) {
                double t0 = bench_now();
                ps_model_run(m, ws, x, ps_model_input_bytes(m), nc ? scores : NULL,
                             nf ? feat : NULL, &err);
                double dt = bench_now() - t0;
                total += dt;
                best = dt < best ? dt : best;
            }
            printf("  %d thread%s: %6.1f photos/s (mean %6.1f ms, best %6.1f ms)", threads,
                   threads > 1 ? "s" : " ", n / total, 1e3 * total / n, 1e3 * best);
            ps_nn_workspace_free(ws);
        }
        printf("\n");
        free(scores);
        free(feat);
        free(x);
        ps_model_free(m);
    }
    return 0;
}
