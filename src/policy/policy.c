/*
 * policy.c - the content rule (see policy.h and docs/POLICY.md).
 *
 * The lexicon is a list of entries, each a phrase of 1..POL_PHRASE_MAX words
 * (almost always one), and exemptions ('!' lines): phrases that contain an
 * entry but do not refer to a child ("baby grand").  All distinct words of
 * the lexicon get a small integer id; checking a text reads its words one by
 * one, turns each into the set of ids it can stand for (the word itself, its
 * WordNet noun lemmas, or for words WordNet lacks, its noun suffix-rule
 * forms), and matches entries over a window of POL_PHRASE_MAX words.  Time is
 * linear in the text and memory constant, whatever the text's length.
 */
#include "policy/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/lines.h"
#include "core/utf8.h"
#include "text/tokenize.h"
#include "text/wordnet.h"

#define POL_PHRASE_MAX 4
#define POL_LEXICON_MAX_BYTES (1u << 20)
#define POL_MAX_ENTRIES 10000
#define POL_FORMS_MAX (1 + 2 * PS_WN_MAX_LEMMAS)

typedef struct pol_entry {
    int nwords;
    int word[POL_PHRASE_MAX];            /* ids into ps_policy.words */
    bool exempt;
    int line;
    char name[PS_POLICY_LEMMA_MAX];      /* the words joined by spaces */
} pol_entry;

struct ps_policy {
    ps_wordnet *wn;
    char **words;      /* distinct lexicon words, sorted (strcmp) */
    size_t nwords;
    pol_entry *entries;
    size_t nentries;
    size_t npositive;
};

/* ---- lexicon ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int word_id(const ps_policy *p, const char *w)
{
    char *const *hit = bsearch(&w, p->words, p->nwords, sizeof *p->words, cmp_str);
    return hit ? (int)(hit - p->words) : -1;
}

/* One parsed but not yet numbered entry. */
typedef struct raw_entry {
    int nwords;
    char word[POL_PHRASE_MAX][PS_TOK_WORD_MAX];
    bool exempt;
    int line;
    char name[PS_POLICY_LEMMA_MAX];
} raw_entry;

/* Parse one line (without its '\n'); *got = 1 if it held an entry. */
static int parse_line(const char *path, int lineno, const char *s, size_t n, raw_entry *e,
                      int *got, ps_error *err)
{
    *got = 0;
    size_t bad;
    if (!ps_utf8_validate(s, n, &bad))
        return ps_errorf(err, "%s:%d: column %zu: invalid UTF-8", path, lineno, bad + 1);
    const char *hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    if (i == n)
        return 0; /* blank or comment */
    memset(e, 0, sizeof *e);
    e->line = lineno;
    size_t start = i;
    while (n > start && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    if (s[i] == '!') {
        e->exempt = true;
        i++;
    }
    ps_tokenizer *t = ps_xmalloc(sizeof *t);
    ps_tok_init(t, s + i, n - i, NULL); /* already validated */
    ps_token tok;
    size_t namelen = 0;
    int rc = 0;
    while (ps_tok_next(t, &tok)) {
        if (e->nwords == POL_PHRASE_MAX) {
            rc = ps_errorf(err, "%s:%d: an entry has at most %d words", path, lineno,
                           POL_PHRASE_MAX);
            break;
        }
        size_t need = namelen + (namelen ? 1 : 0) + tok.len;
        if (tok.truncated || need >= PS_POLICY_LEMMA_MAX) {
            rc = ps_errorf(err, "%s:%d: entry is longer than %d bytes", path, lineno,
                           PS_POLICY_LEMMA_MAX - 1);
            break;
        }
        memcpy(e->word[e->nwords++], tok.text, tok.len + 1);
        if (namelen)
            e->name[namelen++] = ' ';
        memcpy(e->name + namelen, tok.text, tok.len + 1);
        namelen += tok.len;
    }
    free(t);
    if (rc)
        return rc;
    if (e->nwords == 0)
        return ps_errorf(err, "%s:%d: no word in entry '%.*s'", path, lineno,
                         (int)(n - start > 40 ? 40 : n - start), s + start);
    *got = 1;
    return 0;
}

/* Does the word sequence b occur inside a (as consecutive words)? */
static bool contains_phrase(const raw_entry *a, const raw_entry *b)
{
    for (int s = 0; s + b->nwords <= a->nwords; s++) {
        int k = 0;
        while (k < b->nwords && strcmp(a->word[s + k], b->word[k]) == 0)
            k++;
        if (k == b->nwords)
            return true;
    }
    return false;
}

static int check_entries(const char *path, const raw_entry *raw, size_t n, ps_error *err)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (raw[j].exempt == raw[i].exempt && strcmp(raw[j].name, raw[i].name) == 0)
                return ps_errorf(err, "%s:%d: '%s' is already listed on line %d", path,
                                 raw[i].line, raw[i].name, raw[j].line);
        if (!raw[i].exempt)
            continue;
        /* An exemption must be longer than some entry it contains. */
        bool ok = false;
        for (size_t j = 0; j < n && !ok; j++) {
            if (raw[j].exempt)
                continue;
            if (strcmp(raw[j].name, raw[i].name) == 0)
                return ps_errorf(err,
                                 "%s:%d: the exemption '%s' is the whole entry on line %d; "
                                 "remove the entry instead",
                                 path, raw[i].line, raw[i].name, raw[j].line);
            ok = contains_phrase(&raw[i], &raw[j]);
        }
        if (!ok)
            return ps_errorf(err, "%s:%d: the exemption '%s' contains no entry of the lexicon",
                             path, raw[i].line, raw[i].name);
    }
    return 0;
}

