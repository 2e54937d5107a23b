/*
 * store.c - the SQLite index database (see store.h for the schema).
 *
 * Every statement is prepared on demand and finalized at once: the
 * indexer's cost is the feature extraction, not SQL parsing, and keeping no
 * cached statements makes every path through here easy to check for leaks.
 */
#include "index/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "index/blob.h"

struct ps_store {
    sqlite3 *db;
    sqlite3_stmt *get_features; /* prepared on first use */
    char *path;
    int busy_ms;
    int readonly;
};

static const char SCHEMA[] =
    "CREATE TABLE roots("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL UNIQUE);"
    "CREATE TABLE photos("
    "  id INTEGER PRIMARY KEY,"
    "  root_id INTEGER NOT NULL REFERENCES roots(id),"
    "  rel TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  mtime_ns INTEGER NOT NULL,"
    "  sha256 BLOB,"
    "  status INTEGER NOT NULL,"
    "  skip_reason TEXT,"
    "  restricted INTEGER NOT NULL DEFAULT 0,"
    "  indexed_at INTEGER NOT NULL,"
    "  features_version INTEGER,"
    "  UNIQUE(root_id, rel));"
    "CREATE INDEX photos_name ON photos(name);"
    "CREATE INDEX photos_sha256 ON photos(sha256);"
    /* The large blobs live in their own tables, so a scan of photos (the
     * indexer's comparison, the engine's load) reads ~100 bytes a row. */
    "CREATE TABLE features("
    "  photo_id INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,"
    "  blob BLOB NOT NULL);"
    "CREATE TABLE embeddings("
    "  id INTEGER PRIMARY KEY,"
    "  scorer TEXT NOT NULL,"
    "  photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,"
    "  vec BLOB NOT NULL,"
    "  UNIQUE(scorer, photo_id));"
    "CREATE INDEX embeddings_photo ON embeddings(photo_id);"
    "CREATE TABLE captions("
    "  caption_id TEXT PRIMARY KEY,"
    "  photo_name TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  blocked INTEGER NOT NULL,"
    "  source TEXT NOT NULL);"
    "CREATE INDEX captions_photo ON captions(photo_name);";

/* Turn an SQLite failure into a sentence that names the file and says what
 * the person can do. */
static int store_fail(const ps_store *st, int rc, const char *what, ps_error *err)
{
    const char *path = st->path;
    const char *msg = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
    switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ps_errorf(err,
                         "%s: the database is locked by another program (gave up after waiting %d ms); "
                         "try again when it has finished",
                         path, st->busy_ms);
    case SQLITE_NOTADB:
        return ps_errorf(err, "%s: not a picseek database (the file is not an SQLite database, or it is corrupt)",
                         path);
    case SQLITE_CORRUPT:
        return ps_errorf(err,
                         "%s: the database is corrupt (%s while %s); delete it and run 'picseek index' again",
                         path, msg, what);
    case SQLITE_FULL:
        return ps_errorf(err, "%s: the disk is full (while %s)", path, what);
    case SQLITE_READONLY:
        return ps_errorf(err, "%s: the database is read-only (while %s)", path, what);
    default:
        return ps_errorf(err, "%s: %s (while %s)", path, msg, what);
    }
}

static int prepare(ps_store *st, sqlite3_stmt **s, const char *sql, ps_error *err)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
    if (rc != SQLITE_OK) {
        *s = NULL;
        return store_fail(st, rc, "preparing a query", err);
    }
    return 0;
}

/* Step a statement that returns no rows, then finalize it. */
static int step_done(ps_store *st, sqlite3_stmt *s, const char *what, ps_error *err)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store_fail(st, rc, what, err);
    return 0;
}

int ps_store_exec(ps_store *st, const char *sql, ps_error *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "running a statement", err);
    return 0;
}

/* Read one integer from a query like "PRAGMA user_version". */
static int query_int(ps_store *st, const char *sql, int64_t *out, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s, sql, err))
        return -1;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(st, rc, "reading the database", err);
    if (rc == SQLITE_DONE)
        *out = 0;
    return 0;
}

