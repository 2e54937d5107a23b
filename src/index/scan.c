/*
 * scan.c - the recursive folder walk (see scan.h).
 */
#include "index/scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"

/* Deeper than any real photo library; stops runaway recursion. */
#define SCAN_MAX_DEPTH 128

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct walker {
    ps_scan *out;
    const char *const *exclude;
    size_t nexclude;
    dir_id *seen; /* open-addressing hash set of directories entered */
    size_t nseen, capseen;   /* capseen is a power of two */
} walker;

static void add_problem(ps_scan *s, const char *rel, const char *what)
{
    if (s->nproblems == s->cap_problems) {
        s->cap_problems = s->cap_problems ? 2 * s->cap_problems : 8;
        s->problems = ps_xrealloc(s->problems, s->cap_problems * sizeof *s->problems);
    }
    ps_buf b = {0};
    ps_buf_printf(&b, "%s: %s", rel[0] ? rel : ".", what);
    s->problems[s->nproblems++] = ps_buf_steal(&b);
}

static void add_unreadable(ps_scan *s, const char *rel)
{
    if (s->nunreadable == s->cap_unreadable) {
        s->cap_unreadable = s->cap_unreadable ? 2 * s->cap_unreadable : 4;
        s->unreadable = ps_xrealloc(s->unreadable, s->cap_unreadable * sizeof *s->unreadable);
    }
    s->unreadable[s->nunreadable++] = ps_xstrdup(rel);
}

static void add_file(ps_scan *s, const char *rel, const struct stat *st)
{
    if (s->nfiles == s->cap_files) {
        s->cap_files = s->cap_files ? 2 * s->cap_files : 64;
        s->files = ps_xrealloc(s->files, s->cap_files * sizeof *s->files);
    }
    ps_scan_file *f = &s->files[s->nfiles++];
    f->rel = ps_xstrdup(rel);
    f->size = (int64_t)st->st_size;
    f->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static size_t dir_hash(dev_t dev, ino_t ino)
{
    uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

static int seen_insert(dir_id *set, size_t cap, dev_t dev, ino_t ino)
{
    size_t i = dir_hash(dev, ino) & (cap - 1);
    while (set[i].ino || set[i].dev) {
        if (set[i].dev == dev && set[i].ino == ino)
            return 0;
        i = (i + 1) & (cap - 1);
    }
    set[i].dev = dev;
    set[i].ino = ino;
    return 1;
}

/* Remember a directory; returns 0 if it was entered before.  (Inode 0
 * with device 0 marks an empty slot; no real directory has both.) */
static int mark_seen(walker *w, const struct stat *st)
{
    if (2 * (w->nseen + 1) > w->capseen) {
        size_t ncap = w->capseen ? 2 * w->capseen : 64;
        dir_id *nset = ps_xcalloc(ncap, sizeof *nset);
        for (size_t i = 0; i < w->capseen; i++)
            if (w->seen[i].ino || w->seen[i].dev)
                seen_insert(nset, ncap, w->seen[i].dev, w->seen[i].ino);
        free(w->seen);
        w->seen = nset;
        w->capseen = ncap;
    }
    if (!seen_insert(w->seen, w->capseen, st->st_dev, st->st_ino))
        return 0;
    w->nseen++;
    return 1;
}

static int excluded(const walker *w, const char *rel)
{
    for (size_t i = 0; i < w->nexclude; i++)
        if (strcmp(w->exclude[i], rel) == 0)
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_rel(const char *rel, const char *name)
{
    if (!rel[0])
        return ps_xstrdup(name);
    ps_buf b = {0};
    ps_buf_printf(&b, "%s/%s", rel, name);
    return ps_buf_steal(&b);
}

/* Read the names in one directory, sorted.  Returns NULL (and records the
 * problem) when the directory cannot be read. */
static char **list_dir(walker *w, const char *abs, const char *rel, size_t *n_out)
{
    DIR *d = opendir(abs);
    if (!d) {
        ps_buf b = {0};
        ps_buf_printf(&b, "cannot read folder: %s", strerror(errno));
        add_problem(w->out, rel, b.data);
        add_unreadable(w->out, rel);
        ps_buf_free(&b);
        return NULL;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            names = ps_xrealloc(names, cap * sizeof *names);
        }
        names[n++] = ps_xstrdup(de->d_name);
        errno = 0;
    }
    if (errno) {
        /* A partial listing would make the indexer think files were
         * deleted: treat the folder as unreadable. */
        ps_buf b = {0};
        ps_buf_printf(&b, "error while reading folder: %s", strerror(errno));
        add_problem(w->out, rel, b.data);
        add_unreadable(w->out, rel);
        ps_buf_free(&b);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    *n_out = n;
    return names ? names : ps_xcalloc(1, sizeof *names);
}

static void walk(walker *w, const char *abs, const char *rel, int depth)
{
    if (depth > SCAN_MAX_DEPTH) {
        add_problem(w->out, rel, "folders nested too deeply; not entered");
        add_unreadable(w->out, rel);
        return;
    }
    size_t n = 0;
    char **names = list_dir(w, abs, rel, &n);
    if (!names)
        return;
    for (size_t i = 0; i < n; i++) {
        char *cabs = ps_path_join(abs, names[i]);
        char *crel = join_rel(rel, names[i]);
        struct stat st;
        if (stat(cabs, &st) != 0) {
            int e = errno;
            struct stat lst;
            if (lstat(cabs, &lst) == 0 && S_ISLNK(lst.st_mode))
                add_problem(w->out, crel,
                            e == ELOOP ? "symbolic link loop; skipped" : "dangling symbolic link; skipped");
            else
                add_problem(w->out, crel, strerror(e));
        } else if (S_ISDIR(st.st_mode)) {
            if (mark_seen(w, &st))
                walk(w, cabs, crel, depth + 1);
            else
                add_problem(w->out, crel,
                            "folder already visited through another link (symbolic link loop?); skipped");
        } else if (S_ISREG(st.st_mode) && !excluded(w, crel)) {
            add_file(w->out, crel, &st);
        }
        free(cabs);
        free(crel);
        free(names[i]);
    }
    free(names);
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const ps_scan_file *)a)->rel, ((const ps_scan_file *)b)->rel);
}

