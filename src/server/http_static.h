/*
 * http_static.h - the web page's files (PS_WEB_FILES in http_parse.h),
 * read once from the web folder when the server starts and served from
 * memory.  Only that fixed list exists: the folder is never listed, and no
 * name from a request is ever joined to it.
 *
 * Ownership: ps_web_load fills a ps_web that owns the bytes; ps_web_free
 * releases them.  Immutable after loading, so shared by all threads.
 */
#ifndef PS_SERVER_HTTP_STATIC_H
#define PS_SERVER_HTTP_STATIC_H

#include <stddef.h>

#include "core/error.h"

#define PS_WEB_MAX_FILES 8
#define PS_WEB_FILE_MAX_BYTES ((size_t)1 << 20)

typedef struct ps_web_file {
    const char *name;         /* static string from PS_WEB_FILES */
    const char *content_type; /* "text/html; charset=utf-8", ... */
    char *data;
    size_t len;
    char etag[24];            /* "\"<16 hex digits of SHA-256>\"" */
} ps_web_file;

typedef struct ps_web {
    ps_web_file files[PS_WEB_MAX_FILES];
    size_t n;
} ps_web;

/* Read every file of PS_WEB_FILES from dir.  Fails naming the first file
 * that is missing, unreadable or larger than PS_WEB_FILE_MAX_BYTES. */
int ps_web_load(const char *dir, ps_web *w, ps_error *err);
const ps_web_file *ps_web_find(const ps_web *w, const char *name);
void ps_web_free(ps_web *w);

/* Content-Type for a file name by its extension (web files only). */
const char *ps_web_content_type(const char *name);

#endif
