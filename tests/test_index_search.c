/* Tests for the search engine (src/index/search.c, rank.c): ranking,
 * the content rule, restricted photos, bad queries, bad databases, the
 * embedding cache, moved photos, threads, and searching while indexing. */
#include <pthread.h>
#include <sqlite3.h>

#include "core/json.h"
#include "index/indexer.h"
#include "index/rank.h"
#include "index/search.h"
#include "index/store.h"
#include "learn/linalg.h"
#include "index_doubles.h"
#include "test.h"

/* A small indexed library in tmp/name; returns the db path (caller frees). */
static char *make_library(const char *name, char **root_out)
{
    char *d = tx_fresh_dir(name);
    char *root = tx_path(d, "photos");
    char *db = tx_path(d, "index.db");
    mkdir(root, 0755);
    tx_photo(root, "dog.jpg", "dog beach dog");
    tx_photo(root, "dog2.jpg", "dog park");
    tx_photo(root, "cat.jpg", "cat sofa");
    tx_photo(root, "kid.jpg", "boy beach ball");
    tx_photo(root, "sea.jpg", "beach sea");
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract};
    ps_index_summary s;
    ps_error err = {{0}};
    if (ps_index_run(&o, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    ps_index_summary_free(&s);
    /* kid.jpg has a caption the rule blocks. */
    ps_store *st = ps_store_open(db, PS_STORE_OPEN, 1000, &err);
    ps_store_put_caption(st, "kid.jpg#0", "kid.jpg", "a child with a ball", 1, "t.csv", &err);
    ps_store_refresh_restrictions(st, &err);
    ps_store_close(st);
    free(d);
    if (root_out)
        *root_out = root;
    else
        free(root);
    return db;
}

static const char *base(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path;
}

TEST(ranks_by_dot_product_best_first)
{
    char *db = make_library("rank", NULL);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    CHECK(e != NULL);
    ps_engine_info info;
    ps_engine_get_info(e, &info);
    CHECK_INT(info.photos, 5);
    CHECK_INT(info.dim, TX_DIM);
    CHECK_INT(info.computed, 5);
    CHECK(info.cache_saved);

    ps_results r;
    const char *q = "dog";
    CHECK_INT(ps_engine_search(e, q, strlen(q), 3, &r, &err), 0);
    CHECK(!r.blocked);
    CHECK_INT(r.n, 3);
    CHECK_INT(r.searched, 5);
    CHECK_STR(base(r.hits[0].path), "dog.jpg"); /* two "dog"s */
    CHECK_NEAR(r.hits[0].raw, 2.0, 1e-6);
    CHECK_NEAR(r.hits[0].score, 1.0, 1e-6); /* calibrated: raw / 2 */
    CHECK_STR(base(r.hits[1].path), "dog2.jpg");
    CHECK_NEAR(r.hits[2].raw, 0.0, 1e-6);
    CHECK(!r.hits[0].missing);
    ps_results_free(&r);

    /* A restricted photo keeps its rank but not its path. */
    q = "beach ball";
    CHECK_INT(ps_engine_search(e, q, strlen(q), 10, &r, &err), 0);
    CHECK_INT(r.n, 5);
    CHECK(r.hits[0].restricted);
    CHECK(r.hits[0].path == NULL);
    CHECK_NEAR(r.hits[0].raw, 2.0, 1e-6);
    ps_buf b = {0};
    ps_json j;
    ps_json_init(&j, &b, 0);
    ps_results_json(&j, q, strlen(q), &r);
    CHECK_CONTAINS(b.data, "{\"query\":\"beach ball\",\"blocked\":false,\"disclaimer\":null,\"results\":[{\"id\":");
    CHECK_CONTAINS(b.data, "\"path\":null,\"score\":1,\"restricted\":true,\"missing\":false,\"notice\":\"" PS_POLICY_MASK_TEXT "\"}");
    CHECK(strstr(b.data, "kid.jpg") == NULL);
    ps_buf_free(&b);

    /* Every hit can be looked up by its id: the same path and flag; the
     * restricted photo without its path; an unknown id is not found. */
    int64_t max_id = 0;
    for (size_t i = 0; i < r.n; i++) {
        const char *path = "unset";
        bool restricted = !r.hits[i].restricted;
        CHECK_INT(ps_engine_photo(e, r.hits[i].id, &path, &restricted), 0);
        CHECK(restricted == r.hits[i].restricted);
        CHECK(path == r.hits[i].path);
        if (!restricted)
            CHECK(path && strstr(path, "kid.jpg") == NULL);
        if (r.hits[i].id > max_id)
            max_id = r.hits[i].id;
    }
    const char *path;
    bool restricted;
    CHECK_INT(ps_engine_photo(e, max_id + 1, &path, &restricted), -1);
    CHECK_INT(ps_engine_photo(e, 0, &path, &restricted), -1);
    CHECK_INT(ps_engine_photo(e, -1, &path, &restricted), -1);
    ps_results_free(&r);

    /* Second open reads the cache. */
    ps_engine_close(e);
    e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_engine_get_info(e, &info);
    CHECK_INT(info.cached, 5);
    CHECK_INT(info.computed, 0);
    ps_engine_close(e);
    free(db);
}

TEST(blocked_query_gets_only_the_disclaimer)
{
    char *db = make_library("blocked", NULL);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_results r;
    const char *q = "two kids on a beach";
    CHECK_INT(ps_engine_search(e, q, strlen(q), 10, &r, &err), 0);
    CHECK(r.blocked);
    CHECK_INT(r.n, 0);
    CHECK_STR(r.policy.matched[0], "kids");
    ps_buf b = {0};
    ps_json j;
    ps_json_init(&j, &b, 0);
    ps_results_json(&j, q, strlen(q), &r);
    CHECK_STR(b.data, "{\"query\":\"two kids on a beach\",\"blocked\":true,\"disclaimer\":\"" PS_POLICY_DISCLAIMER
                      "\",\"results\":[]}");
    ps_buf_free(&b);
    ps_results_free(&r);
    ps_engine_close(e);
    free(db);
}

TEST(bad_queries_are_refused_with_a_reason)
{
    char *db = make_library("badq", NULL);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_results r;
    CHECK_INT(ps_engine_search(e, "", 0, 10, &r, &err), PS_SEARCH_BAD_QUERY);
    CHECK_CONTAINS(err.msg, "the query is empty");
    CHECK_INT(ps_engine_search(e, " \t\n", 3, 10, &r, &err), PS_SEARCH_BAD_QUERY);
    CHECK_CONTAINS(err.msg, "the query is empty");
    size_t big = 100 * 1024;
    char *q = malloc(big);
    memset(q, 'a', big);
    CHECK_INT(ps_engine_search(e, q, big, 10, &r, &err), PS_SEARCH_BAD_QUERY);
    CHECK_CONTAINS(err.msg, "the query is 102400 bytes long; the limit is 1000 bytes");
    free(q);
    CHECK_INT(ps_engine_search(e, "dog \xC3(", 6, 10, &r, &err), PS_SEARCH_BAD_QUERY);
    CHECK_CONTAINS(err.msg, "not valid UTF-8 (byte offset 4)");
    CHECK_INT(ps_engine_search(e, "dog\0cat", 7, 10, &r, &err), PS_SEARCH_BAD_QUERY);
    CHECK_CONTAINS(err.msg, "NUL byte (byte offset 3)");
    CHECK_INT(ps_engine_search(e, "1234 !!", 7, 10, &r, &err), PS_SEARCH_BAD_QUERY);
    CHECK_CONTAINS(err.msg, "no usable word");
    /* k is clamped. */
    CHECK_INT(ps_engine_search(e, "dog", 3, 0, &r, &err), 0);
    CHECK_INT(r.n, 1);
    ps_results_free(&r);
    CHECK_INT(ps_engine_search(e, "dog", 3, 1000000, &r, &err), 0);
    CHECK_INT(r.n, 5);
    ps_results_free(&r);
    ps_engine_close(e);
    free(db);
}

TEST(bad_databases_give_clear_errors)
{
    char *d = tx_fresh_dir("baddb");
    ps_error err = {{0}};
    char *missing = tx_path(d, "missing.db");
    CHECK(ps_engine_open(missing, &tx_scorer, &tx_rule, TX_OPTS(100), &err) == NULL);
    CHECK_CONTAINS(err.msg, "missing.db: no index database here; build one with 'picseek index DIR");
    free(missing);

    char *db = make_library("baddb_lib", NULL);
    /* Newer format. */
    sqlite3 *raw;
    sqlite3_open(db, &raw);
    sqlite3_exec(raw, "PRAGMA user_version=2", NULL, NULL, NULL);
    sqlite3_close(raw);
    CHECK(ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(100), &err) == NULL);
    CHECK_CONTAINS(err.msg, "created by a newer picseek");
    sqlite3_open(db, &raw);
    sqlite3_exec(raw, "PRAGMA user_version=1", NULL, NULL, NULL);
    sqlite3_close(raw);

    /* Locked by another program. */
    sqlite3_open(db, &raw);
    sqlite3_exec(raw, "PRAGMA locking_mode=EXCLUSIVE; BEGIN IMMEDIATE; DELETE FROM captions; COMMIT",
                 NULL, NULL, NULL);
    CHECK(ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(30), &err) == NULL);
    CHECK_CONTAINS(err.msg, "locked by another program");
    sqlite3_close(raw);

    /* Damaged pages: overwrite everything after the first page. */
    FILE *f = fopen(db, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 4096, SEEK_SET);
    for (long i = 4096; i < size; i++)
        fputc(0x5A, f);
    fclose(f);
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(100), &err);
    CHECK(e == NULL);
    CHECK(strstr(err.msg, "corrupt") || strstr(err.msg, "not a picseek database"));
    CHECK_CONTAINS(err.msg, "index.db: ");
    ps_engine_close(e);

    /* Not a database at all. */
    tx_write(d, "text.db", "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
                           "incididunt ut labore et dolore magna aliqua.");
    char *text = tx_path(d, "text.db");
    CHECK(ps_engine_open(text, &tx_scorer, &tx_rule, TX_OPTS(100), &err) == NULL);
    CHECK_CONTAINS(err.msg, "text.db: not a picseek database");
    free(text);

    CHECK(ps_engine_open(db, &tx_scorer, NULL, TX_OPTS(100), &err) == NULL);
    CHECK_CONTAINS(err.msg, "no content rule");
    free(db);
    free(d);
}

