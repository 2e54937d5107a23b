#include "data/photos.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"

const char *ps_photo_sniff(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "jpeg";
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "webp";
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_skipped(const void *a, const void *b)
{
    return strcmp(((const ps_skipped_file *)a)->path, ((const ps_skipped_file *)b)->path);
}

static void add_skipped(ps_photo_list *l, size_t *cap, char *path, const char *reason)
{
    if (l->nskipped == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        l->skipped = ps_xrealloc(l->skipped, *cap * sizeof *l->skipped);
    }
    l->skipped[l->nskipped].path = path;
    l->skipped[l->nskipped].reason = ps_xstrdup(reason);
    l->nskipped++;
}

/* Why `path` is not a photo, in `why` (empty string if it is one). */
static void classify(const char *path, char *why, size_t whylen)
{
    why[0] = '\0';
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "cannot stat: %s", strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return;
    }
    unsigned char head[12];
    ssize_t got = 0;
    while (got < (ssize_t)sizeof head) {
        ssize_t r = read(fd, head + got, sizeof head - (size_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += r;
    }
    close(fd);
    if (got == 0) {
        snprintf(why, whylen, "empty file, not an image");
        return;
    }
    if (ps_photo_sniff(head, (size_t)got))
        return;
    int k = snprintf(why, whylen, "not a JPEG, PNG or WebP image (first bytes");
    for (ssize_t i = 0; i < got && i < 4 && k > 0 && (size_t)k < whylen; i++)
        k += snprintf(why + k, whylen - (size_t)k, " %02x", head[i]);
    if (k > 0 && (size_t)k < whylen)
        snprintf(why + k, whylen - (size_t)k, ")");
}

int ps_photo_list_dir(const char *dir, ps_photo_list *out, ps_error *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return ps_errorf(err, "%s: cannot open folder: %s", dir, strerror(errno));
    size_t cap = 0, skcap = 0, entries = 0;
    struct dirent *e;
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (!e)
            break;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (++entries > PS_PHOTO_MAX_FILES) {
            closedir(d);
            ps_photo_list_free(out);
            return ps_errorf(err, "%s: more than %d entries in the folder", dir,
                             PS_PHOTO_MAX_FILES);
        }
        char *path = ps_path_join(dir, e->d_name);
        char why[128];
        classify(path, why, sizeof why);
        if (why[0]) {
            add_skipped(out, &skcap, path, why);
            continue;
        }
        free(path);
        if (out->n == cap) {
            cap = cap ? cap * 2 : 256;
            out->names = ps_xrealloc(out->names, cap * sizeof *out->names);
        }
        out->names[out->n++] = ps_xstrdup(e->d_name);
    }
    int read_errno = errno;
    closedir(d);
    if (read_errno) {
        ps_photo_list_free(out);
        return ps_errorf(err, "%s: cannot read folder: %s", dir, strerror(read_errno));
    }
    if (out->n)
        qsort(out->names, out->n, sizeof *out->names, cmp_str);
    if (out->nskipped)
        qsort(out->skipped, out->nskipped, sizeof *out->skipped, cmp_skipped);
    return 0;
}

int ps_photo_list_has(const ps_photo_list *l, const char *name)
{
    return l->n && bsearch(&name, l->names, l->n, sizeof *l->names, cmp_str) != NULL;
}

void ps_photo_list_free(ps_photo_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    for (size_t i = 0; i < l->nskipped; i++) {
        free(l->skipped[i].path);
        free(l->skipped[i].reason);
    }
    free(l->skipped);
    memset(l, 0, sizeof *l);
}
