/*
 * buf.h - a growable byte buffer (always NUL-terminated for convenience).
 *
 * Ownership: the buffer owns `data`; ps_buf_free() releases it.  A zeroed
 * ps_buf is a valid empty buffer.  Allocation failure aborts the process
 * with a message (see ps_xmalloc): picseek treats out-of-memory as fatal
 * rather than threading it through every string operation.
 */
#ifndef PS_CORE_BUF_H
#define PS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/error.h"

typedef struct ps_buf {
    char *data;
    size_t len;
    size_t cap;
} ps_buf;

void ps_buf_reserve(ps_buf *b, size_t extra);
void ps_buf_append(ps_buf *b, const void *p, size_t n);
void ps_buf_puts(ps_buf *b, const char *s);
void ps_buf_putc(ps_buf *b, char c);
void ps_buf_printf(ps_buf *b, const char *fmt, ...) PS_PRINTF(2, 3);
void ps_buf_vprintf(ps_buf *b, const char *fmt, va_list ap) PS_PRINTF(2, 0);
void ps_buf_clear(ps_buf *b);
/* Hand the bytes to the caller (who must free() them); b becomes empty. */
char *ps_buf_steal(ps_buf *b);
void ps_buf_free(ps_buf *b);

/* malloc/calloc/realloc/strdup that abort with a message on failure. */
void *ps_xmalloc(size_t n);
void *ps_xcalloc(size_t count, size_t size);
void *ps_xrealloc(void *p, size_t n);
char *ps_xstrdup(const char *s);
char *ps_xstrndup(const char *s, size_t n);

#endif
