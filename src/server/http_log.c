/*
 * http_log.c - access log lines (http_log.h).
 */
#include "server/http_log.h"

#include <string.h>

void ps_log_escape(ps_buf *out, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    size_t cut = n > max ? max : n;
    for (size_t i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            ps_buf_printf(out, "\\x%02X", c);
        else
            ps_buf_putc(out, (char)c);
    }
    if (cut < n)
        ps_buf_puts(out, "...");
}

void ps_access_log_line(ps_buf *out, const struct timespec *when, const char *client,
                        const char *method, const char *target, int status, uint64_t bytes,
                        double ms, const char *note)
{
    struct tm tm;
    time_t t = when->tv_sec;
    gmtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    ps_buf_printf(out, "%s.%03ldZ %s \"", stamp, (long)(when->tv_nsec / 1000000),
                  client && client[0] ? client : "-");
    ps_log_escape(out, method ? method : "-", 16);
    ps_buf_putc(out, ' ');
    ps_log_escape(out, target ? target : "-", PS_LOG_TARGET_MAX);
    ps_buf_puts(out, "\" ");
    if (status > 0)
        ps_buf_printf(out, "%d", status);
    else
        ps_buf_putc(out, '-');
    ps_buf_printf(out, " %llu %.1fms", (unsigned long long)bytes, ms);
    if (note && note[0])
        ps_buf_printf(out, " (%s)", note);
    ps_buf_putc(out, '\n');
}
