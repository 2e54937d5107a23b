/*
 * fuzz_http.c - libFuzzer target for the server's request parsing: arbitrary
 * bytes as a request target through ps_http_route and, for /api/search,
 * ps_search_params_parse; as a Host header through ps_http_host_is_loopback;
 * and through the access log's escaping.  Checks the promises of
 * http_parse.h on every input: a photo route names a positive id and its
 * raw path has no dot segment or backslash; decoded queries are valid UTF-8
 * without NUL; a log line has no control byte.  Build with clang
 * -DPICSEEK_FUZZ=ON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"
#include "server/http_log.h"
#include "server/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data;
    ps_route r;
    ps_error err;
    if (ps_http_route(t, size, &r, &err) == 0) {
        if ((r.kind == PS_ROUTE_PHOTO || r.kind == PS_ROUTE_THUMB) && r.id <= 0)
            abort();
        size_t plen = r.query ? (size_t)(r.query - 1 - t) : size;
        for (size_t i = 0; i < plen; i++)
            if (t[i] == '\\' || (unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
                abort();
        if (r.kind == PS_ROUTE_SEARCH) {
            ps_search_params p;
            if (ps_search_params_parse(r.query, r.query_len, 24, 200, 1000, &p, &err) == 0) {
                size_t bad;
                if (!p.q || strlen(p.q) != p.qlen || p.qlen == 0 || p.qlen > 1000 ||
                    !ps_utf8_validate(p.q, p.qlen, &bad) || p.k < 1 || p.k > 200)
                    abort();
                ps_search_params_free(&p);
            }
        }
    }
    char *z = ps_xstrndup(t, size);
    (void)ps_http_host_is_loopback(z);
    ps_buf b = {0};
    ps_log_escape(&b, z, PS_LOG_TARGET_MAX);
    for (size_t i = 0; i < b.len; i++)
        if ((unsigned char)b.data[i] < 0x20 || (unsigned char)b.data[i] > 0x7e)
            abort();
    ps_buf_free(&b);
    free(z);
    return 0;
}
