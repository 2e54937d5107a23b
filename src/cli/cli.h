/*
 * cli.h - what every picseek command shares: exit codes, error reporting,
 * option parsing helpers and JSON output.
 *
 * A command is `int cmd_NAME(int argc, char **argv)` where argv[0] is the
 * command name; it returns the process exit status.
 */
#ifndef PS_CLI_H
#define PS_CLI_H

#include <stdio.h>

#include "core/buf.h"
#include "core/error.h"

enum { PS_EXIT_OK = 0, PS_EXIT_FAIL = 1, PS_EXIT_USAGE = 2 };

/* "picseek CMD: message" + a pointer to --help on stderr; returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...) PS_PRINTF(2, 3);
/* "picseek CMD: error: message" on stderr; returns 1. */
int cli_fail(const char *cmd, const ps_error *err);
int cli_failf(const char *cmd, const char *fmt, ...) PS_PRINTF(2, 3);
/* Print a warning line on stderr. */
void cli_warn(const char *cmd, const char *fmt, ...) PS_PRINTF(2, 3);

/* All of standard input (at most max_bytes) as a new NUL-terminated string
 * (caller frees); NULL with "standard input: ..." on error or overflow. */
char *cli_read_stdin(size_t max_bytes, size_t *len, ps_error *err);

/* Write b to stdout; returns 0, or 1 if stdout failed (e.g. a closed pipe). */
int cli_write_stdout(const ps_buf *b);

/* Parse a non-negative integer option value within [min,max]; on failure
 * prints a usage error and returns -1. */
int cli_parse_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);

/* Each command lists itself in commands.h. */
#define PS_CMD(name, summary) int cmd_##name(int argc, char **argv);
#include "cli/commands.h"
#undef PS_CMD

#endif
