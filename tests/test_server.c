/*
 * test_server.c - the HTTP server end to end over real sockets, with a
 * stand-in engine (fake_backend.h): every endpoint, its headers, and the
 * hostile cases: path traversal and encoded-slash tricks, NUL bytes,
 * oversized request lines / headers / bodies, malformed requests, invalid
 * percent-encoding and UTF-8, foreign Host headers, slow clients, many idle
 * connections, the connection limit, concurrent clients and a graceful stop
 * with a request in progress.  Run under ASan/LSan by `make test`, so a
 * leak or a bad access anywhere on these paths fails it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "fake_backend.h"
#include "image/decode.h"
#include "server/server.h"
#include "test.h"

static char g_tmp[512];
static char g_log[600];
static FILE *g_logf;
static fake_backend g_fake;
static ps_server *g_srv;
static int g_port;

/* ---- a tiny raw HTTP client ---------------------------------------------- */

typedef struct resp {
    int status;  /* 0: no status line came back (connection closed) */
    ps_buf raw;  /* everything the server sent */
    const char *body;
} resp;

static void resp_free(resp *r)
{
    ps_buf_free(&r->raw);
    memset(r, 0, sizeof *r);
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0}; /* a guard so a broken server cannot hang the test */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server may close early on purpose */
        c += w;
        n -= (size_t)w;
    }
}

/* Read until the server closes (or the guard fires). */
static void read_all(int fd, resp *r)
{
    char buf[16384];
    ssize_t got;
    while ((got = recv(fd, buf, sizeof buf, 0)) > 0)
        ps_buf_append(&r->raw, buf, (size_t)got);
    if (r->raw.len > 12 && strncmp(r->raw.data, "HTTP/1.", 7) == 0)
        r->status = atoi(r->raw.data + 9);
    const char *sep = r->raw.data ? strstr(r->raw.data, "\r\n\r\n") : NULL;
    r->body = sep ? sep + 4 : "";
}

/* Send n raw bytes on a new connection and read the whole answer. */
static void raw(int port, const void *req, size_t n, resp *r)
{
    memset(r, 0, sizeof *r);
    int fd = dial(port);
    if (fd < 0) {
        r->body = "";
        return;
    }
    send_all(fd, req, n);
    read_all(fd, r);
    close(fd);
}

static void rawz(const char *req, resp *r)
{
    raw(g_port, req, strlen(req), r);
}

static void get_h(const char *target, const char *extra_headers, resp *r)
{
    ps_buf b = {0};
    ps_buf_printf(&b, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s\r\n",
                  target, g_port, extra_headers ? extra_headers : "");
    raw(g_port, b.data, b.len, r);
    ps_buf_free(&b);
}

static void get(const char *target, resp *r)
{
    get_h(target, NULL, r);
}

/* The value of header `name` in r (case-insensitive), or NULL (static buffer). */
static const char *header(const resp *r, const char *name)
{
    static char val[512];
    const char *p = r->raw.data;
    if (!p)
        return NULL;
    size_t nl = strlen(name);
    const char *end = strstr(p, "\r\n\r\n");
    while ((p = strstr(p, "\r\n")) && (!end || p < end)) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            snprintf(val, sizeof val, "%.*s", (int)vl, v);
            return val;
        }
    }
    return NULL;
}

static int status_of(const char *target)
{
    resp r;
    get(target, &r);
    int s = r.status;
    /* whatever the trick, no file outside the index may leak */
    if (r.raw.data && (strstr(r.raw.data, "root:x:0:0") || strstr(r.raw.data, "fake-secret")))
        s = -999;
    resp_free(&r);
    return s;
}

/* ---- fixtures ------------------------------------------------------------ */

static void write_file(const char *name, const void *data, size_t len)
{
    char *p = ps_path_join(g_tmp, name);
    ps_error err;
    if (ps_write_file_atomic(p, data, len, &err) != 0)
        fprintf(stderr, "fixture: %s\n", err.msg);
    free(p);
}

static char *tmp_path(const char *name)
{
    return ps_path_join(g_tmp, name);
}

static const char JPEG1[] = "\xFF\xD8\xFF\xE0 fake jpeg one \xFF\xD9";
static const char PNG4[] = "\x89PNG\r\n\x1a\n fake png four";

