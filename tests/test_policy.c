/*
 * test_policy.c - the content rule: the shipped lexicon on example texts,
 * whole-word matching, exemptions, limits, large and invalid input, lexicon
 * file errors, and concurrent use of one policy.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "policy/policy.h"
#include "test.h"

static int have_wordnet(void)
{
    const char *d = getenv("WNSEARCHDIR");
    return ps_is_dir(d && *d ? d : "/usr/share/wordnet");
}

#define NEED_WORDNET()                                                      \
    do {                                                                    \
        if (!have_wordnet())                                                \
            SKIP("WordNet database not installed (Debian wordnet-base)");   \
    } while (0)

/* "blocked:a,b" / "allowed" / "ERR:message" for a text. */
static char *verdict(const ps_policy *p, const char *text, size_t len)
{
    ps_policy_result r;
    ps_error err;
    ps_buf b = {0};
    if (ps_policy_check(p, text, len, &r, &err)) {
        ps_buf_printf(&b, "ERR:%s", err.msg);
        return ps_buf_steal(&b);
    }
    if (!r.blocked) {
        ps_buf_puts(&b, r.nmatched ? "allowed-with-matches?!" : "allowed");
        return ps_buf_steal(&b);
    }
    ps_buf_puts(&b, "blocked:");
    for (int i = 0; i < r.nmatched; i++)
        ps_buf_printf(&b, "%s%s", i ? "," : "", r.matched[i]);
    return ps_buf_steal(&b);
}

#define CHECK_VERDICT(p, text, expect)                      \
    do {                                                    \
        char *v_ = verdict(p, text, strlen(text));          \
        CHECK_STR(v_, expect);                              \
        free(v_);                                           \
    } while (0)

static ps_policy *default_policy(void)
{
    ps_error err;
    ps_policy *p = ps_policy_load(NULL, &err);
    if (!p)
        fprintf(stderr, "load failed: %s\n", err.msg);
    return p;
}

TEST(shipped_lexicon)
{
    NEED_WORDNET();
    ps_policy *p = default_policy();
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(ps_policy_lexicon_size(p) >= 7);
    /* The proof of concept's seven lemmas are all there. */
    const char *poc[] = {"child", "kid", "boy", "girl", "baby", "toddler", "infant"};
    for (size_t i = 0; i < 7; i++) {
        char expect[64];
        snprintf(expect, sizeof expect, "blocked:%s", poc[i]);
        CHECK_VERDICT(p, poc[i], expect);
    }
    ps_policy_free(p);
}

TEST(examples)
{
    NEED_WORDNET();
    ps_policy *p = default_policy();
    if (!p)
        return;
    CHECK_VERDICT(p, "Two kids play in the sand", "blocked:kid");
    CHECK_VERDICT(p, "The children are running", "blocked:child");
    CHECK_VERDICT(p, "A baby sleeps", "blocked:baby");
    CHECK_VERDICT(p, "Toddlers on a slide", "blocked:toddler");
    CHECK_VERDICT(p, "A cowboy rides a horse", "allowed");
    CHECK_VERDICT(p, "a bowl of kidney beans", "allowed");
    CHECK_VERDICT(p, "A dog runs through the snow", "allowed");
    /* Forms: case, plural, possessive, irregular plural, Unicode. */
    CHECK_VERDICT(p, "BABIES", "blocked:baby");
    CHECK_VERDICT(p, "the children's toys", "blocked:child");
    CHECK_VERDICT(p, "Schoolchildren wait", "blocked:schoolchildren");
    CHECK_VERDICT(p, "three kiddies", "blocked:kiddy");
    CHECK_VERDICT(p, "two kiddos", "blocked:kiddo"); /* not in WordNet: suffix rule */
    CHECK_VERDICT(p, "\xEF\xBC\xAB\xEF\xBC\xA9\xEF\xBC\xA4\xEF\xBC\xB3", "blocked:kid"); /* ＫＩＤＳ */
    CHECK_VERDICT(p, "chil\xC2\xAD""dren", "blocked:child");
    CHECK_VERDICT(p, "a group of teenagers", "blocked:teenager");
    /* Whole words only. */
    CHECK_VERDICT(p, "I'm kidding", "allowed");
    CHECK_VERDICT(p, "her boyfriend and girlfriend", "allowed");
    CHECK_VERDICT(p, "a childish joke", "allowed");
    CHECK_VERDICT(p, "A 5-year-old dog", "allowed");
    /* Distinct matches, in text order. */
    CHECK_VERDICT(p, "A girl and a boy and another girl with two boys", "blocked:girl,boy");
    CHECK_VERDICT(p, "boys, girls, kids and babies", "blocked:boy,girl,kid,baby");
    ps_policy_free(p);
}

