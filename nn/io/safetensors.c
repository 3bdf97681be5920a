/* safetensors reader (mmap, validate everything) and F32 writer.
 *
 * The file is untrusted: every byte of the header is checked before a single
 * tensor is handed out, so that later code can index tensor data without
 * bounds checks. Layout: u64 little-endian header length N, N bytes of JSON,
 * then the data section that data_offsets are relative to.
 *
 * Tensors of dtypes vidi does not compute with (I64, U8, F64, ...) are
 * validated like the rest but not listed by count/at/find: real checkpoints
 * carry integer buffers (position_ids, num_batches_tracked) that a model never
 * reads, and refusing the whole file for them would refuse what users have.
 * get_f32 on such a tensor fails naming its dtype. */
#include "vidi/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian and vidi reads F32 in place"
#endif

/* Same limit as the reference implementation: a larger header is an attack
 * or a corrupt length, not a checkpoint. */
#define ST_MAX_HEADER 100000000ull
/* Doubles hold every integer up to 2^53 exactly; cJSON parses numbers as
 * doubles, so larger dims or offsets cannot be trusted to be what was written. */
#define ST_MAX_INT 9007199254740992.0
/* Names in messages are cut so one hostile name cannot fill the message. */
#define ST_NAME_SHOWN 120

typedef struct st_dtype_info {
    const char *name;
    size_t size;
    int vidi; /* vidi_dtype, or -1 when vidi cannot compute with it */
} st_dtype_info;

static const st_dtype_info st_dtypes[] = {
    {"F32", 4, VIDI_F32}, {"F16", 2, VIDI_F16}, {"BF16", 2, VIDI_BF16},
    {"F64", 8, -1},       {"I64", 8, -1},       {"U64", 8, -1},
    {"I32", 4, -1},       {"U32", 4, -1},       {"I16", 2, -1},
    {"U16", 2, -1},       {"I8", 1, -1},        {"U8", 1, -1},
    {"BOOL", 1, -1},      {"F8_E4M3", 1, -1},   {"F8_E5M2", 1, -1},
};
#define ST_NDTYPES ((int)(sizeof st_dtypes / sizeof st_dtypes[0]))

/* One header entry while parsing, before it is sorted into the handle. */
typedef struct st_entry {
    const char *name; /* points into the cJSON tree */
    int dtype;        /* index into st_dtypes */
    int ndim;
    int64_t shape[VIDI_MAX_DIMS];
    uint64_t begin, end;
} st_entry;

typedef struct st_unlisted {
    char *name;
    const char *dtype;
} st_unlisted;

struct vidi_safetensors {
    char *label;
    void *map; /* our mmap (open) or NULL (parse) */
    size_t map_len;
    int count;
    vidi_st_tensor *tensors; /* header order */
    int *by_name;            /* indices into tensors, sorted by name */
    float **converted;       /* per tensor: F32 copy made by get_f32, or NULL */
    int meta_count;
    char **meta; /* key, value, key, value ... */
    int unlisted_count;
    st_unlisted *unlisted; /* sorted by name */
};

/* ---- messages ------------------------------------------------------------ */

/* Printable, bounded copy of an untrusted name: control bytes become '?' so a
 * message stays on one line. */
static const char *shown(const char *name, char buf[ST_NAME_SHOWN + 4]) {
    size_t n = 0;
    for (; name[n] && n < ST_NAME_SHOWN; n++) {
        unsigned char c = (unsigned char)name[n];
        buf[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (name[n]) {
        while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80) n--; /* whole UTF-8 chars */
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
}

#define TENSOR_ERROR(status, label, name, fmt, ...)                                     \
    do {                                                                                \
        char shown_buf_[ST_NAME_SHOWN + 4];                                             \
        return vidi_set_error(status, "%s: tensor '%s': " fmt, label, shown(name, shown_buf_), \
                              __VA_ARGS__);                                             \
    } while (0)

/* ---- header checks ------------------------------------------------------- */

/* Offset of the first byte that breaks UTF-8, or len when it is all valid.
 * cJSON does not check this, and names end up in messages and maps. */
static size_t utf8_invalid_at(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) { n = 1; min = 0x80; c &= 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 2; min = 0x800; c &= 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 3; min = 0x10000; c &= 0x07; }
        else return i;
        if (len - i <= n) return i;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return i;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return i;
        i += n + 1;
    }
    return len;
}

