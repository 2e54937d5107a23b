/*
 * eval_model.c - `picseek eval model`: train and measure the relevance
 * models (score/releval.h) and the content classifier, print the numbers
 * and optionally write the "Learned relevance" section of
 * docs/EVALUATION.md with its SVG plots.
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/eval.h"
#include "core/file.h"
#include "core/json.h"
#include "learn/svgplot.h"
#include "score/content.h"
#include "score/releval.h"

#define CMD "eval model"
#define SECTION "## Learned relevance"

static const char HELP[] =
    "NAME\n"
    "    picseek eval model - train the relevance models and measure them\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek eval model [DIR] [--data DIR] [--json] [--report DIR]\n"
    "                       [--model LIST] [--folds N] [--seed N] [--set NAME=VALUE]...\n"
    "                       [--photo-features LIST] [--text-features LIST]\n"
    "                       [--extra-features LIST] [--no-crowd] [--no-retrieval]\n"
    "                       [--no-content] [--models DIR] [--cached-features] [-q]\n"
    "\n"
    "DESCRIPTION\n"
    "    Trains each model on the annotated dataset (DIR, else --data DIR, else\n"
    "    $PICSEEK_DATA, $PICSEEK_SHARED/dataset, ../shared/dataset) and measures\n"
    "    it on photos it never saw, by three protocols:\n"
    "      poc        the proof of concept's: one split of the expert-labelled\n"
    "                 pairs, 70% of the photos to train on, 30% held out,\n"
    "                 grouped by photo, fixed seed;\n"
    "      cv         5-fold cross-validation grouped by photo: mean and\n"
    "                 standard deviation over the folds; and retrieval among\n"
    "                 each fold's held-out photos by the training captions\n"
    "                 written for them (models retrained without those\n"
    "                 captions), to choose settings without the test set;\n"
    "      retrieval  trained on all labelled pairs, the model ranks the 100 test\n"
    "                 photos for each test query the content rule allows.\n"
    "    Metrics on held-out pairs: mse, mae, r2 against the target (0.6 x expert\n"
    "    majority + 0.4 x crowd ratio); kendall_tau_c_expert, Kendall's tau-c\n"
    "    between the prediction and the expert ratings, each of the three\n"
    "    ratings its own row (CLIPScore's Flickr8K-Expert protocol);\n"
    "    kendall_tau_b_crowd, tau-b against the crowd ratio on the pairs that\n"
    "    have one.  Retrieval: recall_at_1, recall_at_5, recall_at_10, mrr and\n"
    "    median_rank (ties count at their expected position).\n"
    "\n"
    "    Models: constant (the mean target), ridge (alpha by grouped 5-fold\n"
    "    cross-validation), mlp (ReLU, dropout, Adam, early stopping on a\n"
    "    photo-grouped validation split) and bilinear (the low-rank text x photo\n"
    "    model search uses, with a ranking term and a calibrated output).  The\n"
    "    zero-shot score (no training) is measured next to them as 'zeroshot'.\n"
    "    Captions the content rule blocks are left out everywhere.  Training\n"
    "    also uses the crowd-only pairs (CrowdAnnotations.tsv rows without an\n"
    "    expert rating) of the training photos; every metric is computed on\n"
    "    expert pairs of held-out photos.\n"
    "\n"
    "    The content classifier (does a photo show children?) is trained on the\n"
    "    train photos and measured on the test photos at its chosen threshold.\n"
    "\n"
    "    The full run takes several minutes on two cores.\n"
    "\n"
    "OPTIONS\n"
    "    --data DIR              the dataset folder (same as DIR)\n"
    "    --json                  print one JSON object: one object per model\n"
    "                            under its name (constant, ridge, mlp, bilinear,\n"
    "                            zeroshot) with the poc metrics, the retrieval\n"
    "                            metrics and \"cv\": {\"mean\", \"sd\"}; plus\n"
    "                            \"best\", \"content_classifier\", \"dataset\",\n"
    "                            \"protocol\"\n"
    "    --report DIR            also write DIR/EVALUATION.md's section \"Learned\n"
    "                            relevance\" (other sections are kept) and its\n"
    "                            plots DIR/eval/learned-*.svg\n"
    "    --model LIST            the models to train, comma-separated (default\n"
    "                            constant,ridge,mlp,bilinear)\n"
    "    --folds N               cross-validation folds, 2 to 20, or 0 for none\n"
    "                            (default 5)\n"
    "    --seed N                seed of the split, the folds and the models (42)\n"
    "    --set NAME=VALUE        a model setting: ridge.alpha (fixed relative\n"
    "                            alpha), mlp.hidden (e.g. 256,64), mlp.dropout,\n"
    "                            mlp.lr, mlp.l2, mlp.batch, mlp.epochs,\n"
    "                            mlp.patience, bilinear.rank, bilinear.lr,\n"
    "                            bilinear.l2, bilinear.batch, bilinear.epochs,\n"
    "                            bilinear.patience, bilinear.rank_weight,\n"
    "                            bilinear.rank_margin, bilinear.linear (0/1),\n"
    "                            calibrate (0/1), calib_mae (weight of the absolute\n"
    "                            error in the calibration), val_frac\n"
    "    --photo-features LIST   photo blocks: mnv2, mnv1, logprob, voc, zs\n"
    "    --text-features LIST    text blocks: glove, zs\n"
    "    --extra-features LIST   pair features: zs, zsclass, zsvec, zsconcept, zsvoc,\n"
    "                            zscolor\n"
    "                            (the zero-shot score and its parts), or none\n"
    "    --no-crowd              train on the expert pairs only\n"
    "    --no-retrieval          skip the retrieval protocol\n"
    "    --no-content            skip the content classifier\n"
    "    --models DIR            the image models folder\n"
    "    --cached-features       fail instead of computing photo features that\n"
    "                            are not in the cache yet\n"
    "    -q, --quiet             no progress lines on standard error\n"
    "    -h, --help              show this help\n"
    "\n"
    "EXAMPLES\n"
    "    picseek eval model\n"
    "    picseek eval model ../shared/dataset --json\n"
    "    picseek eval model --report docs\n"
    "    picseek eval model --model bilinear --folds 0 --set bilinear.rank=32\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 1 the dataset, the image models, WordNet or the word vectors\n"
    "    are missing or invalid, or the report could not be written; 2 usage\n"
    "    error.\n";

enum {
    OPT_DATA = 256, OPT_JSON, OPT_REPORT, OPT_MODEL, OPT_FOLDS, OPT_SEED, OPT_SET, OPT_PHOTO,
    OPT_TEXT, OPT_EXTRA, OPT_NO_CROWD, OPT_NO_RET, OPT_NO_CONTENT, OPT_MODELS, OPT_CACHED
};

typedef struct run {
    const ps_relset *s;
    const ps_releval *r;
    int content;
    const ps_content_report *c;
    const char *best;
} run;

/* ---- JSON ------------------------------------------------------------------------ */

