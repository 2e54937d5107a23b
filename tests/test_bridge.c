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
#include "score/relfeat.h"
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

/* The relevance of every bridge dimension to one text (the query
 * embedding's bridge part, VOC weighting undone), best first. */
typedef struct rel_result {
    size_t nd;
    float *rel;
    size_t *order;
} rel_result;

static const float *cmp_base;
static int cmp_order(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (cmp_base[x] != cmp_base[y])
        return cmp_base[x] > cmp_base[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static rel_result *relevance(ps_zeroshot *z, const char *text)
{
    const ps_bridge *b = ps_zeroshot_bridge(z);
    rel_result *r = ps_xcalloc(1, sizeof *r);
    r->nd = ps_bridge_ndims(b);
    r->rel = ps_xmalloc(ps_zeroshot_dim(z) * sizeof *r->rel);
    r->order = ps_xmalloc(r->nd * sizeof *r->order);
    ps_error err;
    if (ps_zeroshot_embed_query(z, text, strlen(text), r->rel, &err)) {
        fprintf(stderr, "%s: %s\n", text, err.msg);
        exit(1);
    }
    float vw = ps_zeroshot_params(z)->voc_weight;
    for (size_t d = 0; d < r->nd; d++) {
        if (d >= ps_bridge_nconcepts(b) && vw > 0)
            r->rel[d] /= vw;
        r->order[d] = d;
    }
    cmp_base = r->rel;
    qsort(r->order, r->nd, sizeof *r->order, cmp_order);
    return r;
}

static void rel_free(rel_result *r)
{
    free(r->rel);
    free(r->order);
    free(r);
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

static size_t concept_dim(ps_zeroshot *z, uint32_t synset)
{
    long d = ps_bridge_concept_dim(ps_zeroshot_bridge(z), synset);
    if (d < 0) {
        fprintf(stderr, "synset %08u is not a concept\n", (unsigned)synset);
        exit(1);
    }
    return (size_t)d;
}

static size_t voc_dim(ps_zeroshot *z, int v)
{
    return ps_bridge_voc_dim(ps_zeroshot_bridge(z), v);
}

/* Is ImageNet class c a kind of the noun synset `off`, per WordNet? */
static int class_is_a(ps_zeroshot *z, int c, uint32_t off)
{
    const ps_bridge *b = ps_zeroshot_bridge(z);
    const ps_query_model *m = ps_zeroshot_query_model(z);
    for (int i = 0; i < ps_bridge_nsynsets(b, c); i++) {
        ps_error err;
        if (ps_wn_noun_is_a(m->wn, ps_bridge_synset(b, c, i), off, NULL, &err) == 1)
            return 1;
    }
    return 0;
}

static size_t rank_of(const rel_result *r, size_t d)
{
    for (size_t i = 0; i < r->nd; i++)
        if (r->order[i] == d)
            return i;
    return (size_t)-1;
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

#define DOG 2084071       /* dog.n.01 */
#define FOOD1 21265       /* food.n.01, nutrient */
#define FOOD2 7555863     /* food.n.02, solid food */
#define BICYCLE 2834778   /* bicycle.n.01 */
#define PERSON_VOC 15
#define DOG_VOC 12
#define BICYCLE_VOC 2

TEST(concepts_cover_the_classes_below_them)
{
    NEED_ZS(z);
    const ps_bridge *b = ps_zeroshot_bridge(z);
    size_t d = concept_dim(z, DOG);
    CHECK_STR(ps_bridge_dim_label(b, d), "dog");
    CHECK_INT(ps_bridge_dim_synset(b, d), DOG);
    CHECK_INT(ps_bridge_dim_source(b, d), PS_SRC_IMAGENET);
    /* The classes below dog.n.01 are exactly those WordNet files under it. */
    const uint16_t *cls;
    size_t n = ps_bridge_dim_classes(b, d, &cls);
    int oracle = 0;
    for (int c = 1; c < PS_IMAGENET_CLASSES; c++)
        oracle += class_is_a(z, c, DOG);
    CHECK_INT(n, oracle);
    CHECK(n > 100);
    for (size_t i = 0; i < n; i++)
        CHECK(class_is_a(z, cls[i], DOG));
    /* A class synset is a concept labelled like the class. */
    int collie = find_class(z, "collie", PS_SRC_IMAGENET);
    size_t dc = concept_dim(z, ps_bridge_synset(b, collie, 0));
    CHECK_STR(ps_bridge_dim_label(b, dc), "collie");
    CHECK_INT(ps_bridge_dim_classes(b, dc, &cls), 1);
    CHECK(ps_bridge_concept_dim(b, 12345) < 0);
    /* VOC dimensions come last. */
    CHECK_INT(ps_bridge_ndims(b), ps_bridge_nconcepts(b) + PS_VOC_CLASSES);
    CHECK_STR(ps_bridge_dim_label(b, voc_dim(z, PERSON_VOC)), "person");
    CHECK_INT(ps_bridge_dim_source(b, voc_dim(z, PERSON_VOC)), PS_SRC_VOC);
    CHECK_INT(ps_bridge_dim_classes(b, voc_dim(z, PERSON_VOC), &cls), 0);
}

TEST(photo_mass_sums_the_classes_below)
{
    NEED_ZS(z);
    const ps_bridge *b = ps_zeroshot_bridge(z);
    ps_features *f = ps_xcalloc(1, sizeof *f);
    /* Probabilities spread over many classes, some of them dogs. */
    double dogs = 0;
    for (int c = 1; c < PS_IMAGENET_CLASSES; c++) {
        f->class_prob[c] = (float)((c * 7919) % 1000) / 1e6f;
        if (class_is_a(z, c, DOG))
            dogs += f->class_prob[c];
    }
    f->voc_area[PERSON_VOC] = 0.3f;
    f->voc_area[0] = 0.7f;
    float *mass = ps_xmalloc(ps_bridge_ndims(b) * sizeof *mass);
    ps_bridge_photo_mass(b, f, mass);
    CHECK_NEAR(mass[concept_dim(z, DOG)], dogs, 1e-4);
    CHECK_NEAR(mass[voc_dim(z, PERSON_VOC)], 0.3, 1e-7);
    CHECK(mass[voc_dim(z, 0)] == 0); /* background says nothing */
    /* Out-of-range inputs are clamped, never propagated. */
    f->class_prob[5] = NAN;
    f->class_prob[6] = 50;
    f->voc_area[3] = -1;
    ps_bridge_photo_mass(b, f, mass);
    for (size_t d = 0; d < ps_bridge_ndims(b); d++)
        CHECK(mass[d] >= 0 && mass[d] <= 1);
    free(mass);
    free(f);
}

TEST(dog_covers_the_dog_breeds)
{
    NEED_ZS(z);
    rel_result *r = relevance(z, "a dog");
    /* dog.n.01 and VOC dog lead: the concept stands for every breed. */
    size_t d = concept_dim(z, DOG);
    CHECK(r->rel[d] > 0.9f);
    CHECK(r->rel[voc_dim(z, DOG_VOC)] > 0.9f);
    CHECK(rank_of(r, d) < 2);
    CHECK(rank_of(r, voc_dim(z, DOG_VOC)) < 2);
    /* and hardly to a person or a car; a cat is similar (GloVe) but less */
    CHECK(r->rel[voc_dim(z, PERSON_VOC)] < 0.05f);
    CHECK(r->rel[concept_dim(z, 2958343)] < 0.05f);          /* car.n.01 */
    CHECK(r->rel[voc_dim(z, 8)] < 0.75f * r->rel[voc_dim(z, DOG_VOC)]); /* cat */
    rel_free(r);
    /* A puppy is a kind of dog: one hypernym step. */
    r = relevance(z, "puppy");
    CHECK(r->rel[d] >= ps_zeroshot_params(z)->bridge.up_decay - 1e-4f);
    CHECK(rank_of(r, d) < 3);
    rel_free(r);
}

TEST(plate_of_food_is_about_food)
{
    NEED_ZS(z);
    rel_result *r = relevance(z, "a plate of food");
    /* The most relevant concept is food or a kind of food. */
    int food_first = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t d = r->order[i];
        uint32_t s = ps_bridge_dim_synset(ps_zeroshot_bridge(z), d);
        const ps_query_model *m = ps_zeroshot_query_model(z);
        ps_error err;
        if (s && (ps_wn_noun_is_a(m->wn, s, FOOD1, NULL, &err) == 1 ||
                  ps_wn_noun_is_a(m->wn, s, FOOD2, NULL, &err) == 1))
            food_first = 1;
    }
    CHECK(food_first);
    CHECK(r->rel[concept_dim(z, FOOD2)] > 0.3f || r->rel[concept_dim(z, FOOD1)] > 0.3f);
    /* And not about dogs. */
    CHECK(r->rel[concept_dim(z, DOG)] < 0.05f);
    rel_free(r);
}

TEST(people_words_mean_voc_person)
{
    NEED_ZS(z);
    const char *texts[] = {"man", "woman", "people", "person", "a crowd", "the surfer"};
    size_t person = voc_dim(z, PERSON_VOC);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        rel_result *r = relevance(z, texts[i]);
        /* Person is the word's most relevant VOC class and among its
         * three most relevant dimensions. */
        if (rank_of(r, person) > 2)
            fprintf(stderr, "  %s: person relevance %.3f, rank %zu\n", texts[i],
                    r->rel[person], rank_of(r, person));
        CHECK(r->rel[person] > 0.1f);
        CHECK(rank_of(r, person) <= 2);
        for (int v = 1; v < PS_VOC_CLASSES; v++)
            if (v != PERSON_VOC)
                CHECK(r->rel[voc_dim(z, v)] < r->rel[person]);
        rel_free(r);
    }
    /* A dog is not a person (dog.n.03, a frump, is almost never meant). */
    rel_result *r = relevance(z, "dog");
    CHECK(r->rel[person] < 0.1f);
    rel_free(r);
}

TEST(bike_means_bicycles)
{
    NEED_ZS(z);
    rel_result *r = relevance(z, "bike");
    const ps_bridge *b = ps_zeroshot_bridge(z);
    size_t bike = concept_dim(z, BICYCLE);
    /* bike.n.01 is the motorcycle, bike.n.02 the bicycle (no SemCor
     * counts): the second sense weighs sense_decay. */
    float second = ps_zeroshot_params(z)->bridge.sense_decay - 1e-4f;
    CHECK(r->rel[voc_dim(z, BICYCLE_VOC)] >= second);
    CHECK(r->rel[bike] >= second);
    CHECK(rank_of(r, bike) < 6);
    /* bicycle.n.01 covers the mountain bike and the tandem. */
    const uint16_t *cls;
    size_t n = ps_bridge_dim_classes(b, bike, &cls);
    int mtb = find_class(z, "mountain bike", PS_SRC_IMAGENET);
    int tandem = find_class(z, "bicycle-built-for-two", PS_SRC_IMAGENET);
    int has_mtb = 0, has_tandem = 0;
    for (size_t i = 0; i < n; i++) {
        has_mtb |= cls[i] == mtb;
        has_tandem |= cls[i] == tandem;
    }
    CHECK(has_mtb && has_tandem);
    rel_free(r);
    /* "mountain bike" is one word: the mountain bike class leads. */
    r = relevance(z, "two men ride mountain bikes");
    CHECK_INT(r->order[0], concept_dim(z, ps_bridge_synset(b, mtb, 0)));
    rel_free(r);
}

TEST(relevance_is_bounded_and_background_is_never_relevant)
{
    NEED_ZS(z);
    const char *texts[] = {"animal", "thing", "entity object", "dog dog dog dog", "xyzzyq"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        rel_result *r = relevance(z, texts[i]);
        for (size_t d = 0; d < r->nd; d++)
            CHECK(r->rel[d] >= 0 && r->rel[d] <= 1.0f + 1e-6f);
        CHECK(r->rel[voc_dim(z, 0)] == 0);
        rel_free(r);
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
        CHECK_NEAR(ex.classes_part + ex.colors_part + ex.vector_part, ex.raw, 1e-5);
        CHECK_NEAR(ex.score, ps_zeroshot_calibrate(ex.raw), 1e-6);
        float sum = 0;
        for (size_t i = 0; i < ex.n; i++) {
            sum += ex.top[i].contribution;
            CHECK_NEAR(ex.top[i].contribution, ex.top[i].relevance * pe[ex.top[i].dim], 1e-6);
            if (i)
                CHECK(ex.top[i].contribution <= ex.top[i - 1].contribution);
        }
        CHECK(sum <= ex.classes_part + 1e-5f);
        if (t == 0) {
            /* The dog query: the top contributors are the dog concept and
             * VOC dog, found through the word "dog", and the concept names
             * the photo's two collie classes. */
            CHECK(ex.n >= 2);
            int concept = 0, voc = 0;
            for (size_t i = 0; i < ex.n && i < 2; i++) {
                const ps_zs_contrib *c = &ex.top[i];
                CHECK_STR(c->label, "dog");
                CHECK_STR(c->word, "dog");
                CHECK_INT(c->why, PS_WHY_DOWN);
                if (c->source == PS_SRC_VOC) {
                    voc = 1;
                    CHECK_INT(c->voc_class, DOG_VOC);
                    CHECK_NEAR(c->value, 0.25, 1e-6);
                } else {
                    concept = 1;
                    CHECK_INT(c->synset, DOG);
                    CHECK_NEAR(c->value, 0.9, 1e-5);
                    CHECK_INT(c->nclasses, 2);
                    CHECK_INT(c->classes[0], find_class(z, "collie", PS_SRC_IMAGENET));
                    CHECK_INT(c->classes[1], find_class(z, "border collie", PS_SRC_IMAGENET));
                    CHECK_NEAR(c->class_prob[0], 0.6, 1e-6);
                }
            }
            CHECK(concept && voc);
        }
        ps_query_free(&q);
    }
    CHECK(raw[0] > raw[1]);
    CHECK(ps_zeroshot_calibrate(raw[0]) > ps_zeroshot_calibrate(raw[1]));
    free(qe);
    free(pe);
}

/* The query's colour words against the photo's colour shares. */
static float raw_score(ps_zeroshot *z, const char *text, const ps_features *f)
{
    size_t dim = ps_zeroshot_dim(z);
    float *qe = ps_xmalloc(dim * sizeof *qe), *pe = ps_xmalloc(dim * sizeof *pe);
    ps_error err;
    float r = -1e30f;
    if (ps_zeroshot_embed_query(z, text, strlen(text), qe, &err) == 0) {
        ps_zeroshot_embed_photo(z, f, pe);
        r = dot(qe, pe, dim);
    }
    free(qe);
    free(pe);
    return r;
}

TEST(colour_words_match_the_foreground_colours)
{
    NEED_ZS(z);
    /* Two dogs alike but for colour: a black one on white snow, a white one
     * on black tarmac. */
    ps_features black, white;
    dog_photo(z, &black);
    dog_photo(z, &white);
    black.colors[PS_COLOR_FOREGROUND][PS_COLOR_BLACK] = 0.8f;
    black.colors[PS_COLOR_FOREGROUND][PS_COLOR_BROWN] = 0.2f;
    black.colors[PS_COLOR_ALL][PS_COLOR_WHITE] = 0.7f;
    black.colors[PS_COLOR_ALL][PS_COLOR_BLACK] = 0.3f;
    white.colors[PS_COLOR_FOREGROUND][PS_COLOR_WHITE] = 1.0f;
    white.colors[PS_COLOR_ALL][PS_COLOR_BLACK] = 0.7f;
    white.colors[PS_COLOR_ALL][PS_COLOR_WHITE] = 0.3f;
    CHECK(raw_score(z, "a black dog", &black) > raw_score(z, "a black dog", &white));
    CHECK(raw_score(z, "a white dog", &white) > raw_score(z, "a white dog", &black));
    /* Without a colour word, colours change nothing. */
    CHECK_NEAR(raw_score(z, "a dog", &black), raw_score(z, "a dog", &white), 1e-6);
    /* Synonyms: grey is gray. */
    ps_features gray;
    dog_photo(z, &gray);
    gray.colors[PS_COLOR_FOREGROUND][PS_COLOR_GRAY] = 1.0f;
    CHECK(raw_score(z, "a grey dog", &gray) > raw_score(z, "a grey dog", &white));

    /* Less than 1% foreground: the colours of all pixels count ("a green
     * field"). */
    ps_features field;
    memset(&field, 0, sizeof field);
    field.voc_area[0] = 0.995f;
    field.voc_area[15] = 0.005f;
    field.colors[PS_COLOR_ALL][PS_COLOR_GREEN] = 0.9f;
    field.colors[PS_COLOR_FOREGROUND][PS_COLOR_BLUE] = 1.0f;
    ps_features sea = field;
    sea.colors[PS_COLOR_ALL][PS_COLOR_GREEN] = 0;
    sea.colors[PS_COLOR_ALL][PS_COLOR_BLUE] = 0.9f;
    CHECK(raw_score(z, "a green field", &field) > raw_score(z, "a green field", &sea));

    /* The explanation names the colour, the word and the region. */
    ps_query q;
    ps_error err;
    const char *text = "a black dog";
    CHECK_INT(ps_query_parse(ps_zeroshot_query_model(z), text, strlen(text), &q, &err), 0);
    ps_zs_explanation ex;
    CHECK_INT(ps_zeroshot_explain(z, &q, &black, 10, &ex, &err), 0);
    CHECK(ex.colors_part > 0);
    CHECK_NEAR(ex.classes_part + ex.colors_part + ex.vector_part, ex.raw, 1e-5);
    int found = 0;
    for (size_t i = 0; i < ex.n; i++) {
        const ps_zs_contrib *c = &ex.top[i];
        if (c->source != PS_SRC_COLOR)
            continue;
        found++;
        CHECK_STR(c->label, "black");
        CHECK_STR(c->word, "black");
        CHECK_INT(c->foreground, 1);
        CHECK_NEAR(c->value, 0.8, 1e-6);
        CHECK_INT(c->dim, ps_zeroshot_color_offset(z) + PS_COLOR_BLACK);
    }
    CHECK_INT(found, 1);
    /* Main reasons: the best contributor is one; each word has at most one,
     * its strongest; none is under a tenth of the best; the colour (found
     * above, on its own word) is one too. */
    CHECK(ex.n > 0 && ex.top[0].main_reason);
    for (size_t i = 0; i < ex.n; i++) {
        const ps_zs_contrib *c = &ex.top[i];
        int earlier_same_word = 0;
        for (size_t p = 0; p < i; p++)
            earlier_same_word |= strcmp(ex.top[p].word, c->word) == 0 && ex.top[p].main_reason;
        if (c->main_reason)
            CHECK(!earlier_same_word && c->contribution >= 0.1f * ex.top[0].contribution);
        else
            CHECK(earlier_same_word || c->contribution < 0.1f * ex.top[0].contribution);
        if (c->source == PS_SRC_COLOR)
            CHECK(c->main_reason);
    }
    ps_query_free(&q);

    /* The learned scores' pair features split the same dot product: all =
     * classes + vector, classes = concepts + VOC + colours. */
    size_t dim = ps_zeroshot_dim(z);
    float *qe = ps_xmalloc(dim * sizeof *qe), *pe = ps_xmalloc(dim * sizeof *pe);
    CHECK_INT(ps_zeroshot_embed_query(z, text, strlen(text), qe, &err), 0);
    ps_zeroshot_embed_photo(z, &black, pe);
    float x[6];
    ps_relfeat_extra(PS_EF_ALL, z, qe, pe, x); /* zs zsclass zsvec zsconcept zsvoc zscolor */
    CHECK_NEAR(x[0], dot(qe, pe, dim), 1e-5);
    CHECK_NEAR(x[0], x[1] + x[2], 1e-5);
    CHECK_NEAR(x[1], x[3] + x[4] + x[5], 1e-5);
    CHECK_NEAR(x[5], ex.colors_part, 1e-5);
    CHECK(x[5] > 0);
    free(qe);
    free(pe);

    /* The colors ablation removes the colour part, and only it. */
    ps_zs_params p;
    ps_zs_params_default(&p);
    CHECK(p.color_weight > 0);
    ps_error e2;
    CHECK_INT(ps_zs_params_ablate(&p, "colors", &e2), 0);
    CHECK(p.color_weight == 0);
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
    size_t nd = ps_bridge_ndims(ps_zeroshot_bridge(zs()));
    CHECK_INT(s->dim, nd + PS_COLORS + 100);
    CHECK_INT(ps_zeroshot_color_offset(zs()), nd);
    CHECK_INT(ps_zeroshot_vector_offset(zs()), nd + PS_COLORS);
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
    cfg.params.voc_weight = ps_zeroshot_params(zs())->voc_weight + 0.25f;
    ps_scorer *s2 = ps_zeroshot_scorer_new(&cfg, &err);
    CHECK(s2 && strcmp(s2->name, s->name) != 0);
    ps_scorer_free(s2);
    cfg.params.prob_eps = -1;
    CHECK(ps_zeroshot_scorer_new(&cfg, &err) == NULL);
    CHECK_CONTAINS(err.msg, "eps");
    ps_zs_params_default(&cfg.params);
    cfg.params.color_eps = 0;
    CHECK(ps_zeroshot_scorer_new(&cfg, &err) == NULL);
    CHECK_CONTAINS(err.msg, "eps");
    cfg.params.color_eps = 0.01f;
    cfg.params.color_weight = -1;
    CHECK(ps_zeroshot_scorer_new(&cfg, &err) == NULL);
    CHECK_CONTAINS(err.msg, "weights");
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
    RUN(concepts_cover_the_classes_below_them);
    RUN(photo_mass_sums_the_classes_below);
    RUN(dog_covers_the_dog_breeds);
    RUN(plate_of_food_is_about_food);
    RUN(people_words_mean_voc_person);
    RUN(bike_means_bicycles);
    RUN(relevance_is_bounded_and_background_is_never_relevant);
    RUN(score_is_a_dot_product_and_explains_itself);
    RUN(colour_words_match_the_foreground_colours);
    RUN(scorer_interface);
    RUN(voc_file_errors_name_the_line);
    RUN(imagenet_words_file_errors);
    ps_zeroshot_close(zs());
    return test_summary();
}
