/*
 * fuzz_csv.c - libFuzzer target for the CSV reader (src/data/csv.h).
 *
 * The first byte picks the separator and small limits, so that the limit
 * paths are reached too; the rest is the file.  Besides "never crash, never
 * read out of bounds" it checks a round-trip property: every record the
 * reader accepts, written back with ps_csv_write_field, reads back to the
 * same fields.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DPICSEEK_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_csv && ./build-fuzz/fuzz_csv -max_total_time=120
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "data/csv.h"

static void round_trip(const ps_csv *r, char sep)
{
    size_t nf = ps_csv_nfields(r);
    ps_buf b = {0};
    for (size_t i = 0; i < nf; i++) {
        size_t n;
        const char *f = ps_csv_field(r, i, &n);
        if (i)
            ps_buf_putc(&b, sep);
        ps_csv_write_field(&b, f, n, sep);
    }
    ps_buf_putc(&b, '\n');
    ps_csv back;
    ps_error err;
    ps_csv_opts o = {.sep = sep, .nfields = nf};
    if (ps_csv_open(&back, "rt", b.data, b.len, &o, &err) != 0)
        abort();
    if (ps_csv_next(&back, &err) != PS_CSV_RECORD || ps_csv_nfields(&back) != nf)
        abort();
    for (size_t i = 0; i < nf; i++) {
        size_t n1, n2;
        const char *f1 = ps_csv_field(r, i, &n1), *f2 = ps_csv_field(&back, i, &n2);
        if (n1 != n2 || memcmp(f1, f2, n1) != 0)
            abort();
    }
    if (ps_csv_next(&back, &err) != PS_CSV_END)
        abort();
    ps_csv_close(&back);
    ps_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char SEPS[] = {',', '\t', '|', ';'};
    uint8_t ctl = data[0];
    ps_csv_opts o = {.sep = SEPS[ctl & 3]};
    if (ctl & 4)
        o.max_field = 16;
    if (ctl & 8)
        o.max_record = 40;
    if (ctl & 16)
        o.max_fields = 4;
    if (ctl & 32)
        o.nfields = 3;
    o.allow_empty = (ctl & 64) != 0;
    /* a copy of exactly `size` bytes, so ASan sees any read past the end */
    size_t len = size - 1;
    char *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, data + 1, len);
    ps_csv r;
    ps_error err;
    if (ps_csv_open(&r, "fuzz.csv", copy, len, &o, &err) == 0) {
        int rc;
        size_t guard = 0;
        while ((rc = ps_csv_next(&r, &err)) != PS_CSV_END && rc != PS_CSV_ERROR) {
            if (rc == PS_CSV_RECORD)
                round_trip(&r, o.sep);
            if (++guard > len + 1)
                abort(); /* each record consumes at least one byte */
        }
        ps_csv_close(&r);
    }
    free(copy);
    return 0;
}
