/* The output directory of `vidi eval` (layout in eval_session.c): run.json
 * for --resume, leftover shard files of an earlier rank count, and the
 * merge of shard files into one results.jsonl sorted by item index. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/eval_internal.h"
#include "pipeline/eval_session.h"

vidi_status vidi_eval_mkdir_p(const char *dir) {
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s", dir) >= sizeof buf)
        return vidi_set_error(VIDI_ERR_ARG, "%s: path too long", dir);
    for (char *p = buf + 1;; p++) {
        int end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return vidi_set_error(VIDI_ERR_IO, "%s: cannot create: %s", buf, strerror(errno));
            if (end) break;
            *p = '/';
        }
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return vidi_set_error(VIDI_ERR_IO, "%s: not a directory", dir);
    return VIDI_OK;
}

static char *run_json(const vidi_eval_options *o, const char *model) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    char views[32];
    snprintf(views, sizeof views, "%dx%d", o->views_t, o->views_s);
    cJSON_AddStringToObject(j, "dataset", vidi_eval_format_name(o->format));
    cJSON_AddStringToObject(j, "annotations", o->annotations);
    cJSON_AddStringToObject(j, "labels", o->labels ? o->labels : "");
    cJSON_AddStringToObject(j, "videos", o->videos ? o->videos : "");
    cJSON_AddStringToObject(j, "model", model);
    cJSON_AddStringToObject(j, "views", views);
    cJSON_AddNumberToObject(j, "frames", o->frames);
    cJSON_AddNumberToObject(j, "stride", o->stride);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

/* Rank 0: a fresh directory gets run.json; --resume needs the same run. */
vidi_status vidi_eval_check_run_file(const struct vidi_eval_options *o, const char *model) {
    char path[4200], *want = run_json(o, model), *have = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/run.json", o->out);
    vidi_status s = VIDI_OK;
    if (!want) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    if (access(path, F_OK) != 0) {
        size_t n = strlen(want);
        want[n] = '\n';
        s = vidi_eval_write_atomic(path, want, n + 1);
    } else if (!o->resume) {
        s = vidi_set_error(VIDI_ERR_ARG, "%s holds an earlier evaluation: --resume to continue it, or another --out",
                           o->out);
    } else if (!(s = vidi_eval_read_file(path, &have, &len))) {
        while (len && (have[len - 1] == '\n' || have[len - 1] == '\r')) have[--len] = '\0';
        if (strcmp(have, want))
            s = vidi_set_error(VIDI_ERR_ARG,
                               "%s: --resume with different settings (dataset, annotations, labels, videos, model, "
                               "views, frames or stride); it holds %s",
                               path, have);
    }
    free(have);
    cJSON_free(want);
    return s;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* results.rank-R-of-W.jsonl files of another W (an earlier run with another
 * rank count): their records count as done and are merged at the end. */
static int is_leftover_part(const char *name, int world) {
    int r, w, n = 0;
    if (sscanf(name, "results.rank-%d-of-%d.jsonl%n", &r, &w, &n) != 2 || name[n]) return 0;
    return world == 1 || w != world;
}

vidi_status vidi_eval_leftover_parts(const char *dir, int world, name_list *out) {
    out->v = NULL, out->n = 0;
    DIR *d = opendir(dir);
    if (!d) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
    struct dirent *de;
    vidi_status s = VIDI_OK;
    while (!s && (de = readdir(d))) {
        if (!is_leftover_part(de->d_name, world)) continue;
        char **v = realloc(out->v, sizeof *v * (size_t)(out->n + 1));
        if (!v || asprintf(&v[out->n], "%s/%s", dir, de->d_name) < 0) s = vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        if (v) out->v = v;
        if (!s) out->n++;
    }
    closedir(d);
    if (!s && out->n > 1) qsort(out->v, (size_t)out->n, sizeof *out->v, by_name); /* readdir order is arbitrary */
    return s;
}

vidi_status vidi_eval_clear_outputs(const char *dir) {
    static const char *const files[] = {"run.json", "results.jsonl", "summary.json", "report.html"};
    char path[4200];
    name_list parts;
    vidi_status s = vidi_eval_leftover_parts(dir, 1, &parts);
    for (int i = 0; !s && i < parts.n; i++)
        if (unlink(parts.v[i]) != 0) s = vidi_set_error(VIDI_ERR_IO, "%s: cannot remove: %s", parts.v[i], strerror(errno));
    for (size_t i = 0; !s && i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (unlink(path) != 0 && errno != ENOENT) s = vidi_set_error(VIDI_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    }
    vidi_eval_names_free(parts.v, parts.n);
    return s;
}

/* Record lines sorted by item index, first record of an index kept. */
typedef struct line_ref {
    int index, order;
    const char *text;
    size_t len;
} line_ref;

static int by_index(const void *pa, const void *pb) {
    const line_ref *a = pa, *b = pb;
    return a->index != b->index ? (a->index < b->index ? -1 : 1) : a->order - b->order;
}

vidi_status vidi_eval_merge_write(const char *path, const char *text, size_t len) {
    int n = 0;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    line_ref *v = malloc(sizeof *v * (size_t)(n ? n : 1));
    if (!v) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory merging results");
    int k = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        int index = -1;
        if (end > at && sscanf(text + at, "{\"index\":%d", &index) == 1 && k < n)
            v[k] = (line_ref){index, k, text + at, end - at}, k++;
        at = end + 1;
    }
    qsort(v, (size_t)k, sizeof *v, by_index);
    char *buf = malloc(len + 1);
    size_t pos = 0;
    for (int i = 0; buf && i < k; i++) {
        if (i && v[i].index == v[i - 1].index) continue;
        memcpy(buf + pos, v[i].text, v[i].len);
        pos += v[i].len;
        buf[pos++] = '\n';
    }
    vidi_status s = buf ? vidi_eval_write_atomic(path, buf, pos) : vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    free(buf);
    free(v);
    return s;
}

/* Appends a file's complete lines to a growing buffer. */
vidi_status vidi_eval_append_file(const char *path, char **buf, size_t *len) {
    if (access(path, F_OK) != 0) return VIDI_OK;
    char *t;
    size_t n;
    vidi_status s = vidi_eval_read_file(path, &t, &n);
    if (s) return s;
    while (n && t[n - 1] != '\n') n--;
    char *v = realloc(*buf, *len + n + 1);
    if (!v) {
        free(t);
        return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    }
    memcpy(v + *len, t, n);
    *len += n;
    v[*len] = '\0';
    *buf = v;
    free(t);
    return VIDI_OK;
}

