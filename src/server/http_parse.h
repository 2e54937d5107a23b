/*
 * http_parse.h - strict parsing of what a client sends in a request line:
 * the path (routed to one of a fixed set of endpoints) and the query string
 * of /api/search.  Pure functions, no I/O, safe from any thread.
 *
 * Everything here is hostile input.  The rules, stricter than RFC 3986
 * requires, so that no path trick can reach a file and no bad byte reaches
 * the engine:
 *   - a raw byte must be printable ASCII (0x21..0x7E); spaces, controls,
 *     NUL and raw 8-bit bytes are refused;
 *   - '%' must be followed by two hex digits; the decoded bytes must be
 *     valid UTF-8 (core/utf8.h: no overlongs, no surrogates) without NUL;
 *   - a path may not contain a backslash (raw or encoded), an encoded '/'
 *     (%2F), or a "." / ".." segment (raw or encoded): such a request is
 *     answered 400, it is never normalised into something else;
 *   - a photo id is a positive decimal integer, at most 18 digits, without
 *     sign or leading zero: "/api/photo/12" and nothing like "12.jpg",
 *     "+12", "012", "0x0c" or "12/..".
 * A failed parse returns -1 with a sentence for the 400 answer's body.
 */
#ifndef PS_SERVER_HTTP_PARSE_H
#define PS_SERVER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Decode one percent-encoded URL component of n bytes into out (appended,
 * NUL-terminated).  plus_is_space: '+' means ' ' (query strings, as HTML
 * forms and URLSearchParams write them).  Returns 0 or -1. */
int ps_url_decode(const char *s, size_t n, bool plus_is_space, ps_buf *out, ps_error *err);

typedef enum ps_route_kind {
    PS_ROUTE_NOT_FOUND = 0, /* well-formed but no such endpoint */
    PS_ROUTE_STATIC,        /* one of the web page's files: static_name */
    PS_ROUTE_SEARCH,        /* /api/search */
    PS_ROUTE_PHOTO,         /* /api/photo/<id> */
    PS_ROUTE_THUMB,         /* /api/thumb/<id> */
    PS_ROUTE_EXPLAIN,       /* /api/explain/<id> */
    PS_ROUTE_HEALTH         /* /healthz */
} ps_route_kind;

typedef struct ps_route {
    ps_route_kind kind;
    int64_t id;              /* PHOTO, THUMB, EXPLAIN */
    const char *static_name; /* STATIC: "index.html", "app.js", ... (static string) */
    const char *query;       /* points into the input after '?', or NULL */
    size_t query_len;
} ps_route;

/* The file names the web page consists of, NULL-terminated; "/" is
 * index.html.  Only these are ever served from the web folder. */
extern const char *const PS_WEB_FILES[];

/* Route a raw request target ("/api/photo/7?x=1") of n bytes.  Returns 0
 * (out->kind may be PS_ROUTE_NOT_FOUND) or -1 for a malformed target. */
int ps_http_route(const char *target, size_t n, ps_route *out, ps_error *err);

/* Parse a positive decimal id (1..18 digits, no leading zero). */
int ps_parse_id(const char *s, size_t n, int64_t *out);

typedef struct ps_search_params {
    char *q;     /* decoded query, NUL-terminated (caller frees), NULL if absent */
    size_t qlen;
    long k;      /* default_k when absent */
} ps_search_params;

/* Parse the query string of /api/search: q (required, 1..max_q_bytes bytes
 * after decoding) and k (1..max_k); each at most once; other keys are
 * checked for encoding and ignored.  Returns 0 or -1 (out->q freed). */
int ps_search_params_parse(const char *query, size_t n, long default_k, long max_k,
                           size_t max_q_bytes, ps_search_params *out, ps_error *err);
void ps_search_params_free(ps_search_params *p);

/* Is the Host header value a loopback name ("localhost", "127.0.0.1",
 * "[::1]", with or without ":port")?  Used against DNS rebinding when the
 * server listens on loopback only. */
bool ps_http_host_is_loopback(const char *host);

#endif
