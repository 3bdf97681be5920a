/* Class order for evaluation: published label orders differ (Kinetics
 * label maps, SSv2 labels.json), so the order is read from a file the user
 * names. Formats: text (one name per line), JSON {name: index} (SSv2),
 * JSON [names], or a config.json with id2label. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "nn/io/json_file.h"
#include "nn/io/labels.h"
#include "pipeline/eval.h"

vidi_status vidi_eval_format_parse(const char *name, vidi_eval_format *out) {
    static const char *const names[] = {"kinetics", "ssv2", "list"};
    for (int i = 0; i < 3; i++)
        if (name && !strcmp(name, names[i])) {
            *out = (vidi_eval_format)i;
            return VIDI_OK;
        }
    return vidi_set_error(VIDI_ERR_ARG, "--dataset: '%s' is not kinetics, ssv2 or list", name ? name : "");
}

const char *vidi_eval_format_name(vidi_eval_format f) {
    return f == VIDI_EVAL_KINETICS ? "kinetics" : f == VIDI_EVAL_SSV2 ? "ssv2" : "list";
}

void vidi_eval_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

/* "12" -> 12 (canonical decimal within [0, limit)), else -1. */
static int index_of(const cJSON *v, int limit) {
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        return d >= 0 && d < limit && d == (int)d ? (int)d : -1;
    }
    if (!cJSON_IsString(v)) return -1;
    const char *s = v->valuestring;
    if (!s[0] || (s[0] == '0' && s[1])) return -1;
    long x = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (x = x * 10 + (*s - '0')) >= limit) return -1;
    }
    return (int)x;
}

static vidi_status from_json(const char *path, const cJSON *root, char ***names, int *n) {
    if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "id2label")) {
        vidi_labels l;
        vidi_status s = vidi_labels_from_id2label(root, path, &l);
        if (s) return s;
        *names = l.names, *n = l.count;
        return VIDI_OK;
    }
    int count = cJSON_GetArraySize(root);
    if ((!cJSON_IsObject(root) && !cJSON_IsArray(root)) || count == 0)
        return vidi_set_error(VIDI_ERR_FORMAT,
                              "%s: expected a non-empty JSON object {name: index} or array of names", path);
    char **v = calloc((size_t)count, sizeof *v);
    if (!v) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        int i = cJSON_IsArray(root) ? k : index_of(e, count);
        const char *name = cJSON_IsArray(root) ? cJSON_GetStringValue(e) : e->string;
        vidi_status s = VIDI_OK;
        if (!name) s = vidi_set_error(VIDI_ERR_FORMAT, "%s: entry %d is not a string", path, k);
        else if (i < 0)
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: '%s' maps to no class index in [0, %d)", path, name, count);
        else if (v[i]) s = vidi_set_error(VIDI_ERR_FORMAT, "%s: class index %d is given twice", path, i);
        else if (!(v[i] = strdup(name))) s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
        if (s) {
            vidi_eval_names_free(v, count);
            return s;
        }
        k++;
    }
    *names = v, *n = count;
    return VIDI_OK;
}

vidi_status vidi_eval_labels_load(const char *path, char ***names, int *n) {
    *names = NULL, *n = 0;
    size_t len = strlen(path);
    vidi_status s;
    if (len >= 5 && !strcmp(path + len - 5, ".json")) {
        cJSON *root = NULL;
        if ((s = vidi_json_load_file(path, &root))) return s;
        s = from_json(path, root, names, n);
        cJSON_Delete(root);
    } else {
        vidi_labels l;
        if ((s = vidi_labels_load_text(path, &l))) return s;
        *names = l.names, *n = l.count;
    }
    if (s) return s;
    /* Rows name classes, so two classes with one name would be ambiguous. */
    for (int i = 0; i < *n; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp((*names)[i], (*names)[j])) {
                s = vidi_set_error(VIDI_ERR_FORMAT, "%s: class '%s' is listed twice (index %d and %d)", path,
                                   (*names)[i], j, i);
                vidi_eval_names_free(*names, *n);
                *names = NULL, *n = 0;
                return s;
            }
    return VIDI_OK;
}
