/*
 * http_server.c - the HTTP daemon (server.h): listening socket, request
 * dispatch, responses and their headers, access log, graceful stop.
 *
 * Why libmicrohttpd: a small C library that has served production traffic
 * for years (systemd-journal-remote, many embedded devices), packaged and
 * security-maintained by Debian, with what a server facing hostile clients
 * needs built in: an epoll thread pool, connection/per-IP limits, idle
 * timeouts, a per-connection memory cap for request headers, HEAD handled,
 * sendfile() for files.  civetweb would do too, but it is thread-per-
 * connection (500 idle clients = 500 threads) and bundles far more (CGI,
 * Lua, WebSockets) than picseek wants exposed.
 *
 * Request life: libmicrohttpd calls on_uri() once the request line is in
 * (we copy the raw target there: all parsing is ours, strict, see
 * http_parse.h, never libmicrohttpd's lenient unescaping), then on_request()
 * once the headers are in (we answer at once: picseek reads no bodies),
 * then on_completed() after the last byte went out (access log line).
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "image/encode.h"
#include "policy/policy.h"
#include "server/http_log.h"
#include "server/http_parse.h"
#include "server/http_static.h"
#include "server/http_thumbs.h"

#define CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "            \
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

struct ps_server {
    ps_server_config cfg;
    ps_server_backend be;
    ps_web web;
    ps_thumb_cache *thumbs;
    struct MHD_Daemon *d;
    int listen_fd;
    int port;
    bool loopback_only;
    struct timespec started;
    atomic_long in_flight;
    atomic_ullong requests;
};

typedef struct request {
    struct timespec t0;
    char client[INET6_ADDRSTRLEN];
    char method[16];
    char *target; /* raw request target as received */
    int status;
    uint64_t bytes;
    bool seen;     /* the first call of on_request happened */
    bool answered; /* a response is queued */
} request;

int ps_server_thumbnail_jpeg(void *ctx, const char *path, int max_side, unsigned char **jpeg,
                             size_t *len, ps_error *err)
{
    (void)ctx;
    return ps_image_thumbnail_jpeg(path, max_side, PS_SERVER_THUMB_QUALITY, NULL, jpeg, len, err);
}

void ps_server_config_init(ps_server_config *c)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = 8080;
    c->web_dir = PICSEEK_SOURCE_DIR "/web";
}

