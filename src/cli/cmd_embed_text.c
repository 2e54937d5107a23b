/*
 * cmd_embed_text.c - `picseek embed-text`: show what the query pipeline and
 * the label bridge make of a text: words, lemmas, weights, words without a
 * vector, the GloVe query vector and the most relevant image classes.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/json.h"
#include "core/paths.h"
#include "image/color.h"
#include "score/zeroshot.h"
#include "text/query.h"

#define CMD "embed-text"

static const char HELP[] =
    "NAME\n"
    "    picseek embed-text - show how picseek reads a search text\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek embed-text TEXT [--json] [--classes N] [--no-idf] [--models DIR]\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs TEXT ('-' = standard input) through the query pipeline and prints:\n"
    "      tokens   the case-folded words read (at most 256; 'capped' if more)\n"
    "      words    the content words (stop words dropped, WordNet collocations\n"
    "               such as 'hot dog' joined) with their WordNet lemma, part of\n"
    "               speech, weight (IDF over the training captions,\n"
    "               data/caption_idf.tsv) and whether GloVe has a vector for them\n"
    "      unknown  the content words without a word vector: they still relate\n"
    "               to image classes through WordNet, but not through GloVe\n"
    "      vector   the query vector: the weight-averaged unit GloVe vectors of\n"
    "               the words, scaled to unit length (100 numbers)\n"
    "      classes  with --classes N: the N things the image models see that\n"
    "               are most relevant to the text: WordNet concepts over the\n"
    "               ImageNet classes (\"dog\" stands for its 120 breeds) and\n"
    "               Pascal VOC classes, with the word that relates to each and\n"
    "               how (is-a: the word names the concept; kind-of: the word is\n"
    "               a kind of it, \"man\" -> person; similar: GloVe)\n"
    "    The readable output omits the vector; --json includes it.\n"
    "\n"
    "OPTIONS\n"
    "    --json         print one JSON object\n"
    "    --classes N    also list the N most relevant concepts and classes\n"
    "                   (needs the models folder for the class labels)\n"
    "    --no-idf       weigh every word 1 instead of by IDF\n"
    "    --models DIR   the models folder (default: $PICSEEK_MODELS, else\n"
    "                   $PICSEEK_SHARED/models, else ../shared/models)\n"
    "    -h, --help     show this help\n"
    "\n"
    "EXAMPLES\n"
    "    picseek embed-text \"A dog runs on the beach\"\n"
    "    picseek embed-text \"two men ride mountain bikes\" --classes 8\n"
    "    picseek embed-text --json \"a plate of food\"\n"
    "\n"
    "EXIT STATUS\n"
    "    0 success (also for a text with no content word: words is empty);\n"
    "    1 invalid UTF-8, or WordNet, the word vectors, the IDF table or the\n"
    "    models missing; 2 usage error.\n";

enum { OPT_JSON = 256, OPT_CLASSES, OPT_NO_IDF, OPT_MODELS };

typedef struct class_rank {
    int cls;
    float rel;
} class_rank;

static int cmp_rank(const void *a, const void *b)
{
    const class_rank *x = a, *y = b;
    if (x->rel != y->rel)
        return x->rel > y->rel ? -1 : 1;
    return x->cls - y->cls;
}

static const char *pos_name(int pos)
{
    return pos < 0 ? "" : ps_wn_pos_name((ps_wn_pos)pos);
}

static void print_json(ps_buf *b, const char *text, size_t len, const ps_query *q,
                       const ps_tokens *toks, const ps_zeroshot *z, const class_rank *top,
                       size_t ntop, const float *qe, const int *bw, const unsigned char *why)
{
    ps_json j;
    ps_json_init(&j, b, 1);
    ps_json_obj(&j);
    ps_json_key(&j, "text"); ps_json_strn(&j, text, len);
    ps_json_key(&j, "tokens");
    ps_json_arr(&j);
    for (size_t i = 0; i < toks->n; i++)
        ps_json_str(&j, toks->v[i].text);
    ps_json_end(&j);
    ps_json_key(&j, "capped"); ps_json_bool(&j, q->capped);
    ps_json_key(&j, "stop_words"); ps_json_int(&j, (int64_t)q->nstop);
    ps_json_key(&j, "words");
    ps_json_arr(&j);
    for (size_t i = 0; i < q->nwords; i++) {
        const ps_query_word *w = &q->words[i];
        ps_json_obj(&j);
        ps_json_key(&j, "text"); ps_json_str(&j, w->text);
        ps_json_key(&j, "lemma"); ps_json_str(&j, w->lemma);
        ps_json_key(&j, "pos"); ps_json_str(&j, pos_name(w->pos));
        ps_json_key(&j, "weight"); ps_json_num(&j, w->weight);
        ps_json_key(&j, "has_vector"); ps_json_bool(&j, w->vector_row != -1);
        ps_json_key(&j, "offset"); ps_json_int(&j, (int64_t)w->offset);
        ps_json_end(&j);
    }
    ps_json_end(&j);
    ps_json_key(&j, "lemmas");
    ps_json_arr(&j);
    for (size_t i = 0; i < q->nwords; i++)
        ps_json_str(&j, q->words[i].lemma);
    ps_json_end(&j);
    ps_json_key(&j, "weights");
    ps_json_arr(&j);
    for (size_t i = 0; i < q->nwords; i++)
        ps_json_num(&j, q->words[i].weight);
    ps_json_end(&j);
    ps_json_key(&j, "unknown");
    ps_json_arr(&j);
    for (size_t i = 0; i < ps_query_nunknown(q); i++)
        ps_json_str(&j, ps_query_unknown(q, i));
    ps_json_end(&j);
    ps_json_key(&j, "dim"); ps_json_int(&j, q->has_vector ? q->dim : 0);
    ps_json_key(&j, "vector");
    if (q->has_vector) {
        ps_json_arr(&j);
        for (uint32_t d = 0; d < q->dim; d++)
            ps_json_num(&j, q->vec[d]);
        ps_json_end(&j);
    } else {
        ps_json_null(&j);
    }
    if (z) {
        const ps_bridge *br = ps_zeroshot_bridge(z);
        ps_json_key(&j, "classes");
        ps_json_arr(&j);
        for (size_t i = 0; i < ntop; i++) {
            size_t c = (size_t)top[i].cls;
            ps_json_obj(&j);
            ps_json_key(&j, "label"); ps_json_str(&j, ps_bridge_dim_label(br, c));
            int voc = ps_bridge_dim_source(br, c) == PS_SRC_VOC;
            ps_json_key(&j, "source"); ps_json_str(&j, voc ? "voc" : "imagenet");
            if (voc) {
                ps_json_key(&j, "class");
                ps_json_int(&j, (int64_t)(c - ps_bridge_nconcepts(br)));
            } else {
                char id[16];
                snprintf(id, sizeof id, "n%08u", (unsigned)ps_bridge_dim_synset(br, c));
                ps_json_key(&j, "synset"); ps_json_str(&j, id);
                const uint16_t *cl;
                ps_json_key(&j, "imagenet_classes");
                ps_json_int(&j, (int64_t)ps_bridge_dim_classes(br, c, &cl));
            }
            ps_json_key(&j, "relevance"); ps_json_num(&j, qe[c]);
            ps_json_key(&j, "word");
            if (bw[c] >= 0)
                ps_json_str(&j, q->words[bw[c]].text);
            else
                ps_json_null(&j);
            ps_json_key(&j, "why"); ps_json_str(&j, ps_bridge_why_name((ps_bridge_why)why[c]));
            ps_json_end(&j);
        }
        ps_json_end(&j);
        /* The colour words' weights (zeroshot.h), named colours only. */
        size_t co = ps_zeroshot_color_offset(z);
        ps_json_key(&j, "colors");
        ps_json_obj(&j);
        for (int k = 0; k < PS_COLORS && qe; k++)
            if (qe[co + (size_t)k] > 0) {
                ps_json_key(&j, ps_color_name(k));
                ps_json_num(&j, qe[co + (size_t)k]);
            }
        ps_json_end(&j);
    }
    ps_json_end(&j);
    ps_buf_putc(b, '\n');
}

