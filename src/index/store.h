/*
 * store.h - the index database: one SQLite file holding, for every file
 * found under the indexed folders, what picseek knows about it.
 *
 * Schema (format PS_STORE_FORMAT, kept in PRAGMA user_version; PRAGMA
 * application_id marks the file as picseek's):
 *
 *   roots(id, path)                   absolute, resolved folder paths
 *   photos(id, root_id, rel, name,    rel: path under the root; name: its
 *          size, mtime_ns, sha256,    last component (captions name photos
 *          status, skip_reason,       by it); status 0 ok / 1 skipped;
 *          restricted, indexed_at,    restricted: PS_RESTRICT_* bits
 *          features_version)
 *   features(photo_id, blob)          blob.h layout (float16), ok photos only
 *   embeddings(id, scorer, photo_id,  cached photo embeddings per scorer
 *              vec)                   name (float32 blobs), dropped when a
 *                                     photo's features change
 *   captions(caption_id, photo_name,  imported captions; blocked: the
 *            text, blocked, source)   content rule matched the text
 *
 * Deleting a photo cascades to its features and embeddings.
 *
 * The file is in WAL mode, so one writer (picseek index) and any number of
 * readers (picseek search, the server) work at the same time; every
 * connection waits up to busy_ms for a lock before failing with "locked".
 * Every failure names the file and says what to do: missing, not a
 * picseek database, corrupt, locked, created by a newer picseek.
 *
 * A ps_store is one connection: use it from one thread at a time.
 * Ownership: ps_store_open returns a handle that ps_store_close frees;
 * list functions return arrays the matching *_free releases.
 */
#ifndef PS_INDEX_STORE_H
#define PS_INDEX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/features.h"

#define PS_STORE_FORMAT 1
#define PS_STORE_APP_ID 0x50534B31 /* "PSK1" */
#define PS_STORE_BUSY_MS 5000      /* default wait for a lock */

enum ps_store_mode {
    PS_STORE_OPEN = 0,   /* must exist; read-write when possible, else read-only */
    PS_STORE_CREATE = 1, /* create (with the schema) if missing; read-write */
};

enum ps_photo_status { PS_PHOTO_OK = 0, PS_PHOTO_SKIPPED = 1 };

/* Why a photo is restricted (bits of photos.restricted). */
#define PS_RESTRICT_CAPTIONS 1u   /* one of its captions is blocked by the content rule */
#define PS_RESTRICT_CLASSIFIER 2u /* a classifier flagged its pixels */

typedef struct ps_store ps_store;

ps_store *ps_store_open(const char *path, int mode, int busy_ms, ps_error *err);
void ps_store_close(ps_store *st);
const char *ps_store_path(const ps_store *st);
int ps_store_readonly(const ps_store *st);

/* Transactions (BEGIN IMMEDIATE: takes the write lock up front, waiting up
 * to busy_ms). */
int ps_store_begin(ps_store *st, ps_error *err);
int ps_store_commit(ps_store *st, ps_error *err);
void ps_store_rollback(ps_store *st);

/* The id of a root folder, added if new. */
int ps_store_root(ps_store *st, const char *abs_path, int64_t *id, ps_error *err);

/* What the indexer compares a file against. */
typedef struct ps_store_row {
    int64_t id;
    char *rel;
    int64_t size, mtime_ns;
    int status;
    int features_version; /* 0 when there are no features */
    int has_sha;
    unsigned char sha256[32];
} ps_store_row;

/* All rows of one root, sorted by rel (bytewise). */
int ps_store_list_root(ps_store *st, int64_t root_id, ps_store_row **rows, size_t *n, ps_error *err);
void ps_store_rows_free(ps_store_row *rows, size_t n);

/* Content hashes of photos whose features are current, sorted by hash, so
 * a copied or moved photo reuses its features. */
typedef struct ps_store_hash {
    unsigned char sha256[32];
    int64_t id;
} ps_store_hash;
int ps_store_list_hashes(ps_store *st, ps_store_hash **out, size_t *n, ps_error *err);
/* Binary search in a sorted hash list; returns the photo id or 0. */
int64_t ps_store_hash_find(const ps_store_hash *h, size_t n, const unsigned char sha256[32]);