TEST(empty_index_answers_with_no_photos)
{
    char *d = tx_fresh_dir("empty_index");
    char *root = tx_path(d, "p");
    char *db = tx_path(d, "x.db");
    mkdir(root, 0755);
    tx_write(root, "notes.txt", "not a photo");
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract};
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    ps_index_summary_free(&s);
    for (int precision = 0; precision < 2; precision++) {
        ps_engine_opts eo;
        ps_engine_opts_default(&eo);
        eo.precision = precision;
        ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, &eo, &err);
        CHECK(e != NULL);
        ps_results r;
        CHECK_INT(ps_engine_search(e, "dog", 3, 10, &r, &err), 0);
        CHECK_INT(r.n, 0);
        CHECK_INT(r.searched, 0);
        ps_results_free(&r);
        ps_engine_close(e);
    }
    free(root);
    free(db);
    free(d);
}

TEST(moved_photos_are_reported_missing)
{
    char *root = NULL;
    char *db = make_library("moved", &root);
    char moved[2100];
    snprintf(moved, sizeof moved, "%s.moved", root);
    CHECK_INT(rename(root, moved), 0);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    CHECK(e != NULL);
    ps_results r;
    CHECK_INT(ps_engine_search(e, "dog", 3, 3, &r, &err), 0);
    CHECK_INT(r.n, 3);
    CHECK_INT(r.nmissing, 3);
    CHECK(r.hits[0].missing);
    ps_results_free(&r);
    ps_engine_close(e);
    free(root);
    free(db);
}

