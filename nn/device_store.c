/* Model memory on a backend: weights uploaded once, the activation arena in
 * device memory (backend.h, vidi_device_store). Host backends keep using the
 * checkpoint's mmap and a host arena, exactly as before. */
#include <stdlib.h>
#include <string.h>

#include "vidi/backend.h"
#include "vidi/tensor.h"

static vidi_status remember(vidi_device_store *s, void *block) {
    if (s->n_blocks == s->cap_blocks) {
        int cap = s->cap_blocks ? 2 * s->cap_blocks : 64;
        void **grown = realloc(s->blocks, sizeof(void *) * (size_t)cap);
        if (!grown) {
            s->be->release(s->be, block);
            return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of host memory", s->be->name);
        }
        s->blocks = grown;
        s->cap_blocks = cap;
    }
    s->blocks[s->n_blocks++] = block;
    return VIDI_OK;
}

vidi_status vidi_device_store_put(vidi_device_store *s, const float **ptr, size_t count) {
    if (!s || !s->be || !ptr) return vidi_set_error(VIDI_ERR_ARG, "device store: NULL argument");
    if (!s->be->device_memory || !*ptr || count == 0) return VIDI_OK;
    float *d = s->be->alloc(s->be, count * sizeof(float));
    if (!d) return VIDI_ERR_NOMEM; /* alloc set the message */
    vidi_status st = remember(s, d);
    if (st != VIDI_OK) return st;
    if ((st = s->be->upload(s->be, d, *ptr, count * sizeof(float))) != VIDI_OK) return st;
    *ptr = d;
    return VIDI_OK;
}

vidi_status vidi_device_store_arena(vidi_device_store *s, vidi_arena *arena, size_t capacity) {
    if (!s || !s->be || !arena) return vidi_set_error(VIDI_ERR_ARG, "device store: NULL argument");
    if (!s->be->device_memory) return vidi_arena_init(arena, capacity);
    memset(arena, 0, sizeof *arena);
    capacity = (capacity + 63) & ~(size_t)63;
    if (capacity == 0) return VIDI_OK;
    void *base = s->be->alloc(s->be, capacity);
    if (!base) return vidi_wrap_error(VIDI_ERR_NOMEM, "activation arena of %zu bytes", capacity);
    vidi_status st = remember(s, base);
    if (st != VIDI_OK) return st;
    /* The arena only does offset arithmetic on base: device addresses are fine. */
    arena->base = base;
    arena->capacity = capacity;
    return VIDI_OK;
}

void vidi_device_store_free(vidi_device_store *s) {
    if (!s) return;
    if (s->be && s->n_blocks) s->be->synchronize(s->be);
    for (int i = 0; i < s->n_blocks; i++) s->be->release(s->be, s->blocks[i]);
    free(s->blocks);
    s->blocks = NULL;
    s->n_blocks = s->cap_blocks = 0;
}

const float *vidi_device_store_host_view(const vidi_backend *be, const float *data, size_t count, float **scratch,
                                         size_t *scratch_count) {
    if (!be->device_memory) return data;
    if (count > *scratch_count) {
        float *grown = realloc(*scratch, count * sizeof(float));
        if (!grown) {
            vidi_set_error(VIDI_ERR_NOMEM, "hook: out of host memory for %zu floats", count);
            return NULL;
        }
        *scratch = grown;
        *scratch_count = count;
    }
    if (be->download(be, *scratch, data, count * sizeof(float)) != VIDI_OK) return NULL;
    return *scratch;
}