static void json_metrics(ps_json *j, const ps_relmetrics *m)
{
    ps_json_key(j, "mse"); ps_json_num(j, m->mse);
    ps_json_key(j, "mae"); ps_json_num(j, m->mae);
    ps_json_key(j, "r2"); ps_json_num(j, m->r2);
    ps_json_key(j, "kendall_tau_c_expert"); ps_json_num(j, m->tau_c_expert);
    ps_json_key(j, "kendall_tau_b_crowd"); ps_json_num(j, m->tau_b_crowd);
}

static void json_model(ps_json *j, const ps_releval_model *m)
{
    ps_json_key(j, m->name);
    ps_json_obj(j);
    json_metrics(j, &m->poc);
    ps_json_key(j, "recall_at_1"); ps_json_num(j, m->has_ret ? m->ret.recall_1 : NAN);
    ps_json_key(j, "recall_at_5"); ps_json_num(j, m->has_ret ? m->ret.recall_5 : NAN);
    ps_json_key(j, "recall_at_10"); ps_json_num(j, m->has_ret ? m->ret.recall_10 : NAN);
    ps_json_key(j, "mrr"); ps_json_num(j, m->has_ret ? m->ret.mrr : NAN);
    ps_json_key(j, "median_rank"); ps_json_num(j, m->has_ret ? m->ret.median_rank : NAN);
    ps_json_key(j, "trained"); ps_json_bool(j, m->trained);
    ps_json_key(j, "cv");
    if (m->folds_run) {
        ps_json_obj(j);
        ps_json_key(j, "folds"); ps_json_int(j, m->folds_run);
        ps_json_key(j, "mean"); ps_json_obj(j); json_metrics(j, &m->cv_mean); ps_json_end(j);
        ps_json_key(j, "sd"); ps_json_obj(j); json_metrics(j, &m->cv_sd); ps_json_end(j);
        ps_json_key(j, "heldout_retrieval");
        if (m->cv_ret.n_queries) {
            ps_json_obj(j);
            ps_json_key(j, "queries"); ps_json_int(j, (int64_t)m->cv_ret.n_queries);
            ps_json_key(j, "recall_at_1"); ps_json_num(j, m->cv_ret.recall_1);
            ps_json_key(j, "recall_at_5"); ps_json_num(j, m->cv_ret.recall_5);
            ps_json_key(j, "recall_at_10"); ps_json_num(j, m->cv_ret.recall_10);
            ps_json_key(j, "mrr"); ps_json_num(j, m->cv_ret.mrr);
            ps_json_key(j, "median_rank"); ps_json_num(j, m->cv_ret.median_rank);
            ps_json_end(j);
        } else {
            ps_json_null(j);
        }
        ps_json_end(j);
    } else {
        ps_json_null(j);
    }
    ps_json_key(j, "note"); ps_json_str(j, m->note);
    ps_json_key(j, "seconds"); ps_json_num(j, m->seconds);
    ps_json_end(j);
}