static int create_schema(ps_store *st, ps_error *err)
{
    if (ps_store_begin(st, err))
        return -1;
    /* Another process may have created it while we waited for the lock. */
    int64_t ntables = 0;
    if (query_int(st, "SELECT count(*) FROM sqlite_master", &ntables, err))
        goto fail;
    if (ntables == 0) {
        int rc = sqlite3_exec(st->db, SCHEMA, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            store_fail(st, rc, "creating the tables", err);
            goto fail;
        }
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d", PS_STORE_APP_ID,
                 PS_STORE_FORMAT);
        rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            store_fail(st, rc, "writing the format version", err);
            goto fail;
        }
    }
    return ps_store_commit(st, err);
fail:
    ps_store_rollback(st);
    return -1;
}

/* Check that the file is a picseek index of a format we read; create the
 * schema in an empty file when allowed. */
static int check_format(ps_store *st, int mode, ps_error *err)
{
    int64_t app = 0, version = 0, ntables = 0;
    if (query_int(st, "PRAGMA application_id", &app, err) ||
        query_int(st, "PRAGMA user_version", &version, err) ||
        query_int(st, "SELECT count(*) FROM sqlite_master", &ntables, err))
        return -1;
    if (app == PS_STORE_APP_ID) {
        if (version > PS_STORE_FORMAT)
            return ps_errorf(err,
                             "%s: this index was created by a newer picseek (format %lld; this picseek "
                             "reads format %d); upgrade picseek or index again into a new file",
                             st->path, (long long)version, PS_STORE_FORMAT);
        if (version < 1)
            return ps_errorf(err, "%s: the index has an invalid format version %lld; delete it and index again",
                             st->path, (long long)version);
        return 0;
    }
    if (app == 0 && ntables == 0) {
        if (mode == PS_STORE_CREATE && !st->readonly)
            return create_schema(st, err);
        return ps_errorf(err, "%s: the database is empty; build the index with 'picseek index DIR --db %s'",
                         st->path, st->path);
    }
    return ps_errorf(err, "%s: not a picseek database (it is an SQLite database of another program)",
                     st->path);
}

static int open_db(ps_store *st, int flags, ps_error *err)
{
    int rc = sqlite3_open_v2(st->path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        int e = errno;
        if (st->db) {
            ps_errorf(err, "%s: cannot open the database: %s%s%s", st->path, sqlite3_errmsg(st->db),
                      e ? ": " : "", e ? strerror(e) : "");
            sqlite3_close(st->db);
        } else {
            ps_errorf(err, "%s: cannot open the database: %s", st->path, sqlite3_errstr(rc));
        }
        st->db = NULL;
        return -1;
    }
    sqlite3_extended_result_codes(st->db, 0);
    sqlite3_busy_timeout(st->db, st->busy_ms);
    return 0;
}

ps_store *ps_store_open(const char *path, int mode, int busy_ms, ps_error *err)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT || mode != PS_STORE_CREATE) {
            if (errno == ENOENT)
                ps_errorf(err, "%s: no index database here; build one with 'picseek index DIR --db %s'", path,
                          path);
            else
                ps_errorf(err, "%s: cannot open the database: %s", path, strerror(errno));
            return NULL;
        }
    } else if (!S_ISREG(sb.st_mode)) {
        ps_errorf(err, "%s: not a database file (it is a %s)", path,
                  S_ISDIR(sb.st_mode) ? "folder" : "special file");
        return NULL;
    }

    ps_store *st = ps_xcalloc(1, sizeof *st);
    st->path = ps_xstrdup(path);
    st->busy_ms = busy_ms < 0 ? PS_STORE_BUSY_MS : busy_ms;
    int flags = SQLITE_OPEN_READWRITE | (mode == PS_STORE_CREATE ? SQLITE_OPEN_CREATE : 0);
    if (open_db(st, flags, err))
        goto fail;
    /* SQLite falls back to read-only when the file is not writable. */
    st->readonly = sqlite3_db_readonly(st->db, "main") == 1;

    /* WAL lets the indexer write while searches read.  It is a property of
     * the file, so setting it is a no-op after the first time; a read-only
     * connection keeps whatever mode the file has. */
    if (!st->readonly) {
        sqlite3_stmt *s;
        if (prepare(st, &s, "PRAGMA journal_mode=WAL", err))
            goto fail;
        int rc = sqlite3_step(s);
        sqlite3_finalize(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            store_fail(st, rc, "switching to WAL mode", err);
            goto fail;
        }
    }
    if (check_format(st, mode, err))
        goto fail;
    if (ps_store_exec(st, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", err))
        goto fail;
    return st;
fail:
    ps_store_close(st);
    return NULL;
}

void ps_store_close(ps_store *st)
{
    if (!st)
        return;
    sqlite3_finalize(st->get_features);
    if (st->db)
        sqlite3_close(st->db);
    free(st->path);
    free(st);
}

const char *ps_store_path(const ps_store *st)
{
    return st->path;
}

int ps_store_readonly(const ps_store *st)
{
    return st->readonly;
}

int ps_store_begin(ps_store *st, ps_error *err)
{
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "starting a transaction", err);
    return 0;
}

