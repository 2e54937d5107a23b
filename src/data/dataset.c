#include "data/dataset.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/digits.h"
#include "core/file.h"
#include "data/csv.h"
#include "data/pairmap.h"

/* ---- string storage ------------------------------------------------------
 * The dataset holds ~150,000 short strings; an arena makes loading and
 * freeing them cheap and keeps ownership trivial. */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

struct ps_arena {
    arena_chunk *head;
};

#define ARENA_CHUNK (256u << 10)

static const char *arena_strndup(struct ps_arena *a, const char *s, size_t n)
{
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n + 1) {
        size_t cap = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
        c = ps_xmalloc(sizeof *c + cap);
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

static void arena_free(struct ps_arena *a)
{
    if (!a)
        return;
    for (arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

/* ---- field validators ---------------------------------------------------- */

static const char *const FILE_NAMES[PS_DS_NFILES] = {
    "train_dataset.csv", "ExpertAnnotations.tsv", "CrowdAnnotations.tsv",
    "test_queries.csv", "test_images.csv",
};

const char *ps_dataset_file_name(int file)
{
    return file >= 0 && file < PS_DS_NFILES ? FILE_NAMES[file] : "?";
}

#define PHOTO_NAME_MAX 255

bool ps_photo_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > PHOTO_NAME_MAX)
        return false;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

/* digits only, 1..9 of them: no sign, no spaces, no overflow. */
static bool parse_whole(const char *s, size_t n, long *out)
{
    uint64_t v;
    if (ps_parse_digits(s, n, 9, &v) != 0)
        return false;
    *out = (long)v;
    return true;
}

bool ps_caption_id_parse(const char *id, size_t len, size_t *photo_len, long *n)
{
    const char *hash = NULL;
    for (size_t i = len; i > 0; i--)
        if (id[i - 1] == '#') {
            hash = id + i - 1;
            break;
        }
    if (!hash)
        return false;
    size_t plen = (size_t)(hash - id);
    long v;
    if (!ps_photo_name_valid(id, plen) || !parse_whole(hash + 1, len - plen - 1, &v))
        return false;
    if (photo_len)
        *photo_len = plen;
    if (n)
        *n = v;
    return true;
}

/* A plain decimal: digits [. digits] [e [sign] digits], or . digits.  No
 * sign, spaces, hex, inf or nan, which strtod would accept. */
static bool parse_decimal(const char *s, size_t n, double *out)
{
    size_t i = 0, digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e)
            return false;
    }
    if (i != n || n > 64)
        return false;
    char tmp[65];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double v = strtod(tmp, NULL);
    if (!isfinite(v))
        return false;
    *out = v;
    return true;
}

/* ---- the loader ---------------------------------------------------------- */

typedef struct loader {
    ps_dataset *ds;
    const ps_dataset_opts *o;
    int file;
    ps_csv r;
    ps_pairmap seen;       /* duplicates within the file: key -> line of its first row */
    ps_pairmap captions;   /* train: caption id -> train row (text consistency) */
    size_t cap;            /* capacity of the file's row array */
} loader;

#define SHOW 80  /* bytes of a bad value quoted in a message */

static void add_warning(ps_dataset *ds, const ps_dataset_opts *o, const char *msg)
{
    size_t max = o->max_warnings ? o->max_warnings : 1000;
    ds->warnings_total++;
    if (ds->nwarnings >= max)
        return;
    ds->warnings = ps_xrealloc(ds->warnings, (ds->nwarnings + 1) * sizeof *ds->warnings);
    ds->warnings[ds->nwarnings++] = ps_xstrdup(msg);
}

/* A bad row, described by msg: in strict mode the load fails with it
 * (returns -1); in lenient mode it becomes a warning and the row is skipped
 * (returns 1). */
static int bad_row_msg(loader *L, ps_error *err, const char *msg)
{
    if (!L->o->lenient) {
        if (!err || msg != err->msg)
            ps_errorf(err, "%s", msg);
        return -1;
    }
    add_warning(L->ds, L->o, msg);
    L->ds->rows_skipped[L->file]++;
    return 1;
}