static void print_json(ps_buf *b, const run *x)
{
    const ps_relset *s = x->s;
    const ps_releval *r = x->r;
    char ph[64], tx[64], ex[64];
    ps_relfeat_format(PS_RF_PHOTO, s->feat.photo, ph, sizeof ph);
    ps_relfeat_format(PS_RF_TEXT, s->feat.text, tx, sizeof tx);
    ps_relfeat_format(PS_RF_EXTRA, s->feat.extra, ex, sizeof ex);
    ps_json j;
    ps_json_init(&j, b, 1);
    ps_json_obj(&j);
    for (size_t i = 0; i < r->n; i++)
        json_model(&j, &r->models[i]);
    ps_json_key(&j, "best"); x->best ? ps_json_str(&j, x->best) : ps_json_null(&j);
    ps_json_key(&j, "content_classifier");
    if (x->content) {
        const ps_content_report *c = x->c;
        ps_json_obj(&j);
        ps_json_key(&j, "threshold"); ps_json_num(&j, c->threshold);
        ps_json_key(&j, "precision"); ps_json_num(&j, c->precision);
        ps_json_key(&j, "recall"); ps_json_num(&j, c->recall);
        ps_json_key(&j, "heldout_photos"); ps_json_int(&j, (int64_t)c->n_heldout);
        ps_json_key(&j, "heldout_positive"); ps_json_int(&j, (int64_t)c->n_heldout_pos);
        ps_json_key(&j, "true_positive"); ps_json_int(&j, (int64_t)c->tp);
        ps_json_key(&j, "false_positive"); ps_json_int(&j, (int64_t)c->fp);
        ps_json_key(&j, "false_negative"); ps_json_int(&j, (int64_t)c->fn);
        ps_json_key(&j, "true_negative"); ps_json_int(&j, (int64_t)c->tn);
        ps_json_key(&j, "train_photos"); ps_json_int(&j, (int64_t)c->n_train);
        ps_json_key(&j, "train_positive"); ps_json_int(&j, (int64_t)c->n_train_pos);
        ps_json_key(&j, "oof_precision"); ps_json_num(&j, c->oof_precision);
        ps_json_key(&j, "oof_recall"); ps_json_num(&j, c->oof_recall);
        ps_json_end(&j);
    } else {
        ps_json_null(&j);
    }
    ps_json_key(&j, "dataset");
    ps_json_obj(&j);
    ps_json_key(&j, "expert_pairs"); ps_json_int(&j, (int64_t)s->n_expert_pairs);
    ps_json_key(&j, "expert_pairs_blocked"); ps_json_int(&j, (int64_t)s->pairs_blocked);
    ps_json_key(&j, "crowd_only_pairs");
    ps_json_int(&j, (int64_t)(s->n_pairs - s->n_expert_pairs));
    ps_json_key(&j, "train_captions"); ps_json_int(&j, (int64_t)s->n_train_texts);
    ps_json_key(&j, "train_captions_blocked"); ps_json_int(&j, (int64_t)s->train_texts_blocked);
    ps_json_key(&j, "test_queries"); ps_json_int(&j, (int64_t)s->n_queries);
    ps_json_key(&j, "test_queries_blocked"); ps_json_int(&j, (int64_t)s->test_queries_blocked);
    ps_json_key(&j, "train_photos"); ps_json_int(&j, (int64_t)s->n_train_photos);
    ps_json_key(&j, "test_photos"); ps_json_int(&j, (int64_t)(s->n_photos - s->n_train_photos));
    ps_json_end(&j);
    ps_json_key(&j, "protocol");
    ps_json_obj(&j);
    ps_json_key(&j, "poc_test_fraction"); ps_json_num(&j, r->opts.test_frac);
    ps_json_key(&j, "poc_train_pairs"); ps_json_int(&j, (int64_t)r->n_poc_train);
    ps_json_key(&j, "poc_test_pairs"); ps_json_int(&j, (int64_t)r->n_poc_test);
    ps_json_key(&j, "seed"); ps_json_int(&j, (int64_t)r->opts.split_seed);
    ps_json_key(&j, "folds"); ps_json_int(&j, r->opts.folds);
    ps_json_key(&j, "crowd_pairs"); ps_json_bool(&j, r->opts.crowd_pairs);
    ps_json_key(&j, "photo_features"); ps_json_str(&j, ph);
    ps_json_key(&j, "text_features"); ps_json_str(&j, tx);
    ps_json_key(&j, "extra_features"); ps_json_str(&j, ex);
    ps_json_end(&j);
    ps_json_end(&j);
    ps_buf_putc(b, '\n');
}

/* ---- text ------------------------------------------------------------------------ */

