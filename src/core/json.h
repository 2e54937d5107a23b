/*
 * json.h - a small streaming JSON writer.
 *
 * Commas and nesting are tracked for the caller, so output is always
 * well-formed if begin/end calls balance.  Strings are escaped per RFC 8259
 * (control characters as \u00XX); invalid UTF-8 bytes are replaced by
 * U+FFFD so the output is always valid UTF-8.  Non-finite numbers are
 * written as null.
 *
 *   ps_json j; ps_json_init(&j, &buf, 1);
 *   ps_json_obj(&j); ps_json_key(&j, "n"); ps_json_int(&j, 3); ps_json_end(&j);
 */
#ifndef PS_CORE_JSON_H
#define PS_CORE_JSON_H

#include <stdint.h>
#include <stdbool.h>

#include "core/buf.h"

#define PS_JSON_DEPTH 32

typedef struct ps_json {
    ps_buf *out;
    int pretty;
    int depth;
    unsigned char count[PS_JSON_DEPTH]; /* items written at each level (saturating) */
    unsigned char is_obj[PS_JSON_DEPTH];
    int after_key;
} ps_json;

void ps_json_init(ps_json *j, ps_buf *out, int pretty);
void ps_json_obj(ps_json *j);
void ps_json_arr(ps_json *j);
void ps_json_end(ps_json *j);
void ps_json_key(ps_json *j, const char *key);
void ps_json_str(ps_json *j, const char *s);
void ps_json_strn(ps_json *j, const char *s, size_t n);
void ps_json_int(ps_json *j, int64_t v);
void ps_json_num(ps_json *j, double v);
void ps_json_bool(ps_json *j, bool v);
void ps_json_null(ps_json *j);

/* Escape s as a JSON string literal (with quotes) into b. */
void ps_json_escape(ps_buf *b, const char *s, size_t n);

#endif
