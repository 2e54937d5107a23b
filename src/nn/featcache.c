/*
 * featcache.c - computed features on disk, keyed by photo digest (see
 * featcache.h).
 */
#include "nn/featcache.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/le.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "nn/extract.h"
#include "nn/photo.h"

#define FC_MAGIC "PSFEAT\0\0"
#define FC_NFLOATS (sizeof(ps_features) / sizeof(float))
#define FC_HEADER 16
#define FC_BYTES (FC_HEADER + FC_NFLOATS * 4 + 32)
#define FC_PHOTO_MAX ((size_t)256 << 20)

_Static_assert(sizeof(ps_features) % sizeof(float) == 0, "ps_features holds floats only");

char *ps_featcache_default_dir(ps_error *err)
{
    const char *env = getenv("PICSEEK_FEATURES");
    if (env && *env)
        return ps_xstrdup(env);
    char *cache = ps_cache_dir(err);
    if (!cache)
        return NULL;
    char *d = ps_path_join(cache, "features");
    free(cache);
    return d;
}

static int valid_hex(const char *h)
{
    if (strlen(h) != 64)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return 0;
    return 1;
}

static char *entry_path(const char *dir, const char *hex, int make_dirs, ps_error *err)
{
    ps_buf p = {0};
    ps_buf_printf(&p, "%s/v%d", dir, PS_FEATURES_VERSION);
    if (make_dirs) {
        if (mkdir(dir, 0777) && errno != EEXIST) {
            ps_errorf(err, "%s: cannot create folder: %s", dir, strerror(errno));
            ps_buf_free(&p);
            return NULL;
        }
        if (mkdir(p.data, 0777) && errno != EEXIST) {
            ps_errorf(err, "%s: cannot create folder: %s", p.data, strerror(errno));
            ps_buf_free(&p);
            return NULL;
        }
    }
    ps_buf_printf(&p, "/%s.feat", hex);
    return ps_buf_steal(&p);
}

int ps_featcache_get(const char *dir, const char *sha256_hex, ps_features *out)
{
    if (!valid_hex(sha256_hex))
        return 0;
    char *path = entry_path(dir, sha256_hex, 0, NULL);
    if (!path)
        return 0;
    size_t len;
    ps_error err;
    unsigned char *d = (unsigned char *)ps_read_file(path, FC_BYTES, &len, &err);
    free(path);
    int ok = d && len == FC_BYTES && memcmp(d, FC_MAGIC, 8) == 0 &&
             ps_le32(d + 8) == PS_FEATURES_VERSION && ps_le32(d + 12) == FC_NFLOATS;
    if (ok) {
        unsigned char sum[32];
        ps_sha256 c;
        ps_sha256_init(&c);
        ps_sha256_update(&c, d, FC_BYTES - 32);
        ps_sha256_final(&c, sum);
        ok = memcmp(sum, d + FC_BYTES - 32, 32) == 0;
    }
    if (ok) {
        float *v = (float *)out;
        for (size_t i = 0; i < FC_NFLOATS && ok; i++) {
            uint32_t u = ps_le32(d + FC_HEADER + 4 * i);
            memcpy(&v[i], &u, 4);
            ok = isfinite(v[i]);
        }
    }
    free(d);
    return ok;
}

int ps_featcache_put(const char *dir, const char *sha256_hex, const ps_features *f,
                     ps_error *err)
{
    if (!valid_hex(sha256_hex))
        return ps_errorf(err, "feature cache: '%.70s' is not a SHA-256 hex digest", sha256_hex);
    char *path = entry_path(dir, sha256_hex, 1, err);
    if (!path)
        return -1;
    unsigned char *d = ps_xmalloc(FC_BYTES);
    memcpy(d, FC_MAGIC, 8);
    ps_put_le32(d + 8, PS_FEATURES_VERSION);
    ps_put_le32(d + 12, (uint32_t)FC_NFLOATS);
    const float *v = (const float *)f;
    for (size_t i = 0; i < FC_NFLOATS; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        ps_put_le32(d + FC_HEADER + 4 * i, u);
    }
    ps_sha256 c;
    ps_sha256_init(&c);
    ps_sha256_update(&c, d, FC_BYTES - 32);
    ps_sha256_final(&c, d + FC_BYTES - 32);
    int rc = ps_write_file_atomic(path, d, FC_BYTES, err);
    free(d);
    free(path);
    return rc;
}

struct ps_feature_source {
    char *cache_dir;
    char *models_dir; /* NULL = default */
    int threads;
    ps_extractor *x;  /* loaded on the first miss */
    ps_extractor_ws *ws;
};

ps_feature_source *ps_feature_source_new(const char *cache_dir, const char *models_dir,
                                         int threads, ps_error *err)
{
    char *cd = cache_dir ? ps_xstrdup(cache_dir) : ps_featcache_default_dir(err);
    if (!cd)
        return NULL;
    ps_feature_source *s = ps_xcalloc(1, sizeof *s);
    s->cache_dir = cd;
    s->models_dir = models_dir ? ps_xstrdup(models_dir) : NULL;
    s->threads = threads;
    return s;
}

void ps_feature_source_free(ps_feature_source *s)
{
    if (!s)
        return;
    ps_extractor_ws_free(s->ws);
    ps_extractor_free(s->x);
    free(s->cache_dir);
    free(s->models_dir);
    free(s);
}

int ps_feature_source_get(ps_feature_source *s, const char *path, ps_features *out,
                          bool *from_cache, ps_error *err)
{
    /* Read the photo once: its digest is the key, its bytes the input. */
    size_t len;
    char *data = ps_read_file(path, FC_PHOTO_MAX, &len, err);
    if (!data)
        return -1;
    char hex[65];
    ps_sha256_hex(data, len, hex);
    if (ps_featcache_get(s->cache_dir, hex, out)) {
        free(data);
        if (from_cache)
            *from_cache = true;
        return 0;
    }
    if (from_cache)
        *from_cache = false;
    if (!s->x) {
        if (!(s->x = ps_extractor_load(s->models_dir, NULL, err))) {
            free(data);
            return -1;
        }
        s->ws = ps_extractor_workspace(s->x, s->threads);
    }
    int rc = ps_photo_features(s->x, s->ws, data, len, path, out, err) == 0 ? 0 : -1;
    free(data);
    if (rc == 0)
        rc = ps_featcache_put(s->cache_dir, hex, out, err);
    return rc;
}
