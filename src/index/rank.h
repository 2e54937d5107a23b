/*
 * rank.h - the hot loop of a search: score every photo embedding against
 * the query embedding and keep the k best, in one pass over the matrix.
 *
 * The matrix is row-major, `stride` values per row (the dimension rounded
 * up to a multiple of 8 and zero-padded), 32-byte aligned, so the dot
 * products run on whole AVX2 registers.  Rows are float32, or float16 with
 * a float32 scale per row (value = scale * half): half the memory and half
 * the memory traffic, which is what a scan of 100k x 1122 values is bound
 * by.  The per-row scale (the row's largest magnitude) keeps every row in
 * float16's range and its relative precision (2^-11 of the row's largest
 * value).
 *
 * Selection keeps a min-heap of k entries (O(n log k)); ties go to the
 * lower row index so results are deterministic.  NaN scores rank last.
 */
#ifndef PS_INDEX_RANK_H
#define PS_INDEX_RANK_H

#include <stddef.h>
#include <stdint.h>

#define PS_RANK_ALIGN 32

typedef struct ps_ranked {
    uint32_t row;
    float raw;
} ps_ranked;

typedef struct ps_rank_matrix {
    size_t rows, stride;
    const float *f32;    /* rows x stride floats, or NULL when f16 is used */
    const uint16_t *f16; /* rows x stride halves */
    const float *scale;  /* rows scales (f16 only) */
} ps_rank_matrix;

/* dim rounded up to a multiple of 8. */
size_t ps_rank_stride(size_t dim);

/* Dot product of a stride-length, aligned float16 row and float32 vector.
 * (Float32 rows use ps_dot_f32 from learn/linalg.h.) */
float ps_rank_dot_f16(const uint16_t *a, const float *b, size_t stride);

/* Convert one float32 row to float16 and its scale. */
void ps_rank_row_to_f16(const float *src, size_t stride, uint16_t *dst, float *scale);

/* The best min(k, row1-row0) rows of [row0, row1) against q, best first,
 * into out (k entries). */
size_t ps_rank_topk(const ps_rank_matrix *m, size_t row0, size_t row1, const float *q, size_t k,
                    ps_ranked *out);

/* Sort n candidates best first and keep the best k; returns min(n, k). */
size_t ps_rank_merge(ps_ranked *cand, size_t n, size_t k);

#endif
