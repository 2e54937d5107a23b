/* Tests of the learned relevance model on the real dataset
 * (src/score/relset.h, relmodel.h, releval.h, learned.h, content.h).
 *
 * They need ../shared (dataset, models), WordNet, the GloVe vectors and the
 * photo features in the feature cache ($PICSEEK_FEATURES, filled by
 * `picseek train` or `picseek eval model`); without them they skip.  To
 * stay quick under the sanitizers they train for a few epochs on a small
 * PCA of the photo features; the full evaluation is `picseek eval model`. */
#include "test.h"

#include "core/file.h"
#include "learn/modelfile.h"
#include "score/learned.h"
#include "score/releval.h"

static ps_relset S;
static int have_set;
static const char *why_not = "";
static ps_error set_err;

static ps_learned_opts quick_opts(uint64_t seed)
{
    ps_learned_opts o;
    ps_learned_opts_default(&o);
    o.model.seed = seed;
    o.model.photo_pca = 24;
    o.model.bilinear.max_epochs = 2;
    o.model.bilinear.rank = 8;
    o.model.ensemble = 2;
    o.content.seed = seed;
    o.content.ridge_alpha = 10.0; /* no cross-validation of alpha: quick */
    o.content.max_train = 300;
    return o;
}

static char *tmp_path(const char *name)
{
    const char *t = getenv("PICSEEK_TEST_TMP");
    return ps_path_join(t && *t ? t : "/tmp", name);
}

TEST(dataset_assembly)
{
    if (!have_set)
        SKIP(why_not);
    /* Facts of the dataset (README, `picseek dataset stats`): 5,696 expert
     * pairs are kept; 500 test queries; 100 test photos, 1,000 train. */
    CHECK_INT(S.n_expert_pairs + S.pairs_blocked, 5696);
    CHECK_INT(S.n_queries + S.test_queries_blocked, 500);
    CHECK_INT(S.n_photos - S.n_train_photos, 100);
    CHECK_INT(S.n_train_photos, 1000);
    CHECK(S.n_pairs > S.n_expert_pairs);
    for (size_t k = 0; k < S.n_pairs; k++) {
        CHECK(S.y[k] >= 0 && S.y[k] <= 1);
        CHECK(S.photo_idx[k] < S.n_train_photos);
        CHECK(S.text_idx[k] < S.n_train_texts);
        if (S.y[k] < 0 || S.y[k] > 1 || S.photo_idx[k] >= S.n_train_photos)
            break;
    }
    for (size_t i = 0; i < S.n_queries; i++) {
        CHECK(S.query_photo[i] >= S.n_train_photos && S.query_photo[i] < S.n_photos);
        CHECK(S.query_text[i] >= S.n_train_texts);
    }
    /* Every test photo has five captions, so a label. */
    for (size_t i = S.n_train_photos; i < S.n_photos; i++)
        CHECK(S.child[i] == 0 || S.child[i] == 1);
}

TEST(training_is_deterministic)
{
    if (!have_set)
        SKIP(why_not);
    ps_learned_opts o = quick_opts(7);
    ps_learned_model a, b, c;
    ps_error err;
    CHECK_INT(ps_learned_train(&S, &o, &a, NULL, &err), 0);
    CHECK_INT(ps_learned_train(&S, &o, &b, NULL, &err), 0);
    o = quick_opts(8);
    CHECK_INT(ps_learned_train(&S, &o, &c, NULL, &err), 0);
    ps_buf ba = {0}, bb = {0}, bc = {0};
    ps_learned_serialize(&a, &ba);
    ps_learned_serialize(&b, &bb);
    ps_learned_serialize(&c, &bc);
    CHECK(ba.len == bb.len && memcmp(ba.data, bb.data, ba.len) == 0);
    CHECK(ba.len != bc.len || memcmp(ba.data, bc.data, ba.len) != 0);
    ps_buf_free(&ba);
    ps_buf_free(&bb);
    ps_buf_free(&bc);
    ps_learned_free(&a);
    ps_learned_free(&b);
    ps_learned_free(&c);
}

