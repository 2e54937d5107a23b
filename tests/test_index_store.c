/* Tests for src/index: features blobs, the folder walk
 * and the database (formats, errors). */
#include <sqlite3.h>
#include <sys/wait.h>

#include "index/blob.h"
#include "index/scan.h"
#include "index/store.h"
#include "index_doubles.h"
#include "test.h"

TEST(f16_round_trips_exact_values_and_bounds_the_rest)
{
    for (int k = 0; k <= 256; k++) /* quantized probabilities are exact */
        CHECK(ps_f16_to_f32(ps_f32_to_f16((float)k / 256.0f)) == (float)k / 256.0f);
    CHECK(ps_f16_to_f32(ps_f32_to_f16(65504.0f)) == 65504.0f);
    CHECK(isinf(ps_f16_to_f32(ps_f32_to_f16(1e6f))));
    CHECK(isnan(ps_f16_to_f32(ps_f32_to_f16(NAN))));
    CHECK(ps_f16_to_f32(ps_f32_to_f16(-2.5f)) == -2.5f);
    /* Smallest subnormal and rounding to nearest. */
    CHECK(ps_f16_to_f32(ps_f32_to_f16(5.9604645e-8f)) == 5.9604645e-8f);
    CHECK(ps_f16_to_f32(ps_f32_to_f16(1e-9f)) == 0.0f);
    CHECK_INT(ps_f32_to_f16(1.0f + 1.0f / 4096.0f), 0x3C00); /* tie rounds to even */
    double worst = 0;
    for (int i = 1; i < 20000; i++) {
        float x = (float)i * 0.0137f;
        double rel = fabs(ps_f16_to_f32(ps_f32_to_f16(x)) - x) / x;
        if (rel > worst)
            worst = rel;
    }
    CHECK(worst <= 1.0 / 2048.0);
}

TEST(features_blob_round_trips_and_rejects_damage)
{
    ps_features *f = calloc(1, sizeof *f), *g = calloc(1, sizeof *g);
    static const unsigned char bytes[] = "\xFF\xD8\xFF dog beach ball";
    CHECK_INT(tx_extract(NULL, 0, "x", bytes, sizeof bytes - 1, f, NULL), 0);
    ps_buf b = {0};
    ps_error err = {{0}};
    ps_features_encode(f, PS_BLOB_F16, &b);
    CHECK_INT(b.len, PS_BLOB_HEADER + 2 * PS_FEATURE_VALUES);
    CHECK_INT(ps_features_blob_version(b.data, b.len), PS_FEATURES_VERSION);
    CHECK_INT(ps_features_decode(b.data, b.len, g, &err), 0);
    CHECK(memcmp(f->mnv1, g->mnv1, sizeof f->mnv1) == 0);
    CHECK(memcmp(f->class_prob, g->class_prob, sizeof f->class_prob) == 0);
    CHECK_NEAR(g->mnv2[7], f->mnv2[7], fabs(f->mnv2[7]) / 2048.0);

    /* A value float16 cannot hold: the blob falls back to float32. */
    f->mnv2[3] = 1e6f;
    ps_features_encode(f, PS_BLOB_F16, &b);
    CHECK_INT(b.len, PS_BLOB_HEADER + 4 * PS_FEATURE_VALUES);
    CHECK_INT(ps_features_decode(b.data, b.len, g, &err), 0);
    CHECK(g->mnv2[3] == 1e6f);

    CHECK_INT(ps_features_decode(b.data, b.len - 1, g, &err), -1);
    CHECK_CONTAINS(err.msg, "bytes, expected");
    CHECK_INT(ps_features_decode(b.data, 5, g, &err), -1);
    CHECK_CONTAINS(err.msg, "no valid header");
    b.data[4] = (char)(PS_FEATURES_VERSION + 1); /* another features version */
    CHECK_INT(ps_features_decode(b.data, b.len, g, &err), -1);
    CHECK_CONTAINS(err.msg, "version");
    ps_buf_free(&b);
    free(f);
    free(g);
}

