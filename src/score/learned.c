/*
 * learned.c - the model file of `picseek train` and the learned scorer.
 */
#include "score/learned.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "learn/linalg.h"
#include "learn/modelfile.h"

void ps_learned_opts_default(ps_learned_opts *o)
{
    memset(o, 0, sizeof *o);
    ps_relmodel_opts_default(&o->model);
    ps_content_opts_default(&o->content);
}

char *ps_learned_default_path(ps_error *err)
{
    const char *env = getenv("PICSEEK_MODEL");
    if (env && *env)
        return ps_xstrdup(env);
    char *cache = ps_cache_dir(err);
    if (!cache)
        return NULL;
    char *path = ps_path_join(cache, "model.psm");
    free(cache);
    return path;
}

void ps_learned_free(ps_learned_model *m)
{
    for (size_t k = 0; k < m->n_rel; k++)
        ps_bilinear_free(&m->rel[k]);
    free(m->rel);
    ps_pca_free(&m->pca);
    ps_content_free(&m->content);
    memset(m, 0, sizeof *m);
}

/* "zeroshot-v1-3fa9c2e1" -> 1, 0x3fa9c2e1. */
static int parse_zs_name(const char *name, int *version, uint32_t *hash)
{
    unsigned v;
    char hex[9];
    if (sscanf(name, "zeroshot-v%u-%8[0-9a-f]", &v, hex) != 2 || strlen(hex) != 8)
        return -1;
    *version = (int)v;
    *hash = (uint32_t)strtoul(hex, NULL, 16);
    return 0;
}

int ps_learned_train(const ps_relset *s, const ps_learned_opts *opts, ps_learned_model *m,
                     ps_content_report *crep, ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_learned_opts o;
    if (opts)
        o = *opts;
    else
        ps_learned_opts_default(&o);
    m->feat = s->feat;
    m->zdim = s->zdim;
    m->gdim = s->gdim;
    if (parse_zs_name(ps_zeroshot_name(s->z), &m->zs_version, &m->zs_hash) != 0)
        return ps_errorf(err, "unexpected zero-shot score name '%s'", ps_zeroshot_name(s->z));
    ps_pairs p = ps_relset_pairs(s);
    ps_relmodel rm;
    if (o.log)
        fprintf(o.log, "training the relevance model on %zu pairs (%zu expert)\n", s->n_pairs,
                s->n_expert_pairs);
    if (ps_relmodel_train(&rm, PS_RM_BILINEAR, &p, s->y, s->photo_idx, s->n_expert_pairs, NULL, 0,
                          &o.model, err))
        return -1;
    m->rel = rm.bl; /* take the bilinear models and the PCA out of the wrapper */
    m->n_rel = rm.n_bl;
    m->pca = rm.pca;
    rm.bl = NULL;
    rm.n_bl = 0;
    memset(&rm.pca, 0, sizeof rm.pca);
    ps_relmodel_free(&rm);
    m->train_pairs = s->n_pairs;
    for (size_t k = 0; k < m->n_rel; k++)
        m->train_epochs += m->rel[k].best_epoch;
    m->seed = o.model.seed;
    if (o.log)
        fprintf(o.log, "relevance model: %zu members, %zu epochs in all; training the content "
                       "classifier\n", m->n_rel, m->train_epochs);
    if (ps_content_train(s, &o.content, &m->content, crep, err) != 0) {
        ps_learned_free(m);
        return -1;
    }
    return 0;
}

/* ---- the file ------------------------------------------------------------------- */