static int utf8_ok(const char *s) {
    size_t n = strlen(s);
    return utf8_invalid_at((const unsigned char *)s, n) == n;
}

/* A JSON number that is an integer in [0, 2^53]. */
static int json_index(const cJSON *item, uint64_t *out) {
    if (!cJSON_IsNumber(item)) return 0;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= ST_MAX_INT)) return 0;
    uint64_t u = (uint64_t)v;
    if ((double)u != v) return 0;
    *out = u;
    return 1;
}

static vidi_status parse_shape(const char *label, const char *name, const cJSON *shape,
                               st_entry *e) {
    if (!cJSON_IsArray(shape))
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s", "'shape' must be an array of integers");
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > VIDI_MAX_DIMS)
        TENSOR_ERROR(VIDI_ERR_UNSUPPORTED, label, name, "shape has %d dims, at most %d are supported",
                     ndim, VIDI_MAX_DIMS);
    int i = 0;
    for (const cJSON *d = shape->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_index(d, &v))
            TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "shape[%d] is not a non-negative integer", i);
        e->shape[i] = (int64_t)v;
    }
    e->ndim = ndim;
    return VIDI_OK;
}

static vidi_status parse_offsets(const char *label, const char *name, const cJSON *offsets,
                                 st_entry *e) {
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_index(offsets->child, &e->begin) || !json_index(offsets->child->next, &e->end))
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s",
                     "'data_offsets' must be two non-negative integers");
    return VIDI_OK;
}

/* Checks one tensor entry; fills `e` (name and fields) on success. */
static vidi_status parse_entry(const char *label, const cJSON *item, size_t data_len,
                               st_entry *e) {
    const char *name = item->string;
    e->name = name;
    if (!cJSON_IsObject(item))
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s", "entry is not an object");

    /* cJSON keeps duplicate keys; an entry with two dtypes is ambiguous. */
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *f = item->child; f; f = f->next) {
        const cJSON **slot = !strcmp(f->string, "dtype")          ? &dtype
                             : !strcmp(f->string, "shape")        ? &shape
                             : !strcmp(f->string, "data_offsets") ? &offsets
                                                                  : NULL;
        if (!slot) continue; /* unknown keys are left for future format versions */
        if (*slot) TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "duplicate key '%s'", f->string);
        *slot = f;
    }
    if (!dtype) TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s", "missing 'dtype'");
    if (!shape) TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s", "missing 'shape'");
    if (!offsets) TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s", "missing 'data_offsets'");
    if (!cJSON_IsString(dtype))
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "%s", "'dtype' must be a string");

    e->dtype = -1;
    for (int i = 0; i < ST_NDTYPES; i++)
        if (!strcmp(dtype->valuestring, st_dtypes[i].name)) e->dtype = i;
    if (e->dtype < 0) {
        char dbuf[ST_NAME_SHOWN + 4];
        TENSOR_ERROR(VIDI_ERR_UNSUPPORTED, label, name, "unsupported dtype '%s'",
                     shown(dtype->valuestring, dbuf));
    }

    vidi_status s = parse_shape(label, name, shape, e);
    if (s != VIDI_OK) return s;
    s = parse_offsets(label, name, offsets, e);
    if (s != VIDI_OK) return s;

    char sbuf[160];
    uint64_t nbytes = st_dtypes[e->dtype].size;
    for (int i = 0; i < e->ndim; i++) {
        if (__builtin_mul_overflow(nbytes, (uint64_t)e->shape[i], &nbytes)) {
            format_shape(sbuf, sizeof sbuf, e->ndim, e->shape);
            TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "shape %s of %s is too large", sbuf,
                         st_dtypes[e->dtype].name);
        }
    }
    if (e->begin > e->end)
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name, "data_offsets [%llu, %llu] begin after end",
                     (unsigned long long)e->begin, (unsigned long long)e->end);
    if (e->end > data_len)
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name,
                     "data_offsets [%llu, %llu] end beyond the data section (%zu bytes)",
                     (unsigned long long)e->begin, (unsigned long long)e->end, data_len);
    if (e->end - e->begin != nbytes) {
        format_shape(sbuf, sizeof sbuf, e->ndim, e->shape);
        TENSOR_ERROR(VIDI_ERR_FORMAT, label, name,
                     "data_offsets [%llu, %llu] hold %llu bytes, shape %s of %s needs %llu",
                     (unsigned long long)e->begin, (unsigned long long)e->end,
                     (unsigned long long)(e->end - e->begin), sbuf, st_dtypes[e->dtype].name,
                     (unsigned long long)nbytes);
    }
    return VIDI_OK;
}