static int bad_row(loader *L, ps_error *err, size_t col, const char *fmt, ...) PS_PRINTF(4, 5);

static int bad_row(loader *L, ps_error *err, size_t col, const char *fmt, ...)
{
    ps_buf msg = {0};
    ps_buf_printf(&msg, "%s:%zu: column %zu: ", ps_csv_path(&L->r), ps_csv_line(&L->r), col);
    va_list ap;
    va_start(ap, fmt);
    ps_buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    int rc = bad_row_msg(L, err, msg.data);
    ps_buf_free(&msg);
    return rc;
}

/* Field i (0-based) of the current record. */
static const char *field(loader *L, size_t i, size_t *len)
{
    return ps_csv_field(&L->r, i, len);
}

static int check_image(loader *L, ps_error *err, size_t i)
{
    size_t n;
    const char *s = field(L, i, &n);
    if (ps_photo_name_valid(s, n))
        return 0;
    return bad_row(L, err, i + 1, "image name '%.*s' is not a valid photo file name",
                   (int)(n < SHOW ? n : SHOW), s);
}

static int check_caption_id(loader *L, ps_error *err, size_t i, const char *what)
{
    size_t n;
    const char *s = field(L, i, &n);
    if (ps_caption_id_parse(s, n, NULL, NULL))
        return 0;
    return bad_row(L, err, i + 1, "%s '%.*s' is not of the form <photo file name>#<n>", what,
                   (int)(n < SHOW ? n : SHOW), s);
}

static int check_text(loader *L, ps_error *err, size_t i)
{
    size_t n;
    field(L, i, &n);
    return n ? 0 : bad_row(L, err, i + 1, "empty query text");
}

static int get_whole(loader *L, ps_error *err, size_t i, const char *what, long lo, long hi,
                     long *out)
{
    size_t n;
    const char *s = field(L, i, &n);
    if (!parse_whole(s, n, out))
        return bad_row(L, err, i + 1, "%s '%.*s' is not a whole number", what,
                       (int)(n < SHOW ? n : SHOW), s);
    if (*out < lo || *out > hi)
        return bad_row(L, err, i + 1, "%s %ld is outside %ld..%ld", what, *out, lo, hi);
    return 0;
}

/* Reject a second key in this file: the pair (a, b), or with b NULL the
 * single value a; the message calls it `what`.  Kept rows are noted by
 * remember(). */
static int check_dup(loader *L, ps_error *err, size_t col, const char *what, const char *a,
                     const char *b)
{
    size_t first;
    if (!ps_pairmap_get(&L->seen, a, b ? b : "", &first))
        return 0;
    if (b)
        return bad_row(L, err, col, "duplicated %s (%.*s, %.*s), first on line %zu", what, SHOW,
                       a, SHOW, b, first);
    return bad_row(L, err, col, "duplicated %s '%.*s', first on line %zu", what, SHOW, a, first);
}

/* Note the key of the row just kept (strings that outlive the map) and its line. */
static void remember(loader *L, const char *a, const char *b)
{
    ps_pairmap_put(&L->seen, a, b ? b : "", ps_csv_line(&L->r), NULL);
}

static const char *keep(loader *L, size_t i)
{
    size_t n;
    const char *s = field(L, i, &n);
    return arena_strndup(L->ds->arena, s, n);
}

static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 1024;
    return ps_xrealloc(arr, *cap * size);
}

/* ---- one function per file: validate the current record and keep it ----
 * Each returns 0 (kept), 1 (skipped in lenient mode) or -1 (error). */