/* A model file, corrupted in several ways. */
TEST(model_file_checks)
{
    if (!have_set)
        SKIP(why_not);
    ps_learned_opts o = quick_opts(3);
    ps_learned_model m, back;
    ps_error err;
    CHECK_INT(ps_learned_train(&S, &o, &m, NULL, &err), 0);
    ps_buf img = {0}, again = {0};
    ps_learned_serialize(&m, &img);
    CHECK_INT(ps_learned_parse(img.data, img.len, "m.psm", &back, &err), 0);
    ps_learned_serialize(&back, &again);
    CHECK(img.len == again.len && memcmp(img.data, again.data, img.len) == 0);
    CHECK_INT(back.pca.k, 24);
    ps_learned_free(&back);

    img.data[img.len / 3] ^= 0x40;
    CHECK_INT(ps_learned_parse(img.data, img.len, "m.psm", &back, &err), -1);
    CHECK_CONTAINS(err.msg, "m.psm: byte offset");
    CHECK_CONTAINS(err.msg, "checksum mismatch");
    img.data[img.len / 3] ^= 0x40;
    CHECK_INT(ps_learned_parse(img.data, img.len / 2, "m.psm", &back, &err), -1);
    CHECK_CONTAINS(err.msg, "truncated");
    CHECK_INT(ps_learned_parse("hello", 5, "m.psm", &back, &err), -1);
    CHECK_CONTAINS(err.msg, "not a picseek model file");

    /* Another kind of model file. */
    ps_buf other = {0};
    ps_modelfile f;
    ps_modelfile_init(&f, "bilinear");
    ps_bilinear_put(&m.rel[0], &f, "");
    ps_modelfile_serialize(&f, &other);
    ps_modelfile_free(&f);
    CHECK_INT(ps_learned_parse(other.data, other.len, "b.psm", &back, &err), -1);
    CHECK_CONTAINS(err.msg, "expected a 'picseek-model' model");
    ps_buf_free(&other);

    /* A well-formed file of a future format: every array copied, "format"
     * replaced. */
    ps_modelfile g;
    CHECK_INT(ps_modelfile_parse(img.data, img.len, "m.psm", NULL, &g, &err), 0);
    ps_modelfile h;
    ps_modelfile_init(&h, PS_LEARNED_KIND);
    for (size_t i = 0; i < g.n; i++) {
        if (strcmp(g.arrays[i].name, "format") == 0)
            ps_modelfile_add_scalar(&h, "format", PS_LEARNED_FORMAT + 1);
        else
            ps_modelfile_add(&h, g.arrays[i].name, g.arrays[i].data, g.arrays[i].ndim,
                             g.arrays[i].dims);
    }
    ps_modelfile_serialize(&h, &other);
    CHECK_INT(ps_learned_parse(other.data, other.len, "f.psm", &back, &err), -1);
    CHECK_CONTAINS(err.msg, "model format 2");
    CHECK_CONTAINS(err.msg, "picseek train");
    ps_modelfile_free(&g);
    ps_modelfile_free(&h);
    ps_buf_free(&other);

    /* The content classifier alone, as the index loads it. */
    char *path = tmp_path("content.psm");
    CHECK_INT(ps_learned_save(&m, path, &err), 0);
    ps_content_model cm;
    CHECK_INT(ps_learned_load_content(path, &cm, &err), 0);
    CHECK_NEAR(cm.threshold, m.content.threshold, 0);
    for (size_t i = 0; i < S.n_photos; i += 50) {
        float a, b;
        CHECK_INT(ps_content_classify(&cm, &S.features[i], &a),
                  ps_content_classify(&m.content, &S.features[i], &b));
        CHECK_NEAR(a, b, 0);
    }
    ps_content_free(&cm);
    free(path);

    /* Trained with another zero-shot score: refused by the scorer. */
    path = tmp_path("other-zs.psm");
    m.zs_hash ^= 1;
    CHECK_INT(ps_learned_save(&m, path, &err), 0);
    ps_scorer *sc = ps_learned_scorer_new(path, NULL, &err);
    CHECK(sc == NULL);
    CHECK_CONTAINS(err.msg, "zero-shot score");
    CHECK_CONTAINS(err.msg, "picseek train");
    free(path);
    ps_buf_free(&img);
    ps_buf_free(&again);
    ps_learned_free(&m);
}

/* The scorer's embeddings reproduce the model's direct prediction. */
TEST(scorer_embeddings_equal_prediction)
{
    if (!have_set)
        SKIP(why_not);
    ps_learned_opts o = quick_opts(5);
    ps_learned_model m;
    ps_error err;
    CHECK_INT(ps_learned_train(&S, &o, &m, NULL, &err), 0);
    char *path = tmp_path("scorer.psm");
    CHECK_INT(ps_learned_save(&m, path, &err), 0);
    ps_scorer *sc = ps_learned_scorer_new(path, NULL, &err);
    CHECK(sc != NULL);
    if (!sc) {
        fprintf(stderr, "%s\n", err.msg);
        free(path);
        ps_learned_free(&m);
        return;
    }
    CHECK(strncmp(sc->name, "learned-v1-", 11) == 0);
    CHECK_INT(sc->dim, m.n_rel * (m.rel[0].rank + 2) + S.zdim);
    const char *texts[] = {"A dog runs through the snow .", "two men ride bikes on a dirt road",
                           "a plate of food"};
    float *q = malloc(sc->dim * sizeof *q), *p = malloc(sc->dim * sizeof *p);
    double worst = 0;
    for (size_t t = 0; t < 3; t++) {
        CHECK_INT(sc->embed_query(sc, texts[t], strlen(texts[t]), q, &err), 0);
        for (size_t ph = 0; ph < S.n_photos; ph += 97) {
            CHECK_INT(sc->embed_photo(sc, &S.features[ph], p, &err), 0);
            double raw = 0;
            for (size_t k = 0; k < sc->dim; k++)
                raw += (double)q[k] * p[k];
            float direct;
            CHECK_INT(ps_learned_predict(&m, S.z, texts[t], strlen(texts[t]), &S.features[ph],
                                         &direct, &err), 0);
            double d = fabs(sc->calibrate(sc, (float)raw) - direct);
            worst = d > worst ? d : worst;
        }
    }
    CHECK(worst < 1e-4);
    /* No content word: refused, like every scorer. */
    CHECK_INT(sc->embed_query(sc, "the of and", 10, q, &err), -1);
    CHECK_INT(sc->embed_query(sc, "\xff", 1, q, &err), -1);
    CHECK(ps_learned_of(sc) != NULL);
    free(q);
    free(p);
    ps_scorer_free(sc);
    free(path);
    ps_learned_free(&m);
}