static void setup_fixtures(void)
{
    write_file("one.jpg", JPEG1, sizeof JPEG1 - 1);
    const char *two = "\xFF\xD8\xFF restricted fake-secret";
    write_file("two.jpg", two, strlen(two));
    write_file("four.png", PNG4, sizeof PNG4 - 1);
    write_file("five.txt", "just text, fake-secret", strlen("just text, fake-secret"));
    write_file("secret.txt", "fake-secret", strlen("fake-secret"));
    char *p;
    fake_add(&g_fake, 1, (p = tmp_path("one.jpg")), false, "dog beach run");
    free(p);
    fake_add(&g_fake, 2, (p = tmp_path("two.jpg")), true, "dog park");
    free(p);
    fake_add(&g_fake, 3, (p = tmp_path("gone.jpg")), false, "cat sofa");
    free(p);
    fake_add(&g_fake, 4, (p = tmp_path("four.png")), false, "dog snow");
    free(p);
    fake_add(&g_fake, 5, (p = tmp_path("five.txt")), false, "text");
    free(p);
    g_fake.slow_ms = 300;
}

static ps_server *start(fake_backend *f, unsigned max_conn, unsigned timeout_s, ps_error *err)
{
    ps_server_config cfg;
    ps_server_config_init(&cfg);
    cfg.port = 0;
    /* one thread when testing the connection limit: libmicrohttpd splits
     * the limit between its threads */
    cfg.threads = max_conn ? 1 : 2;
    cfg.timeout_s = timeout_s;
    cfg.max_connections = max_conn;
    cfg.web_dir = PICSEEK_SOURCE_DIR "/web";
    cfg.access_log = g_logf;
    ps_server_backend be = fake_backend_iface(f);
    return ps_server_start(&cfg, &be, err);
}

/* ---- endpoints ----------------------------------------------------------- */

TEST(page_files)
{
    resp r;
    get("/", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "text/html; charset=utf-8");
    CHECK_STR(header(&r, "X-Content-Type-Options"), "nosniff");
    CHECK_CONTAINS(header(&r, "Content-Security-Policy"), "script-src 'self'");
    CHECK_CONTAINS(header(&r, "Content-Security-Policy"), "default-src 'none'");
    CHECK_STR(header(&r, "Cache-Control"), "no-cache");
    CHECK_CONTAINS(r.body, "<title>picseek</title>");
    char etag[64];
    snprintf(etag, sizeof etag, "%s", header(&r, "ETag") ? header(&r, "ETag") : "none");
    resp_free(&r);

    char h[128];
    snprintf(h, sizeof h, "If-None-Match: %s\r\n", etag);
    get_h("/index.html", h, &r);
    CHECK_INT(r.status, 304);
    CHECK_STR(r.body, "");
    resp_free(&r);

    get("/app.js", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "text/javascript; charset=utf-8");
    resp_free(&r);
    get("/style.css", &r);
    CHECK_STR(header(&r, "Content-Type"), "text/css; charset=utf-8");
    resp_free(&r);
    get("/favicon.svg", &r);
    CHECK_STR(header(&r, "Content-Type"), "image/svg+xml");
    resp_free(&r);

    /* nothing else is served from the web folder, nor from anywhere */
    CHECK_INT(status_of("/web/index.html"), 404);
    CHECK_INT(status_of("/README.md"), 404);
    CHECK_INT(status_of("/CMakeLists.txt"), 404);
    get("/nope", &r);
    CHECK_INT(r.status, 404);
    CHECK_STR(header(&r, "Content-Type"), "application/json; charset=utf-8");
    CHECK_CONTAINS(r.body, "\"error\":");
    resp_free(&r);
}

TEST(head_requests)
{
    resp r;
    rawz("HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "");
    CHECK(header(&r, "Content-Length") && atoi(header(&r, "Content-Length")) > 100);
    resp_free(&r);
    rawz("HEAD /api/photo/1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body, "");
    resp_free(&r);
}

TEST(healthz)
{
    resp r;
    get("/healthz", &r);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"status\":\"ok\"");
    CHECK_CONTAINS(r.body, "\"photos\":5");
    CHECK_STR(header(&r, "Cache-Control"), "no-store");
    resp_free(&r);
}

TEST(search_ok)
{
    resp r;
    get("/api/search?q=dog&k=10", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "application/json; charset=utf-8");
    CHECK_STR(header(&r, "X-Content-Type-Options"), "nosniff");
    CHECK_CONTAINS(r.body, "\"query\":\"dog\"");
    CHECK_CONTAINS(r.body, "\"blocked\":false");
    CHECK_CONTAINS(r.body, "\"id\":1");
    CHECK_CONTAINS(r.body, "\"id\":4");
    /* the restricted photo comes without its path */
    CHECK_CONTAINS(r.body, "{\"id\":2,\"path\":null");
    CHECK_CONTAINS(r.body, PS_POLICY_MASK_TEXT);
    CHECK(!strstr(r.body, "two.jpg"));
    resp_free(&r);

    get("/api/search?q=a+red%20dog&k=1", &r); /* '+' and %20 are spaces; k bounds the list */
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"query\":\"a red dog\"");
    CHECK(!strstr(r.body, "\"id\":4"));
    resp_free(&r);

    get("/api/search?q=%E7%8A%AC%20dog", &r); /* UTF-8 */
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"query\":\"\xe7\x8a\xac dog\"");
    resp_free(&r);

    get("/api/search?q=kids+on+a+beach", &r);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"blocked\":true");
    CHECK_CONTAINS(r.body, PS_POLICY_DISCLAIMER);
    CHECK_CONTAINS(r.body, "\"results\":[]");
    resp_free(&r);
}

