/*
 * cmd_score.c - `picseek score PHOTO TEXT`: the zero-shot score of one
 * photo for one text, and the image classes that made it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/json.h"
#include "core/paths.h"
#include "nn/extract.h"
#include "nn/featcache.h"
#include "nn/photo.h"
#include "policy/policy.h"
#include "score/zeroshot.h"

#define CMD "score"

static const char HELP[] =
    "NAME\n"
    "    picseek score - how well one photo matches a text, and why\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek score PHOTO TEXT [--json] [-k N] [--models DIR] [--no-cache]\n"
    "\n"
    "DESCRIPTION\n"
    "    Computes the photo's features with the three image models (or reads\n"
    "    them from the feature cache, <cache>/features, keyed by the photo's\n"
    "    SHA-256) and the zero-shot score of TEXT on it: the share of the\n"
    "    photo's ImageNet class probability and Pascal VOC area that sits on\n"
    "    classes the text's words name (through WordNet: 'dog' covers every dog\n"
    "    breed, 'man' is a person; and through GloVe word similarity), plus the\n"
    "    similarity of the text's word vector to the photo's label vector, plus\n"
    "    the share of the photo's foreground in the colours the text names\n"
    "    ('a black dog': black).\n"
    "\n"
    "    Prints the score (calibrated to [0, 1) for display), the raw dot product\n"
    "    and the classes that contributed most: label, source (imagenet, voc or\n"
    "    color; a colour has \"share\" and \"region\": foreground or all),\n"
    "    the query word that relates to it and how (is-a: the class is a kind of\n"
    "    the word; kind-of: the word is a kind of the class; similar: GloVe), its\n"
    "    weight in the query embedding, the model's probability or area\n"
    "    fraction, and the product (its contribution).\n"
    "\n"
    "    The content rule applies: a text about children is refused with the\n"
    "    disclaimer (exit 0, \"blocked\": true) and no score.\n"
    "\n"
    "OPTIONS\n"
    "    --json          print one JSON object\n"
    "    -k N            contributors to list (1-64, default 8)\n"
    "    --models DIR    the models folder (default: $PICSEEK_MODELS, else\n"
    "                    $PICSEEK_SHARED/models, else ../shared/models)\n"
    "    --no-cache      compute the features even if cached (and do not store)\n"
    "    -h, --help      show this help\n"
    "\n"
    "EXAMPLES\n"
    "    picseek score photo.jpg \"a dog runs on the beach\"\n"
    "    picseek score photo.jpg \"a plate of food\" --json -k 3\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success (also when the content rule blocks the text); 1 the photo\n"
    "    cannot be read or decoded, the text is not valid UTF-8 or has no word,\n"
    "    or an asset is missing; 2 usage error.\n";

enum { OPT_JSON = 256, OPT_MODELS, OPT_NO_CACHE };

static void write_json(ps_buf *b, const char *photo, const char *text, bool cached,
                       const ps_zeroshot *z, const ps_zs_explanation *ex,
                       const ps_policy_result *pr)
{
    ps_json j;
    ps_json_init(&j, b, 1);
    ps_json_obj(&j);
    ps_json_key(&j, "photo"); ps_json_str(&j, photo);
    ps_json_key(&j, "text"); ps_json_str(&j, text);
    ps_json_key(&j, "blocked"); ps_json_bool(&j, pr->blocked);
    if (pr->blocked) {
        ps_json_key(&j, "message"); ps_json_str(&j, PS_POLICY_DISCLAIMER);
        ps_json_end(&j);
        ps_buf_putc(b, '\n');
        return;
    }
    ps_json_key(&j, "scorer"); ps_json_str(&j, ps_zeroshot_name(z));
    ps_json_key(&j, "features_cached"); ps_json_bool(&j, cached);
    ps_zs_explanation_json(&j, z, ex);
    ps_json_end(&j);
    ps_buf_putc(b, '\n');
}

static void write_text(ps_buf *b, const ps_zeroshot *z, const ps_zs_explanation *ex)
{
    const ps_bridge *br = ps_zeroshot_bridge(z);
    ps_buf_printf(b, "score %.3f (raw %.4f: classes %.4f + colours %.4f + word vectors %.4f)\n",
                  ex->score, ex->raw, ex->classes_part, ex->colors_part, ex->vector_part);
    if (ex->n == 0) {
        ps_buf_puts(b, "no image class or colour the text names was seen in the photo\n");
        return;
    }
    ps_buf_puts(b, "contributors:\n");
    for (size_t i = 0; i < ex->n; i++) {
        const ps_zs_contrib *c = &ex->top[i];
        ps_buf_printf(b, "  %.4f  %-8s %-26s %s %.3f  (word '%s', %s, weight %.3f)\n",
                      c->contribution, ps_zs_source_name(c->source), c->label,
                      ps_zs_value_name(c->source), c->value, c->word,
                      c->source == PS_SRC_COLOR ? (c->foreground ? "foreground" : "all pixels")
                                                : ps_zs_why_name(c),
                      c->relevance);
        if (c->nclasses > 1 || (c->nclasses == 1 && strcmp(c->label,
                                                           ps_bridge_label(br, c->classes[0]))))
            for (int i2 = 0; i2 < c->nclasses; i2++)
                ps_buf_printf(b, "          %s %.3f\n", ps_bridge_label(br, c->classes[i2]),
                              c->class_prob[i2]);
    }
}

int cmd_score(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"models", required_argument, NULL, OPT_MODELS},
        {"no-cache", no_argument, NULL, OPT_NO_CACHE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, no_cache = 0, c;
    long k = 8;
    const char *models = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case OPT_MODELS: models = optarg; break;
        case OPT_NO_CACHE: no_cache = 1; break;
        case 'k':
            if (cli_parse_int(CMD, "-k", optarg, 1, PS_ZS_MAX_CONTRIB, &k))
                return PS_EXIT_USAGE;
            break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind + 2 != argc)
        return cli_usage(CMD, "expected PHOTO and TEXT");
    const char *photo = argv[optind], *text = argv[optind + 1];
    size_t len = strlen(text);
    ps_error err;
    int rc = PS_EXIT_FAIL;
    char *mdir = NULL;
    ps_policy *pol = NULL;
    ps_zeroshot *z = NULL;
    ps_feature_source *fs = NULL;
    ps_query q = {0};
    ps_buf b = {0};
    ps_policy_result pr;
    ps_features *f = ps_xmalloc(sizeof *f);
    bool cached = false;
    ps_zs_explanation *ex = ps_xcalloc(1, sizeof *ex);

    if (!(pol = ps_policy_load(NULL, &err)) || ps_policy_check(pol, text, len, &pr, &err)) {
        cli_fail(CMD, &err);
        goto out;
    }
    if (pr.blocked) {
        if (json)
            write_json(&b, photo, text, false, NULL, NULL, &pr);
        else
            ps_buf_printf(&b, "%s\n", PS_POLICY_DISCLAIMER);
        rc = cli_write_stdout(&b);
        goto out;
    }
    if (!(mdir = ps_models_dir(models, &err))) {
        cli_fail(CMD, &err);
        goto out;
    }
    ps_zs_config cfg;
    ps_zs_config_default(&cfg);
    cfg.models_dir = mdir;
    if (!(z = ps_zeroshot_open(&cfg, &err)) ||
        ps_query_parse(ps_zeroshot_query_model(z), text, len, &q, &err)) {
        cli_fail(CMD, &err);
        goto out;
    }
    if (q.nwords == 0) {
        cli_failf(CMD, "the text has no word to search for (only stop words, punctuation or "
                       "nothing)");
        goto out;
    }
    if (no_cache) {
        ps_extractor *x = ps_extractor_load(mdir, NULL, &err);
        ps_extractor_ws *w = x ? ps_extractor_workspace(x, 0) : NULL;
        int bad = !x || ps_photo_features_file(x, w, photo, f, &err);
        ps_extractor_ws_free(w);
        ps_extractor_free(x);
        if (bad) {
            cli_fail(CMD, &err);
            goto out;
        }
    } else if (!(fs = ps_feature_source_new(NULL, mdir, 0, &err)) ||
               ps_feature_source_get(fs, photo, f, &cached, &err)) {
        cli_fail(CMD, &err);
        goto out;
    }
    if (ps_zeroshot_explain(z, &q, f, (size_t)k, ex, &err)) {
        cli_fail(CMD, &err);
        goto out;
    }
    if (json)
        write_json(&b, photo, text, cached, z, ex, &pr);
    else
        write_text(&b, z, ex);
    rc = cli_write_stdout(&b);
out:
    ps_buf_free(&b);
    ps_query_free(&q);
    ps_feature_source_free(fs);
    ps_zeroshot_close(z);
    ps_policy_free(pol);
    free(mdir);
    free(f);
    free(ex);
    return rc;
}
