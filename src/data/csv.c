#include "data/csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/utf8.h"

/* A problem found in a field that does not stop the scan: the record is
 * read to its end and then reported as PS_CSV_BAD. */
typedef struct pending {
    size_t col;           /* 0 = none */
    const char *what;     /* "invalid UTF-8" or "NUL byte" */
    size_t offset;        /* byte offset in the file */
} pending;

static size_t or_default(size_t v, size_t def)
{
    return v ? v : def;
}

int ps_csv_open(ps_csv *r, const char *path, const char *data, size_t len,
                const ps_csv_opts *opts, ps_error *err)
{
    ps_csv_opts def = {0};
    if (!opts)
        opts = &def;
    memset(r, 0, sizeof *r);
    char sep = opts->sep ? opts->sep : ',';
    if (sep == '"' || sep == '\r' || sep == '\n')
        return ps_errorf(err, "%s: the separator cannot be a quote or a line end", path);
    r->path = ps_xstrdup(path);
    r->data = data;
    r->len = len;
    r->line = 1;
    r->sep = sep;
    r->nfields_want = opts->nfields;
    r->max_field = or_default(opts->max_field, PS_CSV_MAX_FIELD);
    r->max_record = or_default(opts->max_record, PS_CSV_MAX_RECORD);
    r->max_fields = or_default(opts->max_fields, PS_CSV_MAX_FIELDS);
    r->ended_with_newline = true;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    if (r->pos == len && !opts->allow_empty) {
        ps_errorf(err, "%s: file is empty", path);
        ps_csv_close(r);
        return -1;
    }
    return 0;
}

int ps_csv_open_file(ps_csv *r, const char *path, const ps_csv_opts *opts, ps_error *err)
{
    size_t max = opts ? or_default(opts->max_file, PS_CSV_MAX_FILE) : PS_CSV_MAX_FILE;
    size_t len = 0;
    char *data = ps_read_file(path, max, &len, err);
    if (!data) {
        memset(r, 0, sizeof *r);
        return -1;
    }
    if (ps_csv_open(r, path, data, len, opts, err) != 0) {
        free(data);
        return -1;
    }
    r->owned = data;
    return 0;
}

void ps_csv_close(ps_csv *r)
{
    free(r->owned);
    free((char *)r->path);
    ps_buf_free(&r->rec);
    free(r->off);
    free(r->flen);
    memset(r, 0, sizeof *r);
}

static int fail(ps_csv *r, ps_error *err, size_t col, const char *fmt, ...) PS_PRINTF(4, 5);

/* A fatal error in the record being read: the reader stops. */
static int fail(ps_csv *r, ps_error *err, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(err, fmt, ap);
    va_end(ap);
    r->failed = true;
    ps_error_prefix(err, "%s:%zu: column %zu", r->path, r->rec_line, col);
    return PS_CSV_ERROR;
}

/* Describe byte c for a message: 'x' or byte 0xNN. */
static const char *show_byte(unsigned char c, char out[16])
{
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, 16, "'%c'", c);
    else
        snprintf(out, 16, "byte 0x%02x", c);
    return out;
}

/* Append raw[0..n) to the current field, enforcing the size limits. */
static int append(ps_csv *r, ps_error *err, size_t field_start, const char *p, size_t n)
{
    size_t col = r->nfields + 1;
    size_t field_len = r->rec.len - field_start;
    /* rec holds one NUL per finished field, which the record limit ignores. */
    size_t record_len = r->rec.len - r->nfields;
    if (n > r->max_field - field_len || field_len + n > r->max_field) {
        return fail(r, err, col, "field is longer than the limit of %zu bytes", r->max_field);
    }
    if (n > r->max_record || record_len + n > r->max_record) {
        return fail(r, err, col, "record is longer than the limit of %zu bytes", r->max_record);
    }
    ps_buf_append(&r->rec, p, n);
    return 0;
}

