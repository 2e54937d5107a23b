/*
 * http_thumbs.h - the server's thumbnail cache: JPEG bytes by photo, least
 * recently used evicted first, bounded in bytes, safe from many threads.
 *
 * A key is the photo's id plus its file's size and modification time, so a
 * photo edited on disk gets a new thumbnail rather than the stale one.
 * Ownership: the cache copies what is put in and hands out copies, so no
 * caller ever holds a pointer into it (an entry may be evicted at any time).
 */
#ifndef PS_SERVER_HTTP_THUMBS_H
#define PS_SERVER_HTTP_THUMBS_H

#include <stddef.h>
#include <stdint.h>

typedef struct ps_thumb_key {
    int64_t id, size, mtime_ns;
} ps_thumb_key;

typedef struct ps_thumb_cache ps_thumb_cache;

typedef struct ps_thumb_stats {
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
} ps_thumb_stats;

/* max_bytes bounds the data plus per-entry bookkeeping; an item larger than
 * an eighth of it is not cached. */
ps_thumb_cache *ps_thumb_cache_new(size_t max_bytes);
void ps_thumb_cache_free(ps_thumb_cache *c);

/* A malloc'd copy of the bytes for key (caller frees), or NULL. */
unsigned char *ps_thumb_cache_get(ps_thumb_cache *c, const ps_thumb_key *key, size_t *len);

/* Store a copy (replacing an entry with the same key), evicting the least
 * recently used entries to stay within the bound. */
void ps_thumb_cache_put(ps_thumb_cache *c, const ps_thumb_key *key, const unsigned char *data,
                        size_t len);

void ps_thumb_cache_stats_get(ps_thumb_cache *c, ps_thumb_stats *out);

#endif
