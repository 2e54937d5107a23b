/*
 * cmd_eval.c - `picseek eval SUBCOMMAND`: measure picseek's scores on the
 * annotated dataset.  Each subcommand lives in its own file (eval.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/eval.h"

static const char HELP[] =
    "NAME\n"
    "    picseek eval - measure picseek's scores on the annotated dataset\n"
    "\n"
    "SYNOPSIS\n"
    "    picseek eval model [options]   learned relevance models: regression,\n"
    "                                   rank correlation and retrieval metrics\n"
    "\n"
    "    `picseek eval SUBCOMMAND --help` describes each.\n"
    "\n"
    "EXIT STATUS\n"
    "    that of the subcommand; 2 for an unknown subcommand.\n";

int cmd_eval(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("eval", "expected a subcommand (model)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(HELP, stdout);
        return PS_EXIT_OK;
    }
    if (strcmp(argv[1], "model") == 0)
        return eval_model_main(argc - 1, argv + 1);
    return cli_usage("eval", "unknown subcommand '%s' (known: model)", argv[1]);
}
