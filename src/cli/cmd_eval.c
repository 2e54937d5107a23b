/*
 * cmd_eval.c - `picseek eval retrieval`: rank the dataset's photos for each
 * of its queries with the zero-shot score and report how often the photo a
 * query was written for comes first, in the top 5, in the top 10.
 */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/eval.h"
#include "core/file.h"
#include "core/json.h"
#include "core/paths.h"
#include "data/dataset.h"
#include "learn/metrics.h"
#include "nn/featcache.h"
#include "nn/models.h"
#include "policy/policy.h"
#include "score/zeroshot.h"

#define CMD "eval"
#define GROUP 100 /* photos ranked together in the train split */
#define MAX_SETS 64

static const char HELP[] =
    "NAME\n"
    "    picseek eval - measure search quality on the annotated dataset\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek eval retrieval [DIR] [--data DIR] [--json] [--ablate PART[,PART...]]\n"
    "                           [--split test|train] [--set NAME=VALUE] [--models DIR]\n"
    "    picseek eval model [DIR] [options]   (see picseek eval model --help)\n"
    "\n"
    "DESCRIPTION\n"
    "    retrieval: for each query of test_queries.csv (the 5 captions written\n"
    "    for each of the 100 test photos), scores all 100 test photos with the\n"
    "    zero-shot score and finds the rank of the photo the caption was written\n"
    "    for.  Queries the content rule blocks (about children) are not\n"
    "    evaluated, only counted.  Reports:\n"
    "      queries_evaluated, queries_blocked\n"
    "      recall_at_1, recall_at_5, recall_at_10   share of queries whose photo\n"
    "                          ranks within the first 1, 5, 10\n"
    "      mrr                 mean of 1/rank\n"
    "      median_rank         median rank of the correct photo (1 = first)\n"
    "      top10_max_share     whether the first results change between queries:\n"
    "                          the largest share of queries that one photo is in\n"
    "                          the first 10 of (0.10 if they changed at random,\n"
    "                          1 if one photo were always there)\n"
    "      top10_photos_seen   share of the photos in some query's first 10\n"
    "    Photos with the same score as the correct one are counted as a random\n"
    "    order would place them (expected value; the rank is their mid-rank),\n"
    "    so ties neither help nor hurt.\n"
    "\n"
    "    Photo features are computed once and kept in the feature cache\n"
    "    (<cache>/features, keyed by each photo's SHA-256 and the feature\n"
    "    version), so the first run takes about a second per photo and later\n"
    "    runs a second in all.\n"
    "\n"
    "    --split train evaluates on the training side instead: each distinct\n"
    "    caption of train_dataset.csv against its own photo, the 1000 training\n"
    "    photos cut (in name order) into groups of 100 and each caption ranked\n"
    "    within its photo's group, so the numbers compare with the test split.\n"
    "    Use it to tune (--set); report the test split.\n"
    "\n"
    "OPTIONS\n"
    "    --data DIR        the dataset folder (same as the DIR argument; default\n"
    "                      $PICSEEK_DATA, else $PICSEEK_SHARED/dataset, else\n"
    "                      ../shared/dataset)\n"
    "    --json            print one JSON object\n"
    "    --ablate PARTS    turn parts of the score off (comma-separated, may be\n"
    "                      repeated): down, up, decay, log, sense-counts, voc,\n"
    "                      gloss, glove, idf, vector, collocations, modifiers,\n"
    "                      colors\n"
    "                      (src/score/zeroshot.h, docs/EVALUATION.md)\n"
    "    --set NAME=VALUE  set a score parameter (see src/score/zeroshot.h),\n"
    "                      e.g. --set glove_floor=0.5; may be repeated\n"
    "    --split S         test (default) or train\n"
    "    --models DIR      the models folder\n"
    "    --details FILE    also write one JSON line per query: its text, its\n"
    "                      photo, the rank and the photos ranked first\n"
    "    -h, --help        show this help\n"
    "\n"
    "EXAMPLES\n"
    "    picseek eval retrieval\n"
    "    picseek eval retrieval ../shared/dataset --json\n"
    "    picseek eval retrieval --ablate glove,vector\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 1 the dataset, a photo, the models or another asset is\n"
    "    missing or invalid; 2 usage error.\n";

