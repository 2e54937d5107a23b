/*
 * indexer.c - the incremental, crash-safe indexing run (see indexer.h).
 *
 * Threads: nworkers readers pull jobs with an atomic counter and push
 * results into a bounded queue; the calling thread pops results and writes
 * them.  Only the calling thread touches the database, so one SQLite
 * connection suffices and every commit is a point the next run can resume
 * from.
 */
#include "index/indexer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/sha256.h"
#include "data/photos.h"
#include "index/blob.h"
#include "index/scan.h"
#include "index/store.h"

#define DEFAULT_MAX_FILE ((size_t)256 << 20)
#define QUEUE_CAP 32

typedef struct job {
    const ps_scan_file *file;
    const ps_store_row *old; /* the row for this path, or NULL */
} job;

enum result_kind { RES_OK, RES_SKIP, RES_TOUCH, RES_COPY };

typedef struct result {
    size_t job;
    enum result_kind kind;
    int64_t size, mtime_ns;
    int has_sha;
    unsigned char sha256[32];
    int64_t copy_from;
    ps_features *features; /* RES_OK */
    char *reason;          /* RES_SKIP */
} result;

typedef struct run {
    const ps_index_opts *o;
    const char *root;
    job *jobs;
    size_t njobs;
    const ps_store_hash *hashes;
    size_t nhashes;
    size_t max_file;

    atomic_size_t next_job;
    atomic_int stop;

    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    result *queue[QUEUE_CAP];
    size_t qhead, qlen;
    int workers_left;
    int fatal; /* a worker hit PS_EXTRACT_FATAL */
    ps_error fatal_err;
} run;

typedef struct worker_arg {
    run *r;
    int index;
} worker_arg;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The skip reason "what: detail", or just "what". */
static void set_reason(result *res, const char *what, const char *detail)
{
    ps_buf b = {0};
    ps_buf_printf(&b, detail ? "%s: %s" : "%s", what, detail);
    res->kind = RES_SKIP;
    res->reason = ps_buf_steal(&b);
}

/* Read the whole file through one descriptor, taking size and mtime from
 * that descriptor: if the file changes later, the next run sees a newer
 * mtime and reads it again. */
static unsigned char *read_whole(run *r, const char *path, result *res, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_reason(res, "cannot open", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_reason(res, "no longer a regular file", NULL);
        close(fd);
        return NULL;
    }
    res->size = (int64_t)st.st_size;
    res->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if ((uint64_t)st.st_size > r->max_file) {
        char msg[96];
        snprintf(msg, sizeof msg, "%lld bytes, more than the limit of %zu", (long long)st.st_size,
                 r->max_file);
        set_reason(res, "file too large", msg);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    unsigned char *data = ps_xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > r->max_file) {
                set_reason(res, "file grew beyond the size limit while being read", NULL);
                free(data);
                close(fd);
                return NULL;
            }
            cap *= 2;
            data = ps_xrealloc(data, cap);
        }
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_reason(res, "read error", strerror(errno));
            free(data);
            close(fd);
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    *len_out = len;
    return data;
}

