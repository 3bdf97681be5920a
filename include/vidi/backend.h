/* vidi — backend interface (a small vtable, ggml style). Model code calls ops
 * only through this, so CPU and CUDA run the same model code. */
#ifndef VIDI_BACKEND_H
#define VIDI_BACKEND_H

#include <stddef.h>
#include "vidi/ops.h"
#include "vidi/threadpool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vidi_backend {
    const char *name;           /* "ref", "cpu", "cuda" */
    void *impl;                 /* backend-private state */
    vidi_threadpool *pool;      /* host thread pool (ref: NULL) */
    int n_threads;
    int device_memory;          /* 1: op pointers are device memory (alloc + upload/download), not host */

    int (*supports_op)(const struct vidi_backend *be, vidi_op op);
    void *(*alloc)(const struct vidi_backend *be, size_t bytes);
    void (*release)(const struct vidi_backend *be, void *ptr);
    vidi_status (*upload)(const struct vidi_backend *be, void *dst, const void *src, size_t bytes);
    vidi_status (*download)(const struct vidi_backend *be, void *dst, const void *src, size_t bytes);
    vidi_status (*synchronize)(const struct vidi_backend *be);
    void (*destroy)(struct vidi_backend *be);

    vidi_status (*linear)(vidi_be *be, float *out, const float *in, const float *weight,
                          const float *bias, int64_t rows, int64_t in_f, int64_t out_f, vidi_act act);
    vidi_status (*layernorm)(vidi_be *be, float *out, const float *in, const float *gamma,
                             const float *beta, int64_t rows, int64_t dim, float eps);
    vidi_status (*attention)(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                             const vidi_attn_layout *layout, float scale);
    vidi_status (*softmax)(vidi_be *be, float *out, const float *in, int64_t rows, int64_t cols);
    vidi_status (*add)(vidi_be *be, float *out, const float *a, const float *b, int64_t n);
    vidi_status (*gelu)(vidi_be *be, float *out, const float *in, int64_t n, vidi_act act);
    vidi_status (*patch_embed)(vidi_be *be, float *out, const float *video, const float *weight,
                               const float *bias, const vidi_patch_layout *layout);
    vidi_status (*modulate)(vidi_be *be, float *out, const float *in, const float *scale, float scale_bias,
                            const float *shift, const float *res, int64_t rows, int64_t dim);
    vidi_status (*unpatchify)(vidi_be *be, float *video, const float *tokens, const vidi_patch_layout *layout,
                              int c0, int nc);
    vidi_status (*sampler_step)(vidi_be *be, const vidi_sampler_step *step, int64_t n);
} vidi_backend;

/* name: "ref", "cpu", "cuda", "cuda-emu" (the CUDA backend on the CUDA
 * emulator, always built; docs/cuda.md) or "auto" (cuda when built and a
 * device exists, else cpu). n_threads <= 0: all online CPUs. */
vidi_status vidi_backend_create(const char *name, int n_threads, vidi_backend **out);
void vidi_backend_destroy(vidi_backend *be);

/* Weights and activations of a model on its backend. For a backend with
 * device_memory, put() replaces *ptr (count host floats, e.g. an mmap'd
 * checkpoint tensor) by a device copy made once at load, and arena() carves
 * the activation arena out of one device allocation; for host backends both
 * leave memory where it is. free() releases what the store made. */
struct vidi_arena;
typedef struct vidi_device_store {
    const vidi_backend *be;
    void **blocks;
    int n_blocks, cap_blocks;
} vidi_device_store;
vidi_status vidi_device_store_put(vidi_device_store *store, const float **ptr, size_t count);
vidi_status vidi_device_store_arena(vidi_device_store *store, struct vidi_arena *arena, size_t capacity);
void vidi_device_store_free(vidi_device_store *store);
/* Host view of `count` floats at `data` for hooks: `data` itself on a host
 * backend, else a download (waits for the stream) into *scratch, grown as
 * needed (free() it when done). NULL with the error set on failure. */
const float *vidi_device_store_host_view(const vidi_backend *be, const float *data, size_t count, float **scratch,
                                         size_t *scratch_count);

/* Names of the backends this build can create on this machine, NULL-terminated. */
const char *const *vidi_backend_available(void);

#ifdef __cplusplus
}
#endif
#endif