int ps_store_commit(ps_store *st, ps_error *err)
{
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_fail(st, rc, "committing", err);
        ps_store_rollback(st);
        return -1;
    }
    return 0;
}

void ps_store_rollback(ps_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int ps_store_root(ps_store *st, const char *abs_path, int64_t *id, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s, "INSERT INTO roots(path) VALUES(?1) ON CONFLICT(path) DO NOTHING", err))
        return -1;
    sqlite3_bind_text(s, 1, abs_path, -1, SQLITE_TRANSIENT);
    if (step_done(st, s, "adding the folder", err))
        return -1;
    if (prepare(st, &s, "SELECT id FROM roots WHERE path=?1", err))
        return -1;
    sqlite3_bind_text(s, 1, abs_path, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return store_fail(st, rc, "looking up the folder", err);
    return 0;
}

int ps_store_list_root(ps_store *st, int64_t root_id, ps_store_row **rows, size_t *n, ps_error *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (prepare(st, &s,
                "SELECT id, rel, size, mtime_ns, status, coalesce(features_version, 0), sha256 "
                "FROM photos WHERE root_id=?1 ORDER BY rel",
                err))
        return -1;
    sqlite3_bind_int64(s, 1, root_id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            *rows = ps_xrealloc(*rows, cap * sizeof **rows);
        }
        ps_store_row *r = &(*rows)[*n];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(s, 0);
        const unsigned char *rel = sqlite3_column_text(s, 1);
        r->rel = ps_xstrdup(rel ? (const char *)rel : "");
        r->size = sqlite3_column_int64(s, 2);
        r->mtime_ns = sqlite3_column_int64(s, 3);
        r->status = sqlite3_column_int(s, 4);
        r->features_version = sqlite3_column_int(s, 5);
        if (sqlite3_column_bytes(s, 6) == 32) {
            memcpy(r->sha256, sqlite3_column_blob(s, 6), 32);
            r->has_sha = 1;
        }
        (*n)++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        ps_store_rows_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return store_fail(st, rc, "listing indexed files", err);
    }
    return 0;
}

void ps_store_rows_free(ps_store_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(rows[i].rel);
    free(rows);
}

static int cmp_hash(const void *a, const void *b)
{
    int c = memcmp(((const ps_store_hash *)a)->sha256, ((const ps_store_hash *)b)->sha256, 32);
    if (c)
        return c;
    int64_t x = ((const ps_store_hash *)a)->id, y = ((const ps_store_hash *)b)->id;
    return (x > y) - (x < y);
}

int ps_store_list_hashes(ps_store *st, ps_store_hash **out, size_t *n, ps_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (prepare(st, &s, "SELECT id, sha256 FROM photos WHERE status=0 AND features_version=?1", err))
        return -1;
    sqlite3_bind_int(s, 1, PS_FEATURES_VERSION);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(s, 1) != 32)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            *out = ps_xrealloc(*out, cap * sizeof **out);
        }
        (*out)[*n].id = sqlite3_column_int64(s, 0);
        memcpy((*out)[*n].sha256, sqlite3_column_blob(s, 1), 32);
        (*n)++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*out);
        *out = NULL;
        *n = 0;
        return store_fail(st, rc, "listing content hashes", err);
    }
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_hash);
    return 0;
}

int64_t ps_store_hash_find(const ps_store_hash *h, size_t n, const unsigned char sha256[32])
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(h[mid].sha256, sha256, 32);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && memcmp(h[lo].sha256, sha256, 32) == 0 ? h[lo].id : 0;
}

