/*
 * captions.c - caption import (see captions.h).
 */
#include "index/captions.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "index/store.h"

#define CAPTIONS_MAX_FILE ((size_t)64 << 20)

typedef struct layout {
    const char *name;
    char sep;
    size_t nfields;
    const char *const *header;
    size_t id_col, text_col;
} layout;

static const char *const TRAIN_HEADER[] = {"image", "query_id", "query_text"};
static const char *const TEST_HEADER[] = {"", "query_id", "query_text", "image"};
static const layout LAYOUTS[] = {
    {"train_dataset.csv", ',', 3, TRAIN_HEADER, 1, 2},
    {"test_queries.csv", '|', 4, TEST_HEADER, 1, 2},
};

/* The layout whose separator the first line uses: the test file's header
 * starts with '|' (after an optional byte order mark). */
static const layout *guess_layout(const char *data, size_t len)
{
    size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    return i < len && data[i] == '|' ? &LAYOUTS[1] : &LAYOUTS[0];
}

static int import_rows(ps_store *st, ps_csv *r, const layout *lay, const char *path, const ps_rule *rule,
                       ps_captions_summary *sum, ps_error *err)
{
    int rc = ps_csv_next(r, err);
    if (rc != PS_CSV_RECORD) {
        if (rc == PS_CSV_END)
            ps_errorf(err, "%s: the file is empty", path);
        return -1;
    }
    if (ps_csv_expect_header(r, lay->header, lay->nfields, err) != 0) {
        ps_error_prefix(err, "expected the header of %s (image,query_id,query_text) or of test_queries.csv "
                             "(|query_id|query_text|image)",
                        LAYOUTS[0].name);
        return -1;
    }
    ps_buf prev_id = {0};
    while ((rc = ps_csv_next(r, err)) == PS_CSV_RECORD) {
        size_t idlen, textlen;
        const char *id = ps_csv_field(r, lay->id_col, &idlen);
        const char *text = ps_csv_field(r, lay->text_col, &textlen);
        size_t namelen;
        long n;
        sum->rows++;
        if (!ps_caption_id_parse(id, idlen, &namelen, &n)) {
            ps_errorf(err, "%s:%zu: column %zu: '%.80s' is not a caption id of the form <photo file>#<n>", path,
                      ps_csv_line(r), lay->id_col + 1, id);
            break;
        }
        if (textlen == 0) {
            ps_errorf(err, "%s:%zu: column %zu: the caption text is empty", path, ps_csv_line(r),
                      lay->text_col + 1);
            break;
        }
        /* The training file repeats a caption once per compared photo, in
         * consecutive rows: check and store it once. */
        if (prev_id.data && strcmp(prev_id.data, id) == 0)
            continue;
        ps_buf_clear(&prev_id);
        ps_buf_puts(&prev_id, id);
        ps_policy_result pr;
        if (rule->check(rule->ctx, text, textlen, &pr, err) != 0) {
            ps_error_prefix(err, "%s:%zu", path, ps_csv_line(r));
            break;
        }
        char *name = ps_xstrndup(id, namelen);
        int prc = ps_store_put_caption(st, id, name, text, pr.blocked, path, err);
        free(name);
        if (prc)
            break;
    }
    ps_buf_free(&prev_id);
    if (rc == PS_CSV_BAD || rc == PS_CSV_ERROR)
        return -1; /* err is the reader's "path:line: column N: reason" */
    return rc == PS_CSV_END ? 0 : -1;
}

int ps_captions_import(const char *db_path, const char *csv_path, const ps_rule *rule, int busy_ms,
                       ps_captions_summary *sum, ps_error *err)
{
    memset(sum, 0, sizeof *sum);
    if (!rule || !rule->check)
        return ps_errorf(err, "no content rule given");
    size_t len;
    char *data = ps_read_file(csv_path, CAPTIONS_MAX_FILE, &len, err);
    if (!data)
        return -1;
    const layout *lay = guess_layout(data, len);
    sum->format = lay->name;
    /* nfields 0: the header sets the count, so a wrong header is reported as such. */
    ps_csv_opts opts = {.sep = lay->sep};
    ps_csv r;
    if (ps_csv_open(&r, csv_path, data, len, &opts, err) != 0) {
        free(data);
        return -1;
    }
    ps_store *st = ps_store_open(db_path, PS_STORE_CREATE, busy_ms, err);
    int rc = -1;
    if (st && ps_store_begin(st, err) == 0) {
        if (import_rows(st, &r, lay, csv_path, rule, sum, err) == 0 &&
            ps_store_refresh_restrictions(st, err) == 0) {
            rc = 0;
        }
        if (rc == 0)
            rc = ps_store_commit(st, err);
        else
            ps_store_rollback(st);
    }
    if (rc == 0) {
        ps_store_stats stats;
        if (ps_store_caption_counts(st, csv_path, &sum->captions, &sum->blocked, err) != 0 ||
            ps_store_get_stats(st, &stats, err) != 0)
            rc = -1;
        else
            sum->restricted = stats.restricted_by_captions;
    }
    ps_store_close(st);
    ps_csv_close(&r);
    free(data);
    return rc;
}
