/*
 * fake_backend.h - a stand-in search engine for the server's tests (a test
 * double: never part of picseek itself).
 *
 * It holds a fixed list of photos (id, path, restricted, words).  A search
 * scores each photo by how many query words are among its words; a query
 * with "kid", "kids" or "child" is blocked; "slow" makes the search wait
 * (to test graceful shutdown) and "explode" makes it fail (500).  The
 * "thumbnail" is the file's bytes as they are.  An explanation lists the
 * query words the photo has (at most k), blocked and failing like a
 * search.  Counters record the calls so tests can see caching at work.
 */
#ifndef PS_TEST_FAKE_BACKEND_H
#define PS_TEST_FAKE_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/file.h"
#include "core/json.h"
#include "policy/policy.h"
#include "server/server.h"

#define FAKE_MAX_PHOTOS 64

typedef struct fake_photo {
    int64_t id;
    char *path;
    bool restricted;
    const char *words; /* space-separated */
} fake_photo;

typedef struct fake_backend {
    fake_photo photos[FAKE_MAX_PHOTOS];
    size_t n;
    atomic_int searches, thumbnails, lookups;
    atomic_int slow_entered; /* a "slow" search has started */
    int slow_ms;
} fake_backend;

static void fake_add(fake_backend *f, int64_t id, const char *path, bool restricted,
                     const char *words)
{
    fake_photo *p = &f->photos[f->n++];
    p->id = id;
    p->path = ps_xstrdup(path);
    p->restricted = restricted;
    p->words = words;
}

static void fake_free(fake_backend *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->photos[i].path);
    f->n = 0;
}

