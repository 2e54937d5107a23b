/*
 * pairmap.h - a hash map from an (image, caption_id) pair of strings to a
 * row index, for duplicate detection and joins between annotation files.
 *
 * The map borrows the key strings: they must outlive it (they point into a
 * loaded ps_dataset).  Open addressing with linear probing; the table grows
 * at 50% load, so lookups stay O(1) for any input size.
 */
#ifndef PS_DATA_PAIRMAP_H
#define PS_DATA_PAIRMAP_H

#include <stddef.h>

typedef struct ps_pairmap_slot {
    const char *a, *b;
    size_t value;
    size_t hash;
} ps_pairmap_slot;

typedef struct ps_pairmap {
    ps_pairmap_slot *slots;  /* slots[i].a == NULL: empty */
    size_t cap, n;
} ps_pairmap;

/* Look up (a, b): 1 and *value if present, else 0. */
int ps_pairmap_get(const ps_pairmap *m, const char *a, const char *b, size_t *value);

/* Insert (a, b) -> value if absent and return 0; if present, leave the map
 * unchanged, set *existing to the stored value and return 1. */
int ps_pairmap_put(ps_pairmap *m, const char *a, const char *b, size_t value, size_t *existing);

void ps_pairmap_free(ps_pairmap *m);

#endif
