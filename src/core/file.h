/*
 * file.h - bounded whole-file reads and read-only memory maps.
 */
#ifndef PS_CORE_FILE_H
#define PS_CORE_FILE_H

#include <stddef.h>

#include "core/error.h"

/* Read all of `path` into a new NUL-terminated buffer (caller frees).
 * Fails with "path: reason" if the file is missing, unreadable, not a
 * regular file, or larger than max_bytes. */
char *ps_read_file(const char *path, size_t max_bytes, size_t *len_out, ps_error *err);

/* A read-only mapping of a whole file.  ps_unmap() releases it. */
typedef struct ps_map {
    const unsigned char *data;
    size_t len;
} ps_map;

int ps_map_file(const char *path, ps_map *m, ps_error *err);
void ps_unmap(ps_map *m);

/* 1 if path exists and is a regular file / directory. */
int ps_is_file(const char *path);
int ps_is_dir(const char *path);

/* Join a directory and a name into a new string (caller frees). */
char *ps_path_join(const char *dir, const char *name);

/* Write `len` bytes to `path` atomically: write to path.tmp.PID, fsync,
 * rename.  A crash leaves either the old file or the new one. */
int ps_write_file_atomic(const char *path, const void *data, size_t len, ps_error *err);

#endif