static const char *last_component(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? slash + 1 : rel;
}

static int drop_embeddings(ps_store *st, int64_t id, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s, "DELETE FROM embeddings WHERE photo_id=?1", err))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return step_done(st, s, "dropping cached embeddings", err);
}

static int put_features(ps_store *st, int64_t id, const ps_photo_rec *rec, ps_error *err)
{
    sqlite3_stmt *s;
    if (rec->status != PS_PHOTO_OK) {
        if (prepare(st, &s, "DELETE FROM features WHERE photo_id=?1", err))
            return -1;
        sqlite3_bind_int64(s, 1, id);
        return step_done(st, s, "dropping features", err);
    }
    if (rec->copy_from > 0) {
        if (prepare(st, &s,
                    "INSERT OR REPLACE INTO features(photo_id, blob)"
                    " SELECT ?1, blob FROM features WHERE photo_id=?2",
                    err))
            return -1;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, rec->copy_from);
        return step_done(st, s, "copying features", err);
    }
    ps_buf blob = {0};
    ps_features_encode(rec->features, PS_BLOB_F16, &blob);
    if (prepare(st, &s, "INSERT OR REPLACE INTO features(photo_id, blob) VALUES(?1, ?2)", err)) {
        ps_buf_free(&blob);
        return -1;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_blob(s, 2, blob.data, (int)blob.len, SQLITE_STATIC);
    int rc = step_done(st, s, "recording features", err);
    ps_buf_free(&blob);
    return rc;
}

int ps_store_put_photo(ps_store *st, const ps_photo_rec *rec, int64_t *id, ps_error *err)
{
    if (rec->status == PS_PHOTO_OK && rec->copy_from <= 0 && !rec->features)
        return ps_errorf(err, "%s: internal error: a photo without features", rec->rel);
    if (rec->status == PS_PHOTO_OK && rec->copy_from > 0) {
        /* The caller holds the write lock, so the source cannot change
         * between this check and the copy. */
        int64_t ok = 0;
        char q[200];
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM photos p JOIN features f ON f.photo_id=p.id"
                 " WHERE p.id=%lld AND p.status=0 AND p.features_version=%d",
                 (long long)rec->copy_from, PS_FEATURES_VERSION);
        if (query_int(st, q, &ok, err))
            return -1;
        if (!ok)
            return 1;
    }
    /* The captions bit is derived from the captions table, so a photo
     * indexed after its captions were imported is restricted too. */
    sqlite3_stmt *s;
    if (prepare(st, &s,
                "INSERT INTO photos(root_id, rel, name, size, mtime_ns, sha256, status, skip_reason,"
                "                   restricted, indexed_at, features_version)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                "  (EXISTS(SELECT 1 FROM captions WHERE photo_name=?3 AND blocked)), ?9, ?10)"
                " ON CONFLICT(root_id, rel) DO UPDATE SET"
                "  name=excluded.name, size=excluded.size, mtime_ns=excluded.mtime_ns,"
                "  sha256=excluded.sha256, status=excluded.status, skip_reason=excluded.skip_reason,"
                "  restricted=(photos.restricted & ~1) | excluded.restricted,"
                "  indexed_at=excluded.indexed_at, features_version=excluded.features_version"
                " RETURNING id",
                err))
        return -1;
    sqlite3_bind_int64(s, 1, rec->root_id);
    sqlite3_bind_text(s, 2, rec->rel, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, last_component(rec->rel), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, rec->size);
    sqlite3_bind_int64(s, 5, rec->mtime_ns);
    if (rec->sha256)
        sqlite3_bind_blob(s, 6, rec->sha256, 32, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 7, rec->status);
    if (rec->status != PS_PHOTO_OK)
        sqlite3_bind_text(s, 8, rec->skip_reason ? rec->skip_reason : "skipped", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 9, (int64_t)time(NULL));
    if (rec->status == PS_PHOTO_OK)
        sqlite3_bind_int(s, 10, PS_FEATURES_VERSION);
    int rc = sqlite3_step(s);
    int64_t rid = 0;
    if (rc == SQLITE_ROW) {
        rid = sqlite3_column_int64(s, 0);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "recording a photo", err);
    if (id)
        *id = rid;
    if (put_features(st, rid, rec, err))
        return -1;
    return drop_embeddings(st, rid, err);
}