void ps_learned_serialize(const ps_learned_model *m, ps_buf *out)
{
    ps_modelfile f;
    ps_modelfile_init(&f, PS_LEARNED_KIND);
    ps_modelfile_add_scalar(&f, "format", PS_LEARNED_FORMAT);
    ps_modelfile_add_scalar(&f, "feat.photo", m->feat.photo);
    ps_modelfile_add_scalar(&f, "feat.text", m->feat.text);
    ps_modelfile_add_scalar(&f, "feat.extra", m->feat.extra);
    ps_modelfile_add_scalar(&f, "zs.version", m->zs_version);
    float hash[2] = {(float)(m->zs_hash >> 16), (float)(m->zs_hash & 0xffff)};
    ps_modelfile_add_vec(&f, "zs.hash", hash, 2);
    ps_modelfile_add_scalar(&f, "zs.dim", (double)m->zdim);
    ps_modelfile_add_scalar(&f, "glove.dim", (double)m->gdim);
    if (m->pca.k)
        ps_pca_put(&m->pca, &f, "rel.pca.");
    ps_modelfile_add_scalar(&f, "rel.members", (double)m->n_rel);
    for (size_t k = 0; k < m->n_rel; k++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "rel%zu.", k);
        ps_bilinear_put(&m->rel[k], &f, prefix);
    }
    ps_content_put(&m->content, &f, "content.");
    ps_modelfile_add_scalar(&f, "train.pairs", (double)m->train_pairs);
    ps_modelfile_add_scalar(&f, "train.epochs", (double)m->train_epochs);
    ps_modelfile_add_scalar(&f, "train.seed", (double)(m->seed & 0xffffff));
    ps_modelfile_serialize(&f, out);
    ps_modelfile_free(&f);
}

int ps_learned_save(const ps_learned_model *m, const char *path, ps_error *err)
{
    ps_buf b = {0};
    ps_learned_serialize(m, &b);
    int rc = ps_write_file_atomic(path, b.data, b.len, err);
    ps_buf_free(&b);
    return rc;
}

static int get_int(const ps_modelfile *f, const char *name, long lo, long hi, long *out,
                   ps_error *err)
{
    return ps_modelfile_int(f, name, lo, hi, out, err);
}

int ps_learned_parse(const void *data, size_t len, const char *source, ps_learned_model *m,
                     ps_error *err)
{
    memset(m, 0, sizeof *m);
    ps_modelfile f;
    if (ps_modelfile_parse(data, len, source, PS_LEARNED_KIND, &f, err) != 0)
        return -1;
    long format, photo, text, extra, zv, zdim, gdim, pairs, epochs, seed;
    double fmt;
    if (ps_modelfile_scalar(&f, "format", &fmt, err) != 0)
        goto fail;
    format = (long)fmt;
    if (fmt != PS_LEARNED_FORMAT) {
        ps_errorf(err, "%s: byte offset %zu: model format %g; this picseek reads format %d: "
                       "train a new model with `picseek train`", source,
                  ps_modelfile_find(&f, "format")->offset, fmt, PS_LEARNED_FORMAT);
        goto fail;
    }
    (void)format;
    uint64_t two[1] = {2};
    const float *hash;
    if (get_int(&f, "feat.photo", 1, PS_PF_ALL, &photo, err) ||
        get_int(&f, "feat.text", 1, PS_TF_ALL, &text, err) ||
        get_int(&f, "feat.extra", 0, PS_EF_ALL, &extra, err) ||
        get_int(&f, "zs.version", 0, 1000000, &zv, err) ||
        !(hash = ps_modelfile_array(&f, "zs.hash", 1, two, err)) ||
        get_int(&f, "zs.dim", 1, 1 << 20, &zdim, err) ||
        get_int(&f, "glove.dim", 1, 4096, &gdim, err) ||
        get_int(&f, "train.pairs", 0, 1L << 40, &pairs, err) ||
        get_int(&f, "train.epochs", 0, 1L << 30, &epochs, err) ||
        get_int(&f, "train.seed", 0, 1L << 24, &seed, err))
        goto fail;
    for (int i = 0; i < 2; i++)
        if (!(hash[i] >= 0 && hash[i] <= 65535 && hash[i] == floorf(hash[i]))) {
            ps_errorf(err, "%s: byte offset %zu: zs.hash holds invalid values", source,
                      ps_modelfile_find(&f, "zs.hash")->offset);
            goto fail;
        }
    m->feat = (ps_relfeat){(unsigned)photo, (unsigned)text, (unsigned)extra};
    m->zs_version = (int)zv;
    m->zs_hash = (uint32_t)hash[0] << 16 | (uint32_t)hash[1];
    m->zdim = (size_t)zdim;
    m->gdim = (size_t)gdim;
    m->train_pairs = (size_t)pairs;
    m->train_epochs = (size_t)epochs;
    m->seed = (uint64_t)seed;
    long members;
    if ((ps_modelfile_find(&f, "rel.pca.components") &&
         ps_pca_get(&m->pca, &f, "rel.pca.", err) != 0) ||
        get_int(&f, "rel.members", 1, 64, &members, err) ||
        ps_content_get(&m->content, &f, "content.", err) != 0)
        goto fail;
    m->rel = ps_xcalloc((size_t)members, sizeof *m->rel);
    for (long k = 0; k < members; k++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "rel%ld.", k);
        if (ps_bilinear_get(&m->rel[k], &f, prefix, err) != 0)
            goto fail;
        m->n_rel = (size_t)k + 1;
    }
    size_t dt = ps_relfeat_text_dim(m->feat.text, m->zdim, m->gdim);
    size_t dp = ps_relfeat_photo_dim(m->feat.photo, m->zdim);
    if (m->pca.k) {
        if (m->pca.d != dp) {
            ps_errorf(err, "%s: the photo PCA takes %zu features, the feature blocks give %zu",
                      source, m->pca.d, dp);
            goto fail;
        }
        dp = m->pca.k;
    }
    size_t ne = ps_relfeat_extra_dim(m->feat.extra);
    for (size_t k = 0; k < m->n_rel; k++) {
        const ps_bilinear *b = &m->rel[k];
        if (b->dt != dt || b->dp != dp || b->n_extra != ne || b->rank != m->rel[0].rank ||
            b->sigmoid_out != m->rel[0].sigmoid_out) {
            ps_errorf(err, "%s: relevance model member %zu takes %zu text, %zu photo and %zu "
                           "extra features (rank %zu); the feature blocks give %zu, %zu and %zu "
                           "(rank %zu)", source, k, b->dt, b->dp, b->n_extra, b->rank, dt, dp,
                      ne, m->rel[0].rank);
            goto fail;
        }
    }
    ps_modelfile_free(&f);
    return 0;
