/* One `vidi eval` run from options to summary: model, dataset, output
 * directory (results.jsonl, summary.json, report.html, run.json), resume,
 * the shard of this process and the merge on rank 0.
 *
 * Scale-out is injected as a small communicator (vidi_eval_comm) so that
 * libvidi itself does not link MPI: pipeline/eval_mpi.c provides one over
 * MPI in builds with VIDI_MPI, and a single-process one otherwise. */
#ifndef VIDI_PIPELINE_EVAL_SESSION_H
#define VIDI_PIPELINE_EVAL_SESSION_H

#include <stddef.h>

#include "pipeline/eval_run.h"

typedef struct vidi_eval_comm {
    int rank, world;
    void *ctx;
    /* Every rank passes its bytes; rank 0 receives all ranks' bytes
     * concatenated in rank order (*all malloc'd), others get NULL. */
    vidi_status (*gather)(void *ctx, const char *data, size_t len, char **all, size_t *all_len);
    /* 1 on every rank when ok is 1 on every rank, else 0 everywhere. */
    int (*all_ok)(void *ctx, int ok);
} vidi_eval_comm;

/* The single-process communicator. */
vidi_eval_comm vidi_eval_comm_single(void);

typedef struct vidi_eval_options {
    vidi_eval_format format;
    const char *annotations, *labels, *videos, *model, *out;
    int views_t, views_s;
    int frames, stride; /* 0: the model's frame count; stride 0: uniform sampling over the video */
    int limit, resume;
    int overwrite; /* start over: remove an earlier run's files in out first */
    const char *backend; /* "cpu" default */
    int threads;         /* model threads (0: all cores) */
    vidi_eval_run_params run; /* decode threads, queue, decoder, callbacks */
    /* Row errors of the annotation file, printed once by the caller. */
    void (*on_row_error)(void *user, const char *message);
    /* Called on rank 0 before the work starts (videos in this shard, already done). */
    void (*on_start)(void *user, int videos, int shard_work, int already_done);
} vidi_eval_options;

vidi_eval_options vidi_eval_default_options(void);

typedef struct vidi_eval_outcome {
    vidi_eval_run_stats stats; /* this rank's run */
    vidi_eval_metrics metrics; /* rank 0: from the merged results (caller frees) */
    int have_metrics;
    int videos, failed, not_run, skipped_rows;
    int complete; /* every row evaluated */
    char summary_path[4200], report_path[4200], results_path[4200];
    int dropped_partial_line; /* --resume cut an incomplete last line */
} vidi_eval_outcome;

/* VIDI_OK when the evaluation ran to the end (videos that failed are in the
 * outcome, not errors); errors are usage-level (VIDI_ERR_ARG: bad options,
 * output exists without --resume) or fatal (model, annotations, I/O). */
vidi_status vidi_eval_execute(const vidi_eval_options *o, const vidi_eval_comm *comm, vidi_eval_outcome *out);

#endif
