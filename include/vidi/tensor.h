/* vidi — tensors, dtypes and the activation arena. */
#ifndef VIDI_TENSOR_H
#define VIDI_TENSOR_H

#include <stddef.h>
#include <stdint.h>
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIDI_MAX_DIMS 5

typedef enum vidi_dtype { VIDI_F32 = 0, VIDI_F16, VIDI_BF16 } vidi_dtype;

size_t vidi_dtype_size(vidi_dtype dtype);
const char *vidi_dtype_name(vidi_dtype dtype);

struct vidi_backend;

/* A view on memory. Strides are in bytes. `data` is owned by whoever made the
 * tensor (an arena, an mmap'd checkpoint, a model's weight store). */
typedef struct vidi_tensor {
    vidi_dtype dtype;
    int ndim;
    int64_t shape[VIDI_MAX_DIMS];
    int64_t stride[VIDI_MAX_DIMS];
    void *data;
    const struct vidi_backend *backend; /* NULL = host memory */
} vidi_tensor;

/* Contiguous (row-major) view of `data` with the given shape. */
vidi_tensor vidi_tensor_view(vidi_dtype dtype, void *data, int ndim, const int64_t *shape);
int64_t vidi_tensor_numel(const vidi_tensor *t);
int vidi_tensor_is_contiguous(const vidi_tensor *t);

/* Half-precision conversions (round to nearest even). */
float vidi_f16_to_f32(uint16_t h);
uint16_t vidi_f32_to_f16(float f);
float vidi_bf16_to_f32(uint16_t h);
uint16_t vidi_f32_to_bf16(float f);

/* Bump allocator for activations: sized once per (model, input shape), reset
 * per forward, so the steady state allocates nothing. 64-byte aligned. */
typedef struct vidi_arena {
    uint8_t *base;
    size_t capacity;
    size_t used;
    size_t high_water;
} vidi_arena;

vidi_status vidi_arena_init(vidi_arena *arena, size_t capacity);
void vidi_arena_free(vidi_arena *arena);
void vidi_arena_reset(vidi_arena *arena);
/* NULL (with vidi_last_error set) when the arena is exhausted. */
float *vidi_arena_floats(vidi_arena *arena, size_t count);

#ifdef __cplusplus
}
#endif
#endif
