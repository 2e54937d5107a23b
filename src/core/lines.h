/*
 * lines.h - a buffer of text read a line at a time, without copies: the one
 * line loop of picseek's data files (IDF table, sense counts, label files,
 * the content lexicon).
 *
 *   ps_lines r;
 *   ps_lines_init(&r, data, len);
 *   const char *s;
 *   size_t n;
 *   while (ps_lines_next_data(&r, &s, &n))
 *       ... s[0..n) is line r.no, not blank, not a '#' comment ...
 *
 * A line ends at '\n' or at the end of the buffer; the '\n' and one '\r' at
 * the line's end are not part of it, so CRLF files read like LF files.  A final
 * '\n' does not start another (empty) line.  The reader borrows the buffer,
 * which must outlive it; NUL bytes are ordinary bytes here.
 */
#ifndef PS_CORE_LINES_H
#define PS_CORE_LINES_H

#include <stddef.h>

typedef struct ps_lines {
    const char *p, *end; /* what is left to read */
    const char *base;    /* the buffer's start, for offsets */
    int no;              /* 1-based number of the line last returned, 0 before */
} ps_lines;

void ps_lines_init(ps_lines *r, const char *data, size_t len);

/* The next line into *s, *n; returns 0 (and leaves them) at the end. */
int ps_lines_next(ps_lines *r, const char **s, size_t *n);

/* The next line that is neither empty nor starts with '#'; r->no still
 * counts every line, so messages can name the right one. */
int ps_lines_next_data(ps_lines *r, const char **s, size_t *n);

/* Byte offset of s (a line returned by r) from the buffer's start. */
size_t ps_lines_offset(const ps_lines *r, const char *s);

#endif