TEST(changed_photo_drops_its_cached_embedding)
{
    char *root = NULL;
    char *db = make_library("cache", &root);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_engine_close(e);
    tx_photo(root, "cat.jpg", "dog dog dog");
    tx_set_mtime(root, "cat.jpg", 1000000000);
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract};
    ps_index_summary s;
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    CHECK_INT(s.updated, 1);
    ps_index_summary_free(&s);
    e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_engine_info info;
    ps_engine_get_info(e, &info);
    CHECK_INT(info.cached, 4);
    CHECK_INT(info.computed, 1);
    ps_results r;
    CHECK_INT(ps_engine_search(e, "dog", 3, 1, &r, &err), 0);
    CHECK_STR(base(r.hits[0].path), "cat.jpg");
    ps_results_free(&r);
    ps_engine_close(e);

    /* Features an engine cannot use (another version, damaged) leave the
     * photo out, counted, instead of failing the whole search. */
    sqlite3 *raw;
    sqlite3_open(db, &raw);
    CHECK_INT(sqlite3_exec(raw,
                           "DELETE FROM embeddings; UPDATE features SET blob=X'50534631FFFF'"
                           " WHERE photo_id=(SELECT id FROM photos WHERE name='sea.jpg')",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(raw);
    e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    CHECK(e != NULL);
    ps_engine_get_info(e, &info);
    CHECK_INT(info.photos, 4);
    CHECK_INT(info.unusable, 1);
    ps_engine_close(e);
    free(root);
    free(db);
}

/* Deterministic pseudo-random numbers for the ranking checks. */
static float frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) % 2001) / 1000.0f - 1.0f;
}

