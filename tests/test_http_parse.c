/*
 * test_http_parse.c - the server's pure pieces: strict URL decoding,
 * routing, search parameters, the Host check, the thumbnail LRU and the
 * access log format.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "server/http_log.h"
#include "server/http_parse.h"
#include "server/http_thumbs.h"
#include "test.h"

/* Decode s; returns the decoded text (static buffer) or NULL on error. */
static const char *dec(const char *s, bool plus)
{
    static char out[256];
    ps_buf b = {0};
    ps_error err;
    int rc = ps_url_decode(s, strlen(s), plus, &b, &err);
    if (rc == 0)
        snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    ps_buf_free(&b);
    return rc == 0 ? out : NULL;
}

TEST(url_decode_valid)
{
    CHECK_STR(dec("abc", false), "abc");
    CHECK_STR(dec("a%20b", false), "a b");
    CHECK_STR(dec("a+b", true), "a b");
    CHECK_STR(dec("a+b", false), "a+b");
    CHECK_STR(dec("%2B", true), "+");
    CHECK_STR(dec("%c3%a9t%C3%A9", false), "\xc3\xa9t\xc3\xa9");
    CHECK_STR(dec("%F0%9F%90%95", false), "\xf0\x9f\x90\x95");
    CHECK_STR(dec("", false), "");
    CHECK_STR(dec("%252e", false), "%2e"); /* decoded once, never twice */
}

TEST(url_decode_invalid)
{
    CHECK(dec("%", false) == NULL);
    CHECK(dec("%4", false) == NULL);
    CHECK(dec("%zz", false) == NULL);
    CHECK(dec("%G1", false) == NULL);
    CHECK(dec("a%00b", false) == NULL);      /* NUL */
    CHECK(dec("%C3%28", false) == NULL);     /* bad continuation */
    CHECK(dec("%E2%82", false) == NULL);     /* truncated sequence */
    CHECK(dec("%C0%AF", false) == NULL);     /* overlong '/' */
    CHECK(dec("%ED%A0%80", false) == NULL);  /* surrogate */
    CHECK(dec("%F4%90%80%80", false) == NULL); /* above U+10FFFF */
    CHECK(dec("%FF", false) == NULL);
    CHECK(dec("a b", false) == NULL);        /* raw space */
    CHECK(dec("a\tb", false) == NULL);
    CHECK(dec("caf\xc3\xa9", false) == NULL); /* raw 8-bit bytes */
    CHECK(dec("a#b", false) == NULL);
    /* the message says where */
    ps_buf b = {0};
    ps_error err;
    CHECK_INT(ps_url_decode("ab%zz", 5, false, &b, &err), -1);
    CHECK_CONTAINS(err.msg, "byte 2");
    ps_buf_free(&b);
}

static int route(const char *t, ps_route *r, ps_error *err)
{
    return ps_http_route(t, strlen(t), r, err);
}

