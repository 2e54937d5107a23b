/*
 * eval.h - the subcommands of `picseek eval` (cmd_eval.c dispatches; argv[0]
 * is the subcommand's name).
 */
#ifndef PS_CLI_EVAL_H
#define PS_CLI_EVAL_H

/* `picseek eval model`: eval_model.c. */
int eval_model_main(int argc, char **argv);

#endif
