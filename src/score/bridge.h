/*
 * bridge.h - the label bridge: how relevant is a query word to each class the
 * image models can name?
 *
 * The models name 1001 ImageNet classes (MobileNetV2; class 0 background)
 * and 21 Pascal VOC classes (DeepLabV3; class 0 background).  The bridge
 * numbers them together, PS_BRIDGE_CLASSES in all: class c < 1001 is
 * ImageNet class c, class 1001 + v is VOC class v.  Each class has
 *
 *  - WordNet 3.0 noun synsets: an ImageNet class IS one (imagenet_wnids.txt,
 *    "n02084071"); VOC classes get hand-picked ones from data/voc_synsets.tsv
 *    (person -> person.n.01, people.n.01, crowd.n.01; boat -> boat.n.01,
 *    vessel.n.02; ...).
 *  - a name vector in GloVe space: the class's first label name
 *    ("golden retriever"; data/imagenet_words.tsv replaces a few that GloVe
 *    lacks or whose last word is not the head, e.g. "bicycle-built-for-two"
 *    -> "tandem bicycle"), its head (last) word weighted 1 and the mean of
 *    the other words weighted `modifier_weight`, scaled to unit length.
 *    Weighting the head keeps "red" away from "red wine" and "white" from
 *    "great white shark".
 *
 * The relevance of one query word to a class, in [0, 1], is the largest of
 * (each kind can be turned off for ablation):
 *
 *  - down:  the class is a kind of the word ("dog" -> collie: collie is-a dog
 *           three hypernym steps up):  sense_w * down_decay ^ depth
 *  - up:    the word is a kind of the class ("man" -> VOC person, two steps):
 *           sense_w * up_decay ^ depth
 *  - glove: word-vector similarity of the word and the class name, above a
 *           floor:  glove_weight * max(0, (cos - floor) / (1 - floor))
 *
 * where the word's noun synsets are taken in WordNet's sense order (most
 * frequent first), at most max_senses per lemma, the k-th (from 0) weighted
 *
 *     sense_w = sense_decay ^ k * (count_k + 1) / (max_j count_j + 1)
 *
 * with count_k its SemCor tag count (text/sensecount.h; 0 when untagged):
 * "dog" is dog.n.01 (42 tags), hardly ever its other senses (a frump, a
 * cad, a frank), while the untagged senses of "bike" (motorcycle, bicycle)
 * keep 1 and sense_decay.  The class hierarchy walk covers hypernyms (@) and
 * instance hypernyms (@i).
 *
 * A ps_bridge is built once (ps_bridge_load: parses the label files, walks
 * each class's ancestors, computes name vectors; about a second) and is then
 * immutable and thread-safe.  It borrows the WordNet database and the GloVe
 * vectors, which must outlive it.
 */
#ifndef PS_SCORE_BRIDGE_H
#define PS_SCORE_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/features.h"
#include "text/glove.h"
#include "text/query.h"
#include "text/wordnet.h"

#define PS_BRIDGE_CLASSES (PS_IMAGENET_CLASSES + PS_VOC_CLASSES)
#define PS_BRIDGE_VOC0 PS_IMAGENET_CLASSES /* bridge index of VOC class 0 */
#define PS_BRIDGE_MAX_SYNSETS 4            /* synsets of one class, at most */

typedef struct ps_bridge ps_bridge;

typedef enum ps_class_source { PS_SRC_IMAGENET, PS_SRC_VOC } ps_class_source;

typedef struct ps_bridge_params {
    float down_decay;  /* per hypernym step, class below word; 0 = no "down" */
    int max_down_depth;
    float up_decay;    /* per hypernym step, word below class; 0 = no "up" */
    int max_up_depth;
    float sense_decay; /* weight ratio of successive senses */
    int max_senses;    /* senses used per noun lemma (at most 64) */
    int sense_counts;  /* 1: weigh senses by their SemCor tag counts too */
    float glove_weight; /* 0 = no word-vector similarity */
    float glove_floor;  /* cosine at or below which similarity counts 0 */
    int use_voc;        /* 0: VOC classes get no relevance */
} ps_bridge_params;

/* The defaults picseek uses (documented in docs/EVALUATION.md). */
void ps_bridge_params_default(ps_bridge_params *p);

/* Why a class is relevant to a word (for explanations). */
typedef enum ps_bridge_why {
    PS_WHY_NONE = 0,
    PS_WHY_DOWN,  /* the class is a kind of the word */
    PS_WHY_UP,    /* the word is a kind of the class */
    PS_WHY_GLOVE, /* similar words */
} ps_bridge_why;
const char *ps_bridge_why_name(ps_bridge_why w); /* "is-a", "kind-of", "similar", "" */

typedef struct ps_bridge_opts {
    const char *models_dir;   /* holds imagenet_labels.txt, imagenet_wnids.txt,
                                 pascal_voc_segmentation_labels.txt; required */
    const char *voc_path;     /* NULL = $PICSEEK_VOC_SYNSETS, else data/voc_synsets.tsv */
    const char *words_path;   /* NULL = data/imagenet_words.tsv: GloVe names for the
                                 ImageNet classes whose label is a poor one */
    float modifier_weight;    /* weight of non-head name words; < 0 = default 0.5 */
} ps_bridge_opts;

/* Build the bridge.  glove may be NULL (then no class has a name vector).
 * Errors name the file and line. */
ps_bridge *ps_bridge_load(const ps_wordnet *wn, const ps_glove *glove,
                          const ps_bridge_opts *opts, ps_error *err);
void ps_bridge_free(ps_bridge *b);

/* Class metadata; c < PS_BRIDGE_CLASSES. */
const char *ps_bridge_label(const ps_bridge *b, int c);    /* "golden retriever", "person" */
const char *ps_bridge_name(const ps_bridge *b, int c);     /* full label line / VOC name */
ps_class_source ps_bridge_source(int c);
int ps_bridge_source_index(int c);                          /* class id within its model */
int ps_bridge_nsynsets(const ps_bridge *b, int c);
uint32_t ps_bridge_synset(const ps_bridge *b, int c, int i); /* noun offset */
/* The class's unit name vector (glove dim floats) or NULL if it has none. */
const float *ps_bridge_name_vector(const ps_bridge *b, int c);

/*
 * The relevance of word `i` of a parsed query to every class: writes
 * rel[PS_BRIDGE_CLASSES] (each in [0, 1]) and, if why is non-NULL,
 * why[PS_BRIDGE_CLASSES].  Background classes always get 0.  The query
 * must come from a model using the same WordNet and GloVe.  Fails only on
 * a malformed WordNet file.  Cost: the word's senses' ancestor walks plus
 * one dot product per class.
 */
int ps_bridge_word_relevance(const ps_bridge *b, const ps_bridge_params *p, const ps_query *q,
                             size_t i, float *rel, unsigned char *why, ps_error *err);

#endif
