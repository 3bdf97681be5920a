/* Shared between the eval dataset readers (eval_dataset.c, eval_kinetics.c,
 * eval_ssv2.c, eval_list.c). Not used outside pipeline/eval*.c. */
#ifndef VIDI_PIPELINE_EVAL_INTERNAL_H
#define VIDI_PIPELINE_EVAL_INTERNAL_H

#include <stddef.h>

#include "pipeline/eval.h"

typedef struct eval_seen {
    const char *id;
    int line;
} eval_seen;

typedef struct eval_class {
    const char *name;
    int index;
} eval_class;

typedef struct eval_builder {
    vidi_eval_dataset *ds;
    const char *file;       /* annotation file, for messages */
    const char *videos_dir; /* for messages */
    vidi_eval_video_index *index;
    eval_seen *seen; /* open-addressing set of ids */
    int n_seen, cap_seen, cap_items;
    eval_class *sorted; /* classes by name */
} eval_builder;

/* Takes ownership of names. */
vidi_status vidi_eval_builder_classes(eval_builder *b, char **names, int n);
int vidi_eval_class_index(const eval_builder *b, const char *name);
/* Both return -1 only when out of memory. */
int vidi_eval_row_error(eval_builder *b, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vidi_eval_add_item(eval_builder *b, int line, const char *id, int label, const char *path);
const char *vidi_eval_dirname(const char *path, char *buf, size_t n);

vidi_status vidi_eval_read_kinetics(eval_builder *b, const char *labels);
vidi_status vidi_eval_read_ssv2(eval_builder *b, const char *labels);
vidi_status vidi_eval_read_list(eval_builder *b, const char *labels, char *const *model_labels, int n_model_labels);

/* A whole file, NUL-terminated. */
vidi_status vidi_eval_read_file(const char *path, char **text, size_t *len);

/* ---- output directory (eval_output.c) ---- */
typedef struct name_list {
    char **v;
    int n;
} name_list;
struct vidi_eval_options;
vidi_status vidi_eval_mkdir_p(const char *dir);
/* Rank 0: writes run.json in a fresh directory; with --resume requires the
 * same settings; without it refuses a directory that has one. */
vidi_status vidi_eval_check_run_file(const struct vidi_eval_options *o, const char *model);
/* results.rank-R-of-W.jsonl paths in dir whose W differs from world (all of
 * them when world is 1). */
vidi_status vidi_eval_leftover_parts(const char *dir, int world, name_list *out);
/* --overwrite: removes run.json, results*.jsonl, summary.json, report.html. */
vidi_status vidi_eval_clear_outputs(const char *dir);
/* Writes the record lines of text to path sorted by item index, keeping the
 * first record of each index. */
vidi_status vidi_eval_merge_write(const char *path, const char *text, size_t len);
/* Appends the complete lines of path (if it exists) to *buf. */
vidi_status vidi_eval_append_file(const char *path, char **buf, size_t *len);

#endif
