/*
 * wordnet.c - WordNet 3.0 database reader (see wordnet.h).
 *
 * File formats (wndb(5WN)), one record per line, fields separated by spaces;
 * the first 29 lines of index and data files are a license, each starting
 * with two spaces:
 *   index.POS  lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt
 *              tagsense_cnt synset_offset...
 *   data.POS   offset lex_filenum ss_type w_cnt(hex) {word lex_id(hex)}...
 *              p_cnt {symbol offset pos source/target(hex)}... [frames] | gloss
 *   POS.exc    inflected_form base_form...
 * The byte offset of a synset's line in data.POS is its identifier.
 *
 * Index and exception lines are parsed once at load into open-addressing
 * hash tables whose keys point into the mapped files; data lines are parsed
 * on each request.  Nothing is written after ps_wordnet_load returns.
 */
#include "text/wordnet.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"

#define WN_DEFAULT_DIR "/usr/share/wordnet"
#define WN_MAX_ANCESTORS 4096

/* One key of a hash table: a lemma (index) or an inflected form (exc). */
typedef struct wn_slot {
    const char *key;   /* into the mapped file; NULL = empty slot */
    uint32_t klen;
    uint32_t first;    /* index: first offset in offsets[]; exc: first line */
    uint32_t count;    /* index: number of offsets */
} wn_slot;

typedef struct wn_table {
    wn_slot *slots;
    size_t mask;       /* capacity - 1, capacity a power of two */
    size_t n;
} wn_table;

/* One line of an exception file. */
typedef struct wn_exc_line {
    uint32_t first_base, nbases; /* into exc_bases[] */
    int32_t next;                /* next line with the same inflected form, or -1 */
} wn_exc_line;

typedef struct wn_str {
    const char *s;
    uint32_t len;
} wn_str;

typedef struct wn_posdata {
    char *index_path, *data_path, *exc_path;
    ps_map index, data, exc;
    wn_table lemmas;
    uint32_t *offsets;
    wn_table excs;
    wn_exc_line *exc_lines;
    wn_str *exc_bases;
} wn_posdata;

struct ps_wordnet {
    char *dir;
    wn_posdata pos[PS_WN_NPOS];
};

static const char *const POS_FILE[PS_WN_NPOS] = {"noun", "verb", "adj", "adv"};
static const char POS_CHAR[PS_WN_NPOS] = {'n', 'v', 'a', 'r'};

const char *ps_wn_pos_name(ps_wn_pos pos)
{
    return (unsigned)pos < PS_WN_NPOS ? POS_FILE[pos] : "?";
}

/* ---- hashing ------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void table_init(wn_table *t, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2)
        cap <<= 1;
    t->slots = ps_xcalloc(cap, sizeof *t->slots);
    t->mask = cap - 1;
    t->n = 0;
}

static const wn_slot *table_find(const wn_table *t, const char *key, size_t len)
{
    if (!t->slots)
        return NULL;
    for (size_t i = hash_bytes(key, len) & t->mask;; i = (i + 1) & t->mask) {
        const wn_slot *s = &t->slots[i];
        if (!s->key)
            return NULL;
        if (s->klen == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

/* Insert a key known not to be present; the table never fills because it
 * was sized for twice the number of lines. */
static wn_slot *table_insert(wn_table *t, const char *key, size_t len)
{
    size_t i = hash_bytes(key, len) & t->mask;
    while (t->slots[i].key)
        i = (i + 1) & t->mask;
    t->slots[i].key = key;
    t->slots[i].klen = (uint32_t)len;
    t->n++;
    return &t->slots[i];
}

/* ---- field scanning ------------------------------------------------------ */

/* A cursor over one line [pos, end) of a file that starts at base. */
typedef struct wn_cur {
    const char *base;
    size_t pos, end;
    const char *path;
} wn_cur;

/* The next space-separated field; 0 at the end of the line. */
static int next_field(wn_cur *c, const char **f, size_t *flen)
{
    while (c->pos < c->end && c->base[c->pos] == ' ')
        c->pos++;
    if (c->pos >= c->end)
        return 0;
    size_t start = c->pos;
    while (c->pos < c->end && c->base[c->pos] != ' ')
        c->pos++;
    *f = c->base + start;
    *flen = c->pos - start;
    return 1;
}

/* Fail with "path: byte offset N: reason", N being where `field` starts
 * (or the cursor, when field is NULL).  Returns -1. */