fail:
    ps_modelfile_free(&f);
    ps_learned_free(m);
    return -1;
}

int ps_learned_load(const char *path, ps_learned_model *m, ps_error *err)
{
    memset(m, 0, sizeof *m);
    size_t len;
    char *data = ps_read_file(path, PS_MODEL_MAX_BYTES, &len, err);
    if (!data)
        return -1;
    int rc = ps_learned_parse(data, len, path, m, err);
    free(data);
    return rc;
}

int ps_learned_load_content(const char *path, ps_content_model *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    ps_modelfile f;
    if (ps_modelfile_load(path, PS_LEARNED_KIND, &f, err) != 0)
        return -1;
    double fmt;
    int rc = -1;
    if (ps_modelfile_scalar(&f, "format", &fmt, err) == 0) {
        if (fmt != PS_LEARNED_FORMAT)
            ps_errorf(err, "%s: byte offset %zu: model format %g; this picseek reads format %d: "
                           "train a new model with `picseek train`", path,
                      ps_modelfile_find(&f, "format")->offset, fmt, PS_LEARNED_FORMAT);
        else
            rc = ps_content_get(out, &f, "content.", err);
    }
    ps_modelfile_free(&f);
    return rc;
}

int ps_learned_check(const ps_learned_model *m, const ps_zeroshot *z, const char *source,
                     ps_error *err)
{
    int v;
    uint32_t h;
    const char *name = ps_zeroshot_name(z);
    if (parse_zs_name(name, &v, &h) != 0 || v != m->zs_version || h != m->zs_hash)
        return ps_errorf(err, "%s was trained with the zero-shot score zeroshot-v%d-%08x, but "
                              "this picseek computes %s (its parameters, word vectors or "
                              "label files differ): train a new model with `picseek train`",
                         source, m->zs_version, (unsigned)m->zs_hash, name);
    size_t zdim = ps_zeroshot_dim(z), gdim = zdim - ps_zeroshot_vector_offset(z);
    if (zdim != m->zdim || gdim != m->gdim)
        return ps_errorf(err, "%s expects zero-shot embeddings of %zu numbers (%zu from GloVe), "
                              "this picseek has %zu (%zu): train a new model with `picseek "
                              "train`", source, m->zdim, m->gdim, zdim, gdim);
    return 0;
}

