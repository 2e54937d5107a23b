/*
 * zeroshot.h - the zero-shot text-to-photo score: no training on
 * photo-caption pairs, only what the image models name (ImageNet and VOC
 * classes) bridged to the query's words through WordNet and GloVe.
 *
 * Like every picseek score it is a dot product, raw = Q(query) . P(photo),
 * so the index can store P once per photo.  With the bridge's dimensions
 * (bridge.h: 1,860 WordNet concepts over the ImageNet classes, then the 21
 * VOC classes), the 11 colour terms and G = 100 GloVe dimensions:
 *
 *   P(photo) = [ ev(m_d, prob_eps)    concepts: m_d = the photo's class
 *                                      probability mass below concept d
 *              | ev(a_v, voc_eps)     VOC: a_v = share of pixels of class v
 *              | ev(s_k, color_eps)   colours (image/color.h): s_k = share
 *                                      of colour k in the foreground, or in
 *                                      all pixels when DeepLab finds less
 *                                      than 1% foreground
 *              | u ]                  the photo's "label vector":
 *                                      unit( sum_c p_c name_vec(c) )
 *   Q(query) = [ R_d
 *              | voc_weight * R_v
 *              | color_weight * C_k   C_k = share of the query's colour
 *                                      words that name colour k
 *              | vector_weight * q ]  q = the unit GloVe query vector
 *
 * where R = sum_w weight_w * rel_w / sum_w weight_w over the query's words
 * (query.h: words, IDF weights, adjectives times adj_weight; bridge.h:
 * rel_w, each word's relevance to each dimension) and ev is the "evidence"
 * transform
 *
 *     ev(m, eps) = ln(1 + m / eps) / ln(1 + 1 / eps)        (ev(0)=0, ev(1)=1)
 *
 * concave like a logarithm: with it, a sum over the query's words behaves
 * like a product of per-word likelihoods, so a photo that shows a little of
 * EVERY word ("dog" and "snow") beats one that shows a lot of one word only.
 * A large eps makes ev linear (ablation "log").
 *
 * calibrate(raw) = raw / (raw + 0.25) (0 for raw <= 0): a display value in
 * [0, 1), monotone.
 *
 * A ps_zeroshot owns the WordNet database, the vectors, the IDF table and the
 * bridge it loads; it is immutable and thread-safe after ps_zeroshot_open.
 */
#ifndef PS_SCORE_ZEROSHOT_H
#define PS_SCORE_ZEROSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/json.h"
#include "nn/features.h"
#include "score/bridge.h"
#include "score/scorer.h"
#include "text/query.h"

#define PS_ZS_VERSION 1
#define PS_ZS_MAX_CONTRIB 64

typedef struct ps_zs_params {
    ps_bridge_params bridge;
    ps_query_weighting weighting; /* PS_QW_IDF or PS_QW_UNIFORM */
    float prob_eps;               /* evidence transform of concept masses, > 0 */
    float voc_weight;             /* 0 = VOC areas unused */
    float voc_eps;                /* evidence transform of VOC areas, > 0 */
    float vector_weight;          /* 0 = query vector . label vector unused */
    float modifier_weight;        /* bridge name vectors (bridge.h); < 0 = default */
    int collocations;             /* 1: join "hot dog" into one word (query.h) */
    int modifiers;                /* 1: "black dog": black is an adjective (query.h) */
    float adj_weight;             /* weight factor of adjectives */
    float color_weight;           /* 0 = colour words unused */
    float color_eps;              /* evidence transform of colour shares, > 0 */
} ps_zs_params;

/* The defaults: tuned on the training split, measured in docs/EVALUATION.md
 * ("Zero-shot retrieval"). */
void ps_zs_params_default(ps_zs_params *p);

