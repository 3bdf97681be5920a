/* Backend-owned scratch buffers for the CPU ops (see cpu.h). */
#include <stdlib.h>

#include "nn/cpu/cpu.h"

typedef struct cpu_scratch {
    float *buf[VIDI_CPU_SCRATCH_SLOTS];
    size_t cap[VIDI_CPU_SCRATCH_SLOTS];
} cpu_scratch;

float *vidi_cpu_scratch(vidi_be *be, int slot, size_t floats) {
    if (!be || slot < 0 || slot >= VIDI_CPU_SCRATCH_SLOTS) {
        vidi_set_error(VIDI_ERR_ARG, "cpu scratch: no backend or bad slot %d", slot);
        return NULL;
    }
    /* The vtable is shared read-only; the scratch it points to is mutable. */
    cpu_scratch **owner = (cpu_scratch **)&((vidi_backend *)be)->impl;
    if (!*owner && !(*owner = calloc(1, sizeof **owner))) {
        vidi_set_error(VIDI_ERR_NOMEM, "cpu scratch: out of memory");
        return NULL;
    }
    cpu_scratch *s = *owner;
    if (floats == 0) floats = 1;
    if (s->cap[slot] < floats) {
        /* Round up to 64 bytes: aligned_alloc wants a multiple of the alignment. */
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        float *p = aligned_alloc(64, bytes);
        if (!p) {
            vidi_set_error(VIDI_ERR_NOMEM, "cpu scratch: out of memory for %zu floats", floats);
            return NULL;
        }
        free(s->buf[slot]);
        s->buf[slot] = p;
        s->cap[slot] = floats;
    }
    return s->buf[slot];
}

void vidi_cpu_scratch_release(vidi_backend *be) {
    if (!be || !be->impl) return;
    cpu_scratch *s = be->impl;
    for (int i = 0; i < VIDI_CPU_SCRATCH_SLOTS; i++) free(s->buf[i]);
    free(s);
    be->impl = NULL;
}
