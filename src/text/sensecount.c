/*
 * sensecount.c - SemCor tag counts of WordNet senses (see sensecount.h).
 */
#include "text/sensecount.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/digits.h"
#include "core/file.h"
#include "core/lines.h"

#define CNT_MAX_BYTES (64u << 20)
#define CNT_LEMMA_MAX 96

typedef struct cnt_entry {
    const char *lemma; /* points into store, NUL-terminated */
    unsigned char pos;
    int sense;
    unsigned count;
} cnt_entry;

struct ps_sense_counts {
    cnt_entry *e;
    size_t n, skipped;
    char *store;
};

static int cmp_entry(const void *a, const void *b)
{
    const cnt_entry *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    int c = strcmp(x->lemma, y->lemma);
    if (c)
        return c;
    return x->sense < y->sense ? -1 : x->sense > y->sense;
}

/* A whole number in s[0..n), at most 9 digits. */
static int parse_uint(const char *s, size_t n, unsigned *out)
{
    uint64_t v;
    if (ps_parse_digits(s, n, 9, &v) != 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* One line "lemma%P:... sense count" into e (lemma copied to *store). */
static int parse_line(const char *s, size_t n, cnt_entry *e, char **store)
{
    const char *pct = memchr(s, '%', n);
    const char *sp1 = memchr(s, ' ', n);
    if (!pct || !sp1 || pct > sp1 || pct == s || (size_t)(pct - s) >= CNT_LEMMA_MAX ||
        pct + 1 >= sp1)
        return -1;
    char p = pct[1];
    if (p < '1' || p > '5')
        return -1;
    const char *rest = sp1 + 1, *end = s + n;
    const char *sp2 = memchr(rest, ' ', (size_t)(end - rest));
    if (!sp2)
        return -1;
    unsigned sense, count;
    if (parse_uint(rest, (size_t)(sp2 - rest), &sense) || sense == 0 || sense > 10000 ||
        parse_uint(sp2 + 1, (size_t)(end - sp2 - 1), &count))
        return -1;
    size_t ll = (size_t)(pct - s);
    memcpy(*store, s, ll);
    (*store)[ll] = '\0';
    e->lemma = *store;
    *store += ll + 1;
    /* Satellites are adjectives for the caller. */
    e->pos = (unsigned char)(p == '1' ? PS_WN_NOUN : p == '2' ? PS_WN_VERB
                                                   : p == '4' ? PS_WN_ADV : PS_WN_ADJ);
    e->sense = (int)sense;
    e->count = count;
    return 0;
}

ps_sense_counts *ps_sense_counts_parse(const char *data, size_t len)
{
    ps_sense_counts *t = ps_xcalloc(1, sizeof *t);
    t->store = ps_xmalloc(len + 1);
    char *store = t->store;
    size_t cap = 0;
    ps_lines r;
    ps_lines_init(&r, data, len);
    const char *s;
    size_t n;
    while (ps_lines_next(&r, &s, &n)) {
        if (n == 0)
            continue;
        if (t->n == cap) {
            cap = cap ? cap * 2 : 1024;
            t->e = ps_xrealloc(t->e, cap * sizeof *t->e);
        }
        if (parse_line(s, n, &t->e[t->n], &store))
            t->skipped++;
        else
            t->n++;
    }
    qsort(t->e, t->n, sizeof *t->e, cmp_entry);
    return t;
}

ps_sense_counts *ps_sense_counts_load(const char *dir, ps_error *err)
{
    if (!dir) {
        const char *env = getenv("WNSEARCHDIR");
        dir = env && *env ? env : "/usr/share/wordnet";
    }
    char *path = ps_path_join(dir, "cntlist.rev");
    if (!ps_is_file(path)) {
        free(path);
        return ps_sense_counts_parse("", 0);
    }
    size_t len;
    char *data = ps_read_file(path, CNT_MAX_BYTES, &len, err);
    free(path);
    if (!data)
        return NULL;
    ps_sense_counts *t = ps_sense_counts_parse(data, len);
    free(data);
    return t;
}

void ps_sense_counts_free(ps_sense_counts *t)
{
    if (!t)
        return;
    free(t->e);
    free(t->store);
    free(t);
}

size_t ps_sense_counts_size(const ps_sense_counts *t) { return t->n; }
size_t ps_sense_counts_skipped(const ps_sense_counts *t) { return t->skipped; }

unsigned ps_sense_count(const ps_sense_counts *t, ps_wn_pos pos, const char *lemma,
                        int sense_number)
{
    cnt_entry key = {lemma, (unsigned char)pos, sense_number, 0};
    const cnt_entry *hit = bsearch(&key, t->e, t->n, sizeof *t->e, cmp_entry);
    return hit ? hit->count : 0;
}
