/*
 * policy.h - the content rule: does a text refer to children?
 *
 * In some countries content that shows or describes children under 16 must
 * not be shown without a guardian's consent.  picseek decides this at word
 * level: the text is tokenized, each word reduced to its WordNet lemmas
 * ("children" -> child, "babies" -> baby), and a word is a match when one of
 * its lemmas is in the lexicon (a data file a deployment can edit, one
 * lemma per line, '#' comments).  Substrings never match: "cowboy" and
 * "kidney" are not "boy" and "kid".
 *
 * A ps_policy is immutable after loading and safe to share between threads.
 */
#ifndef PS_POLICY_H
#define PS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct ps_policy ps_policy;

#define PS_POLICY_MAX_MATCHES 16
#define PS_POLICY_LEMMA_MAX 48

typedef struct ps_policy_result {
    bool blocked;
    int nmatched;                                          /* distinct lemmas, in text order */
    char matched[PS_POLICY_MAX_MATCHES][PS_POLICY_LEMMA_MAX];
} ps_policy_result;

/* The disclaimer shown instead of results for a blocked query, and the text
 * shown in place of a restricted photo. */
#define PS_POLICY_DISCLAIMER \
    "This request may involve content about children, which cannot be shown without a guardian's consent."
#define PS_POLICY_MASK_TEXT \
    "This image is unavailable in your country in compliance with local laws."

/* Load the lexicon (NULL = the default: $PICSEEK_LEXICON, else
 * data/child_lexicon.txt in the source tree) and the WordNet morphology
 * (from $WNSEARCHDIR, else /usr/share/wordnet).  Errors name file:line. */
ps_policy *ps_policy_load(const char *lexicon_path, ps_error *err);
void ps_policy_free(ps_policy *p);

/* Check a text.  Fails (returns -1) only for invalid UTF-8, naming the byte
 * offset.  Texts of any length are handled in time linear in their length. */
int ps_policy_check(const ps_policy *p, const char *text, size_t len, ps_policy_result *out,
                    ps_error *err);

/* Number of lemmas in the lexicon. */
size_t ps_policy_lexicon_size(const ps_policy *p);

#endif
