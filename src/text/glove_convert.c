/*
 * glove_convert.c - stream the wink-embeddings JSON into the binary format
 * described in glove.h.
 *
 * The input is read in 1 MB chunks by a pull tokenizer (rd_* and lex());
 * a recursive-descent parser on top of it knows the one document shape it
 * accepts.  Vectors go straight to the output file as they are parsed, so
 * memory holds only the vocabulary (words, offsets, norms).  Checks that
 * need the whole input (duplicates, words[] against the keys, "size") run
 * at the end and still name the byte offset of the culprit.
 */
#define _GNU_SOURCE
#include "text/glove.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "core/utf8.h"
#include "text/glove_format.h"

#define CHUNK (1u << 20)
#define MAX_NUM_CHARS 64
#define MAX_DEPTH 64

/* ---- small growable arrays ---------------------------------------------- */

typedef struct u32vec { uint32_t *v; size_t n, cap; } u32vec;
typedef struct u64vec { uint64_t *v; size_t n, cap; } u64vec;
typedef struct f32vec { float *v; size_t n, cap; } f32vec;

#define VEC_PUSH(vec, x)                                                        \
    do {                                                                        \
        if ((vec)->n == (vec)->cap) {                                           \
            (vec)->cap = (vec)->cap ? (vec)->cap * 2 : 1024;                    \
            (vec)->v = ps_xrealloc((vec)->v, (vec)->cap * sizeof *(vec)->v);    \
        }                                                                       \
        (vec)->v[(vec)->n++] = (x);                                             \
    } while (0)

/* ---- the converter's state ---------------------------------------------- */

enum {
    T_EOF = 0, T_STR = 256, T_NUM, T_TRUE, T_FALSE, T_NULL
    /* punctuation tokens are their own character: { } [ ] : , */
};

typedef struct tok {
    int type;
    uint64_t off;                     /* byte offset of the token's first byte */
    size_t slen;
    char s[PS_GLOVE_MAX_WORD + 1];    /* T_STR: decoded UTF-8, NUL-terminated */
    char raw[MAX_NUM_CHARS + 1];      /* T_NUM: the digits as written */
    double num;
} tok;

/* One top-level integer field: its value and where it was. */
typedef struct field {
    int seen;
    uint64_t value, off;
} field;

typedef struct conv {
    const char *in_path;
    ps_error *err;

    /* input */
    int fd;
    unsigned char *buf;
    size_t len, pos;
    uint64_t base;    /* input offset of buf[0] */
    int eof;
    uint64_t total;   /* input size, 0 if unknown */
    ps_sha256 src_sha;
    ps_glove_progress_fn progress;
    void *progress_ctx;

    /* output */
    const char *tmp_path;
    int out_fd;
    unsigned char *obuf;
    size_t olen;
    uint64_t written;
    ps_sha256 vec_sha;

    /* document */
    field precision, l2_index, word_index, size, dimensions;
    uint64_t words_at, vectors_at, unk_at, end_at; /* offsets; 0 = not seen */
    int words_seen, vectors_seen, unk_seen;
    size_t unk_len;
    uint32_t dim;                 /* 0 until known */
    ps_buf words;                 /* words[], each NUL-terminated */
    u32vec words_pos;             /* offset of words[i] in `words` */
    u64vec words_off;             /* byte offset of words[i] in the input */
    ps_buf keys;                  /* the vectors' keys: the strings section */
    u32vec key_pos;               /* offset of key i in `keys` (word_off section) */
    u64vec key_off;               /* byte offset of key i in the input */
    f32vec norms;
    double *vals;                 /* one vector being parsed: dim + 2 numbers */
    uint64_t *val_off;
    tok t;                        /* the current token */
} conv;

PS_PRINTF(3, 4)
static int fail_at(conv *c, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(c->err, fmt, ap);
    va_end(ap);
    return ps_error_prefix(c->err, "%s: byte offset %llu", c->in_path, (unsigned long long)off);
}

/* ---- chunked input ------------------------------------------------------ */

