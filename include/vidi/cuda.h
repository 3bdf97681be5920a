/* vidi — CUDA backend controls. The backends themselves are created by name
 * with vidi_backend_create: "cuda" (built with -DVIDI_CUDA=ON, needs a
 * device) and "cuda-emu" (always built: the same kernels and host code on
 * the CUDA emulator, for testing without a GPU; see docs/cuda.md). */
#ifndef VIDI_CUDA_H
#define VIDI_CUDA_H

#include <stddef.h>

#include "vidi/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How linear / patch-embedding GEMMs run in cuBLASLt. FP32 is exact float
 * (the default, and what the op tests hold to the CPU's tolerances); TF32
 * and BF16 round the inputs to 10 / 7 mantissa bits and accumulate in float.
 * The environment variable VIDI_CUDA_GEMM=fp32|tf32|bf16 sets the default. */
typedef enum vidi_cuda_gemm_mode {
    VIDI_CUDA_GEMM_FP32 = 0,
    VIDI_CUDA_GEMM_TF32,
    VIDI_CUDA_GEMM_BF16,
} vidi_cuda_gemm_mode;

/* VIDI_ERR_ARG when `be` is not a CUDA backend or the mode is unknown. */
vidi_status vidi_cuda_set_gemm_mode(vidi_backend *be, vidi_cuda_gemm_mode mode);

/* Caps the device memory `be` may hold (weights, activations, scratch);
 * past it be->alloc returns NULL with VIDI_ERR_NOMEM's message set. 0 means
 * no cap beyond the device's own memory. */
vidi_status vidi_cuda_set_memory_limit(vidi_backend *be, size_t bytes);

/* 1 when `be` is "cuda" or "cuda-emu". */
int vidi_backend_is_cuda(const vidi_backend *be);

#ifdef __cplusplus
}
#endif
#endif