static void process(run *r, int worker, size_t j, result *res)
{
    const job *jb = &r->jobs[j];
    res->job = j;
    res->size = jb->file->size;
    res->mtime_ns = jb->file->mtime_ns;
    char *path = ps_path_join(r->root, jb->file->rel);
    size_t len = 0;
    unsigned char *data = read_whole(r, path, res, &len);
    if (!data) {
        free(path);
        return;
    }
    ps_sha256 h;
    ps_sha256_init(&h);
    ps_sha256_update(&h, data, len);
    ps_sha256_final(&h, res->sha256);
    res->has_sha = 1;

    const ps_store_row *old = jb->old;
    int64_t same = ps_store_hash_find(r->hashes, r->nhashes, res->sha256);
    if (!ps_photo_sniff(data, len)) { /* JPEG, PNG or WebP by their first bytes */
        set_reason(res, "not an image", NULL);
    } else if (old && old->has_sha && memcmp(old->sha256, res->sha256, 32) == 0 &&
               old->status == PS_PHOTO_OK && old->features_version == PS_FEATURES_VERSION) {
        res->kind = RES_TOUCH; /* same content, new mtime */
    } else if (same) {
        res->kind = RES_COPY;
        res->copy_from = same;
    } else {
        ps_error e = {{0}};
        res->features = ps_xmalloc(sizeof *res->features);
        int rc = r->o->extract(r->o->extract_ctx, worker, path, data, len, res->features, &e);
        if (rc == 0 && !ps_features_finite(res->features)) {
            rc = PS_EXTRACT_SKIP;
            ps_errorf(&e, "the feature extractor produced values that are not finite numbers");
        }
        if (rc == 0) {
            res->kind = RES_OK;
        } else {
            free(res->features);
            res->features = NULL;
            if (rc == PS_EXTRACT_SKIP) {
                /* The reason goes next to the file's name: drop the path the
                 * decoder put in front of its message. */
                const char *why = e.msg;
                size_t pl = strlen(path);
                if (strncmp(why, path, pl) == 0 && why[pl] == ':' && why[pl + 1] == ' ')
                    why += pl + 2;
                set_reason(res, why[0] ? why : "the photo could not be decoded", NULL);
            } else {
                pthread_mutex_lock(&r->mu);
                if (!r->fatal) {
                    r->fatal = 1;
                    r->fatal_err = e;
                    if (!e.msg[0])
                        ps_errorf(&r->fatal_err, "%s: the feature extractor failed", path);
                }
                pthread_mutex_unlock(&r->mu);
                atomic_store(&r->stop, 1);
                res->kind = RES_SKIP;
                res->reason = NULL; /* dropped by the writer: not recorded */
            }
        }
    }
    free(data);
    free(path);
}