enum { OPT_DATA = 256, OPT_JSON, OPT_ABLATE, OPT_SET, OPT_SPLIT, OPT_MODELS, OPT_DETAILS };

typedef struct eval_query {
    const char *text;
    int photo;  /* index of the correct photo */
    int group;  /* photos [group*GROUP, ...) are ranked together (train); 0 = all */
} eval_query;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_row_id(const void *a, const void *b)
{
    const ps_train_row *x = *(const ps_train_row *const *)a, *y = *(const ps_train_row *const *)b;
    return strcmp(x->query_id, y->query_id);
}

static int find_name(char **names, size_t n, const char *name, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strncmp(names[mid], name, len);
        if (c == 0 && names[mid][len] != '\0')
            c = 1;
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

typedef struct eval_set {
    char **photos;      /* file names, sorted (borrowed from the dataset) */
    size_t nphotos;
    const char *folder; /* "test_images" or "train_images" */
    eval_query *q;
    size_t nq;
    size_t blocked;
} eval_set;

/* The test split: the 100 test photos and the 500 test queries. */
static int build_test(const ps_dataset *ds, const ps_policy *pol, eval_set *s, ps_error *err)
{
    s->folder = "test_images";
    s->nphotos = ds->ntest_images;
    s->photos = ps_xmalloc((s->nphotos ? s->nphotos : 1) * sizeof *s->photos);
    for (size_t i = 0; i < s->nphotos; i++)
        s->photos[i] = (char *)ds->test_images[i];
    qsort(s->photos, s->nphotos, sizeof *s->photos, cmp_str);
    s->q = ps_xmalloc((ds->ntest_queries ? ds->ntest_queries : 1) * sizeof *s->q);
    for (size_t i = 0; i < ds->ntest_queries; i++) {
        const ps_test_query *t = &ds->test_queries[i];
        ps_policy_result pr;
        if (ps_policy_check(pol, t->query_text, strlen(t->query_text), &pr, err))
            return ps_error_prefix(err, "test_queries.csv:%zu", t->line);
        if (pr.blocked) {
            s->blocked++;
            continue;
        }
        int p = find_name(s->photos, s->nphotos, t->image, strlen(t->image));
        if (p < 0)
            return ps_errorf(err, "test_queries.csv:%zu: photo %s is not in test_images.csv",
                             t->line, t->image);
        s->q[s->nq++] = (eval_query){t->query_text, p, 0};
    }
    return 0;
}

/* The train split: each distinct training caption against its own photo,
 * within groups of GROUP photos. */
static int build_train(const ps_dataset *ds, const ps_policy *pol, eval_set *s, ps_error *err)
{
    s->folder = "train_images";
    s->nphotos = ds->train_photos.n;
    s->photos = ds->train_photos.names; /* sorted by the loader */
    /* Rows sorted by caption id: each distinct caption once. */
    const ps_train_row **rows = ps_xmalloc((ds->ntrain ? ds->ntrain : 1) * sizeof *rows);
    for (size_t i = 0; i < ds->ntrain; i++)
        rows[i] = &ds->train[i];
    qsort(rows, ds->ntrain, sizeof *rows, cmp_row_id);
    s->q = ps_xmalloc((ds->ntrain ? ds->ntrain : 1) * sizeof *s->q);
    for (size_t i = 0; i < ds->ntrain; i++) {
        const ps_train_row *row = rows[i];
        if (i && strcmp(row->query_id, rows[i - 1]->query_id) == 0)
            continue;
        size_t plen;
        long n;
        if (!ps_caption_id_parse(row->query_id, strlen(row->query_id), &plen, &n))
            continue;
        int p = find_name(s->photos, s->nphotos, row->query_id, plen);
        if (p < 0)
            continue; /* the caption's own photo is not in train_images/ */
        ps_policy_result pr;
        if (ps_policy_check(pol, row->query_text, strlen(row->query_text), &pr, err)) {
            free(rows);
            return ps_error_prefix(err, "train_dataset.csv:%zu", row->line);
        }
        if (pr.blocked) {
            s->blocked++;
            continue;
        }
        s->q[s->nq++] = (eval_query){row->query_text, p, p / GROUP};
    }
    free(rows);
    return 0;
}

/* How much the first results change between queries (the proof of
 * concept's complaint was that they barely did): for each photo, how many
 * queries rank it in their first TOP_N. */
#define TOP_N 10
typedef struct top_counts {
    size_t *in_top;  /* per photo */
    size_t *queries; /* per ranking group: queries ranked in it */
} top_counts;

static void count_top(const float *scores, size_t lo, size_t hi, top_counts *t)
{
    int idx[TOP_N];
    int n = ps_top_k(scores + lo, (int)(hi - lo), TOP_N, idx);
    for (int i = 0; i < n; i++)
        t->in_top[lo + (size_t)idx[i]]++;
    t->queries[lo / GROUP]++;
}

/* The largest share of its group's queries that one photo is in the first
 * TOP_N of (chance: TOP_N / photos per ranking; 1: in every query's), and
 * the share of photos that are in some query's first TOP_N. */
static void top_summary(const top_counts *t, size_t nphotos, bool train, double *max_share,
                        double *seen)
{
    size_t nseen = 0;
    *max_share = 0;
    for (size_t i = 0; i < nphotos; i++) {
        size_t q = t->queries[train ? i / GROUP : 0];
        if (t->in_top[i])
            nseen++;
        if (q && (double)t->in_top[i] / (double)q > *max_share)
            *max_share = (double)t->in_top[i] / (double)q;
    }
    *seen = nphotos ? (double)nseen / (double)nphotos : 0;
}

typedef struct progress {
    int on, printed;
} progress;

static void show(progress *pg, size_t done, size_t total)
{
    if (!pg->on)
        return;
    fprintf(stderr, "\rpicseek eval: photo features %zu/%zu", done, total);
    pg->printed = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_retrieval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA},   {"json", no_argument, NULL, OPT_JSON},
        {"ablate", required_argument, NULL, OPT_ABLATE}, {"set", required_argument, NULL, OPT_SET},
        {"split", required_argument, NULL, OPT_SPLIT}, {"models", required_argument, NULL, OPT_MODELS},
        {"details", required_argument, NULL, OPT_DETAILS},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
    };
    const char *cmd = "eval retrieval", *dir_opt = NULL, *models = NULL, *details = NULL;
    int json = 0, train = 0, c;
    ps_zs_config cfg;
    ps_zs_config_default(&cfg);
    ps_buf ablated = {0}, sets = {0};
    ps_error err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA: dir_opt = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_MODELS: models = optarg; break;
        case OPT_DETAILS: details = optarg; break;
        case OPT_SPLIT:
            if (strcmp(optarg, "test") && strcmp(optarg, "train")) {
                ps_buf_free(&ablated);
                ps_buf_free(&sets);
                return cli_usage(cmd, "--split must be test or train");
            }
            train = strcmp(optarg, "train") == 0;
            break;
        case OPT_ABLATE: {
            char *copy = ps_xstrdup(optarg), *save = NULL;
            for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
                if (ps_zs_params_ablate(&cfg.params, part, &err)) {
                    free(copy);
                    ps_buf_free(&ablated);
                    ps_buf_free(&sets);
                    return cli_usage(cmd, "--ablate: %s", err.msg);
                }
                ps_buf_printf(&ablated, "%s%s", ablated.len ? "," : "", part);
            }
            free(copy);
            break;
        }
        case OPT_SET: {
            char *copy = ps_xstrdup(optarg), *eq = strchr(copy, '=');
            int bad = !eq;
            if (eq) {
                *eq = '\0';
                bad = ps_zs_params_set(&cfg.params, copy, eq + 1, &err) != 0;
            } else {
                snprintf(err.msg, sizeof err.msg, "expected NAME=VALUE, not '%s'", optarg);
            }
            free(copy);
            if (bad) {
                ps_buf_free(&ablated);
                ps_buf_free(&sets);
                return cli_usage(cmd, "--set: %s", err.msg);
            }
            ps_buf_printf(&sets, "%s%s", sets.len ? "," : "", optarg);
            break;
        }
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default:
            ps_buf_free(&ablated);
            ps_buf_free(&sets);
            return cli_usage(cmd, "unknown option");
        }
    }
    if (optind < argc)
        dir_opt = argv[optind++];
    if (optind < argc) {
        ps_buf_free(&ablated);
        ps_buf_free(&sets);
        return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    }

    double t0 = now_s();
    int rc = PS_EXIT_FAIL;
    char *dir = NULL, *mdir = NULL;
    ps_dataset ds;
    bool ds_loaded = false;
    ps_policy *pol = NULL;
    ps_zeroshot *z = NULL;
    ps_feature_source *fs = NULL;
    eval_set set = {0};
    float *pemb = NULL, *qemb = NULL, *scores = NULL;
    ps_rank *ranks = NULL;
    size_t nranks = 0;
    size_t computed = 0;
    progress pg = {isatty(STDERR_FILENO), 0};
    top_counts tops = {0};

    if (!(dir = ps_dataset_dir(dir_opt, &err)) || !(mdir = ps_models_dir(models, &err)))
        goto fail;
    ps_dataset_opts dopts;
    ps_dataset_opts_default(&dopts);
    dopts.photos = train; /* the train split needs the folder listing */
    if (ps_dataset_load(&ds, dir, &dopts, &err))
        goto fail;
    ds_loaded = true;
    if (!(pol = ps_policy_load(NULL, &err)))
        goto fail;
    if ((train ? build_train : build_test)(&ds, pol, &set, &err))
        goto fail;
    if (set.nphotos == 0 || set.nq == 0) {
        ps_errorf(&err, "%s: no photos or no queries to evaluate", dir);
        goto fail;
    }
    cfg.models_dir = mdir;
    if (!(z = ps_zeroshot_open(&cfg, &err)))
        goto fail;
    if (!(fs = ps_feature_source_new(NULL, mdir, 0, &err)))
        goto fail;

    /* Photo embeddings, once per photo. */
    size_t dim = ps_zeroshot_dim(z);
    pemb = ps_xmalloc(set.nphotos * dim * sizeof *pemb);
    ps_features *f = ps_xmalloc(sizeof *f);
    char *folder = ps_path_join(dir, set.folder);
    for (size_t i = 0; i < set.nphotos; i++) {
        char *path = ps_path_join(folder, set.photos[i]);
        bool hit;
        int bad = ps_feature_source_get(fs, path, f, &hit, &err);
        free(path);
        if (bad) {
            free(f);
            free(folder);
            goto fail;
        }
        computed += !hit;
        ps_zeroshot_embed_photo(z, f, pemb + i * dim);
        if (!hit)
            show(&pg, i + 1, set.nphotos);
    }
    free(f);
    free(folder);
    if (pg.printed)
        fputc('\n', stderr);

    /* Rank. */
    qemb = ps_xmalloc(dim * sizeof *qemb);
    tops.in_top = ps_xcalloc(set.nphotos, sizeof *tops.in_top);
    tops.queries = ps_xcalloc(set.nphotos / GROUP + 1, sizeof *tops.queries);
    scores = ps_xmalloc(set.nphotos * sizeof *scores);
    ranks = ps_xmalloc(set.nq * sizeof *ranks);
    size_t no_words = 0;
    ps_buf det = {0};
    for (size_t k = 0; k < set.nq; k++) {
        const eval_query *q = &set.q[k];
        size_t lo = train ? (size_t)q->group * GROUP : 0;
        size_t hi = train ? lo + GROUP : set.nphotos;
        if (hi > set.nphotos)
            hi = set.nphotos;
        if (ps_zeroshot_embed_query(z, q->text, strlen(q->text), qemb, &err)) {
            /* A caption with no content word ranks nothing: all ties. */
            memset(qemb, 0, dim * sizeof *qemb);
            no_words++;
        }
        for (size_t i = lo; i < hi; i++) {
            const float *p = pemb + i * dim;
            double s = 0;
            for (size_t d = 0; d < dim; d++)
                s += (double)qemb[d] * p[d];
            scores[i] = (float)s;
        }
        size_t greater = 0, ties = 0;
        float sc = scores[q->photo];
        for (size_t i = lo; i < hi; i++) {
            if ((int)i == q->photo)
                continue;
            greater += scores[i] > sc;
            ties += scores[i] == sc;
        }
        ranks[nranks++] = (ps_rank){greater, ties};
        count_top(scores, lo, hi, &tops);
        if (details) {
            ps_json j;
            ps_json_init(&j, &det, 0);
            ps_json_obj(&j);
            ps_json_key(&j, "query"); ps_json_str(&j, q->text);
            ps_json_key(&j, "photo"); ps_json_str(&j, set.photos[q->photo]);
            ps_json_key(&j, "rank");
            ps_json_num(&j, ps_rank_value(ranks[nranks - 1], PS_TIES_AVERAGE));
            ps_json_key(&j, "score"); ps_json_num(&j, sc);
            ps_json_key(&j, "top");
            ps_json_arr(&j);
            for (int t = 0; t < 3; t++) { /* the three best photos */
                size_t bi = hi;
                for (size_t i = lo; i < hi; i++)
                    if (scores[i] > -1e30f && (bi == hi || scores[i] > scores[bi]))
                        bi = i;
                if (bi == hi)
                    break;
                ps_json_obj(&j);
                ps_json_key(&j, "photo"); ps_json_str(&j, set.photos[bi]);
                ps_json_key(&j, "score"); ps_json_num(&j, scores[bi]);
                ps_json_end(&j);
                scores[bi] = -1e31f; /* taken */
            }
            ps_json_end(&j);
            ps_json_end(&j);
            ps_buf_putc(&det, '\n');
        }
    }
    if (details && ps_write_file_atomic(details, det.data ? det.data : "", det.len, &err)) {
        ps_buf_free(&det);
        goto fail;
    }
    ps_buf_free(&det);
    /* Ties are resolved as a random order would (learn/metrics.h). */
    const ps_ties tr = PS_TIES_AVERAGE;
    double r1 = ps_recall_at_k(ranks, nranks, 1, tr), r5 = ps_recall_at_k(ranks, nranks, 5, tr);
    double r10 = ps_recall_at_k(ranks, nranks, 10, tr);
    double mrr = ps_mean_reciprocal_rank(ranks, nranks, tr), med = ps_median_rank(ranks, nranks, tr);
    double top_max, top_seen;
    top_summary(&tops, set.nphotos, train, &top_max, &top_seen);
    double secs = now_s() - t0;

    ps_buf b = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &b, 1);
        ps_json_obj(&j);
        ps_json_key(&j, "split"); ps_json_str(&j, train ? "train" : "test");
        ps_json_key(&j, "scorer"); ps_json_str(&j, ps_zeroshot_name(z));
        ps_json_key(&j, "photos"); ps_json_int(&j, (int64_t)set.nphotos);
        ps_json_key(&j, "photos_per_ranking"); ps_json_int(&j, train ? GROUP : (int64_t)set.nphotos);
        ps_json_key(&j, "queries_evaluated"); ps_json_int(&j, (int64_t)nranks);
        ps_json_key(&j, "queries_blocked"); ps_json_int(&j, (int64_t)set.blocked);
        ps_json_key(&j, "queries_without_words"); ps_json_int(&j, (int64_t)no_words);
        ps_json_key(&j, "recall_at_1"); ps_json_num(&j, r1);
        ps_json_key(&j, "recall_at_5"); ps_json_num(&j, r5);
        ps_json_key(&j, "recall_at_10"); ps_json_num(&j, r10);
        ps_json_key(&j, "mrr"); ps_json_num(&j, mrr);
        ps_json_key(&j, "median_rank"); ps_json_num(&j, med);
        ps_json_key(&j, "top10_max_share"); ps_json_num(&j, top_max);
        ps_json_key(&j, "top10_photos_seen"); ps_json_num(&j, top_seen);
        ps_json_key(&j, "ablated");
        ps_json_arr(&j);
        {
            char *copy = ps_xstrdup(ablated.data ? ablated.data : ""), *save = NULL;
            for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
                ps_json_str(&j, p);
            free(copy);
        }
        ps_json_end(&j);
        ps_json_key(&j, "set"); ps_json_str(&j, sets.data ? sets.data : "");
        ps_json_key(&j, "features_computed"); ps_json_int(&j, (int64_t)computed);
        ps_json_key(&j, "seconds"); ps_json_num(&j, secs);
        ps_json_end(&j);
        ps_buf_putc(&b, '\n');
    } else {
        ps_buf_printf(&b, "zero-shot retrieval, %s split (%s)%s%s%s%s\n",
                      train ? "train" : "test", ps_zeroshot_name(z),
                      ablated.len ? ", without: " : "", ablated.len ? ablated.data : "",
                      sets.len ? ", set: " : "", sets.len ? sets.data : "");
        ps_buf_printf(&b, "  queries evaluated %zu, blocked by the content rule %zu; %zu photos%s\n",
                      nranks, set.blocked, set.nphotos, train ? " (ranked in groups of 100)" : "");
        ps_buf_printf(&b, "  recall@1  %.3f\n  recall@5  %.3f\n  recall@10 %.3f\n"
                      "  MRR       %.3f\n  median rank %.1f\n", r1, r5, r10, mrr, med);
        ps_buf_printf(&b, "  first 10 results: no photo is in more than %.0f%% of the queries' (%.0f%% "
                      "if random); %.0f%% of the photos are in some query's\n",
                      100 * top_max, 100.0 * TOP_N / (double)(train ? GROUP : set.nphotos),
                      100 * top_seen);
        if (computed)
            ps_buf_printf(&b, "  (%zu photo features computed and cached)\n", computed);
    }
    rc = cli_write_stdout(&b);
    ps_buf_free(&b);
    goto out;
fail:
    if (pg.printed)
        fputc('\n', stderr);
    cli_fail(cmd, &err);
out:
    free(ranks);
    free(tops.in_top);
    free(tops.queries);
    free(scores);
    free(qemb);
    free(pemb);
    if (!train)
        free(set.photos);
    free(set.q);
    ps_feature_source_free(fs);
    ps_zeroshot_close(z);
    ps_policy_free(pol);
    if (ds_loaded)
        ps_dataset_free(&ds);
    free(dir);
    free(mdir);
    ps_buf_free(&ablated);
    ps_buf_free(&sets);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(HELP, stdout);
        return PS_EXIT_OK;
    }
    if (argc < 2)
        return cli_usage(CMD, "expected a subcommand: retrieval or model");
    if (strcmp(argv[1], "retrieval") == 0)
        return run_retrieval(argc - 1, argv + 1);
    if (strcmp(argv[1], "model") == 0)
        return eval_model_main(argc - 1, argv + 1); /* eval_model.c */
    return cli_usage(CMD, "unknown subcommand '%s' (known: retrieval, model)", argv[1]);
}
