/*
 * rank.h - the hot loop of a search: score every photo embedding against
 * the query embedding and keep the k best, in one pass over the matrix.
 *
 * The matrix is row-major, `stride` floats per row (the dimension rounded
 * up to a multiple of 8 and zero-padded), 32-byte aligned, so the dot
 * products run on whole AVX2 registers.  Selection keeps a min-heap of k
 * entries (O(n log k)); ties go to the lower row index so results are
 * deterministic.  NaN scores rank last.
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

/* dim rounded up to a multiple of 8. */
size_t ps_rank_stride(size_t dim);

/* Dot product of two stride-length, 32-byte aligned vectors. */
float ps_dot_f32(const float *a, const float *b, size_t stride);

/* The best min(k, rows) rows of mat against q, best first, into out. */
size_t ps_rank_topk(const float *mat, size_t rows, size_t stride, const float *q, size_t k,
                    ps_ranked *out);

#endif
