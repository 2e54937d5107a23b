/*
 * test_tokenize.c - UTF-8 validation, word splitting, case folding, stop
 * words, and bounded cost on large inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "test.h"
#include "text/tokenize.h"

/* The tokens of s joined by '|', or "ERR:" + the message. */
static char *words(const char *s, size_t len)
{
    ps_tokens t;
    ps_error err;
    ps_buf b = {0};
    if (ps_tokenize(s, len, 0, &t, &err)) {
        ps_buf_printf(&b, "ERR:%s", err.msg);
        return ps_buf_steal(&b);
    }
    for (size_t i = 0; i < t.n; i++)
        ps_buf_printf(&b, "%s%s", i ? "|" : "", t.v[i].text);
    ps_tokens_free(&t);
    if (!b.data)
        return ps_xstrdup("");
    return ps_buf_steal(&b);
}

#define CHECK_WORDS(text, expect)                        \
    do {                                                 \
        char *w_ = words(text, sizeof(text) - 1);        \
        CHECK_STR(w_, expect);                           \
        free(w_);                                        \
    } while (0)

TEST(splits_on_punctuation_and_space)
{
    CHECK_WORDS("Two kids play in the sand.", "two|kids|play|in|the|sand");
    CHECK_WORDS("  a,b;c\td\ne  ", "a|b|c|d|e");
    CHECK_WORDS("A 5-year-old boy", "a|5|year|old|boy");
    CHECK_WORDS("e-mail x_y", "e|mail|x|y");
    CHECK_WORDS("", "");
    CHECK_WORDS(" ,.!? -- ", "");
    CHECK_WORDS("route66 R2D2", "route66|r2d2");
}

TEST(offsets)
{
    const char *s = "Hi, Ünïcode wörld";
    ps_tokens t;
    ps_error err;
    CHECK_INT(ps_tokenize(s, strlen(s), 0, &t, &err), 0);
    CHECK_INT(t.n, 3);
    CHECK_INT(t.v[0].offset, 0);
    CHECK_INT(t.v[0].src_len, 2);
    CHECK_INT(t.v[1].offset, 4);
    CHECK_INT(t.v[1].src_len, 9); /* Ü and ï are two bytes each */
    CHECK_STR(t.v[1].text, "ünïcode");
    CHECK_INT(t.v[2].offset, 14);
    CHECK(!t.v[2].truncated);
    ps_tokens_free(&t);
}

TEST(apostrophes)
{
    CHECK_WORDS("don't can\xE2\x80\x99t", "don't|can't");         /* ’ becomes ' */
    CHECK_WORDS("the child's toy", "the|child|toy");              /* possessive dropped */
    CHECK_WORDS("the children\xE2\x80\x99s toys", "the|children|toys");
    CHECK_WORDS("the kids' toys", "the|kids|toys");               /* trailing ' splits */
    CHECK_WORDS("'quoted' ''x''", "quoted|x");
    CHECK_WORDS("rock'n'roll", "rock'n'roll");
    CHECK_WORDS("it's", "it");
    CHECK_WORDS("'s", "s");
}

TEST(case_folding)
{
    CHECK_WORDS("KIDS Kids kIdS", "kids|kids|kids");
    CHECK_WORDS("\xC3\x89""COLE", "\xC3\xA9""cole");                        /* ÉCOLE -> école */
    CHECK_WORDS("Stra\xC3\x9F""e", "strasse");                             /* Straße */
    CHECK_WORDS("\xEF\xBD\x8B\xEF\xBD\x89\xEF\xBD\x84\xEF\xBD\x93", "kids"); /* fullwidth ｋｉｄｓ */
    CHECK_WORDS("\xEF\xAC\x81ne", "fine");                                 /* ﬁ ligature */
    CHECK_WORDS("caf""e\xCC\x81", "caf\xC3\xA9");                          /* e + U+0301 composes */
    CHECK_WORDS("\xCE\xA3\xCE\x99\xCE\xA3", "\xCF\x83\xCE\xB9\xCF\x83");   /* ΣΙΣ -> σισ */
    CHECK_WORDS("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xE7\x8C\xAB",
                "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82|\xE7\x8C\xAB"); /* Привет 猫 */
    CHECK_WORDS("x\xC2\xB2", "x2"); /* superscript two is a digit (No) */
}

