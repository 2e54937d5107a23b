/*
 * search.h - the search engine: open once, query many times, from any
 * number of threads.
 *
 *   ps_engine *e = ps_engine_open("picseek.db", scorer, &rule, NULL, &err);
 *   ps_results r;
 *   if (ps_engine_search(e, "a dog on a beach", 16, 10, &r, &err) == 0) { ... }
 *   ps_results_free(&r);
 *   ps_engine_close(e);
 *
 * Opening loads every indexed photo's embedding for the scorer into one
 * contiguous, aligned matrix (float16 by default, rank.h): from the
 * database's cache where
 * present, else computed from the stored features with scorer->embed_photo
 * (and written back to the cache when the database is writable).  After
 * that the engine never touches the database: it is an immutable snapshot
 * (reopen to see photos indexed since), and a query is one pass of AVX2 dot
 * products with a top-k heap (rank.h), split over opts.threads threads
 * when the matrix is large (more than PS_ENGINE_SPLIT_VALUES values).
 *
 * A query is checked in this order: it must be non-empty, at most
 * PS_QUERY_MAX_BYTES long, valid UTF-8 without NUL bytes; then the content
 * rule runs before anything else looks at it, and a blocked query gets no
 * results at all, only the disclaimer.  Restricted photos are returned
 * without their path.
 *
 * Ownership: the engine borrows `scorer` and `rule` (they must outlive it);
 * results own their hit array but borrow path strings from the engine.
 */
#ifndef PS_INDEX_SEARCH_H
#define PS_INDEX_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/json.h"
#include "index/rule.h"
#include "policy/policy.h"
#include "score/scorer.h"

#define PS_QUERY_MAX_BYTES 1000
#define PS_ENGINE_SPLIT_VALUES (4u << 20)
#define PS_SEARCH_MAX_K 1000
/* ps_engine_search's return value when the query itself is unusable (the
 * caller's input: usage error / HTTP 400), as opposed to -1 (failure). */
#define PS_SEARCH_BAD_QUERY (-2)

typedef struct ps_engine ps_engine;

enum ps_engine_precision {
    PS_ENGINE_F16 = 0, /* float16 rows with a per-row scale (default): half the
                        * memory and scan time; scores within ~2^-11 relative */
    PS_ENGINE_F32 = 1, /* exact float32 rows */
};

typedef struct ps_engine_opts {
    int busy_ms;   /* lock wait; < 0: PS_STORE_BUSY_MS */
    int precision; /* PS_ENGINE_F16 or PS_ENGINE_F32 */
    int threads;   /* threads one query may use on a large index; <= 0: 2 */
    size_t split_values; /* "large": rows x stride at least this; 0: PS_ENGINE_SPLIT_VALUES */
} ps_engine_opts;

/* busy_ms -1, float16, 2 threads. */
void ps_engine_opts_default(ps_engine_opts *o);

/* opts may be NULL (defaults).  Fails, with a message naming the file, for
 * a missing, locked, corrupt, foreign or newer database. */
ps_engine *ps_engine_open(const char *db_path, const ps_scorer *scorer, const ps_rule *rule,
                          const ps_engine_opts *opts, ps_error *err);
void ps_engine_close(ps_engine *e);

typedef struct ps_engine_info {
    size_t photos;     /* searchable photos */
    size_t dim;        /* embedding dimension */
    size_t cached;     /* embeddings read from the cache */
    size_t computed;   /* embeddings computed at open */
    size_t unusable;   /* photos left out: features of another version or damaged */
    bool cache_saved;  /* computed embeddings were written to the cache */
    int precision;     /* PS_ENGINE_F16 or PS_ENGINE_F32 */
    size_t bytes;      /* memory held by the engine */
} ps_engine_info;
void ps_engine_get_info(const ps_engine *e, ps_engine_info *out);

/* The searchable photo with this database id: *path its absolute path
 * (borrowed from the engine; NULL when restricted) and *restricted.
 * Returns 0, or -1 when the engine holds no photo with this id.  Thread-safe
 * like a search. */
int ps_engine_photo(const ps_engine *e, int64_t id, const char **path, bool *restricted);

typedef struct ps_hit {
    int64_t id;       /* the photo's id in the database */
    const char *path; /* absolute path; NULL when restricted (borrowed from the engine) */
    float score;      /* calibrated score */
    float raw;        /* query . photo */
    bool restricted;
    bool missing;     /* the file is no longer at path (moved or deleted since indexing) */
} ps_hit;

typedef struct ps_results {
    bool blocked;            /* the content rule blocked the query: no hits */
    ps_policy_result policy; /* what the rule matched */
    size_t n;
    ps_hit *hits;            /* best first */
    size_t nmissing;         /* hits with missing set */
    size_t searched;         /* photos scored */
} ps_results;

/* Returns 0, or PS_SEARCH_BAD_QUERY with the reason for an empty, too long
 * or invalid query. */
int ps_query_check(const char *q, size_t len, ps_error *err);

/* Search; k is clamped to [1, PS_SEARCH_MAX_K].  Returns 0 (*out filled, to
 * be freed with ps_results_free), PS_SEARCH_BAD_QUERY or -1.  Safe to call
 * from many threads at once. */
int ps_engine_search(const ps_engine *e, const char *q, size_t len, size_t k, ps_results *out,
                     ps_error *err);
void ps_results_free(ps_results *r);

/* The answer as JSON:
 * {"query","blocked","disclaimer","results":[{"id","path","score",
 *  "restricted","missing"[,"notice"]}]}; restricted photos have "path":null
 * and "notice":PS_POLICY_MASK_TEXT; a blocked query has the disclaimer and
 * no results. */
void ps_results_json(ps_json *j, const char *q, size_t len, const ps_results *r);
/* The same, calling extra (if not NULL) inside each result's object, after
 * its keys, to add more (e.g. why it matched). */
typedef void (*ps_hit_json_fn)(void *ctx, size_t i, const ps_hit *h, ps_json *j);
void ps_results_json_with(ps_json *j, const char *q, size_t len, const ps_results *r,
                          ps_hit_json_fn extra, void *ctx);

#endif
