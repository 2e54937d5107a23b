/*
 * cmd_serve.c - `picseek serve`: the search page and its JSON API over
 * HTTP (src/server), answering from the index engine (src/index).
 *
 * This file is the adapter between the two: the server asks a
 * ps_server_backend for searches and photo lookups; here they become
 * ps_engine_search and ps_engine_photo (id -> path, restricted), both on
 * the engine, which is immutable once open and so shared by the server's
 * threads without locks.
 *
 * Signals: SIGINT and SIGTERM are blocked before any thread starts (the
 * engine's and the server's threads inherit the mask), and the main thread
 * waits for them with sigwait(): no handler, no global flag.  One of them
 * stops the server gracefully (requests in progress finish).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/wiring.h"
#include "core/buf.h"
#include "core/json.h"
#include "index/search.h"
#include "index/store.h"
#include "score/zeroshot.h"
#include "server/server.h"

#define CMD "serve"

static const char HELP[] =
    "usage: picseek serve [--db FILE] [--host ADDR] [--port N] [--threads N]\n"
    "                     [--web DIR] [--models DIR] [--quiet] [--json] [limits...]\n"
    "\n"
    "Serve the search page and its JSON API over HTTP, from the index that\n"
    "'picseek index' built.  Open the printed URL in a browser, type what the\n"
    "photo shows, press Enter.\n"
    "\n"
    "The server listens on the loopback address 127.0.0.1 unless --host says\n"
    "otherwise; while on loopback it also refuses requests whose Host header\n"
    "names another machine (DNS rebinding).  Photos are served only by their\n"
    "id in the index, never by a path from the request; photos restricted by\n"
    "the content rule are never served (HTTP 451), and queries about children\n"
    "get the disclaimer instead of results.  SIGINT (Ctrl-C) or SIGTERM stops\n"
    "it: requests in progress finish first (at most 5 seconds).\n"
    "\n"
    "Endpoints:\n"
    "  /                       the search page (also /?q=TEXT: a search to share)\n"
    "  /api/search?q=TEXT&k=N  results as JSON, the object of 'picseek search --json';\n"
    "                          k from 1 to 200 (default 24)\n"
    "  /api/photo/ID           the photo file\n"
    "  /api/thumb/ID           a JPEG thumbnail (made on first use, cached in memory)\n"
    "  /api/explain/ID?q=TEXT&k=N\n"
    "                          why photo ID matches TEXT: the zero-shot score's\n"
    "                          reasons, as 'picseek score --json' gives them (k from\n"
    "                          1 to 64, default 6); never for a restricted photo\n"
    "  /healthz                {\"status\":\"ok\",\"photos\":N,...}\n"
    "\n"
    "Options:\n"
    "  --db FILE            the index database (default: $PICSEEK_DB, else ./picseek.db)\n"
    "  --host ADDR          address to listen on (default 127.0.0.1; 0.0.0.0 or :: for\n"
    "                       every interface: anyone who can reach it sees the photos)\n"
    "  --port N             TCP port, 0 for any free one (default 8080)\n"
    "  --threads N          worker threads, 1 to 64 (default: one per CPU, at most 16)\n"
    "  --web DIR            the page's files (default: the web/ folder of the source tree)\n"
    "  --models DIR         the pretrained models and scorer files\n"
    "  --max-connections N  open connections at most; more wait (default 1000)\n"
    "  --max-per-ip N       connections per client address (default: no limit)\n"
    "  --timeout S          drop a connection idle for S seconds (default 15)\n"
    "  --thumb-size PX      thumbnails fit PX x PX pixels, 64 to 1024 (default 320)\n"
    "  --thumb-cache MB     memory for cached thumbnails (default 64)\n"
    "  --quiet              no access log\n"
    "  --json               print the startup line as JSON: {\"url\",\"host\",\"port\",\"photos\"}\n"
    "  -h, --help           show this help\n"
    "\n"
    "Output: one line with the URL on standard output once the server listens;\n"
    "the access log on standard error, one line per request:\n"
    "  TIME CLIENT \"METHOD TARGET\" STATUS BYTES DURATIONms\n"
    "\n"
    "Environment:\n"
    "  PICSEEK_DB          default database path\n"
    "  PICSEEK_DB_WAIT_MS  how long to wait for a locked database (default 5000)\n"
    "\n"
    "Examples:\n"
    "  picseek serve\n"
    "  picseek serve --db photos.db --port 9000\n"
    "  curl 'http://127.0.0.1:8080/api/search?q=a+dog+on+a+beach&k=5'\n"
    "\n"
    "Exit status: 0 after a clean stop (SIGINT/SIGTERM), 1 when it cannot start\n"
    "(no index, models missing, port in use, web files missing), 2 usage error.\n";

/* The database first: its problems (missing, locked, not an index) are the
 * likely ones, and loading the models takes a while. */
