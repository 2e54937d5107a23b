/*
 * test_featcache.c - the photo feature cache (nn/featcache) and photo ->
 * features (nn/photo): round trips, damaged or foreign files treated as
 * absent, and one real photo computed once then read from the cache.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/sha256.h"
#include "image/color.h"
#include "image/resize.h"
#include "nn/featcache.h"
#include "nn/photo.h"
#include "test.h"

static const char HEX[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static char *tmp_dir(const char *name)
{
    const char *t = getenv("PICSEEK_TEST_TMP");
    ps_buf b = {0};
    ps_buf_printf(&b, "%s/%s", t && *t ? t : "/tmp", name);
    return ps_buf_steal(&b);
}

static void fill(ps_features *f, float seed)
{
    float *v = (float *)f;
    for (size_t i = 0; i < sizeof *f / sizeof(float); i++)
        v[i] = seed + (float)i * 1e-3f;
}

static char *entry(const char *dir, const char *hex)
{
    ps_buf b = {0};
    ps_buf_printf(&b, "%s/v%d/%s.feat", dir, PS_FEATURES_VERSION, hex);
    return ps_buf_steal(&b);
}

/* Start from an empty cache entry (the temp folder outlives a run). */
static void forget(const char *dir, const char *hex)
{
    char *p = entry(dir, hex);
    remove(p);
    free(p);
}

