/*
 * threads.c - fork-join worker pool (pthreads).
 *
 * A run publishes (function, argument, task count) under a new generation
 * number and wakes the workers.  Tasks are claimed from one 64-bit ticket,
 * generation in the high half and next task in the low half, by
 * compare-and-swap: a worker that wakes late, after the run it was woken for
 * has finished, fails to claim anything from the next generation and goes
 * back to sleep.  The caller claims tasks too and then waits for the count
 * of *finished tasks*, not for every worker to check in, so a worker that
 * the OS has not yet scheduled (the machine is shared) never delays a run;
 * only a task already claimed can.  Waits spin briefly before sleeping,
 * since operators follow each other within microseconds.
 */
#include "nn/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/buf.h"

#define SPINS 1000

typedef struct worker {
    ps_nn_threads *pool;
    int index;
} worker;

struct ps_nn_threads {
    int n;
    pthread_t *tids;
    worker *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done_cv;
    _Atomic uint64_t ticket; /* generation << 32 | next task */
    atomic_int done;         /* tasks finished in the current generation */
    int stop;
    /* The current run; written under mu before the ticket is published. */
    uint32_t gen;
    ps_nn_task_fn fn;
    void *arg;
    int ntasks;
};

/* Claim and run tasks of generation `gen` until none are left. */
static void run_tasks(ps_nn_threads *t, uint32_t gen, ps_nn_task_fn fn, void *arg, int ntasks,
                      int thread)
{
    uint64_t cur = atomic_load(&t->ticket);
    for (;;) {
        if ((uint32_t)(cur >> 32) != gen || (int)(uint32_t)cur >= ntasks)
            return;
        if (!atomic_compare_exchange_weak(&t->ticket, &cur, cur + 1))
            continue; /* cur was reloaded */
        fn(arg, (int)(uint32_t)cur, thread);
        if (atomic_fetch_add(&t->done, 1) + 1 == ntasks && thread != 0) {
            pthread_mutex_lock(&t->mu);
            pthread_cond_signal(&t->done_cv);
            pthread_mutex_unlock(&t->mu);
        }
        cur = atomic_load(&t->ticket);
    }
}

static void *worker_main(void *p)
{
    worker *w = p;
    ps_nn_threads *t = w->pool;
    uint32_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPINS && (uint32_t)(atomic_load(&t->ticket) >> 32) == seen; i++)
            __builtin_ia32_pause();
        pthread_mutex_lock(&t->mu);
        while (t->gen == seen && !t->stop)
            pthread_cond_wait(&t->wake, &t->mu);
        if (t->stop) {
            pthread_mutex_unlock(&t->mu);
            return NULL;
        }
        uint32_t gen = t->gen;
        ps_nn_task_fn fn = t->fn;
        void *arg = t->arg;
        int ntasks = t->ntasks;
        pthread_mutex_unlock(&t->mu);
        seen = gen;
        run_tasks(t, gen, fn, arg, ntasks, w->index);
    }
}

ps_nn_threads *ps_nn_threads_new(int nthreads)
{
    ps_nn_threads *t = ps_xcalloc(1, sizeof *t);
    t->n = nthreads < 1 ? 1 : nthreads;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->done_cv, NULL);
    atomic_init(&t->ticket, 0);
    atomic_init(&t->done, 0);
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
    pthread_cond_destroy(&t->done_cv);
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
    uint32_t gen = ++t->gen;
    if (gen == 0)
        gen = ++t->gen; /* 0 is the workers' initial "seen" value */
    t->fn = fn;
    t->arg = arg;
    t->ntasks = ntasks;
    atomic_store(&t->done, 0);
    atomic_store(&t->ticket, (uint64_t)gen << 32);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);
    run_tasks(t, gen, fn, arg, ntasks, 0);
    for (int i = 0; i < SPINS && atomic_load(&t->done) < ntasks; i++)
        __builtin_ia32_pause();
    if (atomic_load(&t->done) < ntasks) {
        pthread_mutex_lock(&t->mu);
        while (atomic_load(&t->done) < ntasks)
            pthread_cond_wait(&t->done_cv, &t->mu);
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