TEST(exemptions)
{
    NEED_WORDNET();
    ps_policy *p = default_policy();
    if (!p)
        return;
    CHECK_VERDICT(p, "A woman plays a baby grand piano", "allowed");
    CHECK_VERDICT(p, "Baby boomers at a concert", "allowed");
    CHECK_VERDICT(p, "A dog plays with a ball in a kiddie pool .", "allowed");
    CHECK_VERDICT(p, "baby back ribs on a grill", "allowed");
    /* An exemption covers only its own words. */
    CHECK_VERDICT(p, "A baby next to a baby grand", "blocked:baby");
    CHECK_VERDICT(p, "A baby grand and a baby", "blocked:baby");
    CHECK_VERDICT(p, "A little kid in the kiddie pool", "blocked:kid");
    CHECK_VERDICT(p, "sunscreen on the baby's back", "blocked:baby");
    CHECK_VERDICT(p, "a baby carriage", "blocked:baby");
    /* Phrases across punctuation still are consecutive words. */
    CHECK_VERDICT(p, "baby-grand", "allowed");
    ps_policy_free(p);
}

TEST(empty_invalid_and_large_text)
{
    NEED_WORDNET();
    ps_policy *p = default_policy();
    if (!p)
        return;
    CHECK_VERDICT(p, "", "allowed");
    CHECK_VERDICT(p, "  ...  ", "allowed");
    char *v = verdict(p, "kid \xC3\x28", 6);
    CHECK_STR(v, "ERR:byte offset 4: invalid UTF-8");
    free(v);
    ps_policy_result r;
    ps_error err;
    CHECK_INT(ps_policy_check(p, NULL, 0, &r, &err), 0);
    CHECK(!r.blocked);

    /* 1 MB of allowed text; then one child word at its very end. */
    ps_buf b = {0};
    const char *sentence = "A dog runs through the snow . ";
    while (b.len < (1u << 20))
        ps_buf_puts(&b, sentence);
    v = verdict(p, b.data, b.len);
    CHECK_STR(v, "allowed");
    free(v);
    ps_buf_puts(&b, "kids");
    v = verdict(p, b.data, b.len);
    CHECK_STR(v, "blocked:kid");
    free(v);
    /* ...and invalid UTF-8 at the end of 1 MB is found. */
    ps_buf_puts(&b, "\xFF");
    char expect[64];
    snprintf(expect, sizeof expect, "ERR:byte offset %zu: invalid UTF-8", b.len - 1);
    v = verdict(p, b.data, b.len);
    CHECK_STR(v, expect);
    free(v);
    ps_buf_free(&b);
    ps_policy_free(p);
}

/* ---- custom lexicons ------------------------------------------------------ */

static ps_policy *load_text(const char *name, const char *text, ps_error *err)
{
    const char *path = test_write_tmp(name, text, strlen(text));
    return ps_policy_load(path, err);
}

static void expect_lexicon_error(const char *name, const char *text, const char *msg_after_path)
{
    ps_error err = {{0}};
    ps_policy *p = load_text(name, text, &err);
    CHECK(p == NULL);
    ps_policy_free(p);
    const char *dir = getenv("PICSEEK_TEST_TMP");
    char expect[1200];
    snprintf(expect, sizeof expect, "%s/%s%s", dir && *dir ? dir : "/tmp", name, msg_after_path);
    CHECK_STR(err.msg, expect);
}

TEST(lexicon_errors)
{
    NEED_WORDNET();
    expect_lexicon_error("empty.txt", "", ": the lexicon has no entries (only comments or exemptions)");
    expect_lexicon_error("comments.txt", "# nothing\n\n   # here\n",
                         ": the lexicon has no entries (only comments or exemptions)");
    expect_lexicon_error("five.txt", "kid\n\none two three four five\n",
                         ":3: an entry has at most 4 words");
    expect_lexicon_error("long.txt",
                         "abcdefghijabcdefghij abcdefghijabcdefghij abcdefghij\n",
                         ":1: entry is longer than 47 bytes");
    expect_lexicon_error("dup.txt", "child\nkid\nChild  # again\n",
                         ":3: 'child' is already listed on line 1");
    expect_lexicon_error("exempt_none.txt", "kid\n!baby grand\n",
                         ":2: the exemption 'baby grand' contains no entry of the lexicon");
    expect_lexicon_error("exempt_same.txt", "baby\n!Baby\n",
                         ":2: the exemption 'baby' is the whole entry on line 1; remove the entry "
                         "instead");
    expect_lexicon_error("bang.txt", "kid\n  !   # nothing\n", ":2: no word in entry '!'");
    expect_lexicon_error("punct.txt", "kid\n--\n", ":2: no word in entry '--'");
    expect_lexicon_error("utf8.txt", "kid\nba\xFF""by\n", ":2: column 3: invalid UTF-8");

    ps_error err;
    CHECK(ps_policy_load("/nonexistent/lexicon.txt", &err) == NULL);
    CHECK_STR(err.msg, "cannot read the lexicon: /nonexistent/lexicon.txt: cannot open: No such "
                       "file or directory");
}