/* ---- scoring -------------------------------------------------------------------- */

/* The model's photo vector (after the PCA, if any) into P (1 x rel.dp);
 * zp gets the zero-shot photo embedding. */
static void photo_side(const ps_learned_model *m, const ps_zeroshot *z, const ps_features *f,
                       float *zp, ps_mat *P)
{
    size_t d = ps_relfeat_photo_dim(m->feat.photo, m->zdim);
    float *raw = ps_xmalloc(d * sizeof *raw);
    ps_zeroshot_embed_photo(z, f, zp);
    ps_relfeat_photo(m->feat.photo, f, zp, m->zdim, raw);
    if (m->pca.k)
        ps_pca_transform_row(&m->pca, raw, P->data);
    else
        memcpy(P->data, raw, d * sizeof *raw);
    free(raw);
}

/* Text vector and zero-shot query embedding of a text; fails for invalid
 * UTF-8 or a text without a content word. */
static int text_side(const ps_learned_model *m, const ps_zeroshot *z, const char *text,
                     size_t len, float *t, float *zq, ps_error *err)
{
    ps_query q = {0};
    int rc = ps_query_parse(ps_zeroshot_query_model(z), text, len, &q, err);
    if (rc == 0)
        rc = ps_zeroshot_embed_parsed(z, &q, zq, NULL, NULL, err);
    if (rc == 0)
        ps_relfeat_text(m->feat.text, &q, m->gdim, zq, m->zdim, t);
    ps_query_free(&q);
    return rc;
}

int ps_learned_predict(const ps_learned_model *m, const ps_zeroshot *z, const char *text,
                       size_t len, const ps_features *f, float *out, ps_error *err)
{
    if (ps_learned_check(m, z, "the model", err) != 0)
        return -1;
    const ps_bilinear *b0 = &m->rel[0];
    ps_mat T = ps_mat_new(1, b0->dt), P = ps_mat_new(1, b0->dp);
    ps_mat E = ps_mat_new(1, b0->n_extra);
    float *zq = ps_xmalloc(m->zdim * sizeof *zq), *zp = ps_xmalloc(m->zdim * sizeof *zp);
    int rc = text_side(m, z, text, len, T.data, zq, err);
    if (rc == 0) {
        photo_side(m, z, f, zp, &P);
        ps_relfeat_extra(m->feat.extra, z, zq, zp, E.data);
        uint32_t zero = 0;
        ps_pairs p = {&T, &P, 1, &zero, &zero, b0->n_extra ? &E : NULL};
        ps_relmodel_ensemble_predict(m->rel, m->n_rel, &p, NULL, 1, out);
    }
    free(zq);
    free(zp);
    ps_mat_free(&T);
    ps_mat_free(&P);
    ps_mat_free(&E);
    return rc;
}

typedef struct learned_scorer {
    ps_learned_model m;
    ps_zeroshot *z;
    size_t rank, extra_dim;
} learned_scorer;

static int sc_embed_photo(const ps_scorer *s, const ps_features *f, float *out, ps_error *err)
{
    (void)err;
    const learned_scorer *ls = s->impl;
    const ps_learned_model *m = &ls->m;
    size_t r = ls->rank;
    float *zp = ps_xmalloc(m->zdim * sizeof *zp);
    ps_mat P = ps_mat_new(1, m->rel[0].dp);
    photo_side(m, ls->z, f, zp, &P);
    float *o = out;
    for (size_t k = 0; k < m->n_rel; k++) {
        ps_mat V = ps_bilinear_embed_photos(&m->rel[k], &P); /* r + 1 numbers */
        memcpy(o, V.data, (r + 1) * sizeof(float));
        o[r + 1] = 1.0f;
        o += r + 2;
        ps_mat_free(&V);
    }
    if (ls->extra_dim)
        memcpy(o, zp, m->zdim * sizeof(float));
    ps_mat_free(&P);
    free(zp);
    return 0;
}