static void fill_defaults(ps_server_config *c)
{
    if (!c->host)
        c->host = "127.0.0.1";
    if (c->threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n < 1 ? 1 : n > 16 ? 16 : (int)n;
    }
    if (!c->max_connections)
        c->max_connections = 1000;
    if (!c->timeout_s)
        c->timeout_s = 15;
    if (!c->memory_limit)
        c->memory_limit = 32 * 1024;
    if (c->default_k <= 0)
        c->default_k = 24;
    if (c->max_k <= 0)
        c->max_k = 200;
    if (!c->max_query_bytes)
        c->max_query_bytes = 1000;
    if (c->thumb_side <= 0)
        c->thumb_side = 320;
    if (!c->thumb_cache_bytes)
        c->thumb_cache_bytes = (size_t)64 << 20;
    if (!c->drain_ms)
        c->drain_ms = 5000;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- responses ----------------------------------------------------------- */

static void add_common_headers(struct MHD_Response *r, const char *ctype, const char *cache)
{
    if (ctype)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache ? cache : "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

static enum MHD_Result queue(struct MHD_Connection *c, request *rq, int status,
                             struct MHD_Response *r, uint64_t bytes)
{
    rq->status = status;
    rq->bytes = strcmp(rq->method, "HEAD") == 0 ? 0 : bytes;
    rq->answered = true;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Send len bytes; `owned` bytes are freed by libmicrohttpd when sent. */
static enum MHD_Result send_bytes(struct MHD_Connection *c, request *rq, int status,
                                  const char *ctype, const char *cache, const char *etag,
                                  void *data, size_t len, bool owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, data, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(data);
        return MHD_NO;
    }
    add_common_headers(r, ctype, cache);
    if (etag)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    return queue(c, rq, status, r, len);
}

static enum MHD_Result send_json(struct MHD_Connection *c, request *rq, int status, ps_buf *b)
{
    size_t len = b->len;
    char *data = b->data ? ps_buf_steal(b) : ps_xstrdup("");
    return send_bytes(c, rq, status, "application/json; charset=utf-8", "no-store", NULL, data,
                      len, true);
}

/* {"error": msg, "status": N}; `allow` adds an Allow header (405). */
static enum MHD_Result send_error_allow(struct MHD_Connection *c, request *rq, int status,
                                        const char *msg, const char *allow)
{
    ps_buf b = {0};
    ps_json j;
    ps_json_init(&j, &b, 0);
    ps_json_obj(&j);
    ps_json_key(&j, "error");
    ps_json_str(&j, msg);
    ps_json_key(&j, "status");
    ps_json_int(&j, status);
    ps_json_end(&j);
    ps_buf_putc(&b, '\n');
    size_t len = b.len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, ps_buf_steal(&b), MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    add_common_headers(r, "application/json; charset=utf-8", "no-store");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return queue(c, rq, status, r, len);
}

static enum MHD_Result send_error(struct MHD_Connection *c, request *rq, int status,
                                  const char *msg)
{
    return send_error_allow(c, rq, status, msg, NULL);
}

static enum MHD_Result send_not_modified(struct MHD_Connection *c, request *rq, const char *etag,
                                         const char *cache)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    add_common_headers(r, NULL, cache);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    return queue(c, rq, MHD_HTTP_NOT_MODIFIED, r, 0);
}

static bool etag_matches(struct MHD_Connection *c, const char *etag)
{
    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    return inm && (strcmp(inm, etag) == 0 || strcmp(inm, "*") == 0);
}

/* ---- endpoints ----------------------------------------------------------- */

static enum MHD_Result serve_static(ps_server *s, struct MHD_Connection *c, request *rq,
                                    const char *name)
{
    const ps_web_file *f = ps_web_find(&s->web, name);
    if (!f)
        return send_error(c, rq, MHD_HTTP_NOT_FOUND, "no such page");
    /* no-cache: the browser keeps the file but asks (cheaply, 304) whether
     * it changed, so a new picseek's page is never mixed with an old one. */
    if (etag_matches(c, f->etag))
        return send_not_modified(c, rq, f->etag, "no-cache");
    return send_bytes(c, rq, MHD_HTTP_OK, f->content_type, "no-cache", f->etag, f->data, f->len,
                      false);
}

static enum MHD_Result serve_health(ps_server *s, struct MHD_Connection *c, request *rq)
{
    ps_thumb_stats ts;
    ps_thumb_cache_stats_get(s->thumbs, &ts);
    ps_buf b = {0};
    ps_json j;
    ps_json_init(&j, &b, 0);
    ps_json_obj(&j);
    ps_json_key(&j, "status");
    ps_json_str(&j, "ok");
    ps_json_key(&j, "version");
    ps_json_str(&j, PICSEEK_VERSION);
    ps_json_key(&j, "uptime_s");
    ps_json_int(&j, (int64_t)(ms_since(&s->started) / 1000));
    ps_json_key(&j, "requests");
    ps_json_int(&j, (int64_t)atomic_load(&s->requests));
    ps_json_key(&j, "threads");
    ps_json_int(&j, s->cfg.threads);
    ps_json_key(&j, "thumb_cache");
    ps_json_obj(&j);
    ps_json_key(&j, "entries");
    ps_json_int(&j, (int64_t)ts.entries);
    ps_json_key(&j, "bytes");
    ps_json_int(&j, (int64_t)ts.bytes);
    ps_json_key(&j, "hits");
    ps_json_int(&j, (int64_t)ts.hits);
    ps_json_key(&j, "misses");
    ps_json_int(&j, (int64_t)ts.misses);
    ps_json_end(&j);
    if (s->be.health)
        s->be.health(s->be.ctx, &j);
    ps_json_end(&j);
    ps_buf_putc(&b, '\n');
    return send_json(c, rq, MHD_HTTP_OK, &b);
}

static enum MHD_Result serve_search(ps_server *s, struct MHD_Connection *c, request *rq,
                                    const ps_route *rt)
{
    ps_search_params p;
    ps_error err = {{0}};
    if (ps_search_params_parse(rt->query, rt->query_len, s->cfg.default_k, s->cfg.max_k,
                               s->cfg.max_query_bytes, &p, &err) != 0)
        return send_error(c, rq, MHD_HTTP_BAD_REQUEST, err.msg);
    ps_buf out = {0};
    int rc = s->be.search(s->be.ctx, p.q, p.qlen, (size_t)p.k, &out, &err);
    ps_search_params_free(&p);
    if (rc != 0) {
        ps_buf_free(&out);
        return send_error(c, rq, rc == PS_BACKEND_BAD_QUERY ? MHD_HTTP_BAD_REQUEST
                                                            : MHD_HTTP_INTERNAL_SERVER_ERROR,
                          err.msg[0] ? err.msg : "the search failed");
    }
    return send_json(c, rq, MHD_HTTP_OK, &out);
}

/* The answer for a restricted photo: 451 and the mask text, nothing else. */
static enum MHD_Result send_restricted(struct MHD_Connection *c, request *rq)
{
    ps_buf b = {0};
    ps_json j;
    ps_json_init(&j, &b, 0);
    ps_json_obj(&j);
    ps_json_key(&j, "error");
    ps_json_str(&j, PS_POLICY_MASK_TEXT);
    ps_json_key(&j, "status");
    ps_json_int(&j, MHD_HTTP_UNAVAILABLE_FOR_LEGAL_REASONS);
    ps_json_key(&j, "restricted");
    ps_json_bool(&j, true);
    ps_json_end(&j);
    ps_buf_putc(&b, '\n');
    return send_json(c, rq, MHD_HTTP_UNAVAILABLE_FOR_LEGAL_REASONS, &b);
}

static enum MHD_Result send_not_found_id(struct MHD_Connection *c, request *rq, int64_t id)
{
    char msg[96];
    snprintf(msg, sizeof msg, "no photo with id %" PRId64 " in the index", id);
    return send_error(c, rq, MHD_HTTP_NOT_FOUND, msg);
}

static enum MHD_Result serve_explain(ps_server *s, struct MHD_Connection *c, request *rq,
                                     const ps_route *rt)
{
    if (!s->be.explain)
        return send_error(c, rq, MHD_HTTP_NOT_FOUND, "this server cannot explain its results");
    ps_search_params p;
    ps_error err = {{0}};
    if (ps_search_params_parse(rt->query, rt->query_len, PS_SERVER_EXPLAIN_K,
                               PS_SERVER_EXPLAIN_MAX_K, s->cfg.max_query_bytes, &p, &err) != 0)
        return send_error(c, rq, MHD_HTTP_BAD_REQUEST, err.msg);
    ps_buf out = {0};
    int rc = s->be.explain(s->be.ctx, rt->id, p.q, p.qlen, (size_t)p.k, &out, &err);
    ps_search_params_free(&p);
    if (rc == 0)
        return send_json(c, rq, MHD_HTTP_OK, &out);
    ps_buf_free(&out);
    if (rc == PS_BACKEND_RESTRICTED)
        return send_restricted(c, rq);
    if (rc == PS_BACKEND_NOT_FOUND)
        return send_not_found_id(c, rq, rt->id);
    return send_error(c, rq, rc == PS_BACKEND_BAD_QUERY ? MHD_HTTP_BAD_REQUEST
                                                        : MHD_HTTP_INTERNAL_SERVER_ERROR,
                      err.msg[0] ? err.msg : "the explanation failed");
}

/* Look the photo up; on any outcome but "servable" the answer is queued
 * and *done set.  Restricted photos stop here, before any file is touched. */
static char *lookup_photo(ps_server *s, struct MHD_Connection *c, request *rq, int64_t id,
                          enum MHD_Result *done)
{
    char *path = NULL;
    bool restricted = false;
    ps_error err = {{0}};
    int rc = s->be.photo(s->be.ctx, id, &path, &restricted, &err);
    if (rc == 0 && restricted) {
        free(path);
        *done = send_restricted(c, rq);
        return NULL;
    }
    if (rc == PS_BACKEND_NOT_FOUND || (rc == 0 && !path)) {
        free(path);
        *done = send_not_found_id(c, rq, id);
        return NULL;
    }
    if (rc != 0) {
        free(path);
        *done = send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           err.msg[0] ? err.msg : "the photo lookup failed");
        return NULL;
    }
    return path;
}

