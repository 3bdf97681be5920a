/* Batch evaluation (`vidi eval`): datasets, metrics, per-video results,
 * summary and report. Internal to libvidi; the CLI (pipeline/cli/cmd_eval.c)
 * only parses options and calls these.
 *
 *   dataset   Kinetics CSV, SSv2 labels.json + validation.json, or a plain
 *             list, read into items (id, video path, class index). Rows that
 *             cannot be evaluated (malformed, unknown label, duplicate id) are
 *             kept as "FILE:LINE: reason" row errors and skipped; rows whose
 *             video is missing stay items (path NULL) so they are counted.
 *   results   one JSON object per video, appended and flushed as each video
 *             finishes (results.jsonl); a killed run resumes from it.
 *   summary   computed from the results file only, so an interrupted and
 *             resumed run, or N MPI ranks merged, give the same summary.json
 *             as one uninterrupted process. */
#ifndef VIDI_PIPELINE_EVAL_H
#define VIDI_PIPELINE_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "vidi/status.h"

typedef enum vidi_eval_format { VIDI_EVAL_KINETICS = 0, VIDI_EVAL_SSV2, VIDI_EVAL_LIST } vidi_eval_format;

/* "kinetics", "ssv2", "list" <-> enum; VIDI_ERR_ARG on an unknown name. */
vidi_status vidi_eval_format_parse(const char *name, vidi_eval_format *out);
const char *vidi_eval_format_name(vidi_eval_format format);

typedef struct vidi_eval_item {
    char *id;    /* Kinetics: <youtube_id>_<start:06d>_<end:06d>; SSv2: the id; list: the path as written */
    char *path;  /* the video file; NULL when none was found (error says why) */
    char *error; /* why path is NULL ("FILE:LINE: no video ..."), else NULL */
    int label;   /* class index */
    int line;    /* line of the annotation row (1-based) */
} vidi_eval_item;

typedef struct vidi_eval_dataset {
    vidi_eval_format format;
    char **classes; /* class names by index */
    int n_classes;
    vidi_eval_item *items; /* in annotation order; item index = position */
    int n_items;
    char **row_errors; /* "FILE:LINE: reason" for each skipped row */
    int n_row_errors;
} vidi_eval_dataset;

/* annotations: the CSV / validation.json / list file. labels: the class
 * order (text, one name per line; JSON {name: index} like SSv2's
 * labels.json; JSON array of names; or a HF config.json with id2label);
 * NULL: Kinetics: the annotation labels sorted alphabetically (byte order);
 * SSv2: labels.json beside the annotations; list: model_labels.
 * videos_dir: where videos are looked up (recursively, by file name stem);
 * NULL: the annotation file's directory. model_labels (may be NULL) names the
 * model's classes for the list format without a labels file. Fails only for
 * problems that make the whole dataset unusable (unreadable file, not a JSON
 * array, no usable rows). */
vidi_status vidi_eval_dataset_load(vidi_eval_format format, const char *annotations, const char *labels,
                                   const char *videos_dir, char *const *model_labels, int n_model_labels,
                                   vidi_eval_dataset *out);
void vidi_eval_dataset_free(vidi_eval_dataset *ds);

/* Reads class names in any of the formats above. */
vidi_status vidi_eval_labels_load(const char *path, char ***names, int *n);
void vidi_eval_names_free(char **names, int n);

/* Index of the video files under a directory, by file name without
 * extension (.mp4 .webm .mkv .avi .mov .m4v .mpg .mpeg .ogv .flv). */
typedef struct vidi_eval_video_index vidi_eval_video_index;
vidi_status vidi_eval_video_index_build(const char *dir, vidi_eval_video_index **out);
void vidi_eval_video_index_free(vidi_eval_video_index *index);
/* The path whose stem is exactly `stem`, else (prefix != 0) the only path
 * whose stem starts with stem + "_"; NULL when none (or several). */
const char *vidi_eval_video_index_find(const vidi_eval_video_index *index, const char *stem, int prefix);

