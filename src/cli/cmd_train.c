/*
 * cmd_train.c - `picseek train`: learn the relevance model and the content
 * classifier from the annotated dataset and write the model file.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/json.h"
#include "score/learned.h"
#include "score/relset.h"

#define CMD "train"

static const char HELP[] =
    "NAME\n"
    "    picseek train - learn how relevant a photo is to a text, write the model file\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek train [DIR] [--data DIR] [-o MODEL] [--models DIR] [--seed N]\n"
    "                  [--set NAME=VALUE]... [--cached-features] [--json] [-q]\n"
    "    picseek train --check MODEL [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads the annotated dataset (DIR, else --data DIR, else $PICSEEK_DATA,\n"
    "    else $PICSEEK_SHARED/dataset, else ../shared/dataset) and trains:\n"
    "      the relevance model  a low-rank bilinear text x photo model (GloVe\n"
    "                           query vector x the photo's MobileNet, ImageNet\n"
    "                           and VOC features, plus the zero-shot score) on\n"
    "                           every labelled pair whose caption the content\n"
    "                           rule allows: the expert pairs (target = 0.6 x\n"
    "                           expert majority + 0.4 x crowd ratio) and the\n"
    "                           crowd-only pairs (target = crowd ratio);\n"
    "      the content classifier  does a photo show children? learned from the\n"
    "                           photos' captions (weak labels), threshold set\n"
    "                           for recall; the index uses it for photos that\n"
    "                           have no captions.\n"
    "    The model file holds weights only - no photo, caption or text of the\n"
    "    training set - and is checksummed and versioned: `picseek search`\n"
    "    refuses a damaged file or one made for another picseek.\n"
    "\n"
    "    Photo features are computed once per photo with the three image models\n"
    "    and cached (<cache>/features, or $PICSEEK_FEATURES): the first run takes\n"
    "    a few minutes, later runs well under a minute.  Training is\n"
    "    deterministic: the same data and seed give the same bytes.\n"
    "    `picseek eval model` measures the models; docs/EVALUATION.md has the\n"
    "    numbers.\n"
    "\n"
    "    --check MODEL reads a model file, checks that it is intact and that this\n"
    "    picseek can use it (same format, same zero-shot score and query\n"
    "    pipeline), and prints what it holds.\n"
    "\n"
    "OPTIONS\n"
    "    --data DIR         the dataset folder (same as DIR)\n"
    "    -o, --output MODEL where to write the model (default: $PICSEEK_MODEL,\n"
    "                       else <cache>/model.psm); written atomically\n"
    "    --models DIR       the image models folder (default: $PICSEEK_MODELS,\n"
    "                       $PICSEEK_SHARED/models, ../shared/models)\n"
    "    --seed N           random seed (default 42)\n"
    "    --cached-features  fail instead of computing photo features that are\n"
    "                       not in the cache yet\n"
    "    --check MODEL      check a model file instead of training\n"
    "    --set NAME=VALUE   a training setting, e.g. bilinear.rank=32 (the names\n"
    "                       are listed in `picseek eval model --help`)\n"
    "    --json             print the summary as one JSON object\n"
    "    -q, --quiet        no progress lines on standard error\n"
    "    -h, --help         show this help\n"
    "\n"
    "EXAMPLES\n"
    "    picseek train -o model.psm\n"
    "    picseek train ../shared/dataset --seed 7 -o /tmp/m.psm --json\n"
    "    picseek train --check model.psm\n"
    "\n"
    "EXIT STATUS\n"
    "    0 the model was written (--check: the file is usable); 1 the file is\n"
    "    damaged or made for another picseek (--check), the dataset, the image\n"
    "    models, WordNet or the word vectors are missing or invalid, or the\n"
    "    file could not be written; 2 usage error.\n";

enum { OPT_DATA = 256, OPT_MODELS, OPT_SEED, OPT_SET, OPT_JSON, OPT_CACHED, OPT_CHECK };

/* --check: load the file as search would and describe it. */
static int check_model(const char *path, int json)
{
    ps_error err;
    ps_scorer *sc = ps_learned_scorer_new(path, NULL, &err);
    if (!sc)
        return cli_fail(CMD, &err);
    const ps_learned_model *m = ps_learned_of(sc);
    char ph[64], tx[64], ex[64];
    ps_relfeat_format(PS_RF_PHOTO, m->feat.photo, ph, sizeof ph);
    ps_relfeat_format(PS_RF_TEXT, m->feat.text, tx, sizeof tx);
    ps_relfeat_format(PS_RF_EXTRA, m->feat.extra, ex, sizeof ex);
    char zs[64];
    snprintf(zs, sizeof zs, "zeroshot-v%d-%08x", m->zs_version, (unsigned)m->zs_hash);
    ps_buf b = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &b, 1);
        ps_json_obj(&j);
        ps_json_key(&j, "model"); ps_json_str(&j, path);
        ps_json_key(&j, "ok"); ps_json_bool(&j, 1);
        ps_json_key(&j, "scorer"); ps_json_str(&j, sc->name);
        ps_json_key(&j, "dim"); ps_json_int(&j, (int64_t)sc->dim);
        ps_json_key(&j, "format"); ps_json_int(&j, PS_LEARNED_FORMAT);
        ps_json_key(&j, "photo_features"); ps_json_str(&j, ph);
        ps_json_key(&j, "text_features"); ps_json_str(&j, tx);
        ps_json_key(&j, "extra_features"); ps_json_str(&j, ex);
        ps_json_key(&j, "photo_pca"); ps_json_int(&j, (int64_t)m->pca.k);
        ps_json_key(&j, "rank"); ps_json_int(&j, (int64_t)m->rel[0].rank);
        ps_json_key(&j, "members"); ps_json_int(&j, (int64_t)m->n_rel);
        ps_json_key(&j, "zeroshot"); ps_json_str(&j, zs);
        ps_json_key(&j, "train_pairs"); ps_json_int(&j, (int64_t)m->train_pairs);
        ps_json_key(&j, "content_threshold"); ps_json_num(&j, m->content.threshold);
        ps_json_end(&j);
        ps_buf_putc(&b, '\n');
    } else {
        ps_buf_printf(&b, "%s: ok (format %d), scorer %s, embedding %zu numbers\n", path,
                      PS_LEARNED_FORMAT, sc->name, sc->dim);
        ps_buf_printf(&b, "features: photo %s (PCA %zu), text %s, pair %s; %zu x rank %zu; %s\n",
                      ph, m->pca.k, tx, ex, m->n_rel, m->rel[0].rank, zs);
        ps_buf_printf(&b, "trained on %zu pairs; content classifier threshold %.4f\n",
                      m->train_pairs, m->content.threshold);
    }
    int rc = cli_write_stdout(&b);
    ps_buf_free(&b);
    ps_scorer_free(sc);
    return rc;
}

