/* The evaluation loop (see eval_run.h). Sampling threads take the next item
 * of the work list, decode and sample its views and put them in a bounded
 * queue; the calling thread, which owns the model, takes finished videos in
 * whatever order they complete, runs the views and appends the record.
 * Records carry the item index, so completion order does not matter to
 * resuming or to the summary. */
#include "pipeline/eval_run.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    int index;
    int ok;
    char *error;
    vidi_clip_views views;
    int opened;           /* the decoder opened: info is set */
    vidi_video_info info; /* a copy: the decoder is closed before the job is queued */
} job;

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    job *slots;
    int cap, head, count;
    int next_work, producers_left;
    int stop; /* consumer gave up: producers finish early */
    /* read-only while running */
    const int *work;
    int n_work;
    vidi_video_classifier *vc;
    const vidi_eval_dataset *ds;
    const vidi_eval_run_params *p;
    vidi_decoder_params dp;
} queue;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

vidi_eval_run_params vidi_eval_run_default_params(void) {
    vidi_eval_run_params p;
    memset(&p, 0, sizeof p);
    p.views_t = p.views_s = 1;
    p.decode_threads = 1;
    p.queue_depth = 2;
    p.world = 1;
    p.decoder = vidi_decoder_default_params();
    return p;
}

/* Decode and sample one item (this thread's own decoder). */
static void sample_item(queue *q, job *j) {
    const vidi_eval_item *it = &q->ds->items[j->index];
    memset(&j->views, 0, sizeof j->views);
    j->error = NULL;
    if (!it->path) {
        j->ok = 0;
        j->error = strdup(it->error ? it->error : "no video");
        return;
    }
    vidi_decoder *dec = NULL;
    vidi_status s = vidi_decoder_open(it->path, &q->dp, &dec);
    if (!s) {
        j->opened = 1;
        j->info = *vidi_decoder_info(dec);
        s = vidi_video_classifier_sample(q->vc, dec, q->p->views_t, q->p->views_s, &j->views);
    }
    vidi_decoder_close(dec);
    j->ok = s == VIDI_OK;
    if (!j->ok) j->error = strdup(vidi_last_error());
}

static void *producer(void *arg) {
    queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        int w = q->stop || q->next_work >= q->n_work ? -1 : q->next_work++;
        pthread_mutex_unlock(&q->mu);
        if (w < 0) break;
        job j = {.index = q->work[w]};
        sample_item(q, &j);
        pthread_mutex_lock(&q->mu);
        while (q->count == q->cap && !q->stop) pthread_cond_wait(&q->not_full, &q->mu);
        if (q->stop) {
            pthread_mutex_unlock(&q->mu);
            vidi_clip_views_free(&j.views);
            free(j.error);
            break;
        }
        q->slots[(q->head + q->count++) % q->cap] = j;
        pthread_cond_signal(&q->not_empty);
        pthread_mutex_unlock(&q->mu);
    }
    pthread_mutex_lock(&q->mu);
    q->producers_left--;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* Next finished video; 0 when every producer is done and the queue empty. */
