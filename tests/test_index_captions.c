/* Tests for caption import (src/index/captions.c): both dataset layouts,
 * restriction of indexed and later-indexed photos, errors that change
 * nothing, and the real test_queries.csv with the real content rule. */
#include "index/captions.h"
#include "index/indexer.h"
#include "index/store.h"
#include "index_doubles.h"
#include "policy/policy.h"
#include "test.h"

static ps_store_stats stats_of(const char *db)
{
    ps_store_stats s = {0};
    ps_error err;
    ps_store *st = ps_store_open(db, PS_STORE_OPEN, 1000, &err);
    if (st)
        ps_store_get_stats(st, &s, &err);
    ps_store_close(st);
    return s;
}

static void index_dir(const char *root, const char *db)
{
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract};
    ps_index_summary s;
    ps_error err;
    if (ps_index_run(&o, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    ps_index_summary_free(&s);
}

TEST(train_layout_restricts_the_described_photo)
{
    char *d = tx_fresh_dir("captions_train");
    char *root = tx_path(d, "p");
    char *db = tx_path(d, "x.db");
    mkdir(root, 0755);
    tx_photo(root, "a.jpg", "one");
    tx_photo(root, "b.jpg", "two");
    tx_photo(root, "c.jpg", "three");
    tx_photo(root, "copy/a.jpg", "one again");
    index_dir(root, db);
    /* The a.jpg caption is paired with b.jpg and c.jpg too: only a.jpg,
     * the photo the caption id names, is restricted (in every folder). */
    tx_write(d, "train.csv",
             "image,query_id,query_text\n"
             "a.jpg,a.jpg#0,A child plays .\n"
             "b.jpg,a.jpg#0,A child plays .\n"
             "c.jpg,a.jpg#0,A child plays .\n"
             "b.jpg,b.jpg#2,\"A dog, running\"\n"
             "a.jpg,b.jpg#2,\"A dog, running\"\n"
             "c.jpg,c.jpg#1,\"Two kids and a \"\"ball\"\"\"\n");
    char *csv = tx_path(d, "train.csv");
    ps_captions_summary sum;
    ps_error err = {{0}};
    CHECK_INT(ps_captions_import(db, csv, &tx_rule, 1000, &sum, &err), 0);
    CHECK_STR(sum.format, "train_dataset.csv");
    CHECK_INT(sum.rows, 6);
    CHECK_INT(sum.captions, 3);
    CHECK_INT(sum.blocked, 2);
    CHECK_INT(sum.restricted, 3); /* a.jpg, copy/a.jpg, c.jpg */
    ps_store_stats st = stats_of(db);
    CHECK_INT(st.restricted, 3);
    CHECK_INT(st.captions, 3);

    /* Importing again changes nothing; a new photo named c.jpg elsewhere
     * is restricted as it is indexed. */
    CHECK_INT(ps_captions_import(db, csv, &tx_rule, 1000, &sum, &err), 0);
    CHECK_INT(sum.captions, 3);
    tx_photo(root, "new/c.jpg", "fresh");
    index_dir(root, db);
    CHECK_INT(stats_of(db).restricted, 4);
    free(csv);
    free(root);
    free(db);
    free(d);
}

TEST(test_layout_and_captions_before_indexing)
{
    char *d = tx_fresh_dir("captions_test");
    char *root = tx_path(d, "p");
    char *db = tx_path(d, "x.db");
    mkdir(root, 0755);
    tx_write(d, "q.csv",
             "|query_id|query_text|image\n"
             "0|x.jpg#0|A kid on a bike|x.jpg\n"
             "1|x.jpg#1|Someone on a bike|x.jpg\n"
             "2|y.jpg#0|A red car|y.jpg\n");
    char *csv = tx_path(d, "q.csv");
    ps_captions_summary sum;
    ps_error err = {{0}};
    CHECK_INT(ps_captions_import(db, csv, &tx_rule, 1000, &sum, &err), 0); /* creates the db */
    CHECK_STR(sum.format, "test_queries.csv");
    CHECK_INT(sum.captions, 3);
    CHECK_INT(sum.blocked, 1);
    CHECK_INT(sum.restricted, 0);
    tx_photo(root, "x.jpg", "bike");
    tx_photo(root, "y.jpg", "car");
    index_dir(root, db);
    CHECK_INT(stats_of(db).restricted, 1);
    free(csv);
    free(root);
    free(db);
    free(d);
}

TEST(bad_caption_files_change_nothing)
{
    char *d = tx_fresh_dir("captions_bad");
    char *db = tx_path(d, "x.db");
    tx_write(d, "good.csv", "image,query_id,query_text\na.jpg,a.jpg#0,A kid\n");
    char *good = tx_path(d, "good.csv");
    ps_captions_summary sum;
    ps_error err = {{0}};
    CHECK_INT(ps_captions_import(db, good, &tx_rule, 1000, &sum, &err), 0);

    tx_write(d, "header.csv", "photo,caption\na.jpg,b\n");
    char *p = tx_path(d, "header.csv");
    CHECK_INT(ps_captions_import(db, p, &tx_rule, 1000, &sum, &err), -1);
    CHECK_CONTAINS(err.msg, "header.csv");
    CHECK_CONTAINS(err.msg, "image,query_id,query_text");
    free(p);

    tx_write(d, "badid.csv", "image,query_id,query_text\nb.jpg,b.jpg#1,A kid\nb.jpg,nohash,A dog\n");
    p = tx_path(d, "badid.csv");
    CHECK_INT(ps_captions_import(db, p, &tx_rule, 1000, &sum, &err), -1);
    CHECK_CONTAINS(err.msg, "badid.csv:3: column 2: 'nohash' is not a caption id");
    free(p);

    tx_write(d, "quote.csv", "image,query_id,query_text\nc.jpg,c.jpg#0,\"A kid\n");
    p = tx_path(d, "quote.csv");
    CHECK_INT(ps_captions_import(db, p, &tx_rule, 1000, &sum, &err), -1);
    CHECK_CONTAINS(err.msg, "quote.csv:2");
    free(p);

    tx_write(d, "fields.csv", "image,query_id,query_text\nc.jpg,c.jpg#0\n");
    p = tx_path(d, "fields.csv");
    CHECK_INT(ps_captions_import(db, p, &tx_rule, 1000, &sum, &err), -1);
    CHECK_CONTAINS(err.msg, "fields.csv:2");
    free(p);

    tx_write(d, "empty.csv", "");
    p = tx_path(d, "empty.csv");
    CHECK_INT(ps_captions_import(db, p, &tx_rule, 1000, &sum, &err), -1);
    CHECK_CONTAINS(err.msg, "empty.csv");
    free(p);

    p = tx_path(d, "missing.csv");
    CHECK_INT(ps_captions_import(db, p, &tx_rule, 1000, &sum, &err), -1);
    CHECK_CONTAINS(err.msg, "missing.csv: cannot open");
    free(p);

    ps_store_stats st = stats_of(db);
    CHECK_INT(st.captions, 1); /* only good.csv's */
    free(good);
    free(db);
    free(d);
}

static int real_rule(const void *ctx, const char *t, size_t n, ps_policy_result *out, ps_error *err)
{
    return ps_policy_check(ctx, t, n, out, err);
}

TEST(real_test_queries_with_the_real_rule)
{
    const char *shared = test_shared_dir();
    char csv[1024];
    snprintf(csv, sizeof csv, "%s/dataset/test_queries.csv", shared ? shared : "");
    if (!shared || access(csv, R_OK) != 0)
        SKIP("dataset not available");
    ps_error err = {{0}};
    ps_policy *pol = ps_policy_load(NULL, &err);
    if (!pol)
        SKIP("content rule not loadable (WordNet?)");
    ps_rule rule = {real_rule, pol};
    char *d = tx_fresh_dir("captions_real");
    char *db = tx_path(d, "x.db");
    ps_captions_summary sum;
    CHECK_INT(ps_captions_import(db, csv, &rule, 1000, &sum, &err), 0);
    CHECK_INT(sum.rows, 500);
    CHECK_INT(sum.captions, 500);
    CHECK(sum.blocked > 0 && sum.blocked < 500);
    /* "Two blonde boys , one in a camouflage shirt ..." */
    ps_policy_result pr;
    const char *t = "Two blonde boys , one in a camouflage shirt , and the other in blue , are having a water fight .";
    CHECK_INT(ps_policy_check(pol, t, strlen(t), &pr, &err), 0);
    CHECK(pr.blocked);
    ps_policy_free(pol);
    free(db);
    free(d);
}

int main(void)
{
    RUN(train_layout_restricts_the_described_photo);
    RUN(test_layout_and_captions_before_indexing);
    RUN(bad_caption_files_change_nothing);
    RUN(real_test_queries_with_the_real_rule);
    return test_summary();
}