/* Set one parameter by name, for experiments (`picseek eval retrieval
 * --set`): down_decay, max_down_depth, up_decay, max_up_depth, sense_decay,
 * up_min_depth, max_senses, sense_counts, glove_weight, glove_floor,
 * glove_inner, gloss_weight, gloss_max_df, use_voc, prob_eps, voc_weight,
 * voc_eps, vector_weight, modifier_weight, collocations, modifiers,
 * adj_weight, color_weight, color_eps (numbers), weighting (idf or uniform).  Range checks happen
 * at open. */
int ps_zs_params_set(ps_zs_params *p, const char *name, const char *value, ps_error *err);

/*
 * Turn one part of the score off, for ablation studies:
 *   down          is-a: concepts a query word names ("dog" -> all breeds)
 *   up            kind-of: concepts a query word is a kind of ("man" -> person)
 *   decay         depth decay (every depth counts fully)
 *   log           the evidence transform (masses count linearly)
 *   sense-counts  sense weights from SemCor counts (WordNet order only)
 *   voc           the VOC area fractions (DeepLab)
 *   glove         word-vector similarity of query words and class names
 *   idf           IDF word weights (every word weighs 1)
 *   vector        the query vector . photo label vector term
 *   gloss         the in-definition relation (bridge.h)
 *   collocations  joining "hot dog", "mountain bike" into one word
 *   modifiers     taking "black" in "black dog" as an adjective
 *   colors        the colour words against the photo's colour shares
 * ps_zs_ablation_names lists them (NULL-terminated).
 */
int ps_zs_params_ablate(ps_zs_params *p, const char *part, ps_error *err);
extern const char *const ps_zs_ablation_names[];

typedef struct ps_zs_config {
    const char *models_dir;  /* label files; NULL = ps_models_dir(NULL) */
    const char *wordnet_dir; /* NULL = $WNSEARCHDIR or /usr/share/wordnet */
    const char *glove_path;  /* converted vectors; NULL = ps_glove_open_default */
    const char *idf_path;    /* NULL = ps_idf_default_path() */
    const char *voc_path;    /* NULL = data/voc_synsets.tsv (bridge.h) */
    ps_zs_params params;
} ps_zs_config;

/* cfg->params must be set (ps_zs_params_default).  Errors name the file. */
void ps_zs_config_default(ps_zs_config *cfg);

typedef struct ps_zeroshot ps_zeroshot;

ps_zeroshot *ps_zeroshot_open(const ps_zs_config *cfg, ps_error *err);
void ps_zeroshot_close(ps_zeroshot *z);

size_t ps_zeroshot_dim(const ps_zeroshot *z);
/* The layout of both embeddings: bridge dimensions [0, color_offset),
 * colours [color_offset, vector_offset), the GloVe part [vector_offset,
 * dim). */
size_t ps_zeroshot_color_offset(const ps_zeroshot *z);
size_t ps_zeroshot_vector_offset(const ps_zeroshot *z);
/* "zeroshot-v1-" and 8 hex digits of a hash of the parameters and data
 * files: the index keys cached photo embeddings by it. */
const char *ps_zeroshot_name(const ps_zeroshot *z);
const ps_query_model *ps_zeroshot_query_model(const ps_zeroshot *z);
const ps_bridge *ps_zeroshot_bridge(const ps_zeroshot *z);
const ps_zs_params *ps_zeroshot_params(const ps_zeroshot *z);

/* P(photo) into out[dim].  Never fails. */
void ps_zeroshot_embed_photo(const ps_zeroshot *z, const ps_features *f, float *out);

/* 0, or -1 with the reason when a parsed query has no content word to
 * score (embedding and explaining it would fail): lets a caller tell the
 * query's fault from others before costly work. */
int ps_zeroshot_check_query(const ps_query *q, ps_error *err);

/* Q(query) into out[dim] from a parsed query; best_word (NULL or
 * ps_bridge_ndims ints) gets, per bridge dimension, the index of the word
 * that contributed most to R (-1 if none), why the reason (NULL or
 * ps_bridge_ndims bytes).  Fails if the query has no content word. */