static int row_train(loader *L, ps_error *err)
{
    int rc;
    if ((rc = check_image(L, err, 0)) || (rc = check_caption_id(L, err, 1, "query id")) ||
        (rc = check_text(L, err, 2)))
        return rc;
    const char *img = field(L, 0, NULL), *qid = field(L, 1, NULL);
    if ((rc = check_dup(L, err, 2, "pair", img, qid)))
        return rc;
    size_t prev, tlen;
    const char *text = field(L, 2, &tlen);
    if (ps_pairmap_get(&L->captions, qid, "", &prev) &&
        strcmp(L->ds->train[prev].query_text, text) != 0)
        return bad_row(L, err, 3, "query '%.*s' has a different text than on line %zu", SHOW,
                       qid, L->ds->train[prev].line);
    ps_dataset *ds = L->ds;
    ds->train = grow(ds->train, ds->ntrain, &L->cap, sizeof *ds->train);
    ps_train_row *t = &ds->train[ds->ntrain];
    t->image = keep(L, 0);
    t->query_id = keep(L, 1);
    t->query_text = keep(L, 2);
    t->line = ps_csv_line(&L->r);
    remember(L, t->image, t->query_id);
    ps_pairmap_put(&L->captions, t->query_id, "", ds->ntrain, NULL);
    ds->ntrain++;
    return 0;
}

static int row_expert(loader *L, ps_error *err)
{
    int rc;
    long s[3];
    if ((rc = check_image(L, err, 0)) || (rc = check_caption_id(L, err, 1, "caption id")))
        return rc;
    for (size_t i = 0; i < 3; i++)
        if ((rc = get_whole(L, err, 2 + i, "expert score", 1, 4, &s[i])))
            return rc;
    if ((rc = check_dup(L, err, 2, "pair", field(L, 0, NULL), field(L, 1, NULL))))
        return rc;
    ps_dataset *ds = L->ds;
    ds->expert = grow(ds->expert, ds->nexpert, &L->cap, sizeof *ds->expert);
    ps_expert_row *e = &ds->expert[ds->nexpert];
    e->image = keep(L, 0);
    e->caption_id = keep(L, 1);
    for (size_t i = 0; i < 3; i++)
        e->score[i] = (int)s[i];
    e->line = ps_csv_line(&L->r);
    remember(L, e->image, e->caption_id);
    ds->nexpert++;
    return 0;
}

#define CROWD_MAX_COUNT 1000000
#define CROWD_RATIO_TOL 0.005

static int row_crowd(loader *L, ps_error *err)
{
    int rc;
    long agree, disagree;
    double ratio;
    if ((rc = check_image(L, err, 0)) || (rc = check_caption_id(L, err, 1, "caption id")))
        return rc;
    size_t n;
    const char *s = field(L, 2, &n);
    if (!parse_decimal(s, n, &ratio))
        return bad_row(L, err, 3, "agreement ratio '%.*s' is not a number",
                       (int)(n < SHOW ? n : SHOW), s);
    if (ratio < 0 || ratio > 1)
        return bad_row(L, err, 3, "agreement ratio %.*s is outside 0..1", (int)n, s);
    if ((rc = get_whole(L, err, 3, "agree count", 0, CROWD_MAX_COUNT, &agree)) ||
        (rc = get_whole(L, err, 4, "disagree count", 0, CROWD_MAX_COUNT, &disagree)))
        return rc;
    if (agree + disagree == 0)
        return bad_row(L, err, 5, "agree and disagree counts are both 0");
    double want = (double)agree / (double)(agree + disagree);
    if (fabs(ratio - want) > CROWD_RATIO_TOL)
        return bad_row(L, err, 3, "agreement ratio %.*s does not match %ld agree / %ld disagree",
                       (int)n, s, agree, disagree);
    if ((rc = check_dup(L, err, 2, "pair", field(L, 0, NULL), field(L, 1, NULL))))
        return rc;
    ps_dataset *ds = L->ds;
    ds->crowd = grow(ds->crowd, ds->ncrowd, &L->cap, sizeof *ds->crowd);
    ps_crowd_row *c = &ds->crowd[ds->ncrowd];
    c->image = keep(L, 0);
    c->caption_id = keep(L, 1);
    c->ratio = ratio;
    c->agree = (int)agree;
    c->disagree = (int)disagree;
    c->line = ps_csv_line(&L->r);
    remember(L, c->image, c->caption_id);
    ds->ncrowd++;
    return 0;
}

