/*
 * test_query.c - the query pipeline (text/query) and the IDF table
 * (text/idf): UTF-8 errors, empty and very long texts, stop words,
 * lemmas, collocations, weights, unknown words and the query vector, on
 * the real WordNet database and a small word-vector file written here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "test.h"
#include "text/glove.h"
#include "text/idf.h"
#include "text/query.h"

/* Four-dimensional vectors with exact norms, so the expected query vector
 * can be computed here by hand. */
static const char TINY_GLOVE[] =
    "{\"precision\":8,\"l2NormIndex\":4,\"wordIndex\":5,\"size\":6,\"dimensions\":4,"
    "\"words\":[\"dog\",\"cat\",\"run\",\"beach\",\"hot\",\"man\"],"
    "\"vectors\":{\"dog\":[3,4,0,0,5,0],\"cat\":[0,0,1,0,1,1],\"run\":[0,0,0,2,2,2],"
    "\"beach\":[1,0,0,0,1,3],\"hot\":[0,1,0,0,1,4],\"man\":[0,0,3,4,5,5]},"
    "\"unkVector\":[0,0,0,0,0,-1]}";

static const char TINY_IDF[] =
    "# test table\n"
    "documents\t9\n"
    "beach\t1\n"
    "dog\t4\n"
    "run\t9\n";

typedef struct fixture {
    ps_wordnet *wn;
    ps_glove *g;
    ps_idf *idf;
    ps_query_model m;
} fixture;

static int have_wordnet(void)
{
    const char *d = getenv("WNSEARCHDIR");
    return ps_is_dir(d && *d ? d : "/usr/share/wordnet");
}

/* Loaded once for the file; freed at the end of main. */
static fixture *fx(void)
{
    static fixture f;
    static int tried;
    if (!tried) {
        tried = 1;
        ps_error err;
        if (!have_wordnet())
            return NULL;
        f.wn = ps_wordnet_load(NULL, &err);
        if (!f.wn) {
            fprintf(stderr, "wordnet: %s\n", err.msg);
            return NULL;
        }
        const char *json = test_write_tmp("q-tiny.json", TINY_GLOVE, strlen(TINY_GLOVE));
        char bin[600];
        snprintf(bin, sizeof bin, "%s.bin", json);
        if (ps_glove_convert(json, bin, NULL, NULL, &err) || !(f.g = ps_glove_open(bin, &err))) {
            fprintf(stderr, "glove: %s\n", err.msg);
            return NULL;
        }
        f.idf = ps_idf_parse("tiny.tsv", TINY_IDF, strlen(TINY_IDF), &err);
        if (!f.idf) {
            fprintf(stderr, "idf: %s\n", err.msg);
            return NULL;
        }
        f.m = (ps_query_model){f.wn, f.g, f.idf, PS_QW_IDF, false, false, NULL};
    }
    return f.idf ? &f : NULL;
}

#define NEED_FX(f)                                                          \
    if (!have_wordnet())                                                    \
        SKIP("WordNet database not installed (Debian wordnet-base)");       \
    fixture *f = fx();                                                      \
    CHECK(f != NULL);                                                       \
    if (!f)                                                                 \
    return

static double idf_of(size_t df) { return log(10.0 / (double)(df + 1)) + 1.0; }

/* ---- the pipeline ------------------------------------------------------- */

