/* summary.json: the metrics of a finished (or partly finished) evaluation,
 * made from the results file alone and free of times and host names, so
 * that equal results give byte-equal summaries whatever the run history. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval.h"

static vidi_status fill_metrics(const vidi_eval_dataset *ds, const vidi_eval_results *res, vidi_eval_metrics *m) {
    vidi_status s = vidi_eval_metrics_init(m, ds->n_classes);
    if (s) return s;
    for (int i = 0; i < ds->n_items; i++)
        if (res->state[i] == 1) vidi_eval_metrics_add(m, ds->items[i].label, res->top + (size_t)i * VIDI_EVAL_TOPK, VIDI_EVAL_TOPK);
    vidi_eval_metrics_finish(m);
    return VIDI_OK;
}

static cJSON *build(const vidi_eval_run_info *info, const vidi_eval_dataset *ds, const vidi_eval_results *res,
                    const vidi_eval_metrics *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    int failed = 0, not_run = 0;
    for (int i = 0; i < ds->n_items; i++) failed += res->state[i] == 2, not_run += res->state[i] == 0;
    char views[32];
    snprintf(views, sizeof views, "%dx%d", info->views_t, info->views_s);
    cJSON_AddStringToObject(o, "dataset", info->dataset);
    cJSON_AddStringToObject(o, "annotations", info->annotations);
    cJSON_AddStringToObject(o, "model", info->model);
    cJSON_AddStringToObject(o, "views", views);
    cJSON_AddNumberToObject(o, "frames", info->frames);
    cJSON_AddNumberToObject(o, "stride", info->stride);
    cJSON_AddNumberToObject(o, "videos", ds->n_items);
    cJSON_AddNumberToObject(o, "evaluated", (double)m->evaluated);
    cJSON_AddNumberToObject(o, "failed", failed);
    cJSON_AddNumberToObject(o, "not_run", not_run);
    cJSON_AddNumberToObject(o, "skipped_rows", ds->n_row_errors);
    cJSON_AddBoolToObject(o, "complete", failed == 0 && not_run == 0 && ds->n_row_errors == 0);
    cJSON_AddNumberToObject(o, "top1", m->top1);
    cJSON_AddNumberToObject(o, "top5", m->top5);
    cJSON_AddNumberToObject(o, "mean_class_accuracy", m->mean_class_accuracy);
    cJSON_AddNumberToObject(o, "classes_present", m->classes_present);
    cJSON *classes = cJSON_AddArrayToObject(o, "classes");
    cJSON *conf = cJSON_AddArrayToObject(o, "confusion");
    for (int c = 0; c < ds->n_classes && classes && conf; c++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "index", c);
        cJSON_AddStringToObject(e, "name", ds->classes[c]);
        cJSON_AddNumberToObject(e, "videos", (double)m->support[c]);
        cJSON_AddNumberToObject(e, "correct", (double)m->correct[c]);
        if (m->support[c]) cJSON_AddNumberToObject(e, "accuracy", (double)m->correct[c] / m->support[c]);
        else cJSON_AddNullToObject(e, "accuracy");
        cJSON_AddItemToArray(classes, e);
        cJSON *row = cJSON_CreateArray();
        for (int p = 0; row && p < ds->n_classes; p++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m->confusion[(size_t)c * ds->n_classes + p]));
        cJSON_AddItemToArray(conf, row);
    }
    cJSON *fails = cJSON_AddArrayToObject(o, "failures");
    for (int i = 0; i < ds->n_items && fails; i++) {
        if (res->state[i] != 2) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", ds->items[i].id);
        cJSON_AddStringToObject(e, "error", res->errors[i] ? res->errors[i] : "");
        cJSON_AddItemToArray(fails, e);
    }
    cJSON *rows = cJSON_AddArrayToObject(o, "row_errors");
    for (int i = 0; i < ds->n_row_errors && rows; i++) cJSON_AddItemToArray(rows, cJSON_CreateString(ds->row_errors[i]));
    return o;
}

vidi_status vidi_eval_summary_write(const char *path, const vidi_eval_run_info *info, const vidi_eval_dataset *ds,
                                    const vidi_eval_results *res, vidi_eval_metrics *metrics) {
    vidi_eval_metrics m;
    vidi_status s = fill_metrics(ds, res, &m);
    if (s) return s;
    cJSON *o = build(info, ds, res, &m);
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    else {
        size_t len = strlen(text);
        char *file = malloc(len + 2);
        if (!file) s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
        else {
            memcpy(file, text, len);
            file[len] = '\n';
            s = vidi_eval_write_atomic(path, file, len + 1);
            free(file);
        }
        cJSON_free(text);
    }
    if (!s && metrics) *metrics = m;
    else vidi_eval_metrics_free(&m);
    return s;
}