static vidi_status parse_metadata(const char *label, const cJSON *item, vidi_safetensors *st) {
    if (!cJSON_IsObject(item))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: __metadata__ is not an object", label);
    int n = cJSON_GetArraySize(item);
    st->meta = calloc((size_t)n * 2 + 1, sizeof *st->meta);
    if (!st->meta) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for metadata", label);
    char kbuf[ST_NAME_SHOWN + 4];
    for (const cJSON *m = item->child; m; m = m->next) {
        if (!cJSON_IsString(m))
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: __metadata__ '%s' is not a string", label,
                                  shown(m->string, kbuf));
        for (int i = 0; i < st->meta_count; i++)
            if (!strcmp(st->meta[2 * i], m->string))
                return vidi_set_error(VIDI_ERR_FORMAT, "%s: __metadata__ has duplicate key '%s'",
                                      label, shown(m->string, kbuf));
        char *k = strdup(m->string), *v = strdup(m->valuestring);
        st->meta[2 * st->meta_count] = k;
        st->meta[2 * st->meta_count + 1] = v;
        st->meta_count++; /* counted even on failure so close frees what was set */
        if (!k || !v) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for metadata", label);
    }
    return VIDI_OK;
}

static int cmp_entry_name(const void *a, const void *b) {
    return strcmp(((const st_entry *)a)->name, ((const st_entry *)b)->name);
}

static int cmp_entry_offset(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Names unique, data ranges disjoint. Sorts `entries` (a copy of the header order). */
static vidi_status check_entries(const char *label, st_entry *entries, int n) {
    char abuf[ST_NAME_SHOWN + 4], bbuf[ST_NAME_SHOWN + 4];
    qsort(entries, (size_t)n, sizeof *entries, cmp_entry_name);
    for (int i = 1; i < n; i++)
        if (!strcmp(entries[i - 1].name, entries[i].name))
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: tensor '%s' appears twice in the header",
                                  label, shown(entries[i].name, abuf));
    qsort(entries, (size_t)n, sizeof *entries, cmp_entry_offset);
    const st_entry *prev = NULL; /* last non-empty range */
    for (int i = 0; i < n; i++) {
        if (entries[i].begin == entries[i].end) continue; /* empty tensors overlap nothing */
        if (prev && prev->end > entries[i].begin)
            return vidi_set_error(VIDI_ERR_FORMAT,
                                  "%s: tensor '%s' data [%llu, %llu] overlaps tensor '%s' [%llu, %llu]",
                                  label, shown(entries[i].name, abuf),
                                  (unsigned long long)entries[i].begin,
                                  (unsigned long long)entries[i].end, shown(prev->name, bbuf),
                                  (unsigned long long)prev->begin, (unsigned long long)prev->end);
        prev = &entries[i];
    }
    return VIDI_OK;
}

/* ---- handle -------------------------------------------------------------- */

static int cmp_unlisted(const void *a, const void *b) {
    return strcmp(((const st_unlisted *)a)->name, ((const st_unlisted *)b)->name);
}

/* qsort has no context argument in C11, so the name index is sorted as
 * (name, index) pairs. */
typedef struct st_name_index {
    const char *name;
    int index;
} st_name_index;

static int cmp_name_index(const void *a, const void *b) {
    return strcmp(((const st_name_index *)a)->name, ((const st_name_index *)b)->name);
}

static vidi_status build_index(const char *label, vidi_safetensors *st) {
    st_name_index *pairs = malloc(((size_t)st->count + 1) * sizeof *pairs);
    st->by_name = malloc(((size_t)st->count + 1) * sizeof *st->by_name);
    if (!pairs || !st->by_name) {
        free(pairs);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for the tensor index", label);
    }
    for (int i = 0; i < st->count; i++) pairs[i] = (st_name_index){st->tensors[i].name, i};
    qsort(pairs, (size_t)st->count, sizeof *pairs, cmp_name_index);
    for (int i = 0; i < st->count; i++) st->by_name[i] = pairs[i].index;
    free(pairs);
    qsort(st->unlisted, (size_t)st->unlisted_count, sizeof *st->unlisted, cmp_unlisted);
    return VIDI_OK;
}

