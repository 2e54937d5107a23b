/*
 * bench_query - the cost of turning a search text into a query embedding,
 * which every search pays before the dot products: the zero-shot score's
 * (parse, WordNet relations of every word, GloVe similarities; what both
 * scorers compute) and, with --model, the learned scorer's on top.
 *
 * usage: bench_query [--model FILE] [--repeat N] TEXTS_FILE
 *   TEXTS_FILE  one search text per line (e.g. the dataset's captions)
 * Prints one JSON object: texts, repeats, mean, p50, p99 and max
 * milliseconds per text (each text timed separately, best of the repeats
 * not taken: a cold and a warm text count alike), and the load time.
 * Timings are never asserted anywhere; docs/PERFORMANCE.md quotes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/buf.h"
#include "core/file.h"
#include "score/learned.h"
#include "score/zeroshot.h"

int main(int argc, char **argv)
{
    const char *model = NULL, *path = NULL;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
            model = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            path = argv[i];
    }
    if (!path || repeat < 1) {
        fprintf(stderr, "usage: bench_query [--model FILE] [--repeat N] TEXTS_FILE\n");
        return 2;
    }
    ps_error err;
    size_t len;
    char *data = ps_read_file(path, 64u << 20, &len, &err);
    if (!data) {
        fprintf(stderr, "bench_query: %s\n", err.msg);
        return 1;
    }
    double t0 = bench_now();
    ps_zs_config cfg;
    ps_zs_config_default(&cfg);
    ps_scorer *s = model ? ps_learned_scorer_new(model, &cfg, &err) : ps_zeroshot_scorer_new(&cfg, &err);
    if (!s) {
        fprintf(stderr, "bench_query: %s\n", err.msg);
        free(data);
        return 1;
    }
    double load = bench_now() - t0;
    float *q = ps_xmalloc(s->dim * sizeof *q);
    double *t = NULL;
    size_t n = 0, cap = 0, failed = 0;
    for (int r = 0; r < repeat; r++) {
        for (char *line = data, *end; line < data + len; line = end + 1) {
            end = memchr(line, '\n', (size_t)(data + len - line));
            if (!end)
                end = data + len;
            if (end == line)
                continue;
            double a = bench_now();
            failed += s->embed_query(s, line, (size_t)(end - line), q, &err) != 0;
            if (n == cap)
                t = ps_xrealloc(t, (cap = cap ? 2 * cap : 1024) * sizeof *t);
            t[n++] = bench_now() - a;
        }
    }
    qsort(t, n, sizeof *t, bench_cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += t[i];
    printf("{\"scorer\": \"%s\", \"texts\": %zu, \"failed\": %zu, \"load_s\": %.3f, "
           "\"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
           s->name, n, failed, load, n ? sum / n * 1e3 : 0, n ? t[n / 2] * 1e3 : 0,
           n ? t[(n * 99) / 100] * 1e3 : 0, n ? t[n - 1] * 1e3 : 0);
    free(t);
    free(q);
    free(data);
    ps_scorer_free(s);
    return 0;
}
