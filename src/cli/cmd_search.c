/*
 * cmd_search.c - `picseek search QUERY`: rank the indexed photos.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/wiring.h"
#include "core/json.h"
#include "index/search.h"
#include "index/store.h"
#include "score/zeroshot.h"

#define CMD "search"

static const char HELP[] =
    "usage: picseek search QUERY... [--db FILE] [-k N] [--why] [--json] [--models DIR]\n"
    "\n"
    "Rank the indexed photos by how well they match QUERY, a sentence such as\n"
    "\"a dog running on the beach\" (several arguments are joined with spaces).\n"
    "\n"
    "The query first goes through the content rule: a query about children is\n"
    "answered with a disclaimer and no photos.  Photos restricted by the rule\n"
    "(one of their imported captions is about children) keep their rank but\n"
    "are shown without their path, with a notice instead.  A photo that is no\n"
    "longer where it was indexed is marked missing: run 'picseek index' again.\n"
    "\n"
    "Options:\n"
    "  --db FILE       the index database (default: $PICSEEK_DB, else ./picseek.db)\n"
    "  -k N            how many photos to show, 1 to 1000 (default 10)\n"
    "  --json          print the answer as JSON:\n"
    "                  {\"query\",\"blocked\",\"disclaimer\",\"results\":[{\"id\",\"path\",\n"
    "                  \"score\",\"restricted\",\"missing\"[,\"notice\"]}]}\n"
    "  --why           say why each photo matched: the strongest reason of each\n"
    "                  query word, e.g. \"dog (98%) \xc2\xb7 black (42% of the foreground)\"\n"
    "                  (the zero-shot score's, as 'picseek score' explains them;\n"
    "                  with --json each result gets \"why\": the object of\n"
    "                  'picseek score --json' without photo and text).  Restricted\n"
    "                  photos are never explained.\n"
    "  --models DIR    the pretrained models and scorer files\n"
    "  -h, --help      show this help\n"
    "\n"
    "A query must be non-empty, at most 1000 bytes and valid UTF-8.\n"
    "\n"
    "Environment:\n"
    "  PICSEEK_DB          default database path\n"
    "  PICSEEK_DB_WAIT_MS  how long to wait for a locked database (default 5000)\n"
    "\n"
    "Examples:\n"
    "  picseek search a black dog jumping over a fence\n"
    "  picseek search \"two people on a mountain\" -k 5 --json --db test.db\n"
    "\n"
    "Exit status: 0 answered (also when the query is blocked), 1 error (no\n"
    "index, locked, corrupt or newer database, models missing), 2 usage error\n"
    "(no query, empty, too long or invalid query).\n";

/* Why each result matched (--why): an explanation per hit, NULL where none
 * (restricted photos, photos without usable features). */
typedef struct why_list {
    const ps_zeroshot *zs;
    ps_zs_explanation **ex; /* r->n entries */
} why_list;

#define WHY_K 16 /* contributors per photo: enough for one per query word */

static int why_compute(why_list *w, const ps_scorer *scorer, const char *db, int wait_ms,
                       const char *q, size_t len, const ps_results *r, ps_error *err)
{
    w->zs = cli_scorer_zeroshot(scorer);
    w->ex = ps_xcalloc(r->n ? r->n : 1, sizeof *w->ex);
    if (!w->zs)
        return ps_errorf(err, "--why: this scorer cannot explain its results");
    ps_query pq = {0};
    int rc = ps_query_parse(ps_zeroshot_query_model(w->zs), q, len, &pq, err);
    ps_store *st = rc == 0 ? ps_store_open(db, PS_STORE_OPEN, wait_ms, err) : NULL;
    if (!st)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        if (r->hits[i].restricted)
            continue;
        ps_error e2;
        w->ex[i] = ps_xmalloc(sizeof **w->ex);
        if (cli_explain_photo(st, w->zs, r->hits[i].id, &pq, WHY_K, w->ex[i], &e2) != 0) {
            free(w->ex[i]); /* features gone since the engine opened: no reason to give */
            w->ex[i] = NULL;
        }
    }
    ps_store_close(st);
    ps_query_free(&pq);
    return rc;
}

static void why_free(why_list *w, size_t n)
{
    for (size_t i = 0; w->ex && i < n; i++)
        free(w->ex[i]);
    free(w->ex);
}

static void why_json(void *ctx, size_t i, const ps_hit *h, ps_json *j)
{
    (void)h;
    const why_list *w = ctx;
    if (!w->ex[i])
        return;
    ps_json_key(j, "why");
    ps_json_obj(j);
    ps_json_key(j, "scorer");
    ps_json_str(j, ps_zeroshot_name(w->zs));
    ps_zs_explanation_json(j, w->zs, w->ex[i]);
    ps_json_end(j);
}

/* unusable: indexed photos the engine left out (features of an older
 * picseek), which explains an empty answer better than "no photos". */