static void print_text(ps_buf *b, const ps_query *q, const ps_tokens *toks, const ps_zeroshot *z,
                       const class_rank *top, size_t ntop, const float *qe, const int *bw,
                       const unsigned char *why)
{
    ps_buf_printf(&*b, "tokens: %zu%s, stop words: %zu, content words: %zu\n", toks->n,
                  q->capped ? " (capped)" : "", q->nstop, q->nwords);
    for (size_t i = 0; i < q->nwords; i++) {
        const ps_query_word *w = &q->words[i];
        ps_buf_printf(b, "  %-20s lemma %-18s %-5s weight %.3f%s\n", w->text, w->lemma,
                      pos_name(w->pos), w->weight, w->vector_row == -1 ? "  (no vector)" : "");
    }
    size_t nu = ps_query_nunknown(q);
    if (nu) {
        ps_buf_puts(b, "words without a vector:");
        for (size_t i = 0; i < nu; i++)
            ps_buf_printf(b, " %s", ps_query_unknown(q, i));
        ps_buf_putc(b, '\n');
    }
    if (!q->has_vector)
        ps_buf_puts(b, "no query vector (no word has one)\n");
    if (z && ntop) {
        const ps_bridge *br = ps_zeroshot_bridge(z);
        ps_buf_puts(b, "most relevant concepts and classes:\n");
        for (size_t i = 0; i < ntop; i++) {
            size_t c = (size_t)top[i].cls;
            const uint16_t *cl;
            size_t ncl = ps_bridge_dim_classes(br, c, &cl);
            char below[32] = "";
            if (ncl > 1)
                snprintf(below, sizeof below, " (%zu classes)", ncl);
            ps_buf_printf(b, "  %.3f  %-8s %-30s %-14s %s %s\n", qe[c],
                          ps_bridge_dim_source(br, c) == PS_SRC_VOC ? "voc" : "imagenet",
                          ps_bridge_dim_label(br, c), below,
                          bw[c] >= 0 ? q->words[bw[c]].text : "",
                          ps_bridge_why_name((ps_bridge_why)why[c]));
        }
        size_t co = ps_zeroshot_color_offset(z);
        for (int k = 0; k < PS_COLORS; k++)
            if (qe[co + (size_t)k] > 0)
                ps_buf_printf(b, "  %.3f  %-8s %s\n", qe[co + (size_t)k], "color", ps_color_name(k));
    }
}

