/* The evaluation loop: decoder threads sample the views of the next videos
 * into a bounded queue while the calling thread runs the model on what is
 * ready, so the model never waits on decode when decode is faster, and
 * memory stays bounded (queue_depth sampled videos at most waiting). */
#ifndef VIDI_PIPELINE_EVAL_RUN_H
#define VIDI_PIPELINE_EVAL_RUN_H

#include <stdio.h>

#include "pipeline/classify_video.h"
#include "pipeline/eval.h"

typedef struct vidi_eval_progress {
    int done, total;       /* videos of this run's work list */
    int evaluated, failed; /* of done */
    int top1_hits;         /* of evaluated */
} vidi_eval_progress;

typedef struct vidi_eval_run_params {
    int views_t, views_s;
    int decode_threads; /* sampling threads (default 1) */
    int queue_depth;    /* sampled videos waiting for the model (default 2) */
    int rank, world;    /* this process takes items with index % world == rank */
    int limit;          /* > 0: only items with index < limit */
    vidi_decoder_params decoder;
    void (*on_progress)(void *user, const vidi_eval_progress *p);
    void (*on_failure)(void *user, const char *message); /* one line, per failed video */
    /* Per video whose decoder opened, with what the decoder reported (e.g.
     * info->hwaccel: whether NVDEC or software decoded it); on the calling
     * thread, in completion order, before the video's record. May be NULL. */
    void (*on_video)(void *user, const vidi_video_info *info);
    void *user;
} vidi_eval_run_params;

vidi_eval_run_params vidi_eval_run_default_params(void);

typedef struct vidi_eval_run_stats {
    int work, evaluated, failed;
    long long views;      /* views through the model */
    double seconds;       /* wall time of the loop */
    double model_seconds; /* in forward passes */
    double wait_seconds;  /* model idle, waiting for a sampled video */
} vidi_eval_run_stats;

/* Evaluates every item of this shard not yet in done (state 0), appending
 * one record per video to jsonl. Per-video failures are records, not
 * errors; the return is an error only when the run itself could not go on
 * (writing results, threads, memory). */
vidi_status vidi_eval_run(vidi_video_classifier *vc, const vidi_eval_dataset *ds, const vidi_eval_results *done,
                          const vidi_eval_run_params *p, FILE *jsonl, vidi_eval_run_stats *stats);

#endif