int ps_store_touch_photo(ps_store *st, int64_t id, int64_t size, int64_t mtime_ns, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s, "UPDATE photos SET size=?2, mtime_ns=?3 WHERE id=?1", err))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, size);
    sqlite3_bind_int64(s, 3, mtime_ns);
    return step_done(st, s, "updating a photo", err);
}

int ps_store_remove_photo(ps_store *st, int64_t id, ps_error *err)
{
    /* Foreign keys cascade to features and embeddings. */
    sqlite3_stmt *s;
    if (prepare(st, &s, "DELETE FROM photos WHERE id=?1", err))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return step_done(st, s, "removing a photo", err);
}

int ps_store_set_classifier_flag(ps_store *st, int64_t id, int on, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s, on ? "UPDATE photos SET restricted = restricted | 2 WHERE id=?1"
                           : "UPDATE photos SET restricted = restricted & ~2 WHERE id=?1",
                err))
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return step_done(st, s, "updating a photo's restriction", err);
}

int ps_store_put_caption(ps_store *st, const char *caption_id, const char *photo_name,
                         const char *text, int blocked, const char *source, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s,
                "INSERT OR REPLACE INTO captions(caption_id, photo_name, text, blocked, source)"
                " VALUES(?1, ?2, ?3, ?4, ?5)",
                err))
        return -1;
    sqlite3_bind_text(s, 1, caption_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, photo_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 4, blocked ? 1 : 0);
    sqlite3_bind_text(s, 5, source, -1, SQLITE_TRANSIENT);
    return step_done(st, s, "recording a caption", err);
}

int ps_store_refresh_restrictions(ps_store *st, ps_error *err)
{
    return ps_store_exec(st,
                         "UPDATE photos SET restricted = (restricted & ~1) |"
                         " (EXISTS(SELECT 1 FROM captions c WHERE c.photo_name=photos.name AND c.blocked))",
                         err);
}

int ps_store_count_ok(ps_store *st, int64_t *n, ps_error *err)
{
    return query_int(st, "SELECT count(*) FROM photos WHERE status=0", n, err);
}

int ps_store_caption_counts(ps_store *st, const char *source, size_t *n, size_t *blocked, ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s, "SELECT count(*), coalesce(sum(blocked), 0) FROM captions WHERE source=?1", err))
        return -1;
    sqlite3_bind_text(s, 1, source, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *n = (size_t)sqlite3_column_int64(s, 0);
        *blocked = (size_t)sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return store_fail(st, rc, "counting captions", err);
    return 0;
}

int ps_store_uncaptioned_photos(ps_store *st, int64_t **ids, size_t *n, ps_error *err)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (prepare(st, &s,
                "SELECT p.id FROM photos p WHERE p.status=0 AND NOT EXISTS"
                " (SELECT 1 FROM captions c WHERE c.photo_name = p.name) ORDER BY p.id",
                err))
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *ids = ps_xrealloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*n)++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return store_fail(st, rc, "listing photos without captions", err);
    }
    return 0;
}

int ps_store_each_photo(ps_store *st, const char *scorer, ps_store_photo_fn fn, void *ctx,
                        ps_error *err)
{
    sqlite3_stmt *s;
    if (prepare(st, &s,
                "SELECT p.id, r.path, p.rel, p.restricted, e.vec FROM photos p"
                " JOIN roots r ON r.id = p.root_id"
                " LEFT JOIN embeddings e ON e.scorer=?1 AND e.photo_id=p.id"
                " WHERE p.status=0 ORDER BY p.id",
                err))
        return -1;
    sqlite3_bind_text(s, 1, scorer ? scorer : "", -1, SQLITE_TRANSIENT);
    int rc, ret = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        ps_store_photo p = {0};
        p.id = sqlite3_column_int64(s, 0);
        const unsigned char *root = sqlite3_column_text(s, 1);
        const unsigned char *rel = sqlite3_column_text(s, 2);
        p.root = root ? (const char *)root : "";
        p.rel = rel ? (const char *)rel : "";
        p.restricted = (unsigned)sqlite3_column_int(s, 3);
        if (sqlite3_column_type(s, 4) == SQLITE_BLOB) {
            p.embedding = sqlite3_column_blob(s, 4);
            p.embedding_len = (size_t)sqlite3_column_bytes(s, 4);
        }
        ret = fn(ctx, &p, err);
        if (ret)
            break;
    }
    sqlite3_finalize(s);
    if (ret)
        return ret;
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, "reading the indexed photos", err);
    return 0;
}

