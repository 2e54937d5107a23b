/* Tests for the indexer (src/index/indexer.c): incremental runs, skipped
 * files, reuse of identical content, unreadable folders, captions. */
#include <sqlite3.h>
#include <sys/wait.h>

#include "index/indexer.h"
#include "index/store.h"
#include "index_doubles.h"
#include "test.h"

typedef struct progress_log {
    int calls, finished;
    size_t last_done, total;
} progress_log;

static void on_progress(void *ctx, const ps_index_progress *p)
{
    progress_log *l = ctx;
    l->calls++;
    l->finished += p->finished;
    l->last_done = p->done;
    l->total = p->total;
}

static int index_once(const char *root, const char *db, tx_ctx *tx, ps_index_summary *sum, ps_error *err)
{
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract, .extract_ctx = tx,
                       .busy_ms = 2000};
    return ps_index_run(&o, sum, err);
}

static const char *skip_reason(const ps_index_summary *s, const char *rel)
{
    for (size_t i = 0; i < s->skipped; i++)
        if (strcmp(s->skips[i].rel, rel) == 0)
            return s->skips[i].reason;
    return NULL;
}

TEST(incremental_runs_redo_only_what_changed)
{
    char *d = tx_fresh_dir("incr");
    char *root = tx_path(d, "photos");
    char *db = tx_path(d, "index.db");
    mkdir(root, 0755);
    tx_photo(root, "dog.jpg", "dog beach");
    tx_photo(root, "cat.jpg", "cat sofa");
    tx_photo(root, "trip/boat.jpg", "boat sea");
    tx_photo(root, "trip/broken.jpg", "CORRUPT");
    tx_write(root, ".DS_Store", "\0\0\0\1Bud1");
    tx_write(root, "readme.txt", "hello");

    tx_ctx tx = {0};
    ps_index_summary s;
    ps_error err = {{0}};
    progress_log pl = {0};
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract, .extract_ctx = &tx,
                       .progress = on_progress, .progress_ctx = &pl};
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    CHECK_INT(s.files, 6);
    CHECK_INT(s.processed, 6);
    CHECK_INT(s.added, 3);
    CHECK_INT(s.skipped, 3);
    CHECK_INT(s.unchanged, 0);
    CHECK_INT(s.total_ok, 3);
    CHECK_INT(s.total_skipped, 3);
    CHECK_INT(atomic_load(&tx.calls), 4); /* the three photos and the corrupt one */
    CHECK_STR(skip_reason(&s, ".DS_Store"), "not an image");
    CHECK_STR(skip_reason(&s, "readme.txt"), "not an image");
    CHECK_STR(skip_reason(&s, "trip/broken.jpg"), "corrupt JPEG data: premature end of data segment");
    CHECK(pl.calls >= 2);
    CHECK_INT(pl.finished, 1);
    CHECK_INT(pl.total, 6);
    CHECK_INT(pl.last_done, 6);
    ps_index_summary_free(&s);

    /* Second run: nothing to do. */
    atomic_store(&tx.calls, 0);
    CHECK_INT(index_once(root, db, &tx, &s, &err), 0);
    CHECK_INT(s.processed, 0);
    CHECK_INT(s.unchanged, 6);
    CHECK_INT(s.removed, 0);
    CHECK_INT(atomic_load(&tx.calls), 0);
    ps_index_summary_free(&s);

    /* A changed photo is redone, a deleted one removed, a new one added, a
     * touched one (same bytes, new mtime) and a copy are not extracted. */
    tx_photo(root, "dog.jpg", "dog beach ball");
    tx_set_mtime(root, "dog.jpg", 1000000000);
    char *p = tx_path(root, "cat.jpg");
    unlink(p);
    free(p);
    tx_photo(root, "new.jpg", "tree");
    tx_set_mtime(root, "trip/boat.jpg", 1200000000);
    tx_photo(root, "trip/boat copy.jpg", "boat sea");
    CHECK_INT(index_once(root, db, &tx, &s, &err), 0);
    CHECK_INT(s.processed, 3);
    CHECK_INT(s.updated, 1);
    CHECK_INT(s.added, 2);
    CHECK_INT(s.reused, 1);
    CHECK_INT(s.unchanged, 4); /* incl. the touched boat */
    CHECK_INT(s.removed, 1);
    CHECK_INT(s.skipped, 0);
    CHECK_INT(atomic_load(&tx.calls), 2); /* dog.jpg and new.jpg */
    CHECK_INT(s.total_ok, 4);
    ps_index_summary_free(&s);

    atomic_store(&tx.calls, 0);
    CHECK_INT(index_once(root, db, &tx, &s, &err), 0);
    CHECK_INT(s.processed, 0);
    CHECK_INT(atomic_load(&tx.calls), 0);
    ps_index_summary_free(&s);

    /* The corrupt photo fixed: redone. */
    tx_photo(root, "trip/broken.jpg", "fixed photo");
    tx_set_mtime(root, "trip/broken.jpg", 1300000000);
    CHECK_INT(index_once(root, db, &tx, &s, &err), 0);
    CHECK_INT(s.processed, 1);
    CHECK_INT(s.updated, 1);
    CHECK_INT(s.total_ok, 5);
    ps_index_summary_free(&s);
    free(root);
    free(db);
    free(d);
}

TEST(database_inside_the_indexed_folder_is_not_indexed)
{
    char *d = tx_fresh_dir("db_inside");
    char *db = tx_path(d, "picseek.db");
    tx_photo(d, "a.jpg", "apple");
    ps_index_summary s;
    ps_error err = {{0}};
    tx_ctx tx = {0};
    CHECK_INT(index_once(d, db, &tx, &s, &err), 0);
    CHECK_INT(s.files, 1);
    ps_index_summary_free(&s);
    CHECK_INT(index_once(d, db, &tx, &s, &err), 0);
    CHECK_INT(s.files, 1);
    CHECK_INT(s.processed, 0);
    ps_index_summary_free(&s);
    free(db);
    free(d);
}