/* One finished file, written by ps_store_put_photo (insert or replace the
 * row for root_id+rel, keeping its id). */
typedef struct ps_photo_rec {
    int64_t root_id;
    const char *rel;
    int64_t size, mtime_ns;
    const unsigned char *sha256; /* NULL when the file could not be read */
    int status;                  /* PS_PHOTO_OK or PS_PHOTO_SKIPPED */
    const char *skip_reason;     /* status skipped */
    const ps_features *features; /* status ok: the features, or */
    int64_t copy_from;           /* status ok: copy them from this photo */
} ps_photo_rec;

/* Returns 0, or 1 when copy_from named a photo that no longer has
 * features (nothing written), or -1 on error. */
int ps_store_put_photo(ps_store *st, const ps_photo_rec *rec, int64_t *id, ps_error *err);
/* Record a new size/mtime for a photo whose content did not change. */
int ps_store_touch_photo(ps_store *st, int64_t id, int64_t size, int64_t mtime_ns, ps_error *err);
int ps_store_remove_photo(ps_store *st, int64_t id, ps_error *err);
/* Set or clear the classifier bit of a photo's restriction. */
int ps_store_set_classifier_flag(ps_store *st, int64_t id, int on, ps_error *err);

/* Captions (insert or replace by caption_id).  photo_name is the photo's
 * file name; ps_store_refresh_restrictions then recomputes the captions
 * bit of every photo (a photo inserted later gets it on insert). */
int ps_store_put_caption(ps_store *st, const char *caption_id, const char *photo_name,
                         const char *text, int blocked, const char *source, ps_error *err);
int ps_store_refresh_restrictions(ps_store *st, ps_error *err);
/* Ids of the ok photos no imported caption describes (by file name): the
 * photos the content classifier decides for.  *ids is malloc'd (caller
 * frees). */
int ps_store_uncaptioned_photos(ps_store *st, int64_t **ids, size_t *n, ps_error *err);
/* Captions imported from `source`, and how many of them are blocked. */
int ps_store_caption_counts(ps_store *st, const char *source, size_t *n, size_t *blocked, ps_error *err);

/* One indexed (ok) photo as the search engine loads it.  Pointers are valid
 * only during the callback. */
typedef struct ps_store_photo {
    int64_t id;
    const char *root, *rel;
    unsigned restricted;
    const void *embedding; /* cached float32 vector for the scorer, or NULL */
    size_t embedding_len;
} ps_store_photo;
typedef int (*ps_store_photo_fn)(void *ctx, const ps_store_photo *p, ps_error *err);

/* Call fn for every ok photo in id order, with its cached embedding for
 * `scorer` if any.  fn may call ps_store_load_features on the same store.
 * Stops at the first non-zero return of fn (and returns it). */
int ps_store_each_photo(ps_store *st, const char *scorer, ps_store_photo_fn fn, void *ctx,
                        ps_error *err);

/* Number of ok photos. */
int ps_store_count_ok(ps_store *st, int64_t *n, ps_error *err);

/* Read and decode one photo's features.  Returns 0, 1 when the photo has
 * no usable features (none stored, another features version, damaged
 * blob: err says which), or -1 on a database error. */
int ps_store_load_features(ps_store *st, int64_t id, ps_features *out, ps_error *err);

/* Cache embeddings (dim floats each) for n photos, in transactions of at
 * most a few thousand rows so the writer lock is held only briefly. */
int ps_store_put_embeddings(ps_store *st, const char *scorer, const int64_t *ids, const float *vecs,
                            size_t n, size_t dim, ps_error *err);

typedef struct ps_store_stats {
    int64_t roots, ok, skipped;
    int64_t restricted;             /* ok photos restricted for any reason */
    int64_t restricted_by_captions; /* ok photos with a blocked caption */
    int64_t captions, blocked_captions, embeddings;
} ps_store_stats;
int ps_store_get_stats(ps_store *st, ps_store_stats *out, ps_error *err);

/* PRAGMA integrity_check: *report is "ok" or the problems (caller frees). */
int ps_store_integrity(ps_store *st, char **report, ps_error *err);

/* Run one SQL statement without results (for tests and maintenance). */
int ps_store_exec(ps_store *st, const char *sql, ps_error *err);

#endif