static int has_problem(const ps_scan *s, const char *needle)
{
    for (size_t i = 0; i < s->nproblems; i++)
        if (strstr(s->problems[i], needle))
            return 1;
    return 0;
}

TEST(scan_walks_sorted_follows_links_and_survives_loops)
{
    char *d = tx_fresh_dir("scan");
    tx_photo(d, "b.jpg", "b");
    tx_photo(d, "a/z.jpg", "z");
    tx_photo(d, "a/y/x.jpg", "x");
    tx_write(d, ".DS_Store", "\0\0\0\1Bud1");
    tx_write(d, "picseek.db", "not scanned");
    char *p = tx_path(d, "a/y/loop");
    CHECK_INT(symlink("../..", p), 0); /* a/y/loop -> the root: a loop */
    free(p);
    p = tx_path(d, "self");
    CHECK_INT(symlink("self", p), 0); /* a link to itself */
    free(p);
    p = tx_path(d, "dangling");
    CHECK_INT(symlink("nowhere", p), 0);
    free(p);
    p = tx_path(d, "linked.jpg");
    CHECK_INT(symlink("b.jpg", p), 0); /* a link to a file is a file */
    free(p);
    p = tx_path(d, "fifo");
    CHECK_INT(mkfifo(p, 0644), 0);
    free(p);

    ps_scan s;
    ps_error err = {{0}};
    const char *excl[] = {"picseek.db"};
    CHECK_INT(ps_scan_dir(d, excl, 1, &s, &err), 0);
    const char *want[] = {".DS_Store", "a/y/x.jpg", "a/z.jpg", "b.jpg", "linked.jpg"};
    CHECK_INT(s.nfiles, 5);
    for (size_t i = 0; i < 5 && i < s.nfiles; i++)
        CHECK_STR(s.files[i].rel, want[i]);
    CHECK(has_problem(&s, "a/y/loop: folder already visited"));
    CHECK(has_problem(&s, "self: symbolic link loop"));
    CHECK(has_problem(&s, "dangling: dangling symbolic link"));
    CHECK_INT(s.nunreadable, 0);
    CHECK_INT(s.files[3].size, 5); /* magic + " b" */
    ps_scan_free(&s);

    CHECK_INT(ps_scan_dir("/nonexistent/folder", NULL, 0, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/folder: cannot open folder");
    free(d);
}

/* Scan in a child that has dropped root's power to read anything, so an
 * unreadable folder is unreadable even when the tests run as root.  The
 * child reports "nfiles nunreadable in_unreadable(private/x.jpg)". */
static void scan_unprivileged(const char *dir, char *report, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0 && setuid(65534) != 0)
            _exit(3);
        ps_scan s;
        char line[256] = "scan failed";
        if (ps_scan_dir(dir, NULL, 0, &s, NULL) == 0) {
            snprintf(line, sizeof line, "%zu %zu %d %s", s.nfiles, s.nunreadable,
                     ps_scan_in_unreadable(&s, "private/x.jpg"), s.nproblems ? s.problems[0] : "");
            ps_scan_free(&s);
        }
        if (write(fds[1], line, strlen(line)) < 0)
            _exit(4);
        _exit(0);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], report, cap - 1);
    report[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
}

TEST(scan_reports_unreadable_folder_and_goes_on)
{
    char *d = tx_fresh_dir("scan_unreadable");
    chmod(d, 0755);
    tx_photo(d, "ok.jpg", "fine");
    tx_photo(d, "private/x.jpg", "secret");
    char *p = tx_path(d, "private");
    chmod(p, 0);
    char report[512];
    scan_unprivileged(d, report, sizeof report);
    CHECK_CONTAINS(report, "1 1 1 private: cannot read folder: Permission denied");
    chmod(p, 0755);
    free(p);
    free(d);
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        abort();
    return db;
}

