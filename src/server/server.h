/*
 * server.h - picseek's web server: the search page and its JSON API over
 * HTTP/1.1, on GNU libmicrohttpd.
 *
 * Endpoints (GET and HEAD only; anything else is 405):
 *   /, /index.html, /app.js,      the web page: a fixed set of files read
 *   /style.css, /favicon.svg      from the web folder at start (PS_WEB_FILES)
 *   /api/search?q=TEXT&k=N        the search result object (as `picseek search
 *                                 --json`), from backend->search
 *   /api/photo/ID                 the photo file, sent with sendfile()
 *   /api/thumb/ID                 a JPEG thumbnail, made by backend->thumbnail
 *                                 on first use and kept in a bounded LRU cache
 *   /api/explain/ID?q=TEXT&k=N    why the photo matches TEXT: at most N reasons
 *                                 (default 6, at most 64), from backend->explain
 *   /healthz                      {"status":"ok", ...} for monitors
 * Errors are JSON: {"error": "sentence"} with 400 (malformed request, see
 * http_parse.h), 403 (Host header not loopback while listening on loopback:
 * DNS-rebinding guard), 404, 405, 413 (a request body), 451 (a restricted
 * photo: never served, whatever the request) or 500.
 *
 * Photos are looked up by id through the backend: a path never comes from
 * the request.  Every answer carries X-Content-Type-Options: nosniff, a
 * Content-Security-Policy that allows only this origin (no inline script),
 * Referrer-Policy: no-referrer and Cache-Control.
 *
 * Threads.  The daemon runs `threads` worker threads, each an epoll loop
 * over its share of the connections, so idle connections cost a few
 * hundred bytes and no thread.  The backend's functions are called from all
 * of them at once and must be thread-safe.  Limits: connections in total,
 * per client address, an idle timeout (a client that sends nothing for
 * `timeout_s` is dropped: slow clients cannot hold a worker), and
 * `memory_limit` bytes per connection for the request line and headers
 * (longer ones get 414 / 431 from libmicrohttpd).
 *
 * Shutdown.  ps_server_stop stops accepting, waits up to drain_ms for the
 * requests in progress to finish, then closes every connection and joins
 * the threads.  Signals are the caller's business (the CLI sigwaits).
 */
#ifndef PS_SERVER_SERVER_H
#define PS_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"

/* The backend: what the server needs from a search engine, as functions
 * and a context.  The CLI adapts the index engine to it; tests plug in a
 * stand-in.  Every function must be safe to call from several threads. */
#define PS_BACKEND_BAD_QUERY (-2) /* search: the query is unusable (answered 400) */
#define PS_BACKEND_NOT_FOUND 1    /* photo, explain: no photo with this id */
#define PS_BACKEND_RESTRICTED 2   /* explain: the photo is restricted (answered 451) */
#define PS_SERVER_EXPLAIN_K 6      /* /api/explain: reasons by default ... */
#define PS_SERVER_EXPLAIN_MAX_K 64 /* ... and at most */

typedef struct ps_server_backend {
    void *ctx;
    /* Run a search for q (len bytes, valid UTF-8, no NUL, 1..max_query_bytes)
     * returning at most k results; append the result object as JSON to
     * *json.  Returns 0, PS_BACKEND_BAD_QUERY (err says why) or -1. */
    int (*search)(void *ctx, const char *q, size_t len, size_t k, ps_buf *json, ps_error *err);
    /* Look up photo `id`: 0 and *restricted; when not restricted, *path is
     * a new string (the caller frees it), when restricted *path is NULL.
     * PS_BACKEND_NOT_FOUND for an unknown id, -1 on failure. */
    int (*photo)(void *ctx, int64_t id, char **path, bool *restricted, ps_error *err);
    /* A JPEG of the photo at `path` fitting max_side x max_side: *jpeg is a
     * new malloc'd buffer of *len bytes (the caller frees it).  0 or -1.
     * NULL: ps_server_thumbnail_jpeg. */
    int (*thumbnail)(void *ctx, const char *path, int max_side, unsigned char **jpeg,
                     size_t *len, ps_error *err);
    /* Optional (may be NULL): add keys about the index to /healthz's
     * object, e.g. "photos". */
    void (*health)(void *ctx, ps_json *j);
    /* Optional (NULL: /api/explain answers 404): why photo `id` matches q
     * (as search), at most k reasons; append the object as JSON to *json.
     * Returns 0 (also for a query the content rule blocks: the object says
     * so), PS_BACKEND_BAD_QUERY, PS_BACKEND_NOT_FOUND,
     * PS_BACKEND_RESTRICTED (nothing about a restricted photo is told) or
     * -1. */
    int (*explain)(void *ctx, int64_t id, const char *q, size_t len, size_t k, ps_buf *json,
                   ps_error *err);
} ps_server_backend;

/* The default thumbnail maker: image/encode.h's ps_image_thumbnail_jpeg
 * (DCT-domain reduced decode, triangle-filter resize, EXIF orientation
 * applied) at PS_SERVER_THUMB_QUALITY.  ctx is unused. */
#define PS_SERVER_THUMB_QUALITY 82
int ps_server_thumbnail_jpeg(void *ctx, const char *path, int max_side, unsigned char **jpeg,
                             size_t *len, ps_error *err);

typedef struct ps_server_config {
    const char *host;         /* address or name to bind; default "127.0.0.1" */
    int port;                 /* 0: any free port (see ps_server_port) */
    int threads;              /* worker threads; <= 0: one per CPU (at most 16) */
    const char *web_dir;      /* folder holding PS_WEB_FILES */
    unsigned max_connections; /* in total; 0: 1000 */
    unsigned max_per_ip;      /* per client address; 0: no limit */
    unsigned timeout_s;       /* idle connection timeout; 0: 15 */
    size_t memory_limit;      /* per connection, request line + headers; 0: 32 KiB */
    long default_k, max_k;    /* /api/search's k; 0: 24 and 200 */
    size_t max_query_bytes;   /* longest q; 0: 1000 */
    int thumb_side;           /* thumbnail size; 0: 320 */
    size_t thumb_cache_bytes; /* LRU bound; 0: 64 MiB */
    unsigned drain_ms;        /* stop: wait for requests in progress; 0: 5000 */
    FILE *access_log;         /* one line per request; NULL: none */
} ps_server_config;

/* Defaults as documented above (host "127.0.0.1", port 8080, web_dir
 * PICSEEK_SOURCE_DIR "/web"). */
void ps_server_config_init(ps_server_config *c);

typedef struct ps_server ps_server;

/* Load the web files, bind, listen and start the worker threads.  The
 * backend is copied; its ctx must outlive the server.  Fails with a
 * message naming the address ("127.0.0.1:8080: address already in use")
 * or the missing web file. */
ps_server *ps_server_start(const ps_server_config *cfg, const ps_server_backend *backend,
                           ps_error *err);

/* The port actually bound (useful with port 0). */
int ps_server_port(const ps_server *s);

/* Graceful stop (see above) and free.  NULL is fine. */
void ps_server_stop(ps_server *s);

#endif
