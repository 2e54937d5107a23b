/*
 * bridge.h - the label bridge: from query words to what the image models
 * can see, through WordNet and GloVe.
 *
 * Classes.  The models name 1001 ImageNet classes (MobileNetV2; class 0
 * background) and 21 Pascal VOC classes (DeepLabV3; class 0 background).
 * The bridge numbers them together, PS_BRIDGE_CLASSES in all: class c < 1001
 * is ImageNet class c, class 1001 + v is VOC class v.  Each has WordNet 3.0
 * noun synsets: an ImageNet class IS one (imagenet_wnids.txt, "n02084071");
 * VOC classes get hand-picked ones from data/voc_synsets.tsv (person ->
 * person.n.01, people.n.01, crowd.n.01; boat -> boat.n.01, vessel.n.02...).
 *
 * Concepts.  Every ImageNet class synset and every hypernym above it is a
 * "concept" (dog.n.01, canine.n.02, ..., vehicle.n.01, food.n.02, entity):
 * 1,860 of them.  A photo's mass on a concept is the sum of the
 * probabilities of the classes below it, so "dog" is one number per photo,
 * P(some dog breed), however the classifier spread it over 120 breeds.
 *
 * Dimensions.  The bridge's space has ps_bridge_ndims() = nconcepts + 21
 * dimensions: the concepts, then the VOC classes (a VOC class's "mass" is
 * the share of the photo's pixels DeepLab gives it).
 *
 * The relevance of a query word to each dimension, in [0, 1], is the
 * largest of (each can be turned off for ablation):
 *
 *  - is-a:    a sense of the word IS the concept ("dog" -> dog.n.01: every
 *             breed below it counts); for VOC, the class's synset is a kind
 *             of the word ("animal" -> VOC dog), down_decay ^ depth;
 *  - kind-of: the word is a kind of the concept ("puppy" -> dog.n.01, "man"
 *             -> person.n.01 and VOC person): up_decay ^ depth, walking up
 *             from the word's sense to the NEAREST concepts only (not on to
 *             organism or entity), and only to concepts at least
 *             up_min_depth steps below entity ("wave" is a kind of
 *             abstraction, which says nothing about a photo);
 *  - similar: GloVe similarity of the word and the concept's name (the
 *             class's first label name, "golden retriever"; a few replaced
 *             by data/imagenet_words.tsv; for inner concepts the synset's
 *             first lemma), above a floor:
 *             glove_weight * max(0, (cos - floor) / (1 - floor)).
 *             A name vector is its head (last) word's unit vector plus
 *             modifier_weight times the mean of the others', normalized, so
 *             "red" stays away from "red wine";
 *  - in-definition: the word's lemma occurs in the WordNet definition of
 *             the concept or VOC class ("snow" -> ski: "narrow wood or metal
 *             or plastic runners used in pairs for gliding over snow";
 *             "grass" -> lawn mower: "garden tool for mowing grass on
 *             lawns"): gloss_weight, for lemmas found in at most
 *             gloss_max_df definitions (not "small", "used", "water").
 *
 * each times the sense's weight: the word's noun senses in WordNet's order
 * (at most max_senses per lemma), the k-th (from 0) weighing
 *
 *     sense_w = sense_decay ^ k * (count_k + 1) / (max_j count_j + 1)
 *
 * with count_k its SemCor tag count (text/sensecount.h): "dog" is dog.n.01
 * (42 tags), hardly ever a frump or a frank; the untagged senses of "bike"
 * (motorcycle, bicycle) keep 1 and sense_decay.
 *
 * A ps_bridge is built once (ps_bridge_load: label files, ancestor walks,
 * name vectors; well under a second) and is then immutable and
 * thread-safe.  It borrows the WordNet database and the GloVe vectors,
 * which must outlive it.
 */
#ifndef PS_SCORE_BRIDGE_H
#define PS_SCORE_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/features.h"
#include "text/glove.h"
#include "text/query.h"
#include "text/sensecount.h"
#include "text/wordnet.h"

#define PS_BRIDGE_CLASSES (PS_IMAGENET_CLASSES + PS_VOC_CLASSES)
#define PS_BRIDGE_VOC0 PS_IMAGENET_CLASSES /* bridge index of VOC class 0 */
#define PS_BRIDGE_MAX_SYNSETS 4            /* synsets of one class, at most */

typedef struct ps_bridge ps_bridge;

/* Where a score dimension comes from.  PS_SRC_COLOR is not the bridge's
 * (it has none): the zero-shot score's colour dimensions (zeroshot.h). */
typedef enum ps_class_source { PS_SRC_IMAGENET, PS_SRC_VOC, PS_SRC_COLOR } ps_class_source;