TEST(store_creates_reopens_and_refuses_other_files)
{
    char *d = tx_fresh_dir("store");
    char *db = tx_path(d, "x.db");
    ps_error err = {{0}};

    ps_store *st = ps_store_open(db, PS_STORE_OPEN, 100, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "no index database here");

    st = ps_store_open(db, PS_STORE_CREATE, 100, &err);
    CHECK(st != NULL);
    int64_t root = 0;
    CHECK_INT(ps_store_root(st, "/photos", &root, &err), 0);
    CHECK(root > 0);
    ps_store_close(st);

    sqlite3 *raw = raw_open(db);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &s, NULL);
    CHECK_INT(sqlite3_step(s), SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_exec(raw, "PRAGMA user_version=7", NULL, NULL, NULL);
    sqlite3_close(raw);
    st = ps_store_open(db, PS_STORE_OPEN, 100, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "created by a newer picseek (format 7");

    char *junk = tx_path(d, "junk.db");
    tx_write(d, "junk.db", "this is a text file, long enough to hold an SQLite header.........\n"
                           "........................................................................");
    st = ps_store_open(junk, PS_STORE_CREATE, 100, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "junk.db: not a picseek database");

    char *foreign = tx_path(d, "foreign.db");
    raw = raw_open(foreign);
    sqlite3_exec(raw, "CREATE TABLE t(x)", NULL, NULL, NULL);
    sqlite3_close(raw);
    st = ps_store_open(foreign, PS_STORE_CREATE, 100, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "another program");

    char *empty = tx_path(d, "empty.db");
    tx_write(d, "empty.db", "");
    st = ps_store_open(empty, PS_STORE_OPEN, 100, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "the database is empty");

    st = ps_store_open(d, PS_STORE_OPEN, 100, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "not a database file (it is a folder)");

    free(db);
    free(junk);
    free(foreign);
    free(empty);
    free(d);
}

TEST(store_waits_for_a_lock_then_says_locked)
{
    char *d = tx_fresh_dir("store_lock");
    char *db = tx_path(d, "x.db");
    ps_error err = {{0}};
    ps_store *st = ps_store_open(db, PS_STORE_CREATE, 100, &err);
    CHECK(st != NULL);
    ps_store_close(st);

    /* Another program holds an exclusive lock (exclusive locking mode). */
    sqlite3 *raw = raw_open(db);
    CHECK_INT(sqlite3_exec(raw, "PRAGMA locking_mode=EXCLUSIVE; BEGIN IMMEDIATE;"
                                "INSERT INTO roots(path) VALUES('/x'); COMMIT;",
                           NULL, NULL, NULL),
              SQLITE_OK);
    st = ps_store_open(db, PS_STORE_OPEN, 50, &err);
    CHECK(st == NULL);
    CHECK_CONTAINS(err.msg, "x.db: the database is locked by another program (gave up after waiting 50 ms)");
    ps_store_close(st);
    sqlite3_close(raw);
    st = ps_store_open(db, PS_STORE_OPEN, 50, &err);
    CHECK(st != NULL);
    ps_store_close(st);
    free(db);
    free(d);
}