/* Rank of each returned row among all rows (by exact scores), which must
 * be its position; with float16 rows, the exact score of every returned
 * row must be within tolerance of the k-th best exact score. */
TEST(topk_matches_a_full_sort)
{
    enum { ROWS = 1000, DIM = 37 };
    size_t stride = ps_rank_stride(DIM);
    CHECK_INT(stride, 40);
    float *m = aligned_alloc(32, ROWS * stride * sizeof(float));
    float *q = aligned_alloc(32, stride * sizeof(float));
    memset(m, 0, ROWS * stride * sizeof(float));
    memset(q, 0, stride * sizeof(float));
    unsigned seed = 7;
    for (size_t i = 0; i < ROWS; i++)
        for (size_t k = 0; k < DIM; k++)
            m[i * stride + k] = (i % 10 == 3) ? 0.5f : frand(&seed); /* many ties */
    for (size_t k = 0; k < DIM; k++)
        q[k] = frand(&seed);
    m[5 * stride] = NAN;
    float *score = malloc(ROWS * sizeof(float));
    for (size_t i = 0; i < ROWS; i++) {
        double s = 0;
        for (size_t k = 0; k < DIM; k++)
            s += (double)m[i * stride + k] * q[k];
        score[i] = isnan(s) ? -INFINITY : (float)s;
        if (i != 5)
            CHECK_NEAR(ps_dot_f32(m + i * stride, q, stride), s, 1e-4);
    }
    ps_rank_matrix mat = {.rows = ROWS, .stride = stride, .f32 = m};
    ps_ranked top[ROWS];
    size_t n = ps_rank_topk(&mat, 0, ROWS, q, 150, top);
    CHECK_INT(n, 150);
    for (size_t i = 0; i < n; i++) {
        /* Rank = number of rows strictly better (score, then lower row). */
        size_t better = 0;
        uint32_t r = top[i].row;
        for (size_t k = 0; k < ROWS; k++)
            if (score[k] > score[r] + 1e-5f || (fabsf(score[k] - score[r]) <= 1e-5f && k < r))
                better++;
        CHECK_INT(better, i);
    }
    CHECK_INT(ps_rank_topk(&mat, 0, 3, q, 10, top), 3);
    CHECK_INT(ps_rank_topk(&mat, 7, 7, q, 10, top), 0);
    CHECK_INT(ps_rank_topk(&mat, 0, ROWS, q, ROWS, top), ROWS);
    CHECK_INT(top[ROWS - 1].row, 5); /* NaN ranks last */

    /* Two halves merged give the same answer as one pass. */
    ps_ranked whole[20], parts[40];
    CHECK_INT(ps_rank_topk(&mat, 0, ROWS, q, 20, whole), 20);
    size_t a = ps_rank_topk(&mat, 0, 400, q, 20, parts);
    size_t b = ps_rank_topk(&mat, 400, ROWS, q, 20, parts + a);
    CHECK_INT(ps_rank_merge(parts, a + b, 20), 20);
    for (int i = 0; i < 20; i++)
        CHECK_INT(parts[i].row, whole[i].row);

    /* float16 rows: the same scores within the documented precision. */
    uint16_t *h = aligned_alloc(32, ROWS * stride * sizeof(uint16_t));
    float *sc = malloc(ROWS * sizeof(float));
    for (size_t i = 0; i < ROWS; i++)
        ps_rank_row_to_f16(m + i * stride, stride, h + i * stride, &sc[i]);
    for (size_t i = 0; i < ROWS; i++) {
        if (i == 5)
            continue;
        double bound = 0;
        for (size_t k = 0; k < DIM; k++)
            bound += fabs(q[k]) * sc[i];
        CHECK_NEAR(sc[i] * ps_rank_dot_f16(h + i * stride, q, stride), score[i], bound / 2048.0 + 1e-6);
    }
    ps_rank_matrix mat16 = {.rows = ROWS, .stride = stride, .f16 = h, .scale = sc};
    n = ps_rank_topk(&mat16, 0, ROWS, q, 10, top);
    CHECK_INT(n, 10);
    for (size_t i = 0; i < n; i++)
        CHECK(score[top[i].row] >= score[whole[9].row] - 0.01f);
    free(h);
    free(sc);
    free(score);
    free(m);
    free(q);
}

