/*
 * csv.h - a strict, bounded, streaming reader for RFC 4180 delimited text.
 *
 * One reader handles the three dialects picseek meets: ',' CSV with a
 * header, tab-separated files without a header, and the '|'-separated test
 * file.  The separator is the only difference; quoting is RFC 4180 for all:
 *
 *   - a field is either unquoted (no '"', CR or LF inside) or quoted from its
 *     very first byte to a closing '"' that is followed by the separator, a
 *     line end or the end of the data; inside quotes "" is one '"', and the
 *     separator, CR and LF are ordinary bytes;
 *   - records end with LF or CRLF (both may occur in one file); a bare CR
 *     outside quotes is an error; the last record may lack its line end;
 *   - a UTF-8 byte order mark at the very start is skipped;
 *   - every field must be valid UTF-8 (RFC 3629) without NUL bytes;
 *   - every record must have the same number of fields: the number given in
 *     the options, or else the number the first record has.
 *
 * "Truncated" input is reported, never guessed around: a quoted field still
 * open at the end of the data is an error ("unterminated quoted field"), and
 * a last record that ends without a line end and has too few fields gets the
 * wrong-field-count error with the hint "(truncated last line?)".  An empty
 * file (zero bytes, or only the byte order mark) is an error unless
 * opts.allow_empty is set.
 *
 * Errors read "path:line: column N: reason", where line is the physical line
 * (1-based, LF-counted) on which the record starts and N is the 1-based
 * field number.  Reading the whole file first keeps the reader simple; the
 * file size, each field, each record and the number of fields per record
 * are bounded by the options (defaults below).
 *
 *   ps_csv r;
 *   if (ps_csv_open_file(&r, path, &opts, err) != 0) return -1;
 *   int rc;
 *   while ((rc = ps_csv_next(&r, err)) == PS_CSV_RECORD) {
 *       const char *f = ps_csv_field(&r, 0, &len);   // NUL-terminated
 *   }
 *   ps_csv_close(&r);            // rc: PS_CSV_END, or an error (see below)
 *
 * Ownership: the reader owns its copy of the file (ps_csv_open_file) or
 * borrows the caller's buffer (ps_csv_open: it must outlive the reader).
 * Field pointers stay valid until the next ps_csv_next or ps_csv_close.
 */
#ifndef PS_DATA_CSV_H
#define PS_DATA_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

#define PS_CSV_MAX_FILE (64u << 20)   /* default whole-file limit: 64 MiB */
#define PS_CSV_MAX_FIELD (64u << 10)  /* default field limit: 64 KiB (unescaped) */
#define PS_CSV_MAX_RECORD (1u << 20)  /* default record limit: 1 MiB (all fields) */
#define PS_CSV_MAX_FIELDS 64          /* default limit on fields per record */

typedef struct ps_csv_opts {
    char sep;            /* ',', '\t', '|', ... (not '"', CR or LF); 0 means ',' */
    size_t nfields;      /* required fields per record; 0 = as many as the first record */
    size_t max_file;     /* 0 = PS_CSV_MAX_FILE (ps_csv_open_file only) */
    size_t max_field;    /* 0 = PS_CSV_MAX_FIELD */
    size_t max_record;   /* 0 = PS_CSV_MAX_RECORD */
    size_t max_fields;   /* 0 = PS_CSV_MAX_FIELDS */
    bool allow_empty;    /* an empty file is zero records instead of an error */
} ps_csv_opts;

/* What ps_csv_next returns. */
enum {
    PS_CSV_RECORD = 1,  /* a record is available */
    PS_CSV_END = 0,     /* no more records */
    PS_CSV_ERROR = -1,  /* malformed input the reader cannot read past: stop */
    PS_CSV_BAD = -2,    /* this record was read to its end but is invalid (wrong
                         * number of fields, invalid UTF-8, NUL byte); err says
                         * why, and the caller may skip it and go on */
};

typedef struct ps_csv {
    /* private */
    char *owned;          /* the file contents when we read them */
    const char *path;     /* copy, for messages */
    const char *data;
    size_t len, pos;
    size_t line;          /* physical line at pos */
    size_t rec_line;      /* line where the current record starts */
    char sep;
    size_t nfields_want;
    size_t max_field, max_record, max_fields;
    bool ended_with_newline;
    bool failed;
    ps_buf rec;           /* unescaped fields, each NUL-terminated */
    size_t *off;          /* field i starts at rec + off[i] and is len[i] bytes */
    size_t *flen;
    size_t nfields, fcap;
    size_t records;       /* records returned so far (including bad ones) */
} ps_csv;

/* Read `path` (at most opts->max_file bytes) and start reading records. */
int ps_csv_open_file(ps_csv *r, const char *path, const ps_csv_opts *opts, ps_error *err);

/* Start reading records from data[0..len) (borrowed); path names it in
 * messages.  opts may be NULL for the defaults. */
int ps_csv_open(ps_csv *r, const char *path, const char *data, size_t len,
                const ps_csv_opts *opts, ps_error *err);

/* Read the next record: PS_CSV_RECORD, PS_CSV_END, PS_CSV_BAD or PS_CSV_ERROR.
 * After PS_CSV_ERROR every further call returns PS_CSV_ERROR. */
int ps_csv_next(ps_csv *r, ps_error *err);

/* The current record. */
size_t ps_csv_nfields(const ps_csv *r);
const char *ps_csv_field(const ps_csv *r, size_t i, size_t *len_out);
size_t ps_csv_line(const ps_csv *r);      /* line where the current record starts */
const char *ps_csv_path(const ps_csv *r);

/* Check that the current record is exactly the header names[0..n); the
 * error names the first column that differs. */
int ps_csv_expect_header(const ps_csv *r, const char *const *names, size_t n, ps_error *err);

void ps_csv_close(ps_csv *r);

/* Append s[0..n) to b as one field: quoted (with "" for ") only when it
 * holds the separator, a quote, CR or LF, or starts with a byte order mark,
 * so that this reader reads it back unchanged. */
void ps_csv_write_field(ps_buf *b, const char *s, size_t n, char sep);

#endif