static int row_test_query(loader *L, ps_error *err)
{
    int rc;
    long index = 0; /* set by get_whole; -O3 cannot always see that */
    if ((rc = get_whole(L, err, 0, "row index", 0, 999999999, &index)) ||
        (rc = check_caption_id(L, err, 1, "query id")) || (rc = check_text(L, err, 2)) ||
        (rc = check_image(L, err, 3)))
        return rc;
    if ((rc = check_dup(L, err, 2, "query id", field(L, 1, NULL), NULL)))
        return rc;
    ps_dataset *ds = L->ds;
    ds->test_queries = grow(ds->test_queries, ds->ntest_queries, &L->cap, sizeof *ds->test_queries);
    ps_test_query *q = &ds->test_queries[ds->ntest_queries];
    q->index = index;
    q->query_id = keep(L, 1);
    q->query_text = keep(L, 2);
    q->image = keep(L, 3);
    q->line = ps_csv_line(&L->r);
    remember(L, q->query_id, NULL);
    ds->ntest_queries++;
    return 0;
}

static int row_test_image(loader *L, ps_error *err)
{
    int rc;
    if ((rc = check_image(L, err, 0)) ||
        (rc = check_dup(L, err, 1, "image", field(L, 0, NULL), NULL)))
        return rc;
    ps_dataset *ds = L->ds;
    ds->test_images = grow(ds->test_images, ds->ntest_images, &L->cap, sizeof *ds->test_images);
    const char *kept = keep(L, 0);
    ds->test_images[ds->ntest_images++] = kept;
    remember(L, kept, NULL);
    return 0;
}

typedef struct file_spec {
    char sep;
    size_t nfields;
    const char *const *header;   /* NULL: no header line */
    int (*row)(loader *L, ps_error *err);
} file_spec;

static const char *const TRAIN_HEADER[] = {"image", "query_id", "query_text"};
static const char *const TQ_HEADER[] = {"", "query_id", "query_text", "image"};
static const char *const TI_HEADER[] = {"image"};

static const file_spec SPECS[PS_DS_NFILES] = {
    [PS_DS_TRAIN] = {',', 3, TRAIN_HEADER, row_train},
    [PS_DS_EXPERT] = {'\t', 5, NULL, row_expert},
    [PS_DS_CROWD] = {'\t', 5, NULL, row_crowd},
    [PS_DS_TEST_QUERIES] = {'|', 4, TQ_HEADER, row_test_query},
    [PS_DS_TEST_IMAGES] = {',', 1, TI_HEADER, row_test_image},
};

static int load_file(ps_dataset *ds, const ps_dataset_opts *o, int file, ps_error *err)
{
    const file_spec *spec = &SPECS[file];
    loader L;
    memset(&L, 0, sizeof L);
    L.ds = ds;
    L.o = o;
    L.file = file;
    char *path = ps_path_join(ds->dir, FILE_NAMES[file]);
    ps_csv_opts copts = {.sep = spec->sep, .nfields = spec->nfields};
    int rc = ps_csv_open_file(&L.r, path, &copts, err);
    free(path);
    if (rc != 0)
        return -1;
    rc = 0;
    if (spec->header) {
        int h = ps_csv_next(&L.r, err);
        if (h == PS_CSV_END) {
            rc = ps_errorf(err, "%s: missing header line", ps_csv_path(&L.r));
        } else if (h != PS_CSV_RECORD ||
                   ps_csv_expect_header(&L.r, spec->header, spec->nfields, err) != 0) {
            rc = -1;
        }
    }
    while (rc == 0) {
        int c = ps_csv_next(&L.r, err);
        if (c == PS_CSV_END)
            break;
        if (c == PS_CSV_ERROR) {
            rc = -1;
        } else if (c == PS_CSV_BAD) {
            if (bad_row_msg(&L, err, err->msg) < 0)
                rc = -1;
        } else if (spec->row(&L, err) < 0) {
            rc = -1;
        }
    }
    ps_csv_close(&L.r);
    ps_pairmap_free(&L.seen);
    ps_pairmap_free(&L.captions);
    return rc;
}

