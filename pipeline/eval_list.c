/* Plain list: "PATH LABEL" per line, LABEL a class index or a class name
 * without spaces (the last field, so PATH may hold spaces); blank lines and
 * lines starting with '#' are skipped. Relative paths are under the videos
 * directory when one is given, else beside the list file. Classes: the
 * labels file, else the model's label names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/eval_internal.h"

static int parse_index(const char *s, int n) {
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return *s && !*end && v >= 0 && v < n ? (int)v : -1;
}

static int is_integer(const char *s) {
    if (*s == '-') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

vidi_status vidi_eval_read_list(eval_builder *b, const char *labels, char *const *model_labels, int n_model_labels) {
    char **names = NULL;
    int nn = 0;
    vidi_status s;
    if (labels) {
        if ((s = vidi_eval_labels_load(labels, &names, &nn))) return s;
    } else if (model_labels && n_model_labels > 0) {
        if (!(names = calloc((size_t)n_model_labels, sizeof *names))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        for (nn = 0; nn < n_model_labels; nn++)
            if (!(names[nn] = strdup(model_labels[nn] ? model_labels[nn] : ""))) {
                vidi_eval_names_free(names, nn);
                return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
            }
    } else {
        return vidi_set_error(VIDI_ERR_ARG, "%s: a list dataset needs --labels (the model names no classes)", b->file);
    }
    if ((s = vidi_eval_builder_classes(b, names, nn))) return s;
    char *text = NULL;
    size_t len = 0;
    if ((s = vidi_eval_read_file(b->file, &text, &len))) return s;
    char path[8400];
    const char *dir = b->videos_dir; /* --videos, else the list file's directory */
    int lineno = 0, rc = 0;
    for (char *line = text, *next; !rc && line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t')) line[--l] = '\0';
        if (!l || line[0] == '#') continue;
        char *sp = strrchr(line, ' '), *tab = strrchr(line, '\t');
        if (tab > sp) sp = tab;
        if (!sp || sp == line) {
            rc = vidi_eval_row_error(b, lineno, "expected 'PATH LABEL'; row skipped");
            continue;
        }
        *sp = '\0';
        const char *lab = sp + 1;
        char *p = line + strlen(line);
        while (p > line && (p[-1] == ' ' || p[-1] == '\t')) *--p = '\0';
        int label = is_integer(lab) ? parse_index(lab, nn) : vidi_eval_class_index(b, lab);
        if (label < 0) {
            rc = is_integer(lab) ? vidi_eval_row_error(b, lineno, "label %s is not a class index in [0, %d); row skipped", lab, nn)
                                 : vidi_eval_row_error(b, lineno, "label '%s' is not in the labels file; row skipped", lab);
            continue;
        }
        if (line[0] == '/') snprintf(path, sizeof path, "%s", line);
        else snprintf(path, sizeof path, "%s/%s", dir, line);
        rc = vidi_eval_add_item(b, lineno, line, label, access(path, R_OK) == 0 ? path : NULL);
    }
    free(text);
    return rc ? vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", b->file) : VIDI_OK;
}
