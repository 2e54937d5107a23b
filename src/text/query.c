/*
 * query.c - the query pipeline (see query.h): tokens, stop words,
 * collocations, lemmas, IDF weights and the GloVe query vector.
 */
#include "text/query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Is the text between two tokens only spaces or hyphens ("hot dog",
 * "hot-dog"), so that they may form one collocation? */
static bool joinable_gap(const char *text, const ps_token *a, const ps_token *b)
{
    size_t from = a->offset + a->src_len;
    if (b->offset <= from)
        return false;
    for (size_t i = from; i < b->offset; i++)
        if (text[i] != ' ' && text[i] != '-' && text[i] != '\t')
            return false;
    return true;
}

static bool usable(const ps_token *t)
{
    return !t->truncated && !ps_is_stopword(t->text, t->len);
}

/* The lemma of a single token: noun, verb, adjective, adverb base form, else
 * the token.  Fills w->lemma, w->pos and w->nouns. */
/* Tagged uses of all noun senses of a lemma. */
static unsigned lemma_count(const ps_wordnet *wn, const ps_sense_counts *sc, const char *lemma)
{
    const uint32_t *offs;
    size_t n = ps_wn_synsets(wn, PS_WN_NOUN, lemma, strlen(lemma), &offs);
    unsigned sum = 0;
    for (size_t k = 0; k < n && k < 64; k++)
        sum += ps_sense_count(sc, PS_WN_NOUN, lemma, (int)k + 1);
    return sum;
}

/* Order noun base forms by how often their senses are used (stable), so
 * that "fields" is field, not the comedian W. C. Fields, and "men" is
 * man, not a work force. */
static void order_by_use(const ps_wordnet *wn, const ps_sense_counts *sc, ps_wn_lemmas *l)
{
    if (!sc || l->n < 2)
        return;
    unsigned cnt[PS_WN_MAX_LEMMAS];
    for (int i = 0; i < l->n; i++)
        cnt[i] = lemma_count(wn, sc, l->lemma[i]);
    for (int i = 1; i < l->n; i++) {
        for (int j = i; j > 0 && cnt[j] > cnt[j - 1]; j--) {
            char tmp[PS_WN_LEMMA_MAX];
            memcpy(tmp, l->lemma[j], sizeof tmp);
            memcpy(l->lemma[j], l->lemma[j - 1], sizeof tmp);
            memcpy(l->lemma[j - 1], tmp, sizeof tmp);
            unsigned t = cnt[j];
            cnt[j] = cnt[j - 1];
            cnt[j - 1] = t;
        }
    }
}

static void lemmatize_one(const ps_wordnet *wn, const ps_sense_counts *sc, const char *tok,
                          size_t len, ps_query_word *w)
{
    ps_wn_morphy(wn, PS_WN_NOUN, tok, len, &w->nouns);
    order_by_use(wn, sc, &w->nouns);
    if (w->nouns.n > 0) {
        snprintf(w->lemma, sizeof w->lemma, "%s", w->nouns.lemma[0]);
        w->pos = PS_WN_NOUN;
        return;
    }
    for (int pos = PS_WN_VERB; pos < PS_WN_NPOS; pos++) {
        ps_wn_lemmas l;
        if (ps_wn_morphy(wn, (ps_wn_pos)pos, tok, len, &l) > 0) {
            snprintf(w->lemma, sizeof w->lemma, "%s", l.lemma[0]);
            w->pos = pos;
            return;
        }
    }
    snprintf(w->lemma, sizeof w->lemma, "%.*s", (int)len, tok);
    w->pos = -1;
}

int ps_query_lemma(const ps_wordnet *wn, const ps_sense_counts *sc, const char *token, size_t len,
                   char *out)
{
    if (len == 0 || len >= PS_TOK_WORD_MAX || ps_is_stopword(token, len))
        return 0;
    ps_query_word w;
    lemmatize_one(wn, sc, token, len, &w);
    memcpy(out, w.lemma, strlen(w.lemma) + 1);
    return 1;
}

/* A word that can be an adjective, directly followed (spaces only) by a
 * word that can be a noun, modifies it: "black dog", "young man", "two
 * boys".  It then counts as an adjective: its noun senses (black the
 * colour, white the person, two the number) are dropped.  t[1] must exist. */