static int pop(queue *q, job *out, double *waited) {
    double t0 = now_s();
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && q->producers_left > 0) pthread_cond_wait(&q->not_empty, &q->mu);
    int got = q->count > 0;
    if (got) {
        *out = q->slots[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    *waited += now_s() - t0;
    return got;
}

/* Model + record for one popped video; non-OK only when writing fails. */
static vidi_status consume(queue *q, job *j, float *logits, FILE *jsonl, vidi_eval_run_stats *st,
                           vidi_eval_progress *pr) {
    const vidi_eval_item *it = &q->ds->items[j->index];
    int n = vidi_video_classifier_num_labels(q->vc);
    vidi_eval_record r = {.index = j->index, .id = it->id, .label = it->label, .ok = j->ok, .error = j->error};
    char *forward_error = NULL;
    if (j->opened && q->p->on_video) q->p->on_video(q->p->user, &j->info);
    if (j->ok) {
        double t0 = now_s();
        vidi_status s = vidi_video_classifier_forward_views(q->vc, &j->views, logits);
        st->model_seconds += now_s() - t0;
        if (s) {
            r.ok = 0;
            if (asprintf(&forward_error, "%s: %s", it->path, vidi_last_error()) < 0) forward_error = NULL;
            r.error = forward_error;
        } else {
            st->views += j->views.n_views;
            r.k = n < VIDI_EVAL_TOPK ? n : VIDI_EVAL_TOPK;
            vidi_eval_topk(logits, n, r.top, r.k);
            r.logits = logits, r.n_logits = n, r.views = j->views.n_views;
        }
    }
    vidi_status s = vidi_eval_record_write(jsonl, &r);
    if (r.ok) st->evaluated++, pr->evaluated++, pr->top1_hits += r.top[0] == it->label;
    else {
        st->failed++, pr->failed++;
        if (q->p->on_failure) q->p->on_failure(q->p->user, r.error ? r.error : "unknown error");
    }
    pr->done++;
    if (q->p->on_progress) q->p->on_progress(q->p->user, pr);
    free(forward_error);
    return s;
}

vidi_status vidi_eval_run(vidi_video_classifier *vc, const vidi_eval_dataset *ds, const vidi_eval_results *done,
                          const vidi_eval_run_params *p, FILE *jsonl, vidi_eval_run_stats *stats) {
    memset(stats, 0, sizeof *stats);
    if (p->world < 1 || p->rank < 0 || p->rank >= p->world)
        return vidi_set_error(VIDI_ERR_ARG, "eval: rank %d of %d", p->rank, p->world);
    int n_threads = p->decode_threads > 0 ? p->decode_threads : 1, depth = p->queue_depth > 0 ? p->queue_depth : 1;
    int *work = malloc(sizeof *work * (size_t)(ds->n_items ? ds->n_items : 1));
    job *slots = calloc((size_t)depth, sizeof *slots);
    float *logits = malloc(sizeof *logits * (size_t)vidi_video_classifier_num_labels(vc));
    pthread_t *threads = calloc((size_t)n_threads, sizeof *threads);
    if (!work || !slots || !logits || !threads) {
        free(work), free(slots), free(logits), free(threads);
        return vidi_set_error(VIDI_ERR_NOMEM, "eval: out of memory");
    }
    int n_work = 0;
    for (int i = p->rank; i < ds->n_items && (p->limit <= 0 || i < p->limit); i += p->world)
        if (!done || !done->state[i]) work[n_work++] = i;
    queue q = {.slots = slots, .cap = depth, .work = work, .n_work = n_work, .vc = vc, .ds = ds, .p = p};
    q.dp = vidi_video_classifier_decoder_params(vc, &p->decoder);
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.not_full, NULL);
    pthread_cond_init(&q.not_empty, NULL);
    stats->work = n_work;
    double t0 = now_s();
    int started = 0;
    vidi_status s = VIDI_OK;
    for (; started < n_threads && started < (n_work ? n_work : 1); started++) {
        q.producers_left++;
        if (pthread_create(&threads[started], NULL, producer, &q)) {
            q.producers_left--;
            if (!started) s = vidi_set_error(VIDI_ERR_NOMEM, "eval: cannot start a decoding thread");
            break;
        }
    }
    vidi_eval_progress pr = {.total = n_work};
    job j;
    while (!s && pop(&q, &j, &stats->wait_seconds)) {
        s = consume(&q, &j, logits, jsonl, stats, &pr);
        vidi_clip_views_free(&j.views);
        free(j.error);
    }
    if (s) { /* stop the producers and drop what they queued */
        pthread_mutex_lock(&q.mu);
        q.stop = 1;
        pthread_cond_broadcast(&q.not_full);
        pthread_mutex_unlock(&q.mu);
    }
    for (int t = 0; t < started; t++) pthread_join(threads[t], NULL);
    for (; q.count > 0; q.count--, q.head = (q.head + 1) % q.cap) {
        vidi_clip_views_free(&q.slots[q.head].views);
        free(q.slots[q.head].error);
    }
    stats->seconds = now_s() - t0;
    pthread_cond_destroy(&q.not_full);
    pthread_cond_destroy(&q.not_empty);
    pthread_mutex_destroy(&q.mu);
    free(work), free(slots), free(logits), free(threads);
    return s;
}
