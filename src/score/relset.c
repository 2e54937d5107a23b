/*
 * relset.c - assemble the relevance learning problem from the dataset.
 */
#include "score/relset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/paths.h"
#include "data/pairmap.h"
#include "core/sha256.h"
#include "nn/featcache.h"

ps_relfeat ps_relset_default_feat(void)
{
    return (ps_relfeat){PS_PF_MNV2 | PS_PF_MNV1 | PS_PF_LOGPROB | PS_PF_VOC, PS_TF_GLOVE,
                        PS_EF_ZS | PS_EF_ZSCLASS | PS_EF_ZSVEC};
}

void ps_relset_opts_default(ps_relset_opts *o)
{
    memset(o, 0, sizeof *o);
    o->feat = ps_relset_default_feat();
    o->crowd_pairs = 1;
}

void ps_relset_free(ps_relset *s)
{
    free(s->photo_name);
    free(s->features);
    ps_mat_free(&s->zs_photo);
    ps_mat_free(&s->photo);
    free(s->child);
    free(s->text);
    free(s->text_id);
    free(s->text_photo);
    ps_mat_free(&s->zs_query);
    ps_mat_free(&s->text_vec);
    free(s->text_idx);
    free(s->photo_idx);
    free(s->y);
    free(s->expert);
    free(s->crowd);
    free(s->has_crowd);
    ps_mat_free(&s->extra);
    free(s->query_text);
    free(s->query_photo);
    ps_zeroshot_close(s->z);
    ps_policy_free(s->policy);
    ps_labels_free(&s->labels);
    ps_dataset_free(&s->ds);
    memset(s, 0, sizeof *s);
}

static int blocked(const ps_relset *s, const char *text, int *out, ps_error *err)
{
    ps_policy_result r;
    if (ps_policy_check(s->policy, text, strlen(text), &r, err) != 0)
        return -1;
    *out = r.blocked;
    return 0;
}

/* Photos: train folder listing, then test_images.csv; features from the
 * cache. */
static int load_photos(ps_relset *s, const ps_relset_opts *o, ps_pairmap *photo_map,
                       ps_error *err)
{
    const ps_dataset *ds = &s->ds;
    size_t n = ds->train_photos.n + ds->ntest_images;
    s->photo_name = ps_xcalloc(n ? n : 1, sizeof *s->photo_name);
    for (size_t i = 0; i < ds->train_photos.n; i++)
        s->photo_name[s->n_photos++] = ds->train_photos.names[i];
    s->n_train_photos = s->n_photos;
    for (size_t i = 0; i < ds->ntest_images; i++) {
        if (!ps_photo_list_has(&ds->test_photos, ds->test_images[i]))
            return ps_errorf(err, "%s/test_images/%s: test photo is missing", ds->dir,
                             ds->test_images[i]);
        s->photo_name[s->n_photos++] = ds->test_images[i];
    }
    for (size_t i = 0; i < s->n_photos; i++) {
        size_t dup;
        /* Train and test names live in different folders; key them apart. */
        ps_pairmap_put(photo_map, s->photo_name[i], i < s->n_train_photos ? "train" : "test", i,
                       &dup);
    }
    ps_feature_source *fs = ps_feature_source_new(o->features_dir, o->models_dir, o->threads, err);
    if (!fs)
        return -1;
    char *cache_dir = o->features_dir ? ps_xstrdup(o->features_dir) : ps_featcache_default_dir(err);
    if (!cache_dir) {
        ps_feature_source_free(fs);
        return -1;
    }
    s->features = ps_xmalloc((s->n_photos ? s->n_photos : 1) * sizeof *s->features);
    char *train_dir = ps_path_join(ds->dir, "train_images");
    char *test_dir = ps_path_join(ds->dir, "test_images");
    int rc = 0;
    for (size_t i = 0; i < s->n_photos && rc == 0; i++) {
        char *path = ps_path_join(i < s->n_train_photos ? train_dir : test_dir, s->photo_name[i]);
        if (o->cached_only) {
            char hex[65];
            rc = ps_sha256_file(path, hex, err);
            if (rc == 0 && !ps_featcache_get(cache_dir, hex, &s->features[i]))
                rc = ps_errorf(err, "%s: the photo's features are not in the feature cache %s",
                               path, cache_dir);
        } else {
            bool from_cache = true;
            rc = ps_feature_source_get(fs, path, &s->features[i], &from_cache, err);
            s->photos_computed += !from_cache;
            if (o->log && !from_cache && s->photos_computed % 50 == 0)
                fprintf(o->log, "photo features: %zu computed (%zu of %zu photos)\n",
                        s->photos_computed, i + 1, s->n_photos);
        }
        free(path);
    }
    free(train_dir);
    free(test_dir);
    free(cache_dir);
    ps_feature_source_free(fs);
    return rc;
}

