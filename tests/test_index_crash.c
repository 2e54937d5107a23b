/*
 * The crash test: kill -9 the indexer at random points, many times, and
 * check after each kill that
 *   - the database passes PRAGMA integrity_check and opens normally;
 *   - no photo that was finished (committed with its current size and
 *     mtime) before a run started is extracted again by that run;
 *   - the set of finished photos never shrinks;
 * and, after a final uninterrupted run, that the index equals the one a
 * clean, never-killed run builds from the same folder.
 *
 * The indexer runs in a forked child with a slowed stand-in extractor that
 * logs every call to a file; the parent kills the child either when the log
 * reaches a chosen length (a kill in the middle of extraction, whatever the
 * machine's speed) or after a random short delay (early kills: during the
 * walk, schema creation, the first commits).  The seed is fixed and printed.
 */
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "core/buf.h"
#include "index/indexer.h"
#include "index/store.h"
#include "index_doubles.h"
#include "test.h"

#define NPHOTOS 120
#define NSETUP 20 /* photos indexed before the killed runs start */

typedef struct set {
    char **v;
    size_t n;
} set;

static void set_free(set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int set_has(const set *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return 1;
    return 0;
}

static void set_add(set *s, const char *x)
{
    s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = strdup(x);
}

/* Rows whose size and mtime match the file on disk now: finished photos. */
static set finished_rows(const char *db, const char *root)
{
    set s = {0};
    sqlite3 *raw;
    if (sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(raw);
        return s;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(raw, "SELECT rel, size, mtime_ns FROM photos", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *rel = (const char *)sqlite3_column_text(st, 0);
            char p[2048];
            snprintf(p, sizeof p, "%s/%s", root, rel);
            struct stat sb;
            if (stat(p, &sb) == 0 && sb.st_size == sqlite3_column_int64(st, 1) &&
                (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec == sqlite3_column_int64(st, 2))
                set_add(&s, rel);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return s;
}

/* Everything the index says about the folder, as text, without ids and
 * times. */
static char *dump(const char *db)
{
    ps_buf b = {0};
    sqlite3 *raw;
    sqlite3_open_v2(db, &raw, SQLITE_OPEN_READONLY, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(raw,
                       "SELECT rel, name, size, mtime_ns, hex(sha256), status, skip_reason, restricted,"
                       " features_version, hex(f.blob) FROM photos p LEFT JOIN features f ON f.photo_id=p.id"
                       " ORDER BY rel",
                       -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < 10; c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            ps_buf_printf(&b, "%s|", t ? (const char *)t : "NULL");
        }
        ps_buf_putc(&b, '\n');
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return b.data ? ps_buf_steal(&b) : strdup("");
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Extractor calls logged in this round that hit a finished photo. */
static size_t redone(const char *log, const char *root, const set *finished)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return 0;
    char line[4200];
    size_t bad = 0, rl = strlen(root);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        const char *rel = strncmp(line, root, rl) == 0 ? line + rl + 1 : line;
        if (set_has(finished, rel)) {
            fprintf(stderr, "redone after a kill: %s\n", rel);
            bad++;
        }
    }
    fclose(f);
    return bad;
}

static void child_index(const char *root, const char *db, const char *log, int delay_us)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    tx_ctx tx = {.delay_us = delay_us, .log_fd = fd};
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract, .extract_ctx = &tx,
                       .busy_ms = 5000};
    ps_index_summary s;
    ps_error err;
    int rc = ps_index_run(&o, &s, &err);
    ps_index_summary_free(&s);
    close(fd);
    _exit(rc == 0 ? 0 : 1);
}

static void photo_rel(int i, char *rel, size_t cap)
{
    snprintf(rel, cap, "%s/%03d.jpg", i % 3 == 0 ? "a" : i % 3 == 1 ? "b/c" : "d", i);
}

static void add_photos(const char *root, int from, int to)
{
    for (int i = from; i < to; i++) {
        char rel[64], words[64];
        photo_rel(i, rel, sizeof rel);
        snprintf(words, sizeof words, "photo number %d %s", i, i % 2 ? "dog" : "sea");
        tx_photo(root, rel, words);
    }
}

TEST(kill_dash_nine_never_damages_or_loses_work)
{
    unsigned seed = 20240607u;
    if (getenv("PICSEEK_CRASH_SEED")) /* to reproduce or explore */
        seed = (unsigned)strtoul(getenv("PICSEEK_CRASH_SEED"), NULL, 10);
    fprintf(stderr, "crash test seed %u\n", seed);
    char *d = tx_fresh_dir("crash");
    char *root = tx_path(d, "photos");
    char *db = tx_path(d, "crash.db");
    char *clean = tx_path(d, "clean.db");
    char *log = tx_path(d, "extract.log");
    mkdir(root, 0755);
    /* Start from an index of an older state of the folder, so the killed
     * runs also add, update and remove rows. */
    add_photos(root, 0, NSETUP);
    tx_photo(root, "gone/1.jpg", "deleted later");
    tx_photo(root, "gone/2.jpg", "deleted later too");
    ps_index_opts o = {.db_path = db, .root = root, .extract = tx_extract};
    ps_index_summary s;
    ps_error err = {{0}};
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    ps_index_summary_free(&s);
    char cmd[2100];
    snprintf(cmd, sizeof cmd, "rm -r '%s/gone'", root);
    CHECK_INT(system(cmd), 0);
    add_photos(root, NSETUP, NPHOTOS);
    tx_write(root, ".DS_Store", "\0\0\0\1Bud1");
    tx_photo(root, "b/broken.jpg", "CORRUPT");
    for (int i = 0; i < NSETUP; i += 4) { /* changed; three with identical content */
        char rel[64];
        photo_rel(i, rel, sizeof rel);
        tx_photo(root, rel, i < 12 ? "same new content" : "other new content");
        tx_set_mtime(root, rel, 1500000000 + i);
    }

    int rounds = 0, mid_run_kills = 0;
    set prev = finished_rows(db, root);
    for (int round = 0; round < 12; round++) {
        unlink(log); /* a child killed before it opens the log must not leave the last one */
        pid_t pid = fork();
        if (pid == 0)
            child_index(root, db, log, 3000);
        int by_count = round % 2 == 0, reaped = 0;
        int status = 0;
        seed = seed * 1103515245u + 12345u;
        if (by_count) {
            /* Kill once this run has extracted a few more photos. */
            size_t target = 3 + (seed >> 16) % 8;
            for (int waited = 0; waited < 20000 && count_lines(log) < target; waited++) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                    reaped = 1; /* finished: nothing left to kill */
                    break;
                }
                usleep(500);
            }
            if (!reaped) /* and a little later, to land among the commits */
                usleep((useconds_t)((seed >> 8) % 4000));
        } else {
            usleep((useconds_t)((seed >> 16) % 30000));
        }
        if (!reaped) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
        }
        rounds++;

        char *report = NULL;
        ps_store *st = ps_store_open(db, PS_STORE_OPEN, 1000, &err);
        CHECK(st != NULL);
        if (!st) {
            fprintf(stderr, "round %d: %s\n", round, err.msg);
            break;
        }
        CHECK_INT(ps_store_integrity(st, &report, &err), 0);
        CHECK_STR(report, "ok");
        free(report);
        ps_store_close(st);

        CHECK_INT(redone(log, root, &prev), 0);
        set now = finished_rows(db, root);
        for (size_t i = 0; i < prev.n; i++)
            CHECK(set_has(&now, prev.v[i]));
        if (WIFSIGNALED(status) && now.n > prev.n)
            mid_run_kills++;
        set_free(&prev);
        prev = now;
    }
    /* At least some kills must have landed while photos were being
     * committed, or the test proved nothing. */
    CHECK(mid_run_kills >= 1);

    /* Finish without a kill. */
    unlink(log);
    pid_t pid = fork();
    if (pid == 0)
        child_index(root, db, log, 0);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(redone(log, root, &prev), 0);
    size_t left = count_lines(log);
    set_free(&prev);

    /* The clean reference. */
    o.db_path = clean;
    CHECK_INT(ps_index_run(&o, &s, &err), 0);
    CHECK_INT(s.total_ok, NPHOTOS);
    CHECK_INT(s.total_skipped, 2);
    ps_index_summary_free(&s);
    char *a = dump(db), *b = dump(clean);
    CHECK(strlen(a) > 1000);
    CHECK(strcmp(a, b) == 0);
    if (strcmp(a, b) != 0)
        fprintf(stderr, "--- killed runs:\n%.2000s\n--- clean run:\n%.2000s\n", a, b);
    free(a);
    free(b);
    fprintf(stderr, "crash test: %d kills, %d in the middle of committing; %zu photos left for the last run\n",
            rounds, mid_run_kills, left);
    free(root);
    free(db);
    free(clean);
    free(log);
    free(d);
}

int main(void)
{
    RUN(kill_dash_nine_never_damages_or_loses_work);
    return test_summary();
}
