/* Tests for label aggregation (src/data/labels.h). */
#include "test.h"

#include "data/dataset.h"
#include "data/labels.h"
#include "policy/policy.h"

static double agg(int a, int b, int c, ps_expert_mode m, int *rc)
{
    int s[3] = {a, b, c};
    double v = -1;
    *rc = ps_expert_aggregate(s, m, &v);
    return v;
}

TEST(aggregate_majority)
{
    int rc;
    CHECK_NEAR(agg(1, 1, 2, PS_EXPERT_MAJORITY, &rc), 0.0, 1e-12);
    CHECK_INT(rc, 0);
    CHECK_NEAR(agg(4, 3, 4, PS_EXPERT_MAJORITY, &rc), 1.0, 1e-12);
    CHECK_INT(rc, 0);
    CHECK_NEAR(agg(3, 2, 2, PS_EXPERT_MAJORITY, &rc), 1.0 / 3.0, 1e-12);
    CHECK_INT(rc, 0);
    CHECK_NEAR(agg(3, 3, 3, PS_EXPERT_MAJORITY, &rc), 2.0 / 3.0, 1e-12);
    CHECK_INT(rc, 0);
    /* three different scores: no majority */
    agg(1, 2, 3, PS_EXPERT_MAJORITY, &rc);
    CHECK_INT(rc, -1);
    agg(4, 1, 2, PS_EXPERT_MAJORITY, &rc);
    CHECK_INT(rc, -1);
    /* out-of-range scores are refused in every mode */
    agg(1, 1, 5, PS_EXPERT_MAJORITY, &rc);
    CHECK_INT(rc, -1);
    agg(0, 1, 1, PS_EXPERT_MEAN, &rc);
    CHECK_INT(rc, -1);
}

TEST(aggregate_mean_median)
{
    int rc;
    CHECK_NEAR(agg(1, 2, 4, PS_EXPERT_MEAN, &rc), (7.0 / 3.0 - 1.0) / 3.0, 1e-12);
    CHECK_INT(rc, 0);
    CHECK_NEAR(agg(1, 2, 4, PS_EXPERT_MEDIAN, &rc), 1.0 / 3.0, 1e-12);
    CHECK_NEAR(agg(4, 1, 3, PS_EXPERT_MEDIAN, &rc), 2.0 / 3.0, 1e-12);
    CHECK_NEAR(agg(2, 4, 4, PS_EXPERT_MEDIAN, &rc), 1.0, 1e-12);
    CHECK_NEAR(agg(3, 1, 1, PS_EXPERT_MEDIAN, &rc), 0.0, 1e-12);
    CHECK_INT(rc, 0);
    ps_expert_mode m;
    CHECK_INT(ps_expert_mode_parse("median", &m), 0);
    CHECK_INT(m, PS_EXPERT_MEDIAN);
    CHECK_INT(ps_expert_mode_parse("mode", &m), -1);
    CHECK_STR(ps_expert_mode_name(PS_EXPERT_MEAN), "mean");
}

/* An in-memory dataset: the labels code reads only the row arrays. */
static ps_train_row TRAIN[] = {
    {"a.jpg", "b.jpg#0", "A dog runs .", 2},
    {"a.jpg", "c.jpg#1", "A boy smiles .", 3},
    {"b.jpg", "b.jpg#0", "A dog runs .", 4},
    {"c.jpg", "c.jpg#1", "A boy smiles .", 5},
};
static ps_expert_row EXPERT[] = {
    {"a.jpg", "b.jpg#0", {1, 1, 2}, 1},  /* 0     crowd 0.25  */
    {"a.jpg", "c.jpg#1", {4, 4, 3}, 2},  /* 1     no crowd    */
    {"b.jpg", "b.jpg#0", {1, 2, 3}, 3},  /* no majority: dropped (has crowd) */
    {"c.jpg", "c.jpg#1", {3, 3, 3}, 4},  /* 2/3   crowd 1     */
    {"d.jpg", "b.jpg#0", {2, 2, 1}, 5},  /* 1/3   no text, no crowd */
};
static ps_crowd_row CROWD[] = {
    {"a.jpg", "b.jpg#0", 0.25, 1, 3, 1},
    {"b.jpg", "b.jpg#0", 0.5, 1, 1, 2},
    {"c.jpg", "c.jpg#1", 1.0, 3, 0, 3},
    {"z.jpg", "c.jpg#1", 0.0, 0, 3, 4},   /* no expert row */
};

static ps_dataset small_dataset(void)
{
    ps_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.dir = "mem";
    ds.train = TRAIN;
    ds.ntrain = 4;
    ds.expert = EXPERT;
    ds.nexpert = 5;
    ds.crowd = CROWD;
    ds.ncrowd = 4;
    return ds;
}