static void result_free(result *res)
{
    if (!res)
        return;
    free(res->features);
    free(res->reason);
    free(res);
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    run *r = a->r;
    for (;;) {
        if (atomic_load(&r->stop))
            break;
        size_t j = atomic_fetch_add(&r->next_job, 1);
        if (j >= r->njobs)
            break;
        result *res = ps_xcalloc(1, sizeof *res);
        process(r, a->index, j, res);
        pthread_mutex_lock(&r->mu);
        while (r->qlen == QUEUE_CAP && !atomic_load(&r->stop))
            pthread_cond_wait(&r->not_full, &r->mu);
        if (atomic_load(&r->stop) && r->qlen == QUEUE_CAP) {
            pthread_mutex_unlock(&r->mu);
            result_free(res);
            break;
        }
        r->queue[(r->qhead + r->qlen) % QUEUE_CAP] = res;
        r->qlen++;
        pthread_cond_signal(&r->not_empty);
        pthread_mutex_unlock(&r->mu);
    }
    pthread_mutex_lock(&r->mu);
    r->workers_left--;
    pthread_cond_signal(&r->not_empty);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static void add_skip(ps_index_summary *sum, const char *rel, const char *reason)
{
    sum->skips = ps_xrealloc(sum->skips, (sum->skipped + 1) * sizeof *sum->skips);
    sum->skips[sum->skipped].rel = ps_xstrdup(rel);
    sum->skips[sum->skipped].reason = ps_xstrdup(reason);
    sum->skipped++;
}

/* Write one result inside the writer's open transaction. */
static int write_result(run *r, ps_store *st, int64_t root_id, const result *res, ps_index_summary *sum,
                        ps_error *err)
{
    const job *jb = &r->jobs[res->job];
    if (res->kind == RES_TOUCH) {
        sum->unchanged++;
        return ps_store_touch_photo(st, jb->old->id, res->size, res->mtime_ns, err);
    }
    ps_photo_rec rec = {
        .root_id = root_id,
        .rel = jb->file->rel,
        .size = res->size,
        .mtime_ns = res->mtime_ns,
        .sha256 = res->has_sha ? res->sha256 : NULL,
        .status = res->kind == RES_SKIP ? PS_PHOTO_SKIPPED : PS_PHOTO_OK,
        .skip_reason = res->reason,
        .features = res->features,
        .copy_from = res->kind == RES_COPY ? res->copy_from : 0,
    };
    int rc = ps_store_put_photo(st, &rec, NULL, err);
    if (rc == 1) {
        /* The identical photo was removed meanwhile (another indexer).
         * Record the file with an impossible size so the next run reads it
         * again instead of taking it as unchanged. */
        static const char why[] = "the identical photo it shares features with vanished during the run; "
                                  "it will be indexed on the next run";
        rec.status = PS_PHOTO_SKIPPED;
        rec.skip_reason = why;
        rec.size = -1;
        rec.copy_from = 0;
        rc = ps_store_put_photo(st, &rec, NULL, err);
        if (rc == 0) {
            sum->processed++;
            add_skip(sum, jb->file->rel, why);
        }
    } else if (rc == 0) {
        sum->processed++;
        if (rec.status == PS_PHOTO_SKIPPED)
            add_skip(sum, jb->file->rel, res->reason);
        else if (jb->old)
            sum->updated++;
        else
            sum->added++;
        if (res->kind == RES_COPY)
            sum->reused++;
    }
    return rc < 0 ? -1 : 0;
}

static void report(run *r, size_t done, double t0, int finished)
{
    if (!r->o->progress)
        return;
    ps_index_progress p = {.done = done, .total = r->njobs, .finished = finished};
    p.elapsed_s = now_s() - t0;
    p.rate = p.elapsed_s > 0 ? (double)done / p.elapsed_s : 0;
    p.eta_s = done > 0 && p.rate > 0 ? (double)(r->njobs - done) / p.rate : -1;
    r->o->progress(r->o->progress_ctx, &p);
}

/* The writer loop: runs on the calling thread until every worker is done. */
static int write_all(run *r, ps_store *st, int64_t root_id, ps_index_summary *sum, ps_error *err)
{
    double t0 = now_s();
    size_t done = 0;
    int failed = 0;
    result *batch[QUEUE_CAP];
    report(r, 0, t0, 0);
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (r->qlen == 0 && r->workers_left > 0)
            pthread_cond_wait(&r->not_empty, &r->mu);
        size_t n = r->qlen;
        for (size_t i = 0; i < n; i++)
            batch[i] = r->queue[(r->qhead + i) % QUEUE_CAP];
        r->qhead = (r->qhead + n) % QUEUE_CAP;
        r->qlen = 0;
        int finished = r->workers_left == 0;
        pthread_cond_broadcast(&r->not_full);
        pthread_mutex_unlock(&r->mu);

        if (n && !failed) {
            if (ps_store_begin(st, err) != 0) {
                failed = 1;
            } else {
                for (size_t i = 0; i < n && !failed; i++) {
                    /* A result without a reason is a fatal extractor
                     * failure: not recorded, so the file is retried. */
                    if (batch[i]->kind == RES_SKIP && !batch[i]->reason)
                        continue;
                    if (write_result(r, st, root_id, batch[i], sum, err) != 0)
                        failed = 1;
                }
                if (failed)
                    ps_store_rollback(st);
                else if (ps_store_commit(st, err) != 0)
                    failed = 1;
            }
            if (failed) {
                atomic_store(&r->stop, 1);
                pthread_mutex_lock(&r->mu);
                pthread_cond_broadcast(&r->not_full);
                pthread_mutex_unlock(&r->mu);
            } else {
                done += n;
                report(r, done, t0, 0);
            }
        }
        for (size_t i = 0; i < n; i++)
            result_free(batch[i]);
        if (finished)
            break;
    }
    if (!failed)
        report(r, done, t0, 1);
    return failed ? -1 : 0;
}

/* Plan the run: which scanned files must be read (jobs), which are
 * unchanged, which rows are gone. */