/* Check raw bytes [from, to) of the file for invalid UTF-8 and NUL. */
static void check_bytes(const ps_csv *r, size_t from, size_t to, size_t col, pending *bad)
{
    if (bad->col)
        return;
    const char *s = r->data + from;
    size_t n = to - from, off = 0;
    const char *nul = memchr(s, '\0', n);
    size_t limit = nul ? (size_t)(nul - s) : n;
    if (!ps_utf8_validate(s, limit, &off)) {
        bad->col = col;
        bad->what = "invalid UTF-8";
        bad->offset = from + off;
        return;
    }
    if (nul) {
        bad->col = col;
        bad->what = "NUL byte";
        bad->offset = from + limit;
    }
}

/* Scan a quoted field starting after its opening quote.  On return r->pos
 * is just past the closing quote. */
static int scan_quoted(ps_csv *r, ps_error *err, size_t field_start)
{
    size_t col = r->nfields + 1;
    for (;;) {
        if (r->pos >= r->len)
            return fail(r, err, col, "unterminated quoted field at end of file (truncated file?)");
        const char *p = r->data + r->pos;
        size_t left = r->len - r->pos;
        if (*p == '"') {
            if (left >= 2 && p[1] == '"') {
                if (append(r, err, field_start, "\"", 1) != 0)
                    return PS_CSV_ERROR;
                r->pos += 2;
                continue;
            }
            r->pos++;
            return 0;
        }
        const char *q = memchr(p, '"', left);
        size_t n = q ? (size_t)(q - p) : left;
        for (const char *nl = p; (nl = memchr(nl, '\n', n - (size_t)(nl - p))) != NULL; nl++)
            r->line++;
        if (append(r, err, field_start, p, n) != 0)
            return PS_CSV_ERROR;
        r->pos += n;
    }
}

/* Scan an unquoted field up to (not including) its terminator. */
static int scan_unquoted(ps_csv *r, ps_error *err, size_t field_start)
{
    size_t col = r->nfields + 1;
    size_t start = r->pos;
    const char *d = r->data;
    char sep = r->sep;
    size_t i = start;
    while (i < r->len && d[i] != sep && d[i] != '\n' && d[i] != '\r' && d[i] != '"')
        i++;
    if (i < r->len && d[i] == '"')
        return fail(r, err, col, "quote character inside an unquoted field (quote the whole "
                    "field and double the quote)");
    if (i < r->len && d[i] == '\r' && !(i + 1 < r->len && d[i + 1] == '\n'))
        return fail(r, err, col, "carriage return not followed by a line feed");
    if (append(r, err, field_start, d + start, i - start) != 0)
        return PS_CSV_ERROR;
    r->pos = i;
    return 0;
}

static void push_field(ps_csv *r, size_t field_start)
{
    if (r->nfields == r->fcap) {
        r->fcap = r->fcap ? r->fcap * 2 : 8;
        r->off = ps_xrealloc(r->off, r->fcap * sizeof *r->off);
        r->flen = ps_xrealloc(r->flen, r->fcap * sizeof *r->flen);
    }
    r->off[r->nfields] = field_start;
    r->flen[r->nfields] = r->rec.len - field_start;
    r->nfields++;
    ps_buf_putc(&r->rec, '\0');
}

/* After a field: consume the separator (returns 1: another field follows)
 * or the line end / end of data (returns 0: the record is complete). */
static int end_of_field(ps_csv *r, ps_error *err, bool quoted)
{
    if (r->pos >= r->len) {
        r->ended_with_newline = false;
        return 0;
    }
    char c = r->data[r->pos];
    if (c == r->sep) {
        r->pos++;
        return 1;
    }
    if (c == '\n') {
        r->pos++;
        r->line++;
        return 0;
    }
    if (c == '\r' && r->pos + 1 < r->len && r->data[r->pos + 1] == '\n') {
        r->pos += 2;
        r->line++;
        return 0;
    }
    char b[16];
    if (quoted)
        return fail(r, err, r->nfields, "unexpected %s after the closing quote "
                    "(a quote inside a quoted field must be doubled)",
                    show_byte((unsigned char)c, b));
    /* scan_unquoted stops only at the cases above. */
    return fail(r, err, r->nfields, "unexpected %s", show_byte((unsigned char)c, b));
}