static void mark_modifier(const ps_wordnet *wn, const char *text, const ps_token *t,
                          ps_query_word *w)
{
    if (!usable(&t[1]) || !joinable_gap(text, &t[0], &t[1]))
        return;
    for (size_t i = t[0].offset + t[0].src_len; i < t[1].offset; i++)
        if (text[i] != ' ' && text[i] != '\t')
            return;
    ps_wn_lemmas adj, next;
    if (ps_wn_morphy(wn, PS_WN_ADJ, t[0].text, t[0].len, &adj) == 0 ||
        ps_wn_morphy(wn, PS_WN_NOUN, t[1].text, t[1].len, &next) == 0)
        return;
    snprintf(w->lemma, sizeof w->lemma, "%s", adj.lemma[0]);
    w->pos = PS_WN_ADJ;
    w->nouns.n = 0;
}

/* Try to join tokens t[0..k) into a WordNet noun collocation. */
static bool try_join(const ps_wordnet *wn, const ps_sense_counts *sc, const char *text,
                     const ps_token *t, int k, ps_query_word *w)
{
    char joined[PS_QUERY_WORD_MAX];
    size_t n = 0;
    for (int i = 0; i < k; i++) {
        if (!usable(&t[i]) || (i > 0 && !joinable_gap(text, &t[i - 1], &t[i])))
            return false;
        if (n + t[i].len + 2 > sizeof joined)
            return false;
        if (i)
            joined[n++] = '_';
        memcpy(joined + n, t[i].text, t[i].len);
        n += t[i].len;
    }
    joined[n] = '\0';
    ps_wn_lemmas l;
    if (ps_wn_morphy(wn, PS_WN_NOUN, joined, n, &l) == 0)
        return false;
    order_by_use(wn, sc, &l);
    w->nouns = l;
    snprintf(w->lemma, sizeof w->lemma, "%s", l.lemma[0]);
    w->pos = PS_WN_NOUN;
    for (size_t i = 0; i < n; i++)
        if (joined[i] == '_')
            joined[i] = ' ';
    memcpy(w->text, joined, n + 1);
    return true;
}

/* Unit vector of a token (its lemma's vector, else its own) into out;
 * returns the row or -1. */
static int64_t token_vector(const ps_query_model *m, const ps_token *t, float *out)
{
    if (!m->glove)
        return -1;
    ps_query_word tmp;
    lemmatize_one(m->wn, m->senses, t->text, t->len, &tmp);
    int64_t row = ps_glove_find(m->glove, tmp.lemma, strlen(tmp.lemma));
    if (row < 0)
        row = ps_glove_find(m->glove, t->text, t->len);
    if (row < 0)
        return -1;
    uint32_t dim = ps_glove_dim(m->glove);
    const float *v = ps_glove_vector(m->glove, (uint32_t)row);
    float norm = ps_glove_norm(m->glove, (uint32_t)row);
    if (!(norm > 0))
        return -1;
    for (uint32_t d = 0; d < dim; d++)
        out[d] = v[d] / norm;
    return row;
}

static double token_weight(const ps_query_model *m, const ps_token *t)
{
    ps_query_word tmp;
    lemmatize_one(m->wn, m->senses, t->text, t->len, &tmp);
    return ps_idf_weight(m->idf, tmp.lemma);
}

/* Weight and vector of word w made of tokens t[0..k). */
static void word_weight_vector(const ps_query_model *m, const ps_token *t, int k,
                               ps_query_word *w, float *vec)
{
    if (m->weighting == PS_QW_IDF && m->idf) {
        if (k == 1 || ps_idf_df(m->idf, w->lemma) > 0) {
            w->weight = (float)ps_idf_weight(m->idf, w->lemma);
        } else {
            double s = 0;
            for (int i = 0; i < k; i++)
                s += token_weight(m, &t[i]);
            w->weight = (float)(s / k);
        }
    } else {
        w->weight = 1.0f;
    }
    w->vector_row = -1;
    if (!m->glove)
        return;
    uint32_t dim = ps_glove_dim(m->glove);
    if (k == 1) {
        w->vector_row = token_vector(m, t, vec);
        return;
    }
    /* A collocation: the GloVe vocabulary has no "hot_dog"; use the mean of
     * its tokens' unit vectors, itself scaled to unit length. */
    float *tmp = ps_xmalloc(dim * sizeof *tmp);
    int found = 0;
    memset(vec, 0, dim * sizeof *vec);
    for (int i = 0; i < k; i++) {
        if (token_vector(m, &t[i], tmp) < 0)
            continue;
        found++;
        for (uint32_t d = 0; d < dim; d++)
            vec[d] += tmp[d];
    }
    free(tmp);
    if (!found)
        return;
    double nn = 0;
    for (uint32_t d = 0; d < dim; d++)
        nn += (double)vec[d] * vec[d];
    if (nn <= 0) {
        memset(vec, 0, dim * sizeof *vec);
        return;
    }
    float inv = (float)(1.0 / sqrt(nn));
    for (uint32_t d = 0; d < dim; d++)
        vec[d] *= inv;
    w->vector_row = -2;
}

