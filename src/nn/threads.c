/*
 * threads.c - fork-join worker pool (pthreads).
 *
 * Each run bumps a generation counter under the mutex and wakes the
 * workers; everyone (caller included) then claims task numbers from an
 * atomic counter until none are left, and the caller waits until every
 * worker has checked back in.  Workers spin briefly before sleeping, since
 * operators follow each other within microseconds during inference.
 */
#include "nn/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/buf.h"

typedef struct worker {
    ps_nn_threads *pool;
    int index;
} worker;

struct ps_nn_threads {
    int n;
    pthread_t *tids;
    worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_uint generation;
    atomic_int busy;    /* workers still in the current run */
    atomic_int waiting; /* the caller sleeps on `done` */
    int stop;
    ps_nn_task_fn fn;
    void *arg;
    int ntasks;
    atomic_int next;
};

static void run_tasks(ps_nn_threads *t, int thread)
{
    for (;;) {
        int task = atomic_fetch_add(&t->next, 1);
        if (task >= t->ntasks)
            break;
        t->fn(t->arg, task, thread);
    }
}

static void *worker_main(void *p)
{
    worker *w = p;
    ps_nn_threads *t = w->pool;
    unsigned seen = 0;
    for (;;) {
        /* Spin a little for the next generation before blocking. */
        for (int i = 0; i < 1000 && atomic_load(&t->generation) == seen; i++)
            __builtin_ia32_pause();
        pthread_mutex_lock(&t->mu);
        while (atomic_load(&t->generation) == seen && !t->stop)
            pthread_cond_wait(&t->wake, &t->mu);
        if (t->stop) {
            pthread_mutex_unlock(&t->mu);
            return NULL;
        }
        seen = atomic_load(&t->generation);
        pthread_mutex_unlock(&t->mu);
        run_tasks(t, w->index);
        /* The caller usually spins for this; it sleeps only on long waits. */
        if (atomic_fetch_sub(&t->busy, 1) == 1 && atomic_load(&t->waiting)) {
            pthread_mutex_lock(&t->mu);
            pthread_cond_signal(&t->done);
            pthread_mutex_unlock(&t->mu);
        }
    }
}

ps_nn_threads *ps_nn_threads_new(int nthreads)
{
    ps_nn_threads *t = ps_xcalloc(1, sizeof *t);
    t->n = nthreads < 1 ? 1 : nthreads;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->done, NULL);
    atomic_init(&t->generation, 0);
    atomic_init(&t->next, 0);
    atomic_init(&t->busy, 0);
    atomic_init(&t->waiting, 0);
    if (t->n > 1) {
        t->tids = ps_xcalloc((size_t)t->n - 1, sizeof *t->tids);
        t->workers = ps_xcalloc((size_t)t->n - 1, sizeof *t->workers);
        for (int i = 0; i < t->n - 1; i++) {
            t->workers[i].pool = t;
            t->workers[i].index = i + 1;
            if (pthread_create(&t->tids[i], NULL, worker_main, &t->workers[i]) != 0) {
                /* Could not start it: carry on with fewer threads. */
                t->n = i + 1;
                break;
            }
        }
    }
    return t;
}

void ps_nn_threads_free(ps_nn_threads *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);
    for (int i = 0; i < t->n - 1; i++)
        pthread_join(t->tids[i], NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->done);
    free(t->tids);
    free(t->workers);
    free(t);
}

int ps_nn_threads_count(const ps_nn_threads *t)
{
    return t->n;
}

void ps_nn_threads_run(ps_nn_threads *t, int ntasks, ps_nn_task_fn fn, void *arg)
{
    if (ntasks <= 0)
        return;
    if (t->n == 1 || ntasks == 1) {
        for (int i = 0; i < ntasks; i++)
            fn(arg, i, 0);
        return;
    }
    pthread_mutex_lock(&t->mu);
    t->fn = fn;
    t->arg = arg;
    t->ntasks = ntasks;
    atomic_store(&t->next, 0);
    atomic_store(&t->busy, t->n - 1);
    atomic_store(&t->waiting, 0);
    atomic_fetch_add(&t->generation, 1);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);
    run_tasks(t, 0);
    for (int i = 0; i < 1000 && atomic_load(&t->busy) > 0; i++)
        __builtin_ia32_pause();
    if (atomic_load(&t->busy) > 0) {
        pthread_mutex_lock(&t->mu);
        atomic_store(&t->waiting, 1);
        while (atomic_load(&t->busy) > 0)
            pthread_cond_wait(&t->done, &t->mu);
        pthread_mutex_unlock(&t->mu);
    }
}

int ps_nn_default_threads(void)
{
    const char *env = getenv("PICSEEK_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 64)
            return (int)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > 8 ? 8 : (int)n;
}