TEST(route_endpoints)
{
    ps_route r;
    ps_error err;
    CHECK_INT(route("/", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_STATIC);
    CHECK_STR(r.static_name, "index.html");
    CHECK_INT(route("/app.js", &r, &err), 0);
    CHECK_STR(r.static_name, "app.js");
    CHECK_INT(route("/style.css?v=2", &r, &err), 0);
    CHECK_STR(r.static_name, "style.css");
    CHECK_INT(route("/healthz", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_HEALTH);
    CHECK_INT(route("/api/search?q=dog&k=3", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_SEARCH);
    CHECK_INT((int)r.query_len, 9);
    CHECK(strncmp(r.query, "q=dog&k=3", r.query_len) == 0);
    CHECK_INT(route("/api/photo/42", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_PHOTO);
    CHECK_INT(r.id, 42);
    CHECK_INT(route("/api/thumb/900000000000000000", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_THUMB);
    CHECK_INT(r.id, 900000000000000000LL);
    CHECK_INT(route("/api/explain/12?q=a+dog", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_EXPLAIN);
    CHECK_INT(r.id, 12);
    CHECK(r.query && strncmp(r.query, "q=a+dog", r.query_len) == 0);
    CHECK_INT(route("/api/explain/0?q=dog", &r, &err), -1);
    CHECK_CONTAINS(err.msg, "positive decimal integer");
    /* Percent-encoded letters are the same path. */
    CHECK_INT(route("/api/%70hoto/%37", &r, &err), 0);
    CHECK_INT(r.kind, PS_ROUTE_PHOTO);
    CHECK_INT(r.id, 7);
}

TEST(route_not_found)
{
    ps_route r;
    ps_error err;
    const char *targets[] = {"/etc/passwd", "/web/index.html", "/api", "/api/", "/api/search/",
                             "/api/photo", "/api/photo/1/2", "//", "/INDEX.HTML", "/favicon.ico",
                             "/%252e%252e", "/api/photos/1", "/api/explain", "/api/explain/1/2",
                             NULL};
    for (int i = 0; targets[i]; i++) {
        CHECK_INT(route(targets[i], &r, &err), 0);
        if (r.kind != PS_ROUTE_NOT_FOUND)
            fprintf(stderr, "  target %s\n", targets[i]);
        CHECK_INT(r.kind, PS_ROUTE_NOT_FOUND);
    }
}

TEST(route_rejects_tricks)
{
    ps_route r;
    ps_error err;
    const char *targets[] = {
        "/api/photo/../../etc/passwd", "/../etc/passwd", "/./index.html", "/api/photo/..",
        "/api/photo/%2e%2e/%2e%2e/etc/passwd", "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/photo/..%2f..%2fetc%2fpasswd", "/api%2fphoto%2f1", "/api/photo/1%2F",
        "/api/photo/%2E%2E", "/..\\..\\etc\\passwd", "/api/photo/1%5c..", "/index.html%00",
        "/api/photo/1%00", "/api/photo/%C0%AE%C0%AE", "/api/photo/abc", "/api/photo/01",
        "/api/photo/0", "/api/photo/-1", "/api/photo/+1", "/api/photo/1.jpg",
        "/api/photo/0x10", "/api/photo/1234567890123456789", "index.html",
        "http://evil/", "*", "", "/a b", "/caf\xc3\xa9", NULL};
    for (int i = 0; targets[i]; i++) {
        int rc = route(targets[i], &r, &err);
        if (rc != -1)
            fprintf(stderr, "  target %s was accepted (kind %d)\n", targets[i], (int)r.kind);
        CHECK_INT(rc, -1);
    }
    CHECK_INT(route("/api/photo/..", &r, &err), -1);
    CHECK_CONTAINS(err.msg, "'..'");
    CHECK_INT(route("/api/photo/12abc", &r, &err), -1);
    CHECK_CONTAINS(err.msg, "positive decimal integer");
    CHECK_INT(route("/a%2Fb", &r, &err), -1);
    CHECK_CONTAINS(err.msg, "encoded '/'");
}

TEST(parse_id)
{
    int64_t v = 0;
    CHECK_INT(ps_parse_id("1", 1, &v), 0);
    CHECK_INT(v, 1);
    CHECK_INT(ps_parse_id("999999999999999999", 18, &v), 0);
    CHECK_INT(v, 999999999999999999LL);
    CHECK_INT(ps_parse_id("1000000000000000000", 19, &v), -1);
    CHECK_INT(ps_parse_id("", 0, &v), -1);
    CHECK_INT(ps_parse_id("0", 1, &v), -1);
    CHECK_INT(ps_parse_id("1 ", 2, &v), -1);
}

static int params(const char *q, ps_search_params *p, ps_error *err)
{
    return ps_search_params_parse(q, q ? strlen(q) : 0, 24, 200, 1000, p, err);
}

TEST(search_params)
{
    ps_search_params p;
    ps_error err;
    CHECK_INT(params("q=dog", &p, &err), 0);
    CHECK_STR(p.q, "dog");
    CHECK_INT(p.k, 24);
    ps_search_params_free(&p);
    CHECK_INT(params("k=5&q=a+red+dog&x=whatever&&", &p, &err), 0);
    CHECK_STR(p.q, "a red dog");
    CHECK_INT(p.k, 5);
    CHECK_INT((int)p.qlen, 9);
    ps_search_params_free(&p);
    CHECK_INT(params("q=%E7%8A%AC&k=200", &p, &err), 0);
    CHECK_STR(p.q, "\xe7\x8a\xac");
    CHECK_INT(p.k, 200);
    ps_search_params_free(&p);
}

TEST(search_params_errors)
{
    ps_search_params p;
    ps_error err;
    const char *bad[] = {NULL, "", "k=3", "q=", "q", "q=a&q=b", "q=a&k=0", "q=a&k=201",
                         "q=a&k=-1", "q=a&k=1e2", "q=a&k=", "q=a&k=3&k=3", "q=a&k=99999999999",
                         "q=%zz", "q=%C3%28", "q=a%00b", "q=%E2%82", "q=a&x=%FF", "q=a b",
                         NULL};
    for (int i = 1; bad[i]; i++) {
        int rc = params(bad[i], &p, &err);
        if (rc != -1)
            fprintf(stderr, "  params %s were accepted\n", bad[i]);
        CHECK_INT(rc, -1);
        CHECK(p.q == NULL);
    }
    CHECK_INT(params(NULL, &p, &err), -1);
    CHECK_CONTAINS(err.msg, "q (what to search for) is missing");
    CHECK_INT(params("q=a&k=201", &p, &err), -1);
    CHECK_CONTAINS(err.msg, "from 1 to 200");
    char longq[1100] = "q=";
    memset(longq + 2, 'a', 1001);
    longq[1003] = '\0';
    CHECK_INT(params(longq, &p, &err), -1);
    CHECK_CONTAINS(err.msg, "1001 bytes long");
    longq[1002] = '\0';
    CHECK_INT(params(longq, &p, &err), 0);
    CHECK_INT((int)p.qlen, 1000);
    ps_search_params_free(&p);
}

TEST(host_loopback)
{
    CHECK(ps_http_host_is_loopback("127.0.0.1"));
    CHECK(ps_http_host_is_loopback("127.0.0.1:8080"));
    CHECK(ps_http_host_is_loopback("127.1.2.3:1"));
    CHECK(ps_http_host_is_loopback("localhost"));
    CHECK(ps_http_host_is_loopback("LocalHost:80"));
    CHECK(ps_http_host_is_loopback("[::1]"));
    CHECK(ps_http_host_is_loopback("[::1]:8080"));
    CHECK(!ps_http_host_is_loopback(NULL));
    CHECK(!ps_http_host_is_loopback(""));
    CHECK(!ps_http_host_is_loopback("evil.example"));
    CHECK(!ps_http_host_is_loopback("localhost.evil.example"));
    CHECK(!ps_http_host_is_loopback("127.0.0.1.evil.example"));
    CHECK(!ps_http_host_is_loopback("128.0.0.1"));
    CHECK(!ps_http_host_is_loopback("127.0.0.256"));
    CHECK(!ps_http_host_is_loopback("127.0.0"));
    CHECK(!ps_http_host_is_loopback("127.0.0.1:"));
    CHECK(!ps_http_host_is_loopback("127.0.0.1:80x"));
    CHECK(!ps_http_host_is_loopback("localhost:1234567"));
    CHECK(!ps_http_host_is_loopback("[::2]"));
    CHECK(!ps_http_host_is_loopback("[::1"));
}

TEST(thumb_cache_lru)
{
    /* Each entry costs its bytes plus bookkeeping; make room for ~3. */
    unsigned char data[1000];
    memset(data, 7, sizeof data);
    ps_thumb_cache *c = ps_thumb_cache_new(8 * 3500);
    ps_thumb_key k1 = {1, 10, 100}, k2 = {2, 10, 100}, k3 = {3, 10, 100}, k4 = {4, 10, 100};
    ps_thumb_cache_put(c, &k1, data, 1000);
    ps_thumb_cache_put(c, &k2, data, 1000);
    size_t len = 0;
    unsigned char *got = ps_thumb_cache_get(c, &k1, &len); /* k1 now most recent */
    CHECK(got != NULL);
    CHECK_INT((int)len, 1000);
    CHECK(got && memcmp(got, data, len) == 0);
    free(got);
    /* fill past the bound: the least recently used (k2) goes first */
    for (int64_t id = 10; id < 40; id++) {
        ps_thumb_key k = {id, 1, 1};
        ps_thumb_cache_put(c, &k, data, 1000);
        if (id == 10) {
            got = ps_thumb_cache_get(c, &k1, &len);
            free(got);
        }
    }
    ps_thumb_stats st;
    ps_thumb_cache_stats_get(c, &st);
    CHECK(st.bytes <= st.max_bytes);
    CHECK(st.evictions > 0);
    CHECK(ps_thumb_cache_get(c, &k2, &len) == NULL);
    /* same id, other mtime: a different key */
    ps_thumb_key k1b = {1, 10, 101};
    CHECK(ps_thumb_cache_get(c, &k1b, &len) == NULL);
    ps_thumb_cache_put(c, &k3, data, 500);
    ps_thumb_cache_put(c, &k3, data, 600); /* replaces */
    got = ps_thumb_cache_get(c, &k3, &len);
    CHECK_INT((int)len, 600);
    free(got);
    /* too big for the cache: not stored */
    unsigned char *big = calloc(1, 8 * 3500);
    ps_thumb_cache_put(c, &k4, big, 8 * 3500 / 4);
    CHECK(ps_thumb_cache_get(c, &k4, &len) == NULL);
    free(big);
    ps_thumb_cache_free(c);
}

TEST(thumb_cache_many)
{
    /* grows its table and stays consistent with thousands of entries */
    ps_thumb_cache *c = ps_thumb_cache_new((size_t)1 << 30);
    unsigned char b = 1;
    for (int64_t i = 0; i < 5000; i++) {
        ps_thumb_key k = {i, i * 3, i * 7};
        b = (unsigned char)i;
        ps_thumb_cache_put(c, &k, &b, 1);
    }
    int ok = 1;
    for (int64_t i = 0; i < 5000; i++) {
        ps_thumb_key k = {i, i * 3, i * 7};
        size_t len = 0;
        unsigned char *got = ps_thumb_cache_get(c, &k, &len);
        ok &= got && len == 1 && got[0] == (unsigned char)i;
        free(got);
    }
    CHECK(ok);
    ps_thumb_stats st;
    ps_thumb_cache_stats_get(c, &st);
    CHECK_INT((int)st.entries, 5000);
    CHECK_INT((int)st.hits, 5000);
    ps_thumb_cache_free(c);
}

TEST(access_log_line)
{
    struct timespec t = {1700000000, 123456789};
    ps_buf b = {0};
    ps_access_log_line(&b, &t, "127.0.0.1", "GET", "/api/search?q=dog", 200, 512, 1.25, "");
    CHECK_STR(b.data, "2023-11-14T22:13:20.123Z 127.0.0.1 \"GET /api/search?q=dog\" 200 512 1.2ms\n");
    ps_buf_clear(&b);
    /* a forged line break or quote stays on one line */
    ps_access_log_line(&b, &t, "", NULL, "/x\r\n\"evil\\", 0, 0, 0.0, "timeout");
    CHECK_STR(b.data, "2023-11-14T22:13:20.123Z - \"- /x\\x0D\\x0A\\x22evil\\x5C\" - 0 0.0ms (timeout)\n");
    ps_buf_clear(&b);
    char longt[3000];
    memset(longt, 'a', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    ps_access_log_line(&b, &t, "::1", "GET", longt, 414, 0, 0.5, NULL);
    CHECK(b.len < PS_LOG_TARGET_MAX + 100);
    CHECK_CONTAINS(b.data, "aaa...\" 414");
    ps_buf_free(&b);
}

int main(void)
{
    RUN(url_decode_valid);
    RUN(url_decode_invalid);
    RUN(route_endpoints);
    RUN(route_not_found);
    RUN(route_rejects_tricks);
    RUN(parse_id);
    RUN(search_params);
    RUN(search_params_errors);
    RUN(host_loopback);
    RUN(thumb_cache_lru);
    RUN(thumb_cache_many);
    RUN(access_log_line);
    return test_summary();
}
