/*
 * parallel.h - run independent tasks on a few threads.
 *
 * Task i always runs the same code on the same data whatever the thread
 * count, and tasks never share output, so results are bit-identical for 1
 * or N threads.  Thread t runs tasks t, t + threads, t + 2*threads, ...
 */
#ifndef PS_LEARN_PARALLEL_H
#define PS_LEARN_PARALLEL_H

#include <stddef.h>

#define PS_MAX_THREADS 16

typedef void (*ps_task_fn)(void *ctx, size_t task);

/* Run fn(ctx, i) for i in [0, n_tasks) on up to `threads` threads (values
 * below 1 mean 1).  Falls back to the calling thread if a thread cannot be
 * started. */
void ps_parallel_run(int threads, size_t n_tasks, ps_task_fn fn, void *ctx);

#endif
