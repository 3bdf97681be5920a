/* The thread pool: every task runs exactly once, indices stay in range,
 * nested calls run inline, and a NULL pool runs on the caller. */
#include <stdatomic.h>
#include <stdlib.h>

#include "harness.h"
#include "vidi/threadpool.h"

typedef struct {
    atomic_int *hits;
    int n_threads;
    atomic_int bad_index;
    vidi_threadpool *pool;
    atomic_int nested;
} job;

static void count_task(void *arg, int task, int n_tasks, int thread) {
    job *j = arg;
    (void)n_tasks;
    atomic_fetch_add(&j->hits[task], 1);
    if (thread < 0 || thread >= j->n_threads) atomic_fetch_add(&j->bad_index, 1);
}

static void inner_task(void *arg, int task, int n_tasks, int thread) {
    (void)task; (void)n_tasks; (void)thread;
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void nesting_task(void *arg, int task, int n_tasks, int thread) {
    job *j = arg;
    (void)task; (void)n_tasks; (void)thread;
    vidi_threadpool_run(j->pool, 3, inner_task, &j->nested);
}

int main(void) {
    for (int threads = 1; threads <= 4; threads++) {
        vidi_threadpool *pool = NULL;
        CHECK(vidi_threadpool_create(threads, &pool) == VIDI_OK);
        CHECK(vidi_threadpool_size(pool) == threads);
        for (int n_tasks = 0; n_tasks <= 50; n_tasks += 7) {
            for (int rep = 0; rep < 20; rep++) {
                atomic_int hits[64];
                for (int i = 0; i < 64; i++) atomic_init(&hits[i], 0);
                job j = {hits, threads, 0, pool, 0};
                vidi_threadpool_run(pool, n_tasks, count_task, &j);
                int wrong = 0;
                for (int i = 0; i < 64; i++) wrong += atomic_load(&hits[i]) != (i < n_tasks ? 1 : 0);
                CHECK_MSG(wrong == 0 && atomic_load(&j.bad_index) == 0, "threads=%d tasks=%d", threads, n_tasks);
            }
        }
        job j = {NULL, threads, 0, pool, 0};
        vidi_threadpool_run(pool, 5, nesting_task, &j);
        CHECK(atomic_load(&j.nested) == 15);
        vidi_threadpool_destroy(pool);
    }
    atomic_int hits[4];
    for (int i = 0; i < 4; i++) atomic_init(&hits[i], 0);
    job j = {hits, 1, 0, NULL, 0};
    vidi_threadpool_run(NULL, 4, count_task, &j);
    CHECK(atomic_load(&hits[3]) == 1 && atomic_load(&j.bad_index) == 0);
    CHECK(vidi_threadpool_size(NULL) == 1);
    vidi_threadpool *all = NULL;
    CHECK(vidi_threadpool_create(0, &all) == VIDI_OK && vidi_threadpool_size(all) >= 1);
    vidi_threadpool_destroy(all);
    vidi_threadpool_destroy(NULL);
    return vidi_test_summary("threadpool");
}
