/* Label lists from config.json id2label or from plain text. */
#include "nn/io/labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/io/json_file.h"

/* A label list longer than this is a wrong file, not a dataset. */
#define LABELS_MAX 10000000

void vidi_labels_free(vidi_labels *labels) {
    if (!labels) return;
    for (int i = 0; i < labels->count; i++) free(labels->names[i]);
    free(labels->names);
    labels->names = NULL;
    labels->count = 0;
}

const char *vidi_labels_get(const vidi_labels *labels, int index) {
    if (!labels || index < 0 || index >= labels->count) return NULL;
    return labels->names[index];
}

/* "0", "17": canonical decimal only, so "01" and "1" cannot both name class 1. */
static int parse_index(const char *s, int limit) {
    if (!s[0] || (s[0] == '0' && s[1])) return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
        if (v >= limit) return -1;
    }
    return (int)v;
}

vidi_status vidi_labels_from_id2label(const cJSON *config, const char *file, vidi_labels *out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_labels_from_id2label: out is NULL");
    out->count = 0;
    out->names = NULL;
    if (!file) file = "<config>";
    if (!cJSON_IsObject(config))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: not a JSON object", file);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(config, "id2label");
    if (!map) return vidi_set_error(VIDI_ERR_FORMAT, "%s: missing key 'id2label'", file);
    if (!cJSON_IsObject(map))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: key 'id2label' must be an object", file);
    int n = cJSON_GetArraySize(map);
    if (n == 0) return vidi_set_error(VIDI_ERR_FORMAT, "%s: key 'id2label' is empty", file);
    char **names = calloc((size_t)n, sizeof *names);
    if (!names) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for %d labels", file, n);
    vidi_labels result = {n, names};
    /* n entries, each index in [0, n) and none twice: together that means
     * every index 0..n-1 is present. */
    for (const cJSON *e = map->child; e; e = e->next) {
        int i = parse_index(e->string, n);
        vidi_status s = VIDI_OK;
        if (i < 0)
            s = vidi_set_error(VIDI_ERR_FORMAT,
                               "%s: id2label key '%.64s' is not an index 0..%d (%d entr%s)", file,
                               e->string, n - 1, n, n == 1 ? "y" : "ies");
        else if (names[i])
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: id2label key '%.64s' appears twice", file,
                               e->string);
        else if (!cJSON_IsString(e))
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: id2label key '%.64s' must map to a string", file,
                               e->string);
        else if (!(names[i] = strdup(e->valuestring)))
            s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for labels", file);
        if (s != VIDI_OK) {
            vidi_labels_free(&result);
            return s;
        }
    }
    *out = result;
    return VIDI_OK;
}

vidi_status vidi_labels_load_config(const char *path, vidi_labels *out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_labels_load_config: out is NULL");
    out->count = 0;
    out->names = NULL;
    cJSON *root;
    vidi_status s = vidi_json_load_file(path, &root);
    if (s != VIDI_OK) return s;
    s = vidi_labels_from_id2label(root, path, out);
    cJSON_Delete(root);
    return s;
}

static vidi_status push_label(vidi_labels *l, int *cap, const char *s, size_t n, const char *path) {
    if (l->count == *cap) {
        int grown = *cap ? *cap * 2 : 64;
        char **names = realloc(l->names, (size_t)grown * sizeof *names);
        if (!names) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for labels", path);
        l->names = names;
        *cap = grown;
    }
    char *copy = malloc(n + 1);
    if (!copy) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for labels", path);
    memcpy(copy, s, n);
    copy[n] = '\0';
    l->names[l->count++] = copy;
    return VIDI_OK;
}

vidi_status vidi_labels_load_text(const char *path, vidi_labels *out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_labels_load_text: out is NULL");
    out->count = 0;
    out->names = NULL;
    if (!path) return vidi_set_error(VIDI_ERR_ARG, "vidi_labels_load_text: path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    vidi_labels result = {0, NULL};
    int cap = 0, line = 0, blank_line = 0; /* first blank line not yet followed by a label */
    char *buf = NULL;
    size_t bufcap = 0;
    ssize_t got;
    vidi_status s = VIDI_OK;
    while (s == VIDI_OK && (got = getline(&buf, &bufcap, f)) >= 0) {
        line++;
        size_t n = (size_t)got;
        if (memchr(buf, '\0', n)) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: line %d contains a NUL byte", path, line);
            break;
        }
        const char *text = buf;
        if (line == 1 && n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) { text += 3; n -= 3; }
        while (n > 0 && strchr("\r\n \t", text[n - 1])) n--;
        if (n == 0) {
            if (!blank_line) blank_line = line;
            continue;
        }
        if (blank_line) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: line %d is empty (labels are one per line)",
                               path, blank_line);
            break;
        }
        if (result.count >= LABELS_MAX) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: more than %d labels", path, LABELS_MAX);
            break;
        }
        s = push_label(&result, &cap, text, n, path);
    }
    if (s == VIDI_OK && ferror(f))
        s = vidi_set_error(VIDI_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    if (s == VIDI_OK && result.count == 0)
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: no labels in the file", path);
    free(buf);
    fclose(f);
    if (s != VIDI_OK) {
        vidi_labels_free(&result);
        return s;
    }
    *out = result;
    return VIDI_OK;
}

vidi_status vidi_labels_load(const char *path, vidi_labels *out) {
    if (!path || !out) return vidi_set_error(VIDI_ERR_ARG, "vidi_labels_load: NULL argument");
    size_t n = strlen(path);
    if (n >= 5 && !strcmp(path + n - 5, ".json")) return vidi_labels_load_config(path, out);
    return vidi_labels_load_text(path, out);
}