/* ---- metrics ---- */
typedef struct vidi_eval_metrics {
    int n_classes;
    int64_t *confusion; /* [true][predicted], n_classes^2 */
    int64_t *support;   /* videos per true class */
    int64_t *correct;   /* top-1 hits per true class */
    int64_t evaluated, top1_hits, top5_hits;
    double top1, top5;          /* fractions of evaluated videos */
    double mean_class_accuracy; /* mean over classes with support > 0 of hits / support */
    int classes_present;
} vidi_eval_metrics;

vidi_status vidi_eval_metrics_init(vidi_eval_metrics *m, int n_classes);
/* top: the k best class indices, best first (k >= 1). */
void vidi_eval_metrics_add(vidi_eval_metrics *m, int label, const int *top, int k);
/* Fills top1, top5 and mean_class_accuracy (0 when nothing was evaluated). */
void vidi_eval_metrics_finish(vidi_eval_metrics *m);
void vidi_eval_metrics_free(vidi_eval_metrics *m);

/* The k best indices of logits, ties to the lower index. */
void vidi_eval_topk(const float *logits, int n, int *top, int k);

/* ---- per-video results (JSONL) ---- */
#define VIDI_EVAL_TOPK 5
typedef struct vidi_eval_record {
    int index;        /* item index in the dataset */
    const char *id;   /* item id */
    int label;        /* true class */
    int ok;           /* 1: evaluated; 0: failed (error says why) */
    const char *error;
    int top[VIDI_EVAL_TOPK], k;
    const float *logits; /* views-averaged, n_logits floats (ok only) */
    int n_logits;
    int views;
} vidi_eval_record;

/* One line, written and flushed (fflush + fsync is not needed for a killed
 * process: the kernel has the bytes once fflush returns). */
vidi_status vidi_eval_record_write(FILE *f, const vidi_eval_record *r);

/* Results read back: per item index, 0 = not present, 1 = ok, 2 = failed;
 * top5 per item for the metrics. */
typedef struct vidi_eval_results {
    int n_items;
    uint8_t *state;   /* [n_items] */
    int *top;         /* [n_items][VIDI_EVAL_TOPK] (-1 padded) */
    char **errors;    /* [n_items]: failure messages */
    int count;        /* records read */
} vidi_eval_results;

vidi_status vidi_eval_results_init(vidi_eval_results *r, int n_items);
void vidi_eval_results_free(vidi_eval_results *r);
/* Adds the records of a results file (missing file: nothing added). Each
 * record must match the dataset (index in range, same id and label) or the
 * load fails naming FILE:LINE. A first record for an index wins; repeats
 * are ignored. An incomplete last line (a run killed while writing it) is
 * an error with repair 0, cut off the file with 1, ignored with 2. */
vidi_status vidi_eval_results_load(vidi_eval_results *r, const vidi_eval_dataset *ds, const char *path, int repair,
                                   int *dropped);
/* Adds records held in memory (JSONL text), e.g. gathered from MPI ranks;
 * label names them in errors. */
vidi_status vidi_eval_results_parse(vidi_eval_results *r, const vidi_eval_dataset *ds, const char *text, size_t len,
                                    const char *label);

/* ---- summary and report ---- */
typedef struct vidi_eval_run_info {
    const char *dataset, *annotations, *model;
    int views_t, views_s, frames, stride;
} vidi_eval_run_info;

/* summary.json from the dataset and its results (deterministic: no times,
 * no host names); written atomically. metrics receives the numbers when not
 * NULL (caller frees). */
vidi_status vidi_eval_summary_write(const char *path, const vidi_eval_run_info *info, const vidi_eval_dataset *ds,
                                    const vidi_eval_results *res, vidi_eval_metrics *metrics);
/* report.html: the metrics, per-class accuracy and an inline SVG confusion
 * matrix; written atomically. seconds < 0: not shown. */
vidi_status vidi_eval_report_write(const char *path, const vidi_eval_run_info *info, const vidi_eval_dataset *ds,
                                   const vidi_eval_results *res, const vidi_eval_metrics *m, double seconds);

/* Writes data to path via a temporary file and rename. */
vidi_status vidi_eval_write_atomic(const char *path, const char *data, size_t len);

#endif
