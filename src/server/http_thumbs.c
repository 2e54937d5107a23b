/*
 * http_thumbs.c - a byte-bounded LRU cache: a chained hash table for
 * lookup and a doubly linked list in recency order, under one mutex (a
 * lookup is a hash and a memcpy of some 20 KB; contention is not an issue
 * next to the decode a miss costs).
 */
#include "server/http_thumbs.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

typedef struct entry {
    ps_thumb_key key;
    unsigned char *data;
    size_t len;
    struct entry *prev, *next; /* recency list: head is the most recent */
    struct entry *chain;       /* hash bucket */
} entry;

struct ps_thumb_cache {
    pthread_mutex_t mu;
    entry **buckets;
    size_t nbuckets; /* power of two */
    entry *head, *tail;
    ps_thumb_stats st;
};

static size_t cost(size_t len)
{
    return len + sizeof(entry);
}

static uint64_t hash_key(const ps_thumb_key *k)
{
    /* splitmix64 steps over the three fields */
    uint64_t h = (uint64_t)k->id;
    uint64_t parts[2] = {(uint64_t)k->size, (uint64_t)k->mtime_ns};
    for (int i = 0; i < 3; i++) {
        h += 0x9e3779b97f4a7c15ULL;
        h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
        h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
        h ^= h >> 31;
        if (i < 2)
            h ^= parts[i];
    }
    return h;
}

static int key_eq(const ps_thumb_key *a, const ps_thumb_key *b)
{
    return a->id == b->id && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

ps_thumb_cache *ps_thumb_cache_new(size_t max_bytes)
{
    ps_thumb_cache *c = ps_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->nbuckets = 256;
    c->buckets = ps_xcalloc(c->nbuckets, sizeof *c->buckets);
    c->st.max_bytes = max_bytes;
    return c;
}

void ps_thumb_cache_free(ps_thumb_cache *c)
{
    if (!c)
        return;
    for (entry *e = c->head, *next; e; e = next) {
        next = e->next;
        free(e->data);
        free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static entry **bucket(ps_thumb_cache *c, const ps_thumb_key *k)
{
    return &c->buckets[hash_key(k) & (c->nbuckets - 1)];
}

static void list_unlink(ps_thumb_cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(ps_thumb_cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static entry *find(ps_thumb_cache *c, const ps_thumb_key *k)
{
    for (entry *e = *bucket(c, k); e; e = e->chain)
        if (key_eq(&e->key, k))
            return e;
    return NULL;
}

/* Remove e from the table and the list and free it. */
static void drop(ps_thumb_cache *c, entry *e)
{
    entry **pp = bucket(c, &e->key);
    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    list_unlink(c, e);
    c->st.entries--;
    c->st.bytes -= cost(e->len);
    free(e->data);
    free(e);
}

static void grow_table(ps_thumb_cache *c)
{
    size_t n = c->nbuckets * 2;
    entry **b = ps_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (entry *e = c->buckets[i], *next; e; e = next) {
            next = e->chain;
            entry **slot = &b[hash_key(&e->key) & (n - 1)];
            e->chain = *slot;
            *slot = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

unsigned char *ps_thumb_cache_get(ps_thumb_cache *c, const ps_thumb_key *key, size_t *len)
{
    unsigned char *copy = NULL;
    pthread_mutex_lock(&c->mu);
    entry *e = find(c, key);
    if (e) {
        list_unlink(c, e);
        list_push_front(c, e);
        copy = ps_xmalloc(e->len ? e->len : 1);
        memcpy(copy, e->data, e->len);
        *len = e->len;
        c->st.hits++;
    } else {
        c->st.misses++;
    }
    pthread_mutex_unlock(&c->mu);
    return copy;
}

void ps_thumb_cache_put(ps_thumb_cache *c, const ps_thumb_key *key, const unsigned char *data,
                        size_t len)
{
    if (cost(len) > c->st.max_bytes / 8)
        return;
    /* Copy outside the lock. */
    entry *n = ps_xcalloc(1, sizeof *n);
    n->key = *key;
    n->len = len;
    n->data = ps_xmalloc(len ? len : 1);
    memcpy(n->data, data, len);

    pthread_mutex_lock(&c->mu);
    entry *old = find(c, key);
    if (old)
        drop(c, old);
    while (c->tail && c->st.bytes + cost(len) > c->st.max_bytes) {
        drop(c, c->tail);
        c->st.evictions++;
    }
    if (c->st.entries + 1 > c->nbuckets)
        grow_table(c);
    entry **slot = bucket(c, key);
    n->chain = *slot;
    *slot = n;
    list_push_front(c, n);
    c->st.entries++;
    c->st.bytes += cost(len);
    pthread_mutex_unlock(&c->mu);
}

void ps_thumb_cache_stats_get(ps_thumb_cache *c, ps_thumb_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}