TEST(build_defaults)
{
    ps_dataset ds = small_dataset();
    ps_labels L;
    ps_error e;
    CHECK_INT(ps_labels_build(&ds, NULL, NULL, &L, &e), 0);
    CHECK_INT(L.n, 4);
    const ps_label_stats *st = &L.stats;
    CHECK_INT(st->expert_rows, 5);
    CHECK_INT(st->expert_no_majority, 1);
    CHECK_INT(st->expert_kept, 4);
    CHECK_INT(st->crowd_rows, 4);
    CHECK_INT(st->expert_with_crowd, 2);
    CHECK_INT(st->expert_all_with_crowd, 3);
    CHECK_INT(st->rows_without_text, 1);
    CHECK_INT(st->train_rows, 4);
    CHECK_INT(st->train_captions, 2);
    CHECK(!st->classified);
    CHECK_INT(st->train_captions_blocked, 0);

    /* row 0: majority 1 -> 0; crowd 0.25; target 0.6*0 + 0.4*0.25 */
    CHECK_STR(L.rows[0].image, "a.jpg");
    CHECK_STR(L.rows[0].caption_id, "b.jpg#0");
    CHECK_STR(L.rows[0].query_text, "A dog runs .");
    CHECK_INT(L.rows[0].expert[2], 2);
    CHECK_NEAR(L.rows[0].expert_score, 0.0, 1e-12);
    CHECK(L.rows[0].has_crowd);
    CHECK_NEAR(L.rows[0].crowd_ratio, 0.25, 1e-12);
    CHECK_NEAR(L.rows[0].target, 0.1, 1e-12);
    /* row 1: 4 -> 1; no crowd row: 0 */
    CHECK_NEAR(L.rows[1].expert_score, 1.0, 1e-12);
    CHECK(!L.rows[1].has_crowd);
    CHECK_NEAR(L.rows[1].crowd_ratio, 0.0, 1e-12);
    CHECK_NEAR(L.rows[1].target, 0.6, 1e-12);
    /* row 2 is c.jpg (b.jpg's row had no majority) */
    CHECK_STR(L.rows[2].image, "c.jpg");
    CHECK_NEAR(L.rows[2].expert_score, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(L.rows[2].target, 0.6 * 2.0 / 3.0 + 0.4, 1e-12);
    /* row 3: no text in train_dataset.csv */
    CHECK(L.rows[3].query_text == NULL);
    CHECK_NEAR(L.rows[3].target, 0.6 / 3.0, 1e-12);
    CHECK(!L.rows[3].blocked);

    double t[4] = {0.1, 0.6, 0.8, 0.2}, mean = 0, var = 0;
    for (int i = 0; i < 4; i++)
        mean += t[i] / 4;
    for (int i = 0; i < 4; i++)
        var += (t[i] - mean) * (t[i] - mean) / 4;
    CHECK_NEAR(st->target_mean, mean, 1e-12);
    CHECK_NEAR(st->target_std, sqrt(var), 1e-12);
    ps_labels_free(&L);
}

TEST(build_options)
{
    ps_dataset ds = small_dataset();
    ps_labels L;
    ps_error e;
    ps_label_opts o;
    ps_label_opts_default(&o);
    CHECK_INT(o.expert_mode, PS_EXPERT_MAJORITY);
    CHECK_NEAR(o.w_expert, 0.6, 0);
    CHECK_NEAR(o.crowd_missing, 0, 0);

    /* expert only */
    o.w_expert = 1;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), 0);
    for (size_t i = 0; i < L.n; i++)
        CHECK_NEAR(L.rows[i].target, L.rows[i].expert_score, 1e-12);
    ps_labels_free(&L);

    /* crowd only, with a missing crowd value of 0.5 */
    o.w_expert = 0;
    o.crowd_missing = 0.5;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), 0);
    CHECK_NEAR(L.rows[0].target, 0.25, 1e-12);
    CHECK_NEAR(L.rows[1].target, 0.5, 1e-12);
    CHECK(!L.rows[1].has_crowd);
    ps_labels_free(&L);

    /* median keeps the no-majority pair: (1,2,3) -> 2 -> 1/3 */
    ps_label_opts_default(&o);
    o.expert_mode = PS_EXPERT_MEDIAN;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), 0);
    CHECK_INT(L.n, 5);
    CHECK_INT(L.stats.expert_no_majority, 0);
    CHECK_INT(L.stats.expert_with_crowd, 3);
    CHECK_NEAR(L.rows[2].expert_score, 1.0 / 3.0, 1e-12);
    CHECK_NEAR(L.rows[2].target, 0.6 / 3.0 + 0.4 * 0.5, 1e-12);
    ps_labels_free(&L);

    o.expert_mode = PS_EXPERT_MEAN;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), 0);
    CHECK_NEAR(L.rows[0].expert_score, (4.0 / 3.0 - 1) / 3, 1e-12);
    ps_labels_free(&L);

    ps_label_opts_default(&o);
    o.w_expert = 1.5;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), -1);
    CHECK_STR(e.msg, "the expert weight must be between 0 and 1, not 1.5");
    o.w_expert = NAN;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), -1);
    ps_label_opts_default(&o);
    o.crowd_missing = -0.1;
    CHECK_INT(ps_labels_build(&ds, &o, NULL, &L, &e), -1);
    CHECK_STR(e.msg, "the value for a missing crowd ratio must be between 0 and 1, not -0.1");
}