TEST(bad_arguments_and_fatal_extractor_errors_stop_the_run)
{
    char *d = tx_fresh_dir("bad_args");
    char *db = tx_path(d, "x.db");
    ps_index_summary s;
    ps_error err = {{0}};
    tx_ctx tx = {0};
    CHECK_INT(index_once("/no/such/folder", db, &tx, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "/no/such/folder: cannot open folder");
    ps_index_summary_free(&s);
    char *f = tx_path(d, "file.jpg");
    tx_photo(d, "file.jpg", "x");
    CHECK_INT(index_once(f, db, &tx, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "not a folder");
    ps_index_summary_free(&s);
    tx_write(d, "junk.db", "garbage garbage garbage garbage garbage garbage garbage garbage garbage "
                           "garbage garbage garbage garbage garbage garbage garbage garbage garbage");
    char *junk = tx_path(d, "junk.db");
    CHECK_INT(index_once(d, junk, &tx, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "junk.db: not a picseek database");
    ps_index_summary_free(&s);
    free(f);
    free(junk);
    free(db);
    free(d);
}

static int fatal_extract(void *ctx, int worker, const char *path, const unsigned char *data, size_t len,
                         ps_features *out, ps_error *err)
{
    (void)ctx;
    (void)worker;
    (void)data;
    (void)len;
    (void)out;
    ps_errorf(err, "%s: the model file is damaged", path);
    return PS_EXTRACT_FATAL;
}

TEST(fatal_extractor_error_stops_without_recording)
{
    char *d = tx_fresh_dir("fatal");
    char *root = tx_path(d, "p");
    char *db = tx_path(d, "x.db");
    mkdir(root, 0755);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "%02d.jpg", i);
        tx_photo(root, name, "word");
    }
    ps_index_opts o = {.db_path = db, .root = root, .extract = fatal_extract};
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(ps_index_run(&o, &s, &err), -1);
    CHECK_CONTAINS(err.msg, "the model file is damaged");
    ps_index_summary_free(&s);
    /* Nothing was recorded as skipped: a later run with a working
     * extractor indexes everything. */
    tx_ctx tx = {0};
    CHECK_INT(index_once(root, db, &tx, &s, &err), 0);
    CHECK_INT(s.added, 20);
    CHECK_INT(s.skipped, 0);
    ps_index_summary_free(&s);
    free(root);
    free(db);
    free(d);
}

/* Index in a child without root's power, with one folder unreadable:
 * the rows under it must survive.  Reports "processed removed total_ok". */
static void index_unprivileged(const char *root, const char *db, char *report, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0 && setuid(65534) != 0)
            _exit(3);
        ps_index_summary s;
        ps_error err = {{0}};
        char line[1400];
        if (index_once(root, db, NULL, &s, &err) == 0)
            snprintf(line, sizeof line, "%zu %zu %lld %s", s.processed, s.removed, (long long)s.total_ok,
                     s.nproblems ? s.problems[0] : "-");
        else
            snprintf(line, sizeof line, "error: %s", err.msg);
        ps_index_summary_free(&s);
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

TEST(unreadable_folder_is_reported_and_its_photos_kept)
{
    char *d = tx_fresh_dir("unreadable");
    chmod(d, 0777);
    char *root = tx_path(d, "p");
    char *db = tx_path(d, "x.db");
    mkdir(root, 0777);
    chmod(root, 0777);
    tx_photo(root, "a.jpg", "apple");
    tx_photo(root, "private/b.jpg", "banana");
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(index_once(root, db, NULL, &s, &err), 0);
    CHECK_INT(s.total_ok, 2);
    ps_index_summary_free(&s);
    /* Let the unprivileged child write the database. */
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "chmod 666 '%s' '%s-wal' '%s-shm' 2>/dev/null; true", db, db, db);
    CHECK_INT(system(cmd), 0);
    char *priv = tx_path(root, "private");
    chmod(priv, 0);
    tx_photo(root, "c.jpg", "cherry");
    char report[1500];
    index_unprivileged(root, db, report, sizeof report);
    CHECK_STR(report, "1 0 3 private: cannot read folder: Permission denied");
    chmod(priv, 0755);
    free(priv);
    free(root);
    free(db);
    free(d);
}

TEST(symlink_loop_in_the_tree_is_indexed_once)
{
    char *d = tx_fresh_dir("loop");
    char *root = tx_path(d, "p");
    char *db = tx_path(d, "x.db");
    mkdir(root, 0755);
    tx_photo(root, "a/b/photo.jpg", "pic");
    char *link = tx_path(root, "a/b/up");
    CHECK_INT(symlink("..", link), 0);
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(index_once(root, db, NULL, &s, &err), 0);
    CHECK_INT(s.files, 1);
    CHECK_INT(s.total_ok, 1);
    CHECK_INT(s.nproblems, 1);
    CHECK_CONTAINS(s.problems[0], "a/b/up: folder already visited");
    ps_index_summary_free(&s);
    free(link);
    free(root);
    free(db);
    free(d);
}

int main(void)
{
    RUN(incremental_runs_redo_only_what_changed);
    RUN(database_inside_the_indexed_folder_is_not_indexed);
    RUN(bad_arguments_and_fatal_extractor_errors_stop_the_run);
    RUN(fatal_extractor_error_stops_without_recording);
    RUN(unreadable_folder_is_reported_and_its_photos_kept);
    RUN(symlink_loop_in_the_tree_is_indexed_once);
    return test_summary();
}
