/* The kernel dialect: what every .cu file in nn/cuda/ may use, so one source builds
 * with nvcc and with the host C compiler on the emulator. The rules, and why
 * each keeps the emulation sound, are in docs/cuda.md ("Kernel rules"):
 *   - C subset common to C11 and CUDA C++ (no templates, no references,
 *     no overloading, no designated initialisers);
 *   - a kernel takes ONE argument, a struct passed by value:
 *       VIDI_KERNEL(name, args_type, a) { ... a.field ... }
 *   - launched only by VIDI_LAUNCH(name, grid, block, smem_bytes, stream, args);
 *   - shared memory declared at the top of the kernel body, unconditionally,
 *     by VIDI_SHARED(type, name, count) / VIDI_SHARED_DYNAMIC(type, name);
 *   - __syncthreads() reached by every thread of the block (no early return
 *     before a barrier), warp shuffles on float with the full mask, blocks a
 *     multiple of 32 threads when a kernel shuffles;
 *   - no dynamic parallelism, no atomics on shared memory, no cooperative
 *     groups, no inline PTX, no device-side printf/assert;
 *   - host launchers check every pointer range a kernel touches with
 *     VIDI_DEV_RANGE (a no-op on the GPU, a check on the emulator). */
#ifndef VIDI_NN_CUDA_KERNEL_H
#define VIDI_NN_CUDA_KERNEL_H

#include "nn/cuda/cuda_api.h"

#if defined(__CUDACC__)

#define VIDI_DEVICE static __device__ __forceinline__
#define VIDI_KERNEL(name, type, arg) static __global__ void name(const type arg)
#define VIDI_LAUNCH(name, grid, block, smem, stream, args) name<<<(grid), (block), (smem), (stream)>>>(args)
#define VIDI_SHARED(type, name, count) __shared__ type name[count]
#define VIDI_SHARED_DYNAMIC(type, name) extern __shared__ type name[]
#define VIDI_DIM3(x, y, z) dim3((x), (y), (z))
/* Nothing to check on the GPU; a function so the arguments count as used. */
static inline void vidi_cu_range_unchecked(const void *ptr, size_t bytes) {
    (void)ptr;
    (void)bytes;
}
#define VIDI_DEV_RANGE(ptr, bytes) vidi_cu_range_unchecked((const void *)(ptr), (size_t)(bytes))
#define VIDI_FULL_MASK 0xffffffffu

#elif defined(VIDI_CUDA_EMU)

#define VIDI_DEVICE static inline
/* The emulator calls name(const void *args) once per emulated thread. */
#define VIDI_KERNEL(name, type, arg)                                                  \
    static void name##_body(const type arg);                                          \
    static void name(const void *args_) { name##_body(*(const type *)args_); }        \
    static void name##_body(const type arg)
#define VIDI_LAUNCH(name, grid, block, smem, stream, args) \
    vidi_emu_launch(name, #name, &(args), sizeof(args), (grid), (block), (smem), (stream))
#define VIDI_SHARED(type, name, count) type *name = (type *)vidi_emu_static_shared(sizeof(type) * (size_t)(count))
#define VIDI_SHARED_DYNAMIC(type, name) type *name = (type *)vidi_emu_dynamic_shared()
#define VIDI_DIM3(x, y, z) ((dim3){(unsigned)(x), (unsigned)(y), (unsigned)(z)})
#define VIDI_DEV_RANGE(ptr, bytes) vidi_emu_check_range((const void *)(ptr), (size_t)(bytes), #ptr, __func__)
#define VIDI_FULL_MASK 0xffffffffu

#else
#error "nn/cuda kernels build with nvcc or with VIDI_CUDA_EMU"
#endif

#endif