/* The engine in float16 and split over threads returns what the exact
 * single-threaded engine returns (the test data's scores are integers,
 * exact in float16). */
TEST(float16_and_threaded_engines_agree)
{
    char *root = NULL;
    char *db = make_library("precision", &root);
    for (int i = 0; i < 40; i++) {
        char name[32], words[64];
        snprintf(name, sizeof name, "extra/%02d.jpg", i);
        snprintf(words, sizeof words, "%s %s", i % 3 ? "dog" : "cat", i % 5 ? "park" : "sea");
        tx_photo(root, name, words);
    }
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract};
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    ps_index_summary_free(&s);
    ps_engine *exact = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_engine_opts eo;
    ps_engine_opts_default(&eo);
    eo.threads = 3;
    eo.split_values = 1; /* split even this small index */
    ps_engine *fast = ps_engine_open(db, &tx_scorer, &tx_rule, &eo, &err);
    CHECK(exact && fast);
    ps_engine_info info;
    ps_engine_get_info(fast, &info);
    CHECK_INT(info.precision, PS_ENGINE_F16);
    const char *queries[] = {"dog", "park sea", "cat dog park", "beach ball"};
    for (int qi = 0; qi < 4; qi++) {
        ps_results a, b;
        CHECK_INT(ps_engine_search(exact, queries[qi], strlen(queries[qi]), 12, &a, &err), 0);
        CHECK_INT(ps_engine_search(fast, queries[qi], strlen(queries[qi]), 12, &b, &err), 0);
        CHECK_INT(a.n, 12);
        CHECK_INT(b.n, a.n);
        for (size_t i = 0; i < a.n && i < b.n; i++) {
            CHECK_INT(b.hits[i].id, a.hits[i].id);
            CHECK_NEAR(b.hits[i].raw, a.hits[i].raw, 1e-3 * fabs(a.hits[i].raw) + 1e-6);
        }
        ps_results_free(&a);
        ps_results_free(&b);
    }
    ps_engine_close(exact);
    ps_engine_close(fast);
    free(root);
    free(db);
}