static void results_text(ps_buf *b, const char *q, const ps_results *r, size_t unusable,
                         const why_list *why)
{
    if (r->blocked) {
        ps_buf_printf(b, "%s\n", PS_POLICY_DISCLAIMER);
        return;
    }
    ps_buf_printf(b, "Results for \"%s\" (best %zu of %zu photos):\n", q, r->n, r->searched);
    if (r->n == 0) {
        if (unusable)
            ps_buf_printf(b, "  (its %zu photos were indexed by an older picseek; run 'picseek "
                             "index DIR' again to search them)\n", unusable);
        else
            ps_buf_puts(b, "  (the index has no photos yet; run 'picseek index DIR')\n");
        return;
    }
    ps_buf_printf(b, "  %4s  %7s  %s\n", "rank", "score", "photo");
    for (size_t i = 0; i < r->n; i++) {
        const ps_hit *h = &r->hits[i];
        ps_buf_printf(b, "  %4zu  %7.4f  ", i + 1, (double)h->score);
        if (h->restricted)
            ps_buf_printf(b, "[restricted] %s\n", PS_POLICY_MASK_TEXT);
        else
            ps_buf_printf(b, "%s%s\n", h->path, h->missing ? "  (missing)" : "");
        if (why && why->ex[i]) {
            ps_buf_printf(b, "  %4s  %7s  why: ", "", "");
            cli_reasons_text(why->ex[i], b);
            ps_buf_putc(b, '\n');
        }
    }
}

/* Join the query words; returns NULL if the result would be absurdly
 * long (the length check then reports it). */
static char *join_args(int argc, char **argv, size_t *len)
{
    ps_buf b = {0};
    for (int i = 0; i < argc; i++) {
        if (i)
            ps_buf_putc(&b, ' ');
        ps_buf_puts(&b, argv[i]);
    }
    *len = b.len;
    return b.data ? ps_buf_steal(&b) : ps_xstrdup("");
}

int cmd_search(int argc, char **argv)
{
    static const struct option LONG[] = {
        {"db", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
        {"why", no_argument, NULL, 'w'},
        {"models", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_flag = NULL, *models = NULL;
    int json = 0, why = 0;
    long k = 10;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "k:h", LONG, NULL)) != -1) {
        switch (c) {
        case 'd': db_flag = optarg; break;
        case 'j': json = 1; break;
        case 'w': why = 1; break;
        case 'm': models = optarg; break;
        case 'k':
            if (cli_parse_int(CMD, "-k", optarg, 1, PS_SEARCH_MAX_K, &k))
                return PS_EXIT_USAGE;
            break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default:
            if (optopt == 'k')
                return cli_usage(CMD, "-k needs a number");
            return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage(CMD, "what are you looking for? give a query, e.g. 'a dog on a beach'");
    size_t qlen;
    char *q = join_args(argc - optind, argv + optind, &qlen);
    ps_error err = {{0}};
    if (ps_query_check(q, qlen, &err) != 0) {
        free(q);
        return cli_usage(CMD, "%s", err.msg);
    }
    const char *db = cli_db_path(db_flag);
    int wait_ms = cli_db_wait_ms();

    /* Check the database before loading the models: its problems are the
     * likely ones and the models take a while to load. */
    ps_store *st = ps_store_open(db, PS_STORE_OPEN, wait_ms, &err);
    if (!st) {
        free(q);
        return cli_fail(CMD, &err);
    }
    ps_store_close(st);

    int rc = PS_EXIT_FAIL;
    cli_rule rule = {0};
    ps_scorer *scorer = NULL;
    ps_engine *e = NULL;
    ps_results r = {0};
    if (cli_rule_open(&rule, &err) != 0) {
        rc = cli_fail(CMD, &err);
        goto out;
    }
    /* A blocked query is answered before the models are even loaded (the
     * engine checks again; the rule is the same). */
    if (rule.rule.check(rule.rule.ctx, q, qlen, &r.policy, &err) != 0) {
        rc = cli_usage(CMD, "%s", err.msg);
        goto out;
    }
    ps_engine_opts eo;
    ps_engine_opts_default(&eo);
    eo.busy_ms = wait_ms;
    int src = 0;
    if (r.policy.blocked) {
        r.blocked = true;
    } else {
        if (!(scorer = cli_scorer_open(models, &err)) ||
            !(e = ps_engine_open(db, scorer, &rule.rule, &eo, &err))) {
            rc = cli_fail(CMD, &err);
            goto out;
        }
        src = ps_engine_search(e, q, qlen, (size_t)k, &r, &err);
    }
    if (src == PS_SEARCH_BAD_QUERY) {
        rc = cli_usage(CMD, "%s", err.msg);
        goto out;
    }
    if (src != 0) {
        rc = cli_fail(CMD, &err);
        goto out;
    }
    ps_engine_info info = {0};
    if (e)
        ps_engine_get_info(e, &info);
    why_list wl = {0};
    if (why && !r.blocked && why_compute(&wl, scorer, db, wait_ms, q, qlen, &r, &err) != 0) {
        why_free(&wl, r.n);
        rc = cli_fail(CMD, &err);
        goto out;
    }
    ps_buf b = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &b, 1);
        ps_results_json_with(&j, q, qlen, &r, wl.ex ? why_json : NULL, &wl);
    } else {
        results_text(&b, q, &r, info.unusable, wl.ex ? &wl : NULL);
    }
    why_free(&wl, r.n);
    rc = cli_write_stdout(&b);
    ps_buf_free(&b);
    if (r.nmissing)
        cli_warn(CMD,
                 "%zu of these photos are no longer where they were indexed (moved or deleted); "
                 "run 'picseek index DIR --db %s' again",
                 r.nmissing, db);
    if (info.unusable)
        cli_warn(CMD, "%zu indexed photos were left out (features of an older picseek); run "
                      "'picseek index DIR --db %s' again", info.unusable, db);
out:
    ps_results_free(&r);
    ps_engine_close(e);
    ps_scorer_free(scorer);
    cli_rule_close(&rule);
    free(q);
    return rc;
}
