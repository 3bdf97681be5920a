/* Per-video results, one JSON object per line:
 *   {"index":I,"id":"...","label":L,"status":"ok","top5":[...],"views":V,"logits":[...]}
 *   {"index":I,"id":"...","label":L,"status":"failed","error":"..."}
 * Lines are appended and flushed as videos finish; reading them back is how
 * a run resumes and how the summary is made (so both see the same numbers). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/eval.h"
#include "pipeline/eval_internal.h"

vidi_status vidi_eval_record_write(FILE *f, const vidi_eval_record *r) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    cJSON_AddNumberToObject(o, "index", r->index);
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddNumberToObject(o, "label", r->label);
    cJSON_AddStringToObject(o, "status", r->ok ? "ok" : "failed");
    if (r->ok) {
        cJSON_AddItemToObject(o, "top5", cJSON_CreateIntArray(r->top, r->k));
        cJSON_AddNumberToObject(o, "views", r->views);
        cJSON_AddItemToObject(o, "logits", cJSON_CreateFloatArray(r->logits, r->n_logits));
    } else {
        cJSON_AddStringToObject(o, "error", r->error ? r->error : "unknown error");
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory formatting a result");
    int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0;
    cJSON_free(text);
    return bad ? vidi_set_error(VIDI_ERR_IO, "writing a result failed: %s", strerror(errno)) : VIDI_OK;
}

vidi_status vidi_eval_results_init(vidi_eval_results *r, int n_items) {
    memset(r, 0, sizeof *r);
    r->n_items = n_items;
    r->state = calloc((size_t)n_items, 1);
    r->top = malloc(sizeof *r->top * (size_t)n_items * VIDI_EVAL_TOPK);
    r->errors = calloc((size_t)n_items, sizeof *r->errors);
    if (!r->state || !r->top || !r->errors) {
        vidi_eval_results_free(r);
        return vidi_set_error(VIDI_ERR_NOMEM, "out of memory for %d results", n_items);
    }
    for (size_t i = 0; i < (size_t)n_items * VIDI_EVAL_TOPK; i++) r->top[i] = -1;
    return VIDI_OK;
}

void vidi_eval_results_free(vidi_eval_results *r) {
    if (r->errors)
        for (int i = 0; i < r->n_items; i++) free(r->errors[i]);
    free(r->errors);
    free(r->state);
    free(r->top);
    memset(r, 0, sizeof *r);
}

/* One record line; the message names label:line. */
static vidi_status add_line(vidi_eval_results *r, const vidi_eval_dataset *ds, const char *line, size_t len,
                            const char *label, int lineno) {
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *index = cJSON_GetObjectItemCaseSensitive(o, "index"), *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(o, "label"), *st = cJSON_GetObjectItemCaseSensitive(o, "status");
    vidi_status s = VIDI_OK;
    int i = cJSON_IsNumber(index) ? index->valueint : -1;
    if (!o || !cJSON_IsString(id) || !cJSON_IsNumber(lab) || !cJSON_IsString(st)) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s:%d: not a vidi eval result line", label, lineno);
    } else if (i < 0 || i >= ds->n_items || strcmp(ds->items[i].id, id->valuestring) ||
               ds->items[i].label != lab->valueint) {
        s = vidi_set_error(VIDI_ERR_FORMAT,
                           "%s:%d: result for '%s' does not match this dataset (another run's output? use a new --out)",
                           label, lineno, id->valuestring);
    } else if (!r->state[i]) {
        int ok = !strcmp(st->valuestring, "ok");
        const cJSON *top = cJSON_GetObjectItemCaseSensitive(o, "top5");
        const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "error"));
        int k = cJSON_GetArraySize(top);
        if (ok && (!cJSON_IsArray(top) || k < 1 || k > VIDI_EVAL_TOPK)) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s:%d: result for '%s' has no top5 array", label, lineno,
                               id->valuestring);
        } else if (!ok && strcmp(st->valuestring, "failed")) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s:%d: status '%s' is not ok or failed", label, lineno,
                               st->valuestring);
        } else {
            r->state[i] = ok ? 1 : 2;
            for (int j = 0; ok && j < k; j++) {
                const cJSON *t = cJSON_GetArrayItem(top, j);
                r->top[(size_t)i * VIDI_EVAL_TOPK + j] = cJSON_IsNumber(t) ? t->valueint : -1;
            }
            if (!ok && !(r->errors[i] = strdup(err ? err : "unknown error")))
                s = vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
            r->count++;
        }
    }
    cJSON_Delete(o);
    return s;
}

vidi_status vidi_eval_results_parse(vidi_eval_results *r, const vidi_eval_dataset *ds, const char *text, size_t len,
                                    const char *label) {
    int lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        lineno++;
        if (end > at) {
            vidi_status s = add_line(r, ds, text + at, end - at, label, lineno);
            if (s) return s;
        }
        at = end + 1;
    }
    return VIDI_OK;
}

vidi_status vidi_eval_results_load(vidi_eval_results *r, const vidi_eval_dataset *ds, const char *path, int repair,
                                   int *dropped) {
    if (dropped) *dropped = 0;
    if (access(path, F_OK) != 0) return VIDI_OK;
    char *text = NULL;
    size_t len = 0;
    vidi_status s = vidi_eval_read_file(path, &text, &len);
    if (s) return s;
    /* A run killed while writing leaves a last line without its newline. */
    size_t complete = len;
    while (complete > 0 && text[complete - 1] != '\n') complete--;
    if (complete < len) {
        if (repair == 0) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: the last line is incomplete (an interrupted run: use --resume)",
                               path);
        } else if (repair == 1 && truncate(path, (off_t)complete) != 0) {
            s = vidi_set_error(VIDI_ERR_IO, "%s: cannot cut the incomplete last line: %s", path, strerror(errno));
        } else if (dropped) {
            *dropped = 1;
        }
    }
    if (!s) s = vidi_eval_results_parse(r, ds, text, complete, path);
    free(text);
    return s;
}

vidi_status vidi_eval_write_atomic(const char *path, const char *data, size_t len) {
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return vidi_set_error(VIDI_ERR_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return vidi_set_error(VIDI_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return vidi_set_error(VIDI_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    }
    return VIDI_OK;
}