static int load_lexicon(ps_policy *p, const char *path, ps_error *err)
{
    size_t len;
    char *text = ps_read_file(path, POL_LEXICON_MAX_BYTES, &len, err);
    if (!text)
        return ps_error_prefix(err, "cannot read the lexicon");
    raw_entry *raw = NULL;
    size_t nraw = 0, cap = 0;
    int rc = 0;
    ps_lines r;
    ps_lines_init(&r, text, len);
    const char *s;
    size_t n;
    while (rc == 0 && ps_lines_next(&r, &s, &n)) {
        raw_entry e;
        int got;
        rc = parse_line(path, r.no, s, n, &e, &got, err);
        if (rc || !got)
            continue;
        if (nraw == POL_MAX_ENTRIES) {
            rc = ps_errorf(err, "%s:%d: more than %d entries", path, r.no, POL_MAX_ENTRIES);
            break;
        }
        if (nraw == cap) {
            cap = cap ? cap * 2 : 64;
            raw = ps_xrealloc(raw, cap * sizeof *raw);
        }
        raw[nraw++] = e;
    }
    free(text);
    if (rc == 0)
        rc = check_entries(path, raw, nraw, err);
    size_t npos = 0;
    for (size_t i = 0; i < nraw; i++)
        npos += !raw[i].exempt;
    if (rc == 0 && npos == 0)
        rc = ps_errorf(err, "%s: the lexicon has no entries (only comments or exemptions)", path);
    if (rc) {
        free(raw);
        return -1;
    }

    /* Number the distinct words. */
    size_t total = 0;
    for (size_t i = 0; i < nraw; i++)
        total += (size_t)raw[i].nwords;
    p->words = ps_xmalloc(total * sizeof *p->words);
    for (size_t i = 0; i < nraw; i++)
        for (int k = 0; k < raw[i].nwords; k++)
            p->words[p->nwords++] = raw[i].word[k];
    qsort(p->words, p->nwords, sizeof *p->words, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < p->nwords; i++)
        if (u == 0 || strcmp(p->words[u - 1], p->words[i]) != 0)
            p->words[u++] = p->words[i];
    p->nwords = u;
    for (size_t i = 0; i < u; i++)
        p->words[i] = ps_xstrdup(p->words[i]); /* own them: raw is freed below */

    p->entries = ps_xcalloc(nraw, sizeof *p->entries);
    for (size_t i = 0; i < nraw; i++) {
        pol_entry *e = &p->entries[i];
        e->nwords = raw[i].nwords;
        e->exempt = raw[i].exempt;
        e->line = raw[i].line;
        memcpy(e->name, raw[i].name, sizeof e->name);
        for (int k = 0; k < e->nwords; k++)
            e->word[k] = word_id(p, raw[i].word[k]);
    }
    p->nentries = nraw;
    p->npositive = npos;
    free(raw);
    return 0;
}

/* ---- load / free ----------------------------------------------------------- */

ps_policy *ps_policy_load(const char *lexicon_path, ps_error *err)
{
    char *def = NULL;
    if (!lexicon_path) {
        const char *env = getenv("PICSEEK_LEXICON");
        if (env && *env) {
            lexicon_path = env;
        } else {
            def = ps_path_join(PICSEEK_SOURCE_DIR, "data/child_lexicon.txt");
            lexicon_path = def;
        }
    }
    ps_policy *p = ps_xcalloc(1, sizeof *p);
    int rc = load_lexicon(p, lexicon_path, err);
    free(def);
    if (rc == 0) {
        p->wn = ps_wordnet_load(NULL, err);
        if (!p->wn)
            rc = -1;
    }
    if (rc) {
        ps_policy_free(p);
        return NULL;
    }
    return p;
}