static int db_check(const char *db, int wait_ms, ps_error *err)
{
    ps_store *st = ps_store_open(db, PS_STORE_OPEN, wait_ms, err);
    ps_store_close(st);
    return st ? 0 : -1;
}

/* ---- the backend ------------------------------------------------------------ */

typedef struct serve_ctx {
    ps_engine *engine;
    size_t searchable;
    const ps_rule *rule;
    const ps_zeroshot *zs; /* explains results (the learned score's zero-shot part) */
    const char *db;        /* explanations read a photo's features from it */
    int wait_ms;
} serve_ctx;

static int be_search(void *ctx, const char *q, size_t len, size_t k, ps_buf *json, ps_error *err)
{
    serve_ctx *sc = ctx;
    ps_results r = {0};
    int rc = ps_engine_search(sc->engine, q, len, k, &r, err);
    if (rc == PS_SEARCH_BAD_QUERY)
        return PS_BACKEND_BAD_QUERY;
    if (rc != 0)
        return -1;
    ps_json j;
    ps_json_init(&j, json, 0);
    ps_results_json(&j, q, len, &r);
    ps_buf_putc(json, '\n');
    ps_results_free(&r);
    return 0;
}

static int be_photo(void *ctx, int64_t id, char **path, bool *restricted, ps_error *err)
{
    (void)err;
    serve_ctx *sc = ctx;
    const char *p;
    if (ps_engine_photo(sc->engine, id, &p, restricted) != 0)
        return PS_BACKEND_NOT_FOUND;
    *path = p ? ps_xstrdup(p) : NULL;
    return 0;
}

/* Why photo id matches q: the zero-shot score's contributors (zeroshot.h).
 * The content rule comes first, as for a search; a restricted photo is
 * not explained at all. */
static int be_explain(void *ctx, int64_t id, const char *q, size_t len, size_t k, ps_buf *json,
                      ps_error *err)
{
    serve_ctx *sc = ctx;
    if (ps_query_check(q, len, err) != 0)
        return PS_BACKEND_BAD_QUERY;
    ps_policy_result pr;
    if (sc->rule->check(sc->rule->ctx, q, len, &pr, err) != 0)
        return PS_BACKEND_BAD_QUERY;
    ps_json j;
    ps_json_init(&j, json, 0);
    if (pr.blocked) {
        ps_json_obj(&j);
        ps_json_key(&j, "id"); ps_json_int(&j, id);
        ps_json_key(&j, "query"); ps_json_strn(&j, q, len);
        ps_json_key(&j, "blocked"); ps_json_bool(&j, true);
        ps_json_key(&j, "disclaimer"); ps_json_str(&j, PS_POLICY_DISCLAIMER);
        ps_json_end(&j);
        ps_buf_putc(json, '\n');
        return 0;
    }
    const char *path;
    bool restricted;
    if (ps_engine_photo(sc->engine, id, &path, &restricted) != 0)
        return PS_BACKEND_NOT_FOUND;
    if (restricted)
        return PS_BACKEND_RESTRICTED;
    ps_query pq = {0};
    if (ps_query_parse(ps_zeroshot_query_model(sc->zs), q, len, &pq, err) != 0 ||
        ps_zeroshot_check_query(&pq, err) != 0) {
        ps_query_free(&pq);
        return PS_BACKEND_BAD_QUERY;
    }
    ps_zs_explanation *ex = ps_xmalloc(sizeof *ex);
    int rc = -1;
    ps_store *st = ps_store_open(sc->db, PS_STORE_OPEN, sc->wait_ms, err);
    if (st && cli_explain_photo(st, sc->zs, id, &pq, k, ex, err) == 0) {
        ps_json_obj(&j);
        ps_json_key(&j, "id"); ps_json_int(&j, id);
        ps_json_key(&j, "query"); ps_json_strn(&j, q, len);
        ps_json_key(&j, "blocked"); ps_json_bool(&j, false);
        ps_json_key(&j, "scorer"); ps_json_str(&j, ps_zeroshot_name(sc->zs));
        ps_zs_explanation_json(&j, sc->zs, ex);
        ps_json_end(&j);
        ps_buf_putc(json, '\n');
        rc = 0;
    }
    ps_store_close(st);
    ps_query_free(&pq);
    free(ex);
    return rc;
}

