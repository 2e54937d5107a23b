/*
 * threads.h - a tiny fork-join pool for splitting one operator across cores.
 *
 * ps_nn_threads_run(pool, ntasks, fn, arg) calls fn(arg, task, thread) for
 * every task in [0, ntasks) using the calling thread plus the pool's
 * workers, and returns when all are done.  Tasks are handed out dynamically,
 * so uneven tasks balance.  A pool belongs to one workspace and is used by
 * one caller at a time.
 *
 * Ownership: ps_nn_threads_new() starts nthreads - 1 worker threads;
 * ps_nn_threads_free() stops and joins them.
 */
#ifndef PS_NN_THREADS_H
#define PS_NN_THREADS_H

typedef struct ps_nn_threads ps_nn_threads;

typedef void (*ps_nn_task_fn)(void *arg, int task, int thread);

/* nthreads >= 1 (1 = run everything on the caller). */
ps_nn_threads *ps_nn_threads_new(int nthreads);
void ps_nn_threads_free(ps_nn_threads *t);
int ps_nn_threads_count(const ps_nn_threads *t);
void ps_nn_threads_run(ps_nn_threads *t, int ntasks, ps_nn_task_fn fn, void *arg);

/* The thread count to use when the caller does not say: $PICSEEK_THREADS if
 * it is a number from 1 to 64, else the online CPUs (at most 8). */
int ps_nn_default_threads(void);

#endif
