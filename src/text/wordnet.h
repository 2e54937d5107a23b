/*
 * wordnet.h - a read-only reader of the WordNet 3.0 database files.
 *
 * picseek reads the plain-text database that Debian's `wordnet-base`
 * installs in /usr/share/wordnet (index.{noun,verb,adj,adv}, data.*, *.exc)
 * with its own code rather than libwordnet, whose search functions keep
 * global mutable state and are not thread-safe.
 *
 * Loading (ps_wordnet_load, a few tens of milliseconds) maps the index and
 * data files read-only, parses and validates every index and exception line
 * into hash tables, and leaves the data files to be read on demand: a synset
 * is parsed from its line in data.POS when asked for, with every field
 * bounds-checked.  A malformed line is reported as "path: byte offset N:
 * reason", never a crash.  After loading, a ps_wordnet is immutable; every
 * function below only reads it and may be called from many threads at once.
 *
 * Conventions: lemmas are lowercase with '_' for spaces ("domestic_dog"), as
 * WordNet writes them; a synset is named by its part of speech and the byte
 * offset of its line in data.POS (the number in an ImageNet id "n02084071").
 */
#ifndef PS_TEXT_WORDNET_H
#define PS_TEXT_WORDNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ps_wordnet ps_wordnet;

typedef enum ps_wn_pos { PS_WN_NOUN, PS_WN_VERB, PS_WN_ADJ, PS_WN_ADV, PS_WN_NPOS } ps_wn_pos;

/* Load the database from `dir`; NULL means $WNSEARCHDIR if set, else
 * /usr/share/wordnet.  The returned object is freed with ps_wordnet_free. */
ps_wordnet *ps_wordnet_load(const char *dir, ps_error *err);
void ps_wordnet_free(ps_wordnet *wn);

/* The folder the database was loaded from (owned by wn). */
const char *ps_wordnet_dir(const ps_wordnet *wn);

/* Number of lemmas in index.POS. */
size_t ps_wn_lemma_count(const ps_wordnet *wn, ps_wn_pos pos);

/* "noun", "verb", "adj", "adv". */
const char *ps_wn_pos_name(ps_wn_pos pos);

/* ---- lemmas and morphology ------------------------------------------- */

/* Is `lemma` (len bytes, exact match) in index.POS? */
bool ps_wn_has_lemma(const ps_wordnet *wn, ps_wn_pos pos, const char *lemma, size_t len);

#define PS_WN_MAX_LEMMAS 8   /* base forms returned by ps_wn_morphy, at most */
#define PS_WN_LEMMA_MAX 80   /* bytes of one base form, with the NUL */

typedef struct ps_wn_lemmas {
    int n;
    char lemma[PS_WN_MAX_LEMMAS][PS_WN_LEMMA_MAX];
} ps_wn_lemmas;

/*
 * The base forms (lemmas) of `word` in one part of speech, as WordNet's
 * morphy() finds them; returns out->n (0 when there is none).
 *
 *   1. the word itself, if it is in index.POS;
 *   2. if the word is in POS.exc, the base forms listed there (those in the
 *      index), and nothing else;
 *   3. otherwise (not for adverbs) the detachment rules of the POS, e.g. for
 *      nouns -s, -ses>-s, -xes>-x, -zes>-z, -ches>-ch, -shes>-sh, -men>-man,
 *      -ies>-y; for verbs -s, -ies>-y, -es>-e, -es, -ed>-e, -ed, -ing>-e,
 *      -ing; for adjectives -er, -est, -er>-e, -est>-e; each result that is in
 *      the index is kept.  As in morphy, a noun ending in -ss or of two
 *      letters or fewer gets no rule, and a noun ending in -ful is reduced
 *      on its stem ("boxesful" -> "boxful").
 *   4. a collocation ("attorneys_general", "sons-in-law") is reduced word by
 *      word and kept if the result is in the index.
 *
 * Every candidate is looked up as WordNet's getindex() does (as written,
 * then with '_' and '-' swapped, without them, without '.'), and the
 * spelling found in the index is returned ("felos_de_se" -> "felo-de-se").
 * One difference from the C library, on purpose: morphy() stops at the
 * first rule whose result is in the index, this returns every such result,
 * in rule order (so the first is morphy's).  Verb+preposition collocations
 * ("looking_for") get no special treatment.  ASCII letters are lowercased and
 * spaces become '_'; words of PS_WN_LEMMA_MAX bytes or more have no lemma.
 * Examples: noun "children" -> child, "babies" -> baby, "geese" -> goose,
 * "men" -> man, "dogs" -> dog; verb "running" -> run.
 */
int ps_wn_morphy(const ps_wordnet *wn, ps_wn_pos pos, const char *word, size_t len,
                 ps_wn_lemmas *out);

