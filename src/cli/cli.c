#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "picseek %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'picseek %s --help'.\n", cmd);
    va_end(ap);
    return PS_EXIT_USAGE;
}

int cli_fail(const char *cmd, const ps_error *err)
{
    fprintf(stderr, "picseek %s: error: %s\n", cmd, err && err->msg[0] ? err->msg : "failed");
    return PS_EXIT_FAIL;
}

int cli_failf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "picseek %s: error: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return PS_EXIT_FAIL;
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "picseek %s: warning: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_write_stdout(const ps_buf *b)
{
    if (b->len && fwrite(b->data, 1, b->len, stdout) != b->len)
        return PS_EXIT_FAIL;
    return fflush(stdout) == 0 ? PS_EXIT_OK : PS_EXIT_FAIL;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        cli_usage(cmd, "%s: '%s' is not a whole number from %ld to %ld", opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

char *cli_read_stdin(size_t max_bytes, size_t *len, ps_error *err)
{
    ps_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
        if (b.len + n > max_bytes) {
            ps_buf_free(&b);
            ps_errorf(err, "standard input: more than %zu bytes", max_bytes);
            return NULL;
        }
        ps_buf_append(&b, chunk, n);
    }
    if (ferror(stdin)) {
        ps_buf_free(&b);
        ps_errorf(err, "standard input: read error");
        return NULL;
    }
    *len = b.len;
    return b.data ? ps_buf_steal(&b) : ps_xstrdup("");
}
