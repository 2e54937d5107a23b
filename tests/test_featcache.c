/* Tests for the photo feature cache (src/score/featcache.h). */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "score/featcache.h"

static void fake_features(ps_features *f, float base)
{
    for (int i = 0; i < PS_IMAGENET_CLASSES; i++)
        f->class_prob[i] = base + (float)i * 1e-4f;
    for (int i = 0; i < PS_MNV2_FEATURE_DIM; i++)
        f->mnv2[i] = base * (float)i;
    for (int i = 0; i < PS_MNV1_EMBED_DIM; i++)
        f->mnv1[i] = -base * (float)i;
    for (int i = 0; i < PS_VOC_CLASSES; i++)
        f->voc_area[i] = (float)i / 210.0f;
}

static char *tmp_path(const char *name)
{
    const char *t = getenv("PICSEEK_TEST_TMP");
    return ps_path_join(t && *t ? t : "/tmp", name);
}

TEST(entry_round_trip_and_damage)
{
    ps_features f, g;
    fake_features(&f, 0.5f);
    ps_buf b = {0};
    ps_features_serialize(&f, &b);
    ps_error err;
    CHECK_INT(ps_features_parse(b.data, b.len, "e.psf", &g, &err), 0);
    CHECK(memcmp(&f, &g, sizeof f) == 0);
    /* A flipped bit anywhere is caught by the checksum. */
    b.data[b.len / 2] ^= 0x10;
    CHECK_INT(ps_features_parse(b.data, b.len, "e.psf", &g, &err), -1);
    CHECK_CONTAINS(err.msg, "e.psf");
    CHECK_CONTAINS(err.msg, "checksum");
    b.data[b.len / 2] ^= 0x10;
    CHECK_INT(ps_features_parse(b.data, b.len - 40, "e.psf", &g, &err), -1);
    CHECK_CONTAINS(err.msg, "truncated");
    ps_buf_free(&b);
}

/* Entries are found by the photo's content: the cache is consulted before
 * any decoding, so a fake photo file with a planted entry is enough. */
TEST(lookup_by_content)
{
    char *dir = tmp_path("features"), *photo = tmp_path("a.jpg"), *copy = tmp_path("b.jpg");
    mkdir(dir, 0777);
    const char body[] = "not really a photo, but its bytes are the key";
    ps_error err;
    CHECK_INT(ps_write_file_atomic(photo, body, sizeof body, &err), 0);
    CHECK_INT(ps_write_file_atomic(copy, body, sizeof body, &err), 0);
    char hex[65], name[128];
    ps_sha256_hex(body, sizeof body, hex);
    snprintf(name, sizeof name, "%s-v%d.psf", hex, PS_FEATURES_VERSION);
    char *entry = ps_path_join(dir, name);
    unlink(entry);

    ps_featcache *c = ps_featcache_open(dir, NULL, 1, &err);
    CHECK(c != NULL);
    ps_featcache_cached_only(c, 1);
    ps_features f, want;
    int computed = -1;
    CHECK_INT(ps_featcache_photo(c, photo, &f, &computed, &err), -1);
    CHECK_CONTAINS(err.msg, "not in the feature cache");

    fake_features(&want, 0.25f);
    ps_buf b = {0};
    ps_features_serialize(&want, &b);
    CHECK_INT(ps_write_file_atomic(entry, b.data, b.len, &err), 0);
    CHECK_INT(ps_featcache_photo(c, photo, &f, &computed, &err), 0);
    CHECK_INT(computed, 0);
    CHECK(memcmp(&f, &want, sizeof f) == 0);
    memset(&f, 0, sizeof f);
    CHECK_INT(ps_featcache_photo(c, copy, &f, &computed, &err), 0);
    CHECK(memcmp(&f, &want, sizeof f) == 0);

    /* A damaged entry is not trusted. */
    b.data[100] ^= 1;
    CHECK_INT(ps_write_file_atomic(entry, b.data, b.len, &err), 0);
    CHECK_INT(ps_featcache_photo(c, photo, &f, &computed, &err), -1);
    size_t hits, comp, invalid;
    ps_featcache_stats(c, &hits, &comp, &invalid);
    CHECK_INT(hits, 2);
    CHECK_INT(comp, 0);
    CHECK_INT(invalid, 1);
    CHECK_INT(ps_featcache_photo(c, "/nonexistent/photo.jpg", &f, &computed, &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/photo.jpg");
    ps_buf_free(&b);
    ps_featcache_close(c);
    free(entry);
    free(dir);
    free(photo);
    free(copy);
}

/* One real photo through the three models, then from the cache. */
TEST(compute_then_hit)
{
    ps_error err;
    char *data = ps_dataset_dir(NULL, &err), *models = ps_models_dir(NULL, &err);
    if (!data || !models) {
        free(data);
        free(models);
        SKIP("the dataset or the models are not available");
    }
    char *imgs = ps_path_join(data, "train_images");
    char *photo = ps_path_join(imgs, "1056338697_4f7d7ce270.jpg");
    char *dir = tmp_path("features-real");
    mkdir(dir, 0777);
    char hex[65], name[128];
    CHECK_INT(ps_sha256_file(photo, hex, &err), 0);
    snprintf(name, sizeof name, "%s-v%d.psf", hex, PS_FEATURES_VERSION);
    char *entry = ps_path_join(dir, name);
    unlink(entry);
    ps_featcache *c = ps_featcache_open(dir, models, 0, &err);
    ps_features f, g;
    int computed = 0;
    CHECK_INT(ps_featcache_photo(c, photo, &f, &computed, &err), 0);
    CHECK_INT(computed, 1);
    CHECK(ps_is_file(entry));
    double sum = 0;
    for (int i = 0; i < PS_IMAGENET_CLASSES; i++)
        sum += f.class_prob[i];
    /* uint8 softmax: the many tiny probabilities round to 0, so the sum
     * falls short of 1. */
    CHECK(sum > 0.5 && sum < 1.01);
    double area = 0;
    for (int i = 0; i < PS_VOC_CLASSES; i++)
        area += f.voc_area[i];
    CHECK_NEAR(area, 1.0, 1e-3);
    CHECK_INT(ps_featcache_photo(c, photo, &g, &computed, &err), 0);
    CHECK_INT(computed, 0);
    CHECK(memcmp(&f, &g, sizeof f) == 0);
    ps_featcache_close(c);
    free(entry);
    free(dir);
    free(photo);
    free(imgs);
    free(data);
    free(models);
}

int main(void)
{
    RUN(entry_round_trip_and_damage);
    RUN(lookup_by_content);
    RUN(compute_then_hit);
    return test_summary();
}