/* The forms the detachment rules of `pos` give for `word`, NOT checked
 * against the index (no exception list either): for words WordNet does not
 * know, e.g. "kiddos" -> "kiddo".  Same rules, guards and order as
 * ps_wn_morphy step 3; returns out->n. */
int ps_wn_rule_forms(ps_wn_pos pos, const char *word, size_t len, ps_wn_lemmas *out);

/* The synsets of a lemma in index.POS, in WordNet's sense order (most
 * frequent first): *offsets points into wn (valid until ps_wordnet_free).
 * Returns their number, 0 if the lemma is not in the index. */
size_t ps_wn_synsets(const ps_wordnet *wn, ps_wn_pos pos, const char *lemma, size_t len,
                     const uint32_t **offsets);

/* ---- synsets ---------------------------------------------------------- */

/* A pointer (relation) from a synset, as listed in data.POS. */
typedef struct ps_wn_pointer {
    char symbol[3];      /* "@", "@i", "~", "~i", "#m", "!", ... NUL-terminated */
    ps_wn_pos pos;       /* part of speech of the target synset */
    uint32_t offset;     /* the target synset */
    int source, target;  /* word numbers for lexical pointers; 0 = whole synset */
} ps_wn_pointer;

typedef struct ps_wn_synset {
    uint32_t offset;
    ps_wn_pos pos;
    char ss_type;        /* 'n', 'v', 'a', 's' (adjective satellite) or 'r' */
    int lexfile;         /* lexicographer file number, e.g. 5 = noun.animal */
    size_t nwords;
    char **words;        /* as in WordNet: '_' for spaces, case kept ("Canis_familiaris");
                            adjective markers such as "(a)" removed */
    size_t nptrs;
    ps_wn_pointer *ptrs;
    char *gloss;         /* definition and examples, "" if none */
} ps_wn_synset;

/* Parse the synset at `offset` of data.POS into a new object (free it with
 * ps_wn_synset_free).  Fails with "path: byte offset N: reason" if the
 * offset is not the start of a synset line or the line is malformed. */
ps_wn_synset *ps_wn_synset_read(const ps_wordnet *wn, ps_wn_pos pos, uint32_t offset,
                                ps_error *err);
void ps_wn_synset_free(ps_wn_synset *s);

#define PS_WN_MAX_PTRS 1000 /* a synset line lists at most 999 pointers */

/* The targets of a noun synset's pointers of the kinds in `which`, written
 * to out (at most cap; PS_WN_MAX_PTRS is always enough), in file order.
 * Returns how many, or -1 on a malformed line.  No allocation. */
enum {
    PS_WN_REL_HYPERNYM = 1,          /* @  */
    PS_WN_REL_INSTANCE_HYPERNYM = 2, /* @i */
    PS_WN_REL_HYPONYM = 4,           /* ~  */
    PS_WN_REL_INSTANCE_HYPONYM = 8,  /* ~i */
};
int ps_wn_noun_related(const ps_wordnet *wn, uint32_t offset, unsigned which, uint32_t *out,
                       size_t cap, ps_error *err);

/* Shorthands: hypernyms are @ and @i, hyponyms ~ and ~i. */
int ps_wn_hypernyms(const ps_wordnet *wn, uint32_t offset, uint32_t *out, size_t cap,
                    ps_error *err);
int ps_wn_hyponyms(const ps_wordnet *wn, uint32_t offset, uint32_t *out, size_t cap,
                   ps_error *err);

/*
 * Is noun synset `a` the same as, or a descendant of, noun synset `b` along
 * hypernym links (@ and @i)?  Returns 1 and sets *depth (if non-NULL) to the
 * fewest hypernym steps from a up to b (0 when a == b), 0 if not, -1 on a
 * malformed file.  E.g. is_a(collie, dog) = 1 with depth 3 (collie ->
 * shepherd_dog -> working_dog -> dog).  Cost: a breadth-first walk over a's ancestors
 * (a few dozen synsets in WordNet 3.0; at most 4096, beyond which it fails).
 */
int ps_wn_noun_is_a(const ps_wordnet *wn, uint32_t a, uint32_t b, int *depth, ps_error *err);

/* Fewest hypernym steps from noun synset `a` to a root (a synset with no
 * hypernym; entity.n.01 in WordNet 3.0).  Returns the depth or -1. */
int ps_wn_noun_depth(const ps_wordnet *wn, uint32_t a, ps_error *err);

/* Parse an ImageNet-style id "n02084071" (a POS letter n/v/a/s/r and eight
 * digits, nothing else).  Returns 0, or -1 with a message. */
int ps_wn_parse_id(const char *s, ps_wn_pos *pos, uint32_t *offset, ps_error *err);

#endif
