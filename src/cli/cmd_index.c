/*
 * cmd_index.c - `picseek index DIR`: bring the photo index up to date.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/wiring.h"
#include "core/json.h"
#include "index/captions.h"
#include "index/indexer.h"
#include "index/store.h"

#define CMD "index"
#define TEXT_SKIPS_SHOWN 20
#define MAX_CAPTION_FILES 8

static const char HELP[] =
    "usage: picseek index DIR [--db FILE] [--captions FILE]... [--json] [--quiet]\n"
    "       picseek index --captions FILE... [--db FILE] [--json]\n"
    "\n"
    "Index the photos under DIR (recursively) into the index database, so\n"
    "'picseek search' can find them.\n"
    "\n"
    "Every regular file is looked at; JPEG, PNG and WebP photos (recognized by\n"
    "their first bytes, not their names) are read by the three pretrained\n"
    "models and their features stored.  Other files, and photos that cannot be\n"
    "decoded (corrupt, truncated), are recorded as skipped with the reason and\n"
    "the run goes on.  Symbolic links are followed, each folder at most once;\n"
    "unreadable folders are reported and their photos kept in the index.\n"
    "\n"
    "Indexing is incremental: a file whose size and modification time are\n"
    "unchanged is not read again; a changed file is read again (and its\n"
    "features reused if its content is in fact the same); files that are gone\n"
    "are removed from the index.  Every finished photo is committed at once,\n"
    "so an interrupted run (Ctrl-C, kill -9, power cut) loses nothing but the\n"
    "photos in progress: run the command again to resume.  Searching while\n"
    "indexing works.\n"
    "\n"
    "--captions FILE imports photo captions (train_dataset.csv layout\n"
    "'image,query_id,query_text' or test_queries.csv layout\n"
    "'|query_id|query_text|image'; a caption id '<photo file>#n' names the photo\n"
    "it describes).  A photo with a caption the content rule blocks (about\n"
    "children) is restricted: searches show it without its path.  Captions are\n"
    "imported before DIR is indexed and also apply to photos indexed later.\n"
    "\n"
    "Options:\n"
    "  --db FILE       the index database (default: $PICSEEK_DB, else ./picseek.db);\n"
    "                  created if missing\n"
    "  --captions FILE import captions (repeatable); DIR is optional with it\n"
    "  --json          print the summary as JSON\n"
    "  -q, --quiet     no progress display\n"
    "  --workers N     photos read in parallel (default 2)\n"
    "  --models DIR    the pretrained models (default: see 'picseek help')\n"
    "  -h, --help      show this help\n"
    "\n"
    "Progress goes to standard error: a bar on a terminal, otherwise one line\n"
    "every 10 seconds.  The summary (standard output) lists what was added,\n"
    "changed, unchanged, removed and skipped (with reasons).\n"
    "\n"
    "Environment:\n"
    "  PICSEEK_DB          default database path\n"
    "  PICSEEK_DB_WAIT_MS  how long to wait for a database locked by another\n"
    "                      program (default 5000)\n"
    "\n"
    "Examples:\n"
    "  picseek index ~/Pictures\n"
    "  picseek index ../shared/dataset/test_images --db test.db --json\n"
    "  picseek index ../shared/dataset/test_images --captions ../shared/dataset/test_queries.csv\n"
    "\n"
    "Exit status: 0 the folder is indexed (even with skipped files), 1 error\n"
    "(folder or database unusable, models missing), 2 usage error.\n";

typedef struct progress_view {
    int tty;
    double last_draw; /* monotonic seconds */
    int drew;
} progress_view;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fmt_duration(double s, char *out, size_t cap)
{
    if (s < 0) {
        snprintf(out, cap, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%ld:%02ld", t / 60, t % 60);
}

static void on_progress(void *ctx, const ps_index_progress *p)
{
    progress_view *v = ctx;
    if (p->total == 0)
        return;
    double now = mono_s();
    double every = v->tty ? 0.1 : 10.0;
    if (!p->finished && v->last_draw > 0 && now - v->last_draw < every)
        return;
    if (!v->tty && !p->finished && v->last_draw == 0) {
        v->last_draw = now; /* first plain line after `every` seconds */
        return;
    }
    v->last_draw = now;
    char eta[32];
    fmt_duration(p->eta_s, eta, sizeof eta);
    if (v->tty) {
        enum { WIDTH = 28 };
        int fill = (int)(WIDTH * (double)p->done / (double)p->total);
        char bar[WIDTH + 1];
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < fill ? '#' : '-';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu  %.1f photos/s  ETA %s   ", bar, p->done, p->total, p->rate, eta);
        if (p->finished)
            fputc('\n', stderr);
        v->drew = 1;
    } else if (!p->finished) {
        fprintf(stderr, "picseek index: %zu/%zu files (%.0f%%), %.1f photos/s, ETA %s\n", p->done, p->total,
                100.0 * (double)p->done / (double)p->total, p->rate, eta);
    }
    fflush(stderr);
}

typedef struct captions_part {
    const char *const *files;
    const ps_captions_summary *sums;
    int n;
    long long restricted; /* indexed photos restricted by captions, at the end */
} captions_part;

static void captions_json(ps_json *j, const captions_part *c)
{
    ps_json_key(j, "captions");
    ps_json_arr(j);
    for (int i = 0; i < c->n; i++) {
        const ps_captions_summary *cs = &c->sums[i];
        ps_json_obj(j);
        ps_json_key(j, "file");
        ps_json_str(j, c->files[i]);
        ps_json_key(j, "layout");
        ps_json_str(j, cs->format);
        ps_json_key(j, "rows");
        ps_json_int(j, (int64_t)cs->rows);
        ps_json_key(j, "captions");
        ps_json_int(j, (int64_t)cs->captions);
        ps_json_key(j, "blocked");
        ps_json_int(j, (int64_t)cs->blocked);
        ps_json_end(j);
    }
    ps_json_end(j);
    ps_json_key(j, "photos_restricted_by_captions");
    ps_json_int(j, c->restricted);
}

/* s may be NULL (captions only). */
static void summary_json(ps_buf *b, const char *db, const ps_index_summary *s, const captions_part *c)
{
    ps_json j;
    ps_json_init(&j, b, 1);
    ps_json_obj(&j);
    if (!s) {
        ps_json_key(&j, "db");
        ps_json_str(&j, db);
        captions_json(&j, c);
        ps_json_end(&j);
        return;
    }
    ps_json_key(&j, "db");
    ps_json_str(&j, db);
    ps_json_key(&j, "root");
    ps_json_str(&j, s->root ? s->root : "");
    ps_json_key(&j, "files");
    ps_json_int(&j, (int64_t)s->files);
    ps_json_key(&j, "processed");
    ps_json_int(&j, (int64_t)s->processed);
    ps_json_key(&j, "added");
    ps_json_int(&j, (int64_t)s->added);
    ps_json_key(&j, "updated");
    ps_json_int(&j, (int64_t)s->updated);
    ps_json_key(&j, "reused");
    ps_json_int(&j, (int64_t)s->reused);
    ps_json_key(&j, "unchanged");
    ps_json_int(&j, (int64_t)s->unchanged);
    ps_json_key(&j, "removed");
    ps_json_int(&j, (int64_t)s->removed);
    ps_json_key(&j, "skipped");
    ps_json_int(&j, (int64_t)s->skipped);
    ps_json_key(&j, "skips");
    ps_json_arr(&j);
    for (size_t i = 0; i < s->skipped; i++) {
        ps_json_obj(&j);
        ps_json_key(&j, "path");
        ps_json_str(&j, s->skips[i].rel);
        ps_json_key(&j, "reason");
        ps_json_str(&j, s->skips[i].reason);
        ps_json_end(&j);
    }
    ps_json_end(&j);
    ps_json_key(&j, "problems");
    ps_json_arr(&j);
    for (size_t i = 0; i < s->nproblems; i++)
        ps_json_str(&j, s->problems[i]);
    ps_json_end(&j);
    ps_json_key(&j, "photos_indexed");
    ps_json_int(&j, s->total_ok);
    ps_json_key(&j, "files_skipped");
    ps_json_int(&j, s->total_skipped);
    ps_json_key(&j, "seconds");
    ps_json_num(&j, s->seconds);
    if (c)
        captions_json(&j, c);
    ps_json_end(&j);
}

static void summary_text(ps_buf *b, const char *db, const ps_index_summary *s)
{
    ps_buf_printf(b, "Indexed %s into %s in %.1f s\n", s->root, db, s->seconds);
    ps_buf_printf(b, "  files found  %8zu\n", s->files);
    ps_buf_printf(b, "  new          %8zu\n", s->added);
    ps_buf_printf(b, "  changed      %8zu\n", s->updated);
    ps_buf_printf(b, "  unchanged    %8zu\n", s->unchanged);
    ps_buf_printf(b, "  removed      %8zu\n", s->removed);
    ps_buf_printf(b, "  skipped      %8zu\n", s->skipped);
    for (size_t i = 0; i < s->skipped && i < TEXT_SKIPS_SHOWN; i++)
        ps_buf_printf(b, "    %s: %s\n", s->skips[i].rel, s->skips[i].reason);
    if (s->skipped > TEXT_SKIPS_SHOWN)
        ps_buf_printf(b, "    ... and %zu more (--json lists all)\n", s->skipped - TEXT_SKIPS_SHOWN);
    if (s->nproblems) {
        ps_buf_printf(b, "  problems     %8zu\n", s->nproblems);
        for (size_t i = 0; i < s->nproblems && i < TEXT_SKIPS_SHOWN; i++)
            ps_buf_printf(b, "    %s\n", s->problems[i]);
        if (s->nproblems > TEXT_SKIPS_SHOWN)
            ps_buf_printf(b, "    ... and %zu more (--json lists all)\n", s->nproblems - TEXT_SKIPS_SHOWN);
    }
    if (s->reused)
        ps_buf_printf(b, "  (%zu new or changed files had the content of an indexed photo: not read again)\n",
                      s->reused);
    ps_buf_printf(b, "The index holds %lld photos from this folder (%lld files skipped).\n",
                  (long long)s->total_ok, (long long)s->total_skipped);
}

static int import_captions(const char *db, const char *const *files, int n, ps_captions_summary *sums,
                           ps_error *err)
{
    cli_rule rule;
    if (cli_rule_open(&rule, err) != 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = ps_captions_import(db, files[i], &rule.rule, cli_db_wait_ms(), &sums[i], err);
    cli_rule_close(&rule);
    return rc;
}

/* Photos restricted by captions now (after indexing); -1 if unknown. */
static long long restricted_now(const char *db)
{
    ps_error err;
    ps_store_stats st;
    ps_store *s = ps_store_open(db, PS_STORE_OPEN, cli_db_wait_ms(), &err);
    long long n = s && ps_store_get_stats(s, &st, &err) == 0 ? (long long)st.restricted_by_captions : -1;
    ps_store_close(s);
    return n;
}

/* The summary of a run that imported captions (s: the indexing, or NULL). */
static void captions_report(ps_buf *b, int json, const char *db, const char *const *files,
                            const ps_captions_summary *sums, int n, const ps_index_summary *s)
{
    captions_part c = {files, sums, n, restricted_now(db)};
    if (json) {
        summary_json(b, db, s, &c);
        return;
    }
    for (int i = 0; i < n; i++)
        ps_buf_printf(b, "Imported %zu captions from %s (%s layout, %zu rows): %zu blocked by the content rule\n",
                      sums[i].captions, files[i], sums[i].format, sums[i].rows, sums[i].blocked);
    if (s)
        summary_text(b, db, s);
    ps_buf_printf(b, "%lld indexed photos are restricted by their captions.\n", c.restricted);
}

int cmd_index(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"db", required_argument, NULL, 'd'},   {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},      {"workers", required_argument, NULL, 'w'},
        {"models", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
        {"captions", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *db_flag = NULL, *models = NULL;
    const char *captions[MAX_CAPTION_FILES];
    int ncaptions = 0;
    int json = 0, quiet = 0;
    long workers = 2;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "qh", LONG, NULL)) != -1) {
        switch (c) {
        case 'd': db_flag = optarg; break;
        case 'j': json = 1; break;
        case 'q': quiet = 1; break;
        case 'm': models = optarg; break;
        case 'c':
            if (ncaptions == MAX_CAPTION_FILES)
                return cli_usage(CMD, "at most %d --captions files at a time", MAX_CAPTION_FILES);
            captions[ncaptions++] = optarg;
            break;
        case 'w':
            if (cli_parse_int(CMD, "--workers", optarg, 1, 16, &workers))
                return PS_EXIT_USAGE;
            break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default:
            return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc && ncaptions == 0)
        return cli_usage(CMD, "which folder? give the folder of photos to index");
    if (optind + 1 < argc)
        return cli_usage(CMD, "one folder at a time (got '%s' and '%s')", argv[optind], argv[optind + 1]);
    const char *dir = optind < argc ? argv[optind] : NULL;
    const char *db = cli_db_path(db_flag);
    ps_error err = {{0}};
    ps_captions_summary csum[MAX_CAPTION_FILES];
    if (ncaptions && import_captions(db, captions, ncaptions, csum, &err) != 0)
        return cli_fail(CMD, &err);
    if (!dir) {
        ps_buf out = {0};
        captions_report(&out, json, db, captions, csum, ncaptions, NULL);
        int rc = cli_write_stdout(&out);
        ps_buf_free(&out);
        return rc;
    }

    cli_extractor *x = cli_extractor_new(models, (int)workers);
    progress_view view = {.tty = isatty(STDERR_FILENO)};
    ps_index_opts o = {
        .db_path = db,
        .root = dir,
        .extract = cli_extract,
        .extract_ctx = x,
        .nworkers = (int)workers,
        .busy_ms = cli_db_wait_ms(),
        .progress = quiet ? NULL : on_progress,
        .progress_ctx = &view,
    };
    ps_index_summary s;
    int rc = ps_index_run(&o, &s, &err);
    cli_extractor_free(x);
    if (view.drew && rc != 0)
        fputc('\n', stderr);
    if (rc != 0) {
        ps_index_summary_free(&s);
        return cli_fail(CMD, &err);
    }
    /* Photos no caption describes: the trained content classifier decides
     * (favouring recall), when a trained model exists. */
    long long checked = 0, classified = 0;
    int crc = cli_content_classify(db, &checked, &classified, &err);
    if (crc < 0) {
        ps_index_summary_free(&s);
        return cli_fail(CMD, &err);
    }
    if (crc == 0 && !json)
        fprintf(stderr, "Content classifier: %lld of %lld photos without captions restricted.\n",
                classified, checked);
    for (size_t i = 0; json && i < s.nproblems; i++) /* the text summary lists them */
        cli_warn(CMD, "%s", s.problems[i]);
    ps_buf out = {0};
    if (ncaptions)
        captions_report(&out, json, db, captions, csum, ncaptions, &s);
    else if (json)
        summary_json(&out, db, &s, NULL);
    else
        summary_text(&out, db, &s);
    rc = cli_write_stdout(&out);
    ps_buf_free(&out);
    ps_index_summary_free(&s);
    return rc;
}
