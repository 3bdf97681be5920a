/* vidi — the one thread pool. Between jobs, workers spin briefly (tens of
 * microseconds), then sleep on a condition variable, so an idle pool gives
 * its cores back. */
#ifndef VIDI_THREADPOOL_H
#define VIDI_THREADPOOL_H

#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vidi_threadpool vidi_threadpool;

/* fn(arg, task, n_tasks, thread_index) is called once for every task in [0, n_tasks). */
typedef void (*vidi_task_fn)(void *arg, int task, int n_tasks, int thread_index);

/* n_threads <= 0 means "number of online CPUs". */
vidi_status vidi_threadpool_create(int n_threads, vidi_threadpool **out);
void vidi_threadpool_destroy(vidi_threadpool *pool);
int vidi_threadpool_size(const vidi_threadpool *pool);
/* Runs all tasks (the calling thread takes part) and returns when all are done.
 * pool may be NULL: then everything runs on the caller. */
void vidi_threadpool_run(vidi_threadpool *pool, int n_tasks, vidi_task_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
