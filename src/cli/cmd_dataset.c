/*
 * cmd_dataset.c - `picseek dataset stats|export`: load and validate the
 * annotated dataset, report its numbers, or write the merged label table.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/json.h"
#include "core/paths.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/labels.h"
#include "policy/policy.h"

#define CMD "dataset"
#define WARNINGS_SHOWN 20

static const char HELP[] =
    "NAME\n"
    "    picseek dataset - validate the annotated dataset, report its numbers, export labels\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek dataset stats  [DIR] [--json] [options]\n"
    "    picseek dataset export [DIR] -o FILE [--format csv|tsv|jsonl] [options]\n"
    "\n"
    "DESCRIPTION\n"
    "    Both subcommands load the dataset folder DIR (default: --data DIR, else\n"
    "    $PICSEEK_DATA, else $PICSEEK_SHARED/dataset, else ../shared/dataset) and\n"
    "    check every row of train_dataset.csv, ExpertAnnotations.tsv,\n"
    "    CrowdAnnotations.tsv, test_queries.csv and test_images.csv: strict CSV\n"
    "    (RFC 4180) and UTF-8, the column count, scores that are whole numbers\n"
    "    1..4, agreement ratios in [0,1] that match their counts, caption ids of\n"
    "    the form <photo file name>#<n>, no duplicated (image, caption) pair.  The\n"
    "    first bad row stops the command with file:line: column N: reason.\n"
    "\n"
    "    Labels are built as the proof of concept did: the expert score is the\n"
    "    majority of the three expert scores (three different scores: the pair is\n"
    "    dropped), scaled (s-1)/3 into [0,1]; the crowd ratio is joined on\n"
    "    (image, caption_id), 0 when absent; target = w * expert + (1-w) * crowd\n"
    "    with w = 0.6.  Each caption text is checked by the content rule (captions\n"
    "    about children are 'blocked').\n"
    "\n"
    "    stats   prints the row counts, label statistics, photo counts and the\n"
    "            files in the photo folders that are not images (e.g. .DS_Store).\n"
    "            train_pairs_allowed counts the expert-kept pairs that have a\n"
    "            caption text which the content rule does not block.\n"
    "    export  writes the merged table, one row per expert-kept pair, with the\n"
    "            columns image, caption_id, query_text, expert_1, expert_2,\n"
    "            expert_3, expert_score, crowd_ratio, target, blocked (1/0; empty\n"
    "            with --no-policy).  CSV and TSV quote a field only when needed\n"
    "            (RFC 4180); JSON Lines writes one object per line.  The file is\n"
    "            replaced atomically; -o - writes to standard output.\n"
    "\n"
    "OPTIONS\n"
    "    --data DIR           the dataset folder (same as the DIR argument)\n"
    "    --json               stats: print one JSON object instead of text\n"
    "    -o, --output FILE    export: the file to write ('-' = standard output)\n"
    "    --format FMT         export: csv (default), tsv or jsonl\n"
    "    --lenient            turn bad rows into warnings: skip and count them\n"
    "    --lexicon FILE       the content rule's lexicon (default: $PICSEEK_LEXICON,\n"
    "                         else data/child_lexicon.txt)\n"
    "    --no-policy          do not apply the content rule (blocked counts are null)\n"
    "    --expert-mode MODE   majority (default), mean or median\n"
    "    --w-expert W         weight of the expert score in the target, 0..1 (0.6)\n"
    "    --crowd-missing X    crowd ratio used when a pair has no crowd row (0)\n"
    "    -h, --help           show this help\n"
    "\n"
    "EXAMPLES\n"
    "    picseek dataset stats\n"
    "    picseek dataset stats ../shared/dataset --json\n"
    "    picseek dataset stats /data/mine --lenient\n"
    "    picseek dataset export -o labels.csv\n"
    "    picseek dataset export --format jsonl -o - | head\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success; 1 the dataset is missing or invalid, or the output cannot be\n"
    "    written; 2 usage error.\n";

typedef struct args {
    const char *sub;
    const char *dir;
    const char *output;
    const char *format;
    const char *lexicon;
    bool json, lenient, no_policy;
    ps_label_opts label;
} args;

static int parse_unit(const char *opt, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0 && v <= 1))
        return cli_usage(CMD, "%s: '%s' is not a number from 0 to 1", opt, s);
    *out = v;
    return 0;
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(int argc, char **argv, args *a)
{
    enum { O_DATA = 256, O_JSON, O_FORMAT, O_LENIENT, O_LEXICON, O_NO_POLICY, O_MODE, O_W,
           O_CROWD };
    static const struct option LONG[] = {
        {"data", required_argument, NULL, O_DATA},
        {"json", no_argument, NULL, O_JSON},
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, O_FORMAT},
        {"lenient", no_argument, NULL, O_LENIENT},
        {"lexicon", required_argument, NULL, O_LEXICON},
        {"no-policy", no_argument, NULL, O_NO_POLICY},
        {"expert-mode", required_argument, NULL, O_MODE},
        {"w-expert", required_argument, NULL, O_W},
        {"crowd-missing", required_argument, NULL, O_CROWD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    ps_label_opts_default(&a->label);
    if (argc < 2)
        return cli_usage(CMD, "missing subcommand: stats or export");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(HELP, stdout);
        return PS_EXIT_OK;
    }
    a->sub = argv[1];
    if (strcmp(a->sub, "stats") != 0 && strcmp(a->sub, "export") != 0)
        return cli_usage(CMD, "unknown subcommand '%s' (expected stats or export)", a->sub);
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", LONG, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return PS_EXIT_OK;
        case O_DATA: a->dir = optarg; break;
        case O_JSON: a->json = true; break;
        case 'o': a->output = optarg; break;
        case O_FORMAT: a->format = optarg; break;
        case O_LENIENT: a->lenient = true; break;
        case O_LEXICON: a->lexicon = optarg; break;
        case O_NO_POLICY: a->no_policy = true; break;
        case O_MODE:
            if (ps_expert_mode_parse(optarg, &a->label.expert_mode) != 0)
                return cli_usage(CMD, "--expert-mode: '%s' is not majority, mean or median",
                                 optarg);
            break;
        case O_W:
            if (parse_unit("--w-expert", optarg, &a->label.w_expert) != 0)
                return PS_EXIT_USAGE;
            break;
        case O_CROWD:
            if (parse_unit("--crowd-missing", optarg, &a->label.crowd_missing) != 0)
                return PS_EXIT_USAGE;
            break;
        case ':':
            return cli_usage(CMD, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        if (a->dir)
            return cli_usage(CMD, "give the dataset folder once (--data or DIR), not both");
        a->dir = argv[optind++];
    }
    if (optind < argc)
        return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    bool exporting = strcmp(a->sub, "export") == 0;
    if (exporting && !a->output)
        return cli_usage(CMD, "export needs -o FILE");
    if (!exporting && (a->output || a->format))
        return cli_usage(CMD, "-o and --format belong to 'dataset export'");
    if (exporting && a->json)
        return cli_usage(CMD, "--json belongs to 'dataset stats' (use --format jsonl)");
    if (!a->format)
        a->format = "csv";
    if (strcmp(a->format, "csv") != 0 && strcmp(a->format, "tsv") != 0 &&
        strcmp(a->format, "jsonl") != 0)
        return cli_usage(CMD, "--format: '%s' is not csv, tsv or jsonl", a->format);
    if (a->no_policy && a->lexicon)
        return cli_usage(CMD, "--lexicon and --no-policy contradict each other");
    return -1;
}

typedef struct loaded {
    char *dir;
    ps_dataset ds;
    ps_policy *policy;
    ps_labels labels;
} loaded;

static void unload(loaded *L)
{
    ps_labels_free(&L->labels);
    if (L->policy)
        ps_policy_free(L->policy);
    ps_dataset_free(&L->ds);
    free(L->dir);
}

static void print_warnings(const ps_dataset *ds)
{
    size_t shown = ds->nwarnings < WARNINGS_SHOWN ? ds->nwarnings : WARNINGS_SHOWN;
    for (size_t i = 0; i < shown; i++)
        cli_warn(CMD, "skipped: %s", ds->warnings[i]);
    if (ds->warnings_total > shown)
        cli_warn(CMD, "... and %zu more skipped rows", ds->warnings_total - shown);
}

static int load(const args *a, bool photos, loaded *L)
{
    ps_error err;
    memset(L, 0, sizeof *L);
    L->dir = ps_dataset_dir(a->dir, &err);
    if (!L->dir)
        return cli_fail(CMD, &err);
    ps_dataset_opts dopts;
    ps_dataset_opts_default(&dopts);
    dopts.lenient = a->lenient;
    dopts.photos = photos;
    if (ps_dataset_load(&L->ds, L->dir, &dopts, &err) != 0) {
        unload(L);
        return cli_fail(CMD, &err);
    }
    print_warnings(&L->ds);
    if (!a->no_policy) {
        L->policy = ps_policy_load(a->lexicon, &err);
        if (!L->policy) {
            unload(L);
            return cli_fail(CMD, &err);
        }
    }
    if (ps_labels_build(&L->ds, &a->label, L->policy, &L->labels, &err) != 0) {
        unload(L);
        return cli_fail(CMD, &err);
    }
    return PS_EXIT_OK;
}

static size_t total_skipped_rows(const ps_dataset *ds)
{
    size_t n = 0;
    for (int f = 0; f < PS_DS_NFILES; f++)
        n += ds->rows_skipped[f];
    return n;
}

static void stats_json(const loaded *L, const args *a, ps_buf *out)
{
    const ps_dataset *ds = &L->ds;
    const ps_label_stats *st = &L->labels.stats;
    ps_json j;
    ps_json_init(&j, out, 1);
    ps_json_obj(&j);
    ps_json_key(&j, "dataset"); ps_json_str(&j, L->dir);
    ps_json_key(&j, "expert_rows"); ps_json_int(&j, (int64_t)st->expert_rows);
    ps_json_key(&j, "expert_no_majority"); ps_json_int(&j, (int64_t)st->expert_no_majority);
    ps_json_key(&j, "expert_kept"); ps_json_int(&j, (int64_t)st->expert_kept);
    ps_json_key(&j, "crowd_rows"); ps_json_int(&j, (int64_t)st->crowd_rows);
    ps_json_key(&j, "expert_with_crowd"); ps_json_int(&j, (int64_t)st->expert_with_crowd);
    ps_json_key(&j, "expert_all_with_crowd"); ps_json_int(&j, (int64_t)st->expert_all_with_crowd);
    ps_json_key(&j, "expert_without_text"); ps_json_int(&j, (int64_t)st->rows_without_text);
    ps_json_key(&j, "train_rows"); ps_json_int(&j, (int64_t)st->train_rows);
    ps_json_key(&j, "train_captions"); ps_json_int(&j, (int64_t)st->train_captions);
    ps_json_key(&j, "train_captions_blocked");
    if (st->classified) ps_json_int(&j, (int64_t)st->train_captions_blocked); else ps_json_null(&j);
    ps_json_key(&j, "train_pairs_allowed");
    if (st->classified) ps_json_int(&j, (int64_t)st->train_pairs_allowed); else ps_json_null(&j);
    ps_json_key(&j, "train_pairs_blocked");
    if (st->classified) ps_json_int(&j, (int64_t)st->pairs_blocked); else ps_json_null(&j);
    ps_json_key(&j, "target_mean"); ps_json_num(&j, st->target_mean);
    ps_json_key(&j, "target_std"); ps_json_num(&j, st->target_std);
    ps_json_key(&j, "test_queries"); ps_json_int(&j, (int64_t)ds->ntest_queries);
    ps_json_key(&j, "test_images"); ps_json_int(&j, (int64_t)ds->ntest_images);
    ps_json_key(&j, "train_photos"); ps_json_int(&j, (int64_t)ds->train_photos.n);
    ps_json_key(&j, "test_photos"); ps_json_int(&j, (int64_t)ds->test_photos.n);
    ps_json_key(&j, "train_photos_missing"); ps_json_int(&j, (int64_t)ds->train_photos_missing);
    ps_json_key(&j, "test_photos_missing"); ps_json_int(&j, (int64_t)ds->test_photos_missing);
    size_t nskip = ds->train_photos.nskipped + ds->test_photos.nskipped;
    ps_json_key(&j, "skipped_files"); ps_json_int(&j, (int64_t)nskip);
    ps_json_key(&j, "skipped_file_list");
    ps_json_arr(&j);
    const ps_photo_list *lists[2] = {&ds->train_photos, &ds->test_photos};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < lists[k]->nskipped; i++) {
            ps_json_obj(&j);
            ps_json_key(&j, "path"); ps_json_str(&j, lists[k]->skipped[i].path);
            ps_json_key(&j, "reason"); ps_json_str(&j, lists[k]->skipped[i].reason);
            ps_json_end(&j);
        }
    ps_json_end(&j);
    ps_json_key(&j, "rows_skipped"); ps_json_int(&j, (int64_t)total_skipped_rows(ds));
    ps_json_key(&j, "rows_skipped_by_file");
    ps_json_obj(&j);
    for (int f = 0; f < PS_DS_NFILES; f++) {
        ps_json_key(&j, ps_dataset_file_name(f));
        ps_json_int(&j, (int64_t)ds->rows_skipped[f]);
    }
    ps_json_end(&j);
    ps_json_key(&j, "warnings_total"); ps_json_int(&j, (int64_t)ds->warnings_total);
    ps_json_key(&j, "warnings");
    ps_json_arr(&j);
    for (size_t i = 0; i < ds->nwarnings; i++)
        ps_json_str(&j, ds->warnings[i]);
    ps_json_end(&j);
    ps_json_key(&j, "options");
    ps_json_obj(&j);
    ps_json_key(&j, "lenient"); ps_json_bool(&j, a->lenient);
    ps_json_key(&j, "expert_mode"); ps_json_str(&j, ps_expert_mode_name(a->label.expert_mode));
    ps_json_key(&j, "w_expert"); ps_json_num(&j, a->label.w_expert);
    ps_json_key(&j, "crowd_missing"); ps_json_num(&j, a->label.crowd_missing);
    ps_json_key(&j, "policy"); ps_json_bool(&j, L->policy != NULL);
    ps_json_key(&j, "lexicon_size");
    if (L->policy) ps_json_int(&j, (int64_t)ps_policy_lexicon_size(L->policy)); else ps_json_null(&j);
    ps_json_end(&j);
    ps_json_end(&j);
    ps_buf_putc(out, '\n');
}

static void stats_text(const loaded *L, const args *a, ps_buf *out)
{
    const ps_dataset *ds = &L->ds;
    const ps_label_stats *st = &L->labels.stats;
    ps_buf_printf(out, "dataset %s\n\n", L->dir);
    ps_buf_printf(out, "files (rows read, rows skipped)\n");
    size_t rows[PS_DS_NFILES] = {ds->ntrain, ds->nexpert, ds->ncrowd, ds->ntest_queries,
                                 ds->ntest_images};
    for (int f = 0; f < PS_DS_NFILES; f++)
        ps_buf_printf(out, "  %-24s %7zu %7zu\n", ps_dataset_file_name(f), rows[f],
                      ds->rows_skipped[f]);
    ps_buf_printf(out, "\nlabels (expert %s, target = %g * expert + %g * crowd)\n",
                  ps_expert_mode_name(a->label.expert_mode), a->label.w_expert,
                  1 - a->label.w_expert);
    ps_buf_printf(out, "  expert pairs              %7zu\n", st->expert_rows);
    ps_buf_printf(out, "  dropped, no majority      %7zu\n", st->expert_no_majority);
    ps_buf_printf(out, "  kept                      %7zu\n", st->expert_kept);
    ps_buf_printf(out, "  kept with a crowd ratio   %7zu\n", st->expert_with_crowd);
    ps_buf_printf(out, "  kept without query text   %7zu\n", st->rows_without_text);
    ps_buf_printf(out, "  target mean / std         %.4f / %.4f\n", st->target_mean,
                  st->target_std);
    ps_buf_printf(out, "\ncontent rule\n");
    ps_buf_printf(out, "  training captions         %7zu\n", st->train_captions);
    if (st->classified) {
        ps_buf_printf(out, "  captions blocked          %7zu\n", st->train_captions_blocked);
        ps_buf_printf(out, "  kept pairs allowed        %7zu\n", st->train_pairs_allowed);
        ps_buf_printf(out, "  kept pairs blocked        %7zu\n", st->pairs_blocked);
    } else {
        ps_buf_printf(out, "  (not applied: --no-policy)\n");
    }
    ps_buf_printf(out, "\nphotos\n");
    ps_buf_printf(out, "  train_images/             %7zu (%zu referenced but missing)\n",
                  ds->train_photos.n, ds->train_photos_missing);
    ps_buf_printf(out, "  test_images/              %7zu (%zu referenced but missing)\n",
                  ds->test_photos.n, ds->test_photos_missing);
    const ps_photo_list *lists[2] = {&ds->train_photos, &ds->test_photos};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < lists[k]->nskipped; i++)
            ps_buf_printf(out, "  skipped %s: %s\n", lists[k]->skipped[i].path,
                          lists[k]->skipped[i].reason);
    if (ds->warnings_total)
        ps_buf_printf(out, "\n%zu bad rows skipped (--lenient)\n", ds->warnings_total);
}

static void put_num(ps_buf *b, double v)
{
    ps_buf_printf(b, "%.6g", v);
}

static void export_delimited(const loaded *L, char sep, ps_buf *out)
{
    static const char *const COLS[] = {"image", "caption_id", "query_text", "expert_1",
                                       "expert_2", "expert_3", "expert_score", "crowd_ratio",
                                       "target", "blocked"};
    for (size_t i = 0; i < sizeof COLS / sizeof *COLS; i++) {
        if (i)
            ps_buf_putc(out, sep);
        ps_buf_puts(out, COLS[i]);
    }
    ps_buf_putc(out, '\n');
    bool classified = L->labels.stats.classified;
    for (size_t i = 0; i < L->labels.n; i++) {
        const ps_label_row *r = &L->labels.rows[i];
        ps_csv_write_field(out, r->image, strlen(r->image), sep);
        ps_buf_putc(out, sep);
        ps_csv_write_field(out, r->caption_id, strlen(r->caption_id), sep);
        ps_buf_putc(out, sep);
        if (r->query_text)
            ps_csv_write_field(out, r->query_text, strlen(r->query_text), sep);
        ps_buf_printf(out, "%c%d%c%d%c%d%c", sep, r->expert[0], sep, r->expert[1], sep,
                      r->expert[2], sep);
        put_num(out, r->expert_score);
        ps_buf_putc(out, sep);
        put_num(out, r->crowd_ratio);
        ps_buf_putc(out, sep);
        put_num(out, r->target);
        ps_buf_putc(out, sep);
        if (classified)
            ps_buf_putc(out, r->blocked ? '1' : '0');
        ps_buf_putc(out, '\n');
    }
}

static void export_jsonl(const loaded *L, ps_buf *out)
{
    bool classified = L->labels.stats.classified;
    for (size_t i = 0; i < L->labels.n; i++) {
        const ps_label_row *r = &L->labels.rows[i];
        ps_json j;
        ps_json_init(&j, out, 0);
        ps_json_obj(&j);
        ps_json_key(&j, "image"); ps_json_str(&j, r->image);
        ps_json_key(&j, "caption_id"); ps_json_str(&j, r->caption_id);
        ps_json_key(&j, "query_text");
        if (r->query_text) ps_json_str(&j, r->query_text); else ps_json_null(&j);
        ps_json_key(&j, "expert_1"); ps_json_int(&j, r->expert[0]);
        ps_json_key(&j, "expert_2"); ps_json_int(&j, r->expert[1]);
        ps_json_key(&j, "expert_3"); ps_json_int(&j, r->expert[2]);
        ps_json_key(&j, "expert_score"); ps_json_num(&j, r->expert_score);
        ps_json_key(&j, "crowd_ratio"); ps_json_num(&j, r->crowd_ratio);
        ps_json_key(&j, "target"); ps_json_num(&j, r->target);
        ps_json_key(&j, "blocked");
        if (classified) ps_json_bool(&j, r->blocked); else ps_json_null(&j);
        ps_json_end(&j);
        ps_buf_putc(out, '\n');
    }
}

static int run_export(const loaded *L, const args *a)
{
    ps_buf out = {0};
    if (strcmp(a->format, "jsonl") == 0)
        export_jsonl(L, &out);
    else
        export_delimited(L, strcmp(a->format, "tsv") == 0 ? '\t' : ',', &out);
    int rc = PS_EXIT_OK;
    if (strcmp(a->output, "-") == 0) {
        rc = cli_write_stdout(&out);
        if (rc != PS_EXIT_OK)
            cli_failf(CMD, "cannot write to standard output");
    } else {
        ps_error err;
        if (ps_write_file_atomic(a->output, out.data, out.len, &err) != 0)
            rc = cli_fail(CMD, &err);
        else
            fprintf(stderr, "picseek %s: wrote %zu rows to %s (%s)\n", CMD, L->labels.n,
                    a->output, a->format);
    }
    ps_buf_free(&out);
    return rc;
}

int cmd_dataset(int argc, char **argv)
{
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    bool exporting = strcmp(a.sub, "export") == 0;
    loaded L;
    rc = load(&a, !exporting, &L);
    if (rc != PS_EXIT_OK)
        return rc;
    if (exporting) {
        rc = run_export(&L, &a);
    } else {
        ps_buf out = {0};
        if (a.json)
            stats_json(&L, &a, &out);
        else
            stats_text(&L, &a, &out);
        rc = cli_write_stdout(&out);
        ps_buf_free(&out);
    }
    unload(&L);
    return rc;
}