TEST(custom_lexicon_and_phrases)
{
    NEED_WORDNET();
    ps_error err;
    ps_policy *p = load_text("phrases.txt",
                             "# test lexicon\r\n"
                             "ice cream   # a phrase\r\n"
                             "Goose\n"
                             "!wild goose chase\n"
                             "!silly goose\n",
                             &err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_INT(ps_policy_lexicon_size(p), 2);
    CHECK_VERDICT(p, "I like ice creams", "blocked:ice cream");
    CHECK_VERDICT(p, "ice and cream", "allowed");
    CHECK_VERDICT(p, "ICE-CREAM", "blocked:ice cream");
    CHECK_VERDICT(p, "three geese", "blocked:goose"); /* WordNet's exception list */
    CHECK_VERDICT(p, "a wild goose chase", "allowed");
    CHECK_VERDICT(p, "wild geese chases", "allowed"); /* exemption words are lemmas too */
    CHECK_VERDICT(p, "a wild goose", "blocked:goose");
    CHECK_VERDICT(p, "goose chase", "blocked:goose");
    CHECK_VERDICT(p, "what a silly goose", "allowed"); /* the entry ends the exemption */
    CHECK_VERDICT(p, "silly geese, silly goose", "allowed");
    CHECK_VERDICT(p, "silly goose goose", "blocked:goose");
    CHECK_VERDICT(p, "kids", "allowed");
    ps_policy_free(p);

    /* $PICSEEK_LEXICON is the default lexicon. */
    const char *path = test_write_tmp("env.txt", "dog\n", 4);
    setenv("PICSEEK_LEXICON", path, 1);
    p = ps_policy_load(NULL, &err);
    unsetenv("PICSEEK_LEXICON");
    CHECK(p != NULL);
    if (p) {
        CHECK_VERDICT(p, "A dog runs through the snow", "blocked:dog");
        CHECK_VERDICT(p, "Two kids", "allowed");
        ps_policy_free(p);
    }
}

TEST(at_most_16_matches)
{
    NEED_WORDNET();
    ps_buf lex = {0}, text = {0};
    const char *w[] = {"ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "ibis", "jay",
                       "kiwi", "lark", "mole", "newt", "owl", "pig", "quail", "rat", "seal",
                       "toad"};
    for (size_t i = 0; i < 20; i++) {
        ps_buf_printf(&lex, "%s\n", w[i]);
        ps_buf_printf(&text, "%s ", w[i]);
    }
    ps_error err;
    ps_policy *p = load_text("twenty.txt", lex.data, &err);
    CHECK(p != NULL);
    if (p) {
        ps_policy_result r;
        CHECK_INT(ps_policy_check(p, text.data, text.len, &r, &err), 0);
        CHECK(r.blocked);
        CHECK_INT(r.nmatched, PS_POLICY_MAX_MATCHES);
        CHECK_STR(r.matched[0], "ant");
        CHECK_STR(r.matched[15], "pig");
        ps_policy_free(p);
    }
    ps_buf_free(&lex);
    ps_buf_free(&text);
}

/* ---- threads ------------------------------------------------------------- */

typedef struct job {
    const ps_policy *p;
    int wrong;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    static const char *const texts[][2] = {
        {"Two kids play in the sand", "blocked:kid"},
        {"A cowboy rides a horse", "allowed"},
        {"The children are running", "blocked:child"},
        {"a baby grand", "allowed"},
    };
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < 4; i++) {
            char *v = verdict(j->p, texts[i][0], strlen(texts[i][0]));
            j->wrong += strcmp(v, texts[i][1]) != 0;
            free(v);
        }
    }
    return NULL;
}

TEST(shared_between_threads)
{
    NEED_WORDNET();
    ps_policy *p = default_policy();
    if (!p)
        return;
    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){p, 0};
        CHECK_INT(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(jobs[i].wrong, 0);
    }
    ps_policy_free(p);
}

int main(void)
{
    RUN(shipped_lexicon);
    RUN(examples);
    RUN(exemptions);
    RUN(empty_invalid_and_large_text);
    RUN(lexicon_errors);
    RUN(custom_lexicon_and_phrases);
    RUN(at_most_16_matches);
    RUN(shared_between_threads);
    return test_summary();
}
