/*
 * http_parse.c - strict request-target parsing (see http_parse.h).
 */
#include "server/http_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/digits.h"
#include "core/utf8.h"

const char *const PS_WEB_FILES[] = {"index.html", "app.js", "style.css", "favicon.svg", NULL};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ps_url_decode(const char *s, size_t n, bool plus_is_space, ps_buf *out, ps_error *err)
{
    size_t start = out->len;
    ps_buf_reserve(out, n + 1);
    out->data[out->len] = '\0';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '#')
            return ps_errorf(err, "byte %zu: character 0x%02x is not allowed in a URL; "
                             "percent-encode it", i, c);
        if (c == '%') {
            if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return ps_errorf(err, "byte %zu: '%%' must be followed by two hex digits", i);
            c = (unsigned char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            if (c == 0)
                return ps_errorf(err, "byte %zu: %%00 (a NUL byte) is not allowed", i);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        ps_buf_putc(out, (char)c);
    }
    size_t bad;
    if (!ps_utf8_validate(out->data + start, out->len - start, &bad)) {
        out->len = start;
        out->data[start] = '\0';
        return ps_errorf(err, "byte %zu of the decoded text: invalid UTF-8", bad);
    }
    return 0;
}

int ps_parse_id(const char *s, size_t n, int64_t *out)
{
    uint64_t v;
    if (n == 0 || s[0] == '0' || ps_parse_digits(s, n, 18, &v) != 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* Decoded path segments; the server's routes have at most three. */
#define MAX_SEGS 4

typedef struct segs {
    ps_buf seg[MAX_SEGS];
    size_t n;     /* segments seen (may exceed MAX_SEGS: the rest not kept) */
} segs;

static void segs_free(segs *s)
{
    for (size_t i = 0; i < MAX_SEGS; i++)
        ps_buf_free(&s->seg[i]);
}

/* Split and strictly decode "/a/b/c" (without the query). */
static int split_path(const char *p, size_t n, segs *out, ps_error *err)
{
    if (n == 0 || p[0] != '/')
        return ps_errorf(err, "the request target must be a path starting with '/'");
    size_t i = 1;
    for (;;) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        ps_buf tmp = {0};
        ps_error e2;
        if (ps_url_decode(p + i, j - i, false, &tmp, &e2) != 0) {
            ps_buf_free(&tmp);
            return ps_errorf(err, "path: %s", e2.msg);
        }
        const char *d = tmp.data ? tmp.data : "";
        int bad = 0;
        if (memchr(d, '/', tmp.len))
            bad = ps_errorf(err, "path: an encoded '/' (%%2F) is not allowed");
        else if (memchr(d, '\\', tmp.len))
            bad = ps_errorf(err, "path: a backslash is not allowed");
        else if (strcmp(d, ".") == 0 || strcmp(d, "..") == 0)
            bad = ps_errorf(err, "path: '.' and '..' segments are not allowed");
        if (bad) {
            ps_buf_free(&tmp);
            return -1;
        }
        if (out->n < MAX_SEGS)
            out->seg[out->n] = tmp;
        else
            ps_buf_free(&tmp);
        out->n++;
        if (j >= n)
            break;
        i = j + 1;
    }
    return 0;
}

static int seg_is(const segs *s, size_t i, const char *lit)
{
    return i < s->n && i < MAX_SEGS && s->seg[i].data && strcmp(s->seg[i].data, lit) == 0;
}

static const char *seg_str(const segs *s, size_t i)
{
    return s->seg[i].data ? s->seg[i].data : "";
}

int ps_http_route(const char *target, size_t n, ps_route *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    const char *qm = memchr(target, '?', n);
    size_t plen = qm ? (size_t)(qm - target) : n;
    if (qm) {
        out->query = qm + 1;
        out->query_len = n - plen - 1;
    }
    segs s = {0};
    if (split_path(target, plen, &s, err) != 0) {
        segs_free(&s);
        return -1;
    }
    if (s.n == 1) {
        const char *name = seg_str(&s, 0);
        if (name[0] == '\0')
            name = "index.html";
        for (size_t i = 0; PS_WEB_FILES[i]; i++) {
            if (strcmp(name, PS_WEB_FILES[i]) == 0) {
                out->kind = PS_ROUTE_STATIC;
                out->static_name = PS_WEB_FILES[i];
            }
        }
        if (strcmp(name, "healthz") == 0)
            out->kind = PS_ROUTE_HEALTH;
    } else if (s.n == 2 && seg_is(&s, 0, "api") && seg_is(&s, 1, "search")) {
        out->kind = PS_ROUTE_SEARCH;
    } else if (s.n == 3 && seg_is(&s, 0, "api") &&
               (seg_is(&s, 1, "photo") || seg_is(&s, 1, "thumb") || seg_is(&s, 1, "explain"))) {
        const char *id = seg_str(&s, 2);
        if (ps_parse_id(id, strlen(id), &out->id) != 0) {
            segs_free(&s);
            return ps_errorf(err, "a photo id is a positive decimal integer such as 42");
        }
        out->kind = seg_is(&s, 1, "photo")   ? PS_ROUTE_PHOTO
                    : seg_is(&s, 1, "thumb") ? PS_ROUTE_THUMB
                                             : PS_ROUTE_EXPLAIN;
    }
    segs_free(&s);
    return 0;
}

void ps_search_params_free(ps_search_params *p)
{
    free(p->q);
    p->q = NULL;
    p->qlen = 0;
}

/* One key=value pair of the query string, decoded. */
static int take_param(const char *kv, size_t n, long max_k, size_t max_q, bool *seen_q,
                      bool *seen_k, ps_search_params *out, ps_error *err)
{
    const char *eq = memchr(kv, '=', n);
    size_t klen = eq ? (size_t)(eq - kv) : n;
    const char *v = eq ? eq + 1 : kv + n;
    size_t vlen = eq ? n - klen - 1 : 0;
    ps_buf key = {0}, val = {0};
    ps_error e2;
    if (ps_url_decode(kv, klen, true, &key, &e2) != 0 ||
        ps_url_decode(v, vlen, true, &val, &e2) != 0) {
        ps_buf_free(&key);
        ps_buf_free(&val);
        return ps_errorf(err, "query string: %s", e2.msg);
    }
    const char *k = key.data ? key.data : "";
    int rc = 0;
    if (strcmp(k, "q") == 0) {
        if (*seen_q)
            rc = ps_errorf(err, "the parameter q is given more than once");
        else if (val.len == 0)
            rc = ps_errorf(err, "the parameter q is empty: say what the photo shows");
        else if (val.len > max_q)
            rc = ps_errorf(err, "the parameter q is %zu bytes long, more than the limit of %zu",
                           val.len, max_q);
        else {
            *seen_q = true;
            out->qlen = val.len;
            out->q = ps_buf_steal(&val);
        }
    } else if (strcmp(k, "k") == 0) {
        uint64_t kv_ = 0;
        if (*seen_k)
            rc = ps_errorf(err, "the parameter k is given more than once");
        if (rc == 0 && (ps_parse_digits(val.data, val.len, 9, &kv_) != 0 || kv_ < 1 ||
                        kv_ > (uint64_t)max_k))
            rc = ps_errorf(err, "the parameter k must be a whole number from 1 to %ld", max_k);
        if (rc == 0) {
            *seen_k = true;
            out->k = (long)kv_;
        }
    }
    ps_buf_free(&key);
    ps_buf_free(&val);
    return rc;
}

int ps_search_params_parse(const char *query, size_t n, long default_k, long max_k,
                           size_t max_q_bytes, ps_search_params *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    out->k = default_k;
    bool seen_q = false, seen_k = false;
    size_t i = 0;
    while (query && i < n) {
        size_t j = i;
        while (j < n && query[j] != '&')
            j++;
        if (j > i && take_param(query + i, j - i, max_k, max_q_bytes, &seen_q, &seen_k, out, err) != 0) {
            ps_search_params_free(out);
            return -1;
        }
        i = j + 1;
    }
    if (!seen_q)
        return ps_errorf(err, "the parameter q (what to search for) is missing");
    return 0;
}

/* "127.0.0.1", "127.1.2.3": four dotted decimal parts, the first 127. */
static bool is_ipv4_loopback(const char *h, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        long v = 0;
        while (j < n && h[j] >= '0' && h[j] <= '9' && j - i < 3)
            v = v * 10 + (h[j++] - '0');
        if (j == i || v > 255 || (parts == 0 && v != 127))
            return false;
        parts++;
        if (j == n)
            break;
        if (h[j] != '.')
            return false;
        i = j + 1;
        if (i == n)
            return false;
    }
    return parts == 4;
}

bool ps_http_host_is_loopback(const char *host)
{
    if (!host)
        return false;
    size_t n = strlen(host);
    size_t hlen = n;
    if (n && host[0] == '[') {
        const char *close = memchr(host, ']', n);
        if (!close)
            return false;
        hlen = (size_t)(close - host) + 1;
    } else {
        const char *colon = memchr(host, ':', n);
        if (colon)
            hlen = (size_t)(colon - host);
    }
    /* Whatever follows the name must be ":digits". */
    if (hlen < n) {
        if (host[hlen] != ':' || hlen + 1 == n || n - hlen > 6)
            return false;
        for (size_t i = hlen + 1; i < n; i++)
            if (host[i] < '0' || host[i] > '9')
                return false;
    }
    if (hlen == 9 && strncasecmp(host, "localhost", 9) == 0)
        return true;
    if (hlen == 5 && strncmp(host, "[::1]", 5) == 0)
        return true;
    return is_ipv4_loopback(host, hlen);
}
