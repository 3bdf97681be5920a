/* The one thread pool.
 *
 * Workers block on a condition variable between jobs, after a short spin:
 * a forward pass is a chain of ops that each fork and join the pool, tens of
 * microseconds apart, and a worker that went to sleep after every op paid a
 * futex wake-up per op (the caller too, waiting for the last worker). The
 * spin is bounded (SPIN_ROUNDS pauses, tens of microseconds) so that an idle
 * pool still gives its cores back at once: BLAS runs single-threaded inside
 * pool tasks, and nothing else should find a core busy-waiting for long.
 * The caller takes part in each job, so a pool of n threads owns n-1
 * workers. Tasks are handed out with an atomic counter, which balances
 * uneven tasks (or a slower core) without a queue. */
#include "vidi/threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* Pauses before blocking; ~40 ns each on current x86, so tens of us. */
#define SPIN_ROUNDS 1000

struct vidi_threadpool {
    int n_threads; /* including the caller */
    int n_workers;
    pthread_t *workers;

    pthread_mutex_t lock;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    pthread_mutex_t run_lock; /* one job at a time when several threads share a pool */

    /* Written under lock; read without it only by the spin loops. */
    _Atomic uint64_t generation; /* bumped per job; workers compare against the one they last ran */
    atomic_int shutdown;
    atomic_int pending; /* workers still inside the current job */

    vidi_task_fn fn;
    void *arg;
    int n_tasks;
    atomic_int next_task;
};

typedef struct {
    vidi_threadpool *pool;
    int index;
} worker_start;

/* A task that calls back into the pool would wait on itself; such nested
 * calls run inline instead. */
static _Thread_local int inside_pool_task;

static void run_tasks(vidi_threadpool *pool, int thread_index) {
    inside_pool_task = 1;
    for (;;) {
        int task = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed);
        if (task >= pool->n_tasks) break;
        pool->fn(pool->arg, task, pool->n_tasks, thread_index);
    }
    inside_pool_task = 0;
}

static void *worker_main(void *p) {
    worker_start start = *(worker_start *)p;
    free(p);
    vidi_threadpool *pool = start.pool;
    uint64_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS && atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
                        !atomic_load_explicit(&pool->shutdown, memory_order_relaxed);
             i++)
            cpu_relax();
        pthread_mutex_lock(&pool->lock);
        while (pool->generation == seen && !pool->shutdown) pthread_cond_wait(&pool->work_ready, &pool->lock);
        if (pool->shutdown) break;
        seen = pool->generation;
        pthread_mutex_unlock(&pool->lock);
        run_tasks(pool, start.index);
        /* The last worker out wakes the caller; under the lock, so the caller's
         * check-then-wait cannot miss it. */
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->work_done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

static void stop_workers(vidi_threadpool *pool, int started) {
    pthread_mutex_lock(&pool->lock);
    pool->shutdown = 1;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < started; i++) pthread_join(pool->workers[i], NULL);
}

vidi_status vidi_threadpool_create(int n_threads, vidi_threadpool **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "threadpool: NULL output pointer");
    *out = NULL;
    if (n_threads <= 0) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = online > 0 ? (int)online : 1;
    }
    vidi_threadpool *pool = calloc(1, sizeof *pool);
    if (!pool) return vidi_set_error(VIDI_ERR_NOMEM, "threadpool: out of memory");
    pool->n_threads = n_threads;
    pool->n_workers = n_threads - 1;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->work_done, NULL);
    atomic_init(&pool->next_task, 0);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->shutdown, 0);
    atomic_init(&pool->pending, 0);
    if (pool->n_workers > 0) {
        pool->workers = calloc((size_t)pool->n_workers, sizeof *pool->workers);
        if (!pool->workers) {
            vidi_threadpool_destroy(pool);
            return vidi_set_error(VIDI_ERR_NOMEM, "threadpool: out of memory");
        }
    }
    for (int i = 0; i < pool->n_workers; i++) {
        worker_start *start = malloc(sizeof *start);
        int err = start ? 0 : 1;
        if (start) {
            start->pool = pool;
            start->index = i + 1;
            err = pthread_create(&pool->workers[i], NULL, worker_main, start);
            if (err) free(start);
        }
        if (err) {
            stop_workers(pool, i);
            pool->n_workers = 0;
            vidi_threadpool_destroy(pool);
            return vidi_set_error(VIDI_ERR_NOMEM, "threadpool: cannot start thread %d of %d", i + 1,
                                  n_threads);
        }
    }
    *out = pool;
    return VIDI_OK;
}

void vidi_threadpool_destroy(vidi_threadpool *pool) {
    if (!pool) return;
    if (pool->n_workers > 0) stop_workers(pool, pool->n_workers);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->run_lock);
    pthread_cond_destroy(&pool->work_ready);
    pthread_cond_destroy(&pool->work_done);
    free(pool->workers);
    free(pool);
}

int vidi_threadpool_size(const vidi_threadpool *pool) { return pool ? pool->n_threads : 1; }

void vidi_threadpool_run(vidi_threadpool *pool, int n_tasks, vidi_task_fn fn, void *arg) {
    if (n_tasks <= 0 || !fn) return;
    if (!pool || pool->n_workers == 0 || n_tasks == 1 || inside_pool_task) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t, n_tasks, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->arg = arg;
    pool->n_tasks = n_tasks;
    atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
    pool->pending = pool->n_workers;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->lock);

    run_tasks(pool, 0);

    for (int i = 0; i < SPIN_ROUNDS && atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; i++)
        cpu_relax();
    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0) pthread_cond_wait(&pool->work_done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->run_lock);
}