static void print_text(ps_buf *b, const run *x)
{
    const ps_releval *r = x->r;
    const ps_relset *s = x->s;
    ps_buf_printf(b, "expert pairs %zu (blocked %zu), crowd-only training pairs %zu, test "
                     "queries %zu (blocked %zu), test photos %zu\n\n",
                  s->n_expert_pairs, s->pairs_blocked, s->n_pairs - s->n_expert_pairs,
                  s->n_queries, s->test_queries_blocked, s->n_photos - s->n_train_photos);
    ps_buf_printf(b, "proof-of-concept split (%zu train / %zu held-out pairs, by photo):\n",
                  r->n_poc_train, r->n_poc_test);
    ps_buf_printf(b, "  %-9s %8s %8s %8s %9s %9s\n", "model", "mse", "mae", "r2", "tau_c_exp",
                  "tau_b_crd");
    for (size_t i = 0; i < r->n; i++) {
        const ps_releval_model *m = &r->models[i];
        ps_buf_printf(b, "  %-9s %8.4f %8.4f %8.4f %9.4f %9.4f  %s\n", m->name, m->poc.mse,
                      m->poc.mae, m->poc.r2, m->poc.tau_c_expert, m->poc.tau_b_crowd, m->note);
    }
    if (r->opts.folds >= 2) {
        ps_buf_printf(b, "\n%d-fold cross-validation by photo (mean +- sd):\n", r->opts.folds);
        for (size_t i = 0; i < r->n; i++) {
            const ps_releval_model *m = &r->models[i];
            ps_buf_printf(b, "  %-9s mse %.4f+-%.4f  mae %.4f+-%.4f  r2 %.4f+-%.4f  "
                             "tau_c %.4f+-%.4f  tau_b %.4f+-%.4f\n",
                          m->name, m->cv_mean.mse, m->cv_sd.mse, m->cv_mean.mae, m->cv_sd.mae,
                          m->cv_mean.r2, m->cv_sd.r2, m->cv_mean.tau_c_expert,
                          m->cv_sd.tau_c_expert, m->cv_mean.tau_b_crowd, m->cv_sd.tau_b_crowd);
        }
    }
    if (r->opts.folds >= 2 && r->n && r->models[0].cv_ret.n_queries) {
        ps_buf_printf(b, "\nretrieval among the folds' held-out photos (%zu unseen training "
                         "captions, groups of about 100 photos):\n",
                      r->models[0].cv_ret.n_queries);
        for (size_t i = 0; i < r->n; i++) {
            const ps_retrieval *t = &r->models[i].cv_ret;
            ps_buf_printf(b, "  %-9s R@1 %.3f  R@5 %.3f  R@10 %.3f  MRR %.3f  median rank "
                             "%.1f\n", r->models[i].name, t->recall_1, t->recall_5,
                          t->recall_10, t->mrr, t->median_rank);
        }
    }
    if (r->n && r->models[0].has_ret) {
        ps_buf_printf(b, "\nretrieval (%zu test queries x %zu test photos):\n",
                      r->models[0].ret.n_queries, r->models[0].ret.n_photos);
        for (size_t i = 0; i < r->n; i++) {
            const ps_retrieval *t = &r->models[i].ret;
            ps_buf_printf(b, "  %-9s R@1 %.3f  R@5 %.3f  R@10 %.3f  MRR %.3f  median rank "
                             "%.1f\n", r->models[i].name, t->recall_1, t->recall_5,
                          t->recall_10, t->mrr, t->median_rank);
        }
    }
    if (x->content) {
        const ps_content_report *c = x->c;
        ps_buf_printf(b, "\ncontent classifier (threshold %.4f): held-out test photos "
                         "precision %.3f recall %.3f (%zu/%zu positive flagged, %zu false "
                         "alarms of %zu); out-of-fold on train photos precision %.3f recall "
                         "%.3f\n", c->threshold, c->precision, c->recall, c->tp,
                      c->n_heldout_pos, c->fp, c->n_heldout - c->n_heldout_pos,
                      c->oof_precision, c->oof_recall);
    }
    if (x->best)
        ps_buf_printf(b, "\nbest model (highest cross-validated R^2, else proof-of-concept R^2): %s\n", x->best);
}

/* ---- report ---------------------------------------------------------------------- */

static int write_svg(const char *dir, const char *name, const ps_buf *svg, ps_error *err)
{
    char *path = ps_path_join(dir, name);
    int rc = ps_write_file_atomic(path, svg->data, svg->len, err);
    free(path);
    return rc;
}

static int write_plots(const char *evaldir, const run *x, ps_error *err)
{
    const ps_releval *r = x->r;
    const ps_relset *s = x->s;
    size_t n = r->n_poc_test;
    double *tx = ps_xmalloc((n ? n : 1) * sizeof *tx), *py = ps_xmalloc((n ? n : 1) * sizeof *py);
    for (size_t i = 0; i < n; i++)
        tx[i] = s->y[r->poc_test[i]];
    int rc = 0;
    for (size_t k = 0; k < r->n && rc == 0; k++) {
        const ps_releval_model *m = &r->models[k];
        for (size_t i = 0; i < n; i++)
            py[i] = m->poc_pred[i];
        char title[128], file[96];
        snprintf(title, sizeof title, "%s: predicted vs true relevance (held-out pairs)",
                 m->name);
        snprintf(file, sizeof file, "learned-scatter-%s.svg", m->name);
        ps_svg_axes ax = {title, "true relevance (target)", "predicted", 0, 0, 0, 0, 480, 480};
        ps_buf svg = {0};
        ps_svg_scatter(&svg, &ax, tx, py, n, 1);
        rc = write_svg(evaldir, file, &svg, err);
        ps_buf_free(&svg);
    }
    free(tx);
    free(py);
    if (rc != 0 || !r->n || !r->models[0].has_ret)
        return rc;
    size_t kmax = r->models[0].ret.n_photos < PS_RECALL_CURVE_MAX ? r->models[0].ret.n_photos
                                                                   : PS_RECALL_CURVE_MAX;
    double *ks = ps_xmalloc(kmax * sizeof *ks);
    double *ys = ps_xmalloc(r->n * kmax * sizeof *ys);
    ps_svg_series *series = ps_xcalloc(r->n, sizeof *series);
    for (size_t k = 0; k < kmax; k++)
        ks[k] = (double)(k + 1);
    for (size_t i = 0; i < r->n; i++) {
        for (size_t k = 0; k < kmax; k++)
            ys[i * kmax + k] = r->models[i].ret.curve[k];
        series[i] = (ps_svg_series){r->models[i].name, ks, ys + i * kmax, kmax};
    }
    ps_svg_axes ax = {"Recall@K on the test queries (100 test photos)", "K", "recall@K", 1, 1,
                      0, 1, 640, 480};
    ps_buf svg = {0};
    ps_svg_lines(&svg, &ax, series, r->n);
    rc = write_svg(evaldir, "learned-recall.svg", &svg, err);
    ps_buf_free(&svg);
    free(ks);
    free(ys);
    free(series);
    return rc;
}

/* Append `text` as a paragraph wrapped at 100 columns (words are never
 * split), then a blank line. */
