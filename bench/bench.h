/*
 * bench.h - the two helpers every benchmark needs: a monotonic clock and a
 * comparison to sort timings for percentiles.  Header-only (static inline)
 * because the benchmarks are single-file programs.
 */
#ifndef PS_BENCH_H
#define PS_BENCH_H

#include <time.h>

/* Seconds on the monotonic clock (for differences only). */
static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* qsort comparison of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
