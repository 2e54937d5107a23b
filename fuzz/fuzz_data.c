/*
 * fuzz_data.c - libFuzzer target for picseek's data-file readers: the IDF
 * table (text/idf.h), WordNet sense counts (text/sensecount.h), the GloVe
 * JSON converter and the converted binary GloVe file (text/glove.h).  The
 * first byte picks the reader; the rest is the file.
 *
 * Besides "never crash, never read out of bounds" it checks properties:
 *   - a JSON file the converter accepts gives a binary file that opens,
 *     verifies, holds as many words as the converter said, and finds every
 *     word at its own row;
 *   - a binary file that opens has words that find themselves too;
 *   - sense counts: parsed + skipped never exceeds the number of lines;
 *   - IDF: every weight is finite and a listed lemma has df in [1, N].
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DPICSEEK_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_data && ./build-fuzz/fuzz_data -max_total_time=120
 * (or `bash fuzz/run fuzz_data`).  Files go to a private folder under
 * $TMPDIR (default /tmp), removed at every input.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/lines.h"
#include "text/glove.h"
#include "text/idf.h"
#include "text/sensecount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096]; /* the private folder, made once per process */

static const char *tmp_path(const char *name, char *buf, size_t n)
{
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/picseek-fuzz-data-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir))
            abort();
    }
    snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        abort();
}

/* Every word of an open GloVe file is found at its own row. */
static void check_words(const ps_glove *g)
{
    uint32_t n = ps_glove_count(g);
    for (uint32_t r = 0; r < n && r < 64; r++) {
        const char *w = ps_glove_word(g, r);
        if (ps_glove_find(g, w, strlen(w)) != (int64_t)r)
            abort();
        if (!isfinite(ps_glove_norm(g, r)))
            abort();
    }
}

static void fuzz_idf(const char *s, size_t n)
{
    ps_error err;
    ps_idf *t = ps_idf_parse("fuzz.tsv", s, n, &err);
    if (!t)
        return;
    size_t docs = ps_idf_documents(t);
    if (docs < 1 || !isfinite(ps_idf_weight(t, "dog")) || !isfinite(ps_idf_weight(t, "")))
        abort();
    /* The first lemma line's lemma, looked up. */
    ps_lines r;
    ps_lines_init(&r, s, n);
    const char *line;
    size_t len;
    int seen_docs = 0;
    while (ps_lines_next_data(&r, &line, &len)) {
        if (!seen_docs++)
            continue;
        const char *tab = memchr(line, '\t', len);
        if (!tab)
            abort(); /* parse accepted it, so it has one */
        char lemma[512];
        size_t k = (size_t)(tab - line);
        if (k >= sizeof lemma)
            abort();
        memcpy(lemma, line, k);
        lemma[k] = '\0';
        size_t df = ps_idf_df(t, lemma);
        if (df < 1 || df > docs || !isfinite(ps_idf_weight(t, lemma)))
            abort();
        break;
    }
    ps_idf_free(t);
}

static void fuzz_senses(const char *s, size_t n)
{
    ps_sense_counts *t = ps_sense_counts_parse(s, n);
    size_t lines = 0;
    ps_lines r;
    ps_lines_init(&r, s, n);
    const char *line;
    size_t len;
    while (ps_lines_next(&r, &line, &len))
        lines += len > 0;
    if (ps_sense_counts_size(t) + ps_sense_counts_skipped(t) > lines)
        abort();
    ps_sense_count(t, PS_WN_NOUN, "dog", 1);
    ps_sense_counts_free(t);
}

static void fuzz_glove_json(const char *s, size_t n)
{
    char in[4200], out[4200];
    tmp_path("in.json", in, sizeof in);
    tmp_path("out.bin", out, sizeof out);
    write_file(in, s, n);
    ps_error err;
    ps_glove_convert_info info;
    if (ps_glove_convert(in, out, NULL, &info, &err) == 0) {
        ps_glove *g = ps_glove_open(out, &err);
        if (!g || ps_glove_verify(g, &err) != 0 || ps_glove_count(g) != info.count ||
            ps_glove_dim(g) != info.dim)
            abort();
        check_words(g);
        ps_glove_close(g);
    } else if (access(out, F_OK) == 0) {
        abort(); /* a failed conversion leaves no file behind */
    }
    unlink(in);
    unlink(out);
}

static void fuzz_glove_bin(const char *s, size_t n)
{
    char path[4200];
    tmp_path("raw.bin", path, sizeof path);
    write_file(path, s, n);
    ps_error err;
    ps_glove *g = ps_glove_open(path, &err);
    if (g) {
        ps_glove_verify(g, &err);
        check_words(g);
        ps_glove_close(g);
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: fuzz_idf(s, n); break;
    case 1: fuzz_senses(s, n); break;
    case 2: fuzz_glove_json(s, n); break;
    default: fuzz_glove_bin(s, n); break;
    }
    return 0;
}
