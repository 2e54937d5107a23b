#include "learn/parallel.h"

#include <pthread.h>

typedef struct worker {
    ps_task_fn fn;
    void *ctx;
    size_t first, step, n;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (size_t i = w->first; i < w->n; i += w->step)
        w->fn(w->ctx, i);
    return NULL;
}

void ps_parallel_run(int threads, size_t n_tasks, ps_task_fn fn, void *ctx)
{
    if (threads > PS_MAX_THREADS)
        threads = PS_MAX_THREADS;
    if (threads < 1)
        threads = 1;
    if ((size_t)threads > n_tasks)
        threads = (int)n_tasks;
    if (threads <= 1) {
        for (size_t i = 0; i < n_tasks; i++)
            fn(ctx, i);
        return;
    }
    worker w[PS_MAX_THREADS];
    pthread_t tid[PS_MAX_THREADS];
    int started[PS_MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) {
        w[t] = (worker){fn, ctx, (size_t)t, (size_t)threads, n_tasks};
        if (t > 0)
            started[t] = pthread_create(&tid[t], NULL, worker_main, &w[t]) == 0;
    }
    worker_main(&w[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            worker_main(&w[t]); /* could not start: do its share here */
    }
}
