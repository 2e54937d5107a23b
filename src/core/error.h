/*
 * error.h - one error value, carried from the place that knows what went
 * wrong up to the place that prints it.
 *
 * Convention used by every picseek module: a function that can fail takes a
 * `ps_error *err` as its last argument and returns 0 on success, -1 on
 * failure (or NULL for constructors).  On failure it has written a complete,
 * human-readable sentence into err->msg with context such as
 * "file:line: column 3: reason" or "file: byte offset 1234: reason".
 * `err` may be NULL when the caller does not care about the message.
 */
#ifndef PS_CORE_ERROR_H
#define PS_CORE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define PS_ERROR_MAX 1024

typedef struct ps_error {
    char msg[PS_ERROR_MAX];
} ps_error;

#if defined(__GNUC__)
#define PS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PS_PRINTF(a, b)
#endif

/* Write a formatted message into err (if non-NULL). Always returns -1 so
 * that `return ps_errorf(err, ...)` reads naturally. */
int ps_errorf(ps_error *err, const char *fmt, ...) PS_PRINTF(2, 3);
/* The same with a va_list, for a module's own "fail with context" helper:
 * ps_verrorf(err, fmt, ap) then ps_error_prefix(err, "where"). */
int ps_verrorf(ps_error *err, const char *fmt, va_list ap) PS_PRINTF(2, 0);

/* Prefix the message already in err with "prefix: ", e.g. the file name a
 * lower layer did not know.  Returns -1. */
int ps_error_prefix(ps_error *err, const char *fmt, ...) PS_PRINTF(2, 3);

/* Clear the message. */
void ps_error_clear(ps_error *err);

#endif
