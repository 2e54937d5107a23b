/*
 * captions.h - import photo captions and mark the photos whose captions
 * the content rule blocks as restricted.
 *
 * Two file formats are read, told apart by their header line:
 *
 *   train_dataset.csv   ','  image,query_id,query_text
 *   test_queries.csv    '|'  |query_id|query_text|image
 *
 * A caption id is "<photo file>#n" and the caption describes the photo
 * named in the id (in train_dataset.csv the `image` column is a photo the
 * caption was *compared* with, not the photo it describes).  Each distinct
 * caption is checked with the content rule and stored; then every indexed
 * photo (any folder) whose file name has a blocked caption is restricted,
 * and photos indexed later get the flag when they are added.
 *
 * The import is one transaction: a malformed file changes nothing, and the
 * error names file, line and column.
 */
#ifndef PS_INDEX_CAPTIONS_H
#define PS_INDEX_CAPTIONS_H

#include <stddef.h>

#include "core/error.h"
#include "index/rule.h"

typedef struct ps_captions_summary {
    const char *format;   /* "train_dataset.csv" or "test_queries.csv" layout */
    size_t rows;          /* data rows read */
    size_t captions;      /* distinct caption ids in the file */
    size_t blocked;       /*   of which the content rule blocked */
    long long restricted; /* indexed photos restricted by captions, after the import */
} ps_captions_summary;

/* Import `csv_path` into the database at db_path (created if missing). */
int ps_captions_import(const char *db_path, const char *csv_path, const ps_rule *rule, int busy_ms,
                       ps_captions_summary *sum, ps_error *err);

#endif
