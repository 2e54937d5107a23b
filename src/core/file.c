#define _GNU_SOURCE
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

char *ps_read_file(const char *path, size_t max_bytes, size_t *len_out, ps_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ps_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ps_errorf(err, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        ps_errorf(err, "%s: file is %lld bytes, more than the limit of %zu", path,
                  (long long)st.st_size, max_bytes);
        close(fd);
        return NULL;
    }
    /* Read until EOF rather than trusting st_size: the file may change. */
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *data = ps_xmalloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max_bytes + 1) {
                ps_errorf(err, "%s: file grew beyond the limit of %zu bytes", path, max_bytes);
                free(data);
                close(fd);
                return NULL;
            }
            cap = cap * 2;
            data = ps_xrealloc(data, cap);
        }
        ssize_t r = read(fd, data + len, cap - 1 - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            ps_errorf(err, "%s: read error at byte offset %zu: %s", path, len, strerror(errno));
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len > max_bytes) {
        ps_errorf(err, "%s: file grew beyond the limit of %zu bytes", path, max_bytes);
        free(data);
        return NULL;
    }
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
}

int ps_map_file(const char *path, ps_map *m, ps_error *err)
{
    m->data = NULL;
    m->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ps_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ps_errorf(err, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return ps_errorf(err, "%s: file is empty", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return ps_errorf(err, "%s: cannot map: %s", path, strerror(errno));
    m->data = p;
    m->len = (size_t)st.st_size;
    return 0;
}

void ps_unmap(ps_map *m)
{
    if (m->data)
        munmap((void *)m->data, m->len);
    m->data = NULL;
    m->len = 0;
}

int ps_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int ps_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *ps_path_join(const char *dir, const char *name)
{
    ps_buf b = {0};
    ps_buf_puts(&b, dir);
    if (b.len && b.data[b.len - 1] != '/')
        ps_buf_putc(&b, '/');
    ps_buf_puts(&b, name);
    return ps_buf_steal(&b);
}

int ps_write_file_atomic(const char *path, const void *data, size_t len, ps_error *err)
{
    ps_buf tmp = {0};
    ps_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ps_errorf(err, "%s: cannot create: %s", tmp.data, strerror(errno));
        ps_buf_free(&tmp);
        return -1;
    }
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ps_errorf(err, "%s: write error at byte offset %zu: %s", tmp.data, off, strerror(errno));
            close(fd);
            unlink(tmp.data);
            ps_buf_free(&tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        ps_errorf(err, "%s: cannot flush: %s", tmp.data, strerror(errno));
        unlink(tmp.data);
        ps_buf_free(&tmp);
        return -1;
    }
    if (rename(tmp.data, path) != 0) {
        ps_errorf(err, "%s: cannot rename into place: %s", path, strerror(errno));
        unlink(tmp.data);
        ps_buf_free(&tmp);
        return -1;
    }
    ps_buf_free(&tmp);
    return 0;
}
