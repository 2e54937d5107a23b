#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ps_verrorf(ps_error *err, const char *fmt, va_list ap)
{
    if (err)
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return -1;
}

int ps_errorf(ps_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(err, fmt, ap);
    va_end(ap);
    return -1;
}

int ps_error_prefix(ps_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[PS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[PS_ERROR_MAX];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    /* Truncation is acceptable here: the message stays NUL-terminated. */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3)
        n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strlen(old);
    if (m > room)
        m = room;
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    return -1;
}

void ps_error_clear(ps_error *err)
{
    if (err)
        err->msg[0] = '\0';
}