/* Does the space-separated list `words` hold the word w (wlen bytes)? */
static int fake_has_word(const char *words, const char *w, size_t wlen)
{
    const char *p = words;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == wlen && strncmp(p, w, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int fake_search(void *ctx, const char *q, size_t len, size_t k, ps_buf *json,
                       ps_error *err)
{
    fake_backend *f = ctx;
    atomic_fetch_add(&f->searches, 1);
    if (memchr(q, '\t', len)) {
        ps_errorf(err, "query: a tab is not allowed");
        return PS_BACKEND_BAD_QUERY;
    }
    if (strstr(q, "explode"))
        return ps_errorf(err, "the fake engine exploded on purpose");
    if (strstr(q, "slow")) {
        atomic_store(&f->slow_entered, 1);
        struct timespec t = {f->slow_ms / 1000, (long)(f->slow_ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
    }
    bool blocked = strstr(q, "kid") || strstr(q, "child");
    double score[FAKE_MAX_PHOTOS];
    size_t order[FAKE_MAX_PHOTOS], n = 0;
    for (size_t i = 0; i < f->n && !blocked; i++) {
        int hits = 0;
        const char *p = q;
        while (p < q + len) {
            const char *e = memchr(p, ' ', (size_t)(q + len - p));
            size_t wl = e ? (size_t)(e - p) : (size_t)(q + len - p);
            if (wl && fake_has_word(f->photos[i].words, p, wl))
                hits++;
            p += wl + 1;
        }
        if (hits) {
            score[i] = hits + 1.0 / (double)(i + 2);
            order[n++] = i;
        }
    }
    /* insertion sort by score, best first */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && score[order[j]] > score[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    if (n > k)
        n = k;
    ps_json j;
    ps_json_init(&j, json, 0);
    ps_json_obj(&j);
    ps_json_key(&j, "query");
    ps_json_strn(&j, q, len);
    ps_json_key(&j, "blocked");
    ps_json_bool(&j, blocked);
    ps_json_key(&j, "disclaimer");
    if (blocked)
        ps_json_str(&j, PS_POLICY_DISCLAIMER);
    else
        ps_json_null(&j);
    ps_json_key(&j, "results");
    ps_json_arr(&j);
    for (size_t r = 0; r < n; r++) {
        const fake_photo *p = &f->photos[order[r]];
        ps_json_obj(&j);
        ps_json_key(&j, "id");
        ps_json_int(&j, p->id);
        ps_json_key(&j, "path");
        if (p->restricted)
            ps_json_null(&j);
        else
            ps_json_str(&j, p->path);
        ps_json_key(&j, "score");
        ps_json_num(&j, score[order[r]] / 4.0);
        ps_json_key(&j, "restricted");
        ps_json_bool(&j, p->restricted);
        if (p->restricted) {
            ps_json_key(&j, "notice");
            ps_json_str(&j, PS_POLICY_MASK_TEXT);
        }
        ps_json_end(&j);
    }
    ps_json_end(&j);
    ps_json_end(&j);
    ps_buf_putc(json, '\n');
    return 0;
}

static int fake_photo_lookup(void *ctx, int64_t id, char **path, bool *restricted,
                             ps_error *err)
{
    (void)err;
    fake_backend *f = ctx;
    atomic_fetch_add(&f->lookups, 1);
    for (size_t i = 0; i < f->n; i++) {
        if (f->photos[i].id == id) {
            *restricted = f->photos[i].restricted;
            *path = *restricted ? NULL : ps_xstrdup(f->photos[i].path);
            return 0;
        }
    }
    return PS_BACKEND_NOT_FOUND;
}

static int fake_thumbnail(void *ctx, const char *path, int max_side, unsigned char **jpeg,
                          size_t *len, ps_error *err)
{
    (void)max_side;
    fake_backend *f = ctx;
    atomic_fetch_add(&f->thumbnails, 1);
    char *data = ps_read_file(path, (size_t)16 << 20, len, err);
    if (!data)
        return -1;
    *jpeg = (unsigned char *)data;
    return 0;
}

static void fake_health(void *ctx, ps_json *j)
{
    fake_backend *f = ctx;
    ps_json_key(j, "photos");
    ps_json_int(j, (int64_t)f->n);
}

static int fake_explain(void *ctx, int64_t id, const char *q, size_t len, size_t k,
                        ps_buf *json, ps_error *err)
{
    fake_backend *f = ctx;
    if (strstr(q, "explode"))
        return ps_errorf(err, "the fake explainer exploded on purpose");
    ps_json j;
    ps_json_init(&j, json, 0);
    ps_json_obj(&j);
    ps_json_key(&j, "id");
    ps_json_int(&j, id);
    if (strstr(q, "kid") || strstr(q, "child")) {
        ps_json_key(&j, "blocked");
        ps_json_bool(&j, true);
        ps_json_key(&j, "disclaimer");
        ps_json_str(&j, PS_POLICY_DISCLAIMER);
        ps_json_end(&j);
        return 0;
    }
    const fake_photo *p = NULL;
    for (size_t i = 0; i < f->n && !p; i++)
        if (f->photos[i].id == id)
            p = &f->photos[i];
    if (!p)
        return PS_BACKEND_NOT_FOUND;
    if (p->restricted)
        return PS_BACKEND_RESTRICTED;
    ps_json_key(&j, "blocked");
    ps_json_bool(&j, false);
    ps_json_key(&j, "contributors");
    ps_json_arr(&j);
    size_t n = 0;
    for (const char *w = q; w < q + len && n < k;) {
        const char *e = memchr(w, ' ', (size_t)(q + len - w));
        size_t wl = e ? (size_t)(e - w) : (size_t)(q + len - w);
        if (wl && fake_has_word(p->words, w, wl)) {
            ps_json_obj(&j);
            ps_json_key(&j, "word");
            ps_json_strn(&j, w, wl);
            ps_json_end(&j);
            n++;
        }
        w += wl + 1;
    }
    ps_json_end(&j);
    ps_json_end(&j);
    ps_buf_putc(json, '\n');
    return 0;
}

static ps_server_backend fake_backend_iface(fake_backend *f)
{
    ps_server_backend b = {f, fake_search, fake_photo_lookup, fake_thumbnail, fake_health,
                           fake_explain};
    return b;
}

#endif
