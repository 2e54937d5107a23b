/*
 * sensecount.h - how often each WordNet sense was seen in the semantically
 * tagged corpora (SemCor), from the database's cntlist.rev.
 *
 * WordNet lists a lemma's senses most frequent first, but the order alone
 * says nothing about how lopsided the senses are: "dog" has dog.n.01 tagged
 * 42 times and its other six senses (frump, cad, frank, ...) never, while
 * "bike" has no tagged sense at all.  The label bridge weighs a query word's
 * senses by these counts so that "dog" does not also mean a person.
 *
 * File format (cntlist.rev, one line per sense):
 *     sense_key sense_number tag_count      e.g. "dog%1:05:00:: 1 42"
 * where sense_key = lemma%P:FF:II:HEAD:HID and P is the part of speech
 * (1 noun, 2 verb, 3 adjective, 4 adverb, 5 adjective satellite).  Lines
 * that do not parse are skipped and counted (the file is an optional
 * refinement; a missing file gives an empty table).
 *
 * Immutable after loading; thread-safe.
 */
#ifndef PS_TEXT_SENSECOUNT_H
#define PS_TEXT_SENSECOUNT_H

#include <stddef.h>

#include "core/error.h"
#include "text/wordnet.h"

typedef struct ps_sense_counts ps_sense_counts;

/* Load dir/cntlist.rev (dir NULL = $WNSEARCHDIR, else /usr/share/wordnet).
 * A missing file gives an empty table, not an error; an unreadable or
 * oversized one is an error. */
ps_sense_counts *ps_sense_counts_load(const char *dir, ps_error *err);
/* Parse the file's contents (for tests). */
ps_sense_counts *ps_sense_counts_parse(const char *data, size_t len);
void ps_sense_counts_free(ps_sense_counts *t);

size_t ps_sense_counts_size(const ps_sense_counts *t);   /* senses listed */
size_t ps_sense_counts_skipped(const ps_sense_counts *t); /* malformed lines */

/* Tag count of sense `sense_number` (1-based, WordNet's order) of `lemma`
 * (lower case, '_' for spaces) in `pos`; 0 if not listed. */
unsigned ps_sense_count(const ps_sense_counts *t, ps_wn_pos pos, const char *lemma,
                        int sense_number);

#endif
