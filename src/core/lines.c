/*
 * lines.c - reading a buffer a line at a time (see lines.h).
 */
#include "core/lines.h"

#include <string.h>

void ps_lines_init(ps_lines *r, const char *data, size_t len)
{
    r->base = r->p = data;
    r->end = data + len;
    r->no = 0;
}

int ps_lines_next(ps_lines *r, const char **s, size_t *n)
{
    if (r->p >= r->end)
        return 0;
    const char *start = r->p;
    const char *nl = memchr(start, '\n', (size_t)(r->end - start));
    size_t len = nl ? (size_t)(nl - start) : (size_t)(r->end - start);
    r->p = nl ? nl + 1 : r->end;
    r->no++;
    if (len && start[len - 1] == '\r')
        len--;
    *s = start;
    *n = len;
    return 1;
}

int ps_lines_next_data(ps_lines *r, const char **s, size_t *n)
{
    const char *line;
    size_t len;
    while (ps_lines_next(r, &line, &len))
        if (len && line[0] != '#') {
            *s = line;
            *n = len;
            return 1;
        }
    return 0;
}

size_t ps_lines_offset(const ps_lines *r, const char *s) { return (size_t)(s - r->base); }
