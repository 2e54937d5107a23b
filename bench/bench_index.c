/*
 * bench_index - search latency and memory of the photo index at 1k, 10k
 * and 100k photos, with synthetic feature rows.
 *
 * For each size: build a database (the real schema, float16 feature blobs,
 * realistic relative paths), open a search engine with a synthetic scorer
 * (elementwise weights over the features, DIM values: the zero-shot
 * scorer has 1122, a learned bilinear one ~100), and time queries.  Reports
 *   - database bytes per photo (float16 features; the float32 size too),
 *   - engine RAM per photo (the embedding matrix, ids, paths, flags),
 *   - engine open: cold (computes and caches every embedding) and warm
 *     (reads the cache),
 *   - query latency p50 / p99 over QUERIES random queries (embed + score
 *     every photo + top-10 + existence check of the hits), for float32
 *     rows, float16 rows, and float16 rows scanned by 2 threads,
 *   - SHA-256 throughput on a photo-sized buffer (the indexer hashes every
 *     new or changed file).
 *
 *   bench_index [DIM] [MAX_PHOTOS] [TMPDIR] [MIN_PHOTOS]   (defaults: 1122 100000 /tmp 1000)
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/buf.h"
#include "core/sha256.h"
#include "index/blob.h"
#include "index/search.h"
#include "index/store.h"

#define QUERIES 300
#define K 10

typedef struct proj {
    size_t dim;
    float *w; /* dim weights */
} proj;

static unsigned long long rng_state = 88172645463325252ull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)(rng_state >> 40) / (float)(1ull << 24) * 2.0f - 1.0f;
}

/* Elementwise, like the zero-shot scorer's P(photo) (probabilities and
 * areas raised to a power, plus a small label vector): the cost of a cold
 * open is then the store and the blob decoding, not the synthetic scorer. */
static int embed_photo(const ps_scorer *s, const ps_features *f, float *out, ps_error *err)
{
    const proj *p = s->impl;
    (void)err;
    for (size_t i = 0; i < p->dim; i++)
        out[i] = p->w[i] * (f->class_prob[i % PS_IMAGENET_CLASSES] + f->mnv1[i % PS_MNV1_EMBED_DIM]);
    return 0;
}

/* A query embedding derived from the text bytes (the real scorers look
 * words up; the cost here is negligible either way). */
static int embed_query(const ps_scorer *s, const char *text, size_t len, float *out, ps_error *err)
{
    const proj *p = s->impl;
    (void)err;
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    for (size_t i = 0; i < p->dim; i++) {
        h = h * 1103515245u + 12345u;
        out[i] = (float)(h >> 8) / (float)(1u << 24) - 0.5f;
    }
    return 0;
}

static float calibrate(const ps_scorer *s, float raw)
{
    (void)s;
    return 1.0f / (1.0f + expf(-raw));
}

static void destroy(ps_scorer *s)
{
    (void)s;
}

static int allow_all(const void *ctx, const char *t, size_t n, ps_policy_result *out, ps_error *err)
{
    (void)ctx;
    (void)t;
    (void)n;
    (void)err;
    memset(out, 0, sizeof *out);
    return 0;
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Fill a database with n synthetic photos (ok, features only). */
static int build_db(const char *path, size_t n)
{
    ps_error err;
    unlink(path);
    ps_store *st = ps_store_open(path, PS_STORE_CREATE, 5000, &err);
    if (!st) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    int64_t root;
    ps_store_root(st, "/home/someone/Pictures", &root, &err);
    ps_store_close(st);

    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db,
                       "INSERT INTO photos(root_id, rel, name, size, mtime_ns, sha256, status, restricted,"
                       " indexed_at, features_version) VALUES(?1,?2,?3,?4,?5,?6,0,0,?7,?8)",
                       -1, &s, NULL);
    sqlite3_stmt *fs;
    sqlite3_prepare_v2(db, "INSERT INTO features(photo_id, blob) VALUES(last_insert_rowid(), ?1)", -1, &fs,
                       NULL);
    ps_features *f = calloc(1, sizeof *f);
    ps_buf blob = {0};
    for (size_t i = 0; i < n; i++) {
        float *v = (float *)f;
        for (size_t k = 0; k < PS_FEATURE_VALUES; k++)
            v[k] = (float)(int)((frand() + 1.0f) * 128.0f) / 64.0f; /* quantized-looking values */
        ps_features_encode(f, PS_BLOB_F16, &blob);
        char rel[96], name[32];
        snprintf(name, sizeof name, "IMG_%06zu.jpg", i);
        snprintf(rel, sizeof rel, "%zu/album-%03zu/%s", 2010 + i % 14, i / 200 % 1000, name);
        unsigned char sha[32];
        for (int k = 0; k < 32; k++)
            sha[k] = (unsigned char)(frand() * 127);
        sqlite3_bind_int64(s, 1, root);
        sqlite3_bind_text(s, 2, rel, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, 150000 + (int64_t)i);
        sqlite3_bind_int64(s, 5, 1600000000000000000ll + (int64_t)i);
        sqlite3_bind_blob(s, 6, sha, 32, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 7, 1700000000);
        sqlite3_bind_int(s, 8, PS_FEATURES_VERSION);
        sqlite3_bind_blob(fs, 1, blob.data, (int)blob.len, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE || sqlite3_step(fs) != SQLITE_DONE) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            return -1;
        }
        sqlite3_reset(s);
        sqlite3_reset(fs);
    }
    sqlite3_finalize(s);
    sqlite3_finalize(fs);
    sqlite3_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    ps_buf_free(&blob);
    free(f);
    return 0;
}

typedef struct config {
    const char *name;
    int precision, threads;
} config;