static int cur_fail(const wn_cur *c, const char *field, ps_error *err, const char *fmt, ...)
    PS_PRINTF(4, 5);

static int cur_fail(const wn_cur *c, const char *field, ps_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(err, fmt, ap);
    va_end(ap);
    size_t at = field ? (size_t)(field - c->base) : c->pos;
    return ps_error_prefix(err, "%s: byte offset %zu", c->path, at);
}

/* Parse a field of 1..maxdig digits in base 10 or 16. */
static int parse_num(const char *f, size_t n, int base, size_t maxdig, uint32_t *out)
{
    if (n == 0 || n > maxdig)
        return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        char ch = f[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (base == 16 && ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            return -1;
        v = v * (uint32_t)base + (uint32_t)d;
    }
    *out = v;
    return 0;
}

/* A synset offset: exactly eight decimal digits. */
static int parse_offset(const char *f, size_t n, uint32_t *out)
{
    return n == 8 ? parse_num(f, n, 10, 8, out) : -1;
}

static int pos_from_char(char ch, ps_wn_pos *pos)
{
    switch (ch) {
    case 'n': *pos = PS_WN_NOUN; return 0;
    case 'v': *pos = PS_WN_VERB; return 0;
    case 'a': case 's': *pos = PS_WN_ADJ; return 0;
    case 'r': *pos = PS_WN_ADV; return 0;
    default: return -1;
    }
}

/* An upper bound on the number of lines (for sizing tables). */
static size_t count_lines(const ps_map *m)
{
    size_t n = 1;
    for (const unsigned char *p = m->data, *e = m->data + m->len;
         (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        n++;
    return n;
}

/* ---- index files ----------------------------------------------------------- */

static int parse_index_line(wn_posdata *pd, ps_wn_pos pos, wn_cur *c, size_t *noff,
                            size_t cap_off, ps_error *err)
{
    const char *f, *lemma;
    size_t n, lemma_len;
    uint32_t synset_cnt, p_cnt, v;

    if (!next_field(c, &lemma, &lemma_len))
        return 0; /* blank line */
    if (lemma_len > UINT32_MAX / 2)
        return cur_fail(c, lemma, err, "lemma too long");
    if (!next_field(c, &f, &n) || n != 1 || f[0] != POS_CHAR[pos])
        return cur_fail(c, lemma, err, "expected part of speech '%c' after the lemma", POS_CHAR[pos]);
    if (!next_field(c, &f, &n) || parse_num(f, n, 10, 5, &synset_cnt) || synset_cnt == 0)
        return cur_fail(c, lemma, err, "bad synset count");
    if (!next_field(c, &f, &n) || parse_num(f, n, 10, 3, &p_cnt))
        return cur_fail(c, lemma, err, "bad pointer count");
    for (uint32_t i = 0; i < p_cnt; i++)
        if (!next_field(c, &f, &n) || n > 2)
            return cur_fail(c, lemma, err, "expected %u pointer symbols", (unsigned)p_cnt);
    if (!next_field(c, &f, &n) || parse_num(f, n, 10, 5, &v))
        return cur_fail(c, lemma, err, "bad sense count");
    if (!next_field(c, &f, &n) || parse_num(f, n, 10, 5, &v))
        return cur_fail(c, lemma, err, "bad tagged sense count");
    if (*noff + synset_cnt > cap_off)
        return cur_fail(c, lemma, err, "more synset offsets than the file can hold");
    size_t first = *noff;
    for (uint32_t i = 0; i < synset_cnt; i++) {
        uint32_t off;
        if (!next_field(c, &f, &n))
            return cur_fail(c, lemma, err, "expected %u synset offsets, found %u", (unsigned)synset_cnt,
                     (unsigned)i);
        if (parse_offset(f, n, &off))
            return cur_fail(c, f, err, "bad synset offset '%.*s'", (int)(n > 20 ? 20 : n), f);
        if (off >= pd->data.len)
            return cur_fail(c, f, err, "synset offset %u is beyond the end of %s", (unsigned)off,
                     pd->data_path);
        pd->offsets[(*noff)++] = off;
    }
    if (next_field(c, &f, &n))
        return cur_fail(c, f, err, "unexpected text after the synset offsets");
    if (table_find(&pd->lemmas, lemma, lemma_len))
        return cur_fail(c, lemma, err, "lemma '%.*s' is listed twice", (int)(lemma_len > 80 ? 80 : lemma_len),
                 lemma);
    wn_slot *s = table_insert(&pd->lemmas, lemma, lemma_len);
    s->first = (uint32_t)first;
    s->count = synset_cnt;
    return 0;
}

static int load_index(wn_posdata *pd, ps_wn_pos pos, ps_error *err)
{
    if (ps_map_file(pd->index_path, &pd->index, err))
        return -1;
    const char *base = (const char *)pd->index.data;
    size_t len = pd->index.len, lines = count_lines(&pd->index);
    table_init(&pd->lemmas, lines);
    /* Each offset takes at least 9 bytes ("12345678 "), which bounds their number. */
    size_t cap_off = len / 9 + 1, noff = 0;
    pd->offsets = ps_xmalloc(cap_off * sizeof *pd->offsets);
    size_t p = 0;
    while (p < len) {
        const char *nl = memchr(base + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - base) : len;
        if (base[p] != ' ') { /* license lines start with spaces */
            wn_cur c = {base, p, e, pd->index_path};
            if (parse_index_line(pd, pos, &c, &noff, cap_off, err))
                return -1;
        }
        p = e + 1;
    }
    if (pd->lemmas.n == 0)
        return ps_errorf(err, "%s: no lemmas found (is this a WordNet index file?)", pd->index_path);
    return 0;
}

/* ---- exception files -------------------------------------------------- */

static int load_exc(wn_posdata *pd, ps_error *err)
{
    if (ps_map_file(pd->exc_path, &pd->exc, err))
        return -1;
    const char *base = (const char *)pd->exc.data;
    size_t len = pd->exc.len, lines = count_lines(&pd->exc);
    table_init(&pd->excs, lines);
    pd->exc_lines = ps_xmalloc(lines * sizeof *pd->exc_lines);
    pd->exc_bases = ps_xmalloc((len / 2 + 1) * sizeof *pd->exc_bases);
    size_t nlines = 0, nbases = 0, p = 0;
    while (p < len) {
        const char *nl = memchr(base + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - base) : len;
        wn_cur c = {base, p, e, pd->exc_path};
        const char *key, *f;
        size_t klen, n;
        p = e + 1;
        if (!next_field(&c, &key, &klen))
            continue;
        wn_exc_line *line = &pd->exc_lines[nlines];
        line->first_base = (uint32_t)nbases;
        line->next = -1;
        while (next_field(&c, &f, &n))
            pd->exc_bases[nbases++] = (wn_str){f, (uint32_t)n};
        line->nbases = (uint32_t)(nbases - line->first_base);
        if (line->nbases == 0)
            return cur_fail(&c, key, err, "'%.*s' has no base form", (int)(klen > 80 ? 80 : klen), key);
        /* A form listed on several lines (noun.exc has a few) keeps all. */
        const wn_slot *s = table_find(&pd->excs, key, klen);
        if (s) {
            wn_exc_line *l = &pd->exc_lines[s->first];
            while (l->next >= 0)
                l = &pd->exc_lines[l->next];
            l->next = (int32_t)nlines;
        } else {
            table_insert(&pd->excs, key, klen)->first = (uint32_t)nlines;
        }
        nlines++;
    }
    return 0;
}

/* ---- load / free ---------------------------------------------------------- */

static char *join3(const char *dir, const char *a, const char *b)
{
    ps_buf buf = {0};
    ps_buf_printf(&buf, "%s/%s%s", dir, a, b);
    return ps_buf_steal(&buf);
}

ps_wordnet *ps_wordnet_load(const char *dir, ps_error *err)
{
    if (!dir) {
        const char *env = getenv("WNSEARCHDIR");
        dir = env && *env ? env : WN_DEFAULT_DIR;
    }
    if (!ps_is_dir(dir)) {
        ps_errorf(err,
                  "%s: WordNet database folder not found (install Debian's wordnet-base, or "
                  "set WNSEARCHDIR to the folder holding index.noun)",
                  dir);
        return NULL;
    }
    ps_wordnet *wn = ps_xcalloc(1, sizeof *wn);
    wn->dir = ps_xstrdup(dir);
    for (int i = 0; i < PS_WN_NPOS; i++) {
        wn_posdata *pd = &wn->pos[i];
        pd->index_path = join3(dir, "index.", POS_FILE[i]);
        pd->data_path = join3(dir, "data.", POS_FILE[i]);
        pd->exc_path = join3(dir, POS_FILE[i], ".exc");
        if (ps_map_file(pd->data_path, &pd->data, err) || load_index(pd, (ps_wn_pos)i, err) ||
            load_exc(pd, err)) {
            ps_wordnet_free(wn);
            return NULL;
        }
    }
    return wn;
}

void ps_wordnet_free(ps_wordnet *wn)
{
    if (!wn)
        return;
    for (int i = 0; i < PS_WN_NPOS; i++) {
        wn_posdata *pd = &wn->pos[i];
        ps_unmap(&pd->index);
        ps_unmap(&pd->data);
        ps_unmap(&pd->exc);
        free(pd->lemmas.slots);
        free(pd->offsets);
        free(pd->excs.slots);
        free(pd->exc_lines);
        free(pd->exc_bases);
        free(pd->index_path);
        free(pd->data_path);
        free(pd->exc_path);
    }
    free(wn->dir);
    free(wn);
}

const char *ps_wordnet_dir(const ps_wordnet *wn)
{
    return wn->dir;
}

size_t ps_wn_lemma_count(const ps_wordnet *wn, ps_wn_pos pos)
{
    return (unsigned)pos < PS_WN_NPOS ? wn->pos[pos].lemmas.n : 0;
}

/* ---- lemmas ------------------------------------------------------------- */

bool ps_wn_has_lemma(const ps_wordnet *wn, ps_wn_pos pos, const char *lemma, size_t len)
{
    return (unsigned)pos < PS_WN_NPOS && table_find(&wn->pos[pos].lemmas, lemma, len) != NULL;
}

size_t ps_wn_synsets(const ps_wordnet *wn, ps_wn_pos pos, const char *lemma, size_t len,
                     const uint32_t **offsets)
{
    *offsets = NULL;
    if ((unsigned)pos >= PS_WN_NPOS)
        return 0;
    const wn_slot *s = table_find(&wn->pos[pos].lemmas, lemma, len);
    if (!s)
        return 0;
    *offsets = wn->pos[pos].offsets + s->first;
    return s->count;
}

/* ---- morphology ------------------------------------------------------- */

typedef struct wn_rule {
    const char *suffix, *ending;
} wn_rule;

/* The detachment rules of morphy(7WN), in its order. */
static const wn_rule NOUN_RULES[] = {{"s", ""},     {"ses", "s"},  {"xes", "x"},
                                     {"zes", "z"},  {"ches", "ch"}, {"shes", "sh"},
                                     {"men", "man"}, {"ies", "y"}};
static const wn_rule VERB_RULES[] = {{"s", ""},   {"ies", "y"}, {"es", "e"},  {"es", ""},
                                     {"ed", "e"}, {"ed", ""},   {"ing", "e"}, {"ing", ""}};
static const wn_rule ADJ_RULES[] = {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}};

static void lemmas_add(ps_wn_lemmas *out, const char *s, size_t n)
{
    if (out->n >= PS_WN_MAX_LEMMAS || n >= PS_WN_LEMMA_MAX)
        return;
    for (int i = 0; i < out->n; i++)
        if (strlen(out->lemma[i]) == n && memcmp(out->lemma[i], s, n) == 0)
            return;
    memcpy(out->lemma[out->n], s, n);
    out->lemma[out->n][n] = '\0';
    out->n++;
}

/*
 * Find s[0..n) in index.POS as WordNet's getindex() does: as written, with
 * '_' as '-', with '-' as '_', without '_' and '-', without '.'.  On success
 * writes the spelling found (NUL-terminated, at most PS_WN_LEMMA_MAX - 1
 * bytes) to out and returns its length; 0 if not found.
 */
static size_t index_form(const ps_wordnet *wn, ps_wn_pos pos, const char *s, size_t n,
                         char *out)
{
    if (n == 0 || n >= PS_WN_LEMMA_MAX)
        return 0;
    for (int variant = 0; variant < 5; variant++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            char c = s[i];
            if (variant == 1 && c == '_')
                c = '-';
            else if (variant == 2 && c == '-')
                c = '_';
            else if ((variant == 3 && (c == '_' || c == '-')) || (variant == 4 && c == '.'))
                continue;
            out[k++] = c;
        }
        out[k] = '\0';
        if (variant > 0 && k == n && memcmp(out, s, n) == 0)
            continue; /* same as an earlier try */
        if (k > 0 && ps_wn_has_lemma(wn, pos, out, k))
            return k;
    }
    return 0;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* Which rules apply to w[0..n) for pos, and on which stem: a noun ending in
 * -ful is reduced on its stem and gets "ful" back ("boxesful" -> "boxful");
 * a noun ending in -ss or of two letters or fewer gets no rule. */
static size_t rules_for(ps_wn_pos pos, const char *w, size_t n, const wn_rule **rules,
                        size_t *stem_len, const char **ful)
{
    *stem_len = n;
    *ful = "";
    switch (pos) {
    case PS_WN_NOUN:
        *rules = NOUN_RULES;
        if (ends_with(w, n, "ful")) {
            *stem_len = n - 3;
            *ful = "ful";
        } else if (ends_with(w, n, "ss") || n <= 2) {
            return 0;
        }
        return sizeof NOUN_RULES / sizeof *NOUN_RULES;
    case PS_WN_VERB: *rules = VERB_RULES; return sizeof VERB_RULES / sizeof *VERB_RULES;
    case PS_WN_ADJ: *rules = ADJ_RULES; return sizeof ADJ_RULES / sizeof *ADJ_RULES;
    default: return 0; /* adverbs have exceptions only */
    }
}

/* Apply the rules; keep a result when wn is NULL or the reduced stem is in
 * the index.  With first_only, stop after the first kept result. */
static void apply_rules(const ps_wordnet *wn, ps_wn_pos pos, const char *w, size_t n,
                        ps_wn_lemmas *out, bool first_only)
{
    const wn_rule *rules = NULL;
    size_t stem_len;
    const char *ful;
    size_t nrules = rules_for(pos, w, n, &rules, &stem_len, &ful);
    size_t fl = strlen(ful);
    char cand[PS_WN_LEMMA_MAX + 8];
    for (size_t i = 0; i < nrules; i++) {
        size_t sl = strlen(rules[i].suffix), el = strlen(rules[i].ending);
        if (!ends_with(w, stem_len, rules[i].suffix))
            continue;
        size_t keep = stem_len - sl;
        if (keep + el == 0 || keep + el + fl >= sizeof cand)
            continue;
        memcpy(cand, w, keep);
        memcpy(cand + keep, rules[i].ending, el);
        if (keep + el == stem_len && memcmp(cand, w, stem_len) == 0)
            continue;
        /* morphy checks the reduced stem against the index, then appends "ful". */
        size_t cl = keep + el;
        if (wn) {
            char found[PS_WN_LEMMA_MAX];
            cl = index_form(wn, pos, cand, keep + el, found);
            if (cl == 0)
                continue;
            memcpy(cand, found, cl);
        }
        memcpy(cand + cl, ful, fl);
        lemmas_add(out, cand, cl + fl);
        if (first_only)
            return;
    }
}

/*
 * morphy's morphword(): the base forms of one word by the exception list,
 * else by the rules.  Adds to out; with first_only, stops after the first
 * one (what the C library's collocation code uses).
 */
static void morph_word(const ps_wordnet *wn, ps_wn_pos pos, const char *w, size_t n,
                       ps_wn_lemmas *out, bool first_only)
{
    const wn_posdata *pd = &wn->pos[pos];
    const wn_slot *ex = table_find(&pd->excs, w, n);
    if (!ex) {
        apply_rules(wn, pos, w, n, out, first_only);
        return;
    }
    for (int32_t li = (int32_t)ex->first; li >= 0; li = pd->exc_lines[li].next) {
        const wn_exc_line *l = &pd->exc_lines[li];
        for (uint32_t b = 0; b < l->nbases; b++) {
            const wn_str *base = &pd->exc_bases[l->first_base + b];
            char found[PS_WN_LEMMA_MAX];
            size_t fl = index_form(wn, pos, base->s, base->len, found);
            if (fl) {
                lemmas_add(out, found, fl);
                if (first_only)
                    return;
            }
        }
    }
}

int ps_wn_rule_forms(ps_wn_pos pos, const char *word, size_t len, ps_wn_lemmas *out)
{
    out->n = 0;
    if ((unsigned)pos >= PS_WN_NPOS || len == 0 || len >= PS_WN_LEMMA_MAX)
        return 0;
    apply_rules(NULL, pos, word, len, out, false);
    return out->n;
}

int ps_wn_morphy(const ps_wordnet *wn, ps_wn_pos pos, const char *word, size_t len,
                 ps_wn_lemmas *out)
{
    out->n = 0;
    if ((unsigned)pos >= PS_WN_NPOS || len == 0 || len >= PS_WN_LEMMA_MAX)
        return 0;
    char w[PS_WN_LEMMA_MAX];
    bool multi = false;
    for (size_t i = 0; i < len; i++) {
        char ch = word[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        else if (ch == ' ')
            ch = '_';
        if (ch == '_' || ch == '-')
            multi = true;
        w[i] = ch;
    }
    w[len] = '\0';

    char found[PS_WN_LEMMA_MAX];
    size_t fl = index_form(wn, pos, w, len, found);
    if (fl)
        lemmas_add(out, found, fl);
    morph_word(wn, pos, w, len, out, false);
    if (!multi)
        return out->n;

    /* A collocation: reduce each word on its own, keep the separators. */
    char joined[PS_WN_LEMMA_MAX];
    size_t jn = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && w[i] != '_' && w[i] != '-')
            continue;
        ps_wn_lemmas part = {0};
        const char *piece = w + start;
        size_t plen = i - start;
        morph_word(wn, pos, piece, plen, &part, true);
        if (part.n > 0) {
            piece = part.lemma[0];
            plen = strlen(piece);
        }
        if (jn + plen + 1 >= sizeof joined)
            return out->n;
        memcpy(joined + jn, piece, plen);
        jn += plen;
        if (i < len)
            joined[jn++] = w[i];
        start = i + 1;
    }
    if (jn != len || memcmp(joined, w, len) != 0) {
        fl = index_form(wn, pos, joined, jn, found);
        if (fl)
            lemmas_add(out, found, fl);
    }
    return out->n;
}

/* ---- synset lines ------------------------------------------------------- */

/*
 * Parse the synset line at `offset` of data.POS.  Fills `syn` (allocating its
 * arrays) when non-NULL, and writes to rel[] the targets of the pointers
 * whose kind is in `which` (at most cap; *nrel counts them).
 */
static int parse_synset(const ps_wordnet *wn, ps_wn_pos pos, uint32_t offset, ps_wn_synset *syn,
                        unsigned which, uint32_t *rel, size_t cap, size_t *nrel, ps_error *err)
{
    if ((unsigned)pos >= PS_WN_NPOS)
        return ps_errorf(err, "bad part of speech %d", (int)pos);
    const wn_posdata *pd = &wn->pos[pos];
    const char *base = (const char *)pd->data.data;
    size_t len = pd->data.len;
    if (offset >= len || (offset > 0 && base[offset - 1] != '\n'))
        return ps_errorf(err, "%s: byte offset %u: not the start of a synset line", pd->data_path,
                         (unsigned)offset);
    const char *nl = memchr(base + offset, '\n', len - offset);
    wn_cur c = {base, offset, nl ? (size_t)(nl - base) : len, pd->data_path};
    const char *f;
    size_t n;
    uint32_t v, w_cnt, p_cnt;

    if (!next_field(&c, &f, &n) || parse_offset(f, n, &v) || v != offset)
        return cur_fail(&c, base + offset, err, "the line does not start with its own offset %08u",
                 (unsigned)offset);
    if (!next_field(&c, &f, &n) || parse_num(f, n, 10, 2, &v))
        return cur_fail(&c, f, err, "bad lexicographer file number");
    if (syn)
        syn->lexfile = (int)v;
    if (!next_field(&c, &f, &n) || n != 1 || !strchr("nvasr", f[0]))
        return cur_fail(&c, f, err, "bad synset type");
    ps_wn_pos p2 = PS_WN_NOUN;
    pos_from_char(f[0], &p2);
    if (p2 != pos)
        return cur_fail(&c, f, err, "synset type '%c' in a %s file", f[0], POS_FILE[pos]);
    if (syn) {
        syn->offset = offset;
        syn->pos = pos;
        syn->ss_type = f[0];
    }
    if (!next_field(&c, &f, &n) || parse_num(f, n, 16, 2, &w_cnt) || w_cnt == 0)
        return cur_fail(&c, f, err, "bad word count");
    if (syn)
        syn->words = ps_xcalloc(w_cnt, sizeof *syn->words);
    for (uint32_t i = 0; i < w_cnt; i++) {
        const char *word;
        size_t wlen;
        if (!next_field(&c, &word, &wlen))
            return cur_fail(&c, NULL, err, "expected %u words, found %u", (unsigned)w_cnt, (unsigned)i);
        if (!next_field(&c, &f, &n) || parse_num(f, n, 16, 1, &v))
            return cur_fail(&c, word, err, "bad lexical id after word %u", (unsigned)i + 1);
        if (syn) {
            /* Adjectives may carry a syntactic marker: "galore(ip)". */
            if (pos == PS_WN_ADJ && wlen > 2 && word[wlen - 1] == ')') {
                const char *open = memchr(word, '(', wlen);
                if (open && open > word)
                    wlen = (size_t)(open - word);
            }
            syn->words[syn->nwords++] = ps_xstrndup(word, wlen);
        }
    }
    if (!next_field(&c, &f, &n) || parse_num(f, n, 10, 3, &p_cnt))
        return cur_fail(&c, f, err, "bad pointer count");
    if (syn && p_cnt)
        syn->ptrs = ps_xcalloc(p_cnt, sizeof *syn->ptrs);
    for (uint32_t i = 0; i < p_cnt; i++) {
        const char *sym;
        size_t slen;
        ps_wn_pointer ptr = {0};
        if (!next_field(&c, &sym, &slen) || slen > 2)
            return cur_fail(&c, NULL, err, "expected %u pointers, found %u", (unsigned)p_cnt, (unsigned)i);
        memcpy(ptr.symbol, sym, slen);
        if (!next_field(&c, &f, &n) || parse_offset(f, n, &ptr.offset))
            return cur_fail(&c, sym, err, "bad target offset in pointer %u", (unsigned)i + 1);
        if (!next_field(&c, &f, &n) || n != 1 || pos_from_char(f[0], &ptr.pos))
            return cur_fail(&c, sym, err, "bad target part of speech in pointer %u", (unsigned)i + 1);
        if (!next_field(&c, &f, &n) || n != 4 || parse_num(f, n, 16, 4, &v))
            return cur_fail(&c, sym, err, "bad source/target field in pointer %u", (unsigned)i + 1);
        ptr.source = (int)(v >> 8);
        ptr.target = (int)(v & 0xff);
        if (syn)
            syn->ptrs[syn->nptrs++] = ptr;
        unsigned kind = 0;
        if (ptr.pos == PS_WN_NOUN && pos == PS_WN_NOUN) {
            if (strcmp(ptr.symbol, "@") == 0) kind = PS_WN_REL_HYPERNYM;
            else if (strcmp(ptr.symbol, "@i") == 0) kind = PS_WN_REL_INSTANCE_HYPERNYM;
            else if (strcmp(ptr.symbol, "~") == 0) kind = PS_WN_REL_HYPONYM;
            else if (strcmp(ptr.symbol, "~i") == 0) kind = PS_WN_REL_INSTANCE_HYPONYM;
        }
        if ((kind & which) && nrel && *nrel < cap)
            rel[(*nrel)++] = ptr.offset;
    }
    if (!syn)
        return 0; /* the caller wanted pointers only */
    if (!next_field(&c, &f, &n))
        return cur_fail(&c, NULL, err, "missing '|' before the gloss");
    if (pos == PS_WN_VERB && !(n == 1 && f[0] == '|')) {
        uint32_t f_cnt;
        if (parse_num(f, n, 10, 2, &f_cnt))
            return cur_fail(&c, f, err, "bad verb frame count");
        for (uint32_t i = 0; i < f_cnt; i++) {
            const char *plus;
            size_t pl;
            if (!next_field(&c, &plus, &pl) || pl != 1 || plus[0] != '+' ||
                !next_field(&c, &f, &n) || parse_num(f, n, 10, 2, &v) ||
                !next_field(&c, &f, &n) || parse_num(f, n, 16, 2, &v))
                return cur_fail(&c, NULL, err, "bad verb frame %u", (unsigned)i + 1);
        }
        if (!next_field(&c, &f, &n))
            return cur_fail(&c, NULL, err, "missing '|' before the gloss");
    }
    if (n != 1 || f[0] != '|')
        return cur_fail(&c, f, err, "expected '|' before the gloss");
    size_t gs = c.pos, ge = c.end;
    while (gs < ge && base[gs] == ' ')
        gs++;
    while (ge > gs && base[ge - 1] == ' ')
        ge--;
    syn->gloss = ps_xstrndup(base + gs, ge - gs);
    return 0;
}

ps_wn_synset *ps_wn_synset_read(const ps_wordnet *wn, ps_wn_pos pos, uint32_t offset,
                                ps_error *err)
{
    ps_wn_synset *s = ps_xcalloc(1, sizeof *s);
    if (parse_synset(wn, pos, offset, s, 0, NULL, 0, NULL, err)) {
        ps_wn_synset_free(s);
        return NULL;
    }
    return s;
}

void ps_wn_synset_free(ps_wn_synset *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nwords; i++)
        free(s->words[i]);
    free(s->words);
    free(s->ptrs);
    free(s->gloss);
    free(s);
}