TEST(store_records_photos_captions_and_restrictions)
{
    char *d = tx_fresh_dir("store_rows");
    char *db = tx_path(d, "x.db");
    ps_error err = {{0}};
    ps_store *st = ps_store_open(db, PS_STORE_CREATE, 100, &err);
    int64_t root = 0, id1 = 0, id2 = 0, id3 = 0;
    CHECK_INT(ps_store_root(st, "/p", &root, &err), 0);
    ps_features *f = calloc(1, sizeof *f);
    f->mnv1[0] = 1;
    unsigned char sha[32] = {1, 2, 3};
    CHECK_INT(ps_store_put_caption(st, "kid.jpg#0", "kid.jpg", "a child", 1, "c.csv", &err), 0);
    CHECK_INT(ps_store_begin(st, &err), 0);
    ps_photo_rec rec = {.root_id = root, .rel = "a/kid.jpg", .size = 10, .mtime_ns = 5, .sha256 = sha,
                        .status = PS_PHOTO_OK, .features = f};
    CHECK_INT(ps_store_put_photo(st, &rec, &id1, &err), 0);
    rec.rel = "dog.jpg";
    CHECK_INT(ps_store_put_photo(st, &rec, &id2, &err), 0);
    rec = (ps_photo_rec){.root_id = root, .rel = "notes.txt", .size = 3, .status = PS_PHOTO_SKIPPED,
                         .skip_reason = "not an image"};
    CHECK_INT(ps_store_put_photo(st, &rec, &id3, &err), 0);
    CHECK_INT(ps_store_commit(st, &err), 0);
    CHECK(id1 > 0 && id2 > id1 && id3 > id2);

    ps_store_stats stats;
    CHECK_INT(ps_store_get_stats(st, &stats, &err), 0);
    CHECK_INT(stats.ok, 2);
    CHECK_INT(stats.skipped, 1);
    CHECK_INT(stats.restricted, 1); /* kid.jpg: its caption was imported first */

    CHECK_INT(ps_store_put_caption(st, "dog.jpg#1", "dog.jpg", "kids and a dog", 1, "c.csv", &err), 0);
    CHECK_INT(ps_store_refresh_restrictions(st, &err), 0);
    CHECK_INT(ps_store_get_stats(st, &stats, &err), 0);
    CHECK_INT(stats.restricted, 2);
    CHECK_INT(ps_store_set_classifier_flag(st, id2, 1, &err), 0);
    CHECK_INT(ps_store_put_caption(st, "dog.jpg#1", "dog.jpg", "a dog", 0, "c.csv", &err), 0);
    CHECK_INT(ps_store_refresh_restrictions(st, &err), 0);
    CHECK_INT(ps_store_get_stats(st, &stats, &err), 0);
    CHECK_INT(stats.restricted, 2); /* the classifier bit stays */
    CHECK_INT(stats.captions, 2);

    /* Rows, sorted by path; the same path again keeps its id. */
    ps_store_row *rows;
    size_t n;
    CHECK_INT(ps_store_list_root(st, root, &rows, &n, &err), 0);
    CHECK_INT(n, 3);
    CHECK_STR(rows[0].rel, "a/kid.jpg");
    CHECK_INT(rows[0].features_version, PS_FEATURES_VERSION);
    CHECK(rows[0].has_sha && rows[0].sha256[2] == 3);
    CHECK_INT(rows[2].status, PS_PHOTO_SKIPPED);
    CHECK(!rows[2].has_sha);
    ps_store_rows_free(rows, n);
    int64_t again = 0;
    rec = (ps_photo_rec){.root_id = root, .rel = "dog.jpg", .size = 11, .status = PS_PHOTO_OK,
                         .copy_from = id1};
    CHECK_INT(ps_store_begin(st, &err), 0);
    CHECK_INT(ps_store_put_photo(st, &rec, &again, &err), 0);
    rec.copy_from = 999; /* no such photo: nothing written */
    rec.rel = "ghost.jpg";
    CHECK_INT(ps_store_put_photo(st, &rec, NULL, &err), 1);
    CHECK_INT(ps_store_commit(st, &err), 0);
    CHECK_INT(again, id2);

    ps_store_hash *h;
    CHECK_INT(ps_store_list_hashes(st, &h, &n, &err), 0);
    CHECK_INT(n, 1); /* dog.jpg's copy has no hash */
    CHECK_INT(ps_store_hash_find(h, n, sha), id1);
    unsigned char other[32] = {9};
    CHECK_INT(ps_store_hash_find(h, n, other), 0);
    free(h);

    char *report = NULL;
    CHECK_INT(ps_store_integrity(st, &report, &err), 0);
    CHECK_STR(report, "ok");
    free(report);
    ps_store_close(st);
    free(f);
    free(db);
    free(d);
}

int main(void)
{
    RUN(f16_round_trips_exact_values_and_bounds_the_rest);
    RUN(features_blob_round_trips_and_rejects_damage);
    RUN(scan_walks_sorted_follows_links_and_survives_loops);
    RUN(scan_reports_unreadable_folder_and_goes_on);
    RUN(store_creates_reopens_and_refuses_other_files);
    RUN(store_waits_for_a_lock_then_says_locked);
    RUN(store_records_photos_captions_and_restrictions);
    return test_summary();
}
