/*
 * search.c - the search engine (see search.h).
 */
#include "index/search.h"

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
    size_t n, cap, dim, stride;
    float *mat;     /* n x stride, PS_RANK_ALIGN-aligned */
    int64_t *ids;   /* n */
    char **paths;   /* n absolute paths */
    unsigned char *restricted;
    ps_engine_info info;
};

/* State while loading rows from the store. */
typedef struct loader {
    ps_engine *e;
    ps_store *st;
    ps_features *feat;
    int64_t *new_ids; /* rows whose embedding was computed now */
    size_t nnew, capnew;
    ps_buf path;
} loader;

static void grow(ps_engine *e)
{
    size_t ncap = e->cap ? 2 * e->cap : 1024;
    float *m = aligned_alloc(PS_RANK_ALIGN, ncap * e->stride * sizeof(float));
    if (!m)
        abort();
    if (e->n)
        memcpy(m, e->mat, e->n * e->stride * sizeof(float));
    free(e->mat);
    e->mat = m;
    e->ids = ps_xrealloc(e->ids, ncap * sizeof *e->ids);
    e->paths = ps_xrealloc(e->paths, ncap * sizeof *e->paths);
    e->restricted = ps_xrealloc(e->restricted, ncap);
    e->cap = ncap;
}

static int load_row(void *ctx, const ps_store_photo *p, ps_error *err)
{
    loader *l = ctx;
    ps_engine *e = l->e;
    if (e->n == e->cap)
        grow(e);
    float *row = e->mat + e->n * e->stride;
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
        if (l->nnew == l->capnew) {
            l->capnew = l->capnew ? 2 * l->capnew : 256;
            l->new_ids = ps_xrealloc(l->new_ids, l->capnew * sizeof *l->new_ids);
        }
        l->new_ids[l->nnew++] = p->id;
        e->info.computed++;
    }
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
    float *vecs = ps_xmalloc(l->nnew * e->dim * sizeof(float));
    int64_t *ids = ps_xmalloc(l->nnew * sizeof *ids);
    size_t k = 0, j = 0;
    /* new_ids is in row order (ascending id), as are e->ids. */
    for (size_t i = 0; i < e->n && k < l->nnew; i++) {
        if (e->ids[i] != l->new_ids[k])
            continue;
        ids[j] = e->ids[i];
        memcpy(vecs + j * e->dim, e->mat + i * e->stride, e->dim * sizeof(float));
        j++;
        k++;
    }
    ps_error ignored;
    e->info.cache_saved = ps_store_put_embeddings(st, e->scorer->name, ids, vecs, j, e->dim, &ignored) == 0;
    free(vecs);
    free(ids);
}

ps_engine *ps_engine_open(const char *db_path, const ps_scorer *scorer, const ps_rule *rule,
                          int busy_ms, ps_error *err)
{
    if (!scorer || scorer->dim == 0 || scorer->dim > (1u << 16)) {
        ps_errorf(err, "the scorer has an invalid embedding dimension");
        return NULL;
    }
    if (!rule || !rule->check) {
        ps_errorf(err, "no content rule given");
        return NULL;
    }
    ps_store *st = ps_store_open(db_path, PS_STORE_OPEN, busy_ms, err);
    if (!st)
        return NULL;
    ps_engine *e = ps_xcalloc(1, sizeof *e);
    e->scorer = scorer;
    e->rule = *rule;
    e->dim = scorer->dim;
    e->stride = ps_rank_stride(scorer->dim);
    loader l = {.e = e, .st = st, .feat = ps_xmalloc(sizeof(ps_features))};
    int rc = ps_store_each_photo(st, scorer->name, load_row, &l, err);
    if (rc == 0)
        save_cache(e, st, &l);
    free(l.feat);
    free(l.new_ids);
    ps_buf_free(&l.path);
    ps_store_close(st);
    if (rc != 0) {
        ps_engine_close(e);
        return NULL;
    }
    e->info.photos = e->n;
    e->info.dim = e->dim;
    e->info.bytes = sizeof *e + e->cap * (e->stride * sizeof(float) + sizeof(int64_t) + sizeof(char *) + 1);
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
    free(e->ids);
    free(e->restricted);
    free(e);
}

void ps_engine_get_info(const ps_engine *e, ps_engine_info *out)
{
    *out = e->info;
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
    float *qv = aligned_alloc(PS_RANK_ALIGN, e->stride * sizeof(float));
    if (!qv)
        abort();
    memset(qv, 0, e->stride * sizeof(float));
    if (e->scorer->embed_query(e->scorer, q, len, qv, err) != 0) {
        free(qv);
        return PS_SEARCH_BAD_QUERY;
    }
    ps_ranked *top = ps_xmalloc(k * sizeof *top);
    size_t n = ps_rank_topk(e->mat, e->n, e->stride, qv, k, top);
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
        ps_json_end(j);
    }
    ps_json_end(j);
    ps_json_end(j);
}