static void photo_vectors(ps_relset *s)
{
    s->zs_photo = ps_mat_new(s->n_photos, s->zdim);
    s->photo = ps_mat_new(s->n_photos, ps_relfeat_photo_dim(s->feat.photo, s->zdim));
    for (size_t i = 0; i < s->n_photos; i++) {
        ps_zeroshot_embed_photo(s->z, &s->features[i], ps_mat_row(&s->zs_photo, i));
        ps_relfeat_photo(s->feat.photo, &s->features[i], ps_mat_row(&s->zs_photo, i), s->zdim,
                         ps_mat_row(&s->photo, i));
    }
}

static int text_vector(ps_relset *s, size_t i, ps_error *err)
{
    ps_query q = {0};
    const char *t = s->text[i];
    if (ps_query_parse(ps_zeroshot_query_model(s->z), t, strlen(t), &q, err) != 0) {
        ps_query_free(&q);
        return ps_error_prefix(err, "text '%s'", s->text_id[i]);
    }
    float *zq = ps_mat_row(&s->zs_query, i);
    /* A text without a content word has no zero-shot embedding: zeros. */
    if (q.nwords == 0 || ps_zeroshot_embed_parsed(s->z, &q, zq, NULL, NULL, NULL) != 0)
        memset(zq, 0, s->zdim * sizeof(float));
    ps_relfeat_text(s->feat.text, &q, s->gdim, zq, s->zdim, ps_mat_row(&s->text_vec, i));
    ps_query_free(&q);
    return 0;
}

/* Texts: distinct allowed train captions (first appearance order), then
 * allowed test queries. */
static int load_texts(ps_relset *s, ps_pairmap *text_map, ps_error *err)
{
    const ps_dataset *ds = &s->ds;
    size_t cap = ds->ntrain + ds->ntest_queries;
    s->text = ps_xcalloc(cap ? cap : 1, sizeof *s->text);
    s->text_id = ps_xcalloc(cap ? cap : 1, sizeof *s->text_id);
    ps_pairmap seen = {0};
    int rc = 0;
    for (size_t i = 0; i < ds->ntrain && rc == 0; i++) {
        const ps_train_row *r = &ds->train[i];
        size_t dup;
        if (ps_pairmap_put(&seen, r->query_id, "", i, &dup))
            continue;
        int b;
        if ((rc = blocked(s, r->query_text, &b, err)) != 0)
            break;
        if (b) {
            s->train_texts_blocked++;
            continue;
        }
        ps_pairmap_put(text_map, r->query_id, "", s->n_texts, &dup);
        s->text_id[s->n_texts] = r->query_id;
        s->text[s->n_texts++] = r->query_text;
    }
    ps_pairmap_free(&seen);
    if (rc)
        return -1;
    s->n_train_texts = s->n_texts;
    for (size_t i = 0; i < ds->ntest_queries; i++) {
        const ps_test_query *q = &ds->test_queries[i];
        int b;
        if (blocked(s, q->query_text, &b, err) != 0)
            return -1;
        if (b) {
            s->test_queries_blocked++;
            continue;
        }
        s->text_id[s->n_texts] = q->query_id;
        s->text[s->n_texts++] = q->query_text;
    }
    s->zs_query = ps_mat_new(s->n_texts, s->zdim);
    s->text_vec = ps_mat_new(s->n_texts, ps_relfeat_text_dim(s->feat.text, s->zdim, s->gdim));
    for (size_t i = 0; i < s->n_texts; i++)
        if (text_vector(s, i, err) != 0)
            return -1;
    return 0;
}

