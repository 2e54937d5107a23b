/*
 * scan.h - list the regular files under a folder, recursively.
 *
 * The walk follows symbolic links (a photo library often links folders in)
 * but enters each directory (device + inode) at most once, so link loops
 * and duplicate links end.  Problems below the root are collected, never
 * fatal: an unreadable folder, a dangling link, a loop.  Only regular files
 * are listed; fifos, sockets and devices are ignored.  The list is sorted
 * by relative path (bytewise), so every run sees the same order.
 *
 * Ownership: ps_scan_dir fills a ps_scan the caller releases with
 * ps_scan_free.
 */
#ifndef PS_INDEX_SCAN_H
#define PS_INDEX_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ps_scan_file {
    char *rel;        /* path relative to the root, '/'-separated */
    int64_t size;     /* bytes */
    int64_t mtime_ns; /* modification time, nanoseconds since the epoch */
} ps_scan_file;

typedef struct ps_scan {
    ps_scan_file *files;
    size_t nfiles;
    /* Human-readable problems, e.g. "holiday/private: cannot read folder:
     * Permission denied". */
    char **problems;
    size_t nproblems;
    /* Relative paths of folders that could not be read ("" = none); files
     * indexed under them before must not be taken as deleted. */
    char **unreadable;
    size_t nunreadable;
    size_t cap_files, cap_problems, cap_unreadable;
} ps_scan;

/* Walk `root` (a directory).  Files whose relative path is in exclude[0..n)
 * are left out (the index database itself when it lives under the root).
 * Fails only when root itself cannot be read. */
int ps_scan_dir(const char *root, const char *const *exclude, size_t nexclude, ps_scan *out,
                ps_error *err);
void ps_scan_free(ps_scan *s);

/* 1 if rel lies in one of the unreadable folders. */
int ps_scan_in_unreadable(const ps_scan *s, const char *rel);

#endif