int ps_store_load_features(ps_store *st, int64_t id, ps_features *out, ps_error *err)
{
    if (!st->get_features &&
        prepare(st, &st->get_features, "SELECT blob FROM features WHERE photo_id=?1", err))
        return -1;
    sqlite3_stmt *s = st->get_features;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        ret = ps_features_decode(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), out, err);
        if (ret) {
            ps_error_prefix(err, "%s: photo %lld", st->path, (long long)id);
            ret = 1;
        }
    } else if (rc == SQLITE_DONE) {
        ps_errorf(err, "%s: photo %lld has no stored features", st->path, (long long)id);
        ret = 1;
    } else {
        ret = store_fail(st, rc, "reading features", err);
    }
    sqlite3_reset(s);
    return ret;
}

int ps_store_put_embeddings(ps_store *st, const char *scorer, const int64_t *ids, const float *vecs,
                            size_t n, size_t dim, ps_error *err)
{
    enum { CHUNK = 2000 };
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t end = start + CHUNK < n ? start + CHUNK : n;
        if (ps_store_begin(st, err))
            return -1;
        sqlite3_stmt *s;
        if (prepare(st, &s,
                    "INSERT OR REPLACE INTO embeddings(scorer, photo_id, vec)"
                    " SELECT ?1, ?2, ?3 WHERE EXISTS(SELECT 1 FROM photos WHERE id=?2)",
                    err)) {
            ps_store_rollback(st);
            return -1;
        }
        sqlite3_bind_text(s, 1, scorer, -1, SQLITE_TRANSIENT);
        for (size_t i = start; i < end; i++) {
            sqlite3_bind_int64(s, 2, ids[i]);
            /* Stored in host order; picseek only runs on little-endian
             * machines (x86-64 with AVX2). */
            sqlite3_bind_blob(s, 3, vecs + i * dim, (int)(dim * sizeof(float)), SQLITE_STATIC);
            int rc = sqlite3_step(s);
            sqlite3_reset(s);
            if (rc != SQLITE_DONE) {
                sqlite3_finalize(s);
                store_fail(st, rc, "caching embeddings", err);
                ps_store_rollback(st);
                return -1;
            }
        }
        sqlite3_finalize(s);
        if (ps_store_commit(st, err))
            return -1;
    }
    return 0;
}

int ps_store_get_stats(ps_store *st, ps_store_stats *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    return query_int(st, "SELECT count(*) FROM roots", &out->roots, err) ||
                   query_int(st, "SELECT count(*) FROM photos WHERE status=0", &out->ok, err) ||
                   query_int(st, "SELECT count(*) FROM photos WHERE status<>0", &out->skipped, err) ||
                   query_int(st, "SELECT count(*) FROM photos WHERE status=0 AND restricted<>0",
                             &out->restricted, err) ||
                   query_int(st, "SELECT count(*) FROM photos WHERE status=0 AND (restricted & 1)",
                             &out->restricted_by_captions, err) ||
                   query_int(st, "SELECT count(*) FROM captions", &out->captions, err) ||
                   query_int(st, "SELECT count(*) FROM captions WHERE blocked", &out->blocked_captions,
                             err) ||
                   query_int(st, "SELECT count(*) FROM embeddings", &out->embeddings, err)
               ? -1
               : 0;
}

int ps_store_integrity(ps_store *st, char **report, ps_error *err)
{
    *report = NULL;
    sqlite3_stmt *s;
    if (prepare(st, &s, "PRAGMA integrity_check", err))
        return -1;
    ps_buf b = {0};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *line = sqlite3_column_text(s, 0);
        if (b.len)
            ps_buf_putc(&b, '\n');
        ps_buf_puts(&b, line ? (const char *)line : "");
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        ps_buf_free(&b);
        return store_fail(st, rc, "checking integrity", err);
    }
    *report = b.data ? ps_buf_steal(&b) : ps_xstrdup("");
    return 0;
}
