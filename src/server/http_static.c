/*
 * http_static.c - load the web page's fixed set of files (http_static.h).
 */
#include "server/http_static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/sha256.h"
#include "server/http_parse.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *ps_web_content_type(const char *name)
{
    if (ends_with(name, ".html"))
        return "text/html; charset=utf-8";
    if (ends_with(name, ".js"))
        return "text/javascript; charset=utf-8";
    if (ends_with(name, ".css"))
        return "text/css; charset=utf-8";
    if (ends_with(name, ".svg"))
        return "image/svg+xml";
    return "application/octet-stream";
}

int ps_web_load(const char *dir, ps_web *w, ps_error *err)
{
    memset(w, 0, sizeof *w);
    for (size_t i = 0; PS_WEB_FILES[i] && i < PS_WEB_MAX_FILES; i++) {
        char *path = ps_path_join(dir, PS_WEB_FILES[i]);
        ps_web_file *f = &w->files[w->n];
        f->data = ps_read_file(path, PS_WEB_FILE_MAX_BYTES, &f->len, err);
        free(path);
        if (!f->data) {
            ps_error_prefix(err, "the web page's files (--web DIR)");
            ps_web_free(w);
            return -1;
        }
        f->name = PS_WEB_FILES[i];
        f->content_type = ps_web_content_type(f->name);
        char hex[65];
        ps_sha256_hex(f->data, f->len, hex);
        snprintf(f->etag, sizeof f->etag, "\"%.16s\"", hex);
        w->n++;
    }
    return 0;
}

const ps_web_file *ps_web_find(const ps_web *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (strcmp(w->files[i].name, name) == 0)
            return &w->files[i];
    return NULL;
}

void ps_web_free(ps_web *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->files[i].data);
    memset(w, 0, sizeof *w);
}