int ps_zeroshot_embed_parsed(const ps_zeroshot *z, const ps_query *q, float *out, int *best_word,
                             unsigned char *why, ps_error *err);
/* Parse and embed a text (fails for invalid UTF-8 or no content word). */
int ps_zeroshot_embed_query(const ps_zeroshot *z, const char *text, size_t len, float *out,
                            ps_error *err);

float ps_zeroshot_calibrate(float raw);

/* A ps_scorer (scorer.h) over its own ps_zeroshot; ps_scorer_free releases
 * both. */
ps_scorer *ps_zeroshot_scorer_new(const ps_zs_config *cfg, ps_error *err);
/* The ps_zeroshot inside a scorer made by ps_zeroshot_scorer_new. */
const ps_zeroshot *ps_zeroshot_of(const ps_scorer *s);

/* ---- explanations ------------------------------------------------------- */

#define PS_ZS_CONTRIB_CLASSES 3

typedef struct ps_zs_contrib {
    size_t dim;                      /* bridge dimension, or colour dimension */
    ps_class_source source;
    int voc_class;                   /* VOC class id, -1 for concepts and colours */
    const char *label;               /* concept, class or colour name (static or
                                        owned by the bridge) */
    uint32_t synset;                 /* concept synset offset, 0 for VOC */
    float relevance;                 /* Q component (VOC: including voc_weight) */
    float value;                     /* the photo's mass: probability below the
                                        concept, area fraction, or colour share */
    int foreground;                  /* colours: 1 = share of the foreground,
                                        0 = of all pixels */
    int main_reason;                 /* 1: its word's strongest contributor, and at
                                        least a tenth of the best: what a person is
                                        shown as the reason (search --why, the page) */
    float contribution;              /* Q component * P component */
    char word[PS_QUERY_WORD_MAX];    /* the query word that related most */
    ps_bridge_why why;
    int nclasses;                    /* the most probable ImageNet classes below */
    int classes[PS_ZS_CONTRIB_CLASSES];  /* the concept (class ids) */
    float class_prob[PS_ZS_CONTRIB_CLASSES];
} ps_zs_contrib;

typedef struct ps_zs_explanation {
    float raw;            /* Q . P */
    float score;          /* calibrate(raw) */
    float classes_part;   /* sum over concepts and VOC classes */
    float colors_part;    /* sum over the colour dimensions */
    float vector_part;    /* vector_weight * q . u */
    size_t n;             /* contributors, best first, contribution > 0 */
    ps_zs_contrib top[PS_ZS_MAX_CONTRIB];
} ps_zs_explanation;

/* Score a parsed query on a photo and list the (at most k, at most
 * PS_ZS_MAX_CONTRIB) dimensions that contributed most, each with the
 * ImageNet classes below it that the photo shows most.  Fails like
 * ps_zeroshot_embed_parsed. */
int ps_zeroshot_explain(const ps_zeroshot *z, const ps_query *q, const ps_features *f, size_t k,
                        ps_zs_explanation *out, ps_error *err);

/* Names for messages and JSON: "imagenet", "voc" or "color"; what the
 * contributor's value is ("prob", "area", "share"); how its word relates
 * ("is-a", "kind-of", "similar", "in-definition", "color"). */
const char *ps_zs_source_name(ps_class_source s);
const char *ps_zs_value_name(ps_class_source s);
const char *ps_zs_why_name(const ps_zs_contrib *c);

/* Append an explanation's keys to the open JSON object j: "score", "raw",
 * "classes_part", "colors_part", "vector_part" and "contributors" (each
 * with label, source, class / region / synset, word, why, weight, its
 * value under ps_zs_value_name, contribution, main (main_reason), and for
 * ImageNet concepts
 * the "classes" below it the photo shows most). */
void ps_zs_explanation_json(ps_json *j, const ps_zeroshot *z, const ps_zs_explanation *ex);

#endif