/* Count `name` if it is new in `seen` and not in the photo list. */
static void note(const ps_photo_list *l, const char *name, ps_pairmap *seen, size_t *missing)
{
    if (ps_pairmap_put(seen, name, "", 0, NULL) == 0 && !ps_photo_list_has(l, name))
        (*missing)++;
}

static int list_photos(ps_dataset *ds, ps_error *err)
{
    char *tr = ps_path_join(ds->dir, "train_images");
    char *te = ps_path_join(ds->dir, "test_images");
    int rc = ps_photo_list_dir(tr, &ds->train_photos, err);
    if (rc == 0)
        rc = ps_photo_list_dir(te, &ds->test_photos, err);
    free(tr);
    free(te);
    if (rc != 0)
        return -1;
    ds->photos_listed = true;
    ps_pairmap seen = {0};
    size_t *miss = &ds->train_photos_missing;
    for (size_t i = 0; i < ds->ntrain; i++)
        note(&ds->train_photos, ds->train[i].image, &seen, miss);
    for (size_t i = 0; i < ds->nexpert; i++)
        note(&ds->train_photos, ds->expert[i].image, &seen, miss);
    for (size_t i = 0; i < ds->ncrowd; i++)
        note(&ds->train_photos, ds->crowd[i].image, &seen, miss);
    ps_pairmap_free(&seen);
    miss = &ds->test_photos_missing;
    for (size_t i = 0; i < ds->ntest_images; i++)
        note(&ds->test_photos, ds->test_images[i], &seen, miss);
    for (size_t i = 0; i < ds->ntest_queries; i++)
        note(&ds->test_photos, ds->test_queries[i].image, &seen, miss);
    ps_pairmap_free(&seen);
    return 0;
}

void ps_dataset_opts_default(ps_dataset_opts *o)
{
    memset(o, 0, sizeof *o);
    o->photos = true;
    o->max_warnings = 1000;
}

int ps_dataset_load(ps_dataset *ds, const char *dir, const ps_dataset_opts *opts, ps_error *err)
{
    ps_dataset_opts def;
    ps_dataset_opts_default(&def);
    if (!opts)
        opts = &def;
    memset(ds, 0, sizeof *ds);
    ps_error local;
    if (!err)
        err = &local; /* lenient warnings are built from the messages */
    if (!ps_is_dir(dir))
        return ps_errorf(err, "%s: not a folder (the dataset folder holds train_dataset.csv, "
                         "ExpertAnnotations.tsv, ...)", dir);
    ds->dir = ps_xstrdup(dir);
    ds->arena = ps_xcalloc(1, sizeof *ds->arena);
    for (int f = 0; f < PS_DS_NFILES; f++) {
        if (load_file(ds, opts, f, err) != 0) {
            ps_dataset_free(ds);
            return -1;
        }
    }
    if (opts->photos && list_photos(ds, err) != 0) {
        ps_dataset_free(ds);
        return -1;
    }
    return 0;
}

void ps_dataset_free(ps_dataset *ds)
{
    free(ds->dir);
    free(ds->train);
    free(ds->expert);
    free(ds->crowd);
    free(ds->test_queries);
    free(ds->test_images);
    ps_photo_list_free(&ds->train_photos);
    ps_photo_list_free(&ds->test_photos);
    for (size_t i = 0; i < ds->nwarnings; i++)
        free(ds->warnings[i]);
    free(ds->warnings);
    arena_free(ds->arena);
    memset(ds, 0, sizeof *ds);
}