static const config CONFIGS[] = {
    {"f32 x1", PS_ENGINE_F32, 1},
    {"f16 x1", PS_ENGINE_F16, 1},
    {"f16 x2", PS_ENGINE_F16, 2},
};

/* Query latency of one engine; fills p50/p99 in ms. */
static void time_queries(const ps_engine *e, size_t n, double *p50, double *p99)
{
    static const char *const words[] = {"dog", "beach", "red", "car", "two", "people", "snow", "running",
                                        "a", "child", "mountain", "water", "ball", "bike", "street"};
    double *lat = malloc(QUERIES * sizeof *lat);
    size_t nhits = 0;
    ps_error err;
    for (int i = 0; i < QUERIES + 10; i++) {
        char q[128];
        snprintf(q, sizeof q, "%s %s %s %d", words[i % 15], words[(i * 7) % 15], words[(i * 11) % 15], i);
        ps_results r;
        double t = bench_now();
        if (ps_engine_search(e, q, strlen(q), K, &r, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            break;
        }
        double dt = bench_now() - t;
        if (i >= 10) /* warm-up */
            lat[i - 10] = dt;
        nhits += r.n;
        ps_results_free(&r);
    }
    qsort(lat, QUERIES, sizeof *lat, bench_cmp_double);
    *p50 = lat[QUERIES / 2] * 1e3;
    *p99 = lat[QUERIES * 99 / 100] * 1e3;
    if (nhits != (size_t)(QUERIES + 10) * (n < K ? n : K))
        fprintf(stderr, "unexpected hit count %zu\n", nhits);
    free(lat);
}

static void bench_size(const char *dir, size_t n, const ps_scorer *scorer)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/bench_index_%zu.db", dir, n);
    double t0 = bench_now();
    if (build_db(path, n) != 0)
        return;
    double t_build = bench_now() - t0;
    long long bytes_features = file_size(path);

    ps_rule rule = {allow_all, NULL};
    ps_error err;
    t0 = bench_now();
    ps_engine *e = ps_engine_open(path, scorer, &rule, NULL, &err);
    double t_cold = bench_now() - t0;
    if (!e) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    ps_engine_close(e);
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    long long bytes_all = file_size(path);
    printf("%7zu photos, dim %zu: db %.0f B/photo (%.0f features + %.0f embedding cache), built in %.1f s; "
           "first open (computes + caches embeddings) %.3f s\n",
           n, scorer->dim, (double)bytes_all / (double)n, (double)bytes_features / (double)n,
           (double)(bytes_all - bytes_features) / (double)n, t_build, t_cold);
    for (size_t c = 0; c < sizeof CONFIGS / sizeof CONFIGS[0]; c++) {
        ps_engine_opts eo;
        ps_engine_opts_default(&eo);
        eo.precision = CONFIGS[c].precision;
        eo.threads = CONFIGS[c].threads;
        long rss0 = rss_kb();
        t0 = bench_now();
        e = ps_engine_open(path, scorer, &rule, &eo, &err);
        double t_warm = bench_now() - t0;
        if (!e) {
            fprintf(stderr, "%s\n", err.msg);
            break;
        }
        long rss1 = rss_kb();
        ps_engine_info info;
        ps_engine_get_info(e, &info);
        double p50, p99;
        time_queries(e, n, &p50, &p99);
        printf("    %s: open %.3f s, RAM %.0f B/photo (RSS +%.0f) | query p50 %7.3f ms  p99 %7.3f ms\n",
               CONFIGS[c].name, t_warm, (double)info.bytes / (double)n, (double)(rss1 - rss0) * 1024.0 / (double)n,
               p50, p99);
        fflush(stdout);
        ps_engine_close(e);
    }
    char side[1100];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void bench_sha(void)
{
    size_t n = 150 * 1024; /* a typical 500-px JPEG */
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 31);
    unsigned char out[32];
    int reps = 200;
    double t0 = bench_now();
    for (int r = 0; r < reps; r++) {
        ps_sha256 c;
        ps_sha256_init(&c);
        ps_sha256_update(&c, buf, n);
        ps_sha256_final(&c, out);
    }
    double dt = bench_now() - t0;
    printf("sha256: %.0f MB/s, %.3f ms per 150 KB photo\n", (double)n * reps / dt / 1e6, dt / reps * 1e3);
    free(buf);
}

int main(int argc, char **argv)
{
    size_t dim = argc > 1 ? (size_t)atol(argv[1]) : 1122;
    size_t max = argc > 2 ? (size_t)atol(argv[2]) : 100000;
    const char *dir = argc > 3 ? argv[3] : "/tmp";
    size_t min = argc > 4 ? (size_t)atol(argv[4]) : 1000;
    if (dim < 1 || dim > 4096) {
        fprintf(stderr, "usage: bench_index [DIM] [MAX_PHOTOS] [TMPDIR] [MIN_PHOTOS]\n");
        return 2;
    }
    proj p = {.dim = dim, .w = malloc(dim * sizeof(float))};
    for (size_t i = 0; i < dim; i++)
        p.w[i] = frand() * 0.05f;
    ps_scorer scorer = {.dim = dim, .embed_photo = embed_photo, .embed_query = embed_query,
                        .calibrate = calibrate, .destroy = destroy, .impl = &p};
    snprintf(scorer.name, sizeof scorer.name, "bench-proj-%zu", dim);
    printf("bench_index: features blob %zu B (float16), %zu B as float32\n",
           (size_t)(PS_BLOB_HEADER + 2 * PS_FEATURE_VALUES), (size_t)(PS_BLOB_HEADER + 4 * PS_FEATURE_VALUES));
    bench_sha();
    for (size_t n = min ? min : 1000; n <= max; n *= 10)
        bench_size(dir, n, &scorer);
    free(p.w);
    return 0;
}