static int sc_embed_query(const ps_scorer *s, const char *text, size_t len, float *out,
                          ps_error *err)
{
    const learned_scorer *ls = s->impl;
    const ps_learned_model *m = &ls->m;
    const ps_bilinear *b0 = &m->rel[0];
    size_t r = ls->rank, M = m->n_rel;
    float *t = ps_xmalloc(b0->dt * sizeof *t), *zq = ps_xmalloc(m->zdim * sizeof *zq);
    float *u = ps_xmalloc((r + 1) * sizeof *u);
    int rc = text_side(m, ls->z, text, len, t, zq, err);
    if (rc == 0) {
        float *o = out;
        for (size_t k = 0; k < M; k++) {
            const ps_bilinear *bl = &m->rel[k];
            ps_bilinear_embed_text(bl, t, u); /* r + 1 numbers */
            double c = (double)u[r] + bl->b;
            for (size_t e = 0; e < bl->n_extra; e++)
                c -= (double)bl->we[e] * bl->e_mean[e] / bl->e_scale[e];
            for (size_t j = 0; j < r; j++)
                o[j] = u[j] / (float)M;
            o[r] = 1.0f / (float)M;
            o[r + 1] = (float)(c / (double)M);
            o += r + 2;
        }
        /* The extras are dot products over ranges of the zero-shot
         * dimensions: one weight per dimension sums them all. */
        if (ls->extra_dim) {
            double *w = ps_xcalloc(m->zdim, sizeof *w);
            for (size_t e = 0; e < b0->n_extra; e++) {
                size_t lo, hi;
                ps_relfeat_extra_range(ls->z, m->feat.extra, e, &lo, &hi);
                double we = 0;
                for (size_t k = 0; k < M; k++)
                    we += (double)m->rel[k].we[e] / m->rel[k].e_scale[e];
                for (size_t j = lo; j < hi; j++)
                    w[j] += we / (double)M;
            }
            for (size_t j = 0; j < m->zdim; j++)
                o[j] = (float)w[j] * zq[j];
            free(w);
        }
    }
    free(u);
    free(t);
    free(zq);
    return rc;
}

static float sc_calibrate(const ps_scorer *s, float raw)
{
    const learned_scorer *ls = s->impl;
    return ls->m.rel[0].sigmoid_out ? 1.0f / (1.0f + expf(-raw)) : raw;
}

static void sc_destroy(ps_scorer *s)
{
    learned_scorer *ls = s->impl;
    ps_learned_free(&ls->m);
    ps_zeroshot_close(ls->z);
    free(ls);
    free(s);
}

ps_scorer *ps_learned_scorer_new(const char *path, const ps_zs_config *zcfg, ps_error *err)
{
    size_t len;
    char *data = ps_read_file(path, PS_MODEL_MAX_BYTES, &len, err);
    if (!data)
        return NULL;
    char hex[65];
    ps_sha256_hex(data, len, hex);
    learned_scorer *ls = ps_xcalloc(1, sizeof *ls);
    int rc = ps_learned_parse(data, len, path, &ls->m, err);
    free(data);
    if (rc != 0) {
        free(ls);
        return NULL;
    }
    ps_zs_config cfg;
    if (zcfg)
        cfg = *zcfg;
    else
        ps_zs_config_default(&cfg);
    if (!(ls->z = ps_zeroshot_open(&cfg, err)) || ps_learned_check(&ls->m, ls->z, path, err)) {
        ps_zeroshot_close(ls->z);
        ps_learned_free(&ls->m);
        free(ls);
        return NULL;
    }
    ls->rank = ls->m.rel[0].rank;
    ls->extra_dim = ls->m.rel[0].n_extra ? ls->m.zdim : 0;
    ps_scorer *s = ps_xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "learned-v%d-%.8s", PS_LEARNED_FORMAT, hex);
    s->dim = ls->m.n_rel * (ls->rank + 2) + ls->extra_dim;
    s->embed_photo = sc_embed_photo;
    s->embed_query = sc_embed_query;
    s->calibrate = sc_calibrate;
    s->destroy = sc_destroy;
    s->impl = ls;
    return s;
}

const ps_learned_model *ps_learned_of(const ps_scorer *s)
{
    return s && s->destroy == sc_destroy ? &((const learned_scorer *)s->impl)->m : NULL;
}

const ps_zeroshot *ps_learned_zeroshot_of(const ps_scorer *s)
{
    return s && s->destroy == sc_destroy ? ((const learned_scorer *)s->impl)->z : NULL;
}