TEST(build_with_policy)
{
    static const char LEX[] = "# test lexicon\nboy\n";
    const char *lex = test_write_tmp("lexicon.txt", LEX, sizeof LEX - 1);
    ps_error e;
    ps_policy *p = ps_policy_load(lex, &e);
    if (!p) {
        fprintf(stderr, "policy: %s\n", e.msg);
        SKIP("the content rule cannot load (WordNet missing?)");
    }
    ps_dataset ds = small_dataset();
    ps_labels L;
    CHECK_INT(ps_labels_build(&ds, NULL, p, &L, &e), 0);
    const ps_label_stats *st = &L.stats;
    CHECK(st->classified);
    CHECK_INT(st->train_captions, 2);
    CHECK_INT(st->train_captions_blocked, 1);      /* "A boy smiles ." */
    CHECK(!L.rows[0].blocked);                      /* "A dog runs ." */
    CHECK(L.rows[1].blocked);
    CHECK(L.rows[2].blocked);
    CHECK(!L.rows[3].blocked);                      /* no text: not classified */
    CHECK_INT(st->pairs_blocked, 2);
    CHECK_INT(st->train_pairs_allowed, 1);          /* row 0 only: row 3 has no text */
    ps_labels_free(&L);
    ps_policy_free(p);
}

TEST(real_dataset)
{
    const char *shared = test_shared_dir();
    if (!shared)
        SKIP("PICSEEK_SHARED not set");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/dataset", shared);
    ps_dataset ds;
    ps_dataset_opts o;
    ps_dataset_opts_default(&o);
    o.photos = false;
    ps_error e;
    int rc = ps_dataset_load(&ds, dir, &o, &e);
    if (rc != 0 && strstr(e.msg, "No such file"))
        SKIP("the dataset is not in PICSEEK_SHARED");
    CHECK_INT(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "%s\n", e.msg);
        return;
    }
    ps_labels L;
    CHECK_INT(ps_labels_build(&ds, NULL, NULL, &L, &e), 0);
    const ps_label_stats *st = &L.stats;
    /* the numbers the proof of concept reported (and the dataset README) */
    CHECK_INT(st->expert_rows, 5822);
    CHECK_INT(st->expert_no_majority, 126);
    CHECK_INT(st->expert_kept, 5696);
    CHECK_INT(st->crowd_rows, 47830);
    CHECK_INT(st->expert_with_crowd, 2258);
    CHECK_INT(st->train_rows, 5822);
    CHECK_INT(st->train_captions, 977);
    CHECK_INT(st->rows_without_text, 0);
    for (size_t i = 0; i < L.n; i++) {
        CHECK(L.rows[i].target >= 0 && L.rows[i].target <= 1);
        CHECK(L.rows[i].query_text != NULL);
    }
    ps_labels_free(&L);

    /* with the content rule: blocked + allowed cover the kept pairs */
    ps_policy *p = ps_policy_load(NULL, &e);
    if (p) {
        CHECK_INT(ps_labels_build(&ds, NULL, p, &L, &e), 0);
        st = &L.stats;
        CHECK(st->train_captions_blocked > 0);
        CHECK(st->train_captions_blocked < st->train_captions);
        CHECK_INT(st->train_pairs_allowed + st->pairs_blocked, 5696);
        ps_labels_free(&L);
        ps_policy_free(p);
    } else {
        fprintf(stderr, "policy not checked: %s\n", e.msg);
    }
    ps_dataset_free(&ds);
}

int main(void)
{
    RUN(aggregate_majority);
    RUN(aggregate_mean_median);
    RUN(build_defaults);
    RUN(build_options);
    RUN(build_with_policy);
    RUN(real_dataset);
    return test_summary();
}