/* Copies the validated header entries into the handle. */
static vidi_status fill_handle(const char *label, const uint8_t *data,
                               const st_entry *header_order, int n, vidi_safetensors *st) {
    st->tensors = calloc((size_t)n + 1, sizeof *st->tensors);
    st->converted = calloc((size_t)n + 1, sizeof *st->converted);
    st->unlisted = calloc((size_t)n + 1, sizeof *st->unlisted);
    if (!st->tensors || !st->converted || !st->unlisted)
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for %d tensors", label, n);
    for (int i = 0; i < n; i++) {
        const st_entry *e = &header_order[i];
        const st_dtype_info *d = &st_dtypes[e->dtype];
        char *name = strdup(e->name);
        if (!name) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for names", label);
        if (d->vidi < 0) {
            st->unlisted[st->unlisted_count++] = (st_unlisted){name, d->name};
            continue;
        }
        vidi_st_tensor *t = &st->tensors[st->count++];
        t->name = name;
        t->dtype = (vidi_dtype)d->vidi;
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->data = data + e->begin;
        t->nbytes = (size_t)(e->end - e->begin);
    }
    return build_index(label, st);
}

vidi_status vidi_safetensors_parse(const void *buf, size_t len, const char *label,
                                   vidi_safetensors **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_safetensors_parse: out is NULL");
    *out = NULL;
    if (!label) label = "<buffer>";
    if (!buf && len) return vidi_set_error(VIDI_ERR_ARG, "%s: buffer is NULL", label);
    if (len < 8)
        return vidi_set_error(VIDI_ERR_FORMAT,
                              "%s: file is %zu bytes, too small for the 8-byte header length",
                              label, len);
    const uint8_t *bytes = buf;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | bytes[i];
    if (hlen == 0) return vidi_set_error(VIDI_ERR_FORMAT, "%s: header length is 0", label);
    if (hlen > ST_MAX_HEADER)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: header length %llu exceeds the %llu-byte limit",
                              label, (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > len - 8)
        return vidi_set_error(VIDI_ERR_FORMAT,
                              "%s: header length %llu runs past the end of the file (%zu bytes)",
                              label, (unsigned long long)hlen, len);
    const char *header = (const char *)bytes + 8;
    size_t n = (size_t)hlen;
    const char *nul = memchr(header, '\0', n);
    if (nul)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: header contains a NUL byte at byte %zu", label,
                              (size_t)(nul - header));
    size_t bad = utf8_invalid_at((const unsigned char *)header, n);
    if (bad != n)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: header is not valid UTF-8 at byte %zu", label,
                              bad);

    /* cJSON wants a NUL-terminated string; the mapping has none. */
    char *text = malloc(n + 1);
    if (!text) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for the header", label);
    memcpy(text, header, n);
    text[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - text) : 0;
        free(text);
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: header is not valid JSON near byte %zu", label,
                              at);
    }
    /* The format pads the header with spaces; anything else after the object is corruption. */
    end += strspn(end, " \t\r\n");
    if (*end) {
        size_t at = (size_t)(end - text);
        free(text);
        cJSON_Delete(root);
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: header has trailing bytes after the JSON at byte %zu",
                              label, at);
    }
    free(text);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: header is not a JSON object", label);
    }

    const uint8_t *data = bytes + 8 + n;
    size_t data_len = len - 8 - n;
    int total = cJSON_GetArraySize(root);
    vidi_status s = VIDI_OK;
    vidi_safetensors *st = calloc(1, sizeof *st);
    st_entry *entries = calloc((size_t)total + 1, sizeof *entries);
    st_entry *sorted = calloc((size_t)total + 1, sizeof *sorted);
    if (st) st->label = strdup(label);
    if (!st || !entries || !sorted || !st->label) {
        s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for the header", label);
        goto done;
    }
    int count = 0;
    const cJSON *metadata = NULL;
    for (const cJSON *item = root->child; item; item = item->next) {
        if (!strcmp(item->string, "__metadata__")) {
            if (metadata) {
                s = vidi_set_error(VIDI_ERR_FORMAT, "%s: __metadata__ appears twice", label);
                goto done;
            }
            metadata = item;
            s = parse_metadata(label, item, st);
        } else {
            s = parse_entry(label, item, data_len, &entries[count++]);
        }
        if (s != VIDI_OK) goto done;
    }
    memcpy(sorted, entries, (size_t)count * sizeof *entries);
    s = check_entries(label, sorted, count);
    if (s == VIDI_OK) s = fill_handle(label, data, entries, count, st);

