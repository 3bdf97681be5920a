/* Entry points of the CUDA backend host code (backend.c), compiled once per
 * build flavour: vidi_cuda_* (real) and vidi_cuemu_* (emulated). */
#ifndef VIDI_NN_CUDA_BACKEND_H
#define VIDI_NN_CUDA_BACKEND_H

#include <stddef.h>

#include "vidi/backend.h"

#define VIDI_CUDA_DECLARE_BACKEND(ns)                                                         \
    vidi_status vidi_##ns##_backend_create(const char *name, vidi_backend **out);             \
    vidi_status vidi_##ns##_backend_set_gemm_mode(vidi_backend *be, int mode);                        \
    vidi_status vidi_##ns##_backend_set_memory_limit(vidi_backend *be, size_t bytes);

VIDI_CUDA_DECLARE_BACKEND(cuda)
VIDI_CUDA_DECLARE_BACKEND(cuemu)

#endif