TEST(ignorables_do_not_split)
{
    CHECK_WORDS("chil\xC2\xAD""dren", "children");         /* soft hyphen */
    CHECK_WORDS("ki\xE2\x80\x8B""ds", "kids");             /* zero-width space */
    CHECK_WORDS("\xE2\x80\x8B""kid\xE2\x80\x8D", "kid");   /* leading / trailing ZW chars */
    CHECK_WORDS("\xE2\x80\x8B\xE2\x80\x8B", "");
}

TEST(invalid_utf8)
{
    CHECK_WORDS("ab\xFF""c", "ERR:byte offset 2: invalid UTF-8");
    CHECK_WORDS("\xC0\xAF", "ERR:byte offset 0: invalid UTF-8");             /* overlong '/' */
    CHECK_WORDS("abc\xE2\x82", "ERR:byte offset 3: invalid UTF-8");          /* truncated */
    CHECK_WORDS("a \xED\xA0\x80", "ERR:byte offset 2: invalid UTF-8");       /* surrogate */
    CHECK_WORDS("\xF4\x90\x80\x80", "ERR:byte offset 0: invalid UTF-8");     /* > U+10FFFF */
    CHECK_WORDS("ok\0no", "ok|no"); /* NUL is valid UTF-8 and splits */

    ps_tokenizer *t = malloc(sizeof *t);
    ps_error err;
    CHECK_INT(ps_tok_init(t, "x\x80", 2, &err), -1);
    CHECK_STR(err.msg, "byte offset 1: invalid UTF-8");
    ps_token tok;
    CHECK(!ps_tok_next(t, &tok)); /* a failed init yields nothing */
    free(t);
}

TEST(long_words_are_truncated)
{
    size_t n = 1000;
    char *s = malloc(n + 8);
    memset(s, 'A', n);
    memcpy(s + n, " next", 6);
    ps_tokens t;
    ps_error err;
    CHECK_INT(ps_tokenize(s, n + 5, 0, &t, &err), 0);
    CHECK_INT(t.n, 2);
    CHECK(t.v[0].truncated);
    CHECK_INT(t.v[0].len, PS_TOK_WORD_MAX - 1);
    CHECK_INT(t.v[0].text[0], 'a');
    CHECK_INT(t.v[0].src_len, n);
    CHECK_STR(t.v[1].text, "next");
    CHECK_INT(t.v[1].offset, n + 1);
    ps_tokens_free(&t);

    /* U+FDFA expands to 18 code points under NFKC: a word of 200 of them
     * cannot be folded whole and must still come back truncated. */
    ps_buf b = {0};
    for (int i = 0; i < 200; i++)
        ps_buf_puts(&b, "\xEF\xB7\xBA");
    CHECK_INT(ps_tokenize(b.data, b.len, 0, &t, &err), 0);
    CHECK_INT(t.n, 1);
    CHECK(t.v[0].truncated);
    CHECK(t.v[0].len < PS_TOK_WORD_MAX);
    CHECK_INT(t.v[0].src_len, b.len);
    ps_tokens_free(&t);
    ps_buf_free(&b);

    /* A multibyte word is cut at a character boundary. */
    ps_buf_clear(&b);
    for (int i = 0; i < 40; i++)
        ps_buf_puts(&b, "\xC3\xA9"); /* é */
    CHECK_INT(ps_tokenize(b.data, b.len, 0, &t, &err), 0);
    CHECK(t.v[0].truncated);
    CHECK_INT(t.v[0].len, 62); /* 31 × 2 bytes: a 32nd would need byte 64 */
    ps_tokens_free(&t);
    ps_buf_free(&b);
    free(s);
}