static const char *sniff_image(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

static enum MHD_Result missing_file(struct MHD_Connection *c, request *rq, int64_t id, int e)
{
    char msg[160];
    if (e == ENOENT || e == ENOTDIR)
        snprintf(msg, sizeof msg,
                 "the file of photo %" PRId64 " is missing (moved or deleted since indexing)", id);
    else
        snprintf(msg, sizeof msg, "the file of photo %" PRId64 " cannot be read: %s", id,
                 strerror(e));
    return send_error(c, rq, e == ENOENT || e == ENOTDIR ? MHD_HTTP_NOT_FOUND
                                                         : MHD_HTTP_INTERNAL_SERVER_ERROR,
                      msg);
}

static enum MHD_Result serve_photo(ps_server *s, struct MHD_Connection *c, request *rq,
                                   int64_t id)
{
    enum MHD_Result done = MHD_NO;
    char *path = lookup_photo(s, c, rq, id, &done);
    if (!path)
        return done;
    /* O_NONBLOCK: opening a FIFO put where a photo was must not hang. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int e = errno;
    free(path);
    if (fd < 0)
        return missing_file(c, rq, id, e);
    struct stat st;
    unsigned char head[12];
    ssize_t got = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (got = pread(fd, head, sizeof head, 0)) < 0) {
        close(fd);
        return send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "the photo's file is not a readable regular file");
    }
    const char *ctype = sniff_image(head, (size_t)got);
    if (!ctype) {
        close(fd);
        return send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "the photo's file is not a JPEG, PNG or WebP image");
    }
    char etag[80];
    snprintf(etag, sizeof etag, "\"p%" PRId64 "-%jd-%jd.%09ld\"", id, (intmax_t)st.st_size,
             (intmax_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    const char *cache = "private, max-age=3600";
    if (etag_matches(c, etag)) {
        close(fd);
        return send_not_modified(c, rq, etag, cache);
    }
    struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    add_common_headers(r, ctype, cache);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    return queue(c, rq, MHD_HTTP_OK, r, (uint64_t)st.st_size);
}

static enum MHD_Result serve_thumb(ps_server *s, struct MHD_Connection *c, request *rq,
                                   int64_t id)
{
    enum MHD_Result done = MHD_NO;
    char *path = lookup_photo(s, c, rq, id, &done);
    if (!path)
        return done;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        free(path);
        return missing_file(c, rq, id, e);
    }
    ps_thumb_key key = {id, (int64_t)st.st_size,
                        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
    char etag[96];
    snprintf(etag, sizeof etag, "\"t%" PRId64 "-%" PRId64 "-%" PRId64 "-%d\"", id, key.size,
             key.mtime_ns, s->cfg.thumb_side);
    const char *cache = "private, max-age=3600";
    if (etag_matches(c, etag)) {
        free(path);
        return send_not_modified(c, rq, etag, cache);
    }
    size_t len = 0;
    unsigned char *jpeg = ps_thumb_cache_get(s->thumbs, &key, &len);
    if (!jpeg) {
        ps_error err = {{0}};
        if (!S_ISREG(st.st_mode) ||
            s->be.thumbnail(s->be.ctx, path, s->cfg.thumb_side, &jpeg, &len, &err) != 0) {
            free(path);
            char msg[PS_ERROR_MAX + 64];
            snprintf(msg, sizeof msg, "cannot make a thumbnail of photo %" PRId64 ": %s", id,
                     err.msg[0] ? err.msg : "not a regular file");
            return send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
        }
        ps_thumb_cache_put(s->thumbs, &key, jpeg, len);
    }
    free(path);
    return send_bytes(c, rq, MHD_HTTP_OK, "image/jpeg", cache, etag, jpeg, len, true);
}

/* ---- libmicrohttpd callbacks --------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    ps_server *s = cls;
    request *rq = ps_xcalloc(1, sizeof *rq);
    clock_gettime(CLOCK_MONOTONIC, &rq->t0);
    rq->target = ps_xstrdup(uri ? uri : "");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                      rq->client, sizeof rq->client);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      rq->client, sizeof rq->client);
    }
    atomic_fetch_add(&s->in_flight, 1);
    atomic_fetch_add(&s->requests, 1);
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    ps_server *s = cls;
    request *rq = *con_cls;
    if (!rq)
        return;
    *con_cls = NULL;
    if (s->cfg.access_log) {
        static const char *const notes[] = {
            [MHD_REQUEST_TERMINATED_COMPLETED_OK] = "",
            [MHD_REQUEST_TERMINATED_WITH_ERROR] = "error",
            [MHD_REQUEST_TERMINATED_TIMEOUT_REACHED] = "timeout",
            [MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN] = "shutdown",
            [MHD_REQUEST_TERMINATED_READ_ERROR] = "read error",
            [MHD_REQUEST_TERMINATED_CLIENT_ABORT] = "client closed",
        };
        const char *note = (unsigned)toe < sizeof notes / sizeof notes[0] ? notes[toe] : "?";
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ps_buf line = {0};
        ps_access_log_line(&line, &now, rq->client, rq->method[0] ? rq->method : NULL,
                           rq->target, rq->status, rq->bytes, ms_since(&rq->t0), note);
        fwrite(line.data, 1, line.len, s->cfg.access_log);
        ps_buf_free(&line);
    }
    free(rq->target);
    free(rq);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* The first call, once the headers are in: refuse at once what picseek
 * will not read (other methods, request bodies), so the body is never
 * drained; the connection is then closed after the answer. */
static bool refuse_early(ps_server *s, struct MHD_Connection *c, request *rq, enum MHD_Result *ret)
{
    (void)s;
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        *ret = send_error_allow(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED,
                                "only GET and HEAD are supported", "GET, HEAD");
        return true;
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (te || (cl && strcmp(cl, "0") != 0)) {
        *ret = send_error(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "a GET request takes no body");
        return true;
    }
    return false;
}

/* The final call (the request is complete): answer it. */
static enum MHD_Result dispatch(ps_server *s, struct MHD_Connection *c, request *rq)
{
    if (s->loopback_only) {
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (host && !ps_http_host_is_loopback(host))
            return send_error(c, rq, MHD_HTTP_FORBIDDEN,
                              "this server listens on loopback and answers only requests "
                              "addressed to localhost or a loopback address");
    }
    ps_route rt;
    ps_error err = {{0}};
    if (ps_http_route(rq->target, strlen(rq->target), &rt, &err) != 0)
        return send_error(c, rq, MHD_HTTP_BAD_REQUEST, err.msg);
    switch (rt.kind) {
    case PS_ROUTE_STATIC: return serve_static(s, c, rq, rt.static_name);
    case PS_ROUTE_HEALTH: return serve_health(s, c, rq);
    case PS_ROUTE_SEARCH: return serve_search(s, c, rq, &rt);
    case PS_ROUTE_PHOTO: return serve_photo(s, c, rq, rt.id);
    case PS_ROUTE_THUMB: return serve_thumb(s, c, rq, rt.id);
    case PS_ROUTE_EXPLAIN: return serve_explain(s, c, rq, &rt);
    case PS_ROUTE_NOT_FOUND: break;
    }
    return send_error(c, rq, MHD_HTTP_NOT_FOUND, "no such page or API endpoint");
}

/* libmicrohttpd calls this at least twice per request: once when the
 * headers are in, then once per piece of body, then once more with no
 * data.  A response queued on the first call makes it close the
 * connection (it cannot know there is no body), so normal answers are
 * given on the last call and only refusals on the first. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    ps_server *s = cls;
    request *rq = *con_cls;
    if (!rq) {
        /* on_uri always runs first; this is belt and braces. */
        rq = on_uri(s, url, c);
        *con_cls = rq;
    }
    if (rq->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!rq->seen) {
        rq->seen = true;
        snprintf(rq->method, sizeof rq->method, "%s", method ? method : "");
        enum MHD_Result ret;
        if (refuse_early(s, c, rq, &ret))
            return ret;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* a body without Content-Length or Transfer-Encoding: cannot be */
        *upload_data_size = 0;
        return send_error(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, "a GET request takes no body");
    }
    return dispatch(s, c, rq);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) PS_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    ps_server *s = cls;
    /* A client that connects and leaves without a full request (port
     * scanners, browsers' speculative connections, idle keep-alives) is
     * normal life, not worth a line each. */
    if (!s->cfg.access_log || strncmp(fmt, "Connection was closed by remote side", 36) == 0)
        return;
    ps_buf b = {0};
    ps_buf_puts(&b, "picseek serve: libmicrohttpd: ");
    ps_buf_vprintf(&b, fmt, ap);
    if (b.len && b.data[b.len - 1] != '\n')
        ps_buf_putc(&b, '\n');
    fwrite(b.data, 1, b.len, s->cfg.access_log);
    ps_buf_free(&b);
}