static int check_count(ps_csv *r, ps_error *err)
{
    size_t want = r->nfields_want, got = r->nfields;
    if (want == 0 || got == want)
        return 0;
    const char *hint = "";
    if (got < want && r->pos >= r->len && !r->ended_with_newline)
        hint = " (truncated last line?)";
    size_t col = got < want ? got + 1 : want + 1;
    ps_errorf(err, "%s:%zu: column %zu: record has %zu field%s, expected %zu%s", r->path,
              r->rec_line, col, got, got == 1 ? "" : "s", want, hint);
    return PS_CSV_BAD;
}

int ps_csv_next(ps_csv *r, ps_error *err)
{
    if (r->failed) {
        ps_errorf(err, "%s: the reader already stopped at an error", r->path ? r->path : "csv");
        return PS_CSV_ERROR;
    }
    ps_buf_clear(&r->rec);
    r->nfields = 0;
    if (r->pos >= r->len)
        return PS_CSV_END;
    r->rec_line = r->line;
    r->ended_with_newline = true;
    pending bad = {0, NULL, 0};
    for (;;) {
        if (r->nfields >= r->max_fields) {
            return fail(r, err, r->nfields + 1, "record has more than %zu fields", r->max_fields);
        }
        size_t field_start = r->rec.len;
        size_t raw_start = r->pos;
        bool quoted = r->pos < r->len && r->data[r->pos] == '"';
        int rc;
        if (quoted) {
            r->pos++;
            rc = scan_quoted(r, err, field_start);
        } else {
            rc = scan_unquoted(r, err, field_start);
        }
        if (rc != 0)
            return PS_CSV_ERROR;
        check_bytes(r, raw_start, r->pos, r->nfields + 1, &bad);
        push_field(r, field_start);
        rc = end_of_field(r, err, quoted);
        if (rc < 0)
            return PS_CSV_ERROR;
        if (rc == 0)
            break;
    }
    r->records++;
    if (r->nfields_want == 0)
        r->nfields_want = r->nfields;
    if (bad.col) {
        ps_errorf(err, "%s:%zu: column %zu: %s at byte offset %zu", r->path, r->rec_line,
                  bad.col, bad.what, bad.offset);
        return PS_CSV_BAD;
    }
    if (check_count(r, err) != 0)
        return PS_CSV_BAD;
    return PS_CSV_RECORD;
}

size_t ps_csv_nfields(const ps_csv *r)
{
    return r->nfields;
}

const char *ps_csv_field(const ps_csv *r, size_t i, size_t *len_out)
{
    if (i >= r->nfields) {
        if (len_out)
            *len_out = 0;
        return NULL;
    }
    if (len_out)
        *len_out = r->flen[i];
    return r->rec.data + r->off[i];
}

size_t ps_csv_line(const ps_csv *r)
{
    return r->rec_line;
}

const char *ps_csv_path(const ps_csv *r)
{
    return r->path;
}

int ps_csv_expect_header(const ps_csv *r, const char *const *names, size_t n, ps_error *err)
{
    for (size_t i = 0; i < n && i < r->nfields; i++) {
        size_t len;
        const char *f = ps_csv_field(r, i, &len);
        if (strlen(names[i]) != len || memcmp(f, names[i], len) != 0)
            return ps_errorf(err, "%s:%zu: column %zu: header is '%.64s', expected '%s'",
                             r->path, r->rec_line, i + 1, f, names[i]);
    }
    if (r->nfields != n)
        return ps_errorf(err, "%s:%zu: column %zu: header has %zu column%s, expected %zu",
                         r->path, r->rec_line, (r->nfields < n ? r->nfields : n) + 1,
                         r->nfields, r->nfields == 1 ? "" : "s", n);
    return 0;
}

void ps_csv_write_field(ps_buf *b, const char *s, size_t n, char sep)
{
    /* A leading byte order mark would be skipped when this is the first
     * field of a file; quoted, it is data. */
    bool quote = n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == sep || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        ps_buf_append(b, s, n);
        return;
    }
    ps_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            ps_buf_putc(b, '"');
        ps_buf_putc(b, s[i]);
    }
    ps_buf_putc(b, '"');
}
