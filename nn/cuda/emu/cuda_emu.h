/* The CUDA runtime subset vidi uses, emulated on the host (docs/cuda.md).
 * Device memory is host memory the emulator tracks, so copies and kernels
 * can check that every pointer lies inside a live allocation. Streams run
 * their work when it is enqueued (in order, which is all a stream promises);
 * events record that point. Kernel launches run block by block, each block's
 * threads as fibers that switch at __syncthreads and warp shuffles (launch.c).
 * Every CUDA name is a macro onto vidi_emu_*, so this never clashes with the
 * real cudart linked into the same binary. */
#ifndef VIDI_NN_CUDA_EMU_H
#define VIDI_NN_CUDA_EMU_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vidi_emu_dim3 {
    unsigned x, y, z;
} vidi_emu_dim3;
#define dim3 vidi_emu_dim3

typedef enum vidi_emu_error {
    vidi_emu_cudaSuccess = 0,
    vidi_emu_cudaErrorInvalidValue = 1,
    vidi_emu_cudaErrorMemoryAllocation = 2,
    vidi_emu_cudaErrorInvalidConfiguration = 9,
    vidi_emu_cudaErrorNoDevice = 100,
    vidi_emu_cudaErrorInvalidResourceHandle = 400,
    vidi_emu_cudaErrorIllegalAddress = 700,
    vidi_emu_cudaErrorLaunchFailure = 719,
} vidi_emu_error;
#define cudaError_t vidi_emu_error
#define cudaSuccess vidi_emu_cudaSuccess
#define cudaErrorInvalidValue vidi_emu_cudaErrorInvalidValue
#define cudaErrorMemoryAllocation vidi_emu_cudaErrorMemoryAllocation
#define cudaErrorInvalidConfiguration vidi_emu_cudaErrorInvalidConfiguration
#define cudaErrorNoDevice vidi_emu_cudaErrorNoDevice
#define cudaErrorInvalidResourceHandle vidi_emu_cudaErrorInvalidResourceHandle
#define cudaErrorIllegalAddress vidi_emu_cudaErrorIllegalAddress
#define cudaErrorLaunchFailure vidi_emu_cudaErrorLaunchFailure

typedef enum vidi_emu_memcpy_kind {
    vidi_emu_cudaMemcpyHostToHost = 0,
    vidi_emu_cudaMemcpyHostToDevice = 1,
    vidi_emu_cudaMemcpyDeviceToHost = 2,
    vidi_emu_cudaMemcpyDeviceToDevice = 3,
} vidi_emu_memcpy_kind;
#define cudaMemcpyKind vidi_emu_memcpy_kind
#define cudaMemcpyHostToHost vidi_emu_cudaMemcpyHostToHost
#define cudaMemcpyHostToDevice vidi_emu_cudaMemcpyHostToDevice
#define cudaMemcpyDeviceToHost vidi_emu_cudaMemcpyDeviceToHost
#define cudaMemcpyDeviceToDevice vidi_emu_cudaMemcpyDeviceToDevice

typedef struct vidi_emu_stream *vidi_emu_stream_t;
typedef struct vidi_emu_event *vidi_emu_event_t;
#define cudaStream_t vidi_emu_stream_t
#define cudaEvent_t vidi_emu_event_t
#define cudaStreamNonBlocking 1u

typedef enum vidi_emu_func_attr { vidi_emu_cudaFuncAttributeMaxDynamicSharedMemorySize = 8 } vidi_emu_func_attr;
#define cudaFuncAttribute vidi_emu_func_attr
#define cudaFuncAttributeMaxDynamicSharedMemorySize vidi_emu_cudaFuncAttributeMaxDynamicSharedMemorySize

/* The emulated device: an sm_80 (A100) as far as limits go. */
#define VIDI_EMU_MAX_THREADS 1024
#define VIDI_EMU_STATIC_SMEM (48 * 1024)
#define VIDI_EMU_MAX_DYN_SMEM (163 * 1024)

cudaError_t vidi_emu_get_device_count(int *count);
cudaError_t vidi_emu_set_device(int device);
cudaError_t vidi_emu_malloc(void **ptr, size_t bytes);
cudaError_t vidi_emu_free(void *ptr);
cudaError_t vidi_emu_memcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind);
cudaError_t vidi_emu_memcpy_async(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                                  cudaStream_t stream);
cudaError_t vidi_emu_memset_async(void *dst, int value, size_t bytes, cudaStream_t stream);
cudaError_t vidi_emu_stream_create(cudaStream_t *stream, unsigned flags);
cudaError_t vidi_emu_stream_destroy(cudaStream_t stream);
cudaError_t vidi_emu_stream_synchronize(cudaStream_t stream);
cudaError_t vidi_emu_device_synchronize(void);
cudaError_t vidi_emu_event_create(cudaEvent_t *event);
cudaError_t vidi_emu_event_destroy(cudaEvent_t event);
cudaError_t vidi_emu_event_record(cudaEvent_t event, cudaStream_t stream);
cudaError_t vidi_emu_event_synchronize(cudaEvent_t event);
cudaError_t vidi_emu_event_elapsed(float *ms, cudaEvent_t start, cudaEvent_t stop);
cudaError_t vidi_emu_get_last_error(void);
cudaError_t vidi_emu_peek_at_last_error(void);
const char *vidi_emu_error_string(cudaError_t err);
cudaError_t vidi_emu_func_set_attribute(void (*func)(const void *), cudaFuncAttribute attr, int value);
cudaError_t vidi_emu_mem_get_info(size_t *free_bytes, size_t *total_bytes);