done:
    free(entries);
    free(sorted);
    cJSON_Delete(root);
    if (s != VIDI_OK) {
        vidi_safetensors_close(st);
        return s;
    }
    *out = st;
    return VIDI_OK;
}

vidi_status vidi_safetensors_open(const char *path, vidi_safetensors **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_safetensors_open: out is NULL");
    *out = NULL;
    if (!path) return vidi_set_error(VIDI_ERR_ARG, "vidi_safetensors_open: path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return vidi_set_error(VIDI_ERR_IO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return vidi_set_error(VIDI_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: file is empty", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return vidi_set_error(VIDI_ERR_IO, "%s: file too large to map", path);
    }
    size_t len = (size_t)sb.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close(fd); /* the mapping keeps the file alive */
    if (map == MAP_FAILED) return vidi_set_error(VIDI_ERR_IO, "%s: cannot mmap: %s", path, strerror(err));
    vidi_status s = vidi_safetensors_parse(map, len, path, out);
    if (s != VIDI_OK) {
        munmap(map, len);
        return s;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return VIDI_OK;
}

void vidi_safetensors_close(vidi_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->count; i++) {
        free((char *)st->tensors[i].name);
        if (st->converted) free(st->converted[i]);
    }
    for (int i = 0; i < st->unlisted_count; i++) free(st->unlisted[i].name);
    for (int i = 0; i < 2 * st->meta_count; i++) free(st->meta[i]);
    free(st->meta);
    free(st->tensors);
    free(st->converted);
    free(st->unlisted);
    free(st->by_name);
    if (st->map) munmap(st->map, st->map_len);
    free(st->label);
    free(st);
}

/* ---- queries ------------------------------------------------------------- */

const char *vidi_safetensors_label(const vidi_safetensors *st) { return st ? st->label : ""; }

int vidi_safetensors_count(const vidi_safetensors *st) { return st ? st->count : 0; }

const vidi_st_tensor *vidi_safetensors_at(const vidi_safetensors *st, int index) {
    if (!st || index < 0 || index >= st->count) return NULL;
    return &st->tensors[index];
}

static int find_index(const vidi_safetensors *st, const char *name) {
    int lo = 0, hi = st->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[st->by_name[mid]].name, name);
        if (c == 0) return st->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

const vidi_st_tensor *vidi_safetensors_find(const vidi_safetensors *st, const char *name) {
    if (!st || !name) return NULL;
    int i = find_index(st, name);
    return i < 0 ? NULL : &st->tensors[i];
}

const char *vidi_safetensors_metadata(const vidi_safetensors *st, const char *key) {
    if (!st || !key) return NULL;
    for (int i = 0; i < st->meta_count; i++)
        if (!strcmp(st->meta[2 * i], key)) return st->meta[2 * i + 1];
    return NULL;
}

static int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i]; /* validated: n * size fits the file */
    return n;
}

vidi_status vidi_st_tensor_to_f32(const vidi_st_tensor *t, float *dst) {
    if (!t) return vidi_set_error(VIDI_ERR_ARG, "vidi_st_tensor_to_f32: tensor is NULL");
    int64_t n = shape_numel(t->ndim, t->shape);
    if (n > 0 && !dst)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_st_tensor_to_f32: destination is NULL");
    const uint8_t *src = t->data;
    switch (t->dtype) {
    case VIDI_F32:
        if (n > 0) memcpy(dst, src, (size_t)n * sizeof(float));
        return VIDI_OK;
    case VIDI_F16:
    case VIDI_BF16:
        for (int64_t i = 0; i < n; i++) {
            /* Little-endian bytes; the source may be unaligned. */
            uint16_t h = (uint16_t)(src[2 * i] | (src[2 * i + 1] << 8));
            dst[i] = t->dtype == VIDI_F16 ? vidi_f16_to_f32(h) : vidi_bf16_to_f32(h);
        }
        return VIDI_OK;
    }
    return vidi_set_error(VIDI_ERR_UNSUPPORTED, "tensor '%s': cannot convert dtype %d to F32",
                          t->name ? t->name : "", (int)t->dtype);
}

