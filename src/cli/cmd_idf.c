/*
 * cmd_idf.c - `picseek idf`: count the document frequency of each lemma over
 * the training captions and write the IDF table the query pipeline weighs
 * words with (text/idf.h; committed as data/caption_idf.tsv).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/json.h"
#include "core/paths.h"
#include "data/dataset.h"
#include "text/idf.h"
#include "text/query.h"
#include "text/wordnet.h"

#define CMD "idf"

static const char HELP[] =
    "NAME\n"
    "    picseek idf - build the word weights (IDF) from the training captions\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek idf [DIR] [--data DIR] [-o FILE] [--json]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads train_dataset.csv of the dataset folder DIR (default: --data DIR,\n"
    "    else $PICSEEK_DATA, else $PICSEEK_SHARED/dataset, else ../shared/dataset)\n"
    "    and runs each distinct training caption (by caption id) through the\n"
    "    query pipeline: tokens, stop words, collocations, WordNet lemmas.  It\n"
    "    counts in how many captions each lemma occurs (df) and writes the table\n"
    "    'documents<TAB>N' then 'lemma<TAB>df' lines, sorted.  A query word's\n"
    "    weight is then idf = ln((N+1)/(df+1)) + 1.\n"
    "\n"
    "    Only captions of training photos are counted: a caption whose photo is\n"
    "    listed in test_images.csv is skipped (and counted as such), so the\n"
    "    weights never see the descriptions of the photos being evaluated.\n"
    "\n"
    "    picseek ships the result as data/caption_idf.tsv; rebuild it with\n"
    "        picseek idf -o data/caption_idf.tsv\n"
    "\n"
    "OPTIONS\n"
    "    --data DIR         the dataset folder (same as the DIR argument)\n"
    "    -o, --output FILE  write the table to FILE (atomically) instead of\n"
    "                       standard output\n"
    "    --json             print a JSON summary (with -o) instead of text\n"
    "    -h, --help         show this help\n"
    "\n"
    "ENVIRONMENT\n"
    "    WNSEARCHDIR        the WordNet database (default /usr/share/wordnet)\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 1 the dataset or WordNet is missing or invalid, or FILE cannot\n"
    "    be written; 2 usage error.\n";

enum { OPT_DATA = 256, OPT_JSON };

static int is_test_photo(const ps_dataset *ds, const char *id)
{
    size_t plen;
    long n;
    if (!ps_caption_id_parse(id, strlen(id), &plen, &n))
        return 0;
    for (size_t i = 0; i < ds->ntest_images; i++)
        if (strlen(ds->test_images[i]) == plen && memcmp(ds->test_images[i], id, plen) == 0)
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cmd_idf(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, OPT_DATA}, {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, OPT_JSON},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir_opt = NULL, *out_path = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA: dir_opt = optarg; break;
        case 'o': out_path = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind < argc)
        dir_opt = argv[optind++];
    if (optind < argc)
        return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    if (json && !out_path)
        return cli_usage(CMD, "--json needs -o FILE (the table itself is not JSON)");

    ps_error err;
    char *dir = ps_dataset_dir(dir_opt, &err);
    if (!dir)
        return cli_fail(CMD, &err);
    ps_dataset ds;
    ps_dataset_opts dopts;
    ps_dataset_opts_default(&dopts);
    dopts.photos = false;
    if (ps_dataset_load(&ds, dir, &dopts, &err)) {
        free(dir);
        return cli_fail(CMD, &err);
    }
    ps_wordnet *wn = ps_wordnet_load(NULL, &err);
    if (!wn) {
        ps_dataset_free(&ds);
        free(dir);
        return cli_fail(CMD, &err);
    }
    /* Distinct caption ids, in a stable order. */
    const char **ids = ps_xmalloc((ds.ntrain ? ds.ntrain : 1) * sizeof *ids);
    const char **texts = ps_xmalloc((ds.ntrain ? ds.ntrain : 1) * sizeof *texts);
    for (size_t i = 0; i < ds.ntrain; i++)
        ids[i] = ds.train[i].query_id;
    qsort(ids, ds.ntrain, sizeof *ids, cmp_str);
    size_t nids = 0;
    for (size_t i = 0; i < ds.ntrain; i++)
        if (nids == 0 || strcmp(ids[nids - 1], ids[i]) != 0)
            ids[nids++] = ids[i];
    /* The text of each id (the loader checked one id has one text). */
    for (size_t i = 0; i < ds.ntrain; i++) {
        const char *key = ds.train[i].query_id;
        const char **hit = bsearch(&key, ids, nids, sizeof *ids, cmp_str);
        texts[hit - ids] = ds.train[i].query_text;
    }
    ps_idf_counter *cnt = ps_idf_counter_new();
    size_t counted = 0, skipped_test = 0;
    int rc = PS_EXIT_OK;
    /* The same lemmas as the queries': morphology ordered by sense counts. */
    ps_sense_counts *sc = ps_sense_counts_load(NULL, &err);
    if (!sc) {
        rc = cli_fail(CMD, &err);
        goto out;
    }
    ps_query_model qm = {wn, NULL, NULL, PS_QW_UNIFORM, false, false, sc};
    for (size_t i = 0; i < nids; i++) {
        if (is_test_photo(&ds, ids[i])) {
            skipped_test++;
            continue;
        }
        if (ps_query_count_doc(&qm, texts[i], strlen(texts[i]), cnt, &err)) {
            ps_error_prefix(&err, "caption %s", ids[i]);
            rc = cli_fail(CMD, &err);
            goto out;
        }
        counted++;
    }
    ps_buf table = {0};
    ps_buf comment = {0};
    ps_buf_printf(&comment,
                  "picseek IDF table: in how many training captions each lemma occurs.\n"
                  "Generated by: picseek idf -o data/caption_idf.tsv (from train_dataset.csv:\n"
                  "%zu distinct captions; captions of test photos skipped: %zu).\n"
                  "Query word weight: idf = ln((N+1)/(df+1)) + 1 (see src/text/idf.h).",
                  counted, skipped_test);
    ps_idf_counter_write(cnt, comment.data, &table);
    ps_buf_free(&comment);
    if (out_path) {
        if (ps_write_file_atomic(out_path, table.data, table.len, &err)) {
            rc = cli_fail(CMD, &err);
        } else {
            ps_buf b = {0};
            if (json) {
                ps_json j;
                ps_json_init(&j, &b, 1);
                ps_json_obj(&j);
                ps_json_key(&j, "output"); ps_json_str(&j, out_path);
                ps_json_key(&j, "documents"); ps_json_int(&j, (int64_t)counted);
                ps_json_key(&j, "skipped_test_captions"); ps_json_int(&j, (int64_t)skipped_test);
                ps_json_end(&j);
                ps_buf_putc(&b, '\n');
            } else {
                ps_buf_printf(&b, "wrote %s: %zu training captions counted, %zu captions of "
                              "test photos skipped\n", out_path, counted, skipped_test);
            }
            rc = cli_write_stdout(&b);
            ps_buf_free(&b);
        }
    } else {
        rc = cli_write_stdout(&table);
    }
    ps_buf_free(&table);
out:
    ps_sense_counts_free(sc);
    ps_idf_counter_free(cnt);
    free(ids);
    free(texts);
    ps_wordnet_free(wn);
    ps_dataset_free(&ds);
    free(dir);
    return rc;
}
