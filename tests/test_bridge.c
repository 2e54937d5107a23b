/*
 * test_bridge.c - the label bridge (score/bridge) and the zero-shot score
 * (score/zeroshot) on the real WordNet, GloVe vectors and label files:
 * which classes a word is relevant to, and the score's algebra (a dot
 * product, explanations that add up) on made-up photo features.
 *
 * The expectations use WordNet itself as the oracle (ps_wn_noun_is_a), not
 * numbers produced by the code under test.  Skipped when WordNet, the
 * vectors or ../shared/models are absent.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "score/bridge.h"
#include "score/zeroshot.h"
#include "test.h"

static char models_dir[512];

static ps_zeroshot *zs(void)
{
    static ps_zeroshot *z;
    static int tried;
    if (!tried) {
        tried = 1;
        const char *sh = test_shared_dir();
        const char *wd = getenv("WNSEARCHDIR");
        if (!sh || !ps_is_dir(wd && *wd ? wd : "/usr/share/wordnet"))
            return NULL;
        snprintf(models_dir, sizeof models_dir, "%s/models", sh);
        if (!ps_is_file(models_dir) && !ps_is_dir(models_dir))
            return NULL;
        ps_zs_config cfg;
        ps_zs_config_default(&cfg);
        cfg.models_dir = models_dir;
        ps_error err;
        z = ps_zeroshot_open(&cfg, &err);
        if (!z)
            fprintf(stderr, "zero-shot: %s\n", err.msg);
    }
    return z;
}

#define NEED_ZS(z)                                                              \
    ps_zeroshot *z = zs();                                                      \
    if (!z)                                                                     \
        SKIP("WordNet, the GloVe vectors or the models folder is not available"); \
    do {                                                                        \
    } while (0)

/* The relevance of every class to one text (the query embedding's class
 * part, before VOC weighting), and the parsed query. */
typedef struct rel_result {
    float rel[PS_BRIDGE_CLASSES];
    int order[PS_BRIDGE_CLASSES]; /* classes by decreasing relevance */
} rel_result;