vidi_status vidi_safetensors_get_f32(vidi_safetensors *st, const char *name, int ndim,
                                     const int64_t *shape, const float **out) {
    if (!st || !name || !out || ndim < 0 || ndim > VIDI_MAX_DIMS || (ndim > 0 && !shape))
        return vidi_set_error(VIDI_ERR_ARG, "vidi_safetensors_get_f32: bad arguments");
    *out = NULL;
    char nbuf[ST_NAME_SHOWN + 4];
    int i = find_index(st, name);
    if (i < 0) {
        st_unlisted key = {(char *)name, NULL};
        const st_unlisted *u = bsearch(&key, st->unlisted, (size_t)st->unlisted_count,
                                       sizeof *st->unlisted, cmp_unlisted);
        if (u)
            return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                                  "%s: tensor '%s': unsupported dtype '%s' (only F32, F16 and BF16 can be read)",
                                  st->label, shown(name, nbuf), u->dtype);
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: missing tensor '%s'", st->label, shown(name, nbuf));
    }
    const vidi_st_tensor *t = &st->tensors[i];
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        char got[160], want[160];
        format_shape(got, sizeof got, t->ndim, t->shape);
        format_shape(want, sizeof want, ndim, shape);
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s", st->label,
                              shown(name, nbuf), got, want);
    }
    if (t->dtype == VIDI_F32 && ((uintptr_t)t->data % _Alignof(float)) == 0) {
        *out = t->data;
        return VIDI_OK;
    }
    int64_t numel = shape_numel(t->ndim, t->shape);
    if (numel == 0) {
        static const float nothing[1];
        *out = nothing; /* a valid pointer to zero floats */
        return VIDI_OK;
    }
    if (!st->converted[i]) {
        float *copy = malloc((size_t)numel * sizeof *copy);
        if (!copy)
            return vidi_set_error(VIDI_ERR_NOMEM, "%s: tensor '%s': out of memory converting to F32",
                                  st->label, shown(name, nbuf));
        vidi_status s = vidi_st_tensor_to_f32(t, copy);
        if (s != VIDI_OK) {
            free(copy);
            return s;
        }
        st->converted[i] = copy;
    }
    *out = st->converted[i];
    return VIDI_OK;
}

/* ---- writer -------------------------------------------------------------- */

typedef struct st_buf {
    char *p;
    size_t len, cap;
    int failed;
} st_buf;

static void buf_put(st_buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->failed = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_printf(st_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(st_buf *b, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { b->failed = 1; return; }
    buf_put(b, tmp, (size_t)n);
}

static void buf_json_string(st_buf *b, const char *s) {
    buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_put(b, esc, 2);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_put(b, (const char *)&c, 1);
        }
    }
    buf_put(b, "\"", 1);
}

static vidi_status check_write_args(const char *path, const vidi_st_write_entry *entries, int count,
                                    const char *const *metadata, uint64_t *sizes) {
    if (count < 0 || (count > 0 && !entries))
        return vidi_set_error(VIDI_ERR_ARG, "%s: no tensor entries given", path);
    for (int i = 0; i < count; i++) {
        const vidi_st_write_entry *e = &entries[i];
        if (!e->name || !strcmp(e->name, "__metadata__") || !utf8_ok(e->name))
            return vidi_set_error(VIDI_ERR_ARG, "%s: entry %d has no usable name", path, i);
        if (e->ndim < 0 || e->ndim > VIDI_MAX_DIMS)
            return vidi_set_error(VIDI_ERR_ARG, "%s: tensor '%s': ndim %d out of range", path,
                                  e->name, e->ndim);
        uint64_t bytes = sizeof(float);
        for (int d = 0; d < e->ndim; d++)
            if (e->shape[d] < 0 || __builtin_mul_overflow(bytes, (uint64_t)e->shape[d], &bytes))
                return vidi_set_error(VIDI_ERR_ARG, "%s: tensor '%s': bad shape", path, e->name);
        if (bytes > 0 && !e->data)
            return vidi_set_error(VIDI_ERR_ARG, "%s: tensor '%s': data is NULL", path, e->name);
        for (int j = 0; j < i; j++)
            if (!strcmp(entries[j].name, e->name))
                return vidi_set_error(VIDI_ERR_ARG, "%s: tensor '%s' given twice", path, e->name);
        sizes[i] = bytes;
    }
    for (int i = 0; metadata && metadata[i]; i += 2) {
        if (!metadata[i + 1])
            return vidi_set_error(VIDI_ERR_ARG, "%s: metadata key '%s' has no value", path,
                                  metadata[i]);
        /* The reader refuses a header that is not UTF-8; never write one. */
        if (!utf8_ok(metadata[i]) || !utf8_ok(metadata[i + 1]))
            return vidi_set_error(VIDI_ERR_ARG, "%s: metadata key %d is not UTF-8", path, i / 2);
        for (int j = 0; j < i; j += 2)
            if (!strcmp(metadata[j], metadata[i]))
                return vidi_set_error(VIDI_ERR_ARG, "%s: metadata key '%s' given twice", path,
                                      metadata[i]);
    }
    return VIDI_OK;
}