void ps_policy_free(ps_policy *p)
{
    if (!p)
        return;
    ps_wordnet_free(p->wn);
    for (size_t i = 0; i < p->nwords; i++)
        free(p->words[i]);
    free(p->words);
    free(p->entries);
    free(p);
}

size_t ps_policy_lexicon_size(const ps_policy *p)
{
    return p->npositive;
}

/* ---- checking ----------------------------------------------------------------- */

/* One word of the text, as the lexicon sees it. */
typedef struct pol_slot {
    int nids;
    int ids[POL_FORMS_MAX];
} pol_slot;

static void slot_add(const ps_policy *p, pol_slot *s, const char *form)
{
    int id = word_id(p, form);
    if (id < 0)
        return;
    for (int i = 0; i < s->nids; i++)
        if (s->ids[i] == id)
            return;
    if (s->nids < POL_FORMS_MAX)
        s->ids[s->nids++] = id;
}

static void slot_fill(const ps_policy *p, const ps_token *tok, pol_slot *s)
{
    s->nids = 0;
    if (tok->truncated)
        return; /* longer than any lexicon word */
    slot_add(p, s, tok->text);
    ps_wn_lemmas lem;
    if (ps_wn_morphy(p->wn, PS_WN_NOUN, tok->text, tok->len, &lem) == 0)
        ps_wn_rule_forms(PS_WN_NOUN, tok->text, tok->len, &lem); /* unknown to WordNet */
    for (int i = 0; i < lem.n; i++)
        slot_add(p, s, lem.lemma[i]);
}

static bool slot_has(const pol_slot *s, int id)
{
    for (int i = 0; i < s->nids; i++)
        if (s->ids[i] == id)
            return true;
    return false;
}

typedef struct pol_state {
    pol_slot ring[POL_PHRASE_MAX]; /* words start .. start+POL_PHRASE_MAX-1 */
    size_t nread;                  /* words read so far */
    size_t exempt_end;             /* 1 + last word covered by an exemption seen so far */
    ps_policy_result *out;
} pol_state;

/* Does entry e match the words starting at s? */
static bool entry_at(const pol_state *st, const pol_entry *e, size_t s)
{
    if (s + (size_t)e->nwords > st->nread)
        return false;
    for (int k = 0; k < e->nwords; k++)
        if (!slot_has(&st->ring[(s + (size_t)k) % POL_PHRASE_MAX], e->word[k]))
            return false;
    return true;
}

static void record(ps_policy_result *out, const char *name)
{
    out->blocked = true;
    for (int i = 0; i < out->nmatched; i++)
        if (strcmp(out->matched[i], name) == 0)
            return;
    if (out->nmatched < PS_POLICY_MAX_MATCHES)
        snprintf(out->matched[out->nmatched++], PS_POLICY_LEMMA_MAX, "%s", name);
}

/*
 * Decide the matches that start at word s.  Exemptions are looked at before
 * entries, and starts in increasing order, so every exemption that could
 * cover an entry starting at s (it starts at or before s) is already known:
 * the entry is covered iff some exemption ends at or after the entry's end.
 */
static void eval_start(const ps_policy *p, pol_state *st, size_t s)
{
    const pol_slot *first = &st->ring[s % POL_PHRASE_MAX];
    if (first->nids == 0)
        return;
    for (size_t i = 0; i < p->nentries; i++) {
        const pol_entry *e = &p->entries[i];
        if (e->exempt && entry_at(st, e, s) && s + (size_t)e->nwords > st->exempt_end)
            st->exempt_end = s + (size_t)e->nwords;
    }
    for (size_t i = 0; i < p->nentries; i++) {
        const pol_entry *e = &p->entries[i];
        if (!e->exempt && entry_at(st, e, s) && st->exempt_end < s + (size_t)e->nwords)
            record(st->out, e->name);
    }
}

int ps_policy_check(const ps_policy *p, const char *text, size_t len, ps_policy_result *out,
                    ps_error *err)
{
    memset(out, 0, sizeof *out);
    ps_tokenizer *t = ps_xmalloc(sizeof *t);
    pol_state *st = ps_xcalloc(1, sizeof *st);
    int rc = ps_tok_init(t, text, len, err);
    st->out = out;
    ps_token tok;
    while (rc == 0 && ps_tok_next(t, &tok)) {
        slot_fill(p, &tok, &st->ring[st->nread % POL_PHRASE_MAX]);
        st->nread++;
        if (st->nread >= POL_PHRASE_MAX)
            eval_start(p, st, st->nread - POL_PHRASE_MAX);
    }
    if (rc == 0) {
        size_t s = st->nread >= POL_PHRASE_MAX ? st->nread - POL_PHRASE_MAX + 1 : 0;
        for (; s < st->nread; s++)
            eval_start(p, st, s);
    }
    free(st);
    free(t);
    return rc;
}
