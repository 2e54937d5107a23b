/*
 * tokenize.c - UTF-8 validation, word splitting, NFKC case folding and the
 * stop-word list (see tokenize.h).
 *
 * Unicode properties (is this code point a letter? its case folding and
 * compatibility decomposition?) come from utf8proc (Debian libutf8proc-dev):
 * a hand-written table for Latin letters would split words of every other
 * script at the first non-ASCII letter and miss fullwidth letters,
 * ligatures and the like, which matter for a content rule that must not be
 * evaded by typing "ｋｉｄｓ".
 */
#include "text/tokenize.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/utf8.h"

/* NFKC_Casefold, as utf8proc_NFKC_Casefold applies it. */
#define FOLD_OPTIONS                                                                \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |     \
                         UTF8PROC_CASEFOLD | UTF8PROC_IGNORE))

enum { CH_OTHER, CH_WORD, CH_APOS, CH_IGNORABLE };

static int char_class(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
            return CH_WORD;
        return cp == '\'' ? CH_APOS : CH_OTHER;
    }
    if (cp == 0x2019 || cp == 0xFF07) /* right single quotation mark, fullwidth apostrophe */
        return CH_APOS;
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    if (p->ignorable)
        return CH_IGNORABLE;
    switch (p->category) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return CH_WORD;
    default:
        return CH_OTHER;
    }
}

/* Class of the character at t->s[i]; *n = its byte length (>= 1). */
static int class_at(const ps_tokenizer *t, size_t i, size_t *n)
{
    uint32_t cp;
    *n = ps_utf8_decode(t->s + i, t->len - i, &cp);
    if (*n == 0) { /* cannot happen after validation; step over the byte */
        *n = 1;
        return CH_OTHER;
    }
    return char_class(cp);
}

int ps_tok_init(ps_tokenizer *t, const char *text, size_t len, ps_error *err)
{
    size_t bad;
    t->s = text;
    t->len = 0;
    t->pos = 0;
    if (len && !ps_utf8_validate(text, len, &bad))
        return ps_errorf(err, "byte offset %zu: invalid UTF-8", bad);
    t->len = len;
    return 0;
}

/* All apostrophes become U+0027 before folding. */
static utf8proc_int32_t map_apostrophe(utf8proc_int32_t cp, void *data)
{
    (void)data;
    return cp == 0x2019 || cp == 0xFF07 ? '\'' : cp;
}

