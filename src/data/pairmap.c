#include "data/pairmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* FNV-1a over both strings with a separator byte that cannot occur inside
 * a C string, so ("ab","c") and ("a","bc") hash apart. */
static size_t hash_pair(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    h = (h ^ 0xffu) * 1099511628211ull;
    for (const unsigned char *p = (const unsigned char *)b; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static ps_pairmap_slot *find(const ps_pairmap *m, const char *a, const char *b, size_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        ps_pairmap_slot *s = &m->slots[i];
        if (!s->a || (s->hash == h && strcmp(s->a, a) == 0 && strcmp(s->b, b) == 0))
            return s;
    }
}

int ps_pairmap_get(const ps_pairmap *m, const char *a, const char *b, size_t *value)
{
    if (m->cap == 0)
        return 0;
    ps_pairmap_slot *s = find(m, a, b, hash_pair(a, b));
    if (!s->a)
        return 0;
    if (value)
        *value = s->value;
    return 1;
}

static void grow(ps_pairmap *m)
{
    ps_pairmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->slots = ps_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].a)
            *find(m, old.slots[i].a, old.slots[i].b, old.slots[i].hash) = old.slots[i];
    free(old.slots);
}

int ps_pairmap_put(ps_pairmap *m, const char *a, const char *b, size_t value, size_t *existing)
{
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    size_t h = hash_pair(a, b);
    ps_pairmap_slot *s = find(m, a, b, h);
    if (s->a) {
        if (existing)
            *existing = s->value;
        return 1;
    }
    s->a = a;
    s->b = b;
    s->hash = h;
    s->value = value;
    m->n++;
    return 0;
}

void ps_pairmap_free(ps_pairmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}