#define cudaGetDeviceCount vidi_emu_get_device_count
#define cudaSetDevice vidi_emu_set_device
#define cudaMalloc(p, n) vidi_emu_malloc((void **)(p), (n))
#define cudaFree vidi_emu_free
#define cudaMemcpy vidi_emu_memcpy
#define cudaMemcpyAsync vidi_emu_memcpy_async
#define cudaMemsetAsync vidi_emu_memset_async
#define cudaStreamCreateWithFlags vidi_emu_stream_create
#define cudaStreamDestroy vidi_emu_stream_destroy
#define cudaStreamSynchronize vidi_emu_stream_synchronize
#define cudaDeviceSynchronize vidi_emu_device_synchronize
#define cudaEventCreate vidi_emu_event_create
#define cudaEventDestroy vidi_emu_event_destroy
#define cudaEventRecord vidi_emu_event_record
#define cudaEventSynchronize vidi_emu_event_synchronize
#define cudaEventElapsedTime vidi_emu_event_elapsed
#define cudaGetLastError vidi_emu_get_last_error
#define cudaPeekAtLastError vidi_emu_peek_at_last_error
#define cudaGetErrorString vidi_emu_error_string
#define cudaFuncSetAttribute vidi_emu_func_set_attribute
#define cudaMemGetInfo vidi_emu_mem_get_info

/* ---- emulator controls (tests) ---- */

/* Caps the emulated device's memory (bytes; 0 restores the default 8 GiB),
 * so out-of-device-memory paths can be tested. */
void vidi_emu_set_device_memory(size_t bytes);
/* Number of emulated devices cudaGetDeviceCount reports (default 1; 0 makes
 * the emulated backend behave like a machine without a GPU). */
void vidi_emu_set_device_count(int count);
/* The first kernel fault's description ("" when none), e.g. a barrier
 * reached by only part of a block. */
const char *vidi_emu_fault(void);
/* What the program asked of the emulated device so far (tests use the
 * differences across a call: e.g. a model forward allocates nothing, copies
 * host to device once and waits once). */
typedef struct vidi_emu_stats {
    long long mallocs, frees, copies_to_device, copies_to_host, copies_on_device, syncs, launches;
} vidi_emu_stats;
void vidi_emu_get_stats(vidi_emu_stats *out);
/* Forgets a sticky fault (tests; a real process would need a new context). */
void vidi_emu_reset_faults(void);

/* ---- launch and device-side built-ins (launch.c) ---- */

typedef void (*vidi_emu_kernel_fn)(const void *args);
void vidi_emu_launch(vidi_emu_kernel_fn fn, const char *name, const void *args, size_t args_size, dim3 grid,
                     dim3 block, size_t dyn_smem, cudaStream_t stream);
/* Checks that [ptr, ptr+bytes) lies in one live device allocation; on
 * failure records a sticky cudaErrorIllegalAddress naming `what` and `where`. */
int vidi_emu_check_range(const void *ptr, size_t bytes, const char *what, const char *where);

typedef struct vidi_emu_thread_state {
    dim3 thread_idx, block_idx, block_dim, grid_dim;
} vidi_emu_thread_state;
extern _Thread_local vidi_emu_thread_state *vidi_emu_self;

#define threadIdx (vidi_emu_self->thread_idx)
#define blockIdx (vidi_emu_self->block_idx)
#define blockDim (vidi_emu_self->block_dim)
#define gridDim (vidi_emu_self->grid_dim)
#define warpSize 32

void *vidi_emu_static_shared(size_t bytes);
void *vidi_emu_dynamic_shared(void);
void vidi_emu_syncthreads(int site);
void vidi_emu_syncwarp(unsigned mask, int site);
float vidi_emu_shfl(unsigned mask, float value, int src_lane, int site);
float vidi_emu_shfl_xor(unsigned mask, float value, int lane_mask, int site);

#define __syncthreads() vidi_emu_syncthreads(__LINE__)
#define __syncwarp(mask) vidi_emu_syncwarp((mask), __LINE__)
#define __shfl_sync(mask, v, lane) vidi_emu_shfl((mask), (v), (lane), __LINE__)
#define __shfl_xor_sync(mask, v, lm) vidi_emu_shfl_xor((mask), (v), (lm), __LINE__)
#define __restrict__ restrict
#define __global__
#define __device__
#define __host__

static inline float vidi_emu_rsqrtf(float x) { return 1.0f / sqrtf(x); }
#define rsqrtf vidi_emu_rsqrtf

#endif