static void print_summary(ps_buf *b, int json, const char *path, const ps_relset *s,
                          const ps_learned_model *m, const ps_content_report *c, size_t bytes)
{
    if (!json) {
        ps_buf_printf(b, "wrote %s (%zu bytes)\n", path, bytes);
        ps_buf_printf(b, "relevance model: %zu bilinear models of rank %zu, %zu pairs (%zu "
                         "expert, %zu crowd-only)\n",
                      m->n_rel, m->rel[0].rank, s->n_pairs, s->n_expert_pairs,
                      s->n_pairs - s->n_expert_pairs);
        ps_buf_printf(b, "content classifier: threshold %.4f; held-out test photos: "
                         "precision %.3f, recall %.3f (%zu of %zu flagged, %zu with children)\n",
                      c->threshold, c->precision, c->recall, c->tp + c->fp, c->n_heldout,
                      c->n_heldout_pos);
        return;
    }
    ps_json j;
    ps_json_init(&j, b, 1);
    ps_json_obj(&j);
    ps_json_key(&j, "model"); ps_json_str(&j, path);
    ps_json_key(&j, "bytes"); ps_json_int(&j, (int64_t)bytes);
    ps_json_key(&j, "format"); ps_json_int(&j, PS_LEARNED_FORMAT);
    ps_json_key(&j, "rank"); ps_json_int(&j, (int64_t)m->rel[0].rank);
    ps_json_key(&j, "members"); ps_json_int(&j, (int64_t)m->n_rel);
    ps_json_key(&j, "pairs"); ps_json_int(&j, (int64_t)s->n_pairs);
    ps_json_key(&j, "expert_pairs"); ps_json_int(&j, (int64_t)s->n_expert_pairs);
    ps_json_key(&j, "epochs"); ps_json_int(&j, (int64_t)m->train_epochs);
    ps_json_key(&j, "content_classifier");
    ps_json_obj(&j);
    ps_json_key(&j, "threshold"); ps_json_num(&j, c->threshold);
    ps_json_key(&j, "precision"); ps_json_num(&j, c->precision);
    ps_json_key(&j, "recall"); ps_json_num(&j, c->recall);
    ps_json_key(&j, "heldout_photos"); ps_json_int(&j, (int64_t)c->n_heldout);
    ps_json_key(&j, "heldout_positive"); ps_json_int(&j, (int64_t)c->n_heldout_pos);
    ps_json_end(&j);
    ps_json_end(&j);
    ps_buf_putc(b, '\n');
}

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},   {"output", required_argument, NULL, 'o'},
        {"models", required_argument, NULL, OPT_MODELS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"set", required_argument, NULL, OPT_SET},     {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},             {"help", no_argument, NULL, 'h'},
        {"cached-features", no_argument, NULL, OPT_CACHED},
        {"check", required_argument, NULL, OPT_CHECK}, {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *out = NULL, *models = NULL, *check = NULL;
    int json = 0, quiet = 0, cached = 0, c;
    ps_learned_opts lo;
    ps_learned_opts_default(&lo);
    ps_error err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:q", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case 'o': out = optarg; break;
        case OPT_MODELS: models = optarg; break;
        case OPT_SEED: {
            long seed;
            if (cli_parse_int(CMD, "--seed", optarg, 0, 16777215, &seed))
                return PS_EXIT_USAGE;
            lo.model.seed = (uint64_t)seed;
            lo.content.seed = (uint64_t)seed;
            break;
        }
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (!eq)
                return cli_usage(CMD, "--set expects NAME=VALUE, not '%s'", optarg);
            *eq = '\0';
            int rc = ps_relmodel_opts_set(&lo.model, optarg, eq + 1, &err);
            *eq = '=';
            if (rc != 0)
                return cli_usage(CMD, "--set: %s", err.msg);
            break;
        }
        case OPT_JSON: json = 1; break;
        case OPT_CACHED: cached = 1; break;
        case OPT_CHECK: check = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(CMD, "unknown option or missing value");
        }
    }
    if (check) {
        if (optind < argc || data || out)
            return cli_usage(CMD, "--check takes only the model file (and --json)");
        return check_model(check, json);
    }
    if (optind < argc) {
        if (data || optind + 1 < argc)
            return cli_usage(CMD, "expected at most one dataset folder");
        data = argv[optind];
    }
    char *path = out ? ps_xstrdup(out) : ps_learned_default_path(&err);
    if (!path)
        return cli_fail(CMD, &err);
    ps_relset_opts ro;
    ps_relset_opts_default(&ro);
    ro.data_dir = data;
    ro.models_dir = models;
    ro.cached_only = cached;
    ro.log = quiet ? NULL : stderr;
    lo.log = quiet ? NULL : stderr;
    ps_relset s;
    ps_learned_model m;
    ps_content_report crep;
    int rc = PS_EXIT_FAIL;
    if (!quiet)
        fprintf(stderr, "loading the dataset and the photo features\n");
    if (ps_relset_build(&ro, &s, &err) != 0) {
        cli_fail(CMD, &err);
        free(path);
        return PS_EXIT_FAIL;
    }
    if (ps_learned_train(&s, &lo, &m, &crep, &err) != 0) {
        cli_fail(CMD, &err);
        goto out_set;
    }
    ps_buf img = {0};
    ps_learned_serialize(&m, &img);
    if (ps_write_file_atomic(path, img.data, img.len, &err) != 0) {
        cli_fail(CMD, &err);
    } else {
        ps_buf b = {0};
        print_summary(&b, json, path, &s, &m, &crep, img.len);
        rc = cli_write_stdout(&b);
        ps_buf_free(&b);
    }
    ps_buf_free(&img);
    ps_learned_free(&m);
out_set:
    ps_relset_free(&s);
    free(path);
    return rc;
}