static const rel_result *cmp_base;
static int cmp_order(const void *a, const void *b)
{
    float x = cmp_base->rel[*(const int *)a], y = cmp_base->rel[*(const int *)b];
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static rel_result *relevance(ps_zeroshot *z, const char *text)
{
    rel_result *r = ps_xcalloc(1, sizeof *r);
    float *qe = ps_xmalloc(ps_zeroshot_dim(z) * sizeof *qe);
    ps_error err;
    if (ps_zeroshot_embed_query(z, text, strlen(text), qe, &err)) {
        fprintf(stderr, "%s: %s\n", text, err.msg);
        exit(1);
    }
    float vw = ps_zeroshot_params(z)->voc_weight;
    for (int c = 0; c < PS_BRIDGE_CLASSES; c++) {
        r->rel[c] = qe[c] / (c >= PS_BRIDGE_VOC0 && vw > 0 ? vw : 1);
        r->order[c] = c;
    }
    cmp_base = r;
    qsort(r->order, PS_BRIDGE_CLASSES, sizeof *r->order, cmp_order);
    free(qe);
    return r;
}

static int find_class(ps_zeroshot *z, const char *label, ps_class_source src)
{
    const ps_bridge *b = ps_zeroshot_bridge(z);
    for (int c = 0; c < PS_BRIDGE_CLASSES; c++)
        if (ps_bridge_source(c) == src && strcmp(ps_bridge_label(b, c), label) == 0)
            return c;
    fprintf(stderr, "no class '%s'\n", label);
    return -1;
}

/* Is class c (ImageNet) a kind of the noun synset `off` per WordNet? */
static int class_is_a(ps_zeroshot *z, int c, uint32_t off)
{
    const ps_bridge *b = ps_zeroshot_bridge(z);
    for (int i = 0; i < ps_bridge_nsynsets(b, c); i++) {
        ps_error err;
        const ps_query_model *m = ps_zeroshot_query_model(z);
        if (ps_wn_noun_is_a(m->wn, ps_bridge_synset(b, c, i), off, NULL, &err) == 1)
            return 1;
    }
    return 0;
}

static int rank_of(const rel_result *r, int c)
{
    for (int i = 0; i < PS_BRIDGE_CLASSES; i++)
        if (r->order[i] == c)
            return i;
    return -1;
}

/* ---- the bridge ---------------------------------------------------------- */

TEST(class_table)
{
    NEED_ZS(z);
    const ps_bridge *b = ps_zeroshot_bridge(z);
    CHECK_STR(ps_bridge_label(b, 0), "background");
    CHECK_INT(ps_bridge_nsynsets(b, 0), 0);
    CHECK_STR(ps_bridge_label(b, 1), "tench");
    CHECK_INT(ps_bridge_synset(b, 1, 0), 1440764); /* n01440764 */
    CHECK_INT(ps_bridge_source(PS_BRIDGE_VOC0 + 15), PS_SRC_VOC);
    CHECK_INT(ps_bridge_source_index(PS_BRIDGE_VOC0 + 15), 15);
    CHECK_STR(ps_bridge_label(b, PS_BRIDGE_VOC0 + 15), "person");
    CHECK_INT(ps_bridge_synset(b, PS_BRIDGE_VOC0 + 15, 0), 7846); /* person.n.01 */
    CHECK(ps_bridge_name_vector(b, 0) == NULL);
    CHECK(ps_bridge_name_vector(b, find_class(z, "golden retriever", PS_SRC_IMAGENET)) != NULL);
    /* The override file renames a class whose label's last word is "two". */
    CHECK(ps_bridge_name_vector(b, find_class(z, "bicycle-built-for-two", PS_SRC_IMAGENET)));
    CHECK(strcmp(ps_zeroshot_name(z), "") != 0);
    CHECK(strncmp(ps_zeroshot_name(z), "zeroshot-v1-", 12) == 0);
}

TEST(dog_covers_the_dog_breeds)
{
    NEED_ZS(z);
    rel_result *r = relevance(z, "a dog");
    /* Every ImageNet class WordNet files under dog.n.01 (n02084071) is
     * relevant, and the twenty most relevant classes are all dogs. */
    int ndogs = 0, nrel = 0;
    for (int c = 1; c < PS_IMAGENET_CLASSES; c++) {
        if (class_is_a(z, c, 2084071)) {
            ndogs++;
            nrel += r->rel[c] >= 0.3f;
        }
    }
    CHECK(ndogs > 100);
    CHECK_INT(nrel, ndogs);
    int dog_voc = PS_BRIDGE_VOC0 + 12;
    for (int i = 0; i < 20; i++) {
        int c = r->order[i];
        CHECK(c == dog_voc || class_is_a(z, c, 2084071));
    }
    /* A collie (three steps below dog) beats a wolf or a tabby cat. */
    int collie = find_class(z, "collie", PS_SRC_IMAGENET);
    CHECK(r->rel[collie] > 0.5f);
    CHECK(r->rel[collie] > r->rel[find_class(z, "timber wolf", PS_SRC_IMAGENET)]);
    CHECK(r->rel[collie] > 10 * r->rel[find_class(z, "tabby", PS_SRC_IMAGENET)]);
    free(r);
}

TEST(plate_of_food_is_about_food)
{
    NEED_ZS(z);
    rel_result *r = relevance(z, "a plate of food");
    /* food.n.01 (n00021265) and food.n.02 (n07555863, solid food). */
    int food = 0;
    for (int i = 0; i < 10; i++) {
        int c = r->order[i];
        if (c < PS_IMAGENET_CLASSES && (class_is_a(z, c, 21265) || class_is_a(z, c, 7555863)))
            food++;
    }
    CHECK(food >= 8);
    CHECK(r->rel[find_class(z, "pizza", PS_SRC_IMAGENET)] > 0.2f);
    /* And not about dogs. */
    CHECK(r->rel[find_class(z, "collie", PS_SRC_IMAGENET)] < 0.05f);
    free(r);
}

TEST(people_words_mean_voc_person)
{
    NEED_ZS(z);
    const char *texts[] = {"man", "woman", "people", "person", "a crowd", "the surfer"};
    int person = PS_BRIDGE_VOC0 + 15;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        rel_result *r = relevance(z, texts[i]);
        if (r->rel[person] < 0.5f || rank_of(r, person) > 2)
            fprintf(stderr, "  %s: person relevance %.3f, rank %d\n", texts[i], r->rel[person],
                    rank_of(r, person));
        CHECK(r->rel[person] >= 0.5f);
        CHECK(rank_of(r, person) <= 2);
        free(r);
    }
    /* A dog is not a person. */
    rel_result *r = relevance(z, "dog");
    CHECK(r->rel[person] < 0.1f);
    free(r);
}

TEST(bike_means_bicycles)
{
    NEED_ZS(z);
    rel_result *r = relevance(z, "bike");
    int voc_bike = PS_BRIDGE_VOC0 + 2;
    int mtb = find_class(z, "mountain bike", PS_SRC_IMAGENET);
    int tandem = find_class(z, "bicycle-built-for-two", PS_SRC_IMAGENET);
    CHECK(r->rel[voc_bike] >= 0.3f);
    CHECK(r->rel[mtb] >= 0.3f);
    CHECK(r->rel[tandem] >= 0.3f);
    CHECK(rank_of(r, voc_bike) < 6);
    CHECK(rank_of(r, mtb) < 6);
    free(r);
    /* "mountain bike" is one word: the mountain bike class leads. */
    r = relevance(z, "two men ride mountain bikes");
    CHECK_INT(r->order[0], mtb);
    free(r);
}

