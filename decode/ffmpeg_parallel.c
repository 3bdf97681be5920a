/* FFmpeg backend, sparse reads in parallel. Targets are grouped by the
 * keyframe interval (GOP) they fall in; each group needs only its keyframe,
 * the reference frames up to its last target and the targets, and groups do
 * not depend on each other. So W workers, each with its own demuxer and a
 * single-threaded decoder, take groups from a shared queue. That uses the
 * caller's thread budget better than frame threading does on sparse reads:
 * every seek flushes a frame-threaded decoder and refills its pipeline, and
 * a chain of reference frames leaves frame threads waiting on each other.
 * Frames are the same as sequential decoding (decoding is exact whatever
 * the threading; each worker runs the sequential path, ff_read_indexed). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode/ffmpeg.h"

#define MAX_WORKERS 16

typedef struct group_queue {
    pthread_mutex_t lock;
    const int *group_start; /* first target of group g; group_start[ngroups] = n */
    int ngroups, next;
    int failed;
} group_queue;

typedef struct worker {
    vidi_decoder shell; /* label and params for the clone; impl is its ff_decoder */
    group_queue *queue;
    const int64_t *indices;
    vidi_frame *frames;
    vidi_status status;
    char error[512]; /* the worker's vidi_last_error (thread-local there) */
    pthread_t thread;
    int started;
} worker;

static int take_group(group_queue *q) {
    pthread_mutex_lock(&q->lock);
    int g = q->failed || q->next >= q->ngroups ? -1 : q->next++;
    pthread_mutex_unlock(&q->lock);
    return g;
}

static void *run_worker(void *arg) {
    worker *w = arg;
    int g;
    while (w->status == VIDI_OK && (g = take_group(w->queue)) >= 0)
        for (int k = w->queue->group_start[g]; k < w->queue->group_start[g + 1] && w->status == VIDI_OK; k++)
            w->status = ff_read_indexed(w->shell.impl, w->indices[k], &w->frames[k]);
    if (w->status) {
        snprintf(w->error, sizeof w->error, "%s", vidi_last_error());
        pthread_mutex_lock(&w->queue->lock);
        w->queue->failed = 1;
        pthread_mutex_unlock(&w->queue->lock);
    }
    return NULL;
}

static int worker_count(const ff_decoder *ff, int ngroups) {
    int t = ff->dec->params.threads;
    if (t == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        t = cores > 0 ? (int)cores : 1;
    }
    if (t > ngroups) t = ngroups;
    return t > MAX_WORKERS ? MAX_WORKERS : t;
}

/* Frames a worker found undecodable count once, in the owner's bookkeeping. */
static void merge_lost(ff_decoder *ff, const ff_decoder *clone) {
    for (int64_t i = 0; i < ff->n_ts; i++)
        if (clone->lost_mark[i] && !ff->lost_mark[i]) ff->lost_mark[i] = 1, ff->dec->lost++;
}

static int64_t keyframe_of(const ff_decoder *ff, int64_t t) {
    while (t > 0 && !ff->key[t]) t--;
    return t;
}

vidi_status ff_read_parallel(ff_decoder *ff, const int64_t *indices, int n, vidi_frame *frames, int *done) {
    *done = 0;
    if (!ff->indexed || ff->network || n < 2) return VIDI_OK;
    int *start = malloc(sizeof *start * (size_t)(n + 1));
    if (!start) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", ff->dec->label);
    int ngroups = 0;
    for (int k = 0; k < n; k++)
        if (k == 0 || keyframe_of(ff, indices[k]) != keyframe_of(ff, indices[k - 1])) start[ngroups++] = k;
    start[ngroups] = n;
    int nw = worker_count(ff, ngroups);
    if (nw < 2) {
        free(start);
        return VIDI_OK;
    }
    int total_threads = ff->dec->params.threads > 0 ? ff->dec->params.threads : nw;
    int per_worker = total_threads / nw > 1 ? total_threads / nw : 1;
    group_queue q = {.group_start = start, .ngroups = ngroups};
    worker *ws = calloc((size_t)nw, sizeof *ws);
    if (!ws || pthread_mutex_init(&q.lock, NULL) != 0) {
        free(ws);
        free(start);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", ff->dec->label);
    }
    vidi_status st = VIDI_OK;
    for (int i = 0; i < nw && st == VIDI_OK; i++) {
        worker *w = &ws[i];
        w->shell.label = ff->dec->label;
        w->shell.params = ff->dec->params;
        w->shell.params.threads = per_worker;
        w->queue = &q;
        w->indices = indices;
        w->frames = frames;
        if ((st = ff_open_clone(ff, &w->shell, per_worker))) break;
        if (pthread_create(&w->thread, NULL, run_worker, w) != 0) {
            st = vidi_set_error(VIDI_ERR_NOMEM, "%s: cannot start a decode worker thread", ff->dec->label);
            break;
        }
        w->started = 1;
    }
    if (st) { /* stop the workers already running */
        pthread_mutex_lock(&q.lock);
        q.failed = 1;
        pthread_mutex_unlock(&q.lock);
    }
    for (int i = 0; i < nw; i++) {
        worker *w = &ws[i];
        if (w->started) pthread_join(w->thread, NULL);
        if (st == VIDI_OK && w->status) st = vidi_set_error(w->status, "%s", w->error);
        if (w->shell.impl) {
            merge_lost(ff, w->shell.impl);
            ff_close(&w->shell);
        }
    }
    pthread_mutex_destroy(&q.lock);
    free(ws);
    free(start);
    if (st == VIDI_OK) {
        /* The next sequential frame follows the last one returned. */
        ff->resume_at = indices[n - 1] + 1;
        *done = 1;
    }
    return st;
}
