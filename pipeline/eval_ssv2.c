/* Something-Something v2: validation.json is an array of
 * {"id", "label", "template", "placeholders"}; the class is the template
 * with its brackets removed ("Putting [something] on [something]" ->
 * "Putting something on something"), indexed by labels.json. Videos are
 * <id>.webm (any video extension) under the videos directory.
 *
 * Each array element is parsed on its own so that a malformed entry is
 * reported with its line and the rest of the file still loads. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval_internal.h"

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* End of the JSON value starting at p: the ',' or ']' that follows it at
 * depth 0 (strings and nesting respected); NULL at the end of the text. */
static const char *value_end(const char *p) {
    int depth = 0;
    for (; *p; p++) {
        if (*p == '"') {
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1]) p++;
            if (!*p) return NULL;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0) return p;
            depth--;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
    }
    return NULL;
}

static int line_of(const char *p, const char **mark, int *line) {
    for (; *mark < p; (*mark)++)
        if (**mark == '\n') (*line)++;
    return *line;
}

/* One element: 0 added or reported, -1 out of memory. */
static int add_entry(eval_builder *b, const char *start, size_t len, int line) {
    cJSON *e = cJSON_ParseWithLength(start, len);
    if (!e) return vidi_eval_row_error(b, line, "entry is not valid JSON; skipped");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
    const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(e, "template");
    char idbuf[64], key[1024];
    const char *ids = cJSON_IsString(id) ? id->valuestring : NULL;
    if (cJSON_IsNumber(id) && id->valuedouble >= 0 && id->valuedouble == (double)(long long)id->valuedouble)
        snprintf(idbuf, sizeof idbuf, "%lld", (long long)id->valuedouble), ids = idbuf;
    int rc;
    if (!cJSON_IsObject(e) || !ids || !*ids || strchr(ids, '/') || strlen(ids) > 512)
        rc = vidi_eval_row_error(b, line, "entry has no usable 'id'; skipped");
    else if (!cJSON_IsString(tmpl) || strlen(tmpl->valuestring) >= sizeof key)
        rc = vidi_eval_row_error(b, line, "entry '%s' has no string 'template'; skipped", ids);
    else {
        size_t j = 0;
        for (const char *q = tmpl->valuestring; *q; q++)
            if (*q != '[' && *q != ']') key[j++] = *q;
        key[j] = '\0';
        int label = vidi_eval_class_index(b, key);
        if (label < 0) rc = vidi_eval_row_error(b, line, "template '%s' is not in the labels file; skipped", key);
        else rc = vidi_eval_add_item(b, line, ids, label, vidi_eval_video_index_find(b->index, ids, 0));
    }
    cJSON_Delete(e);
    return rc;
}

vidi_status vidi_eval_read_ssv2(eval_builder *b, const char *labels) {
    char dir[4096], path[4200];
    if (!labels) {
        snprintf(path, sizeof path, "%s/labels.json", vidi_eval_dirname(b->file, dir, sizeof dir));
        labels = path;
    }
    char **names;
    int nn;
    vidi_status s = vidi_eval_labels_load(labels, &names, &nn);
    if (s || (s = vidi_eval_builder_classes(b, names, nn))) return s;
    char *text = NULL;
    size_t len = 0;
    if ((s = vidi_eval_read_file(b->file, &text, &len))) return s;
    const char *mark = text, *p = skip_ws(text);
    int line = 1;
    if (*p != '[') {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s:%d: expected a JSON array of entries", b->file,
                           line_of(p, &mark, &line));
        goto done;
    }
    p = skip_ws(p + 1);
    if (*p == ']') goto done;
    for (;;) {
        const char *end = value_end(p);
        int at = line_of(p, &mark, &line);
        if (!end) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s:%d: unterminated entry (the array never closes)", b->file, at);
            goto done;
        }
        if (add_entry(b, p, (size_t)(end - p), at)) {
            s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", b->file);
            goto done;
        }
        p = skip_ws(end + 1);
        if (*end == ']') break;
    }
    if (*p)
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s:%d: text after the array's closing ']'", b->file,
                           line_of(p, &mark, &line));
done:
    free(text);
    return s;
}
