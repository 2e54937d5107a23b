/*
 * dataset.h - load and validate the annotated photo-search dataset folder
 * (layout: ../shared/dataset/README.md):
 *
 *   train_dataset.csv      ','  header image,query_id,query_text
 *   ExpertAnnotations.tsv  tab, no header: image, caption_id, e1, e2, e3 (1..4)
 *   CrowdAnnotations.tsv   tab, no header: image, caption_id, agree_ratio,
 *                          agree_count, disagree_count
 *   test_queries.csv       '|'  header |query_id|query_text|image
 *   test_images.csv        header image
 *   train_images/, test_images/   the photos (listed, sniffed, not decoded)
 *
 * Every row is validated: image names are plain file names (no '/', no
 * control characters, not "." or ".."), caption and query ids have the form
 * <photo file name>#<n> (n a whole number), scores are whole numbers 1..4,
 * agree_ratio is a decimal number in [0,1] that matches
 * agree/(agree+disagree) to within 0.005, counts are whole numbers whose sum
 * is positive, query texts are non-empty and one caption id always has the
 * same text, and an (image, caption_id) pair - or a test query id / test
 * image - appears once per file.  All text is strict UTF-8 (csv.h).
 *
 * A bad row is an error "file:line: column N: reason" that stops the load,
 * unless opts.lenient: then it becomes a warning, the row is skipped and
 * counted in rows_skipped[file] (never dropped silently).  Broken CSV syntax
 * that the reader cannot resynchronise after (an unterminated quote, a stray
 * quote, a bare CR, an over-long field), a missing or empty file, and a bad
 * header stop the load in both modes.
 *
 * Ownership: the dataset owns every string its rows point to;
 * ps_dataset_free releases all of it.  Immutable after loading.
 */
#ifndef PS_DATA_DATASET_H
#define PS_DATA_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "data/photos.h"

enum {
    PS_DS_TRAIN,         /* train_dataset.csv */
    PS_DS_EXPERT,        /* ExpertAnnotations.tsv */
    PS_DS_CROWD,         /* CrowdAnnotations.tsv */
    PS_DS_TEST_QUERIES,  /* test_queries.csv */
    PS_DS_TEST_IMAGES,   /* test_images.csv */
    PS_DS_NFILES
};

/* The file name of PS_DS_* (e.g. "ExpertAnnotations.tsv"). */
const char *ps_dataset_file_name(int file);

typedef struct ps_train_row {
    const char *image, *query_id, *query_text;
    size_t line;
} ps_train_row;

typedef struct ps_expert_row {
    const char *image, *caption_id;
    int score[3];        /* each 1..4 */
    size_t line;
} ps_expert_row;

typedef struct ps_crowd_row {
    const char *image, *caption_id;
    double ratio;        /* in [0,1] */
    int agree, disagree;
    size_t line;
} ps_crowd_row;

typedef struct ps_test_query {
    long index;          /* the unnamed first column */
    const char *query_id, *query_text, *image;
    size_t line;
} ps_test_query;

typedef struct ps_dataset_opts {
    bool lenient;        /* bad rows: warn + skip instead of failing */
    bool photos;         /* list train_images/ and test_images/ (default true) */
    size_t max_warnings; /* warning messages kept (counts stay exact); 0 = 1000 */
} ps_dataset_opts;

void ps_dataset_opts_default(ps_dataset_opts *o);

struct ps_arena;

typedef struct ps_dataset {
    char *dir;
    ps_train_row *train;          size_t ntrain;
    ps_expert_row *expert;        size_t nexpert;
    ps_crowd_row *crowd;          size_t ncrowd;
    ps_test_query *test_queries;  size_t ntest_queries;
    const char **test_images;     size_t ntest_images;
    bool photos_listed;
    ps_photo_list train_photos, test_photos;
    /* Distinct image names referenced by the training files (train, expert,
     * crowd) / test files that are not in the photo folder (when listed). */
    size_t train_photos_missing, test_photos_missing;
    /* Lenient mode: rows skipped per PS_DS_* file, and the warnings. */
    size_t rows_skipped[PS_DS_NFILES];
    char **warnings;              size_t nwarnings;      /* kept messages */
    size_t warnings_total;
    struct ps_arena *arena;       /* private: string storage */
} ps_dataset;

/* Load dir (opts NULL = defaults).  On failure ds is left empty (nothing
 * to free) and err says which file, line and column. */
int ps_dataset_load(ps_dataset *ds, const char *dir, const ps_dataset_opts *opts, ps_error *err);
void ps_dataset_free(ps_dataset *ds);

/* Validators, public for tests and other loaders. */
bool ps_photo_name_valid(const char *s, size_t len);
/* 1 if id is <photo file name>#<n>; then *photo_len is the name's length
 * and *n the caption number. */
bool ps_caption_id_parse(const char *id, size_t len, size_t *photo_len, long *n);

#endif
