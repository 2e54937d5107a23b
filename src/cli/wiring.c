/*
 * wiring.c - see wiring.h.
 *
 * TEMPORARY: the feature extractor and the scorers are being written on
 * other branches; until they are merged these functions fail with a clear
 * message, and the index/search commands work for everything that does not
 * need them (empty folders, unchanged folders, every database and argument
 * error, blocked queries).
 */
#include "cli/wiring.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "index/store.h"
#include "policy/policy.h"

struct cli_extractor {
    char *models_dir;
    int nworkers;
};

cli_extractor *cli_extractor_new(const char *models_dir, int nworkers)
{
    cli_extractor *x = ps_xcalloc(1, sizeof *x);
    x->models_dir = models_dir ? ps_xstrdup(models_dir) : NULL;
    x->nworkers = nworkers;
    return x;
}

void cli_extractor_free(cli_extractor *x)
{
    if (!x)
        return;
    free(x->models_dir);
    free(x);
}

int cli_extract(void *ctx, int worker, const char *path, const unsigned char *data, size_t len,
                ps_features *out, ps_error *err)
{
    (void)ctx;
    (void)worker;
    (void)path;
    (void)data;
    (void)len;
    (void)out;
    ps_errorf(err, "this build of picseek has no feature extractor yet (src/nn is not merged)");
    return PS_EXTRACT_FATAL;
}

ps_scorer *cli_scorer_open(const char *models_dir, ps_error *err)
{
    (void)models_dir;
    ps_errorf(err, "this build of picseek has no scorer yet (src/score is not merged)");
    return NULL;
}

static int rule_check(const void *ctx, const char *text, size_t len, ps_policy_result *out, ps_error *err)
{
    return ps_policy_check(ctx, text, len, out, err);
}

int cli_rule_open(cli_rule *r, ps_error *err)
{
    memset(r, 0, sizeof *r);
    ps_policy *p = ps_policy_load(NULL, err);
    if (!p)
        return -1;
    r->policy = p;
    r->rule.check = rule_check;
    r->rule.ctx = p;
    return 0;
}

void cli_rule_close(cli_rule *r)
{
    ps_policy_free(r->policy);
    memset(r, 0, sizeof *r);
}

const char *cli_db_path(const char *flag)
{
    if (flag && *flag)
        return flag;
    const char *env = getenv("PICSEEK_DB");
    return env && *env ? env : "picseek.db";
}

int cli_db_wait_ms(void)
{
    const char *env = getenv("PICSEEK_DB_WAIT_MS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (!*end && v >= 0 && v <= 3600000)
            return (int)v;
    }
    return PS_STORE_BUSY_MS;
}
