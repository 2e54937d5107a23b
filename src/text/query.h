/*
 * query.h - from a search text to weighted, lemmatized words and a GloVe
 * query vector.
 *
 * The pipeline, for a text of any length:
 *
 *  1. Validate UTF-8 and split into case-folded tokens (tokenize.h); invalid
 *     UTF-8 is an error naming the byte offset.  At most PS_QUERY_MAX_TOKENS
 *     tokens are read (the rest of the text is only validated, `capped` is
 *     set), so the cost of a query is bounded whatever its length.
 *  2. Drop stop words (ps_is_stopword) and over-long tokens.
 *  3. Join adjacent tokens that form a WordNet noun collocation, longest
 *     first, up to 3 tokens: "hot dog" -> hot_dog, "tennis balls" ->
 *     tennis_ball, "mountain bike" -> mountain_bike.  Only tokens adjacent
 *     in the text are joined (no stop word between them).
 *  4. Lemmatize with WordNet's morphology (the same as the content rule):
 *     the lemma of a word is its first noun base form if it has one, else
 *     its first verb, adjective, adverb base form, else the token itself
 *     ("dogs" -> dog, "men" -> man, "running" -> running (a noun),
 *     "sits" -> sit).  All noun base forms are kept for the label bridge,
 *     most used first when the model has sense counts (sensecount.h):
 *     "fields" -> field (not W. C. Fields), "men" -> man (not a work force).
 *     A word that can be an adjective and stands right before a word that
 *     can be a noun ("black dog", "young man", "two boys") is taken as a
 *     modifier: its lemma is its adjective base form, pos PS_WN_ADJ, and it
 *     has no noun forms (so "black" is not the colour, "white" not a
 *     person, "two" not a number concept).
 *  5. Weigh each word by the IDF of its lemma over the training captions
 *     (idf.h; a collocation not in the table gets the mean IDF of its
 *     tokens), or 1 with PS_QW_UNIFORM.  At most PS_QUERY_MAX_WORDS words are
 *     kept.
 *  6. Look up a GloVe vector for each word: the lemma's, else the token's;
 *     a collocation uses the mean of its tokens' unit vectors.  Words without
 *     one are REPORTED (ps_query_word.vector_row == -1, listed by
 *     ps_query_unknown), never silently dropped.
 *  7. The query vector is the weighted mean of the words' unit-length
 *     vectors (words without a vector do not count), scaled to unit length:
 *
 *         vec = normalize( sum_i w_i * v_i / |v_i| )
 *
 *     Unit vectors keep frequent words, whose GloVe vectors are longer, from
 *     dominating; the final normalization makes vec . x a cosine for any
 *     unit x.  `has_vector` is false when no word has a vector.
 *
 * A ps_query_model only borrows the WordNet database, the vectors and the
 * IDF table (they must outlive it); it is immutable and thread-safe.  A
 * ps_query is owned by the caller: ps_query_free.
 */
#ifndef PS_TEXT_QUERY_H
#define PS_TEXT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "text/glove.h"
#include "text/idf.h"
#include "text/sensecount.h"
#include "text/tokenize.h"
#include "text/wordnet.h"

#define PS_QUERY_MAX_TOKENS 256 /* tokens read from a text, at most */
#define PS_QUERY_MAX_WORDS 64   /* content words kept, at most */
#define PS_QUERY_MAX_JOIN 3     /* tokens joined into one collocation, at most */
#define PS_QUERY_WORD_MAX 192   /* bytes of a (joined) word, with the NUL */

typedef enum ps_query_weighting {
    PS_QW_IDF,     /* idf(lemma) from the table */
    PS_QW_UNIFORM, /* every word 1 */
} ps_query_weighting;

typedef struct ps_query_model {
    const ps_wordnet *wn;  /* required */
    const ps_glove *glove; /* may be NULL: no vectors (every word unknown) */
    const ps_idf *idf;     /* may be NULL with PS_QW_UNIFORM */
    ps_query_weighting weighting;
    bool no_collocations;  /* true: never join tokens (step 3 off) */
    bool no_modifiers;     /* true: never treat a word as a modifier (step 4) */
    const ps_sense_counts *senses; /* may be NULL: base forms in morphy's order */
} ps_query_model;

typedef struct ps_query_word {
    char text[PS_QUERY_WORD_MAX];  /* folded token(s), joined by ' ' */
    char lemma[PS_QUERY_WORD_MAX]; /* base form; '_' joins collocations */
    int pos;                       /* ps_wn_pos of the lemma, -1 if WordNet lacks it */
    int ntokens;                   /* tokens joined (1..PS_QUERY_MAX_JOIN) */
    ps_wn_lemmas nouns;            /* every noun base form (may be empty) */
    float weight;                  /* > 0 */
    int64_t vector_row;            /* GloVe row used, -1 if none; -2 = mean of tokens */
    size_t offset, src_len;        /* bytes in the input text */
} ps_query_word;

typedef struct ps_query {
    ps_query_word *words;
    size_t nwords;     /* content words */
    size_t ntokens;    /* tokens read */
    size_t nstop;      /* stop words dropped */
    size_t nlong;      /* over-long tokens dropped */
    bool capped;       /* tokens or words beyond the limits were not read */
    uint32_t dim;      /* of vec; 0 without vectors */
    float *vec;        /* unit-length weighted mean; NULL if dim == 0 */
    bool has_vector;   /* some word had a vector (else vec is all zeros) */
    float *word_vecs;  /* nwords x dim unit vectors (zeros where none) */
} ps_query;

/* Run the pipeline on text[0..len).  Fails only for invalid UTF-8 ("byte
 * offset N: invalid UTF-8"); an empty or all-stop-word text gives a query
 * with nwords == 0.  Free with ps_query_free (also after failure). */
int ps_query_parse(const ps_query_model *m, const char *text, size_t len, ps_query *out,
                   ps_error *err);
void ps_query_free(ps_query *q);

/* Number of content words without a vector; ps_query_unknown(q, i) is the
 * i-th of them (its text). */
size_t ps_query_nunknown(const ps_query *q);
const char *ps_query_unknown(const ps_query *q, size_t i);

/* The lemma of one folded token (steps 2 and 4 without the rest): writes it
 * into out (PS_QUERY_WORD_MAX bytes) and returns 1, or 0 for a stop word or
 * over-long token.  Used to count IDF on the same lemmas the queries use. */
int ps_query_lemma(const ps_wordnet *wn, const ps_sense_counts *sc, const char *token, size_t len,
                   char *out);

/* Feed the lemmas of one text (the full pipeline's words, collocations
 * included) to an IDF counter as one document. */
int ps_query_count_doc(const ps_query_model *m, const char *text, size_t len,
                       ps_idf_counter *c, ps_error *err);

#endif