typedef struct search_thread {
    const ps_engine *e;
    int failures;
    char first[64];
} search_thread;

static void *search_many(void *p)
{
    search_thread *t = p;
    for (int i = 0; i < 200; i++) {
        ps_results r;
        ps_error err;
        if (ps_engine_search(t->e, "park", 4, 2, &r, &err) != 0 || r.n != 2) {
            t->failures++;
            continue;
        }
        snprintf(t->first, sizeof t->first, "%s", base(r.hits[0].path));
        ps_results_free(&r);
    }
    return NULL;
}

TEST(one_engine_serves_many_threads)
{
    char *db = make_library("threads", NULL);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    pthread_t th[4];
    search_thread t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (search_thread){.e = e};
        pthread_create(&th[i], NULL, search_many, &t[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(t[i].failures, 0);
        CHECK_STR(t[i].first, "dog2.jpg");
    }
    ps_engine_close(e);
    free(db);
}

typedef struct indexing_thread {
    ps_index_opts o;
    int rc;
    ps_error err;
} indexing_thread;

static void *index_in_background(void *p)
{
    indexing_thread *t = p;
    ps_index_summary s;
    t->rc = ps_index_run(&t->o, &s, &t->err);
    ps_index_summary_free(&s);
    return NULL;
}

TEST(search_works_while_indexing)
{
    char *root = NULL;
    char *db = make_library("concurrent", &root);
    for (int i = 0; i < 60; i++) {
        char name[32];
        snprintf(name, sizeof name, "more/%02d.jpg", i);
        tx_photo(root, name, i % 2 ? "dog tree" : "sea");
    }
    tx_ctx tx = {.delay_us = 3000};
    indexing_thread it = {.o = {.db_path = db, .root = root, .extract = tx_extract, .extract_ctx = &tx,
                                .busy_ms = 5000}};
    pthread_t th;
    pthread_create(&th, NULL, index_in_background, &it);
    size_t last = 0, opens = 0, errors = 0, shrank = 0;
    for (int i = 0; i < 40; i++) {
        ps_error err = {{0}};
        ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(5000), &err);
        if (!e) {
            fprintf(stderr, "open while indexing: %s\n", err.msg);
            errors++;
            continue;
        }
        opens++;
        ps_engine_info info;
        ps_engine_get_info(e, &info);
        if (info.photos < last)
            shrank++;
        last = info.photos;
        ps_results r;
        if (ps_engine_search(e, "dog", 3, 5, &r, &err) != 0)
            errors++;
        else
            ps_results_free(&r);
        ps_engine_close(e);
        usleep(2000);
    }
    pthread_join(th, NULL);
    CHECK_INT(it.rc, 0);
    CHECK_INT(errors, 0);
    CHECK_INT(shrank, 0);
    CHECK_INT(opens, 40);
    ps_error err = {{0}};
    ps_engine *e = ps_engine_open(db, &tx_scorer, &tx_rule, TX_OPTS(1000), &err);
    ps_engine_info info;
    ps_engine_get_info(e, &info);
    CHECK_INT(info.photos, 65);
    ps_engine_close(e);
    free(root);
    free(db);
}

int main(void)
{
    RUN(ranks_by_dot_product_best_first);
    RUN(blocked_query_gets_only_the_disclaimer);
    RUN(bad_queries_are_refused_with_a_reason);
    RUN(bad_databases_give_clear_errors);
    RUN(empty_index_answers_with_no_photos);
    RUN(moved_photos_are_reported_missing);
    RUN(changed_photo_drops_its_cached_embedding);
    RUN(topk_matches_a_full_sort);
    RUN(float16_and_threaded_engines_agree);
    RUN(one_engine_serves_many_threads);
    RUN(search_works_while_indexing);
    return test_summary();
}
