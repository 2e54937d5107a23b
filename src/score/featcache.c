/*
 * featcache.c - photo features on disk, keyed by photo content.
 */
#include "score/featcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "image/decode.h"
#include "image/resize.h"
#include "learn/modelfile.h"

#define KIND "features"

struct ps_featcache {
    char *dir;
    char *models_dir; /* NULL = default */
    int threads;
    int cached_only;
    ps_extractor *x;   /* loaded on the first miss */
    ps_extractor_ws *ws;
    unsigned char *in224, *in513;
    size_t hits, computed, invalid;
};

ps_featcache *ps_featcache_open(const char *dir, const char *models_dir, int threads,
                                ps_error *err)
{
    char *d;
    const char *env = getenv("PICSEEK_FEATURES");
    if (dir) {
        d = ps_xstrdup(dir);
    } else if (env && *env) {
        d = ps_xstrdup(env);
    } else {
        char *cache = ps_cache_dir(err);
        if (!cache)
            return NULL;
        d = ps_path_join(cache, "features");
        free(cache);
    }
    if (mkdir(d, 0777) != 0 && errno != EEXIST) {
        ps_errorf(err, "%s: cannot create the feature cache folder: %s", d, strerror(errno));
        free(d);
        return NULL;
    }
    ps_featcache *c = ps_xcalloc(1, sizeof *c);
    c->dir = d;
    c->models_dir = models_dir ? ps_xstrdup(models_dir) : NULL;
    c->threads = threads;
    return c;
}

void ps_featcache_close(ps_featcache *c)
{
    if (!c)
        return;
    ps_extractor_ws_free(c->ws);
    ps_extractor_free(c->x);
    free(c->in224);
    free(c->in513);
    free(c->models_dir);
    free(c->dir);
    free(c);
}

void ps_featcache_cached_only(ps_featcache *c, int cached_only)
{
    c->cached_only = cached_only;
}

void ps_featcache_stats(const ps_featcache *c, size_t *hits, size_t *computed, size_t *invalid)
{
    if (hits)
        *hits = c->hits;
    if (computed)
        *computed = c->computed;
    if (invalid)
        *invalid = c->invalid;
}

/* ---- entry format ------------------------------------------------------------ */

static const struct {
    const char *name;
    size_t n, offset;
} FIELDS[] = {
    {"class_prob", PS_IMAGENET_CLASSES, offsetof(ps_features, class_prob)},
    {"mnv2", PS_MNV2_FEATURE_DIM, offsetof(ps_features, mnv2)},
    {"mnv1", PS_MNV1_EMBED_DIM, offsetof(ps_features, mnv1)},
    {"voc_area", PS_VOC_CLASSES, offsetof(ps_features, voc_area)},
};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

void ps_features_serialize(const ps_features *f, ps_buf *out)
{
    ps_modelfile m;
    ps_modelfile_init(&m, KIND);
    ps_modelfile_add_scalar(&m, "version", PS_FEATURES_VERSION);
    for (size_t i = 0; i < NFIELDS; i++)
        ps_modelfile_add_vec(&m, FIELDS[i].name,
                             (const float *)((const char *)f + FIELDS[i].offset), FIELDS[i].n);
    ps_modelfile_serialize(&m, out);
    ps_modelfile_free(&m);
}

int ps_features_parse(const void *data, size_t len, const char *source, ps_features *out,
                      ps_error *err)
{
    ps_modelfile m;
    if (ps_modelfile_parse(data, len, source, KIND, &m, err) != 0)
        return -1;
    long version;
    int rc = -1;
    if (ps_modelfile_int(&m, "version", PS_FEATURES_VERSION, PS_FEATURES_VERSION, &version, err))
        goto out;
    if (m.n != NFIELDS + 1) {
        ps_errorf(err, "%s: %zu arrays, a features entry has %zu", source, m.n, NFIELDS + 1);
        goto out;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        uint64_t dims[1] = {FIELDS[i].n};
        const float *v = ps_modelfile_array(&m, FIELDS[i].name, 1, dims, err);
        if (!v)
            goto out;
        memcpy((char *)out + FIELDS[i].offset, v, FIELDS[i].n * sizeof(float));
    }
    rc = 0;
out:
    ps_modelfile_free(&m);
    return rc;
}

/* ---- computing ---------------------------------------------------------------- */

static int compute(const ps_extractor *x, ps_extractor_ws *w, unsigned char *in224,
                   unsigned char *in513, const void *data, size_t len, const char *name,
                   ps_features *out, ps_error *err)
{
    if (ps_image_decode_square(data, len, name, 224, NULL, in224, err) != 0 ||
        ps_image_decode_square(data, len, name, 513, NULL, in513, err) != 0)
        return -1;
    if (ps_extract(x, w, in224, in513, out, err) != 0)
        return ps_error_prefix(err, "%s", name);
    return 0;
}

int ps_features_compute(const ps_extractor *x, ps_extractor_ws *w, const void *data, size_t len,
                        const char *name, ps_features *out, ps_error *err)
{
    unsigned char *in224 = ps_xmalloc(224 * 224 * 3), *in513 = ps_xmalloc(513 * 513 * 3);
    int rc = compute(x, w, in224, in513, data, len, name, out, err);
    free(in224);
    free(in513);
    return rc;
}

int ps_featcache_photo(ps_featcache *c, const char *path, ps_features *out, int *computed,
                       ps_error *err)
{
    if (computed)
        *computed = 0;
    size_t len;
    char *data = ps_read_file(path, PS_IMAGE_MAX_FILE_BYTES, &len, err);
    if (!data)
        return -1;
    char hex[65], name[96];
    ps_sha256_hex(data, len, hex);
    snprintf(name, sizeof name, "%s-v%d.psf", hex, PS_FEATURES_VERSION);
    char *entry = ps_path_join(c->dir, name);
    int rc = -1;

    size_t elen;
    char *edata = ps_read_file(entry, 1u << 20, &elen, NULL);
    if (edata) {
        int ok = ps_features_parse(edata, elen, entry, out, NULL) == 0;
        free(edata);
        if (ok) {
            c->hits++;
            rc = 0;
            goto done;
        }
        c->invalid++;
    }
    if (c->cached_only) {
        ps_errorf(err, "%s: the photo's features are not in the feature cache %s", path, c->dir);
        goto done;
    }
    if (!c->x) {
        if (!(c->x = ps_extractor_load(c->models_dir, NULL, err)))
            goto done;
        c->ws = ps_extractor_workspace(c->x, c->threads);
        c->in224 = ps_xmalloc(224 * 224 * 3);
        c->in513 = ps_xmalloc(513 * 513 * 3);
    }
    if (compute(c->x, c->ws, c->in224, c->in513, data, len, path, out, err) != 0)
        goto done;
    c->computed++;
    if (computed)
        *computed = 1;
    ps_buf b = {0};
    ps_features_serialize(out, &b);
    /* A cache that cannot be written only costs time. */
    ps_write_file_atomic(entry, b.data, b.len, NULL);
    ps_buf_free(&b);
    rc = 0;
done:
    free(entry);
    free(data);
    return rc;
}
