/* vidi — safetensors reader (nn/io). The file is untrusted: header length,
 * JSON, dtypes, shapes, offsets, overlaps and file size are all checked
 * before any tensor is handed out. Data is mmap'd, never copied unless a
 * conversion to F32 is asked for.
 *
 * Tensors of other dtypes (I64 position_ids, U8 masks, F64 buffers that real
 * checkpoints carry) are validated like the rest but not listed: count, at
 * and find see only F32/F16/BF16 tensors, and get_f32 on such a name fails
 * with VIDI_ERR_UNSUPPORTED naming the dtype. */
#ifndef VIDI_SAFETENSORS_H
#define VIDI_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "vidi/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vidi_safetensors vidi_safetensors;

typedef struct vidi_st_tensor {
    const char *name;
    vidi_dtype dtype;
    int ndim;                       /* 0..VIDI_MAX_DIMS */
    int64_t shape[VIDI_MAX_DIMS];
    const void *data;               /* inside the mapping; may be unaligned */
    size_t nbytes;
} vidi_st_tensor;

/* A checkpoint path to its weights file: DIR/model.safetensors for a
 * directory (is_dir set, may be NULL), else the path itself. IO error when
 * the path does not exist, ARG when the result does not fit `size`. */
vidi_status vidi_checkpoint_weights_path(const char *path, char *weights, size_t size, int *is_dir);

/* mmap `path` and validate it. Errors name the file and the reason. */
vidi_status vidi_safetensors_open(const char *path, vidi_safetensors **out);
/* Validate an in-memory buffer (not copied: it must outlive the handle).
 * `label` names the buffer in error messages. Used by the fuzzer. */
vidi_status vidi_safetensors_parse(const void *buf, size_t len, const char *label,
                                   vidi_safetensors **out);
void vidi_safetensors_close(vidi_safetensors *st);

const char *vidi_safetensors_label(const vidi_safetensors *st); /* path or label */
int vidi_safetensors_count(const vidi_safetensors *st);
const vidi_st_tensor *vidi_safetensors_at(const vidi_safetensors *st, int index);
const vidi_st_tensor *vidi_safetensors_find(const vidi_safetensors *st, const char *name);
/* String value of __metadata__[key], NULL when absent. */
const char *vidi_safetensors_metadata(const vidi_safetensors *st, const char *key);

/* Tensor `name` as F32 with exactly the given shape. The pointer is into the
 * mapping when the tensor is F32 and 4-byte aligned, otherwise into a
 * converted copy owned by `st`; either way valid until close. Missing tensor
 * or wrong shape -> VIDI_ERR_SHAPE naming file, tensor, got and expected. */
vidi_status vidi_safetensors_get_f32(vidi_safetensors *st, const char *name, int ndim,
                                     const int64_t *shape, const float **out);
/* Convert any tensor to F32 into dst (numel floats). */
vidi_status vidi_st_tensor_to_f32(const vidi_st_tensor *t, float *dst);

/* Write F32 tensors as a safetensors file (used by tools and tests).
 * metadata: NULL or NULL-terminated key, value, key, value, ... list. */
typedef struct vidi_st_write_entry {
    const char *name;
    int ndim;
    int64_t shape[VIDI_MAX_DIMS];
    const float *data;
} vidi_st_write_entry;
vidi_status vidi_safetensors_write_f32(const char *path, const vidi_st_write_entry *entries,
                                       int count, const char *const *metadata);

#ifdef __cplusplus
}
#endif
#endif