static int rd_fill(conv *c)
{
    c->base += c->len;
    c->pos = c->len = 0;
    if (c->eof)
        return 0;
    for (;;) {
        ssize_t r = read(c->fd, c->buf, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ps_errorf(c->err, "%s: read error at byte offset %llu: %s", c->in_path,
                             (unsigned long long)c->base, strerror(errno));
        if (r == 0)
            c->eof = 1;
        c->len = (size_t)r;
        break;
    }
    ps_sha256_update(&c->src_sha, c->buf, c->len);
    if (c->progress)
        c->progress(c->progress_ctx, c->base + c->len, c->total);
    return 0;
}

/* The next byte without consuming it; -1 at end of input, -2 on error. */
static inline int rd_peek(conv *c)
{
    if (c->pos < c->len)
        return c->buf[c->pos];
    if (rd_fill(c) != 0)
        return -2;
    return c->pos < c->len ? c->buf[c->pos] : -1;
}

static inline uint64_t rd_off(const conv *c)
{
    return c->base + c->pos;
}

/* ---- tokenizer ---------------------------------------------------------- */

static const char *describe(const tok *t, char *tmp, size_t n)
{
    switch (t->type) {
    case T_EOF: return "the end of the file";
    case T_STR: return "a string";
    case T_NUM: return "a number";
    case T_TRUE: return "true";
    case T_FALSE: return "false";
    case T_NULL: return "null";
    default: snprintf(tmp, n, "'%c'", t->type); return tmp;
    }
}

/* Fail because t is not what the grammar wants at this point. */
static int unexpected(conv *c, const char *wanted)
{
    char tmp[8];
    if (c->t.type == T_EOF)
        return fail_at(c, c->t.off, "unexpected end of file, expected %s (the file is truncated)",
                       wanted);
    return fail_at(c, c->t.off, "expected %s, found %s", wanted, describe(&c->t, tmp, sizeof tmp));
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Read the 4 hex digits of a \u escape (the "\u" already consumed). */
static int lex_hex4(conv *c, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t off = rd_off(c);
        int ch = rd_peek(c);
        if (ch == -2)
            return -1;
        if (ch == -1)
            return fail_at(c, off, "unexpected end of file inside a string (the file is truncated)");
        int h = hexval(ch);
        if (h < 0)
            return fail_at(c, off, "invalid \\u escape: '%c' is not a hex digit",
                           ch >= 0x20 && ch < 0x7f ? ch : '?');
        c->pos++;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return 0;
}

static int str_put(conv *c, const char *p, size_t n)
{
    if (c->t.slen + n > PS_GLOVE_MAX_WORD)
        return fail_at(c, c->t.off, "string longer than %d bytes", PS_GLOVE_MAX_WORD);
    memcpy(c->t.s + c->t.slen, p, n);
    c->t.slen += n;
    return 0;
}

/* A string; the opening quote is at c->t.off and already consumed. */
static int lex_string(conv *c)
{
    c->t.type = T_STR;
    c->t.slen = 0;
    for (;;) {
        uint64_t off = rd_off(c);
        int ch = rd_peek(c);
        if (ch == -2)
            return -1;
        if (ch == -1)
            return fail_at(c, off, "unexpected end of file inside a string (the file is truncated)");
        c->pos++;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return fail_at(c, off, "control character 0x%02x in a string must be escaped", ch);
        if (ch != '\\') {
            char b = (char)ch;
            if (str_put(c, &b, 1) != 0)
                return -1;
            continue;
        }
        int e = rd_peek(c);
        if (e == -2)
            return -1;
        if (e == -1)
            return fail_at(c, off, "unexpected end of file inside a string (the file is truncated)");
        c->pos++;
        const char *simple = NULL;
        switch (e) {
        case '"': simple = "\""; break;
        case '\\': simple = "\\"; break;
        case '/': simple = "/"; break;
        case 'b': simple = "\b"; break;
        case 'f': simple = "\f"; break;
        case 'n': simple = "\n"; break;
        case 'r': simple = "\r"; break;
        case 't': simple = "\t"; break;
        case 'u': break;
        default:
            return fail_at(c, off, "invalid escape '\\%c' in a string",
                           e >= 0x20 && e < 0x7f ? e : '?');
        }
        if (simple) {
            if (str_put(c, simple, 1) != 0)
                return -1;
            continue;
        }
        uint32_t cp;
        if (lex_hex4(c, &cp) != 0)
            return -1;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail_at(c, off, "\\u%04x is a lone low surrogate", (unsigned)cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            int a = rd_peek(c);
            if (a == '\\') {
                c->pos++;
                a = rd_peek(c);
            } else {
                a = -3;
            }
            if (a != 'u')
                return fail_at(c, off, "\\u%04x is a high surrogate without a low one",
                               (unsigned)cp);
            c->pos++;
            if (lex_hex4(c, &lo) != 0)
                return -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return fail_at(c, off, "\\u%04x is a high surrogate without a low one",
                               (unsigned)cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp == 0)
            return fail_at(c, off, "\\u0000 (NUL) in a string is not supported");
        char u[4];
        if (str_put(c, u, ps_utf8_encode(cp, u)) != 0)
            return -1;
    }
    size_t bad;
    if (!ps_utf8_validate(c->t.s, c->t.slen, &bad))
        return fail_at(c, c->t.off, "string is not valid UTF-8 (decoded byte %zu)", bad);
    c->t.s[c->t.slen] = '\0';
    return 0;
}

/* True if raw matches the JSON number grammar:
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int number_grammar_ok(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static int is_num_char(int ch)
{
    return (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == '.' || ch == 'e' ||
           ch == 'E';
}

static int lex_number(conv *c)
{
    size_t n = 0;
    for (;;) {
        int ch = rd_peek(c);
        if (ch == -2)
            return -1;
        if (ch < 0 || !is_num_char(ch))
            break;
        if (n == MAX_NUM_CHARS) {
            c->t.raw[n] = '\0';
            return fail_at(c, c->t.off, "number '%s...' is longer than %d characters", c->t.raw,
                           MAX_NUM_CHARS);
        }
        c->t.raw[n++] = (char)ch;
        c->pos++;
    }
    c->t.raw[n] = '\0';
    if (!number_grammar_ok(c->t.raw))
        return fail_at(c, c->t.off, "invalid number '%s'", c->t.raw);
    errno = 0;
    c->t.num = strtod(c->t.raw, NULL);
    if (!isfinite(c->t.num))
        return fail_at(c, c->t.off, "number '%s' is out of range (not finite)", c->t.raw);
    c->t.type = T_NUM;
    return 0;
}

static int lex_word(conv *c)
{
    char w[8];
    size_t n = 0;
    for (;;) {
        int ch = rd_peek(c);
        if (ch == -2)
            return -1;
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z'))
            break;
        if (n + 1 < sizeof w)
            w[n] = (char)ch;
        n++;
        c->pos++;
    }
    w[n < sizeof w ? n : sizeof w - 1] = '\0';
    if (strcmp(w, "true") == 0 && n == 4)
        c->t.type = T_TRUE;
    else if (strcmp(w, "false") == 0 && n == 5)
        c->t.type = T_FALSE;
    else if (strcmp(w, "null") == 0 && n == 4)
        c->t.type = T_NULL;
    else
        return fail_at(c, c->t.off, "invalid literal '%s%s' (not JSON)", w,
                       n >= sizeof w ? "..." : "");
    return 0;
}

/* Read the next token into c->t. */
static int lex(conv *c)
{
    int ch;
    for (;;) {
        ch = rd_peek(c);
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            c->pos++;
        else
            break;
    }
    c->t.off = rd_off(c);
    if (ch == -2)
        return -1;
    if (ch == -1) {
        c->t.type = T_EOF;
        return 0;
    }
    switch (ch) {
    case '{': case '}': case '[': case ']': case ':': case ',':
        c->pos++;
        c->t.type = ch;
        return 0;
    case '"':
        c->pos++;
        return lex_string(c);
    default:
        if (ch == '-' || (ch >= '0' && ch <= '9'))
            return lex_number(c);
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            return lex_word(c);
        if (ch >= 0x20 && ch < 0x7f)
            return fail_at(c, c->t.off, "unexpected character '%c'", ch);
        return fail_at(c, c->t.off, "unexpected byte 0x%02x", ch);
    }
}

/* Read a token and require it to be `type`. */
static int expect(conv *c, int type, const char *wanted)
{
    if (lex(c) != 0)
        return -1;
    return c->t.type == type ? 0 : unexpected(c, wanted);
}

/* Step through a JSON array or object whose opening token is current, up to its closing token
 * `close`: reads the ',' after the previous element (unless `first`), then the token that
 * starts the next element. Returns 1 with that token current, 0 at the closing token, -1 on an
 * error. Callers loop `for (int first = 1; (r = next_item(c, close, first)) > 0; first = 0)`. */
static int next_item(conv *c, int close, int first)
{
    if (!first) {
        if (lex(c) != 0)
            return -1;
        if (c->t.type == close)
            return 0;
        if (c->t.type != ',')
            return unexpected(c, close == '}' ? "',' or '}'" : "',' or ']'");
    }
    if (lex(c) != 0)
        return -1;
    return first && c->t.type == close ? 0 : 1;
}

/* ---- output ------------------------------------------------------------- */

static int out_flush(conv *c)
{
    size_t off = 0;
    while (off < c->olen) {
        ssize_t w = write(c->out_fd, c->obuf + off, c->olen - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ps_errorf(c->err, "%s: write error at byte offset %llu: %s", c->tmp_path,
                             (unsigned long long)(c->written - c->olen + off),
                             w < 0 ? strerror(errno) : "short write");
        off += (size_t)w;
    }
    c->olen = 0;
    return 0;
}

static int out_write(conv *c, const void *p, size_t n, ps_sha256 *sha)
{
    const unsigned char *b = p;
    if (sha)
        ps_sha256_update(sha, p, n);
    while (n) {
        size_t room = CHUNK - c->olen, m = n < room ? n : room;
        memcpy(c->obuf + c->olen, b, m);
        c->olen += m;
        c->written += m;
        b += m;
        n -= m;
        if (c->olen == CHUNK && out_flush(c) != 0)
            return -1;
    }
    return 0;
}

/* ---- parser ------------------------------------------------------------- */

static int skip_value(conv *c, int depth);

/* Skip the rest of a container whose opening token is current. */
static int skip_container(conv *c, int depth)
{
    int close = c->t.type == '{' ? '}' : ']';
    int is_obj = close == '}';
    if (depth >= MAX_DEPTH)
        return fail_at(c, c->t.off, "nesting deeper than %d levels", MAX_DEPTH);
    int r;
    for (int first = 1; (r = next_item(c, close, first)) > 0; first = 0) {
        if (is_obj) {
            if (c->t.type != T_STR)
                return unexpected(c, first ? "a key or '}'" : "a key");
            if (expect(c, ':', "':' after the key") != 0)
                return -1;
            if (lex(c) != 0)
                return -1;
        }
        if (skip_value(c, depth + 1) != 0)
            return -1;
    }
    return r;
}

/* Skip the value whose first token is current. */
static int skip_value(conv *c, int depth)
{
    switch (c->t.type) {
    case '{': case '[':
        return skip_container(c, depth);
    case T_STR: case T_NUM: case T_TRUE: case T_FALSE: case T_NULL:
        return 0;
    default:
        return unexpected(c, "a value");
    }
}

/* A whole number field such as "size": 341479. */
static int parse_field(conv *c, field *f, const char *name, uint64_t key_off)
{
    if (f->seen)
        return fail_at(c, key_off, "key \"%s\" appears twice", name);
    if (lex(c) != 0)
        return -1;
    if (c->t.type != T_NUM)
        return unexpected(c, "a number");
    double v = c->t.num;
    if (v < 0 || v > 4294967295.0 || v != floor(v))
        return fail_at(c, c->t.off, "\"%s\" must be a whole number from 0 to 4294967295, not %s",
                       name, c->t.raw);
    f->seen = 1;
    f->value = (uint64_t)v;
    f->off = c->t.off;
    return 0;
}

static int set_dim(conv *c, uint32_t dim)
{
    c->dim = dim;
    c->vals = ps_xmalloc(((size_t)dim + 2) * sizeof *c->vals);
    c->val_off = ps_xmalloc(((size_t)dim + 2) * sizeof *c->val_off);
    return 0;
}

static int parse_dimensions(conv *c, uint64_t key_off)
{
    if (parse_field(c, &c->dimensions, "dimensions", key_off) != 0)
        return -1;
    uint64_t d = c->dimensions.value;
    if (d < 1 || d > PS_GLOVE_MAX_DIM)
        return fail_at(c, c->dimensions.off, "\"dimensions\" must be from 1 to %d, not %llu",
                       PS_GLOVE_MAX_DIM, (unsigned long long)d);
    if (c->dim && c->dim != d)
        return fail_at(c, c->dimensions.off,
                       "\"dimensions\" is %llu, but the vectors before it have %u dimensions",
                       (unsigned long long)d, c->dim);
    if (!c->dim)
        set_dim(c, (uint32_t)d);
    return 0;
}

static int parse_words(conv *c)
{
    if (c->words_seen)
        return fail_at(c, c->t.off, "key \"words\" appears twice");
    c->words_seen = 1;
    if (expect(c, '[', "'[' to start \"words\"") != 0)
        return -1;
    c->words_at = c->t.off;
    int r;
    for (int first = 1; (r = next_item(c, ']', first)) > 0; first = 0) {
        if (c->t.type != T_STR)
            return unexpected(c, "a word (a string)");
        if (c->words_pos.n >= PSG_MAX_COUNT)
            return fail_at(c, c->t.off, "more than %u words", PSG_MAX_COUNT);
        VEC_PUSH(&c->words_pos, (uint32_t)c->words.len);
        VEC_PUSH(&c->words_off, c->t.off);
        ps_buf_append(&c->words, c->t.s, c->t.slen + 1);
    }
    return r;
}

/* The numbers of one vector, "[x1,...,xD,norm,index]", for word `row`. */
static int parse_vector(conv *c, uint32_t row, const char *word)
{
    if (expect(c, '[', "'[' to start a vector") != 0)
        return -1;
    uint64_t start = c->t.off;
    /* Until "dimensions" is seen, the first vector's length sets it. */
    size_t cap = c->dim ? (size_t)c->dim + 2 : (size_t)PS_GLOVE_MAX_DIM + 2;
    double *vals = c->vals;
    uint64_t *offs = c->val_off;
    if (!c->dim) {
        vals = ps_xmalloc(cap * sizeof *vals);
        offs = ps_xmalloc(cap * sizeof *offs);
    }
    size_t n = 0;
    int rc = -1, r;
    for (int first = 1; (r = next_item(c, ']', first)) > 0; first = 0) {
        if (c->t.type != T_NUM) {
            unexpected(c, "a number");
            goto out;
        }
        if (n == cap) {
            if (c->dim)
                fail_at(c, c->t.off,
                        "the vector of \"%s\" has more than %zu numbers (expected %u dimensions, "
                        "the L2 norm and the index)", word, cap, c->dim);
            else
                fail_at(c, c->t.off, "the vector of \"%s\" has more than %d dimensions", word,
                        PS_GLOVE_MAX_DIM);
            goto out;
        }
        if (fabs(c->t.num) > FLT_MAX) {
            fail_at(c, c->t.off, "number '%s' does not fit in a 32-bit float", c->t.raw);
            goto out;
        }
        vals[n] = c->t.num;
        offs[n] = c->t.off;
        n++;
    }
    if (r < 0)
        goto out;
    if (!c->dim) {
        if (n < 3) {
            fail_at(c, start, "the vector of \"%s\" has %zu numbers, fewer than the 3 needed "
                    "(1 dimension, the L2 norm and the index)", word, n);
            goto out;
        }
        set_dim(c, (uint32_t)(n - 2));
        memcpy(c->vals, vals, n * sizeof *vals);
        memcpy(c->val_off, offs, n * sizeof *offs);
    } else if (n != (size_t)c->dim + 2) {
        fail_at(c, start, "the vector of \"%s\" has %zu numbers, expected %u (%u dimensions, "
                "the L2 norm and the index)", word, n, c->dim + 2, c->dim);
        goto out;
    }
    uint32_t d = c->dim;
    float f[256];
    double sum = 0;
    for (uint32_t i = 0; i < d; i++) {
        float x = (float)c->vals[i];
        sum += (double)x * x;
        f[i % 256] = x;
        if (i % 256 == 255 || i + 1 == d) {
            if (out_write(c, f, (i % 256 + 1) * sizeof *f, &c->vec_sha) != 0)
                goto out;
        }
    }
    double norm = sqrt(sum), stored = c->vals[d];
    if (fabs(norm - stored) > 1e-4 * fmax(1.0, fabs(stored))) {
        fail_at(c, c->val_off[d], "the stored L2 norm of \"%s\" is %.9g, but its vector's norm "
                "is %.9g", word, stored, norm);
        goto out;
    }
    if (c->vals[d + 1] != (double)row) {
        fail_at(c, c->val_off[d + 1], "\"%s\" has index %.9g, expected %u (its position in "
                "\"vectors\")", word, c->vals[d + 1], row);
        goto out;
    }
    VEC_PUSH(&c->norms, (float)norm);
    rc = 0;
out:
    if (vals != c->vals) {
        free(vals);
        free(offs);
    }
    return rc;
}

static int parse_vectors(conv *c)
{
    if (c->vectors_seen)
        return fail_at(c, c->t.off, "key \"vectors\" appears twice");
    c->vectors_seen = 1;
    if (expect(c, '{', "'{' to start \"vectors\"") != 0)
        return -1;
    c->vectors_at = c->t.off;
    int r;
    for (int first = 1; (r = next_item(c, '}', first)) > 0; first = 0) {
        if (c->t.type != T_STR)
            return unexpected(c, first ? "a word (a string) or '}'" : "a word (a string)");
        if (c->t.slen == 0)
            return fail_at(c, c->t.off, "empty word");
        uint32_t row = (uint32_t)c->key_pos.n;
        if (row >= PSG_MAX_COUNT)
            return fail_at(c, c->t.off, "more than %u words", PSG_MAX_COUNT);
        if (c->keys.len + c->t.slen + 1 > UINT32_MAX)
            return fail_at(c, c->t.off, "the words take more than 4 GB");
        VEC_PUSH(&c->key_pos, (uint32_t)c->keys.len);
        VEC_PUSH(&c->key_off, c->t.off);
        ps_buf_append(&c->keys, c->t.s, c->t.slen + 1);
        if (expect(c, ':', "':' after the word") != 0)
            return -1;
        if (parse_vector(c, row, c->keys.data + c->key_pos.v[row]) != 0)
            return -1;
    }
    return r;
}

static int parse_unk(conv *c)
{
    if (c->unk_seen)
        return fail_at(c, c->t.off, "key \"unkVector\" appears twice");
    c->unk_seen = 1;
    if (expect(c, '[', "'[' to start \"unkVector\"") != 0)
        return -1;
    c->unk_at = c->t.off;
    int r;
    for (int first = 1; (r = next_item(c, ']', first)) > 0; first = 0) {
        if (c->t.type != T_NUM)
            return unexpected(c, "a number");
        c->unk_len++;
    }
    return r;
}

static int parse_document(conv *c)
{
    if (lex(c) != 0)
        return -1;
    if (c->t.type != '{')
        return unexpected(c, "'{' (a JSON object)");
    int r;
    for (int first = 1; (r = next_item(c, '}', first)) > 0; first = 0) {
        if (c->t.type != T_STR)
            return unexpected(c, first ? "a key or '}'" : "a key");
        uint64_t key_off = c->t.off;
        char key[32] = "";
        if (c->t.slen < sizeof key)
            memcpy(key, c->t.s, c->t.slen + 1);
        if (expect(c, ':', "':' after the key") != 0)
            return -1;
        int rc;
        if (strcmp(key, "precision") == 0)
            rc = parse_field(c, &c->precision, key, key_off);
        else if (strcmp(key, "l2NormIndex") == 0)
            rc = parse_field(c, &c->l2_index, key, key_off);
        else if (strcmp(key, "wordIndex") == 0)
            rc = parse_field(c, &c->word_index, key, key_off);
        else if (strcmp(key, "size") == 0)
            rc = parse_field(c, &c->size, key, key_off);
        else if (strcmp(key, "dimensions") == 0)
            rc = parse_dimensions(c, key_off);
        else if (strcmp(key, "words") == 0)
            rc = parse_words(c);
        else if (strcmp(key, "vectors") == 0)
            rc = parse_vectors(c);
        else if (strcmp(key, "unkVector") == 0)
            rc = parse_unk(c);
        else
            rc = lex(c) != 0 ? -1 : skip_value(c, 1); /* unknown keys are allowed */
        if (rc != 0)
            return -1;
    }
    if (r < 0)
        return -1;
    c->end_at = c->t.off;
    if (lex(c) != 0)
        return -1;
    if (c->t.type != T_EOF)
        return fail_at(c, c->t.off, "unexpected data after the end of the JSON object");
    return 0;
}

/* ---- whole-document checks ---------------------------------------------- */

typedef struct sort_item {
    const char *word;
    uint32_t row;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    int r = strcmp(x->word, y->word);
    if (r)
        return r;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int check_document(conv *c)
{
    static const char *const names[] = {"dimensions", "size", "l2NormIndex", "wordIndex"};
    const field *fields[] = {&c->dimensions, &c->size, &c->l2_index, &c->word_index};
    for (int i = 0; i < 4; i++)
        if (!fields[i]->seen)
            return fail_at(c, c->end_at, "the object ends without the key \"%s\"", names[i]);
    if (!c->words_seen)
        return fail_at(c, c->end_at, "the object ends without the key \"words\"");
    if (!c->vectors_seen)
        return fail_at(c, c->end_at, "the object ends without the key \"vectors\"");
    if (c->key_pos.n == 0)
        return fail_at(c, c->vectors_at, "\"vectors\" is empty");
    if (c->l2_index.value != c->dim)
        return fail_at(c, c->l2_index.off, "\"l2NormIndex\" is %llu, expected %u (right after "
                       "the %u dimensions)", (unsigned long long)c->l2_index.value, c->dim,
                       c->dim);
    if (c->word_index.value != (uint64_t)c->dim + 1)
        return fail_at(c, c->word_index.off, "\"wordIndex\" is %llu, expected %u (right after "
                       "the L2 norm)", (unsigned long long)c->word_index.value, c->dim + 1);
    if (c->unk_seen && c->unk_len != (size_t)c->dim + 2)
        return fail_at(c, c->unk_at, "\"unkVector\" has %zu numbers, expected %u", c->unk_len,
                       c->dim + 2);
    size_t n = c->key_pos.n;
    if (c->size.value != n)
        return fail_at(c, c->size.off, "\"size\" is %llu, but \"vectors\" has %zu words",
                       (unsigned long long)c->size.value, n);
    if (c->words_pos.n != n)
        return fail_at(c, c->words_at, "\"words\" has %zu entries, but \"vectors\" has %zu",
                       c->words_pos.n, n);
    for (size_t i = 0; i < n; i++) {
        const char *w = c->words.data + c->words_pos.v[i];
        const char *k = c->keys.data + c->key_pos.v[i];
        if (strcmp(w, k) != 0)
            return fail_at(c, c->words_off.v[i], "words[%zu] is \"%s\", but word %zu of "
                           "\"vectors\" (at byte offset %llu) is \"%s\"", i, w, i,
                           (unsigned long long)c->key_off.v[i], k);
    }
    return 0;
}

/* Sort the rows by word; fails on the first duplicate. */
static int sort_rows(conv *c, uint32_t *sorted)
{
    size_t n = c->key_pos.n;
    sort_item *items = ps_xmalloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].word = c->keys.data + c->key_pos.v[i];
        items[i].row = (uint32_t)i;
    }
    qsort(items, n, sizeof *items, cmp_item);
    /* Report the duplicate that appears first in the file: rows of equal
     * words are adjacent and ordered, so scan for the smallest later row. */
    size_t dup = n;
    for (size_t i = 1; i < n; i++)
        if (strcmp(items[i - 1].word, items[i].word) == 0 &&
            (dup == n || items[i].row < items[dup].row))
            dup = i;
    if (dup < n) {
        /* items[dup] is the second occurrence, items[dup - 1] the first. */
        uint32_t first = items[dup - 1].row, again = items[dup].row;
        fail_at(c, c->key_off.v[again], "duplicate word \"%s\" (first at byte offset %llu)",
                c->keys.data + c->key_pos.v[again], (unsigned long long)c->key_off.v[first]);
        free(items);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = items[i].row;
    free(items);
    return 0;
}

/* ---- writing the file --------------------------------------------------- */

static int write_u32s(conv *c, const uint32_t *v, size_t n, ps_sha256 *sha)
{
    unsigned char tmp[4096];
    for (size_t i = 0; i < n;) {
        size_t m = 0;
        for (; i < n && m + 4 <= sizeof tmp; i++, m += 4)
            ps_put_le32(tmp + m, v[i]);
        if (out_write(c, tmp, m, sha) != 0)
            return -1;
    }
    return 0;
}

/* Everything after the vectors, then the header; returns 0 or -1. */
static int finish_file(conv *c, const uint32_t *sorted, const unsigned char src_sha[32])
{
    uint32_t count = (uint32_t)c->key_pos.n;
    psg_layout l;
    psg_layout_compute(&l, count, c->dim, c->keys.len);
    if (c->written != l.norms)
        return ps_errorf(c->err, "%s: internal error: %llu bytes of vectors written, expected "
                         "%llu", c->tmp_path, (unsigned long long)c->written,
                         (unsigned long long)l.norms);
    unsigned char h[PSG_HEADER_SIZE];
    memset(h, 0, sizeof h);
    memcpy(h + PSG_OFF_MAGIC, PSG_MAGIC, 8);
    ps_put_le32(h + PSG_OFF_VERSION, PSG_VERSION);
    ps_put_le32(h + PSG_OFF_DIM, c->dim);
    ps_put_le32(h + PSG_OFF_COUNT, count);
    ps_put_le64(h + PSG_OFF_VECTORS, l.vectors);
    ps_put_le64(h + PSG_OFF_NORMS, l.norms);
    ps_put_le64(h + PSG_OFF_WORD_OFF, l.word_off);
    ps_put_le64(h + PSG_OFF_SORTED, l.sorted);
    ps_put_le64(h + PSG_OFF_STRINGS, l.strings);
    ps_put_le64(h + PSG_OFF_STRINGS_LEN, l.strings_len);
    ps_put_le64(h + PSG_OFF_FILE_LEN, l.file_len);
    ps_sha256_final(&c->vec_sha, h + PSG_OFF_VEC_SHA);
    memcpy(h + PSG_OFF_SRC_SHA, src_sha, 32);

    ps_sha256 meta;
    ps_sha256_init(&meta);
    ps_sha256_update(&meta, h, sizeof h); /* with the meta digest still zero */
    uint32_t *bits = ps_xmalloc((count ? count : 1) * sizeof *bits);
    for (uint32_t i = 0; i < count; i++)
        memcpy(&bits[i], &c->norms.v[i], 4);
    int rc = write_u32s(c, bits, count, &meta);
    free(bits);
    if (rc != 0 || write_u32s(c, c->key_pos.v, count, &meta) != 0 ||
        write_u32s(c, sorted, count, &meta) != 0 ||
        out_write(c, c->keys.data, c->keys.len, &meta) != 0 || out_flush(c) != 0)
        return -1;
    ps_sha256_final(&meta, h + PSG_OFF_META_SHA);

    /* The header goes in last: until now the file starts with zeros and no
     * reader would take it for a valid file. */
    ssize_t w;
    do
        w = pwrite(c->out_fd, h, sizeof h, 0);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof h)
        return ps_errorf(c->err, "%s: cannot write the header: %s", c->tmp_path,
                         w < 0 ? strerror(errno) : "short write");
    if (fsync(c->out_fd) != 0)
        return ps_errorf(c->err, "%s: cannot flush: %s", c->tmp_path, strerror(errno));
    return 0;
}

static void fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? ps_xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : ps_xstrdup(".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: makes the rename durable */
        close(fd);
    }
    free(dir);
}

static void conv_free(conv *c)
{
    free(c->buf);
    free(c->obuf);
    ps_buf_free(&c->words);
    ps_buf_free(&c->keys);
    free(c->words_pos.v);
    free(c->words_off.v);
    free(c->key_pos.v);
    free(c->key_off.v);
    free(c->norms.v);
    free(c->vals);
    free(c->val_off);
}

int ps_glove_convert(const char *in_path, const char *out_path,
                     const ps_glove_convert_opts *opts, ps_glove_convert_info *info,
                     ps_error *err)
{
    if (!psg_host_is_little_endian())
        return ps_errorf(err, "%s: the word-vector format needs a little-endian host", out_path);
    conv *c = ps_xcalloc(1, sizeof *c);
    c->err = err;
    c->in_path = strcmp(in_path, "-") == 0 ? "<stdin>" : in_path;
    c->out_fd = -1;
    if (opts) {
        c->progress = opts->progress;
        c->progress_ctx = opts->progress_ctx;
    }
    if (strcmp(in_path, "-") == 0) {
        c->fd = STDIN_FILENO;
    } else {
        c->fd = open(in_path, O_RDONLY | O_CLOEXEC);
        if (c->fd < 0) {
            ps_errorf(err, "%s: cannot open: %s", in_path, strerror(errno));
            free(c);
            return -1;
        }
    }
    /* Pipes are fine (the total is then unknown); folders are not. */
    struct stat st;
    if (fstat(c->fd, &st) == 0 && S_ISREG(st.st_mode))
        c->total = (uint64_t)st.st_size;
    if (fstat(c->fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        ps_errorf(err, "%s: not a file", c->in_path);
        close(c->fd);
        free(c);
        return -1;
    }
    ps_sha256_init(&c->src_sha);
    ps_sha256_init(&c->vec_sha);
    c->buf = ps_xmalloc(CHUNK);
    c->obuf = ps_xmalloc(CHUNK);

    ps_buf tmp = {0};
    ps_buf_printf(&tmp, "%s.tmp.%ld", out_path, (long)getpid());
    c->tmp_path = tmp.data;
    uint32_t *sorted = NULL;
    int rc = -1;
    c->out_fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (c->out_fd < 0) {
        ps_errorf(err, "%s: cannot create: %s", tmp.data, strerror(errno));
        goto done;
    }
    unsigned char zero[PSG_HEADER_SIZE] = {0};
    if (out_write(c, zero, sizeof zero, NULL) != 0 || parse_document(c) != 0 ||
        check_document(c) != 0)
        goto done;
    unsigned char src_sha[32];
    ps_sha256_final(&c->src_sha, src_sha);
    char src_hex[65];
    ps_sha256_to_hex(src_sha, src_hex);
    if (opts && opts->expect_sha256 && strcmp(src_hex, opts->expect_sha256) != 0) {
        ps_errorf(err, "%s: SHA-256 is %s, expected %s: the file is damaged or not %s",
                  c->in_path, src_hex, opts->expect_sha256, PS_GLOVE_NPM_PACKAGE);
        goto done;
    }
    sorted = ps_xmalloc(c->key_pos.n * sizeof *sorted);
    if (sort_rows(c, sorted) != 0 || finish_file(c, sorted, src_sha) != 0)
        goto done;
    if (close(c->out_fd) != 0) {
        c->out_fd = -1;
        ps_errorf(err, "%s: cannot close: %s", tmp.data, strerror(errno));
        goto done;
    }
    c->out_fd = -1;
    if (rename(tmp.data, out_path) != 0) {
        ps_errorf(err, "%s: cannot rename into place: %s", out_path, strerror(errno));
        goto done;
    }
    fsync_parent(out_path);
    if (info) {
        info->count = (uint32_t)c->key_pos.n;
        info->dim = c->dim;
        info->in_bytes = c->base + c->len;
        info->out_bytes = c->written;
        memcpy(info->source_sha256, src_hex, sizeof src_hex);
    }
    rc = 0;
done:
    if (c->out_fd >= 0)
        close(c->out_fd);
    if (rc != 0)
        unlink(tmp.data);
    if (c->fd != STDIN_FILENO)
        close(c->fd);
    free(sorted);
    ps_buf_free(&tmp);
    conv_free(c);
    free(c);
    return rc;
}