TEST(evaluation_gives_sane_numbers)
{
    if (!have_set)
        SKIP(why_not);
    ps_releval_opts o;
    ps_releval_opts_default(&o);
    o.folds = 2;
    o.model.photo_pca = 24;
    o.model.bilinear.max_epochs = 3;
    o.model.bilinear.rank = 8;
    o.model.ensemble = 2;
    ps_relmodel_kind kinds[] = {PS_RM_CONSTANT, PS_RM_BILINEAR};
    ps_releval r;
    ps_error err;
    CHECK_INT(ps_releval_run(&S, kinds, 2, &o, &r, &err), 0);
    CHECK_INT(r.n, 3);
    CHECK_STR(r.models[0].name, "constant");
    CHECK_STR(r.models[1].name, "bilinear");
    CHECK_STR(r.models[2].name, "zeroshot");
    CHECK(r.n_poc_test > 0.2 * S.n_expert_pairs && r.n_poc_test < 0.4 * S.n_expert_pairs);
    for (size_t i = 0; i < r.n; i++) {
        const ps_releval_model *m = &r.models[i];
        CHECK(m->poc.mse >= 0 && m->poc.mse < 1);
        CHECK(m->poc.mae >= 0 && m->poc.mae < 1);
        CHECK(m->poc.r2 <= 1);
        CHECK(m->has_ret);
        CHECK(m->ret.recall_1 <= m->ret.recall_5 && m->ret.recall_5 <= m->ret.recall_10);
        CHECK(m->ret.recall_10 >= 0 && m->ret.recall_10 <= 1);
        CHECK_INT(m->ret.n_photos, 100);
        CHECK_NEAR(m->ret.curve[99], 1.0, 1e-9);
        CHECK_INT(m->folds_run, 2);
        /* Retrieval among held-out training photos: every training caption
         * written for a photo of the dataset is asked once over the folds. */
        CHECK(m->cv_ret.n_queries > 500);
        CHECK(m->cv_ret.recall_1 <= m->cv_ret.recall_10 && m->cv_ret.recall_10 <= 1);
    }
    CHECK_INT(r.models[0].cv_ret.n_queries, r.models[2].cv_ret.n_queries);
    CHECK(r.models[1].cv_ret.recall_10 > 0.25);
    /* The constant: R^2 about 0, no rank information, chance recall. */
    CHECK(r.models[0].poc.r2 < 0.01);
    CHECK(isnan(r.models[0].poc.tau_c_expert));
    CHECK_NEAR(r.models[0].ret.recall_10, 0.10, 1e-9);
    /* Even briefly trained, the bilinear model and the zero-shot score
     * rank far better than chance and agree with the experts. */
    CHECK(r.models[1].poc.r2 > 0.05);
    CHECK(r.models[1].poc.tau_c_expert > 0.2);
    CHECK(r.models[1].ret.recall_10 > 0.25);
    CHECK(r.models[2].ret.recall_10 > 0.25);
    CHECK(r.models[2].poc.tau_c_expert > 0.2);
    ps_releval_free(&r);
}

/* The shipped content classifier settings (alpha by cross-validation),
 * judged on the test photos. */
TEST(content_classifier_recall)
{
    if (!have_set)
        SKIP(why_not);
    ps_content_opts o;
    ps_content_opts_default(&o);
    ps_content_model m;
    ps_content_report rep;
    ps_error err;
    CHECK_INT(ps_content_train(&S, &o, &m, &rep, &err), 0);
    CHECK_INT(rep.n_heldout, 100);
    CHECK(rep.n_heldout_pos > 10);
    CHECK(rep.recall >= 0.9);
    CHECK(rep.precision > (double)rep.n_heldout_pos / (double)rep.n_heldout);
    fprintf(stderr, "content classifier: threshold %.4f precision %.3f recall %.3f\n",
            rep.threshold, rep.precision, rep.recall);
    ps_content_free(&m);
}

int main(void)
{
    ps_relset_opts o;
    ps_relset_opts_default(&o);
    o.cached_only = 1;
    if (ps_relset_build(&o, &S, &set_err) == 0) {
        have_set = 1;
    } else {
        why_not = set_err.msg;
    }
    RUN(dataset_assembly);
    RUN(training_is_deterministic);
    RUN(model_file_checks);
    RUN(scorer_embeddings_equal_prediction);
    RUN(evaluation_gives_sane_numbers);
    RUN(content_classifier_recall);
    if (have_set)
        ps_relset_free(&S);
    return test_summary();
}