TEST(token_limit_and_large_input)
{
    ps_tokens t;
    ps_error err;
    const char *s = "one two three four five";
    CHECK_INT(ps_tokenize(s, strlen(s), 3, &t, &err), 0);
    CHECK_INT(t.n, 3);
    CHECK(t.capped);
    CHECK_STR(t.v[2].text, "three");
    ps_tokens_free(&t);
    CHECK_INT(ps_tokenize(s, strlen(s), 5, &t, &err), 0);
    CHECK_INT(t.n, 5);
    CHECK(!t.capped);
    ps_tokens_free(&t);

    /* 1 MiB of "word ": the collector stops at its limit, the streaming
     * tokenizer reads every word. */
    size_t reps = (1u << 20) / 5;
    ps_buf b = {0};
    for (size_t i = 0; i < reps; i++)
        ps_buf_puts(&b, "Word ");
    CHECK_INT(ps_tokenize(b.data, b.len, 0, &t, &err), 0);
    CHECK_INT(t.n, PS_TOK_MAX_TOKENS);
    CHECK(t.capped);
    ps_tokens_free(&t);
    ps_tokenizer *tk = malloc(sizeof *tk);
    CHECK_INT(ps_tok_init(tk, b.data, b.len, &err), 0);
    size_t count = 0, bad = 0;
    ps_token tok;
    while (ps_tok_next(tk, &tok)) {
        bad += strcmp(tok.text, "word") != 0;
        count++;
    }
    CHECK_INT(count, reps);
    CHECK_INT(bad, 0);
    free(tk);

    /* Invalid UTF-8 past the token limit is still an error. */
    ps_buf_puts(&b, "\xFF");
    CHECK_INT(ps_tokenize(b.data, b.len, 0, &t, &err), -1);
    char expect[64];
    snprintf(expect, sizeof expect, "byte offset %zu: invalid UTF-8", reps * 5);
    CHECK_STR(err.msg, expect);
    ps_buf_free(&b);
}

TEST(casefold_whole_text)
{
    ps_buf b = {0};
    ps_error err;
    const char *s = "Hello, W\xC3\x96RLD \xEF\xAC\x81!";
    CHECK_INT(ps_casefold(s, strlen(s), &b, &err), 0);
    CHECK_STR(b.data, "hello, w\xC3\xB6rld fi!");
    ps_buf_clear(&b);
    CHECK_INT(ps_casefold("", 0, &b, &err), 0);
    CHECK_INT(b.len, 0);
    CHECK_INT(ps_casefold("ok\xFE", 3, &b, &err), -1);
    CHECK_STR(err.msg, "byte offset 2: invalid UTF-8");
    ps_buf_free(&b);
}

TEST(stopwords)
{
    size_t n = ps_stopword_count();
    CHECK(n > 100);
    for (size_t i = 0; i + 1 < n; i++)
        CHECK(strcmp(ps_stopword(i), ps_stopword(i + 1)) < 0); /* sorted, no duplicates */
    for (size_t i = 0; i < n; i++) {
        const char *w = ps_stopword(i);
        CHECK(ps_is_stopword(w, strlen(w)));
        /* Each entry is already in folded form: tokenizing it changes nothing. */
        char *t = words(w, strlen(w));
        CHECK_STR(t, w);
        free(t);
    }
    CHECK(ps_stopword(n) == NULL);
    CHECK(ps_is_stopword("the", 3));
    CHECK(ps_is_stopword("don't", 5));
    CHECK(ps_is_stopword("they're", 7));
    CHECK(ps_is_stopword("a", 1));
    CHECK(!ps_is_stopword("The", 3)); /* compare folded words */
    CHECK(!ps_is_stopword("th", 2));
    CHECK(!ps_is_stopword("then_", 5));
    CHECK(!ps_is_stopword("", 0));
    const char *content[] = {"child", "kid", "two", "young", "little", "red", "near", "behind",
                             "dog", "man", "woman", "old"};
    for (size_t i = 0; i < sizeof content / sizeof *content; i++)
        CHECK(!ps_is_stopword(content[i], strlen(content[i])));
}

int main(void)
{
    RUN(splits_on_punctuation_and_space);
    RUN(offsets);
    RUN(apostrophes);
    RUN(case_folding);
    RUN(ignorables_do_not_split);
    RUN(invalid_utf8);
    RUN(long_words_are_truncated);
    RUN(token_limit_and_large_input);
    RUN(casefold_whole_text);
    RUN(stopwords);
    return test_summary();
}