/* Back up to a character boundary at or before n. */
static size_t char_floor(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Fold src[0..n) into tok->text. */
static void fold_word(ps_tokenizer *t, const char *src, size_t n, ps_token *tok)
{
    const size_t cap = sizeof t->scratch / sizeof t->scratch[0];
    utf8proc_ssize_t m;
    tok->truncated = false;
    if (n > PS_TOK_SRC_MAX) {
        n = char_floor(src, PS_TOK_SRC_MAX);
        tok->truncated = true;
    }
    /* A few code points expand to up to 18 under NFKC; if a pathological
     * word does not fit the scratch buffer, fold a shorter prefix. */
    for (;;) {
        m = utf8proc_decompose_custom((const utf8proc_uint8_t *)src, (utf8proc_ssize_t)n,
                                      t->scratch, (utf8proc_ssize_t)cap, FOLD_OPTIONS,
                                      map_apostrophe, NULL);
        if (m >= 0 && (size_t)m <= cap)
            break;
        if (m < 0 || n <= 4) {
            m = 0;
            break;
        }
        n = char_floor(src, n / 2);
        tok->truncated = true;
    }
    if (m > 0)
        m = utf8proc_normalize_utf32(t->scratch, m, FOLD_OPTIONS);
    size_t len = 0;
    for (utf8proc_ssize_t i = 0; i < m; i++) {
        char enc[4];
        size_t k = ps_utf8_encode((uint32_t)t->scratch[i], enc);
        if (len + k >= PS_TOK_WORD_MAX) {
            tok->truncated = true;
            break;
        }
        memcpy(tok->text + len, enc, k);
        len += k;
    }
    /* Drop a possessive "'s" (not from a truncated word: its end is unknown). */
    if (!tok->truncated && len > 2 && tok->text[len - 2] == '\'' && tok->text[len - 1] == 's')
        len -= 2;
    tok->text[len] = '\0';
    tok->len = len;
}

bool ps_tok_next(ps_tokenizer *t, ps_token *tok)
{
    while (t->pos < t->len) {
        size_t n;
        /* Skip to the first word character. */
        while (t->pos < t->len && class_at(t, t->pos, &n) != CH_WORD)
            t->pos += n;
        if (t->pos >= t->len)
            return false;
        size_t start = t->pos, end = t->pos;
        for (size_t i = start; i < t->len;) {
            int c = class_at(t, i, &n);
            if (c == CH_WORD) {
                i += n;
                end = i;
            } else if (c == CH_IGNORABLE) {
                i += n; /* transparent; kept only if a word character follows */
            } else if (c == CH_APOS) {
                size_t n2;
                if (i + n < t->len && class_at(t, i + n, &n2) == CH_WORD) {
                    i += n;
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        t->pos = end;
        fold_word(t, t->s + start, end - start, tok);
        if (tok->len == 0)
            continue; /* folded to nothing (cannot happen for letters; be safe) */
        tok->offset = start;
        tok->src_len = end - start;
        return true;
    }
    return false;
}

int ps_tokenize(const char *text, size_t len, size_t max_tokens, ps_tokens *out, ps_error *err)
{
    out->v = NULL;
    out->n = 0;
    out->capped = false;
    if (max_tokens == 0)
        max_tokens = PS_TOK_MAX_TOKENS;
    ps_tokenizer *t = ps_xmalloc(sizeof *t);
    if (ps_tok_init(t, text, len, err)) {
        free(t);
        return -1;
    }
    size_t cap = 0;
    ps_token tok;
    while (ps_tok_next(t, &tok)) {
        if (out->n == max_tokens) {
            out->capped = true;
            break;
        }
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            if (cap > max_tokens)
                cap = max_tokens;
            out->v = ps_xrealloc(out->v, cap * sizeof *out->v);
        }
        out->v[out->n++] = tok;
    }
    free(t);
    return 0;
}

void ps_tokens_free(ps_tokens *t)
{
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

int ps_casefold(const char *text, size_t len, ps_buf *out, ps_error *err)
{
    size_t bad;
    if (len && !ps_utf8_validate(text, len, &bad))
        return ps_errorf(err, "byte offset %zu: invalid UTF-8", bad);
    if (len == 0)
        return 0;
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len,
                                             &folded, FOLD_OPTIONS, map_apostrophe, NULL);
    if (n < 0)
        return ps_errorf(err, "cannot normalize text: %s", utf8proc_errmsg(n));
    ps_buf_append(out, folded, (size_t)n);
    free(folded);
    return 0;
}

/* ---- stop words ------------------------------------------------------------- */

/* Sorted by strcmp (tests check); apostrophes are U+0027 as after folding.
 * Forms with "'s" are absent because the tokenizer drops that suffix. */
static const char *const STOPWORDS[] = {
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any",
    "are", "aren't", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "can't", "cannot", "could", "couldn't", "did", "didn't", "do",
    "does", "doesn't", "doing", "don't", "down", "during", "each", "few", "for", "from",
    "further", "had", "hadn't", "has", "hasn't", "have", "haven't", "having", "he", "he'd",
    "he'll", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "i'd", "i'll",
    "i'm", "i've", "if", "in", "into", "is", "isn't", "it", "its", "itself", "just", "let", "me",
    "more", "most", "mustn't", "my", "myself", "no", "nor", "not", "of", "off", "on", "once",
    "only", "onto", "or", "other", "ought", "our", "ours", "ourselves", "out", "over", "own",
    "same", "shan't", "she", "she'd", "she'll", "should", "shouldn't", "so", "some", "such",
    "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these",
    "they", "they'd", "they'll", "they're", "they've", "this", "those", "through", "to", "too",
    "under", "until", "up", "upon", "very", "was", "wasn't", "we", "we'd", "we'll", "we're",
    "we've", "were", "weren't", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "won't", "would", "wouldn't", "you", "you'd", "you'll", "you're",
    "you've", "your", "yours", "yourself", "yourselves",
};

#define NSTOP (sizeof STOPWORDS / sizeof STOPWORDS[0])

bool ps_is_stopword(const char *word, size_t len)
{
    size_t lo = 0, hi = NSTOP;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = STOPWORDS[mid];
        size_t sl = strlen(s), m = sl < len ? sl : len;
        int c = memcmp(s, word, m);
        if (c == 0)
            c = sl < len ? -1 : sl > len ? 1 : 0;
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

size_t ps_stopword_count(void)
{
    return NSTOP;
}

const char *ps_stopword(size_t i)
{
    return i < NSTOP ? STOPWORDS[i] : NULL;
}