void ps_query_free(ps_query *q)
{
    if (!q)
        return;
    free(q->words);
    free(q->vec);
    free(q->word_vecs);
    memset(q, 0, sizeof *q);
}

int ps_query_parse(const ps_query_model *m, const char *text, size_t len, ps_query *out,
                   ps_error *err)
{
    memset(out, 0, sizeof *out);
    ps_tokens toks;
    if (ps_tokenize(text, len, PS_QUERY_MAX_TOKENS, &toks, err))
        return -1;
    out->ntokens = toks.n;
    out->capped = toks.capped;
    out->dim = m->glove ? ps_glove_dim(m->glove) : 0;
    size_t cap = toks.n < PS_QUERY_MAX_WORDS ? toks.n : PS_QUERY_MAX_WORDS;
    out->words = ps_xcalloc(cap ? cap : 1, sizeof *out->words);
    out->word_vecs = ps_xcalloc((cap ? cap : 1) * (out->dim ? out->dim : 1), sizeof(float));

    for (size_t i = 0; i < toks.n;) {
        const ps_token *t = &toks.v[i];
        if (t->truncated) {
            out->nlong++;
            i++;
            continue;
        }
        if (ps_is_stopword(t->text, t->len)) {
            out->nstop++;
            i++;
            continue;
        }
        if (out->nwords == PS_QUERY_MAX_WORDS) {
            out->capped = true;
            break;
        }
        ps_query_word *w = &out->words[out->nwords];
        int k = 1;
        for (int j = m->no_collocations ? 1 : PS_QUERY_MAX_JOIN; j >= 2; j--) {
            if (i + (size_t)j <= toks.n && try_join(m->wn, m->senses, text, t, j, w)) {
                k = j;
                break;
            }
        }
        if (k == 1) {
            memcpy(w->text, t->text, t->len + 1);
            lemmatize_one(m->wn, m->senses, t->text, t->len, w);
            if (!m->no_modifiers && i + 1 < toks.n)
                mark_modifier(m->wn, text, t, w);
        }
        w->ntokens = k;
        w->offset = t->offset;
        w->src_len = t[k - 1].offset + t[k - 1].src_len - t->offset;
        float *wv = out->word_vecs + out->nwords * out->dim;
        word_weight_vector(m, t, k, w, wv);
        out->nwords++;
        i += (size_t)k;
    }
    ps_tokens_free(&toks);

    if (out->dim) {
        out->vec = ps_xcalloc(out->dim, sizeof *out->vec);
        double *acc = ps_xcalloc(out->dim, sizeof *acc);
        for (size_t i = 0; i < out->nwords; i++) {
            if (out->words[i].vector_row == -1)
                continue;
            const float *wv = out->word_vecs + i * out->dim;
            for (uint32_t d = 0; d < out->dim; d++)
                acc[d] += out->words[i].weight * wv[d];
        }
        double nn = 0;
        for (uint32_t d = 0; d < out->dim; d++)
            nn += acc[d] * acc[d];
        if (nn > 0) {
            double inv = 1.0 / sqrt(nn);
            for (uint32_t d = 0; d < out->dim; d++)
                out->vec[d] = (float)(acc[d] * inv);
            out->has_vector = true;
        }
        free(acc);
    }
    return 0;
}

size_t ps_query_nunknown(const ps_query *q)
{
    size_t n = 0;
    for (size_t i = 0; i < q->nwords; i++)
        n += q->words[i].vector_row == -1;
    return n;
}

const char *ps_query_unknown(const ps_query *q, size_t i)
{
    for (size_t k = 0; k < q->nwords; k++)
        if (q->words[k].vector_row == -1 && i-- == 0)
            return q->words[k].text;
    return NULL;
}

int ps_query_count_doc(const ps_query_model *m, const char *text, size_t len,
                       ps_idf_counter *c, ps_error *err)
{
    /* Counting needs lemmas only: no vectors, no weights. */
    ps_query_model lm = {m->wn, NULL, NULL, PS_QW_UNIFORM, m->no_collocations, m->no_modifiers,
                         m->senses};
    ps_query q;
    if (ps_query_parse(&lm, text, len, &q, err)) {
        ps_query_free(&q);
        return -1;
    }
    ps_idf_counter_doc(c);
    for (size_t i = 0; i < q.nwords; i++)
        ps_idf_counter_add(c, q.words[i].lemma);
    ps_query_free(&q);
    return 0;
}