/* The crowd rows without an expert row (kept or dropped), whose caption is
 * an allowed training text and whose photo is a training photo. */
static void add_crowd_pairs(ps_relset *s, const ps_pairmap *photo_map, const ps_pairmap *text_map)
{
    ps_pairmap expert = {0};
    for (size_t i = 0; i < s->ds.nexpert; i++) {
        size_t dup;
        ps_pairmap_put(&expert, s->ds.expert[i].image, s->ds.expert[i].caption_id, i, &dup);
    }
    for (size_t i = 0; i < s->ds.ncrowd; i++) {
        const ps_crowd_row *r = &s->ds.crowd[i];
        size_t t, p, e;
        if (ps_pairmap_get(&expert, r->image, r->caption_id, &e) ||
            !ps_pairmap_get(text_map, r->caption_id, "", &t) ||
            !ps_pairmap_get(photo_map, r->image, "train", &p))
            continue;
        size_t k = s->n_pairs++;
        s->text_idx[k] = (uint32_t)t;
        s->photo_idx[k] = (uint32_t)p;
        s->y[k] = (float)r->ratio;
        s->expert[3 * k] = s->expert[3 * k + 1] = s->expert[3 * k + 2] = 0;
        s->crowd[k] = (float)r->ratio;
        s->has_crowd[k] = 1;
    }
    ps_pairmap_free(&expert);
}

static int load_pairs(ps_relset *s, const ps_pairmap *photo_map, const ps_pairmap *text_map,
                      int crowd_pairs, ps_error *err)
{
    const ps_labels *l = &s->labels;
    size_t n = l->n + (crowd_pairs ? s->ds.ncrowd : 0), ne = ps_relfeat_extra_dim(s->feat.extra);
    n = n ? n : 1;
    s->text_idx = ps_xmalloc(n * sizeof *s->text_idx);
    s->photo_idx = ps_xmalloc(n * sizeof *s->photo_idx);
    s->y = ps_xmalloc(n * sizeof *s->y);
    s->expert = ps_xmalloc(3 * n * sizeof *s->expert);
    s->crowd = ps_xmalloc(n * sizeof *s->crowd);
    s->has_crowd = ps_xmalloc(n);
    for (size_t i = 0; i < l->n; i++) {
        const ps_label_row *r = &l->rows[i];
        size_t t, p;
        if (!r->query_text || r->blocked) {
            s->pairs_blocked += r->blocked;
            continue;
        }
        if (!ps_pairmap_get(text_map, r->caption_id, "", &t))
            return ps_errorf(err, "labels: caption %s has no allowed text", r->caption_id);
        if (!ps_pairmap_get(photo_map, r->image, "train", &p))
            return ps_errorf(err, "labels: photo %s is not in train_images/", r->image);
        size_t k = s->n_pairs++;
        s->text_idx[k] = (uint32_t)t;
        s->photo_idx[k] = (uint32_t)p;
        s->y[k] = (float)r->target;
        for (int e = 0; e < 3; e++)
            s->expert[3 * k + e] = (float)r->expert[e];
        s->crowd[k] = (float)r->crowd_ratio;
        s->has_crowd[k] = r->has_crowd;
    }
    s->n_expert_pairs = s->n_pairs;
    if (crowd_pairs)
        add_crowd_pairs(s, photo_map, text_map);
    s->extra = ps_mat_new(s->n_pairs, ne);
    for (size_t k = 0; k < s->n_pairs; k++)
        ps_relfeat_extra(s->feat.extra, s->z, ps_mat_row(&s->zs_query, s->text_idx[k]),
                         ps_mat_row(&s->zs_photo, s->photo_idx[k]), ps_mat_row(&s->extra, k));
    return 0;
}

