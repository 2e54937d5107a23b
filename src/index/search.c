/*
 * search.c - the search engine (see search.h).
 */
#include "index/search.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/utf8.h"
#include "index/blob.h"
#include "index/rank.h"
#include "index/store.h"

struct ps_engine {
    const ps_scorer *scorer;
    ps_rule rule;
    int threads;
    size_t split_values;
    size_t n, cap, dim, stride;
    float *mat;      /* PS_ENGINE_F32: n x stride, PS_RANK_ALIGN-aligned */
    uint16_t *mat16; /* PS_ENGINE_F16: n x stride halves ... */
    float *scale;    /* ... and n row scales */
    int64_t *ids;    /* n */
    char **paths;    /* n absolute paths */
    unsigned char *restricted;
    ps_engine_info info;
};

/* State while loading rows from the store. */
typedef struct loader {
    ps_engine *e;
    ps_store *st;
    ps_features *feat;
    float *row;       /* one float32 row, aligned */
    int64_t *new_ids; /* photos whose embedding was computed now ... */
    float *new_vecs;  /* ... and those embeddings (dim floats each) */
    size_t nnew, capnew;
    ps_buf path;
} loader;

void ps_engine_opts_default(ps_engine_opts *o)
{
    o->busy_ms = -1;
    o->precision = PS_ENGINE_F16;
    o->threads = 2;
    o->split_values = 0;
}

static void *xaligned(size_t bytes)
{
    void *p = aligned_alloc(PS_RANK_ALIGN, (bytes + PS_RANK_ALIGN - 1) / PS_RANK_ALIGN * PS_RANK_ALIGN);
    if (!p)
        abort();
    return p;
}

/* Room for `cap` rows (the count is taken first, so this runs once unless
 * photos were added between the count and the read). */
static void reserve(ps_engine *e, size_t cap)
{
    if (cap <= e->cap)
        return;
    if (e->info.precision == PS_ENGINE_F32) {
        float *m = xaligned(cap * e->stride * sizeof(float));
        if (e->n)
            memcpy(m, e->mat, e->n * e->stride * sizeof(float));
        free(e->mat);
        e->mat = m;
    } else {
        uint16_t *m = xaligned(cap * e->stride * sizeof(uint16_t));
        if (e->n)
            memcpy(m, e->mat16, e->n * e->stride * sizeof(uint16_t));
        free(e->mat16);
        e->mat16 = m;
        e->scale = ps_xrealloc(e->scale, cap * sizeof *e->scale);
    }
    e->ids = ps_xrealloc(e->ids, cap * sizeof *e->ids);
    e->paths = ps_xrealloc(e->paths, cap * sizeof *e->paths);
    e->restricted = ps_xrealloc(e->restricted, cap);
    e->cap = cap;
}

static void remember_new(loader *l, int64_t id, const float *vec)
{
    size_t dim = l->e->dim;
    if (l->nnew == l->capnew) {
        l->capnew = l->capnew ? 2 * l->capnew : 256;
        l->new_ids = ps_xrealloc(l->new_ids, l->capnew * sizeof *l->new_ids);
        l->new_vecs = ps_xrealloc(l->new_vecs, l->capnew * dim * sizeof(float));
    }
    l->new_ids[l->nnew] = id;
    memcpy(l->new_vecs + l->nnew * dim, vec, dim * sizeof(float));
    l->nnew++;
}