static void md_para(ps_buf *b, const char *text)
{
    size_t col = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        /* Count columns, not bytes, for the UTF-8 letters (², ±, τ, ×). */
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            w += ((unsigned char)p[i] & 0xC0) != 0x80;
        if (col && col + 1 + w > 100) {
            ps_buf_putc(b, '\n');
            col = 0;
        } else if (col) {
            ps_buf_putc(b, ' ');
            col++;
        }
        ps_buf_append(b, p, n);
        col += w;
        p += n;
    }
    ps_buf_puts(b, "\n\n");
}

/* A metric for a table cell: "—" when undefined. */
static const char *cell(char *out, size_t size, int decimals, double v)
{
    if (isnan(v))
        snprintf(out, size, "—");
    else
        snprintf(out, size, "%.*f", decimals, v);
    return out;
}

static const char *cell_sd(char *out, size_t size, double mean, double sd)
{
    if (isnan(mean))
        snprintf(out, size, "—");
    else
        snprintf(out, size, "%.3f ± %.3f", mean, sd);
    return out;
}

static void md_section(ps_buf *b, const run *x, const char *cmdline)
{
    const ps_releval *r = x->r;
    const ps_relset *s = x->s;
    const ps_relmodel_opts *mo = &r->opts.model;
    char ph[64], tx[64], ex[64], c[5][48];
    ps_relfeat_format(PS_RF_PHOTO, s->feat.photo, ph, sizeof ph);
    ps_relfeat_format(PS_RF_TEXT, s->feat.text, tx, sizeof tx);
    ps_relfeat_format(PS_RF_EXTRA, s->feat.extra, ex, sizeof ex);
    ps_buf p = {0};
    ps_buf_puts(b, SECTION "\n\n");
    ps_buf_printf(&p, "Generated by `%s` (the text, the tables and the plots in docs/eval/; "
                      "about three minutes on two cores once the photo features are cached).",
                  cmdline);
    md_para(b, p.data);
    ps_buf_clear(&p);
    ps_buf_printf(&p,
        "**Data.** %zu expert-labelled pairs whose caption the content rule allows (%zu pairs "
        "with blocked captions are left out), target = 0.6 × expert majority + 0.4 × crowd "
        "ratio. ", s->n_expert_pairs, s->pairs_blocked);
    if (r->opts.crowd_pairs)
        ps_buf_printf(&p, "Training also uses the %zu crowd-only pairs (CrowdAnnotations.tsv "
                          "rows without an expert rating, target = crowd ratio) of the training "
                          "photos, most of them clear mismatches; every number below is measured "
                          "on expert pairs of photos the model never saw. ",
                      s->n_pairs - s->n_expert_pairs);
    else
        ps_buf_puts(&p, "Training uses the expert pairs only. ");
    ps_buf_printf(&p, "Retrieval: %zu test queries (%zu blocked) against the %zu test photos.",
                  s->n_queries, s->test_queries_blocked, s->n_photos - s->n_train_photos);
    md_para(b, p.data);
    ps_buf_clear(&p);
    ps_buf_printf(&p,
        "**Models.** Text: `%s` (the unit IDF-weighted GloVe query vector); photo: `%s` "
        "(MobileNetV2 pre-logits, MobileNetV1 embedding, log class probabilities, VOC areas), "
        "reduced to %zu principal components of the training photos; pair features `%s` (the "
        "zero-shot score, its concept and VOC part, its vector part). *ridge*: alpha by 5-fold "
        "cross-validation grouped by photo. *mlp*: hidden layers %zu-%zu, ReLU, dropout %.2g, "
        "Adam, early stopping on 15%% of the training photos. *bilinear*: %zu models of rank "
        "%zu (seeds %llu..%llu, each early-stopped on its own validation photos), logits "
        "averaged; MSE + %.3g × pairwise ranking loss per caption, L2 %.3g. Every output is "
        "recalibrated on expert pairs (sigmoid(a z + c), or a p + c for ridge; squared + %.2g "
        "× absolute error), which changes no ranking. The constant is the mean expert target. "
        "*zeroshot* is the untrained zero-shot score (section above); its regression numbers "
        "use its display value, which was never fitted to this target.",
        tx, ph, mo->photo_pca, ex, mo->mlp.hidden[0], mo->mlp.hidden[1],
        (double)mo->mlp.dropout, mo->ensemble, mo->bilinear.rank, (unsigned long long)mo->seed,
        (unsigned long long)(mo->seed + mo->ensemble - 1), (double)mo->bilinear.rank_weight,
        (double)mo->bilinear.l2, mo->calib_mae);
    md_para(b, p.data);
    ps_buf_clear(&p);
    ps_buf_printf(&p,
        "**Proof-of-concept split** (one 70/30 split by photo, seed %llu: %zu training, %zu "
        "held-out pairs). The proof of concept reported R² 0.22, MAE 0.152 for its network and "
        "R² -0.28 for its ridge regression (on all pairs, blocked ones included).",
        (unsigned long long)r->opts.split_seed, r->n_poc_train, r->n_poc_test);
    md_para(b, p.data);
    ps_buf_puts(b, "| model | MSE | MAE | R² | Kendall τc (experts) | Kendall τb (crowd) | "
                   "fit |\n|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->n; i++) {
        const ps_releval_model *m = &r->models[i];
        ps_buf_printf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", m->name,
                      cell(c[0], 48, 4, m->poc.mse), cell(c[1], 48, 4, m->poc.mae),
                      cell(c[2], 48, 3, m->poc.r2), cell(c[3], 48, 3, m->poc.tau_c_expert),
                      cell(c[4], 48, 3, m->poc.tau_b_crowd), m->trained ? m->note : "");
    }
    if (r->opts.folds >= 2) {
        ps_buf_clear(&p);
        ps_buf_printf(&p, "\n**%d-fold cross-validation by photo** (mean ± standard deviation "
                          "over the folds):", r->opts.folds);
        md_para(b, p.data);
        ps_buf_puts(b, "| model | MSE | MAE | R² | Kendall τc (experts) | Kendall τb (crowd) "
                       "|\n|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < r->n; i++) {
            const ps_releval_model *m = &r->models[i];
            ps_buf_printf(b, "| %s | %.4f ± %.4f | %.4f ± %.4f | %s | %s | %s |\n", m->name,
                          m->cv_mean.mse, m->cv_sd.mse, m->cv_mean.mae, m->cv_sd.mae,
                          cell_sd(c[0], 48, m->cv_mean.r2, m->cv_sd.r2),
                          cell_sd(c[1], 48, m->cv_mean.tau_c_expert, m->cv_sd.tau_c_expert),
                          cell_sd(c[2], 48, m->cv_mean.tau_b_crowd, m->cv_sd.tau_b_crowd));
        }
    }
    if (r->opts.folds >= 2 && r->n && r->models[0].cv_ret.n_queries) {
        ps_buf_clear(&p);
        ps_buf_printf(&p,
            "\n**Retrieval among held-out training photos** (the same folds: each training "
            "caption written for a held-out photo ranks that fold's held-out photos, in groups "
            "of about 100; the model is trained a second time without any pair of those "
            "captions, so they are as new to it as test queries; %zu queries). The settings "
            "were chosen on these numbers and the cross-validated R², never on the test "
            "queries.", r->models[0].cv_ret.n_queries);
        md_para(b, p.data);
        ps_buf_puts(b, "| score | recall@1 | recall@5 | recall@10 | MRR | median rank |\n"
                       "|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < r->n; i++) {
            const ps_retrieval *t = &r->models[i].cv_ret;
            ps_buf_printf(b, "| %s | %.3f | %.3f | %.3f | %.3f | %.1f |\n", r->models[i].name,
                          t->recall_1, t->recall_5, t->recall_10, t->mrr, t->median_rank);
        }
    }
    if (r->n && r->models[0].has_ret) {
        size_t nq = r->models[0].ret.n_queries;
        ps_buf_clear(&p);
        ps_buf_printf(&p,
            "\n**Retrieval on the test queries** (models trained on all labelled pairs; %zu "
            "queries, %zu photos; ties count at their expected position; ± is one standard "
            "error of recall@10 over the queries):", nq, r->models[0].ret.n_photos);
        md_para(b, p.data);
        ps_buf_puts(b, "| score | recall@1 | recall@5 | recall@10 | MRR | median rank |\n"
                       "|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < r->n; i++) {
            const ps_retrieval *t = &r->models[i].ret;
            double se = nq ? sqrt(t->recall_10 * (1 - t->recall_10) / (double)nq) : NAN;
            ps_buf_printf(b, "| %s | %.3f | %.3f | %.3f ± %.3f | %.3f | %.1f |\n",
                          r->models[i].name, t->recall_1, t->recall_5, t->recall_10, se, t->mrr,
                          t->median_rank);
        }
        const ps_releval_model *bl = NULL, *zs = NULL;
        for (size_t i = 0; i < r->n; i++) {
            if (strcmp(r->models[i].name, "bilinear") == 0)
                bl = &r->models[i];
            if (strcmp(r->models[i].name, "zeroshot") == 0)
                zs = &r->models[i];
        }
        if (bl && zs) {
            /* The standard error of the difference of two independent
             * proportions, at its largest (p = 0.5); paired ones on the
             * same queries vary less. */
            double se = sqrt(0.5 / (double)nq);
            ps_buf_clear(&p);
            ps_buf_printf(&p,
                "\nReading the numbers: on the test queries the bilinear model (the one search "
                "uses) has recall@10 %.3f against the zero-shot score's %.3f, recall@5 %.3f "
                "against %.3f and MRR %.3f against %.3f; with %zu queries the standard error "
                "of a difference of two recalls is up to %.3f.",
                bl->ret.recall_10, zs->ret.recall_10, bl->ret.recall_5, zs->ret.recall_5,
                bl->ret.mrr, zs->ret.mrr, nq, se);
            if (bl->cv_ret.n_queries)
                ps_buf_printf(&p, " On the %zu unseen training captions of the held-out "
                                  "photos the gap is %+.3f in recall@10 (%.3f against %.3f) and "
                                  "%+.3f in MRR.",
                              bl->cv_ret.n_queries, bl->cv_ret.recall_10 - zs->cv_ret.recall_10,
                              bl->cv_ret.recall_10, zs->cv_ret.recall_10,
                              bl->cv_ret.mrr - zs->cv_ret.mrr);
            md_para(b, p.data);
        }
        ps_buf_puts(b, "![recall@K per score](eval/learned-recall.svg)\n");
    }
    ps_buf_clear(&p);
    ps_buf_puts(&p, "\nPredicted vs true relevance on the held-out pairs of the "
                    "proof-of-concept split (the dashed line is a perfect prediction):");
    md_para(b, p.data);
    for (size_t i = 0; i < r->n; i++)
        ps_buf_printf(b, "![%s](eval/learned-scatter-%s.svg)\n", r->models[i].name,
                      r->models[i].name);
    if (x->content) {
        const ps_content_report *cr = x->c;
        ps_buf_clear(&p);
        ps_buf_printf(&p,
            "\n**Content classifier** (does a photo show children? weak labels: a photo is "
            "positive when a caption of it is blocked by the content rule). Ridge regression of "
            "the label on the photo's pixel features, alpha by cross-validation, trained on %zu "
            "train photos (%zu positive); threshold %.4f, the highest at which out-of-fold "
            "predictions on the train photos reach recall 0.95 (there: precision %.3f, recall "
            "%.3f). On the %zu held-out test photos (%zu positive, labelled by their five "
            "captions): **precision %.3f, recall %.3f** (%zu found, %zu missed, %zu adults "
            "masked, %zu correctly shown). The index uses it for photos without captions.",
            cr->n_train, cr->n_train_pos, cr->threshold, cr->oof_precision, cr->oof_recall,
            cr->n_heldout, cr->n_heldout_pos, cr->precision, cr->recall, cr->tp, cr->fn, cr->fp,
            cr->tn);
        md_para(b, p.data);
    }
    if (x->best) {
        ps_buf_clear(&p);
        ps_buf_printf(&p,
            "**Best model** (highest cross-validated R², the most stable regression figure): "
            "**%s**. `picseek train` writes the bilinear ensemble to the model file: it is the "
            "model that factors into a query embedding and a photo embedding, so search scores "
            "a query against every photo with one dot product each.", x->best);
        md_para(b, p.data);
    }
    ps_buf_free(&p);
}

