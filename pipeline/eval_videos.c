/* Where a dataset's videos are: one recursive scan of the videos directory,
 * indexed by file name without extension. Kinetics releases differ in layout
 * (flat, <label>/, <split>/<label>/) and in how clips are named
 * (<id>_<start>_<end> or just <id>), so rows are matched by name, not by a
 * fixed path pattern. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pipeline/eval.h"

#define MAX_DEPTH 4

typedef struct entry {
    char *stem, *path;
} entry;

struct vidi_eval_video_index {
    entry *v;
    int n, cap;
};

static int is_video_name(const char *name, size_t *stem_len) {
    static const char *const exts[] = {".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v", ".mpg", ".mpeg", ".ogv", ".flv"};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot, exts[i])) {
            *stem_len = (size_t)(dot - name);
            return 1;
        }
    return 0;
}

static int add(vidi_eval_video_index *ix, const char *name, size_t stem_len, const char *path) {
    if (ix->n == ix->cap) {
        int cap = ix->cap ? 2 * ix->cap : 256;
        entry *v = realloc(ix->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        ix->v = v, ix->cap = cap;
    }
    entry *e = &ix->v[ix->n];
    e->stem = strndup(name, stem_len);
    e->path = strdup(path);
    if (!e->stem || !e->path) {
        free(e->stem), free(e->path);
        return -1;
    }
    ix->n++;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directory entries sorted, so that the index (and which of two equal stems
 * wins) does not depend on the file system's order. */
static vidi_status scan(vidi_eval_video_index *ix, const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) return depth == 0 ? vidi_set_error(VIDI_ERR_IO, "%s: cannot open the videos directory", dir) : VIDI_OK;
    char **names = NULL;
    int n = 0, cap = 0;
    vidi_status s = VIDI_OK;
    struct dirent *de;
    while (!s && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **v = realloc(names, sizeof *v * (size_t)cap);
            if (!v) s = VIDI_ERR_NOMEM;
            else names = v;
        }
        if (!s && !(names[n++] = strdup(de->d_name))) s = VIDI_ERR_NOMEM, n--;
    }
    closedir(d);
    if (!s) qsort(names, (size_t)n, sizeof *names, by_name);
    char path[4096];
    for (int i = 0; i < n && !s; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) continue;
        struct stat sb;
        if (stat(path, &sb) != 0) continue;
        size_t stem_len;
        if (S_ISDIR(sb.st_mode) && depth < MAX_DEPTH) s = scan(ix, path, depth + 1);
        else if (S_ISREG(sb.st_mode) && is_video_name(names[i], &stem_len) && add(ix, names[i], stem_len, path))
            s = VIDI_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    if (s == VIDI_ERR_NOMEM) return vidi_set_error(s, "%s: out of memory indexing videos", dir);
    return s;
}

static int by_stem(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    int c = strcmp(a->stem, b->stem);
    return c ? c : strcmp(a->path, b->path);
}

vidi_status vidi_eval_video_index_build(const char *dir, vidi_eval_video_index **out) {
    *out = NULL;
    vidi_eval_video_index *ix = calloc(1, sizeof *ix);
    if (!ix) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    vidi_status s = scan(ix, dir, 0);
    if (s) {
        vidi_eval_video_index_free(ix);
        return s;
    }
    if (ix->n) qsort(ix->v, (size_t)ix->n, sizeof *ix->v, by_stem);
    *out = ix;
    return VIDI_OK;
}

void vidi_eval_video_index_free(vidi_eval_video_index *ix) {
    if (!ix) return;
    for (int i = 0; i < ix->n; i++) free(ix->v[i].stem), free(ix->v[i].path);
    free(ix->v);
    free(ix);
}

/* First entry whose stem is >= key. */
static int lower_bound(const vidi_eval_video_index *ix, const char *key) {
    int lo = 0, hi = ix->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (strcmp(ix->v[mid].stem, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const char *vidi_eval_video_index_find(const vidi_eval_video_index *ix, const char *stem, int prefix) {
    if (!ix || !stem) return NULL;
    int i = lower_bound(ix, stem);
    if (i < ix->n && !strcmp(ix->v[i].stem, stem)) return ix->v[i].path;
    if (!prefix) return NULL;
    size_t len = strlen(stem);
    char key[1024];
    if (len + 2 > sizeof key) return NULL;
    memcpy(key, stem, len);
    key[len] = '_', key[len + 1] = '\0';
    i = lower_bound(ix, key);
    if (i >= ix->n || strncmp(ix->v[i].stem, key, len + 1)) return NULL;
    /* Several clips of one video: ambiguous, so not a match. */
    if (i + 1 < ix->n && !strncmp(ix->v[i + 1].stem, key, len + 1)) return NULL;
    return ix->v[i].path;
}