static int load_row(void *ctx, const ps_store_photo *p, ps_error *err)
{
    loader *l = ctx;
    ps_engine *e = l->e;
    float *row = l->row;
    memset(row, 0, e->stride * sizeof(float));
    if (p->embedding && p->embedding_len == e->dim * sizeof(float)) {
        memcpy(row, p->embedding, e->dim * sizeof(float));
        e->info.cached++;
    } else {
        ps_error ignored;
        int rc = ps_store_load_features(l->st, p->id, l->feat, err);
        if (rc < 0)
            return -1;
        if (rc > 0 || e->scorer->embed_photo(e->scorer, l->feat, row, &ignored) != 0) {
            /* Features of an older version or damaged: the photo is left
             * out until `picseek index` recomputes it. */
            e->info.unusable++;
            return 0;
        }
        remember_new(l, p->id, row);
        e->info.computed++;
    }
    /* ps_engine_photo's binary search relies on the store's id order:
     * check it rather than trust it. */
    if (e->n && p->id <= e->ids[e->n - 1])
        return ps_errorf(err, "photo %lld comes after photo %lld: the index does not list "
                         "photos in id order", (long long)p->id, (long long)e->ids[e->n - 1]);
    if (e->n == e->cap)
        reserve(e, e->cap ? 2 * e->cap : 1024);
    if (e->info.precision == PS_ENGINE_F32)
        memcpy(e->mat + e->n * e->stride, row, e->stride * sizeof(float));
    else
        ps_rank_row_to_f16(row, e->stride, e->mat16 + e->n * e->stride, &e->scale[e->n]);
    ps_buf_clear(&l->path);
    ps_buf_printf(&l->path, "%s%s%s", p->root, strcmp(p->root, "/") == 0 ? "" : "/", p->rel);
    e->ids[e->n] = p->id;
    e->paths[e->n] = ps_xstrdup(l->path.data);
    e->restricted[e->n] = p->restricted != 0;
    e->n++;
    return 0;
}

/* Write the embeddings computed at open back to the cache.  A failure
 * (read-only file, the indexer holding the lock too long) only costs the
 * next open the same computation, so it is not an error. */
static void save_cache(ps_engine *e, ps_store *st, const loader *l)
{
    if (!l->nnew || ps_store_readonly(st))
        return;
    ps_error ignored;
    e->info.cache_saved =
        ps_store_put_embeddings(st, e->scorer->name, l->new_ids, l->new_vecs, l->nnew, e->dim, &ignored) == 0;
}

/* Read every photo in one read transaction (one snapshot, so the count
 * taken first holds). */
static int load_all(ps_engine *e, ps_store *st, loader *l, ps_error *err)
{
    if (ps_store_exec(st, "BEGIN", err))
        return -1;
    int64_t n = 0;
    int rc = ps_store_count_ok(st, &n, err);
    if (rc == 0) {
        reserve(e, n > 0 ? (size_t)n : 1);
        rc = ps_store_each_photo(st, e->scorer->name, load_row, l, err);
    }
    ps_store_rollback(st); /* ends the read transaction */
    return rc;
}

ps_engine *ps_engine_open(const char *db_path, const ps_scorer *scorer, const ps_rule *rule,
                          const ps_engine_opts *opts, ps_error *err)
{
    ps_engine_opts o;
    ps_engine_opts_default(&o);
    if (opts)
        o = *opts;
    if (!scorer || scorer->dim == 0 || scorer->dim > (1u << 16)) {
        ps_errorf(err, "the scorer has an invalid embedding dimension");
        return NULL;
    }
    if (!rule || !rule->check) {
        ps_errorf(err, "no content rule given");
        return NULL;
    }
    ps_store *st = ps_store_open(db_path, PS_STORE_OPEN, o.busy_ms, err);
    if (!st)
        return NULL;
    ps_engine *e = ps_xcalloc(1, sizeof *e);
    e->scorer = scorer;
    e->rule = *rule;
    e->threads = o.threads > 0 ? (o.threads > 16 ? 16 : o.threads) : 2;
    e->split_values = o.split_values ? o.split_values : PS_ENGINE_SPLIT_VALUES;
    e->dim = scorer->dim;
    e->stride = ps_rank_stride(scorer->dim);
    e->info.precision = o.precision == PS_ENGINE_F32 ? PS_ENGINE_F32 : PS_ENGINE_F16;
    loader l = {.e = e, .st = st, .feat = ps_xmalloc(sizeof(ps_features))};
    l.row = xaligned(e->stride * sizeof(float));
    int rc = load_all(e, st, &l, err);
    if (rc == 0)
        save_cache(e, st, &l);
    free(l.feat);
    free(l.row);
    free(l.new_ids);
    free(l.new_vecs);
    ps_buf_free(&l.path);
    ps_store_close(st);
    if (rc != 0) {
        ps_engine_close(e);
        return NULL;
    }
    e->info.photos = e->n;
    e->info.dim = e->dim;
    size_t width = e->info.precision == PS_ENGINE_F32 ? sizeof(float) : sizeof(uint16_t);
    e->info.bytes = sizeof *e + e->cap * (e->stride * width + sizeof(int64_t) + sizeof(char *) + 1);
    if (e->info.precision == PS_ENGINE_F16)
        e->info.bytes += e->cap * sizeof(float);
    for (size_t i = 0; i < e->n; i++)
        e->info.bytes += strlen(e->paths[i]) + 1;
    return e;
}