static void be_health(void *ctx, ps_json *j)
{
    serve_ctx *sc = ctx;
    ps_json_key(j, "photos");
    ps_json_int(j, (int64_t)sc->searchable);
}

/* ---- the command ---------------------------------------------------------------- */

/* Room for every connection plus the files the engine and thumbnails use. */
static void raise_fd_limit(unsigned max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        cli_warn(CMD, "only %lu file descriptors allowed (ulimit -n): fewer than %u connections "
                      "will fit", (unsigned long)rl.rlim_cur, max_connections);
}

static bool host_is_loopback_name(const char *h)
{
    return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0;
}

int cmd_serve(int argc, char **argv)
{
    enum { O_DB = 256, O_HOST, O_PORT, O_THREADS, O_WEB, O_MODELS, O_MAXCONN, O_PERIP,
           O_TIMEOUT, O_THUMB, O_THUMBCACHE, O_QUIET, O_JSON };
    static const struct option LONG[] = {
        {"db", required_argument, NULL, O_DB},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"threads", required_argument, NULL, O_THREADS},
        {"web", required_argument, NULL, O_WEB},
        {"models", required_argument, NULL, O_MODELS},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"max-per-ip", required_argument, NULL, O_PERIP},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"thumb-size", required_argument, NULL, O_THUMB},
        {"thumb-cache", required_argument, NULL, O_THUMBCACHE},
        {"quiet", no_argument, NULL, O_QUIET},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    ps_server_config cfg;
    ps_server_config_init(&cfg);
    const char *db_flag = NULL, *models = NULL;
    bool quiet = false, json = false;
    long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", LONG, NULL)) != -1) {
        switch (c) {
        case O_DB: db_flag = optarg; break;
        case O_HOST:
            if (!optarg[0])
                return cli_usage(CMD, "--host needs an address, e.g. 127.0.0.1");
            cfg.host = optarg;
            break;
        case O_PORT:
            if (cli_parse_int(CMD, "--port", optarg, 0, 65535, &v))
                return PS_EXIT_USAGE;
            cfg.port = (int)v;
            break;
        case O_THREADS:
            if (cli_parse_int(CMD, "--threads", optarg, 1, 64, &v))
                return PS_EXIT_USAGE;
            cfg.threads = (int)v;
            break;
        case O_WEB: cfg.web_dir = optarg; break;
        case O_MODELS: models = optarg; break;
        case O_MAXCONN:
            if (cli_parse_int(CMD, "--max-connections", optarg, 1, 100000, &v))
                return PS_EXIT_USAGE;
            cfg.max_connections = (unsigned)v;
            break;
        case O_PERIP:
            if (cli_parse_int(CMD, "--max-per-ip", optarg, 1, 100000, &v))
                return PS_EXIT_USAGE;
            cfg.max_per_ip = (unsigned)v;
            break;
        case O_TIMEOUT:
            if (cli_parse_int(CMD, "--timeout", optarg, 1, 3600, &v))
                return PS_EXIT_USAGE;
            cfg.timeout_s = (unsigned)v;
            break;
        case O_THUMB:
            if (cli_parse_int(CMD, "--thumb-size", optarg, 64, 1024, &v))
                return PS_EXIT_USAGE;
            cfg.thumb_side = (int)v;
            break;
        case O_THUMBCACHE:
            if (cli_parse_int(CMD, "--thumb-cache", optarg, 1, 65536, &v))
                return PS_EXIT_USAGE;
            cfg.thumb_cache_bytes = (size_t)v << 20;
            break;
        case O_QUIET: quiet = true; break;
        case O_JSON: json = true; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default:
            return cli_usage(CMD, "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    cfg.access_log = quiet ? NULL : stderr;
    if (!host_is_loopback_name(cfg.host))
        cli_warn(CMD, "listening on %s, not loopback: anyone who can reach this machine's port "
                      "%d can search and see the photos", cfg.host, cfg.port);
    raise_fd_limit(cfg.max_connections ? cfg.max_connections : 1000);

    /* Block the stop signals before any thread exists (all inherit the
     * mask); main waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *db = cli_db_path(db_flag);
    int wait_ms = cli_db_wait_ms();
    ps_error err = {{0}};
    int rc = PS_EXIT_FAIL;
    serve_ctx sc = {0};
    cli_rule rule = {0};
    ps_scorer *scorer = NULL;
    ps_server *srv = NULL;

    if (db_check(db, wait_ms, &err) != 0) {
        rc = cli_fail(CMD, &err);
        goto out;
    }
    ps_engine_opts eo;
    ps_engine_opts_default(&eo);
    eo.busy_ms = wait_ms;
    if (cli_rule_open(&rule, &err) != 0 || !(scorer = cli_scorer_open(models, &err)) ||
        !(sc.engine = ps_engine_open(db, scorer, &rule.rule, &eo, &err))) {
        rc = cli_fail(CMD, &err);
        goto out;
    }
    ps_engine_info info;
    ps_engine_get_info(sc.engine, &info);
    sc.searchable = info.photos;
    if (info.unusable)
        cli_warn(CMD, "%zu indexed photos were left out (features of an older picseek); run "
                      "'picseek index' again", info.unusable);

    sc.rule = &rule.rule;
    sc.db = db;
    sc.wait_ms = wait_ms;
    sc.zs = cli_scorer_zeroshot(scorer);
    ps_server_backend be = {&sc, be_search, be_photo, NULL, be_health,
                            sc.zs ? be_explain : NULL};
    if (!(srv = ps_server_start(&cfg, &be, &err))) {
        rc = cli_fail(CMD, &err);
        goto out;
    }
    bool v6 = strchr(cfg.host, ':') != NULL;
    ps_buf line = {0};
    if (json) {
        ps_buf url = {0};
        ps_buf_printf(&url, "http://%s%s%s:%d/", v6 ? "[" : "", cfg.host, v6 ? "]" : "",
                      ps_server_port(srv));
        ps_json j;
        ps_json_init(&j, &line, 0);
        ps_json_obj(&j);
        ps_json_key(&j, "url");
        ps_json_str(&j, url.data);
        ps_json_key(&j, "host");
        ps_json_str(&j, cfg.host);
        ps_json_key(&j, "port");
        ps_json_int(&j, ps_server_port(srv));
        ps_json_key(&j, "photos");
        ps_json_int(&j, (int64_t)sc.searchable);
        ps_json_end(&j);
        ps_buf_putc(&line, '\n');
        ps_buf_free(&url);
    } else {
        ps_buf_printf(&line, "picseek serve: %zu photos from %s; open http://%s%s%s:%d/ "
                             "(Ctrl-C stops)\n",
                      sc.searchable, db, v6 ? "[" : "", cfg.host, v6 ? "]" : "",
                      ps_server_port(srv));
    }
    cli_write_stdout(&line);
    ps_buf_free(&line);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "picseek serve: %s: stopping (requests in progress may finish)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    ps_server_stop(srv);
    rc = PS_EXIT_OK;
out:
    ps_engine_close(sc.engine);
    ps_scorer_free(scorer);
    cli_rule_close(&rule);
    return rc;
}