TEST(round_trip)
{
    char *dir = tmp_dir("fc-round");
    ps_features *a = ps_xmalloc(sizeof *a), *b = ps_xmalloc(sizeof *b);
    fill(a, 0.5f);
    ps_error err;
    forget(dir, HEX);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 0); /* nothing yet */
    CHECK_INT(ps_featcache_put(dir, HEX, a, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 1);
    CHECK(memcmp(a, b, sizeof *a) == 0);
    /* Overwriting is fine. */
    fill(a, 2.0f);
    CHECK_INT(ps_featcache_put(dir, HEX, a, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 1);
    CHECK(memcmp(a, b, sizeof *a) == 0);
    free(a);
    free(b);
    free(dir);
}

TEST(damaged_files_are_misses)
{
    char *dir = tmp_dir("fc-damaged");
    ps_features *a = ps_xmalloc(sizeof *a), *b = ps_xmalloc(sizeof *b);
    fill(a, 1.0f);
    ps_error err;
    CHECK_INT(ps_featcache_put(dir, HEX, a, &err), 0);
    char *path = entry(dir, HEX);
    size_t len;
    char *data = ps_read_file(path, 1u << 20, &len, &err);
    CHECK(data != NULL);
    if (!data)
        return;
    /* One flipped bit anywhere: the checksum catches it. */
    size_t spots[] = {0, 9, 20, len / 2, len - 1};
    for (size_t i = 0; i < sizeof spots / sizeof *spots; i++) {
        data[spots[i]] ^= 0x10;
        CHECK_INT(ps_write_file_atomic(path, data, len, &err), 0);
        CHECK_INT(ps_featcache_get(dir, HEX, b), 0);
        data[spots[i]] ^= 0x10;
    }
    /* Truncated, empty, longer. */
    CHECK_INT(ps_write_file_atomic(path, data, len - 1, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 0);
    CHECK_INT(ps_write_file_atomic(path, "", 0, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 0);
    char *longer = ps_xmalloc(len + 1);
    memcpy(longer, data, len);
    longer[len] = 0;
    CHECK_INT(ps_write_file_atomic(path, longer, len + 1, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 0);
    free(longer);
    /* Intact again: a hit. */
    CHECK_INT(ps_write_file_atomic(path, data, len, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 1);
    /* A stored NaN is never handed out. */
    a->class_prob[3] = NAN;
    CHECK_INT(ps_featcache_put(dir, HEX, a, &err), 0);
    CHECK_INT(ps_featcache_get(dir, HEX, b), 0);
    free(data);
    free(path);
    free(a);
    free(b);
    free(dir);
}

TEST(digest_is_checked)
{
    char *dir = tmp_dir("fc-digest");
    ps_features *a = ps_xcalloc(1, sizeof *a);
    ps_error err;
    const char *bad[] = {"", "abc", "../../../../etc/passwd",
                         "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_INT(ps_featcache_put(dir, bad[i], a, &err), -1);
        CHECK_CONTAINS(err.msg, "SHA-256");
        CHECK_INT(ps_featcache_get(dir, bad[i], a), 0);
    }
    /* A folder that cannot be created is an error, not a crash. */
    CHECK_INT(ps_featcache_put("/proc/picseek-no/such", HEX, a, &err), -1);
    free(a);
    free(dir);
}

TEST(not_an_image)
{
    const char *sh = test_shared_dir();
    if (!sh)
        SKIP("no shared folder (models)");
    char *models = ps_path_join(sh, "models");
    char *dir = tmp_dir("fc-notimage");
    ps_error err;
    ps_feature_source *s = ps_feature_source_new(dir, models, 1, &err);
    CHECK(s != NULL);
    const char *junk = test_write_tmp("junk.jpg", "not a photo at all", 18);
    ps_features *f = ps_xmalloc(sizeof *f);
    bool hit = true;
    CHECK_INT(ps_feature_source_get(s, junk, f, &hit, &err), -1);
    CHECK_CONTAINS(err.msg, "junk.jpg");
    CHECK_INT(ps_feature_source_get(s, "/nonexistent/photo.jpg", f, &hit, &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/photo.jpg");
    ps_feature_source_free(s);
    free(f);
    free(dir);
    free(models);
}

TEST(real_photo_computed_once)
{
    const char *sh = test_shared_dir();
    char *photo = sh ? ps_path_join(sh, "dataset/test_images/1429546659_44cb09cbe2.jpg") : NULL;
    if (!photo || !ps_is_file(photo)) {
        free(photo);
        SKIP("no shared dataset photo");
    }
    char *models = ps_path_join(sh, "models");
    char *dir = tmp_dir("fc-real");
    ps_error err;
    char hex[65];
    CHECK_INT(ps_sha256_file(photo, hex, &err), 0);
    forget(dir, hex);
    ps_feature_source *s = ps_feature_source_new(dir, models, 0, &err);
    ps_features *a = ps_xmalloc(sizeof *a), *b = ps_xmalloc(sizeof *b);
    bool hit = true;
    CHECK_INT(ps_feature_source_get(s, photo, a, &hit, &err), 0);
    CHECK(!hit);
    /* Probabilities and area shares each sum to about one; a dog photo
     * has most of its probability on ImageNet's dog classes (151..268)
     * and some of its pixels on VOC dog (12). */
    double sp = 0, sa = 0, dogs = 0;
    for (int c = 0; c < PS_IMAGENET_CLASSES; c++) {
        sp += a->class_prob[c];
        if (c >= 152 && c <= 269)
            dogs += a->class_prob[c];
    }
    for (int v = 0; v < PS_VOC_CLASSES; v++)
        sa += a->voc_area[v];
    CHECK_NEAR(sp, 1.0, 0.05);
    CHECK_NEAR(sa, 1.0, 1e-4);
    CHECK(dogs > 0.5);
    CHECK(a->voc_area[12] > 0.05f);
    /* Colour shares: each region's sum to one; all pixels are those of
     * DeepLab's 513-pixel square, named by image/color.h; the dog in front
     * is largely black. */
    for (int r = 0; r < PS_COLOR_REGIONS; r++) {
        double sc = 0;
        for (int k = 0; k < PS_COLORS; k++)
            sc += a->colors[r][k];
        CHECK_NEAR(sc, 1.0, 1e-4);
    }
    unsigned char *sq = ps_xmalloc(513 * 513 * 3);
    ps_decode_opts o;
    ps_decode_opts_init(&o);
    o.min_short_side = PS_SQUARE_OVERSAMPLE * 513;
    CHECK_INT(ps_image_load_square(photo, 513, &o, sq, &err), 0);
    float all[PS_COLORS];
    CHECK_INT(ps_color_shares(sq, 513 * 513, NULL, all, NULL), 513 * 513);
    for (int k = 0; k < PS_COLORS; k++)
        CHECK_NEAR(a->colors[PS_COLOR_ALL][k], all[k], 1e-6);
    free(sq);
    CHECK(a->colors[PS_COLOR_FOREGROUND][PS_COLOR_BLACK] > 0.2f);
    /* The second time it comes from the cache, identical. */
    CHECK_INT(ps_feature_source_get(s, photo, b, &hit, &err), 0);
    CHECK(hit);
    CHECK(memcmp(a, b, sizeof *a) == 0);
    /* Keyed by content: the digest of the file names the entry. */
    CHECK_INT(ps_featcache_get(dir, hex, b), 1);
    ps_feature_source_free(s);
    free(a);
    free(b);
    free(dir);
    free(models);
    free(photo);
}

int main(void)
{
    RUN(round_trip);
    RUN(damaged_files_are_misses);
    RUN(digest_is_checked);
    RUN(not_an_image);
    RUN(real_photo_computed_once);
    return test_summary();
}