static vidi_status write_all(FILE *f, const void *p, size_t n) {
    return fwrite(p, 1, n, f) == n ? VIDI_OK : VIDI_ERR_IO;
}

vidi_status vidi_safetensors_write_f32(const char *path, const vidi_st_write_entry *entries,
                                       int count, const char *const *metadata) {
    if (!path) return vidi_set_error(VIDI_ERR_ARG, "vidi_safetensors_write_f32: path is NULL");
    uint64_t *sizes = calloc((size_t)(count > 0 ? count : 0) + 1, sizeof *sizes);
    if (!sizes) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    vidi_status s = check_write_args(path, entries, count, metadata, sizes);
    if (s != VIDI_OK) {
        free(sizes);
        return s;
    }

    /* Metadata first, then tensors laid out back to back in the order given. */
    st_buf h = {0};
    buf_put(&h, "{", 1);
    int first = 1;
    if (metadata && metadata[0]) {
        buf_put(&h, "\"__metadata__\":{", 16);
        for (int i = 0; metadata[i]; i += 2) {
            if (i) buf_put(&h, ",", 1);
            buf_json_string(&h, metadata[i]);
            buf_put(&h, ":", 1);
            buf_json_string(&h, metadata[i + 1]);
        }
        buf_put(&h, "}", 1);
        first = 0;
    }
    uint64_t offset = 0;
    for (int i = 0; i < count; i++) {
        if (!first) buf_put(&h, ",", 1);
        first = 0;
        buf_json_string(&h, entries[i].name);
        buf_put(&h, ":{\"dtype\":\"F32\",\"shape\":[", 25);
        for (int d = 0; d < entries[i].ndim; d++)
            buf_printf(&h, d ? ",%lld" : "%lld", (long long)entries[i].shape[d]);
        buf_printf(&h, "],\"data_offsets\":[%llu,", (unsigned long long)offset);
        offset += sizes[i];
        buf_printf(&h, "%llu]}", (unsigned long long)offset);
    }
    buf_put(&h, "}", 1);
    /* Pad so the data section starts 8-byte aligned, as the reference writer does. */
    while (!h.failed && h.len % 8) buf_put(&h, " ", 1);
    if (h.failed) {
        free(h.p);
        free(sizes);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for the header", path);
    }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(h.p);
        free(sizes);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);

    /* Write beside the target and rename, so a reader never sees half a file. */
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        s = vidi_set_error(VIDI_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    s = write_all(f, len8, 8);
    if (s == VIDI_OK) s = write_all(f, h.p, h.len);
    for (int i = 0; s == VIDI_OK && i < count; i++) s = write_all(f, entries[i].data, (size_t)sizes[i]);
    if (s == VIDI_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0)) s = VIDI_ERR_IO;
    int err = errno;
    if (fclose(f) != 0 && s == VIDI_OK) {
        s = VIDI_ERR_IO;
        err = errno;
    }
    if (s == VIDI_OK && rename(tmp, path) != 0) {
        s = VIDI_ERR_IO;
        err = errno;
    }
    if (s != VIDI_OK) {
        unlink(tmp);
        s = vidi_set_error(VIDI_ERR_IO, "%s: cannot write: %s", path, strerror(err));
    }
out:
    free(tmp);
    free(h.p);
    free(sizes);
    return s;
}