TEST(invalid_utf8_is_an_error)
{
    NEED_FX(f);
    ps_query q;
    ps_error err = {{0}};
    CHECK_INT(ps_query_parse(&f->m, "do\xffg", 4, &q, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 2: invalid UTF-8");
    ps_query_free(&q);
    /* An overlong encoding and a lone continuation byte, late in the text. */
    CHECK_INT(ps_query_parse(&f->m, "a dog \xc0\xaf", 8, &q, &err), -1);
    CHECK_CONTAINS(err.msg, "byte offset 6");
    ps_query_free(&q);
    CHECK_INT(ps_query_parse(&f->m, "dog \x80", 5, &q, &err), -1);
    ps_query_free(&q);
}

TEST(empty_and_stop_word_texts_have_no_words)
{
    NEED_FX(f);
    const char *texts[] = {"", "   ", "...!?", "the of a with", "It is THEY"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        ps_query q;
        ps_error err;
        CHECK_INT(ps_query_parse(&f->m, texts[i], strlen(texts[i]), &q, &err), 0);
        CHECK_INT(q.nwords, 0);
        CHECK(!q.has_vector);
        CHECK_INT(ps_query_nunknown(&q), 0);
        for (uint32_t d = 0; d < q.dim; d++)
            CHECK(q.vec[d] == 0);
        ps_query_free(&q);
    }
}

TEST(lemmas_and_stop_words)
{
    NEED_FX(f);
    const char *t = "The Dogs ARE running with 3 men";
    ps_query q;
    ps_error err;
    CHECK_INT(ps_query_parse(&f->m, t, strlen(t), &q, &err), 0);
    CHECK_INT(q.ntokens, 7);
    CHECK_INT(q.nstop, 3); /* the, are, with */
    CHECK_INT(q.nwords, 4);
    if (q.nwords == 4) {
        CHECK_STR(q.words[0].text, "dogs");
        CHECK_STR(q.words[0].lemma, "dog");
        CHECK_INT(q.words[0].pos, PS_WN_NOUN);
        CHECK_INT(q.words[0].offset, 4);
        CHECK_INT(q.words[0].src_len, 4);
        CHECK_STR(q.words[1].text, "running");
        CHECK_STR(q.words[2].text, "3");
        /* "men" is a noun of its own in WordNet (a work force) and the
         * plural of man: both base forms are kept for the bridge. */
        int has_man = 0;
        for (int i = 0; i < q.words[3].nouns.n; i++)
            has_man |= strcmp(q.words[3].nouns.lemma[i], "man") == 0;
        CHECK(has_man);
    }
    ps_query_free(&q);
    char lem[PS_QUERY_WORD_MAX];
    CHECK_INT(ps_query_lemma(f->wn, NULL, "geese", 5, lem), 1);
    CHECK_STR(lem, "goose");
    CHECK_INT(ps_query_lemma(f->wn, NULL, "sits", 4, lem), 1);
    CHECK_STR(lem, "sit");
    CHECK_INT(ps_query_lemma(f->wn, NULL, "the", 3, lem), 0);
    CHECK_INT(ps_query_lemma(f->wn, NULL, "zzqxv", 5, lem), 1);
    CHECK_STR(lem, "zzqxv");
}

TEST(collocations_are_joined_only_when_adjacent)
{
    NEED_FX(f);
    ps_query q;
    ps_error err;
    const char *t = "hot dogs and a mountain-bike";
    CHECK_INT(ps_query_parse(&f->m, t, strlen(t), &q, &err), 0);
    CHECK_INT(q.nwords, 2);
    if (q.nwords == 2) {
        CHECK_STR(q.words[0].lemma, "hot_dog");
        CHECK_STR(q.words[0].text, "hot dogs");
        CHECK_INT(q.words[0].ntokens, 2);
        CHECK_INT(q.words[0].src_len, 8);
        CHECK_STR(q.words[1].lemma, "mountain_bike");
        /* "hot" and "dog" both have vectors: the mean of the two. */
        CHECK_INT(q.words[0].vector_row, -2);
        const float *v = q.word_vecs;
        double n = sqrt(0.6 * 0.6 + 1.8 * 1.8); /* hot (0,1,0,0) + dog (0.6,0.8,0,0) */
        CHECK_NEAR(v[0], 0.6 / n, 1e-5);
        CHECK_NEAR(v[1], 1.8 / n, 1e-5);
        CHECK_NEAR(v[2], 0, 1e-7);
        /* mountain, bike: no vectors in the tiny file. */
        CHECK_INT(q.words[1].vector_row, -1);
    }
    ps_query_free(&q);
    /* Punctuation or a stop word between them: two words. */
    const char *t2 = "hot, dog";
    CHECK_INT(ps_query_parse(&f->m, t2, strlen(t2), &q, &err), 0);
    CHECK_INT(q.nwords, 2);
    ps_query_free(&q);
    const char *t3 = "hot the dog";
    CHECK_INT(ps_query_parse(&f->m, t3, strlen(t3), &q, &err), 0);
    CHECK_INT(q.nwords, 2);
    ps_query_free(&q);
}

TEST(unknown_words_are_reported)
{
    NEED_FX(f);
    const char *t = "dog zzqxv beach qqwwz";
    ps_query q;
    ps_error err;
    CHECK_INT(ps_query_parse(&f->m, t, strlen(t), &q, &err), 0);
    CHECK_INT(q.nwords, 4);
    CHECK_INT(ps_query_nunknown(&q), 2);
    CHECK_STR(ps_query_unknown(&q, 0), "zzqxv");
    CHECK_STR(ps_query_unknown(&q, 1), "qqwwz");
    CHECK(ps_query_unknown(&q, 2) == NULL);
    CHECK(q.has_vector);
    ps_query_free(&q);
    /* Nothing known: no vector, yet the words are there. */
    CHECK_INT(ps_query_parse(&f->m, "zzqxv", 5, &q, &err), 0);
    CHECK_INT(q.nwords, 1);
    CHECK(!q.has_vector);
    CHECK_INT(ps_query_nunknown(&q), 1);
    ps_query_free(&q);
}

TEST(query_vector_is_the_idf_weighted_mean_of_unit_vectors)
{
    NEED_FX(f);
    const char *t = "Dogs on the beach, running";
    ps_query q;
    ps_error err;
    CHECK_INT(ps_query_parse(&f->m, t, strlen(t), &q, &err), 0);
    CHECK_INT(q.nwords, 3);
    if (q.nwords != 3) {
        ps_query_free(&q);
        return;
    }
    /* dog df 4, beach df 1, "running" is its own lemma: not in the table,
     * df 0, so the largest weight; its vector is run's (the token "running"
     * is absent from the tiny file, its verb lemma "run" is not used for the
     * vector since the lemma is the noun "running"): none. */
    double wd = idf_of(4), wb = idf_of(1);
    CHECK_NEAR(q.words[0].weight, wd, 1e-5);
    CHECK_NEAR(q.words[1].weight, wb, 1e-5);
    CHECK_NEAR(q.words[2].weight, idf_of(0), 1e-5);
    CHECK_INT(q.words[2].vector_row, -1);
    double v[4] = {wd * 0.6 + wb * 1.0, wd * 0.8, 0, 0};
    double n = sqrt(v[0] * v[0] + v[1] * v[1]);
    for (int d = 0; d < 4; d++)
        CHECK_NEAR(q.vec[d], v[d] / n, 1e-5);
    ps_query_free(&q);

    /* Uniform weights: the plain mean. */
    ps_query_model um = f->m;
    um.weighting = PS_QW_UNIFORM;
    CHECK_INT(ps_query_parse(&um, "dog beach", 9, &q, &err), 0);
    CHECK_NEAR(q.words[0].weight, 1, 0);
    double u[2] = {0.6 + 1.0, 0.8};
    double un = sqrt(u[0] * u[0] + u[1] * u[1]);
    CHECK_NEAR(q.vec[0], u[0] / un, 1e-5);
    CHECK_NEAR(q.vec[1], u[1] / un, 1e-5);
    ps_query_free(&q);
}

TEST(very_long_queries_are_bounded)
{
    NEED_FX(f);
    /* 1 MiB of words: at most PS_QUERY_MAX_TOKENS tokens are read. */
    size_t len = 1u << 20;
    char *t = ps_xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        t[i] = "dog beach "[i % 10];
    t[len] = '\0';
    ps_query q;
    ps_error err;
    CHECK_INT(ps_query_parse(&f->m, t, len, &q, &err), 0);
    CHECK(q.capped);
    CHECK(q.ntokens <= PS_QUERY_MAX_TOKENS);
    CHECK(q.nwords <= PS_QUERY_MAX_WORDS);
    CHECK_INT(q.nwords, PS_QUERY_MAX_WORDS);
    CHECK(q.has_vector);
    ps_query_free(&q);
    /* The whole text is still validated: a bad byte at the very end. */
    t[len - 1] = (char)0xff;
    CHECK_INT(ps_query_parse(&f->m, t, len, &q, &err), -1);
    CHECK_CONTAINS(err.msg, "invalid UTF-8");
    ps_query_free(&q);
    /* One enormous word: dropped as over-long, not crashed on. */
    memset(t, 'x', len);
    CHECK_INT(ps_query_parse(&f->m, t, len, &q, &err), 0);
    CHECK_INT(q.nwords, 0);
    CHECK_INT(q.nlong, 1);
    ps_query_free(&q);
    free(t);
}

TEST(works_without_vectors)
{
    NEED_FX(f);
    ps_query_model m = {f->wn, NULL, NULL, PS_QW_UNIFORM, false, false, NULL};
    ps_query q;
    ps_error err;
    CHECK_INT(ps_query_parse(&m, "two dogs", 8, &q, &err), 0);
    CHECK_INT(q.nwords, 2);
    CHECK_INT(q.dim, 0);
    CHECK(!q.has_vector);
    CHECK_INT(ps_query_nunknown(&q), 2);
    ps_query_free(&q);
}

/* ---- the IDF table ------------------------------------------------------ */

TEST(idf_weights_follow_the_formula)
{
    ps_error err;
    ps_idf *t = ps_idf_parse("x", TINY_IDF, strlen(TINY_IDF), &err);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_INT(ps_idf_documents(t), 9);
    CHECK_INT(ps_idf_size(t), 3);
    CHECK_INT(ps_idf_df(t, "dog"), 4);
    CHECK_INT(ps_idf_df(t, "cat"), 0);
    CHECK_NEAR(ps_idf_weight(t, "run"), 1.0, 1e-12); /* in every document */
    CHECK_NEAR(ps_idf_weight(t, "dog"), idf_of(4), 1e-12);
    CHECK_NEAR(ps_idf_weight(t, "unseen"), idf_of(0), 1e-12);
    CHECK(ps_idf_weight(t, "beach") > ps_idf_weight(t, "dog"));
    ps_idf_free(t);
}

TEST(idf_file_errors_name_the_line)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"dog\t3\n", "x:1: expected 'documents<TAB>N'"},
        {"documents\t0\n", "x:1: expected 'documents<TAB>N'"},
        {"# c\ndocuments\t5\ndog\t6\n", "x:3: document frequency must be a whole number from 1 to 5"},
        {"documents\t5\ndog\t0\n", "x:2: document frequency"},
        {"documents\t5\ndog\t-1\n", "x:2: document frequency"},
        {"documents\t5\ndog\t2\ncat\t1\n", "x:3: lemma 'cat' is out of order"},
        {"documents\t5\ndog\t2\ndog\t1\n", "x:3: lemma 'dog' is out of order or repeated"},
        {"documents\t5\ndog 2\n", "x:2: expected two tab-separated fields"},
        {"documents\t5\ndog\t2\t3\n", "x:2: expected two tab-separated fields"},
        {"documents\t5\nd\xffg\t2\n", "x:2: column 2: invalid UTF-8"},
        {"documents\t5\n\t2\n", "x:2: a lemma must be"},
        {"", "x: no 'documents<TAB>N' line"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ps_error err = {{0}};
        ps_idf *t = ps_idf_parse("x", cases[i].text, strlen(cases[i].text), &err);
        CHECK(t == NULL);
        ps_idf_free(t);
        CHECK_CONTAINS(err.msg, cases[i].msg);
    }
    ps_error err;
    CHECK(ps_idf_load("/nonexistent/idf.tsv", &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent/idf.tsv");
}

TEST(idf_counter_round_trips)
{
    ps_idf_counter *c = ps_idf_counter_new();
    ps_idf_counter_add(c, "ignored"); /* before the first document */
    ps_idf_counter_doc(c);
    ps_idf_counter_add(c, "dog");
    ps_idf_counter_add(c, "dog"); /* once per document */
    ps_idf_counter_add(c, "beach");
    ps_idf_counter_doc(c);
    ps_idf_counter_add(c, "dog");
    /* Enough distinct lemmas to make the table grow. */
    for (int i = 0; i < 3000; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d", i);
        ps_idf_counter_add(c, w);
    }
    ps_buf out = {0};
    ps_idf_counter_write(c, "two\nlines", &out);
    ps_idf_counter_free(c);
    CHECK(strncmp(out.data, "# two\n# lines\ndocuments\t2\n", 26) == 0);
    ps_error err;
    ps_idf *t = ps_idf_parse("round", out.data, out.len, &err);
    CHECK(t != NULL);
    if (t) {
        CHECK_INT(ps_idf_documents(t), 2);
        CHECK_INT(ps_idf_df(t, "dog"), 2);
        CHECK_INT(ps_idf_df(t, "beach"), 1);
        CHECK_INT(ps_idf_df(t, "w2999"), 1);
        CHECK_INT(ps_idf_df(t, "ignored"), 0);
        CHECK_INT(ps_idf_size(t), 3002);
    }
    ps_idf_free(t);
    ps_buf_free(&out);
}

TEST(count_doc_uses_the_pipeline_lemmas)
{
    NEED_FX(f);
    ps_idf_counter *c = ps_idf_counter_new();
    ps_error err;
    const char *docs[] = {"Two dogs eat hot dogs", "A dog", "the"};
    for (int i = 0; i < 3; i++)
        CHECK_INT(ps_query_count_doc(&f->m, docs[i], strlen(docs[i]), c, &err), 0);
    CHECK_INT(ps_query_count_doc(&f->m, "\xff", 1, c, &err), -1);
    ps_buf out = {0};
    ps_idf_counter_write(c, NULL, &out);
    ps_idf_counter_free(c);
    ps_idf *t = ps_idf_parse("c", out.data, out.len, &err);
    CHECK(t != NULL);
    if (t) {
        CHECK_INT(ps_idf_documents(t), 3);
        CHECK_INT(ps_idf_df(t, "dog"), 2);
        CHECK_INT(ps_idf_df(t, "hot_dog"), 1);
        CHECK_INT(ps_idf_df(t, "two"), 1);
        CHECK_INT(ps_idf_df(t, "the"), 0);
    }
    ps_idf_free(t);
    ps_buf_free(&out);
}

TEST(the_shipped_idf_table_loads)
{
    ps_error err;
    ps_idf *t = ps_idf_load(NULL, &err);
    if (!t)
        fprintf(stderr, "%s\n", err.msg);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(ps_idf_documents(t) > 100);
    /* Frequent caption words weigh less than rare ones. */
    CHECK(ps_idf_df(t, "dog") > 10);
    CHECK(ps_idf_weight(t, "dog") < ps_idf_weight(t, "skateboard"));
    ps_idf_free(t);
}

int main(void)
{
    RUN(invalid_utf8_is_an_error);
    RUN(empty_and_stop_word_texts_have_no_words);
    RUN(lemmas_and_stop_words);
    RUN(collocations_are_joined_only_when_adjacent);
    RUN(unknown_words_are_reported);
    RUN(query_vector_is_the_idf_weighted_mean_of_unit_vectors);
    RUN(very_long_queries_are_bounded);
    RUN(works_without_vectors);
    RUN(idf_weights_follow_the_formula);
    RUN(idf_file_errors_name_the_line);
    RUN(idf_counter_round_trips);
    RUN(count_doc_uses_the_pipeline_lemmas);
    RUN(the_shipped_idf_table_loads);
    fixture *f = have_wordnet() ? fx() : NULL;
    if (f) {
        ps_idf_free(f->idf);
        ps_glove_close(f->g);
        ps_wordnet_free(f->wn);
    }
    return test_summary();
}