TEST(search_errors)
{
    const char *bad[] = {
        "/api/search", "/api/search?", "/api/search?q=", "/api/search?k=3",
        "/api/search?q=dog&k=0", "/api/search?q=dog&k=201", "/api/search?q=dog&k=x",
        "/api/search?q=dog&q=cat", "/api/search?q=%", "/api/search?q=%4", "/api/search?q=%zz",
        "/api/search?q=%C3%28", "/api/search?q=%E2%82", "/api/search?q=%C0%AF",
        "/api/search?q=%ED%A0%80", "/api/search?q=%FF%FE", "/api/search?q=dog%00cat",
        "/api/search?q=%09tab", /* the engine refuses it: 400 from the backend's answer */
        NULL};
    for (int i = 0; bad[i]; i++) {
        resp r;
        get(bad[i], &r);
        if (r.status != 400)
            fprintf(stderr, "  %s -> %d\n", bad[i], r.status);
        CHECK_INT(r.status, 400);
        CHECK_STR(header(&r, "Content-Type"), "application/json; charset=utf-8");
        CHECK_CONTAINS(r.body, "\"error\":");
        CHECK_CONTAINS(r.body, "\"status\":400");
        resp_free(&r);
    }
    /* a query longer than 1000 bytes */
    ps_buf t = {0};
    ps_buf_puts(&t, "/api/search?q=");
    for (int i = 0; i < 1001; i++)
        ps_buf_putc(&t, 'a');
    CHECK_INT(status_of(t.data), 400);
    ps_buf_free(&t);
    /* a raw 8-bit byte in the request line */
    resp r;
    rawz("GET /api/search?q=caf\xc3\xa9 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 400);
    resp_free(&r);
    /* an engine failure is a 500 with the reason */
    get("/api/search?q=explode", &r);
    CHECK_INT(r.status, 500);
    CHECK_CONTAINS(r.body, "exploded on purpose");
    resp_free(&r);
}

TEST(photos)
{
    resp r;
    get("/api/photo/1", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "image/jpeg");
    CHECK_CONTAINS(header(&r, "Cache-Control"), "max-age");
    CHECK_INT((int)strlen(r.body), (int)sizeof JPEG1 - 1 - 0); /* body == the file */
    CHECK(r.raw.len >= sizeof JPEG1 - 1 &&
          memcmp(r.raw.data + r.raw.len - (sizeof JPEG1 - 1), JPEG1, sizeof JPEG1 - 1) == 0);
    char etag[128];
    snprintf(etag, sizeof etag, "If-None-Match: %s\r\n", header(&r, "ETag") ? header(&r, "ETag") : "x");
    resp_free(&r);
    get_h("/api/photo/1", etag, &r);
    CHECK_INT(r.status, 304);
    resp_free(&r);

    get("/api/photo/4", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "image/png");
    resp_free(&r);

    /* restricted: 451 with the legal text, never the bytes or the path */
    for (int t = 0; t < 2; t++) {
        get(t ? "/api/thumb/2" : "/api/photo/2", &r);
        CHECK_INT(r.status, 451);
        CHECK_CONTAINS(r.body, PS_POLICY_MASK_TEXT);
        CHECK(!strstr(r.raw.data, "fake-secret"));
        CHECK(!strstr(r.raw.data, "two.jpg"));
        resp_free(&r);
    }
    CHECK_INT(status_of("/api/photo/999"), 404);
    CHECK_INT(status_of("/api/thumb/999"), 404);
    get("/api/photo/3", &r); /* indexed, file gone */
    CHECK_INT(r.status, 404);
    CHECK_CONTAINS(r.body, "missing");
    resp_free(&r);
    CHECK_INT(status_of("/api/thumb/3"), 404);
    CHECK_INT(status_of("/api/photo/5"), 500); /* not an image: not served */
}

TEST(explain)
{
    resp r;
    get("/api/explain/1?q=dog+on+the+beach", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "application/json; charset=utf-8");
    CHECK_CONTAINS(r.body, "\"id\":1");
    CHECK_CONTAINS(r.body, "\"contributors\":[{\"word\":\"dog\"},{\"word\":\"beach\"}]");
    resp_free(&r);
    /* k bounds the reasons */
    get("/api/explain/1?q=dog+beach&k=1", &r);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"contributors\":[{\"word\":\"dog\"}]");
    resp_free(&r);
    /* the content rule answers for the query, before the photo is looked at */
    get("/api/explain/2?q=kids+and+a+dog", &r);
    CHECK_INT(r.status, 200);
    CHECK_CONTAINS(r.body, "\"blocked\":true");
    CHECK_CONTAINS(r.body, PS_POLICY_DISCLAIMER);
    resp_free(&r);
    /* a restricted photo is never explained: 451, nothing about it */
    get("/api/explain/2?q=dog+park", &r);
    CHECK_INT(r.status, 451);
    CHECK_CONTAINS(r.body, PS_POLICY_MASK_TEXT);
    CHECK(!strstr(r.raw.data, "park"));
    CHECK(!strstr(r.raw.data, "two.jpg"));
    resp_free(&r);
    CHECK_INT(status_of("/api/explain/999?q=dog"), 404);
    CHECK_INT(status_of("/api/explain/1"), 400);          /* no q */
    CHECK_INT(status_of("/api/explain/1?q="), 400);       /* empty q */
    CHECK_INT(status_of("/api/explain/1?q=dog&k=0"), 400);
    CHECK_INT(status_of("/api/explain/1?q=dog&k=65"), 400);
    CHECK_INT(status_of("/api/explain/1?q=dog&q=cat"), 400);
    CHECK_INT(status_of("/api/explain/x?q=dog"), 400);
    CHECK_INT(status_of("/api/explain/1?q=explode"), 500);
    get("/api/explain/1?q=dog&k=64", &r);
    CHECK_INT(r.status, 200);
    resp_free(&r);
}

