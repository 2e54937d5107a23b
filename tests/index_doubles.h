/*
 * index_doubles.h - stand-ins for the pieces the index layer is given from
 * outside, so its tests run without models or lexicons:
 *
 *   - tx_extract: a feature extractor that derives features from the file
 *     bytes.  Test "photos" are a JPEG magic followed by words; each word
 *     adds 1 to mnv1[hash(word) % TX_DIM], so a photo "\xFF\xD8\xFF dog
 *     beach" matches the queries "dog" and "beach".  A file containing
 *     CORRUPT is rejected like a broken JPEG.  Optionally slow, and able to
 *     log every call (for the crash test).
 *   - tx_scorer: the bag-of-words scorer over the same hash.
 *   - tx_rule: a content rule that blocks the words child, children, kid,
 *     kids.
 */
#ifndef TEST_INDEX_DOUBLES_H
#define TEST_INDEX_DOUBLES_H

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "index/indexer.h"
#include "index/rule.h"
#include "index/search.h"
#include "nn/features.h"
#include "policy/policy.h"
#include "score/scorer.h"

#define TX_DIM 64

typedef struct tx_ctx {
    atomic_int calls;
    int delay_us; /* sleep per call */
    int log_fd;   /* >0: write "path\n" here before each extraction */
} tx_ctx;

static inline unsigned tx_hash(const char *w, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

static inline int tx_is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Add each word's hash bucket of text into v; returns the number of words. */
static inline int tx_bag(const char *t, size_t n, float *v)
{
    int words = 0;
    for (size_t i = 0; i < n;) {
        if (!tx_is_letter(t[i])) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && tx_is_letter(t[i]))
            i++;
        if (i - s == 7 && memcmp(t + s, "CORRUPT", 7) == 0)
            continue;
        v[tx_hash(t + s, i - s) % TX_DIM] += 1.0f;
        words++;
    }
    return words;
}

static inline int tx_extract(void *ctx, int worker, const char *path, const unsigned char *data, size_t len,
                      ps_features *out, ps_error *err)
{
    tx_ctx *c = ctx;
    (void)worker;
    if (c) {
        atomic_fetch_add(&c->calls, 1);
        if (c->log_fd > 0) {
            char line[4200];
            int n = snprintf(line, sizeof line, "%s\n", path);
            if (write(c->log_fd, line, (size_t)n) != n)
                abort();
        }
        if (c->delay_us)
            usleep((useconds_t)c->delay_us);
    }
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i + 7 <= len; i++)
        if (memcmp(data + i, "CORRUPT", 7) == 0)
            return ps_errorf(err, "%s: corrupt JPEG data: premature end of data segment", path),
                   PS_EXTRACT_SKIP;
    size_t skip = len >= 3 ? 3 : len;
    tx_bag((const char *)data + skip, len - skip, out->mnv1);
    /* Fill the other fields from the bytes so every stored value is
     * exercised (k/256 values are exact in float16). */
    unsigned acc = 0;
    for (size_t i = 0; i < len; i++)
        acc = acc * 31 + data[i];
    for (int i = 0; i < PS_IMAGENET_CLASSES; i++)
        out->class_prob[i] = (float)((acc >> (i % 24)) & 0xFF) / 256.0f;
    for (int i = 0; i < PS_MNV2_FEATURE_DIM; i++)
        out->mnv2[i] = (float)((acc + (unsigned)i * 2654435761u) % 1000) / 100.0f;
    for (int i = 0; i < PS_VOC_CLASSES; i++)
        out->voc_area[i] = (float)i / 32.0f;
    return 0;
}

static inline int tx_embed_photo(const ps_scorer *s, const ps_features *f, float *out, ps_error *err)
{
    (void)s;
    (void)err;
    memcpy(out, f->mnv1, TX_DIM * sizeof(float));
    return 0;
}

static inline int tx_embed_query(const ps_scorer *s, const char *text, size_t len, float *out, ps_error *err)
{
    (void)s;
    memset(out, 0, TX_DIM * sizeof(float));
    if (tx_bag(text, len, out) == 0)
        return ps_errorf(err, "the query has no usable word");
    return 0;
}

static inline float tx_calibrate(const ps_scorer *s, float raw)
{
    (void)s;
    return raw / 2.0f;
}

static inline void tx_destroy(ps_scorer *s)
{
    (void)s;
}

__attribute__((unused)) static const ps_scorer tx_scorer = {
    .name = "test-bow-v1",
    .dim = TX_DIM,
    .embed_photo = tx_embed_photo,
    .embed_query = tx_embed_query,
    .calibrate = tx_calibrate,
    .destroy = tx_destroy,
};

static inline int tx_rule_check(const void *ctx, const char *t, size_t n, ps_policy_result *out, ps_error *err)
{
    static const char *const blocked[] = {"child", "children", "kid", "kids"};
    (void)ctx;
    (void)err;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n;) {
        if (!tx_is_letter(t[i])) {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && tx_is_letter(t[i]))
            i++;
        for (size_t b = 0; b < 4; b++) {
            if (strlen(blocked[b]) == i - s && strncmp(blocked[b], t + s, i - s) == 0 &&
                out->nmatched < PS_POLICY_MAX_MATCHES) {
                out->blocked = true;
                snprintf(out->matched[out->nmatched++], PS_POLICY_LEMMA_MAX, "%s", blocked[b]);
            }
        }
    }
    return 0;
}

__attribute__((unused)) static const ps_rule tx_rule = {tx_rule_check, NULL};

/* Engine options for tests: exact float32 rows unless a test asks for
 * float16. */
#define TX_OPTS(ms) (&(ps_engine_opts){.busy_ms = (ms), .precision = PS_ENGINE_F32, .threads = 2})

/* ---- file helpers ---------------------------------------------------- */

static inline const char *tx_tmp(void)
{
    const char *d = getenv("PICSEEK_TEST_TMP");
    return d && *d ? d : "/tmp";
}

/* A fresh, empty folder tmp/name (removed first if present). */
static inline char *tx_fresh_dir(const char *name)
{
    char *p = malloc(1024);
    snprintf(p, 1024, "%s/%s", tx_tmp(), name);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", p, p);
    if (system(cmd) != 0)
        abort();
    if (mkdir(p, 0755) != 0)
        abort();
    return p;
}

static inline void tx_write(const char *dir, const char *rel, const char *content)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    /* Create parent folders as needed. */
    for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    fputs(content, f);
    fclose(f);
}

/* A test photo: JPEG magic + words. */
static inline void tx_photo(const char *dir, const char *rel, const char *words)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "\xFF\xD8\xFF %s", words);
    tx_write(dir, rel, buf);
}

/* Set a file's mtime to `sec` seconds past the epoch. */
static inline void tx_set_mtime(const char *dir, const char *rel, long sec)
{
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct timespec ts[2] = {{sec, 0}, {sec, 0}};
    if (utimensat(AT_FDCWD, p, ts, 0) != 0)
        abort();
}

static inline char *tx_path(const char *dir, const char *name)
{
    char *p = malloc(2048);
    snprintf(p, 2048, "%s/%s", dir, name);
    return p;
}

#endif
