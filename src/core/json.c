#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"

void ps_json_init(ps_json *j, ps_buf *out, int pretty)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->pretty = pretty;
}

static void newline(ps_json *j)
{
    if (!j->pretty)
        return;
    ps_buf_putc(j->out, '\n');
    for (int i = 0; i < j->depth; i++)
        ps_buf_puts(j->out, "  ");
}

/* Called before every value or key: writes the separator it needs. */
static void before_item(ps_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->count[j->depth - 1])
        ps_buf_putc(j->out, ',');
    if (j->count[j->depth - 1] < 255)
        j->count[j->depth - 1]++;
    newline(j);
}

static void open(ps_json *j, char c, int is_obj)
{
    before_item(j);
    ps_buf_putc(j->out, c);
    if (j->depth < PS_JSON_DEPTH) {
        j->count[j->depth] = 0;
        j->is_obj[j->depth] = (unsigned char)is_obj;
    }
    j->depth++;
}

void ps_json_obj(ps_json *j) { open(j, '{', 1); }
void ps_json_arr(ps_json *j) { open(j, '[', 0); }

void ps_json_end(ps_json *j)
{
    if (j->depth == 0)
        return;
    j->depth--;
    int had = j->depth < PS_JSON_DEPTH ? j->count[j->depth] : 1;
    int obj = j->depth < PS_JSON_DEPTH ? j->is_obj[j->depth] : 0;
    if (had)
        newline(j);
    ps_buf_putc(j->out, obj ? '}' : ']');
    if (j->depth == 0 && j->pretty)
        ps_buf_putc(j->out, '\n');
}

void ps_json_key(ps_json *j, const char *key)
{
    before_item(j);
    ps_json_escape(j->out, key, strlen(key));
    ps_buf_puts(j->out, j->pretty ? ": " : ":");
    j->after_key = 1;
}

void ps_json_escape(ps_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ps_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t len = ps_utf8_valid_prefix(s + i, n - i);
            if (len == 0) {
                ps_buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFD */
                i++;
            } else {
                ps_buf_append(b, s + i, len);
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"': ps_buf_puts(b, "\\\""); break;
        case '\\': ps_buf_puts(b, "\\\\"); break;
        case '\n': ps_buf_puts(b, "\\n"); break;
        case '\r': ps_buf_puts(b, "\\r"); break;
        case '\t': ps_buf_puts(b, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                ps_buf_puts(b, u);
            } else {
                ps_buf_putc(b, (char)c);
            }
        }
        i++;
    }
    ps_buf_putc(b, '"');
}

void ps_json_strn(ps_json *j, const char *s, size_t n)
{
    before_item(j);
    ps_json_escape(j->out, s, n);
}

void ps_json_str(ps_json *j, const char *s)
{
    if (!s) {
        ps_json_null(j);
        return;
    }
    ps_json_strn(j, s, strlen(s));
}

void ps_json_int(ps_json *j, int64_t v)
{
    before_item(j);
    ps_buf_printf(j->out, "%lld", (long long)v);
}

void ps_json_num(ps_json *j, double v)
{
    before_item(j);
    if (!isfinite(v)) {
        ps_buf_puts(j->out, "null");
        return;
    }
    /* %.17g round-trips but is noisy; 6 significant digits are ample for
     * scores and metrics, while integers print exactly. */
    if (v == (double)(long long)v && fabs(v) < 1e15)
        ps_buf_printf(j->out, "%lld", (long long)v);
    else
        ps_buf_printf(j->out, "%.6g", v);
}

void ps_json_bool(ps_json *j, bool v)
{
    before_item(j);
    ps_buf_puts(j->out, v ? "true" : "false");
}

void ps_json_null(ps_json *j)
{
    before_item(j);
    ps_buf_puts(j->out, "null");
}