TEST(relevance_is_bounded_and_background_is_never_relevant)
{
    NEED_ZS(z);
    const char *texts[] = {"animal", "thing", "entity object", "dog dog dog dog", "xyzzyq"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        rel_result *r = relevance(z, texts[i]);
        for (int c = 0; c < PS_BRIDGE_CLASSES; c++)
            CHECK(r->rel[c] >= 0 && r->rel[c] <= 1.0f + 1e-6f);
        CHECK(r->rel[0] == 0);
        CHECK(r->rel[PS_BRIDGE_VOC0] == 0);
        free(r);
    }
}

/* ---- the score --------------------------------------------------------- */

/* A made-up photo: most probability on two dog breeds, a dog and a person
 * in the segmentation. */
static void dog_photo(ps_zeroshot *z, ps_features *f)
{
    memset(f, 0, sizeof *f);
    f->class_prob[find_class(z, "collie", PS_SRC_IMAGENET)] = 0.6f;
    f->class_prob[find_class(z, "border collie", PS_SRC_IMAGENET)] = 0.3f;
    f->class_prob[find_class(z, "tennis ball", PS_SRC_IMAGENET)] = 0.1f;
    f->voc_area[0] = 0.7f;
    f->voc_area[12] = 0.25f;
    f->voc_area[15] = 0.05f;
}

static float dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return (float)s;
}

TEST(score_is_a_dot_product_and_explains_itself)
{
    NEED_ZS(z);
    ps_features f;
    dog_photo(z, &f);
    size_t dim = ps_zeroshot_dim(z);
    float *qe = ps_xmalloc(dim * sizeof *qe), *pe = ps_xmalloc(dim * sizeof *pe);
    ps_zeroshot_embed_photo(z, &f, pe);
    ps_error err;
    const char *texts[] = {"a dog runs", "a plate of food"};
    float raw[2];
    for (int t = 0; t < 2; t++) {
        CHECK_INT(ps_zeroshot_embed_query(z, texts[t], strlen(texts[t]), qe, &err), 0);
        raw[t] = dot(qe, pe, dim);
        ps_query q;
        CHECK_INT(ps_query_parse(ps_zeroshot_query_model(z), texts[t], strlen(texts[t]), &q, &err),
                  0);
        ps_zs_explanation ex;
        CHECK_INT(ps_zeroshot_explain(z, &q, &f, 10, &ex, &err), 0);
        CHECK_NEAR(ex.raw, raw[t], 1e-5);
        CHECK_NEAR(ex.classes_part + ex.vector_part, ex.raw, 1e-5);
        CHECK_NEAR(ex.score, ps_zeroshot_calibrate(ex.raw), 1e-6);
        float sum = 0;
        for (size_t i = 0; i < ex.n; i++) {
            sum += ex.top[i].contribution;
            CHECK_NEAR(ex.top[i].contribution, ex.top[i].relevance * pe[ex.top[i].cls], 1e-6);
            if (i)
                CHECK(ex.top[i].contribution <= ex.top[i - 1].contribution);
        }
        CHECK(sum <= ex.classes_part + 1e-5f);
        if (t == 0) {
            /* The dog query: contributors are the dog classes, named by
             * the word "dog". */
            CHECK(ex.n >= 3);
            for (size_t i = 0; i < ex.n && i < 3; i++) {
                const char *l = ex.top[i].label;
                CHECK(strstr(l, "collie") || strcmp(l, "dog") == 0);
                CHECK_STR(ex.top[i].word, "dog");
            }
        }
        ps_query_free(&q);
    }
    CHECK(raw[0] > raw[1]);
    CHECK(ps_zeroshot_calibrate(raw[0]) > ps_zeroshot_calibrate(raw[1]));
    free(qe);
    free(pe);
}