void ps_engine_close(ps_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->paths[i]);
    free(e->paths);
    free(e->mat);
    free(e->mat16);
    free(e->scale);
    free(e->ids);
    free(e->restricted);
    free(e);
}

void ps_engine_get_info(const ps_engine *e, ps_engine_info *out)
{
    *out = e->info;
}

int ps_engine_photo(const ps_engine *e, int64_t id, const char **path, bool *restricted)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->ids[mid] < id) {
            lo = mid + 1;
        } else if (e->ids[mid] > id) {
            hi = mid;
        } else {
            *restricted = e->restricted[mid] != 0;
            *path = *restricted ? NULL : e->paths[mid];
            return 0;
        }
    }
    return -1;
}

int ps_query_check(const char *q, size_t len, ps_error *err)
{
    if (!q)
        len = 0;
    size_t i = 0;
    while (i < len && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r'))
        i++;
    if (i == len) {
        ps_errorf(err, "the query is empty; describe the photo you are looking for");
        return PS_SEARCH_BAD_QUERY;
    }
    if (len > PS_QUERY_MAX_BYTES) {
        ps_errorf(err, "the query is %zu bytes long; the limit is %d bytes", len, PS_QUERY_MAX_BYTES);
        return PS_SEARCH_BAD_QUERY;
    }
    size_t bad = 0;
    if (!ps_utf8_validate(q, len, &bad)) {
        ps_errorf(err, "the query is not valid UTF-8 (byte offset %zu)", bad);
        return PS_SEARCH_BAD_QUERY;
    }
    if (memchr(q, '\0', len)) {
        ps_errorf(err, "the query contains a NUL byte (byte offset %zu)",
                  (size_t)((const char *)memchr(q, '\0', len) - q));
        return PS_SEARCH_BAD_QUERY;
    }
    return 0;
}

typedef struct rank_part {
    const ps_rank_matrix *m;
    size_t row0, row1, k, n;
    const float *q;
    ps_ranked *out;
} rank_part;

static void *rank_part_main(void *p)
{
    rank_part *r = p;
    r->n = ps_rank_topk(r->m, r->row0, r->row1, r->q, r->k, r->out);
    return NULL;
}

/* Top k of all rows; a large matrix is split over e->threads threads (the
 * scan is bound by memory bandwidth, which one core does not exhaust). */
static size_t rank_all(const ps_engine *e, const float *q, size_t k, ps_ranked *top)
{
    ps_rank_matrix m = {.rows = e->n, .stride = e->stride, .f32 = e->mat, .f16 = e->mat16, .scale = e->scale};
    int t = e->threads;
    if (t < 2 || e->n < (size_t)t || e->n * e->stride < e->split_values)
        return ps_rank_topk(&m, 0, e->n, q, k, top);
    rank_part parts[16];
    pthread_t th[16];
    int started[16] = {0};
    ps_ranked *cand = ps_xmalloc((size_t)t * k * sizeof *cand);
    for (int i = 0; i < t; i++) {
        parts[i] = (rank_part){&m, e->n * (size_t)i / (size_t)t, e->n * (size_t)(i + 1) / (size_t)t, k, 0, q,
                               cand + (size_t)i * k};
        /* Part 0 runs here; a part whose thread cannot start runs here too. */
        if (i > 0)
            started[i] = pthread_create(&th[i], NULL, rank_part_main, &parts[i]) == 0;
    }
    rank_part_main(&parts[0]);
    for (int i = 1; i < t; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        else
            rank_part_main(&parts[i]);
    }
    /* Compact the parts' candidates and keep the best k. */
    size_t total = 0;
    for (int i = 0; i < t; i++) {
        memmove(cand + total, parts[i].out, parts[i].n * sizeof *cand);
        total += parts[i].n;
    }
    size_t n = ps_rank_merge(cand, total, k);
    memcpy(top, cand, n * sizeof *top);
    free(cand);
    return n;
}

int ps_engine_search(const ps_engine *e, const char *q, size_t len, size_t k, ps_results *out,
                     ps_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = ps_query_check(q, len, err);
    if (rc)
        return rc;
    /* The content rule sees the query before anything else does. */
    if (e->rule.check(e->rule.ctx, q, len, &out->policy, err) != 0)
        return PS_SEARCH_BAD_QUERY;
    if (out->policy.blocked) {
        out->blocked = true;
        return 0;
    }
    if (k < 1)
        k = 1;
    if (k > PS_SEARCH_MAX_K)
        k = PS_SEARCH_MAX_K;
    float *qv = xaligned(e->stride * sizeof(float));
    memset(qv, 0, e->stride * sizeof(float));
    if (e->scorer->embed_query(e->scorer, q, len, qv, err) != 0) {
        free(qv);
        return PS_SEARCH_BAD_QUERY;
    }
    ps_ranked *top = ps_xmalloc(k * sizeof *top);
    size_t n = rank_all(e, qv, k, top);
    out->hits = ps_xcalloc(n ? n : 1, sizeof *out->hits);
    for (size_t i = 0; i < n; i++) {
        ps_hit *h = &out->hits[i];
        size_t row = top[i].row;
        h->id = e->ids[row];
        h->raw = top[i].raw;
        h->score = e->scorer->calibrate ? e->scorer->calibrate(e->scorer, top[i].raw) : top[i].raw;
        h->restricted = e->restricted[row];
        if (!h->restricted) {
            h->path = e->paths[row];
            h->missing = access(h->path, F_OK) != 0;
            out->nmissing += h->missing;
        }
    }
    out->n = n;
    out->searched = e->n;
    free(top);
    free(qv);
    return 0;
}

void ps_results_free(ps_results *r)
{
    free(r->hits);
    memset(r, 0, sizeof *r);
}

void ps_results_json(ps_json *j, const char *q, size_t len, const ps_results *r)
{
    ps_results_json_with(j, q, len, r, NULL, NULL);
}

void ps_results_json_with(ps_json *j, const char *q, size_t len, const ps_results *r,
                          ps_hit_json_fn extra, void *ctx)
{
    ps_json_obj(j);
    ps_json_key(j, "query");
    ps_json_strn(j, q, len);
    ps_json_key(j, "blocked");
    ps_json_bool(j, r->blocked);
    ps_json_key(j, "disclaimer");
    if (r->blocked)
        ps_json_str(j, PS_POLICY_DISCLAIMER);
    else
        ps_json_null(j);
    ps_json_key(j, "results");
    ps_json_arr(j);
    for (size_t i = 0; i < r->n; i++) {
        const ps_hit *h = &r->hits[i];
        ps_json_obj(j);
        ps_json_key(j, "id");
        ps_json_int(j, h->id);
        ps_json_key(j, "path");
        if (h->restricted)
            ps_json_null(j);
        else
            ps_json_str(j, h->path);
        ps_json_key(j, "score");
        ps_json_num(j, h->score);
        ps_json_key(j, "restricted");
        ps_json_bool(j, h->restricted);
        ps_json_key(j, "missing");
        ps_json_bool(j, h->missing);
        if (h->restricted) {
            ps_json_key(j, "notice");
            ps_json_str(j, PS_POLICY_MASK_TEXT);
        }
        if (extra)
            extra(ctx, i, h, j);
        ps_json_end(j);
    }
    ps_json_end(j);
    ps_json_end(j);
}
