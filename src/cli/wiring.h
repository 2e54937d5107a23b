/*
 * wiring.h - the pieces from other layers that `picseek index` and
 * `picseek search` plug into the index layer: the feature extractor (nn,
 * image), the scorer (score) and the content rule (policy).
 *
 * The extractor loads its models lazily, on the first photo that needs
 * them, so a run with nothing new to read (the usual re-run) costs only the
 * folder walk.
 */
#ifndef PS_CLI_WIRING_H
#define PS_CLI_WIRING_H

#include "core/error.h"
#include "index/indexer.h"
#include "index/rule.h"
#include "index/store.h"
#include "score/scorer.h"
#include "score/zeroshot.h"

typedef struct cli_extractor cli_extractor;

/* models_dir: --models override or NULL. Never fails: loading happens on
 * first use, and a failure then stops the run with its message. */
cli_extractor *cli_extractor_new(const char *models_dir, int nworkers);
void cli_extractor_free(cli_extractor *x);
/* A ps_extract_fn; ctx is the cli_extractor. */
int cli_extract(void *ctx, int worker, const char *path, const unsigned char *data, size_t len,
                ps_features *out, ps_error *err);

/* The scorer search uses (caller frees with ps_scorer_free): the learned
 * model when a model file exists (cli_model_path), else the zero-shot
 * score. */
ps_scorer *cli_scorer_open(const char *models_dir, ps_error *err);
/* The zero-shot score inside such a scorer (itself, or the learned
 * score's zero-shot part), which explains results; NULL for another kind. */
const ps_zeroshot *cli_scorer_zeroshot(const ps_scorer *s);

/* Why indexed photo `id` matches the parsed query q: its features from st,
 * explained by zs (at most k contributors).  0, or -1 (no usable features,
 * a database error, a query without words) with err. */
int cli_explain_photo(ps_store *st, const ps_zeroshot *zs, int64_t id, const ps_query *q,
                      size_t k, ps_zs_explanation *ex, ps_error *err);
/* One line of reasons for people, as the web page shows them: the main
 * reasons (zeroshot.h: the strongest of each query word, leaving out those
 * under a tenth of the best), e.g. "dog (98%) · black (42% of the
 * foreground)". */
void cli_reasons_text(const ps_zs_explanation *ex, ps_buf *out);

/* The trained model file to use: $PICSEEK_MODEL, else <cache>/model.psm
 * (what `picseek train` writes by default).  NULL when there is none, or
 * when $PICSEEK_MODEL is "none" (zero-shot only).  Caller frees. */
char *cli_model_path(void);

/* Let the trained model's content classifier decide for the indexed photos
 * no caption describes: set or clear their classifier restriction.
 * Returns 1 when there is no trained model (nothing done), 0 on success
 * with *checked photos looked at and *restricted of them restricted, -1 on
 * error. */
int cli_content_classify(const char *db, long long *checked, long long *restricted, ps_error *err);

/* The content rule: a loaded policy behind a ps_rule. */
typedef struct cli_rule {
    ps_rule rule;
    void *policy; /* the loaded ps_policy */
} cli_rule;
int cli_rule_open(cli_rule *r, ps_error *err);
void cli_rule_close(cli_rule *r);

/* The index database: --db, else $PICSEEK_DB, else ./picseek.db. */
const char *cli_db_path(const char *flag);
/* Lock wait: $PICSEEK_DB_WAIT_MS, else PS_STORE_BUSY_MS. */
int cli_db_wait_ms(void);

#endif