static void plan(const ps_scan *sc, const ps_store_row *rows, size_t nrows, job **jobs, size_t *njobs,
                 size_t **gone, size_t *ngone, ps_index_summary *sum)
{
    *jobs = ps_xcalloc(sc->nfiles ? sc->nfiles : 1, sizeof **jobs);
    *gone = ps_xcalloc(nrows ? nrows : 1, sizeof **gone);
    *njobs = *ngone = 0;
    size_t i = 0, k = 0;
    while (i < sc->nfiles || k < nrows) {
        int c = i == sc->nfiles ? 1 : k == nrows ? -1 : strcmp(sc->files[i].rel, rows[k].rel);
        if (c < 0) { /* new file */
            (*jobs)[(*njobs)++] = (job){&sc->files[i], NULL};
            i++;
        } else if (c > 0) { /* row without a file */
            if (!ps_scan_in_unreadable(sc, rows[k].rel))
                (*gone)[(*ngone)++] = k;
            k++;
        } else {
            const ps_scan_file *f = &sc->files[i];
            const ps_store_row *row = &rows[k];
            int current = row->status != PS_PHOTO_OK || row->features_version == PS_FEATURES_VERSION;
            if (f->size == row->size && f->mtime_ns == row->mtime_ns && current)
                sum->unchanged++;
            else
                (*jobs)[(*njobs)++] = (job){f, row};
            i++;
            k++;
        }
    }
}

/* Leave the database and its companions out of the walk when they live
 * under the root. */
static size_t db_excludes(const char *root, const char *db_path, char *out[4])
{
    char *copy = ps_xstrdup(db_path);
    char *slash = strrchr(copy, '/');
    const char *base = slash ? slash + 1 : copy;
    const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
    if (slash)
        *slash = '\0';
    char resolved[PATH_MAX];
    size_t n = 0;
    if (realpath(dir, resolved)) {
        size_t rl = strlen(root);
        const char *rest = NULL;
        if (strcmp(resolved, root) == 0)
            rest = "";
        else if (strncmp(resolved, root, rl) == 0 && (resolved[rl] == '/' || strcmp(root, "/") == 0))
            rest = resolved + rl + (strcmp(root, "/") != 0);
        if (rest) {
            static const char *const suffix[4] = {"", "-wal", "-shm", "-journal"};
            for (int i = 0; i < 4; i++) {
                ps_buf b = {0};
                ps_buf_printf(&b, "%s%s%s%s", rest, rest[0] ? "/" : "", base, suffix[i]);
                out[n++] = ps_buf_steal(&b);
            }
        }
    }
    free(copy);
    return n;
}

static int remove_gone(ps_store *st, const ps_store_row *rows, const size_t *gone, size_t ngone,
                       ps_index_summary *sum, ps_error *err)
{
    enum { CHUNK = 500 }; /* short transactions: searches may want to write their cache */
    for (size_t s = 0; s < ngone; s += CHUNK) {
        if (ps_store_begin(st, err))
            return -1;
        for (size_t i = s; i < ngone && i < s + CHUNK; i++) {
            if (ps_store_remove_photo(st, rows[gone[i]].id, err)) {
                ps_store_rollback(st);
                return -1;
            }
        }
        if (ps_store_commit(st, err))
            return -1;
        sum->removed += (ngone - s < CHUNK ? ngone - s : CHUNK);
    }
    return 0;
}

static int count_root(ps_store *st, int64_t root_id, ps_index_summary *sum, ps_error *err)
{
    ps_store_row *rows;
    size_t n;
    if (ps_store_list_root(st, root_id, &rows, &n, err))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].status == PS_PHOTO_OK)
            sum->total_ok++;
        else
            sum->total_skipped++;
    }
    ps_store_rows_free(rows, n);
    return 0;
}