int ps_scan_dir(const char *root, const char *const *exclude, size_t nexclude, ps_scan *out,
                ps_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(root, &st) != 0)
        return ps_errorf(err, "%s: cannot open folder: %s", root, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ps_errorf(err, "%s: not a folder", root);
    DIR *d = opendir(root);
    if (!d)
        return ps_errorf(err, "%s: cannot read folder: %s", root, strerror(errno));
    closedir(d);
    walker w = {.out = out, .exclude = exclude, .nexclude = nexclude};
    mark_seen(&w, &st);
    walk(&w, root, "", 0);
    free(w.seen);
    if (out->nfiles)
        qsort(out->files, out->nfiles, sizeof *out->files, cmp_file);
    return 0;
}

void ps_scan_free(ps_scan *s)
{
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i].rel);
    for (size_t i = 0; i < s->nproblems; i++)
        free(s->problems[i]);
    for (size_t i = 0; i < s->nunreadable; i++)
        free(s->unreadable[i]);
    free(s->files);
    free(s->problems);
    free(s->unreadable);
    memset(s, 0, sizeof *s);
}

int ps_scan_in_unreadable(const ps_scan *s, const char *rel)
{
    for (size_t i = 0; i < s->nunreadable; i++) {
        const char *u = s->unreadable[i];
        size_t n = strlen(u);
        if (n == 0)
            return 1;
        if (strncmp(rel, u, n) == 0 && rel[n] == '/')
            return 1;
    }
    return 0;
}
