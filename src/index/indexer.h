/*
 * indexer.h - bring the index database up to date with a folder.
 *
 *   1. Walk the folder (scan.h).
 *   2. Compare with what the database holds for that folder: a file whose
 *      size and modification time are unchanged is not read again.
 *   3. Read every new or changed file on `nworkers` threads: sniff the
 *      magic bytes, hash the content (SHA-256), and run the feature
 *      extractor, unless the hash shows the content is already indexed
 *      (unchanged content with a new mtime, or a copied/moved photo), in
 *      which case the stored features are reused.
 *   4. The calling thread is the only writer: it commits finished files as
 *      they arrive (every result waiting in the queue in one transaction),
 *      so a crash or kill -9 at any moment loses at most the photos still
 *      being extracted, and the next run picks up exactly those.
 *   5. Remove the rows of files that are gone (except under folders that
 *      could not be read this time).
 *
 * A file the extractor cannot read (corrupt, truncated, not an image) is
 * recorded as skipped with the reason and is not retried until it changes.
 */
#ifndef PS_INDEX_INDEXER_H
#define PS_INDEX_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "nn/features.h"

/* The feature extractor.  Called concurrently from the worker threads;
 * `worker` (0 .. nworkers-1) lets an implementation keep per-thread state
 * (each worker makes its calls one at a time).  `data`/`len` are the whole
 * file, already read; `path` is for messages.  Returns 0 and fills *out, or
 * PS_EXTRACT_SKIP with the reason in err (the file is recorded as skipped),
 * or PS_EXTRACT_FATAL to stop the whole run with err. */
typedef int (*ps_extract_fn)(void *ctx, int worker, const char *path, const unsigned char *data,
                             size_t len, ps_features *out, ps_error *err);
#define PS_EXTRACT_SKIP (-1)
#define PS_EXTRACT_FATAL (-2)

typedef struct ps_index_progress {
    size_t done, total; /* files read so far / to read in this run */
    double elapsed_s;   /* since the reading started */
    double rate;        /* files per second so far */
    double eta_s;       /* estimated seconds left, -1 when unknown */
    int finished;       /* 1 on the last call */
} ps_index_progress;
typedef void (*ps_progress_fn)(void *ctx, const ps_index_progress *p);

typedef struct ps_index_opts {
    const char *db_path;
    const char *root;
    ps_extract_fn extract;
    void *extract_ctx;
    int nworkers;            /* 0 means 2 */
    int busy_ms;             /* lock wait; < 0 means PS_STORE_BUSY_MS */
    size_t max_file_bytes;   /* larger files are skipped; 0 means 256 MiB */
    ps_progress_fn progress; /* optional; called from the calling thread */
    void *progress_ctx;
} ps_index_opts;

typedef struct ps_index_skip {
    char *rel;
    char *reason;
} ps_index_skip;

typedef struct ps_index_summary {
    char *root;            /* the folder, resolved to an absolute path */
    size_t files;          /* regular files found */
    size_t processed;      /* new or changed files read this run */
    size_t added;          /*   of which new photos */
    size_t updated;        /*   of which changed photos */
    size_t reused;         /*   of which took the features of identical content */
    size_t skipped;        /*   of which were skipped (listed in skips) */
    size_t unchanged;      /* files not read again, or whose content was unchanged */
    size_t removed;        /* rows of files that are gone */
    ps_index_skip *skips;  /* the files skipped this run, with reasons */
    char **problems;       /* folder walk problems (unreadable folders, link loops) */
    size_t nproblems;
    int64_t total_ok;      /* photos of this folder in the index after the run */
    int64_t total_skipped; /* files of this folder recorded as skipped */
    double seconds;
} ps_index_summary;

/* Index opts->root into opts->db_path (created if missing).  Returns 0 when
 * the run completed (problems and skipped files included), -1 on an error
 * that stopped it (what was committed before stays). */
int ps_index_run(const ps_index_opts *opts, ps_index_summary *sum, ps_error *err);
void ps_index_summary_free(ps_index_summary *sum);

#endif