typedef struct ps_bridge_params {
    float down_decay;  /* VOC "is-a": per hypernym step; 0 = no is-a relation */
    int max_down_depth;
    float up_decay;    /* "kind-of": per hypernym step; 0 = no kind-of relation */
    int max_up_depth;
    int up_min_depth;  /* kind-of only to concepts at least this deep in WordNet
                          (entity = 0): not to abstraction, object, whole */
    float sense_decay; /* weight ratio of successive senses */
    int max_senses;    /* senses used per noun lemma (at most 64) */
    int sense_counts;  /* 1: weigh senses by their SemCor tag counts too */
    float glove_weight; /* 0 = no word-vector similarity */
    float glove_floor;  /* cosine at or below which similarity counts 0 */
    int glove_inner;    /* 1: also compare with inner concepts' names */
    float gloss_weight; /* 0 = no definition relation */
    int gloss_max_df;   /* ignore lemmas found in more definitions than this */
    int use_voc;        /* 0: VOC dimensions get no relevance */
} ps_bridge_params;

/* The defaults picseek uses (measured in docs/EVALUATION.md). */
void ps_bridge_params_default(ps_bridge_params *p);

/* Why a dimension is relevant to a word (for explanations). */
typedef enum ps_bridge_why {
    PS_WHY_NONE = 0,
    PS_WHY_DOWN,  /* the concept is the word, or the VOC class a kind of it */
    PS_WHY_UP,    /* the word is a kind of the concept */
    PS_WHY_GLOVE, /* similar words */
    PS_WHY_GLOSS, /* the word is in the concept's WordNet definition */
} ps_bridge_why;
/* "is-a", "kind-of", "similar", "in-definition", "" */
const char *ps_bridge_why_name(ps_bridge_why w);

typedef struct ps_bridge_opts {
    const char *models_dir;   /* holds imagenet_labels.txt, imagenet_wnids.txt,
                                 pascal_voc_segmentation_labels.txt; required */
    const char *voc_path;     /* NULL = $PICSEEK_VOC_SYNSETS, else data/voc_synsets.tsv */
    const char *words_path;   /* NULL = data/imagenet_words.tsv: GloVe names for the
                                 ImageNet classes whose label is a poor one */
    float modifier_weight;    /* weight of non-head name words; < 0 = default 0.5 */
} ps_bridge_opts;

/* Build the bridge.  glove may be NULL (then nothing has a name vector).
 * Errors name the file and line. */
ps_bridge *ps_bridge_load(const ps_wordnet *wn, const ps_glove *glove,
                          const ps_bridge_opts *opts, ps_error *err);
void ps_bridge_free(ps_bridge *b);

/* The SemCor sense counts the bridge loaded (from the WordNet folder), for
 * a query model to order base forms the same way (owned by b). */
const ps_sense_counts *ps_bridge_sense_counts(const ps_bridge *b);

/* ---- classes: c < PS_BRIDGE_CLASSES ---------------------------------- */

const char *ps_bridge_label(const ps_bridge *b, int c);    /* "golden retriever", "person" */
const char *ps_bridge_name(const ps_bridge *b, int c);     /* full label line / VOC name */
ps_class_source ps_bridge_source(int c);
int ps_bridge_source_index(int c);                          /* class id within its model */
int ps_bridge_nsynsets(const ps_bridge *b, int c);
uint32_t ps_bridge_synset(const ps_bridge *b, int c, int i); /* noun offset */
/* The class's unit name vector (glove dim floats) or NULL if it has none. */
const float *ps_bridge_name_vector(const ps_bridge *b, int c);

/* ---- dimensions: concepts, then VOC classes ---------------------------- */

size_t ps_bridge_nconcepts(const ps_bridge *b);
size_t ps_bridge_ndims(const ps_bridge *b); /* nconcepts + PS_VOC_CLASSES */
/* Dimension of VOC class v (0..20). */
size_t ps_bridge_voc_dim(const ps_bridge *b, int v);
/* The dimension of a concept synset, or -1 if it is not a concept. */
long ps_bridge_concept_dim(const ps_bridge *b, uint32_t synset);
/* The dimension's label: a class label for a class synset ("collie"), the
 * synset's first lemma for an inner concept ("dog", "wheeled vehicle"), the
 * VOC label for VOC dimensions.  Owned by the bridge. */
const char *ps_bridge_dim_label(const ps_bridge *b, size_t d);
ps_class_source ps_bridge_dim_source(const ps_bridge *b, size_t d);
/* The concept's synset offset (0 for VOC dimensions). */
uint32_t ps_bridge_dim_synset(const ps_bridge *b, size_t d);
/* The ImageNet classes below concept dimension d (itself included):
 * *classes points into b; returns their number (0 for VOC dimensions). */
size_t ps_bridge_dim_classes(const ps_bridge *b, size_t d, const uint16_t **classes);

/* A photo's mass on every dimension (ndims floats): for a concept the sum of
 * class_prob over the classes below it, for VOC class v voc_area[v]
 * (background 0).  Never fails; inputs are clamped to [0, 1]. */
void ps_bridge_photo_mass(const ps_bridge *b, const ps_features *f, float *mass);

/*
 * The relevance of word `i` of a parsed query to every dimension: writes
 * rel[ndims] (each in [0, 1]) and, if why is non-NULL, why[ndims].  The
 * query must come from a model using the same WordNet and GloVe.  Fails
 * only on a malformed WordNet file.
 */
int ps_bridge_word_relevance(const ps_bridge *b, const ps_bridge_params *p, const ps_query *q,
                             size_t i, float *rel, unsigned char *why, ps_error *err);

#endif