int ps_wn_noun_related(const ps_wordnet *wn, uint32_t offset, unsigned which, uint32_t *out,
                       size_t cap, ps_error *err)
{
    size_t n = 0;
    if (parse_synset(wn, PS_WN_NOUN, offset, NULL, which, out, cap, &n, err))
        return -1;
    return (int)n;
}

int ps_wn_hypernyms(const ps_wordnet *wn, uint32_t offset, uint32_t *out, size_t cap,
                    ps_error *err)
{
    return ps_wn_noun_related(wn, offset, PS_WN_REL_HYPERNYM | PS_WN_REL_INSTANCE_HYPERNYM, out,
                              cap, err);
}

int ps_wn_hyponyms(const ps_wordnet *wn, uint32_t offset, uint32_t *out, size_t cap,
                   ps_error *err)
{
    return ps_wn_noun_related(wn, offset, PS_WN_REL_HYPONYM | PS_WN_REL_INSTANCE_HYPONYM, out,
                              cap, err);
}

/* ---- hierarchy walks --------------------------------------------------- */

/*
 * Breadth-first walk up the hypernym links from `a`.  Stops at `target`
 * (returns its depth) or, when target is UINT32_MAX, at the first synset
 * with no hypernym (returns its depth).  Returns -2 when never reached,
 * -1 on error.  Each synset is visited once, so cycles in a corrupt file
 * end the walk rather than loop.
 */
