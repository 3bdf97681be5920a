/* Dataset readers for `vidi eval`: Kinetics CSV, SSv2 JSON, plain list.
 * A bad row is reported as "FILE:LINE: reason" and skipped (the run goes on
 * and the exit status says not every video was evaluated); a row whose video
 * is missing stays in the dataset so that it is counted as failed. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval.h"
#include "pipeline/eval_internal.h"

/* ---- building the dataset ---- */

void vidi_eval_dataset_free(vidi_eval_dataset *ds) {
    if (!ds) return;
    vidi_eval_names_free(ds->classes, ds->n_classes);
    for (int i = 0; i < ds->n_items; i++) {
        free(ds->items[i].id), free(ds->items[i].path), free(ds->items[i].error);
    }
    free(ds->items);
    vidi_eval_names_free(ds->row_errors, ds->n_row_errors);
    memset(ds, 0, sizeof *ds);
}

int vidi_eval_row_error(eval_builder *b, int line, const char *fmt, ...) {
    char msg[1536], *full = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (asprintf(&full, "%s:%d: %s", b->file, line, msg) < 0) return -1;
    char **v = realloc(b->ds->row_errors, sizeof *v * (size_t)(b->ds->n_row_errors + 1));
    if (!v) {
        free(full);
        return -1;
    }
    b->ds->row_errors = v;
    v[b->ds->n_row_errors++] = full;
    return 0;
}

/* FNV-1a over the id; the table maps ids to the line that first used them. */
static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 0 when id is new (recorded), else the line of its first use; -1 no memory. */
static int seen_before(eval_builder *b, const char *id, int line) {
    if (2 * (b->n_seen + 1) > b->cap_seen) {
        int cap = b->cap_seen ? 2 * b->cap_seen : 1024;
        eval_seen *t = calloc((size_t)cap, sizeof *t);
        if (!t) return -1;
        for (int i = 0; i < b->cap_seen; i++)
            if (b->seen[i].id) {
                uint64_t j = hash(b->seen[i].id) & (uint64_t)(cap - 1);
                while (t[j].id) j = (j + 1) & (uint64_t)(cap - 1);
                t[j] = b->seen[i];
            }
        free(b->seen);
        b->seen = t, b->cap_seen = cap;
    }
    uint64_t j = hash(id) & (uint64_t)(b->cap_seen - 1);
    for (; b->seen[j].id; j = (j + 1) & (uint64_t)(b->cap_seen - 1))
        if (!strcmp(b->seen[j].id, id)) return b->seen[j].line;
    b->seen[j].id = id, b->seen[j].line = line; /* id is owned by the item */
    b->n_seen++;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const eval_class *)a)->name, ((const eval_class *)b)->name);
}

vidi_status vidi_eval_builder_classes(eval_builder *b, char **names, int n) {
    b->ds->classes = names, b->ds->n_classes = n;
    b->sorted = malloc(sizeof *b->sorted * (size_t)(n ? n : 1));
    if (!b->sorted) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) b->sorted[i] = (eval_class){names[i], i};
    qsort(b->sorted, (size_t)n, sizeof *b->sorted, by_name);
    return VIDI_OK;
}

int vidi_eval_class_index(const eval_builder *b, const char *name) {
    eval_class key = {name, 0};
    const eval_class *c = bsearch(&key, b->sorted, (size_t)b->ds->n_classes, sizeof key, by_name);
    return c ? c->index : -1;
}

/* Adds a row as an item, or reports it (duplicate id). path NULL: missing,
 * the item records why. Returns -1 only when out of memory. */
int vidi_eval_add_item(eval_builder *b, int line, const char *id, int label, const char *path) {
    vidi_eval_dataset *ds = b->ds;
    if (ds->n_items == b->cap_items) {
        int cap = b->cap_items ? 2 * b->cap_items : 256;
        vidi_eval_item *v = realloc(ds->items, sizeof *v * (size_t)cap);
        if (!v) return -1;
        ds->items = v, b->cap_items = cap;
    }
    vidi_eval_item *it = &ds->items[ds->n_items];
    memset(it, 0, sizeof *it);
    if (!(it->id = strdup(id))) return -1;
    int first = seen_before(b, it->id, line);
    if (first) {
        free(it->id);
        if (first < 0) return -1;
        return vidi_eval_row_error(b, line, "duplicate id '%s' (first on line %d); row skipped", id, first);
    }
    it->label = label, it->line = line;
    if (path && !(it->path = strdup(path))) return -1;
    if (!path && asprintf(&it->error, "%s:%d: no video for '%s' under %s", b->file, line, id, b->videos_dir) < 0)
        return -1;
    ds->n_items++;
    return 0;
}

static void eval_builder_free(eval_builder *b) {
    free(b->seen);
    free(b->sorted);
    vidi_eval_video_index_free(b->index);
}

/* Directory part of a path ("." when none), in buf. */
const char *vidi_eval_dirname(const char *path, char *buf, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash) return snprintf(buf, n, "."), buf;
    size_t len = (size_t)(slash - path);
    if (len == 0) len = 1;
    if (len >= n) len = n - 1;
    memcpy(buf, path, len);
    buf[len] = '\0';
    return buf;
}

vidi_status vidi_eval_dataset_load(vidi_eval_format format, const char *annotations, const char *labels,
                                   const char *videos_dir, char *const *model_labels, int n_model_labels,
                                   vidi_eval_dataset *out) {
    memset(out, 0, sizeof *out);
    out->format = format;
    char dir[4096];
    eval_builder b = {.ds = out, .file = annotations,
                      .videos_dir = videos_dir ? videos_dir : vidi_eval_dirname(annotations, dir, sizeof dir)};
    vidi_status s = VIDI_OK;
    if (format != VIDI_EVAL_LIST) s = vidi_eval_video_index_build(b.videos_dir, &b.index);
    if (!s) {
        if (format == VIDI_EVAL_KINETICS) s = vidi_eval_read_kinetics(&b, labels);
        else if (format == VIDI_EVAL_SSV2) s = vidi_eval_read_ssv2(&b, labels);
        else s = vidi_eval_read_list(&b, labels, model_labels, n_model_labels);
    }
    if (!s && out->n_items == 0)
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: no usable rows%s", annotations,
                           out->n_row_errors ? " (every row has an error)" : "");
    eval_builder_free(&b);
    if (s) vidi_eval_dataset_free(out);
    return s;
}