TEST(thumbnails_cached)
{
    int before = atomic_load(&g_fake.thumbnails);
    resp r;
    get("/api/thumb/4", &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "image/jpeg");
    CHECK_CONTAINS(r.body, "fake png four");
    char etag[128];
    snprintf(etag, sizeof etag, "If-None-Match: %s\r\n", header(&r, "ETag") ? header(&r, "ETag") : "x");
    resp_free(&r);
    for (int i = 0; i < 3; i++) {
        get("/api/thumb/4", &r);
        CHECK_INT(r.status, 200);
        CHECK_CONTAINS(r.body, "fake png four");
        resp_free(&r);
    }
    CHECK_INT(atomic_load(&g_fake.thumbnails) - before, 1); /* made once, then cached */
    get_h("/api/thumb/4", etag, &r);
    CHECK_INT(r.status, 304);
    resp_free(&r);
    get("/healthz", &r);
    CHECK_CONTAINS(r.body, "\"hits\":3");
    resp_free(&r);
}

TEST(path_tricks)
{
    /* Every trick is refused with 400 (malformed) or 404 (no such thing);
     * status_of() also fails if /etc/passwd or a fixture secret leaks. */
    const char *t400[] = {
        "/api/photo/../../etc/passwd", "/api/photo/..%2f..%2fetc%2fpasswd",
        "/api/photo/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/photo/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd", "/../../../../etc/passwd", "/./index.html",
        "/api/photo/1/..", "/api%2Fphoto%2F1", "/api/photo%2F1", "/api/photo/1%2F..",
        "/..%5c..%5cetc%5cpasswd", "/api/photo/..%5C..%5Csecret.txt", "/index.html%00.jpg",
        "/api/photo/1%00", "/api/photo/%C0%AE%C0%AE/etc/passwd", "/api/photo/%c0%af",
        "/api/photo/%252e%252e%252fetc", "/api/photo/-1", "/api/photo/0", "/api/photo/01",
        "/api/photo/1.jpg", "/api/photo/1;x", "/api/photo/0x1", "/api/photo/%31%2e",
        "/api/photo/99999999999999999999", "/api/thumb/..", "/%", "/%zz", "/api/photo/", NULL};
    for (int i = 0; t400[i]; i++) {
        int s = status_of(t400[i]);
        if (s != 400)
            fprintf(stderr, "  %s -> %d\n", t400[i], s);
        CHECK_INT(s, 400);
    }
    const char *t404[] = {"/etc/passwd", "//etc/passwd", "/%252e%252e/etc", "/secret.txt",
                          "/api/photo", "/api/photo/1/2", "/api/file/1", NULL};
    for (int i = 0; t404[i]; i++) {
        int s = status_of(t404[i]);
        if (s != 404)
            fprintf(stderr, "  %s -> %d\n", t404[i], s);
        CHECK_INT(s, 404);
    }
    /* backslashes raw in the request line; an absolute path; a NUL byte */
    resp r;
    rawz("GET /..\\..\\etc\\passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    CHECK(r.status == 400);
    resp_free(&r);
    rawz("GET /etc/passwd/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 400);
    resp_free(&r);
    /* A raw NUL byte: libmicrohttpd 0.9.75 ends the target there, so this
     * is, at worst, a request for photo 1 itself; never anything past it. */
    static const char nul_req[] = "GET /api/photo/1\0/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    raw(g_port, nul_req, sizeof nul_req - 1, &r);
    CHECK(r.status == 400 || r.status == 0 ||
          (r.status == 200 && strcmp(r.body, JPEG1) == 0));
    CHECK(!r.raw.data || !strstr(r.raw.data, "root:x"));
    resp_free(&r);
    static const char nul_req2[] = "GET /api/photo/..\0/../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    raw(g_port, nul_req2, sizeof nul_req2 - 1, &r);
    CHECK(r.status == 400 || r.status == 0);
    resp_free(&r);
    rawz("GET http://127.0.0.1/etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 400);
    resp_free(&r);
}

TEST(oversized_requests)
{
    resp r;
    /* a 100 KB request target */
    ps_buf b = {0};
    ps_buf_puts(&b, "GET /api/search?q=");
    for (int i = 0; i < 100000; i++)
        ps_buf_putc(&b, 'a');
    ps_buf_puts(&b, " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    raw(g_port, b.data, b.len, &r);
    CHECK(r.status == 414 || r.status == 431);
    resp_free(&r);
    ps_buf_clear(&b);
    /* 64 KB of headers */
    ps_buf_puts(&b, "GET / HTTP/1.1\r\nHost: localhost\r\n");
    for (int i = 0; i < 1000; i++)
        ps_buf_printf(&b, "X-Filler-%d: %060d\r\n", i, i);
    ps_buf_puts(&b, "\r\n");
    raw(g_port, b.data, b.len, &r);
    CHECK(r.status == 431 || r.status == 413 || r.status == 400);
    resp_free(&r);
    ps_buf_clear(&b);
    /* one huge header */
    ps_buf_puts(&b, "GET / HTTP/1.1\r\nHost: localhost\r\nCookie: ");
    for (int i = 0; i < 70000; i++)
        ps_buf_putc(&b, 'c');
    ps_buf_puts(&b, "\r\n\r\n");
    raw(g_port, b.data, b.len, &r);
    CHECK(r.status == 431 || r.status == 413 || r.status == 400);
    resp_free(&r);
    ps_buf_free(&b);
    /* bodies: picseek reads none */
    rawz("POST /api/search?q=dog HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", &r);
    CHECK_INT(r.status, 405);
    CHECK_STR(header(&r, "Allow"), "GET, HEAD");
    resp_free(&r);
    rawz("PUT /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000000000\r\n\r\n", &r);
    CHECK_INT(r.status, 405);
    resp_free(&r);
    rawz("GET /api/search?q=dog HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789", &r);
    CHECK_INT(r.status, 413);
    resp_free(&r);
    rawz("GET / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", &r);
    CHECK_INT(r.status, 413);
    resp_free(&r);
    const char *methods[] = {"DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", NULL};
    for (int i = 0; methods[i]; i++) {
        char req[160];
        snprintf(req, sizeof req, "%s /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", methods[i]);
        rawz(req, &r);
        if (r.status != 405 && r.status != 400)
            fprintf(stderr, "  %s -> %d\n", methods[i], r.status);
        CHECK(r.status == 405 || r.status == 400);
        resp_free(&r);
    }
}

TEST(malformed_requests)
{
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",                         /* HTTP/1.1 without Host */
        "GET / HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: localhost\r\n : empty name\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: localhost\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n",
        NULL};
    for (int i = 0; bad[i]; i++) {
        resp r;
        rawz(bad[i], &r);
        /* refused with a 4xx/505, or dropped; never a 200, never a crash */
        if (!(r.status == 0 || (r.status >= 400 && r.status < 600)))
            fprintf(stderr, "  case %d -> %d\n", i, r.status);
        CHECK(r.status == 0 || (r.status >= 400 && r.status < 600));
        CHECK(r.status != 500);
        resp_free(&r);
    }
    resp r;
    rawz("GET / HTTP/9.9\r\nHost: localhost\r\n\r\n", &r);
    CHECK(r.status == 505 || r.status == 400);
    resp_free(&r);
    /* random bytes */
    unsigned char junk[4096];
    unsigned s = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        s = s * 1103515245u + 12345u;
        junk[i] = (unsigned char)(s >> 16);
    }
    raw(g_port, junk, sizeof junk, &r);
    CHECK(r.status == 0 || (r.status >= 400 && r.status < 500));
    resp_free(&r);
    /* after all that, the server still answers */
    CHECK_INT(status_of("/healthz"), 200);
}

TEST(host_header_guard)
{
    resp r;
    rawz("GET /api/search?q=dog HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 403);
    resp_free(&r);
    rawz("GET /api/photo/1 HTTP/1.1\r\nHost: 127.0.0.1.evil.example:80\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 403);
    resp_free(&r);
    rawz("GET /healthz HTTP/1.1\r\nHost: localhost:9\r\nConnection: close\r\n\r\n", &r);
    CHECK_INT(r.status, 200);
    resp_free(&r);
    rawz("GET /healthz HTTP/1.0\r\n\r\n", &r); /* HTTP/1.0 may omit Host */
    CHECK_INT(r.status, 200);
    resp_free(&r);
}

TEST(keep_alive)
{
    /* two pipelined requests on one connection, both answered */
    int fd = dial(g_port);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                      "GET /api/search?q=dog HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    send_all(fd, req, strlen(req));
    resp r = {0};
    read_all(fd, &r);
    close(fd);
    CHECK_INT(r.status, 200);
    CHECK(r.raw.data && strstr(strstr(r.raw.data, "\r\n\r\n"), "HTTP/1.1 200"));
    CHECK_CONTAINS(r.raw.data, "\"query\":\"dog\"");
    resp_free(&r);
}

TEST(slow_client_dropped)
{
    /* Half a request, then silence: the server (1 s timeout here) must drop
     * the connection instead of holding it; recv() then sees the close
     * long before the test's own 10 s guard. */
    int fd = dial(g_port);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    send_all(fd, "GET /healthz HTTP/1.1\r\nHost: loc", 33);
    char buf[256];
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    int e = errno;
    close(fd);
    CHECK(got == 0 || (got < 0 && e == ECONNRESET));
    if (got < 0 && e != ECONNRESET)
        fprintf(stderr, "  slow client: recv %zd errno %d (the server kept the connection)\n", got, e);

    /* an idle keep-alive connection is closed too */
    fd = dial(g_port);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    send_all(fd, req, strlen(req));
    resp r = {0};
    read_all(fd, &r); /* returns when the server closes the idle connection */
    close(fd);
    CHECK_INT(r.status, 200);
    resp_free(&r);
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048) {
        rl.rlim_cur = rl.rlim_max < 2048 ? rl.rlim_max : 2048;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

TEST(many_idle_connections)
{
    enum { N = 500 };
    static int fds[N];
    int opened = 0;
    for (int i = 0; i < N; i++) {
        fds[i] = dial(g_port);
        if (fds[i] >= 0)
            opened++;
    }
    CHECK_INT(opened, N);
    /* half of them send half a request */
    for (int i = 0; i < N; i += 2)
        if (fds[i] >= 0)
            send_all(fds[i], "GET / HT", 8);
    CHECK_INT(status_of("/healthz"), 200);
    CHECK_INT(status_of("/api/search?q=dog"), 200);
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    CHECK_INT(status_of("/healthz"), 200);
}

TEST(connection_limit)
{
    /* At the limit the server stops accepting: a new client waits in the
     * kernel's queue (it is not answered) until a connection closes. */
    fake_backend f = {0};
    ps_error err;
    ps_server *s = start(&f, 4, 30, &err);
    CHECK(s != NULL);
    if (!s)
        return;
    int port = ps_server_port(s);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = dial(port);
        send_all(fds[i], "GET", 3);
    }
    usleep(100 * 1000);
    int fd = dial(port);
    CHECK(fd >= 0);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    send_all(fd, req, strlen(req));
    struct timeval tv = {0, 300 * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[64];
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    CHECK(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)); /* held back */
    close(fds[0]);
    tv.tv_sec = 10;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    resp r = {0};
    read_all(fd, &r);
    CHECK_INT(r.status, 200); /* served once a slot was free */
    resp_free(&r);
    close(fd);
    for (int i = 1; i < 4; i++)
        close(fds[i]);
    ps_server_stop(s);
}

typedef struct worker_arg {
    int port;
    int ok;
    int iters;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    const char *targets[] = {"/api/search?q=dog", "/api/thumb/1", "/api/thumb/4", "/healthz",
                             "/api/photo/2", "/app.js"};
    const int want[] = {200, 200, 200, 200, 451, 200};
    for (int i = 0; i < a->iters; i++) {
        int t = i % 6;
        char req[200];
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 targets[t]);
        resp r;
        raw(a->port, req, strlen(req), &r);
        a->ok += r.status == want[t];
        resp_free(&r);
    }
    return NULL;
}

TEST(concurrent_clients)
{
    enum { T = 8, ITERS = 30 };
    pthread_t th[T];
    worker_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (worker_arg){g_port, 0, ITERS};
        pthread_create(&th[i], NULL, worker, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    CHECK_INT(ok, T * ITERS);
}

typedef struct slow_arg {
    int port;
    resp r;
} slow_arg;

static void *slow_request(void *p)
{
    slow_arg *a = p;
    const char *req = "GET /api/search?q=slow+dog HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    raw(a->port, req, strlen(req), &a->r);
    return NULL;
}

TEST(graceful_stop)
{
    fake_backend f = {0};
    char *p = tmp_path("one.jpg");
    fake_add(&f, 1, p, false, "dog");
    free(p);
    f.slow_ms = 400;
    ps_error err;
    ps_server *s = start(&f, 0, 1, &err);
    CHECK(s != NULL);
    if (!s) {
        fake_free(&f);
        return;
    }
    int port = ps_server_port(s);
    slow_arg a = {port, {0}};
    pthread_t th;
    pthread_create(&th, NULL, slow_request, &a);
    for (int i = 0; i < 1000 && !atomic_load(&f.slow_entered); i++)
        usleep(2000);
    CHECK(atomic_load(&f.slow_entered));
    ps_server_stop(s); /* waits for the search in progress */
    pthread_join(th, NULL);
    CHECK_INT(a.r.status, 200);
    CHECK_CONTAINS(a.r.body, "\"query\":\"slow dog\"");
    resp_free(&a.r);
    /* and it no longer listens */
    int fd = dial(port);
    CHECK(fd < 0);
    if (fd >= 0)
        close(fd);
    fake_free(&f);
}

TEST(start_errors)
{
    fake_backend f = {0};
    ps_server_backend be = fake_backend_iface(&f);
    ps_server_config cfg;
    ps_server_config_init(&cfg);
    cfg.port = g_port; /* taken by the main test server */
    cfg.threads = 1;
    ps_error err = {{0}};
    CHECK(ps_server_start(&cfg, &be, &err) == NULL);
    CHECK_CONTAINS(err.msg, "127.0.0.1:");
    CHECK_CONTAINS(err.msg, "in use");
    cfg.port = 0;
    cfg.web_dir = "/nonexistent/web";
    CHECK(ps_server_start(&cfg, &be, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent/web/index.html");
    cfg.web_dir = PICSEEK_SOURCE_DIR "/web";
    cfg.host = "no-such-host.invalid";
    CHECK(ps_server_start(&cfg, &be, &err) == NULL);
    CHECK_CONTAINS(err.msg, "no-such-host.invalid");
    cfg.host = "127.0.0.1";
    be.photo = NULL;
    CHECK(ps_server_start(&cfg, &be, &err) == NULL);
    CHECK_CONTAINS(err.msg, "search and photo functions");
    /* Without an explainer the server runs; /api/explain answers 404. */
    be = fake_backend_iface(&f);
    be.explain = NULL;
    cfg.port = 0;
    ps_server *nx = ps_server_start(&cfg, &be, &err);
    CHECK(nx != NULL);
    if (nx) {
        resp r;
        char req[128];
        snprintf(req, sizeof req, "GET /api/explain/1?q=dog HTTP/1.1\r\nHost: localhost\r\n"
                                  "Connection: close\r\n\r\n");
        raw(ps_server_port(nx), req, strlen(req), &r);
        CHECK_INT(r.status, 404);
        CHECK_CONTAINS(r.body, "cannot explain");
        resp_free(&r);
        ps_server_stop(nx);
    }
    /* IPv6 loopback, where the machine has it */
    be = fake_backend_iface(&f);
    cfg.host = "::1";
    ps_server *s = ps_server_start(&cfg, &be, &err);
    if (s) {
        CHECK(ps_server_port(s) > 0);
        ps_server_stop(s);
    }
}

TEST(real_thumbnail)
{
    /* the server's default thumbnail maker on a real photo */
    const char *shared = getenv("PICSEEK_SHARED");
    char *dir = ps_path_join(shared ? shared : PICSEEK_SOURCE_DIR "/../shared", "dataset/test_images");
    char *photo = ps_path_join(dir, "1177994172_10d143cb8d.jpg");
    free(dir);
    if (!ps_is_file(photo)) {
        free(photo);
        SKIP("no dataset photo (PICSEEK_SHARED)");
    }
    fake_backend f = {0};
    fake_add(&f, 7, photo, false, "photo");
    free(photo);
    ps_server_config cfg;
    ps_server_config_init(&cfg);
    cfg.port = 0;
    cfg.threads = 1;
    cfg.thumb_side = 200;
    ps_server_backend be = fake_backend_iface(&f);
    be.thumbnail = NULL;
    ps_error err;
    ps_server *s = ps_server_start(&cfg, &be, &err);
    CHECK(s != NULL);
    if (!s) {
        fake_free(&f);
        return;
    }
    char req[128];
    snprintf(req, sizeof req, "GET /api/thumb/7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    resp r;
    raw(ps_server_port(s), req, strlen(req), &r);
    CHECK_INT(r.status, 200);
    CHECK_STR(header(&r, "Content-Type"), "image/jpeg");
    const char *body = strstr(r.raw.data ? r.raw.data : "", "\r\n\r\n");
    if (body) {
        body += 4;
        size_t n = r.raw.len - (size_t)(body - r.raw.data);
        ps_image img = {0};
        ps_image_info info;
        CHECK_INT(ps_image_decode(body, n, "<thumb>", NULL, &img, &info, &err), 0);
        /* the photo is 400x500: the thumbnail fits 200x200 */
        CHECK_INT(img.width, 160);
        CHECK_INT(img.height, 200);
        ps_image_free(&img);
    }
    resp_free(&r);
    ps_server_stop(s);
    fake_free(&f);
}

TEST(access_log)
{
    /* the log is line-buffered: every line above is in the file */
    size_t len = 0;
    ps_error err;
    char *log = ps_read_file(g_log, (size_t)64 << 20, &len, &err);
    CHECK(log != NULL);
    if (!log)
        return;
    CHECK_CONTAINS(log, " 127.0.0.1 \"GET /healthz\" 200 ");
    CHECK_CONTAINS(log, "\"GET /api/photo/2\" 451 ");
    CHECK_CONTAINS(log, "\"GET /api/search?q=caf\\xC3\\xA9\" 400 ");
    CHECK_CONTAINS(log, "\"POST /api/search?q=dog\" 405 ");
    CHECK_CONTAINS(log, "ms\n");
    /* one line per request: no raw control bytes from a request got in */
    int ctl = 0;
    for (size_t i = 0; i < len; i++)
        ctl += (unsigned char)log[i] < 0x20 && log[i] != '\n';
    CHECK_INT(ctl, 0);
    free(log);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    const char *tmp = getenv("PICSEEK_TEST_TMP");
    snprintf(g_tmp, sizeof g_tmp, "%s", tmp && tmp[0] ? tmp : "/tmp");
    snprintf(g_log, sizeof g_log, "%s/access.log", g_tmp);
    unlink(g_log);
    g_logf = fopen(g_log, "w");
    if (!g_logf) {
        perror(g_log);
        return 1;
    }
    setvbuf(g_logf, NULL, _IOLBF, 0);
    setup_fixtures();
    ps_error err = {{0}};
    g_srv = start(&g_fake, 0, 1, &err);
    if (!g_srv) {
        fprintf(stderr, "cannot start the test server: %s\n", err.msg);
        return 1;
    }
    g_port = ps_server_port(g_srv);

    RUN(page_files);
    RUN(head_requests);
    RUN(healthz);
    RUN(search_ok);
    RUN(search_errors);
    RUN(photos);
    RUN(explain);
    RUN(thumbnails_cached);
    RUN(path_tricks);
    RUN(oversized_requests);
    RUN(malformed_requests);
    RUN(host_header_guard);
    RUN(keep_alive);
    RUN(slow_client_dropped);
    RUN(many_idle_connections);
    RUN(connection_limit);
    RUN(concurrent_clients);
    RUN(graceful_stop);
    RUN(start_errors);
    RUN(real_thumbnail);

    ps_server_stop(g_srv);
    fclose(g_logf);
    RUN(access_log);
    fake_free(&g_fake);
    return test_summary();
}
