#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "picseek: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *ps_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ps_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *ps_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ps_xstrdup(const char *s)
{
    return ps_xstrndup(s, strlen(s));
}

char *ps_xstrndup(const char *s, size_t n)
{
    char *p = ps_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void ps_buf_reserve(ps_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = ps_xrealloc(b->data, cap);
    b->cap = cap;
}

void ps_buf_append(ps_buf *b, const void *p, size_t n)
{
    ps_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ps_buf_puts(ps_buf *b, const char *s)
{
    ps_buf_append(b, s, strlen(s));
}

void ps_buf_putc(ps_buf *b, char c)
{
    ps_buf_append(b, &c, 1);
}

void ps_buf_vprintf(ps_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    ps_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void ps_buf_printf(ps_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ps_buf_clear(ps_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *ps_buf_steal(ps_buf *b)
{
    char *p = b->data;
    if (!p)
        p = ps_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void ps_buf_free(ps_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