/* The photo each text was written for: the photo named by a training
 * caption's id, or a test query's photo. */
static void text_photos(ps_relset *s, const ps_pairmap *photo_map)
{
    s->text_photo = ps_xmalloc((s->n_texts ? s->n_texts : 1) * sizeof *s->text_photo);
    for (size_t t = 0; t < s->n_texts; t++) {
        s->text_photo[t] = -1;
        size_t plen, p;
        long num;
        const char *id = s->text_id[t];
        if (t >= s->n_train_texts || !ps_caption_id_parse(id, strlen(id), &plen, &num))
            continue;
        char *photo = ps_xstrndup(id, plen);
        if (ps_pairmap_get(photo_map, photo, "train", &p))
            s->text_photo[t] = (int32_t)p;
        free(photo);
    }
    for (size_t i = 0; i < s->n_queries; i++)
        s->text_photo[s->query_text[i]] = (int32_t)s->query_photo[i];
}

static int load_queries(ps_relset *s, const ps_pairmap *photo_map, ps_error *err)
{
    size_t n = s->n_texts - s->n_train_texts;
    s->query_text = ps_xmalloc((n ? n : 1) * sizeof *s->query_text);
    s->query_photo = ps_xmalloc((n ? n : 1) * sizeof *s->query_photo);
    /* Test texts keep test_queries.csv order, so the i-th allowed query is
     * the i-th test text. */
    size_t k = 0;
    for (size_t i = 0; i < s->ds.ntest_queries; i++) {
        const ps_test_query *q = &s->ds.test_queries[i];
        size_t t = s->n_train_texts + k;
        if (t >= s->n_texts || s->text_id[t] != q->query_id)
            continue; /* blocked */
        size_t p;
        if (!ps_pairmap_get(photo_map, q->image, "test", &p))
            return ps_errorf(err, "%s:%zu: query %s names photo %s, which is not a test photo",
                             ps_dataset_file_name(PS_DS_TEST_QUERIES), q->line, q->query_id,
                             q->image);
        s->query_text[k] = (uint32_t)t;
        s->query_photo[k] = (uint32_t)p;
        k++;
    }
    s->n_queries = k;
    return 0;
}

/* The weak content label of every photo, from all of its captions
 * (blocked ones included: they are what the label is about). */
static int child_labels(ps_relset *s, const ps_pairmap *photo_map, ps_error *err)
{
    const ps_dataset *ds = &s->ds;
    s->child = ps_xmalloc(s->n_photos ? s->n_photos : 1);
    memset(s->child, -1, s->n_photos);
    ps_pairmap seen = {0};
    int rc = 0;
    for (size_t i = 0; i < ds->ntrain && rc == 0; i++) {
        const ps_train_row *r = &ds->train[i];
        size_t dup, plen, p;
        long num;
        if (ps_pairmap_put(&seen, r->query_id, "", i, &dup))
            continue;
        if (!ps_caption_id_parse(r->query_id, strlen(r->query_id), &plen, &num))
            continue;
        char *photo = ps_xstrndup(r->query_id, plen);
        int found = ps_pairmap_get(photo_map, photo, "train", &p);
        free(photo);
        if (!found)
            continue; /* a caption of a photo outside train_images/ */
        int b;
        if ((rc = blocked(s, r->query_text, &b, err)) != 0)
            break;
        if (s->child[p] < 1)
            s->child[p] = (signed char)b;
    }
    ps_pairmap_free(&seen);
    if (rc)
        return -1;
    for (size_t i = 0; i < ds->ntest_queries; i++) {
        const ps_test_query *q = &ds->test_queries[i];
        size_t p;
        if (!ps_pairmap_get(photo_map, q->image, "test", &p))
            continue;
        int b;
        if (blocked(s, q->query_text, &b, err) != 0)
            return -1;
        if (s->child[p] < 1)
            s->child[p] = (signed char)b;
    }
    return 0;
}

