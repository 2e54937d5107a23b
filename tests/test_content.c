/* Tests for the content classifier (src/score/content.h) on a synthetic
 * set of photos whose label depends on their features. */
#include "test.h"

#include "learn/rng.h"
#include "score/content.h"

/* n photos (the last n_test are "test" photos); a photo is positive when
 * a noisy linear signal in its first MobileNetV2 features is high;
 * every 10th photo has no caption (label -1). */
static void make_set(ps_relset *s, size_t n, size_t n_test, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    ps_rng r;
    ps_rng_seed(&r, seed);
    s->n_photos = n;
    s->n_train_photos = n - n_test;
    s->features = calloc(n, sizeof *s->features);
    s->child = calloc(n, 1);
    for (size_t i = 0; i < n; i++) {
        ps_features *f = &s->features[i];
        for (int j = 0; j < PS_MNV2_FEATURE_DIM; j++)
            f->mnv2[j] = (float)ps_rng_normal(&r);
        double signal = f->mnv2[0] + 0.5 * f->mnv2[1] + 0.3 * ps_rng_normal(&r);
        s->child[i] = i % 10 == 9 ? -1 : signal > 0.7;
    }
}

static void free_set(ps_relset *s)
{
    free(s->features);
    free(s->child);
}

static ps_content_opts opts(void)
{
    ps_content_opts o;
    ps_content_opts_default(&o);
    o.photo_mask = PS_PF_MNV2;
    return o;
}

TEST(threshold_reaches_the_target_recall)
{
    ps_relset s;
    make_set(&s, 400, 100, 1);
    ps_content_opts o = opts();
    ps_content_model m;
    ps_content_report rep;
    ps_error err;
    CHECK_INT(ps_content_train(&s, &o, &m, &rep, &err), 0);
    /* Labelled photos only: 9 of every 10. */
    CHECK_INT(rep.n_train, 270);
    CHECK_INT(rep.n_heldout, 90);
    size_t pos = 0;
    for (size_t i = 0; i < 300; i++)
        pos += s.child[i] == 1;
    CHECK_INT(rep.n_train_pos, pos);
    CHECK(rep.oof_recall >= 0.95);
    CHECK(rep.recall >= 0.8);
    CHECK(rep.precision > 0.3);
    CHECK_INT(rep.tp + rep.fp + rep.fn + rep.tn, 90);
    /* The report agrees with classifying the held-out photos one by one. */
    size_t tp = 0, fp = 0;
    for (size_t i = 300; i < 400; i++) {
        if (s.child[i] < 0)
            continue;
        float score;
        int flag = ps_content_classify(&m, &s.features[i], &score);
        CHECK_INT(flag, score >= m.threshold);
        tp += flag && s.child[i] == 1;
        fp += flag && s.child[i] == 0;
    }
    CHECK_INT(tp, rep.tp);
    CHECK_INT(fp, rep.fp);
    ps_content_free(&m);
    free_set(&s);
}

TEST(higher_target_recall_lowers_the_threshold)
{
    ps_relset s;
    make_set(&s, 300, 60, 2);
    ps_content_opts o = opts();
    ps_content_model lo, hi;
    ps_content_report rlo, rhi;
    ps_error err;
    o.target_recall = 0.7;
    CHECK_INT(ps_content_train(&s, &o, &lo, &rlo, &err), 0);
    o.target_recall = 1.0;
    CHECK_INT(ps_content_train(&s, &o, &hi, &rhi, &err), 0);
    CHECK(hi.threshold <= lo.threshold);
    CHECK(rhi.oof_recall >= rlo.oof_recall);
    CHECK_NEAR(rhi.oof_recall, 1.0, 1e-12);
    ps_content_free(&lo);
    ps_content_free(&hi);
    free_set(&s);
}

TEST(model_file_round_trip)
{
    ps_relset s;
    make_set(&s, 200, 40, 3);
    ps_content_opts o = opts();
    o.ridge_alpha = 1.0;
    ps_content_model m, back;
    ps_error err;
    CHECK_INT(ps_content_train(&s, &o, &m, NULL, &err), 0);
    ps_modelfile f;
    ps_modelfile_init(&f, "test");
    ps_content_put(&m, &f, "content.");
    CHECK_INT(ps_content_get(&back, &f, "content.", &err), 0);
    CHECK_NEAR(back.threshold, m.threshold, 0);
    for (size_t i = 0; i < 200; i += 17)
        CHECK_NEAR(ps_content_score(&back, &s.features[i]), ps_content_score(&m, &s.features[i]),
                   0);
    ps_content_free(&back);
    CHECK_INT(ps_content_get(&back, &f, "other.", &err), -1);
    ps_modelfile_free(&f);
    ps_content_free(&m);
    free_set(&s);
}

TEST(mlp_classifier_and_bad_options)
{
    ps_relset s;
    make_set(&s, 240, 40, 4);
    ps_content_opts o = opts();
    o.kind = PS_CONTENT_MLP;
    o.mlp.max_epochs = 20;
    ps_content_model m;
    ps_content_report rep;
    ps_error err;
    CHECK_INT(ps_content_train(&s, &o, &m, &rep, &err), 0);
    CHECK(rep.oof_recall >= 0.95);
    CHECK(m.threshold > 0 && m.threshold < 1); /* sigmoid output */
    ps_content_free(&m);
    o = opts();
    o.photo_mask = PS_PF_ZS;
    CHECK_INT(ps_content_train(&s, &o, &m, NULL, &err), -1);
    CHECK_CONTAINS(err.msg, "pixel features");
    o = opts();
    o.target_recall = 1.5;
    CHECK_INT(ps_content_train(&s, &o, &m, NULL, &err), -1);
    free_set(&s);
}

int main(void)
{
    RUN(threshold_reaches_the_target_recall);
    RUN(higher_target_recall_lowers_the_threshold);
    RUN(model_file_round_trip);
    RUN(mlp_classifier_and_bad_options);
    return test_summary();
}
