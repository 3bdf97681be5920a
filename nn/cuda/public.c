/* include/vidi/cuda.h: dispatch to the real or emulated backend's host code. */
#include <string.h>

#include "nn/cuda/cuda_backend.h"
#include "vidi/cuda.h"

int vidi_backend_is_cuda(const vidi_backend *be) {
    return be && be->name && (!strcmp(be->name, "cuda") || !strcmp(be->name, "cuda-emu"));
}

vidi_status vidi_cuda_set_gemm_mode(vidi_backend *be, vidi_cuda_gemm_mode mode) {
    if (!vidi_backend_is_cuda(be))
        return vidi_set_error(VIDI_ERR_ARG, "vidi_cuda_set_gemm_mode: '%s' is not a CUDA backend",
                              be && be->name ? be->name : "(null)");
#ifdef VIDI_HAVE_CUDA
    if (!strcmp(be->name, "cuda")) return vidi_cuda_backend_set_gemm_mode(be, (int)mode);
#endif
    return vidi_cuemu_backend_set_gemm_mode(be, (int)mode);
}

vidi_status vidi_cuda_set_memory_limit(vidi_backend *be, size_t bytes) {
    if (!vidi_backend_is_cuda(be))
        return vidi_set_error(VIDI_ERR_ARG, "vidi_cuda_set_memory_limit: '%s' is not a CUDA backend",
                              be && be->name ? be->name : "(null)");
#ifdef VIDI_HAVE_CUDA
    if (!strcmp(be->name, "cuda")) return vidi_cuda_backend_set_memory_limit(be, bytes);
#endif
    return vidi_cuemu_backend_set_memory_limit(be, bytes);
}