int ps_relset_build(const ps_relset_opts *opts, ps_relset *s, ps_error *err)
{
    ps_relset_opts o;
    if (opts)
        o = *opts;
    else
        ps_relset_opts_default(&o);
    memset(s, 0, sizeof *s);
    s->feat = o.feat;
    ps_pairmap photo_map = {0}, text_map = {0};
    char *dir = ps_dataset_dir(o.data_dir, err);
    if (!dir)
        return -1;
    int rc = ps_dataset_load(&s->ds, dir, NULL, err);
    free(dir);
    if (rc != 0)
        return -1;
    if (!(s->policy = ps_policy_load(o.lexicon, err)) ||
        ps_labels_build(&s->ds, NULL, s->policy, &s->labels, err) != 0)
        goto fail;
    ps_zs_config zc;
    ps_zs_config_default(&zc);
    zc.models_dir = o.models_dir;
    if (!(s->z = ps_zeroshot_open(&zc, err)))
        goto fail;
    s->zdim = ps_zeroshot_dim(s->z);
    s->gdim = s->zdim - ps_zeroshot_vector_offset(s->z);
    if (load_photos(s, &o, &photo_map, err) != 0)
        goto fail;
    photo_vectors(s);
    if (load_texts(s, &text_map, err) != 0 ||
        load_pairs(s, &photo_map, &text_map, o.crowd_pairs, err) != 0 ||
        load_queries(s, &photo_map, err) != 0 || child_labels(s, &photo_map, err) != 0)
        goto fail;
    text_photos(s, &photo_map);
    ps_pairmap_free(&photo_map);
    ps_pairmap_free(&text_map);
    return 0;
fail:
    ps_pairmap_free(&photo_map);
    ps_pairmap_free(&text_map);
    ps_relset_free(s);
    return -1;
}

ps_pairs ps_relset_pairs(const ps_relset *s)
{
    return (ps_pairs){&s->text_vec, &s->photo, s->n_pairs, s->text_idx, s->photo_idx,
                      s->extra.cols ? &s->extra : NULL};
}

void ps_relset_cross_make(const ps_relset *s, const uint32_t *texts, size_t n_texts,
                          const uint32_t *photos, size_t n_photos, ps_relset_cross *c)
{
    size_t n = n_texts * n_photos, ne = ps_relfeat_extra_dim(s->feat.extra);
    c->text_idx = ps_xmalloc((n ? n : 1) * sizeof *c->text_idx);
    c->photo_idx = ps_xmalloc((n ? n : 1) * sizeof *c->photo_idx);
    c->extra = ps_mat_new(n, ne);
    for (size_t i = 0; i < n_texts; i++)
        for (size_t j = 0; j < n_photos; j++) {
            size_t k = i * n_photos + j;
            c->text_idx[k] = texts[i];
            c->photo_idx[k] = photos[j];
            ps_relfeat_extra(s->feat.extra, s->z, ps_mat_row(&s->zs_query, texts[i]),
                             ps_mat_row(&s->zs_photo, photos[j]), ps_mat_row(&c->extra, k));
        }
    c->pairs = (ps_pairs){&s->text_vec, &s->photo, n, c->text_idx, c->photo_idx,
                          ne ? &c->extra : NULL};
}

void ps_relset_cross_free(ps_relset_cross *c)
{
    free(c->text_idx);
    free(c->photo_idx);
    ps_mat_free(&c->extra);
    memset(c, 0, sizeof *c);
}