static int run_workers(run *r, ps_store *st, int64_t root_id, ps_index_summary *sum, ps_error *err)
{
    int nw = r->o->nworkers > 0 ? r->o->nworkers : 2;
    pthread_t th[64];
    worker_arg args[64];
    if (nw > 64)
        nw = 64;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->not_empty, NULL);
    pthread_cond_init(&r->not_full, NULL);
    r->workers_left = 0;
    int started = 0;
    for (int i = 0; i < nw; i++) {
        args[i] = (worker_arg){r, i};
        pthread_mutex_lock(&r->mu);
        r->workers_left++;
        pthread_mutex_unlock(&r->mu);
        if (pthread_create(&th[i], NULL, worker_main, &args[i]) != 0) {
            pthread_mutex_lock(&r->mu);
            r->workers_left--;
            pthread_mutex_unlock(&r->mu);
            break;
        }
        started++;
    }
    int rc;
    if (started == 0) {
        rc = ps_errorf(err, "cannot start worker threads");
    } else {
        rc = write_all(r, st, root_id, sum, err);
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    /* Whatever a stopped worker left in the queue. */
    for (size_t i = 0; i < r->qlen; i++)
        result_free(r->queue[(r->qhead + i) % QUEUE_CAP]);
    r->qlen = 0;
    pthread_cond_destroy(&r->not_full);
    pthread_cond_destroy(&r->not_empty);
    pthread_mutex_destroy(&r->mu);
    if (rc == 0 && r->fatal) {
        if (err)
            *err = r->fatal_err;
        rc = -1;
    }
    return rc;
}

int ps_index_run(const ps_index_opts *o, ps_index_summary *sum, ps_error *err)
{
    memset(sum, 0, sizeof *sum);
    double t0 = now_s();
    if (!o->extract)
        return ps_errorf(err, "no feature extractor given");
    char resolved[PATH_MAX];
    if (!realpath(o->root, resolved))
        return ps_errorf(err, "%s: cannot open folder: %s", o->root, strerror(errno));
    if (!ps_is_dir(resolved))
        return ps_errorf(err, "%s: not a folder", o->root);
    sum->root = ps_xstrdup(resolved);

    ps_store *st = ps_store_open(o->db_path, PS_STORE_CREATE, o->busy_ms, err);
    if (!st)
        return -1;
    int rc = -1;
    int64_t root_id = 0;
    ps_scan sc = {0};
    ps_store_row *rows = NULL;
    size_t nrows = 0, njobs = 0, ngone = 0, nhashes = 0;
    ps_store_hash *hashes = NULL;
    job *jobs = NULL;
    size_t *gone = NULL;
    char *excl[4];
    size_t nexcl = db_excludes(resolved, o->db_path, excl);

    if (ps_store_root(st, resolved, &root_id, err))
        goto out;
    if (ps_scan_dir(resolved, (const char *const *)excl, nexcl, &sc, err))
        goto out;
    sum->files = sc.nfiles;
    sum->problems = sc.problems;
    sum->nproblems = sc.nproblems;
    sc.problems = NULL; /* handed to the summary */
    sc.nproblems = 0;
    if (ps_store_list_root(st, root_id, &rows, &nrows, err) ||
        ps_store_list_hashes(st, &hashes, &nhashes, err))
        goto out;
    plan(&sc, rows, nrows, &jobs, &njobs, &gone, &ngone, sum);

    run r = {.o = o, .root = resolved, .jobs = jobs, .njobs = njobs, .hashes = hashes,
             .nhashes = nhashes, .max_file = o->max_file_bytes ? o->max_file_bytes : DEFAULT_MAX_FILE};
    atomic_init(&r.next_job, 0);
    atomic_init(&r.stop, 0);
    if (run_workers(&r, st, root_id, sum, err))
        goto out;
    if (remove_gone(st, rows, gone, ngone, sum, err))
        goto out;
    if (count_root(st, root_id, sum, err))
        goto out;
    rc = 0;
out:
    for (size_t i = 0; i < nexcl; i++)
        free(excl[i]);
    free(jobs);
    free(gone);
    free(hashes);
    ps_store_rows_free(rows, nrows);
    ps_scan_free(&sc);
    ps_store_close(st);
    sum->seconds = now_s() - t0;
    return rc;
}

void ps_index_summary_free(ps_index_summary *sum)
{
    for (size_t i = 0; i < sum->skipped; i++) {
        free(sum->skips[i].rel);
        free(sum->skips[i].reason);
    }
    for (size_t i = 0; i < sum->nproblems; i++)
        free(sum->problems[i]);
    free(sum->skips);
    free(sum->problems);
    free(sum->root);
    memset(sum, 0, sizeof *sum);
}
