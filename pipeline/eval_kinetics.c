/* Kinetics annotations: CSV `label,youtube_id,time_start,time_end,split`
 * (the header names the columns; without one that order is assumed). Clips
 * are <youtube_id>_<start:06d>_<end:06d>.<ext> anywhere under the videos
 * directory, or the one file named <youtube_id>[_...]. Class indices follow
 * the labels file, else the labels in the CSV sorted by byte order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval_internal.h"

#define MAX_FIELDS 16

vidi_status vidi_eval_read_file(const char *path, char **text, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? 2 * cap : 65536;
            char *v = realloc(buf, cap + 1);
            if (!v) {
                free(buf), fclose(f);
                return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = v;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return vidi_set_error(VIDI_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *text = buf, *len = n;
    return VIDI_OK;
}

/* Splits one CSV line in place (RFC 4180 quotes, "" inside quotes).
 * Returns the field count, -1 on an unterminated quote. */
static int split_csv(char *line, char **fields) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAX_FIELDS) return n + 1;
        char *w = p;
        fields[n++] = w;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') *w++ = '"', p += 2;
                else if (*p == '"') { p++; break; }
                else *w++ = *p++;
            }
            if (*p && *p != ',') return -1;
        } else {
            while (*p && *p != ',') *w++ = *p++;
        }
        int more = *p == ',';
        *w = '\0';
        if (!more) return n;
        p++;
    }
}

/* Non-negative whole seconds ("63", "63.0"); -1 otherwise. */
static long parse_time(const char *s) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || v < 0 || v > 1e8 || v != (long)v) return -1;
    return (long)v;
}

typedef struct row {
    int line;
    char *label, *yid;
    long start, end;
} row;

static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Alphabetical class list from the rows' labels (distinct). */
static vidi_status default_classes(eval_builder *b, const row *rows, int n) {
    char **v = malloc(sizeof *v * (size_t)(n ? n : 1));
    if (!v) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) v[i] = rows[i].label;
    qsort(v, (size_t)n, sizeof *v, by_string);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!k || strcmp(v[k - 1], v[i])) v[k++] = v[i];
    for (int i = 0; i < k; i++)
        if (!(v[i] = strdup(v[i]))) {
            vidi_eval_names_free(v, i);
            return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        }
    return vidi_eval_builder_classes(b, v, k);
}

static vidi_status add_rows(eval_builder *b, const row *rows, int n) {
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        int label = vidi_eval_class_index(b, r->label);
        if (label < 0) {
            if (vidi_eval_row_error(b, r->line, "label '%s' is not in the labels file; row skipped", r->label)) goto nomem;
            continue;
        }
        char id[1100];
        snprintf(id, sizeof id, "%s_%06ld_%06ld", r->yid, r->start, r->end);
        const char *path = vidi_eval_video_index_find(b->index, id, 0);
        if (!path) path = vidi_eval_video_index_find(b->index, r->yid, 1);
        if (vidi_eval_add_item(b, r->line, id, label, path)) goto nomem;
    }
    return VIDI_OK;
nomem:
    return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", b->file);
}

vidi_status vidi_eval_read_kinetics(eval_builder *b, const char *labels) {
    char *text = NULL;
    size_t len = 0;
    vidi_status s = vidi_eval_read_file(b->file, &text, &len);
    if (s) return s;
    row *rows = NULL;
    int n = 0, cap = 0, lineno = 0, col[4] = {0, 1, 2, 3}, n_cols = 0;
    char *fields[MAX_FIELDS];
    for (char *line = text, *next; !s && line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r') line[--l] = '\0';
        if (!l) continue;
        int header = lineno == 1 && (strstr(line, "youtube_id") || !strncmp(line, "label,", 6));
        int nf = split_csv(line, fields);
        if (header && nf > 0) { /* header: find the columns by name */
            static const char *const names[4] = {"label", "youtube_id", "time_start", "time_end"};
            n_cols = nf;
            for (int c = 0; c < 4 && !s; c++) {
                col[c] = -1;
                for (int f = 0; f < nf && f < MAX_FIELDS; f++)
                    if (!strcmp(fields[f], names[c])) col[c] = f;
                if (col[c] < 0)
                    s = vidi_set_error(VIDI_ERR_FORMAT, "%s:1: the header has no '%s' column", b->file, names[c]);
            }
            continue;
        }
        int need = n_cols ? n_cols : 4, bad;
        if (nf < 0) bad = vidi_eval_row_error(b, lineno, "unterminated quote; row skipped");
        else if (nf < need || (n_cols && nf != n_cols) || nf > MAX_FIELDS)
            bad = vidi_eval_row_error(b, lineno, "expected %d comma-separated fields, found %d; row skipped", need, nf);
        else if (!*fields[col[0]]) bad = vidi_eval_row_error(b, lineno, "empty label; row skipped");
        else if (!*fields[col[1]] || strlen(fields[col[1]]) > 512 || strchr(fields[col[1]], '/'))
            bad = vidi_eval_row_error(b, lineno, "youtube_id '%.64s' is empty, too long or has a '/'; row skipped",
                                 fields[col[1]]);
        else if (parse_time(fields[col[2]]) < 0 || parse_time(fields[col[3]]) < 0)
            bad = vidi_eval_row_error(b, lineno, "time_start/time_end '%.32s', '%.32s' are not whole seconds; row skipped",
                                 fields[col[2]], fields[col[3]]);
        else {
            if (n == cap) {
                cap = cap ? 2 * cap : 1024;
                row *v = realloc(rows, sizeof *v * (size_t)cap);
                if (!v) goto nomem;
                rows = v;
            }
            rows[n++] = (row){lineno, fields[col[0]], fields[col[1]], parse_time(fields[col[2]]),
                              parse_time(fields[col[3]])};
            continue;
        }
        if (bad) goto nomem;
    }
    if (!s) {
        if (labels) {
            char **names;
            int nn;
            if (!(s = vidi_eval_labels_load(labels, &names, &nn))) s = vidi_eval_builder_classes(b, names, nn);
        } else {
            s = default_classes(b, rows, n);
        }
    }
    if (!s) s = add_rows(b, rows, n);
    free(rows);
    free(text);
    return s;
nomem:
    free(rows);
    free(text);
    return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", b->file);
}
