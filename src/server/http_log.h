/*
 * http_log.h - the access log's line format, one line per request:
 *
 *   2025-06-01T12:00:00.123Z 127.0.0.1 "GET /api/search?q=dog" 200 5123 1.8ms
 *
 * time (UTC), client address, method and request target as received
 * (bytes outside printable ASCII, '"' and '\' written as \xHH so a request
 * cannot forge log lines; cut at 1000 bytes), status ("-" when the
 * server's library answered before picseek saw the request), body bytes,
 * and the time from the request line to the last byte, in milliseconds.
 * A request that did not complete normally ends with its reason, e.g.
 * " (timeout)".
 */
#ifndef PS_SERVER_HTTP_LOG_H
#define PS_SERVER_HTTP_LOG_H

#include <stdint.h>
#include <time.h>

#include "core/buf.h"

#define PS_LOG_TARGET_MAX 1000

/* Append one line (with '\n') to out. */
void ps_access_log_line(ps_buf *out, const struct timespec *when, const char *client,
                        const char *method, const char *target, int status, uint64_t bytes,
                        double ms, const char *note);

/* Append s escaped as described above, at most max bytes of it. */
void ps_log_escape(ps_buf *out, const char *s, size_t max);

#endif
