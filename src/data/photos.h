/*
 * photos.h - list the photos in a folder, telling real images from the
 * stray files that photo folders collect (.DS_Store, Thumbs.db, notes).
 *
 * A file counts as a photo when its first bytes are a JPEG, PNG or WebP
 * signature; the name is not trusted.  Everything else in the folder is
 * reported in `skipped` with a reason, never dropped silently.  Names are
 * sorted bytewise so listings are reproducible.
 *
 * Ownership: ps_photo_list owns its strings; ps_photo_list_free releases
 * them.
 */
#ifndef PS_DATA_PHOTOS_H
#define PS_DATA_PHOTOS_H

#include <stddef.h>

#include "core/error.h"

#define PS_PHOTO_MAX_FILES 1000000   /* entries per folder */

typedef struct ps_skipped_file {
    char *path;      /* folder/name */
    char *reason;    /* e.g. "not a JPEG, PNG or WebP image (first bytes 00 00 00 01)" */
} ps_skipped_file;

typedef struct ps_photo_list {
    char **names;                 /* file names (not paths), sorted */
    size_t n;
    ps_skipped_file *skipped;     /* in name order */
    size_t nskipped;
} ps_photo_list;

/* The image format that the first n bytes announce: "jpeg", "png", "webp",
 * or NULL. */
const char *ps_photo_sniff(const unsigned char *p, size_t n);

/* List `dir`.  Fails if the folder cannot be read or holds more than
 * PS_PHOTO_MAX_FILES entries. */
int ps_photo_list_dir(const char *dir, ps_photo_list *out, ps_error *err);

/* 1 if name (a file name) is in the list (binary search). */
int ps_photo_list_has(const ps_photo_list *l, const char *name);

void ps_photo_list_free(ps_photo_list *l);

#endif
