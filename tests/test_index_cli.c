/* The picseek binary against a database another program holds locked:
 * it waits (PICSEEK_DB_WAIT_MS), then fails with a clear message and exit
 * status 1. */
#include <sqlite3.h>
#include <sys/wait.h>

#include "index/indexer.h"
#include "index_doubles.h"
#include "test.h"

/* Run the binary with args; capture stderr+stdout into out. */
static int run_bin(char *const args[], char *out, size_t cap)
{
    int fds[2];
    if (pipe(fds) != 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        setenv("PICSEEK_DB_WAIT_MS", "100", 1);
        setenv("PICSEEK_MODEL", "none", 1); /* the zero-shot score, whatever is cached */
        execv(args[0], args);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fds[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* A fresh folder `name` with photos/ (filled by fill) indexed into
 * name/db_name with the test extractor; *root and *db are new strings. */
static char *make_index(const char *name, const char *db_name, void (*fill)(const char *root),
                        char **root, char **db)
{
    char *d = tx_fresh_dir(name);
    *root = tx_path(d, "photos");
    *db = tx_path(d, db_name);
    mkdir(*root, 0755);
    fill(*root);
    ps_index_opts o = {.db_path = *db, .root = *root, .extract = tx_extract};
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    ps_index_summary_free(&s);
    return d;
}

static void fill_notes(const char *root) { tx_write(root, "notes.txt", "not a photo"); }

static void fill_pets(const char *root)
{
    tx_photo(root, "dog.jpg", "dog beach");
    tx_photo(root, "cat.jpg", "cat sofa");
}

TEST(locked_database_fails_after_waiting)
{
    const char *bin = getenv("PICSEEK_BIN");
    if (!bin || !*bin)
        SKIP("PICSEEK_BIN not set");
    char *root, *db;
    char *d = make_index("cli_locked", "x.db", fill_notes, &root, &db);

    sqlite3 *raw;
    sqlite3_open(db, &raw);
    CHECK_INT(sqlite3_exec(raw, "PRAGMA locking_mode=EXCLUSIVE; BEGIN IMMEDIATE; DELETE FROM captions; COMMIT",
                           NULL, NULL, NULL),
              SQLITE_OK);
    char out[4096];
    char *search[] = {(char *)bin, "search", "dog", "--db", db, NULL};
    CHECK_INT(run_bin(search, out, sizeof out), 1);
    CHECK_CONTAINS(out, "x.db: the database is locked by another program (gave up after waiting 100 ms)");
    char *index[] = {(char *)bin, "index", root, "--db", db, NULL};
    CHECK_INT(run_bin(index, out, sizeof out), 1);
    CHECK_CONTAINS(out, "the database is locked by another program");
    sqlite3_close(raw);
    /* Released: the index run works again. */
    CHECK_INT(run_bin(index, out, sizeof out), 0);
    CHECK_CONTAINS(out, "unchanged           1");
    free(root);
    free(db);
    free(d);
}

/* An index whose features an older picseek computed (another feature
 * version): search answers, says why nothing was found and what to run. */
TEST(old_features_are_explained)
{
    const char *bin = getenv("PICSEEK_BIN");
    if (!bin || !*bin)
        SKIP("PICSEEK_BIN not set");
    char *root, *db;
    char *d = make_index("cli_old", "old.db", fill_pets, &root, &db);
    /* Feature blobs of version 1 ("PSF1", version 1, float16, no values),
     * no cached embeddings. */
    sqlite3 *raw;
    sqlite3_open(db, &raw);
    CHECK_INT(sqlite3_exec(raw,
                           "DELETE FROM embeddings; UPDATE features SET "
                           "blob=X'505346310100010000000000'; UPDATE photos SET features_version=1",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(raw);
    char out[8192];
    char *search[] = {(char *)bin, "search", "a dog", "--db", db, NULL};
    int rc = run_bin(search, out, sizeof out);
    if (rc == 1 && !strstr(out, "old.db"))
        SKIP("the zero-shot score's assets (WordNet, GloVe, models) are not available");
    CHECK_INT(rc, 0);
    CHECK_CONTAINS(out, "best 0 of 0 photos");
    CHECK_CONTAINS(out, "its 2 photos were indexed by an older picseek; run 'picseek index DIR' "
                        "again to search them");
    CHECK_CONTAINS(out, "2 indexed photos were left out (features of an older picseek); run "
                        "'picseek index DIR --db ");
    free(root);
    free(db);
    free(d);
}

int main(void)
{
    RUN(locked_database_fails_after_waiting);
    RUN(old_features_are_explained);
    return test_summary();
}