/* Replace the SECTION of path (up to the next "## " heading) or append it;
 * create the file when missing. */
static int write_markdown(const char *path, const ps_buf *section, ps_error *err)
{
    size_t len = 0;
    char *old = ps_read_file(path, 16u << 20, &len, NULL);
    ps_buf out = {0};
    if (!old) {
        ps_buf_puts(&out, "# picseek evaluation\n\n");
        ps_buf_append(&out, section->data, section->len);
    } else {
        const char *start = NULL;
        for (const char *p = old; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
            if (strncmp(p, SECTION, strlen(SECTION)) == 0 &&
                (p[strlen(SECTION)] == '\n' || p[strlen(SECTION)] == '\0')) {
                start = p;
                break;
            }
        if (!start) {
            ps_buf_append(&out, old, len);
            if (len && old[len - 1] != '\n')
                ps_buf_putc(&out, '\n');
            if (len)
                ps_buf_putc(&out, '\n');
            ps_buf_append(&out, section->data, section->len);
        } else {
            const char *end = strchr(start, '\n');
            while (end && strncmp(end + 1, "## ", 3) != 0)
                end = strchr(end + 1, '\n');
            ps_buf_append(&out, old, (size_t)(start - old));
            ps_buf_append(&out, section->data, section->len);
            if (end)
                ps_buf_puts(&out, end + 1);
        }
    }
    int rc = ps_write_file_atomic(path, out.data, out.len, err);
    ps_buf_free(&out);
    free(old);
    return rc;
}

static int write_report(const char *dir, const run *x, const char *cmdline, ps_error *err)
{
    char *evaldir = ps_path_join(dir, "eval");
    int rc = -1;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        ps_errorf(err, "%s: cannot create the folder: %s", dir, strerror(errno));
    } else if (mkdir(evaldir, 0777) != 0 && errno != EEXIST) {
        ps_errorf(err, "%s: cannot create the folder: %s", evaldir, strerror(errno));
    } else if (write_plots(evaldir, x, err) == 0) {
        ps_buf sec = {0};
        md_section(&sec, x, cmdline);
        char *md = ps_path_join(dir, "EVALUATION.md");
        rc = write_markdown(md, &sec, err);
        free(md);
        ps_buf_free(&sec);
    }
    free(evaldir);
    return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static int parse_models(const char *list, ps_relmodel_kind *kinds, size_t *n)
{
    *n = 0;
    const char *s = list;
    while (*s) {
        size_t len = strcspn(s, ",");
        char name[32];
        if (len == 0 || len >= sizeof name)
            return -1;
        memcpy(name, s, len);
        name[len] = '\0';
        int k = ps_relmodel_parse(name);
        if (k < 0 || *n == PS_RM_NKINDS)
            return -1;
        for (size_t i = 0; i < *n; i++)
            if (kinds[i] == (ps_relmodel_kind)k)
                return -1;
        kinds[(*n)++] = (ps_relmodel_kind)k;
        s += len + (s[len] == ',');
    }
    return *n ? 0 : -1;
}

int eval_model_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},
        {"json", no_argument, NULL, OPT_JSON},
        {"report", required_argument, NULL, OPT_REPORT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"folds", required_argument, NULL, OPT_FOLDS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"set", required_argument, NULL, OPT_SET},
        {"photo-features", required_argument, NULL, OPT_PHOTO},
        {"text-features", required_argument, NULL, OPT_TEXT},
        {"extra-features", required_argument, NULL, OPT_EXTRA},
        {"no-crowd", no_argument, NULL, OPT_NO_CROWD},
        {"no-retrieval", no_argument, NULL, OPT_NO_RET},
        {"no-content", no_argument, NULL, OPT_NO_CONTENT},
        {"models", required_argument, NULL, OPT_MODELS},
        {"cached-features", no_argument, NULL, OPT_CACHED},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *report = NULL, *models = NULL;
    int json = 0, quiet = 0, content = 1, c;
    ps_relmodel_kind kinds[PS_RM_NKINDS] = {PS_RM_CONSTANT, PS_RM_RIDGE, PS_RM_MLP,
                                            PS_RM_BILINEAR};
    size_t nkinds = PS_RM_NKINDS;
    ps_relset_opts ro;
    ps_relset_opts_default(&ro);
    ps_releval_opts eo;
    ps_releval_opts_default(&eo);
    ps_content_opts co;
    ps_content_opts_default(&co);
    ps_error err;
    /* The command line as given, for the report. */
    ps_buf cmdline = {0};
    ps_buf_puts(&cmdline, "picseek eval model");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-q") != 0 && strcmp(argv[i], "--quiet") != 0 &&
            strcmp(argv[i], "--cached-features") != 0) /* these change no number */
            ps_buf_printf(&cmdline, " %s", argv[i]);
    int rc = PS_EXIT_USAGE;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_REPORT: report = optarg; break;
        case OPT_MODEL:
            if (parse_models(optarg, kinds, &nkinds) != 0) {
                cli_usage(CMD, "--model: '%s' is not a list of distinct models from constant, "
                               "ridge, mlp, bilinear", optarg);
                goto out;
            }
            break;
        case OPT_FOLDS:
            if (cli_parse_int(CMD, "--folds", optarg, 0, 20, &v))
                goto out;
            if (v == 1) {
                cli_usage(CMD, "--folds: 1 is not a cross-validation (use 0 for none)");
                goto out;
            }
            eo.folds = (int)v;
            break;
        case OPT_SEED:
            if (cli_parse_int(CMD, "--seed", optarg, 0, 16777215, &v))
                goto out;
            eo.split_seed = eo.model.seed = co.seed = (uint64_t)v;
            break;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (!eq) {
                cli_usage(CMD, "--set expects NAME=VALUE, not '%s'", optarg);
                goto out;
            }
            *eq = '\0';
            int bad = ps_relmodel_opts_set(&eo.model, optarg, eq + 1, &err);
            *eq = '=';
            if (bad) {
                cli_usage(CMD, "--set: %s", err.msg);
                goto out;
            }
            break;
        }
        case OPT_PHOTO:
        case OPT_TEXT:
        case OPT_EXTRA: {
            int side = c == OPT_PHOTO ? PS_RF_PHOTO : c == OPT_TEXT ? PS_RF_TEXT : PS_RF_EXTRA;
            unsigned *mask = c == OPT_PHOTO  ? &ro.feat.photo
                             : c == OPT_TEXT ? &ro.feat.text
                                             : &ro.feat.extra;
            if (ps_relfeat_parse(side, optarg, mask, &err) != 0) {
                cli_usage(CMD, "%s", err.msg);
                goto out;
            }
            if (side != PS_RF_EXTRA && *mask == 0) {
                cli_usage(CMD, "the photo and the text need at least one feature block");
                goto out;
            }
            break;
        }
        case OPT_NO_CROWD: ro.crowd_pairs = eo.crowd_pairs = 0; break;
        case OPT_NO_RET: eo.retrieval = 0; break;
        case OPT_NO_CONTENT: content = 0; break;
        case OPT_MODELS: models = optarg; break;
        case OPT_CACHED: ro.cached_only = 1; break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(HELP, stdout);
            rc = PS_EXIT_OK;
            goto out;
        default: cli_usage(CMD, "unknown option or missing value"); goto out;
        }
    }
    if (optind < argc) {
        if (data || optind + 1 < argc) {
            cli_usage(CMD, "expected at most one dataset folder");
            goto out;
        }
        data = argv[optind];
    }
    ro.data_dir = data;
    ro.models_dir = models;
    ro.log = quiet ? NULL : stderr;
    eo.log = quiet ? NULL : stderr;
    rc = PS_EXIT_FAIL;
    ps_relset s;
    if (!quiet)
        fprintf(stderr, "loading the dataset and the photo features\n");
    if (ps_relset_build(&ro, &s, &err) != 0) {
        cli_fail(CMD, &err);
        goto out;
    }
    ps_releval r;
    ps_content_report crep;
    memset(&crep, 0, sizeof crep);
    if (ps_releval_run(&s, kinds, nkinds, &eo, &r, &err) != 0) {
        cli_fail(CMD, &err);
        ps_relset_free(&s);
        goto out;
    }
    if (content) {
        ps_content_model cm;
        if (ps_content_train(&s, &co, &cm, &crep, &err) != 0) {
            cli_fail(CMD, &err);
            goto done;
        }
        ps_content_free(&cm);
    }
    run x = {&s, &r, content, &crep, NULL};
    /* Best: the highest cross-validated R^2 (a single split's is noisier),
     * or the proof-of-concept split's without cross-validation. */
    double best_r2 = -INFINITY;
    for (size_t i = 0; i < r.n; i++) {
        double r2 = r.models[i].folds_run ? r.models[i].cv_mean.r2 : r.models[i].poc.r2;
        if (r.models[i].trained && r2 > best_r2) {
            best_r2 = r2;
            x.best = r.models[i].name;
        }
    }
    if (report && write_report(report, &x, cmdline.data, &err) != 0) {
        cli_fail(CMD, &err);
        goto done;
    }
    ps_buf b = {0};
    if (json)
        print_json(&b, &x);
    else
        print_text(&b, &x);
    rc = cli_write_stdout(&b);
    ps_buf_free(&b);
done:
    ps_releval_free(&r);
    ps_relset_free(&s);
out:
    ps_buf_free(&cmdline);
    return rc;
}
