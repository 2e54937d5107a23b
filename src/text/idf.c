/*
 * idf.c - the IDF table: loading, lookup and counting (see idf.h).
 */
#include "text/idf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/digits.h"
#include "core/file.h"
#include "core/lines.h"
#include "core/utf8.h"

#define IDF_LEMMA_MAX 256 /* longest lemma accepted in a file, bytes */

struct ps_idf {
    size_t ndocs;
    size_t n;
    char **lemma;  /* sorted (strcmp) */
    size_t *df;
    char *store;   /* owns the lemma strings */
};

char *ps_idf_default_path(void)
{
    const char *env = getenv("PICSEEK_IDF");
    if (env && *env)
        return ps_xstrdup(env);
    return ps_path_join(PICSEEK_SOURCE_DIR, "data/caption_idf.tsv");
}

/* A whole number in s[0..n) within [lo, hi]. */
static int parse_count(const char *s, size_t n, size_t lo, size_t hi, size_t *out)
{
    uint64_t v;
    if (ps_parse_digits(s, n, 12, &v) != 0 || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

static void idf_fail_cleanup(ps_idf *t)
{
    free(t->lemma);
    free(t->df);
    free(t->store);
    free(t);
}

ps_idf *ps_idf_parse(const char *path, const char *data, size_t len, ps_error *err)
{
    ps_idf *t = ps_xcalloc(1, sizeof *t);
    t->store = ps_xmalloc(len + 1);
    size_t store_len = 0, cap = 0;
    int have_docs = 0;
    ps_lines r;
    ps_lines_init(&r, data, len);
    const char *s;
    size_t n;
    while (ps_lines_next_data(&r, &s, &n)) {
        int line = r.no;
        size_t bad;
        if (!ps_utf8_validate(s, n, &bad)) {
            ps_errorf(err, "%s:%d: column %zu: invalid UTF-8", path, line, bad + 1);
            goto fail;
        }
        const char *tab = memchr(s, '\t', n);
        if (!tab || memchr(tab + 1, '\t', n - (size_t)(tab + 1 - s))) {
            ps_errorf(err, "%s:%d: expected two tab-separated fields", path, line);
            goto fail;
        }
        size_t klen = (size_t)(tab - s), vlen = n - klen - 1;
        if (!have_docs) {
            if (klen != 9 || memcmp(s, "documents", 9) != 0 ||
                parse_count(tab + 1, vlen, 1, (size_t)1 << 40, &t->ndocs)) {
                ps_errorf(err, "%s:%d: expected 'documents<TAB>N' with N >= 1 first", path, line);
                goto fail;
            }
            have_docs = 1;
            continue;
        }
        if (klen == 0 || klen >= IDF_LEMMA_MAX || memchr(s, ' ', klen) || memchr(s, '\0', klen)) {
            ps_errorf(err, "%s:%d: a lemma must be 1 to %d bytes without spaces", path, line,
                      IDF_LEMMA_MAX - 1);
            goto fail;
        }
        size_t df;
        if (parse_count(tab + 1, vlen, 1, t->ndocs, &df)) {
            ps_errorf(err, "%s:%d: document frequency must be a whole number from 1 to %zu",
                      path, line, t->ndocs);
            goto fail;
        }
        char *lem = t->store + store_len;
        memcpy(lem, s, klen);
        lem[klen] = '\0';
        if (t->n && strcmp(t->lemma[t->n - 1], lem) >= 0) {
            ps_errorf(err, "%s:%d: lemma '%s' is out of order or repeated (lemmas must be "
                      "sorted bytewise and unique)", path, line, lem);
            goto fail;
        }
        store_len += klen + 1;
        if (t->n == cap) {
            cap = cap ? cap * 2 : 256;
            t->lemma = ps_xrealloc(t->lemma, cap * sizeof *t->lemma);
            t->df = ps_xrealloc(t->df, cap * sizeof *t->df);
        }
        t->lemma[t->n] = lem;
        t->df[t->n] = df;
        t->n++;
    }
    if (!have_docs) {
        ps_errorf(err, "%s: no 'documents<TAB>N' line", path);
        goto fail;
    }
    return t;
fail:
    idf_fail_cleanup(t);
    return NULL;
}

ps_idf *ps_idf_load(const char *path, ps_error *err)
{
    char *def = path ? NULL : ps_idf_default_path();
    const char *use = path ? path : def;
    size_t len;
    char *data = ps_read_file(use, PS_IDF_MAX_BYTES, &len, err);
    ps_idf *t = data ? ps_idf_parse(use, data, len, err) : NULL;
    free(data);
    free(def);
    return t;
}

void ps_idf_free(ps_idf *t)
{
    if (t)
        idf_fail_cleanup(t);
}

size_t ps_idf_documents(const ps_idf *t) { return t->ndocs; }
size_t ps_idf_size(const ps_idf *t) { return t->n; }

static int cmp_key(const void *k, const void *e)
{
    return strcmp((const char *)k, *(char *const *)e);
}

size_t ps_idf_df(const ps_idf *t, const char *lemma)
{
    char *const *hit = bsearch(lemma, t->lemma, t->n, sizeof *t->lemma, cmp_key);
    return hit ? t->df[hit - t->lemma] : 0;
}

double ps_idf_weight(const ps_idf *t, const char *lemma)
{
    return log((double)(t->ndocs + 1) / (double)(ps_idf_df(t, lemma) + 1)) + 1.0;
}

/* ---- counting ---------------------------------------------------------- */

/* Open addressing, keys owned; `last_doc` stops double counting. */
typedef struct cnt_slot {
    char *key;
    size_t df;
    size_t last_doc;
} cnt_slot;

struct ps_idf_counter {
    cnt_slot *slot;
    size_t cap, n;
    size_t ndocs;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

ps_idf_counter *ps_idf_counter_new(void)
{
    ps_idf_counter *c = ps_xcalloc(1, sizeof *c);
    c->cap = 1024;
    c->slot = ps_xcalloc(c->cap, sizeof *c->slot);
    return c;
}

void ps_idf_counter_free(ps_idf_counter *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->cap; i++)
        free(c->slot[i].key);
    free(c->slot);
    free(c);
}

void ps_idf_counter_doc(ps_idf_counter *c) { c->ndocs++; }

static cnt_slot *cnt_find(cnt_slot *slot, size_t cap, const char *key)
{
    size_t i = (size_t)hash_str(key) & (cap - 1);
    while (slot[i].key && strcmp(slot[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slot[i];
}

static void cnt_grow(ps_idf_counter *c)
{
    size_t ncap = c->cap * 2;
    cnt_slot *ns = ps_xcalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i].key)
            *cnt_find(ns, ncap, c->slot[i].key) = c->slot[i];
    free(c->slot);
    c->slot = ns;
    c->cap = ncap;
}

void ps_idf_counter_add(ps_idf_counter *c, const char *lemma)
{
    if (c->ndocs == 0 || !*lemma)
        return;
    if (2 * (c->n + 1) > c->cap)
        cnt_grow(c);
    cnt_slot *s = cnt_find(c->slot, c->cap, lemma);
    if (!s->key) {
        s->key = ps_xstrdup(lemma);
        c->n++;
    }
    if (s->last_doc != c->ndocs) {
        s->last_doc = c->ndocs;
        s->df++;
    }
}

static int cmp_slot_ptr(const void *a, const void *b)
{
    return strcmp((*(cnt_slot *const *)a)->key, (*(cnt_slot *const *)b)->key);
}

void ps_idf_counter_write(const ps_idf_counter *c, const char *comment, ps_buf *out)
{
    if (comment) {
        const char *p = comment;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            ps_buf_puts(out, "# ");
            ps_buf_append(out, p, n);
            ps_buf_putc(out, '\n');
            p += n + (nl != NULL);
        }
    }
    ps_buf_printf(out, "documents\t%zu\n", c->ndocs);
    cnt_slot **v = ps_xmalloc((c->n ? c->n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i].key)
            v[k++] = &c->slot[i];
    qsort(v, k, sizeof *v, cmp_slot_ptr);
    for (size_t i = 0; i < k; i++)
        ps_buf_printf(out, "%s\t%zu\n", v[i]->key, v[i]->df);
    free(v);
}