int cmd_embed_text(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},     {"classes", required_argument, NULL, OPT_CLASSES},
        {"no-idf", no_argument, NULL, OPT_NO_IDF}, {"models", required_argument, NULL, OPT_MODELS},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int json = 0, no_idf = 0, c;
    long nclasses = 0;
    const char *models = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case OPT_CLASSES:
            if (cli_parse_int(CMD, "--classes", optarg, 1, 10000, &nclasses))
                return PS_EXIT_USAGE;
            break;
        case OPT_NO_IDF: no_idf = 1; break;
        case OPT_MODELS: models = optarg; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(CMD, "unknown option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage(CMD, "expected one TEXT argument (or - for standard input)");
    ps_error err;
    char *text;
    size_t len;
    if (strcmp(argv[optind], "-") == 0) {
        text = cli_read_stdin(64u << 20, &len, &err);
        if (!text)
            return cli_fail(CMD, &err);
    } else {
        text = ps_xstrdup(argv[optind]);
        len = strlen(text);
    }
    ps_zs_config cfg;
    ps_zs_config_default(&cfg);
    if (no_idf)
        cfg.params.weighting = PS_QW_UNIFORM;
    char *mdir = ps_models_dir(models, &err);
    int rc = PS_EXIT_FAIL;
    ps_zeroshot *z = NULL;
    ps_query q = {0};
    ps_tokens toks = {0};
    float *qe = NULL;
    int *bw = NULL;
    unsigned char *why = NULL;
    class_rank *top = NULL;
    size_t ntop = 0;
    if (!mdir) {
        cli_fail(CMD, &err);
        goto out;
    }
    cfg.models_dir = mdir;
    if (!(z = ps_zeroshot_open(&cfg, &err))) {
        cli_fail(CMD, &err);
        goto out;
    }
    if (ps_query_parse(ps_zeroshot_query_model(z), text, len, &q, &err) ||
        ps_tokenize(text, len, PS_QUERY_MAX_TOKENS, &toks, &err)) {
        ps_error_prefix(&err, "text");
        cli_fail(CMD, &err);
        goto out;
    }
    if (nclasses && q.nwords) {
        qe = ps_xmalloc(ps_zeroshot_dim(z) * sizeof *qe);
        size_t nd = ps_bridge_ndims(ps_zeroshot_bridge(z));
        bw = ps_xmalloc(nd * sizeof *bw);
        why = ps_xmalloc(nd);
        if (ps_zeroshot_embed_parsed(z, &q, qe, bw, why, &err)) {
            cli_fail(CMD, &err);
            goto out;
        }
        top = ps_xmalloc(nd * sizeof *top);
        for (size_t k = 0; k < nd; k++)
            if (qe[k] > 0)
                top[ntop++] = (class_rank){(int)k, qe[k]};
        qsort(top, ntop, sizeof *top, cmp_rank);
        if (ntop > (size_t)nclasses)
            ntop = (size_t)nclasses;
    }
    ps_buf b = {0};
    const ps_zeroshot *zc = nclasses ? z : NULL;
    if (json)
        print_json(&b, text, len, &q, &toks, zc, top, ntop, qe, bw, why);
    else
        print_text(&b, &q, &toks, zc, top, ntop, qe, bw, why);
    rc = cli_write_stdout(&b);
    ps_buf_free(&b);
out:
    free(top);
    free(qe);
    free(bw);
    free(why);
    ps_tokens_free(&toks);
    ps_query_free(&q);
    ps_zeroshot_close(z);
    free(mdir);
    free(text);
    return rc;
}