TEST(scorer_interface)
{
    const char *sh = test_shared_dir();
    if (!zs())
        SKIP("WordNet, the GloVe vectors or the models folder is not available");
    (void)sh;
    ps_zs_config cfg;
    ps_zs_config_default(&cfg);
    cfg.models_dir = models_dir;
    ps_error err;
    ps_scorer *s = ps_zeroshot_scorer_new(&cfg, &err);
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_INT(s->dim, ps_zeroshot_dim(ps_zeroshot_of(s)));
    CHECK_INT(s->dim, PS_BRIDGE_CLASSES + 100);
    CHECK_STR(s->name, ps_zeroshot_name(zs())); /* same parameters, same name */
    float *qe = ps_xmalloc(s->dim * sizeof *qe);
    CHECK_INT(s->embed_query(s, "the of a", 8, qe, &err), -1);
    CHECK_CONTAINS(err.msg, "no word");
    CHECK_INT(s->embed_query(s, "\xff", 1, qe, &err), -1);
    CHECK_CONTAINS(err.msg, "invalid UTF-8");
    CHECK_INT(s->embed_query(s, "dog", 3, qe, &err), 0);
    /* calibrate is monotone and in [0, 1). */
    float prev = -1;
    for (float x = -1; x < 5; x += 0.25f) {
        float y = s->calibrate(s, x);
        CHECK(y >= prev && y >= 0 && y < 1);
        prev = y;
    }
    CHECK(ps_zeroshot_of(NULL) == NULL);
    /* Different parameters, different name. */
    cfg.params.voc_weight = 0.5f;
    ps_scorer *s2 = ps_zeroshot_scorer_new(&cfg, &err);
    CHECK(s2 && strcmp(s2->name, s->name) != 0);
    ps_scorer_free(s2);
    cfg.params.prob_power = -1;
    CHECK(ps_zeroshot_scorer_new(&cfg, &err) == NULL);
    CHECK_CONTAINS(err.msg, "powers");
    free(qe);
    ps_scorer_free(s);
}

/* ---- data file errors -------------------------------------------------- */

static void expect_voc_error(const char *content, const char *msg)
{
    const ps_query_model *m = ps_zeroshot_query_model(zs());
    const char *path = test_write_tmp("voc.tsv", content, strlen(content));
    ps_bridge_opts o = {.models_dir = models_dir, .voc_path = path, .modifier_weight = -1};
    ps_error err = {{0}};
    ps_bridge *b = ps_bridge_load(m->wn, m->glove, &o, &err);
    CHECK(b == NULL);
    ps_bridge_free(b);
    CHECK_CONTAINS(err.msg, msg);
}

TEST(voc_file_errors_name_the_line)
{
    NEED_ZS(z);
    (void)z;
    expect_voc_error("background\tbackground\t-\t-\naeroplane\tx\ty\n",
                     "voc.tsv:2: expected 4 tab-separated fields");
    expect_voc_error("background\tbackground\t-\t-\nbike\tbike\tbike\tn02834778\n",
                     "voc.tsv:2: class 1 is 'aeroplane' in pascal_voc_segmentation_labels.txt");
    expect_voc_error("background\tbackground\t-\t-\naeroplane\tplane\tplane\tn0269115\n",
                     "voc.tsv:2: 'n0269115' is not a WordNet synset id");
    expect_voc_error("background\tbackground\t-\t-\naeroplane\tplane\tplane\tn02691157\n",
                     "voc.tsv:2: n02691157 is not a WordNet 3.0 noun synset");
    expect_voc_error("# only a comment\nbackground\tbackground\t-\t-\n",
                     "voc.tsv: expected 21 classes, found 1");
    ps_bridge_opts o = {.models_dir = "/nonexistent", .modifier_weight = -1};
    ps_error err;
    const ps_query_model *m = ps_zeroshot_query_model(z);
    CHECK(ps_bridge_load(m->wn, m->glove, &o, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent/imagenet_labels.txt");
}

TEST(imagenet_words_file_errors)
{
    NEED_ZS(z);
    const ps_query_model *m = ps_zeroshot_query_model(z);
    const char *bad = "445\tn99999999\ttandem bicycle\n";
    const char *path = test_write_tmp("words.tsv", bad, strlen(bad));
    ps_bridge_opts o = {.models_dir = models_dir, .words_path = path, .modifier_weight = -1};
    ps_error err;
    CHECK(ps_bridge_load(m->wn, m->glove, &o, &err) == NULL);
    CHECK_CONTAINS(err.msg, "words.tsv:1: class 445 is n02835271, not n99999999");
    const char *bad2 = "# c\n2000\tn02835271\tx\n";
    path = test_write_tmp("words2.tsv", bad2, strlen(bad2));
    o.words_path = path;
    CHECK(ps_bridge_load(m->wn, m->glove, &o, &err) == NULL);
    CHECK_CONTAINS(err.msg, "words2.tsv:2: class id must be");
}

int main(void)
{
    RUN(class_table);
    RUN(dog_covers_the_dog_breeds);
    RUN(plate_of_food_is_about_food);
    RUN(people_words_mean_voc_person);
    RUN(bike_means_bicycles);
    RUN(relevance_is_bounded_and_background_is_never_relevant);
    RUN(score_is_a_dot_product_and_explains_itself);
    RUN(scorer_interface);
    RUN(voc_file_errors_name_the_line);
    RUN(imagenet_words_file_errors);
    ps_zeroshot_close(zs());
    return test_summary();
}
