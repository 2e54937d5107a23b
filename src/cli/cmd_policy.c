/*
 * cmd_policy.c - `picseek policy check TEXT`: apply the content rule to a
 * text and say whether it is blocked, and by which lexicon entries.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/json.h"
#include "policy/policy.h"

#define STDIN_MAX_BYTES (64u << 20)

static void help(void)
{
    printf(
        "usage: picseek policy check [--json] [--lexicon FILE] [--] TEXT\n"
        "\n"
        "Apply picseek's content rule to TEXT: is it about children under 16?\n"
        "\n"
        "The text is split into words (Unicode case-folded; punctuation and hyphens\n"
        "split words) and each word is reduced to its WordNet noun lemmas\n"
        "(\"children\" -> child, \"babies\" -> baby).  The text is blocked when a word, or\n"
        "a run of words, equals an entry of the lexicon, unless the match lies inside\n"
        "one of the lexicon's exemptions (\"baby grand\").  Whole words only: \"cowboy\"\n"
        "and \"kidney\" do not match \"boy\" and \"kid\".  A blocked search shows, instead\n"
        "of results:\n"
        "  " PS_POLICY_DISCLAIMER "\n"
        "See docs/POLICY.md for the lexicon's choices.\n"
        "\n"
        "Arguments:\n"
        "  TEXT            the text to check (UTF-8); '-' reads it from standard input\n"
        "                  (at most 64 MiB).  Use '--' before a TEXT that starts with '-'.\n"
        "\n"
        "Options:\n"
        "  --json          print {\"text\": ..., \"blocked\": true|false, \"matched\": [...]}\n"
        "                  on one line; \"matched\" lists the lexicon entries found, in\n"
        "                  text order, at most %d\n"
        "  --lexicon FILE  use FILE as the lexicon (default: $PICSEEK_LEXICON, else\n"
        "                  data/child_lexicon.txt in the source tree)\n"
        "  -h, --help      show this help\n"
        "\n"
        "Output (without --json): 'blocked: ENTRY, ...' or 'allowed'.\n"
        "\n"
        "Environment:\n"
        "  PICSEEK_LEXICON  the default lexicon file\n"
        "  WNSEARCHDIR      the WordNet 3.0 database folder (default /usr/share/wordnet,\n"
        "                   from Debian's wordnet-base)\n"
        "\n"
        "Examples:\n"
        "  picseek policy check \"Two kids play in the sand\"       # blocked: kid\n"
        "  picseek policy check \"A cowboy rides a horse\"          # allowed\n"
        "  picseek policy check --json \"The children are running\"\n"
        "  picseek policy check --json - < caption.txt\n"
        "\n"
        "Exit status: 0 when the text was checked, blocked or not (being blocked is a\n"
        "result, not a failure); 1 when it could not be (invalid UTF-8, unreadable\n"
        "lexicon or WordNet files); 2 on a usage error.\n",
        PS_POLICY_MAX_MATCHES);
}

static int check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"lexicon", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    const char *lexicon = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'l': lexicon = optarg; break;
        case 'h': help(); return PS_EXIT_OK;
        default:
            return cli_usage("policy", "check: unknown option or missing value: '%s'",
                             argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage("policy", "check needs exactly one TEXT (got %d)", argc - optind);

    ps_error err = {{0}};
    const char *arg = argv[optind];
    char *owned = NULL;
    size_t len;
    if (strcmp(arg, "-") == 0) {
        owned = cli_read_stdin(STDIN_MAX_BYTES, &len, &err);
        if (!owned)
            return cli_fail("policy", &err);
        arg = owned;
    } else {
        len = strlen(arg);
    }

    ps_policy *p = ps_policy_load(lexicon, &err);
    if (!p) {
        free(owned);
        return cli_fail("policy", &err);
    }
    ps_policy_result r;
    int rc = ps_policy_check(p, arg, len, &r, &err);
    ps_policy_free(p);
    if (rc) {
        free(owned);
        ps_error_prefix(&err, "text");
        return cli_fail("policy", &err);
    }

    ps_buf out = {0};
    if (json) {
        ps_json j;
        ps_json_init(&j, &out, 0);
        ps_json_obj(&j);
        ps_json_key(&j, "text");
        ps_json_strn(&j, arg, len);
        ps_json_key(&j, "blocked");
        ps_json_bool(&j, r.blocked);
        ps_json_key(&j, "matched");
        ps_json_arr(&j);
        for (int i = 0; i < r.nmatched; i++)
            ps_json_str(&j, r.matched[i]);
        ps_json_end(&j);
        ps_json_end(&j);
        ps_buf_putc(&out, '\n');
    } else if (r.blocked) {
        ps_buf_puts(&out, "blocked: ");
        for (int i = 0; i < r.nmatched; i++)
            ps_buf_printf(&out, "%s%s", i ? ", " : "", r.matched[i]);
        ps_buf_putc(&out, '\n');
    } else {
        ps_buf_puts(&out, "allowed\n");
    }
    free(owned);
    rc = cli_write_stdout(&out);
    ps_buf_free(&out);
    return rc;
}

int cmd_policy(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("policy", "missing subcommand (check)");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        help();
        return PS_EXIT_OK;
    }
    if (strcmp(sub, "check") == 0)
        return check(argc - 1, argv + 1);
    return cli_usage("policy", "unknown subcommand '%s' (expected: check)", sub);
}