/* ---- listening socket ---------------------------------------------------- */

static bool addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

static int open_listener(ps_server *s, ps_error *err)
{
    char port[16];
    snprintf(port, sizeof port, "%d", s->cfg.port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(s->cfg.host, port, &hints, &res);
    if (gai != 0)
        return ps_errorf(err, "%s: cannot resolve the address to listen on: %s", s->cfg.host,
                         gai_strerror(gai));
    int fd = -1, e = 0;
    const char *what = "bind";
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            e = errno;
            what = "socket";
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 511) != 0) {
            e = errno;
            what = "bind";
            close(fd);
            fd = -1;
            continue;
        }
        s->loopback_only = addr_is_loopback(ai->ai_addr);
    }
    freeaddrinfo(res);
    if (fd < 0)
        return ps_errorf(err, "%s:%d: cannot %s: %s%s", s->cfg.host, s->cfg.port, what,
                         strerror(e),
                         e == EADDRINUSE ? " (another server runs there: pick another --port)" : "");
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    s->listen_fd = fd;
    return 0;
}

/* ---- start / stop -------------------------------------------------------- */

ps_server *ps_server_start(const ps_server_config *cfg, const ps_server_backend *backend,
                           ps_error *err)
{
    if (!backend || !backend->search || !backend->photo) {
        ps_errorf(err, "the server needs a backend with search and photo functions");
        return NULL;
    }
    ps_server *s = ps_xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    fill_defaults(&s->cfg);
    s->be = *backend;
    if (!s->be.thumbnail)
        s->be.thumbnail = ps_server_thumbnail_jpeg;
    s->listen_fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->requests, 0);
    if (ps_web_load(s->cfg.web_dir, &s->web, err) != 0) {
        free(s);
        return NULL;
    }
    if (open_listener(s, err) != 0) {
        ps_web_free(&s->web);
        free(s);
        return NULL;
    }
    s->thumbs = ps_thumb_cache_new(s->cfg.thumb_cache_bytes);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem pool[] = {
        {s->cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
         (intptr_t)s->cfg.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, /* first, to catch messages about the rest */
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->cfg.memory_limit,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_END);
    if (!s->d) {
        ps_errorf(err, "%s:%d: the HTTP daemon did not start (%u threads, %u connections)",
                  s->cfg.host, s->port, (unsigned)s->cfg.threads, s->cfg.max_connections);
        close(s->listen_fd);
        ps_thumb_cache_free(s->thumbs);
        ps_web_free(&s->web);
        free(s);
        return NULL;
    }
    return s;
}

int ps_server_port(const ps_server *s)
{
    return s->port;
}

void ps_server_stop(ps_server *s)
{
    if (!s)
        return;
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&s->in_flight) > 0 && ms_since(&t0) < (double)s->cfg.drain_ms) {
        struct timespec nap = {0, 5 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    MHD_stop_daemon(s->d);
    ps_thumb_cache_free(s->thumbs);
    ps_web_free(&s->web);
    free(s);
}
