/*
 * wiring.c - see wiring.h.
 *
 * The scorer is the zero-shot score (score/zeroshot.h).
 */
#include "cli/wiring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/paths.h"
#include "index/store.h"
#include "nn/extract.h"
#include "nn/photo.h"
#include "policy/policy.h"
#include "score/content.h"
#include "score/learned.h"
#include "score/zeroshot.h"

struct cli_extractor {
    char *models_dir;
    int nworkers;
    pthread_mutex_t mu;    /* guards the lazy load */
    int state;             /* 0 not loaded, 1 loaded, -1 failed */
    ps_error load_err;
    ps_extractor *x;
    ps_extractor_ws **ws;  /* one per worker, made on its first photo */
};

cli_extractor *cli_extractor_new(const char *models_dir, int nworkers)
{
    cli_extractor *x = ps_xcalloc(1, sizeof *x);
    x->models_dir = models_dir ? ps_xstrdup(models_dir) : NULL;
    x->nworkers = nworkers > 0 ? nworkers : 1;
    x->ws = ps_xcalloc((size_t)x->nworkers, sizeof *x->ws);
    pthread_mutex_init(&x->mu, NULL);
    return x;
}

void cli_extractor_free(cli_extractor *x)
{
    if (!x)
        return;
    for (int i = 0; i < x->nworkers; i++)
        ps_extractor_ws_free(x->ws[i]);
    ps_extractor_free(x->x);
    pthread_mutex_destroy(&x->mu);
    free(x->ws);
    free(x->models_dir);
    free(x);
}

/* Load the models on the first photo that needs them. */
static int ensure_loaded(cli_extractor *x, ps_error *err)
{
    pthread_mutex_lock(&x->mu);
    if (x->state == 0) {
        x->x = ps_extractor_load(x->models_dir, NULL, &x->load_err);
        x->state = x->x ? 1 : -1;
    }
    int ok = x->state == 1;
    if (!ok && err)
        *err = x->load_err;
    pthread_mutex_unlock(&x->mu);
    return ok ? 0 : -1;
}

int cli_extract(void *ctx, int worker, const char *path, const unsigned char *data, size_t len,
                ps_features *out, ps_error *err)
{
    cli_extractor *x = ctx;
    if (worker < 0 || worker >= x->nworkers)
        return ps_errorf(err, "internal error: worker %d of %d", worker, x->nworkers), PS_EXTRACT_FATAL;
    if (ensure_loaded(x, err) != 0)
        return PS_EXTRACT_FATAL;
    /* Each worker runs the networks single-threaded: the indexer already
     * keeps one worker per core busy. */
    if (!x->ws[worker])
        x->ws[worker] = ps_extractor_workspace(x->x, 1);

    /* A photo that does not decode is skipped (err says why); a failure of
     * the models on well-formed inputs is theirs or the machine's, not the
     * photo's: stop the run. */
    int rc = ps_photo_features(x->x, x->ws[worker], data, len, path, out, err);
    if (rc == PS_PHOTO_UNREADABLE)
        return PS_EXTRACT_SKIP;
    return rc == 0 ? 0 : PS_EXTRACT_FATAL;
}

char *cli_model_path(void)
{
    const char *env = getenv("PICSEEK_MODEL");
    if (env && *env)
        return strcmp(env, "none") == 0 ? NULL : ps_xstrdup(env);
    ps_error err;
    char *path = ps_learned_default_path(&err);
    if (path && !ps_is_file(path)) {
        free(path);
        path = NULL;
    }
    return path;
}

int cli_content_classify(const char *db, long long *checked, long long *restricted, ps_error *err)
{
    *checked = *restricted = 0;
    char *path = cli_model_path();
    if (!path)
        return 1;
    ps_learned_model m;
    int rc = ps_learned_load(path, &m, err);
    free(path);
    if (rc != 0)
        return -1;
    ps_store *st = ps_store_open(db, PS_STORE_OPEN, cli_db_wait_ms(), err);
    int64_t *ids = NULL;
    size_t n = 0;
    rc = -1;
    if (st && ps_store_uncaptioned_photos(st, &ids, &n, err) == 0 && ps_store_begin(st, err) == 0) {
        rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            ps_features f;
            float p;
            int on = 0;
            rc = ps_store_load_features(st, ids[i], &f, err);
            if (rc == 0) {
                on = ps_content_classify(&m.content, &f, &p) == 1;
                rc = ps_store_set_classifier_flag(st, ids[i], on, err);
            }
            *restricted += on;
            (*checked)++;
        }
        if (rc == 0)
            rc = ps_store_commit(st, err);
    }
    free(ids);
    ps_store_close(st);
    ps_learned_free(&m);
    return rc;
}

ps_scorer *cli_scorer_open(const char *models_dir, ps_error *err)
{
    /* The zero-shot score (score/zeroshot.h): WordNet, GloVe, the IDF table
     * and the label files of the models folder. */
    char *dir = ps_models_dir(models_dir, err);
    if (!dir)
        return NULL;
    ps_zs_config cfg;
    ps_zs_config_default(&cfg);
    cfg.models_dir = dir;
    char *model = cli_model_path();
    ps_scorer *s = model ? ps_learned_scorer_new(model, &cfg, err) : ps_zeroshot_scorer_new(&cfg, err);
    if (!s && model)
        ps_error_prefix(err, "cannot use the trained model %s (set PICSEEK_MODEL=none to search "
                        "with the zero-shot score)", model);
    free(model);
    free(dir);
    return s;
}

const ps_zeroshot *cli_scorer_zeroshot(const ps_scorer *s)
{
    const ps_zeroshot *z = ps_zeroshot_of(s);
    return z ? z : ps_learned_zeroshot_of(s);
}

int cli_explain_photo(ps_store *st, const ps_zeroshot *zs, int64_t id, const ps_query *q,
                      size_t k, ps_zs_explanation *ex, ps_error *err)
{
    ps_features *f = ps_xmalloc(sizeof *f);
    int rc = ps_store_load_features(st, id, f, err);
    if (rc == 0)
        rc = ps_zeroshot_explain(zs, q, f, k, ex, err);
    free(f);
    return rc == 0 ? 0 : -1;
}

void cli_reasons_text(const ps_zs_explanation *ex, ps_buf *out)
{
    size_t shown = 0;
    for (size_t i = 0; i < ex->n; i++) {
        const ps_zs_contrib *c = &ex->top[i];
        if (!c->main_reason)
            continue;
        ps_buf_printf(out, "%s%s (%.0f%%", shown++ ? " \xc2\xb7 " : "", c->label, 100.0 * c->value);
        if (c->source == PS_SRC_COLOR)
            ps_buf_printf(out, " of the %s", c->foreground ? "foreground" : "picture");
        else if (c->source == PS_SRC_VOC)
            ps_buf_puts(out, " of the picture");
        if (c->word[0] && strcmp(c->word, c->label) != 0)
            ps_buf_printf(out, ", for \xe2\x80\x9c%s\xe2\x80\x9d", c->word);
        ps_buf_putc(out, ')');
    }
    if (!shown)
        ps_buf_puts(out, "no reason found: none of the words was recognised in this photo");
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
