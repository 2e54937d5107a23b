/*
 * tokenize.h - from a UTF-8 text to case-folded words.
 *
 * Every text picseek reads from a user goes through here: the query, the
 * captions, the content rule.  The rules:
 *
 *  - The input must be valid UTF-8 (RFC 3629); otherwise the error names the
 *    byte offset of the first bad sequence ("byte offset 12: invalid UTF-8").
 *  - A word is a maximal run of letters, digits and combining marks
 *    (Unicode categories L*, N*, M*), plus apostrophes (' U+0027, ’ U+2019,
 *    ＇ U+FF07) that stand between two such characters ("don't").  Anything
 *    else splits, so "5-year-old" is three words and "e-mail" two.
 *    Default-ignorable characters (soft hyphen, zero-width space and
 *    joiners) neither split nor appear: "chil\u00ADdren" is "children".
 *  - Each word is normalized to NFKC_Casefold (Unicode full case folding
 *    after compatibility decomposition, via utf8proc), so "KIDS", "Kids",
 *    "ｋｉｄｓ" (fullwidth) all give "kids", "Straße" gives "strasse";
 *    apostrophes become U+0027.  A trailing possessive "'s" is dropped
 *    ("child's" -> "child", "it's" -> "it").
 *  - Cost is linear in the input: validation reads every byte once, and a
 *    word's folding reads at most its first PS_TOK_SRC_MAX bytes.  A word
 *    whose folded form would not fit PS_TOK_WORD_MAX - 1 bytes is returned
 *    truncated (at a character boundary) with `truncated` set; no real
 *    English word is that long, so callers usually skip such tokens.
 *
 * Nothing here allocates except ps_tokenize (which the caller frees with
 * ps_tokens_free) and ps_casefold (into the caller's buffer).
 */
#ifndef PS_TEXT_TOKENIZE_H
#define PS_TEXT_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define PS_TOK_WORD_MAX 64     /* bytes of a folded word, with the NUL */
#define PS_TOK_SRC_MAX 256     /* input bytes of one word that are folded, at most */
#define PS_TOK_MAX_TOKENS 4096 /* default token limit of ps_tokenize */

typedef struct ps_token {
    char text[PS_TOK_WORD_MAX]; /* folded word, NUL-terminated */
    size_t len;                 /* strlen(text), >= 1 */
    size_t offset;              /* byte offset of the word in the input */
    size_t src_len;             /* its length in the input, in bytes */
    bool truncated;             /* text is only a prefix of the folded word */
} ps_token;

/* A streaming tokenizer: no allocation, constant memory, any input size. */
typedef struct ps_tokenizer {
    const char *s;
    size_t len, pos;
    int32_t scratch[4 * PS_TOK_SRC_MAX]; /* code points while folding one word */
} ps_tokenizer;

/* Validate `text` (len bytes; need not be NUL-terminated; it must outlive
 * the tokenizer) and start at its first word.  Fails with "byte offset N:
 * invalid UTF-8". */
int ps_tok_init(ps_tokenizer *t, const char *text, size_t len, ps_error *err);

/* The next word into *tok; false when there are no more. */
bool ps_tok_next(ps_tokenizer *t, ps_token *tok);

/* All words of a text, at most `max_tokens` of them (0 = PS_TOK_MAX_TOKENS);
 * later words are not read (only validated) and `capped` is set. */
typedef struct ps_tokens {
    ps_token *v;
    size_t n;
    bool capped;
} ps_tokens;

int ps_tokenize(const char *text, size_t len, size_t max_tokens, ps_tokens *out, ps_error *err);
void ps_tokens_free(ps_tokens *t);

/* NFKC_Casefold of a whole text, appended to out (for normalizing a string
 * that is not split into words, e.g. a caption shown as a key).  Fails on
 * invalid UTF-8 with its byte offset. */
int ps_casefold(const char *text, size_t len, ps_buf *out, ps_error *err);

/*
 * English stop words: function words that say nothing about what a photo
 * shows: articles, pronouns and their contractions, auxiliary and modal
 * verbs, conjunctions, and the commonest prepositions and adverbs ("a",
 * "the", "is", "of", "with", "they're", ...); the full list (about 170
 * words) is the table in tokenize.c, also readable with ps_stopword().
 * Numbers ("two"), colours, and words such as "young", "little", "near" or
 * "behind" are NOT stop words: they describe photos.  Words are compared
 * after folding, so pass ps_token.text.
 */
bool ps_is_stopword(const char *word, size_t len);
size_t ps_stopword_count(void);
const char *ps_stopword(size_t i); /* i < ps_stopword_count(), sorted */

#endif
