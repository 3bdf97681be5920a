/* Config-file JSON helpers: whole-file parse with a byte position on error,
 * typed getters whose errors name the file and the key. */
#include "nn/io/json_file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Config files are small; a bigger one is a wrong path, not a config. */
#define JSON_MAX_FILE (256u << 20)

static vidi_status read_whole(const char *path, char **text, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory reading the file", path);
        }
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        if (cap > JSON_MAX_FILE) {
            free(buf);
            fclose(f);
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: larger than %u bytes, not a config file",
                                  path, JSON_MAX_FILE);
        }
        cap *= 2;
        char *grown = realloc(buf, cap);
        if (!grown) free(buf);
        buf = grown;
    }
    if (ferror(f)) {
        int err = errno; /* a directory opens but fails here with EISDIR */
        free(buf);
        fclose(f);
        return vidi_set_error(VIDI_ERR_IO, "%s: cannot read: %s", path, strerror(err));
    }
    fclose(f);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return VIDI_OK;
}

static int line_of(const char *text, size_t at) {
    int line = 1;
    for (size_t i = 0; i < at; i++) line += text[i] == '\n';
    return line;
}

vidi_status vidi_json_load_file(const char *path, cJSON **out) {
    if (!path || !out) return vidi_set_error(VIDI_ERR_ARG, "vidi_json_load_file: NULL argument");
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    vidi_status s = read_whole(path, &text, &len);
    if (s != VIDI_OK) return s;
    /* Editors on Windows write a UTF-8 byte order mark; it is not JSON. */
    size_t start = (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) ? 3 : 0;
    size_t bad = len;
    const char *nul = memchr(text, '\0', len);
    cJSON *root = NULL;
    if (nul) {
        bad = (size_t)(nul - text); /* cJSON would silently stop there */
    } else {
        const char *end = NULL;
        root = cJSON_ParseWithOpts(text + start, &end, 1);
        if (!root) bad = end ? (size_t)(end - text) : start;
    }
    if (!root) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: invalid JSON near byte %zu (line %d)", path, bad,
                           line_of(text, bad));
        free(text);
        return s;
    }
    free(text);
    *out = root;
    return VIDI_OK;
}

/* The item for `key`, or NULL when absent or null (then *s says whether that
 * is an error). */
static const cJSON *lookup(const cJSON *obj, const char *key, const char *file, int required,
                           vidi_status *s) {
    *s = VIDI_OK;
    if (!file) file = "<json>";
    if (!key) {
        *s = vidi_set_error(VIDI_ERR_ARG, "%s: NULL key", file);
        return NULL;
    }
    if (!cJSON_IsObject(obj)) {
        *s = vidi_set_error(VIDI_ERR_FORMAT, "%s: expected a JSON object holding key '%s'", file,
                            key);
        return NULL;
    }
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (item && !cJSON_IsNull(item)) return item;
    if (required) *s = vidi_set_error(VIDI_ERR_FORMAT, "%s: missing key '%s'", file, key);
    return NULL;
}

static vidi_status wrong_type(const char *file, const char *key, const char *what) {
    return vidi_set_error(VIDI_ERR_FORMAT, "%s: key '%s' must be %s", file ? file : "<json>", key,
                          what);
}

vidi_status vidi_json_get_int(const cJSON *obj, const char *key, const char *file, int *out,
                              int default_value, int required) {
    vidi_status s;
    const cJSON *item = lookup(obj, key, file, required, &s);
    if (!item) {
        if (s == VIDI_OK && out) *out = default_value;
        return s;
    }
    double v = item->valuedouble;
    /* The range test comes first so the cast below is defined. */
    if (!cJSON_IsNumber(item) || !(v >= (double)INT_MIN && v <= (double)INT_MAX) || (double)(int)v != v)
        return wrong_type(file, key, "an integer");
    if (out) *out = (int)v;
    return VIDI_OK;
}

vidi_status vidi_json_get_float(const cJSON *obj, const char *key, const char *file, double *out,
                                double default_value, int required) {
    vidi_status s;
    const cJSON *item = lookup(obj, key, file, required, &s);
    if (!item) {
        if (s == VIDI_OK && out) *out = default_value;
        return s;
    }
    if (!cJSON_IsNumber(item)) return wrong_type(file, key, "a number");
    if (out) *out = item->valuedouble;
    return VIDI_OK;
}

vidi_status vidi_json_get_string(const cJSON *obj, const char *key, const char *file,
                                 const char **out, const char *default_value, int required) {
    vidi_status s;
    const cJSON *item = lookup(obj, key, file, required, &s);
    if (!item) {
        if (s == VIDI_OK && out) *out = default_value;
        return s;
    }
    if (!cJSON_IsString(item)) return wrong_type(file, key, "a string");
    if (out) *out = item->valuestring;
    return VIDI_OK;
}

vidi_status vidi_json_get_bool(const cJSON *obj, const char *key, const char *file, int *out,
                               int default_value, int required) {
    vidi_status s;
    const cJSON *item = lookup(obj, key, file, required, &s);
    if (!item) {
        if (s == VIDI_OK && out) *out = default_value;
        return s;
    }
    if (!cJSON_IsBool(item)) return wrong_type(file, key, "true or false");
    if (out) *out = cJSON_IsTrue(item) ? 1 : 0;
    return VIDI_OK;
}

vidi_status vidi_json_get_float_array(const cJSON *obj, const char *key, const char *file,
                                      double *out, int n, const double *default_value,
                                      int required) {
    if (n < 0 || (n > 0 && !out))
        return vidi_set_error(VIDI_ERR_ARG, "%s: key '%s': bad output array", file ? file : "<json>",
                              key ? key : "");
    vidi_status s;
    const cJSON *item = lookup(obj, key, file, required, &s);
    if (!item) {
        if (s == VIDI_OK && default_value && n > 0) memcpy(out, default_value, (size_t)n * sizeof *out);
        return s;
    }
    char what[64];
    snprintf(what, sizeof what, "an array of %d number%s", n, n == 1 ? "" : "s");
    if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != n) return wrong_type(file, key, what);
    for (const cJSON *e = item->child; e; e = e->next)
        if (!cJSON_IsNumber(e)) return wrong_type(file, key, what);
    int i = 0;
    for (const cJSON *e = item->child; e; e = e->next) out[i++] = e->valuedouble;
    return VIDI_OK;
}