static int walk_up(const ps_wordnet *wn, uint32_t a, uint32_t target, ps_error *err)
{
    uint32_t *node = ps_xmalloc(WN_MAX_ANCESTORS * sizeof *node);
    int *depth = ps_xmalloc(WN_MAX_ANCESTORS * sizeof *depth);
    uint32_t *up = ps_xmalloc(PS_WN_MAX_PTRS * sizeof *up);
    size_t head = 0, tail = 0;
    int result = -2;
    node[tail] = a;
    depth[tail++] = 0;
    while (head < tail) {
        uint32_t cur = node[head];
        int d = depth[head++];
        if (cur == target) {
            result = d;
            break;
        }
        int nup = ps_wn_hypernyms(wn, cur, up, PS_WN_MAX_PTRS, err);
        if (nup < 0) {
            result = -1;
            break;
        }
        if (nup == 0 && target == UINT32_MAX) {
            result = d;
            break;
        }
        for (int i = 0; i < nup; i++) {
            bool seen = false;
            for (size_t j = 0; j < tail && !seen; j++)
                seen = node[j] == up[i];
            if (seen)
                continue;
            if (tail == WN_MAX_ANCESTORS) {
                result = ps_errorf(err,
                                   "%s: synset %08u has more than %d ancestors (corrupt hierarchy?)",
                                   wn->pos[PS_WN_NOUN].data_path, (unsigned)a, WN_MAX_ANCESTORS);
                goto done;
            }
            node[tail] = up[i];
            depth[tail++] = d + 1;
        }
    }
done:
    free(node);
    free(depth);
    free(up);
    return result;
}

int ps_wn_noun_is_a(const ps_wordnet *wn, uint32_t a, uint32_t b, int *depth, ps_error *err)
{
    int d = walk_up(wn, a, b, err);
    if (d == -1)
        return -1;
    if (d < 0)
        return 0;
    if (depth)
        *depth = d;
    return 1;
}

int ps_wn_noun_depth(const ps_wordnet *wn, uint32_t a, ps_error *err)
{
    int d = walk_up(wn, a, UINT32_MAX, err);
    if (d == -2) /* every ancestor has a hypernym: only possible in a cycle */
        return ps_errorf(err, "%s: synset %08u has no root (cycle in the hypernyms?)",
                         wn->pos[PS_WN_NOUN].data_path, (unsigned)a);
    return d;
}

int ps_wn_parse_id(const char *s, ps_wn_pos *pos, uint32_t *offset, ps_error *err)
{
    size_t n = strlen(s);
    if (n != 9 || pos_from_char(s[0], pos) || parse_offset(s + 1, 8, offset))
        return ps_errorf(err, "'%.40s' is not a WordNet synset id (a letter n, v, a, s or r "
                              "and eight digits, e.g. n02084071)",
                         s);
    return 0;
}
