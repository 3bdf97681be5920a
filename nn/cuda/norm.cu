/* Row kernels: layernorm and softmax, one block of NORM_THREADS per row,
 * reductions by warp shuffles then one shared slot per warp. */
#include "nn/cuda/kernel.h"
#include "nn/cuda/kernels.h"

#define NORM_THREADS 128

VIDI_DEVICE float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(VIDI_FULL_MASK, v, o);
    return v;
}

VIDI_DEVICE float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(VIDI_FULL_MASK, v, o));
    return v;
}

/* Every thread gets the block's total. `red` holds one float per warp; the
 * trailing barrier lets the caller reuse it for the next reduction. */
VIDI_DEVICE float block_sum(float v, float *red) {
    unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    v = warp_sum(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = warp_sum(lane < warps ? red[lane] : 0.0f);
    __syncthreads();
    return v;
}

VIDI_DEVICE float block_max(float v, float *red) {
    unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    v = warp_max(v);
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = warp_max(lane < warps ? red[lane] : -INFINITY);
    __syncthreads();
    return v;
}

typedef struct layernorm_args {
    float *out;
    const float *in, *gamma, *beta;
    int64_t dim;
    float eps;
} layernorm_args;

/* Two passes (mean, then squared deviations): the one-pass formula loses
 * everything to cancellation when the mean is large. */
VIDI_KERNEL(layernorm_kernel, layernorm_args, a) {
    VIDI_SHARED(float, red, 32);
    const float *x = a.in + (int64_t)blockIdx.x * a.dim;
    float *y = a.out + (int64_t)blockIdx.x * a.dim;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < a.dim; i += blockDim.x) s += x[i];
    float mean = block_sum(s, red) / (float)a.dim;
    float q = 0.0f;
    for (int64_t i = threadIdx.x; i < a.dim; i += blockDim.x) q += (x[i] - mean) * (x[i] - mean);
    float inv = 1.0f / sqrtf(block_sum(q, red) / (float)a.dim + a.eps);
    for (int64_t i = threadIdx.x; i < a.dim; i += blockDim.x) {
        float v = (x[i] - mean) * inv;
        if (a.gamma) v *= a.gamma[i];
        if (a.beta) v += a.beta[i];
        y[i] = v;
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_layernorm)(cudaStream_t s, float *out, const float *in, const float *gamma,
                                                     const float *beta, int64_t rows, int64_t dim, float eps) {
    if (rows <= 0) return cudaSuccess;
    size_t bytes = (size_t)(rows * dim) * sizeof(float);
    VIDI_DEV_RANGE(out, bytes);
    VIDI_DEV_RANGE(in, bytes);
    if (gamma) VIDI_DEV_RANGE(gamma, (size_t)dim * sizeof(float));
    if (beta) VIDI_DEV_RANGE(beta, (size_t)dim * sizeof(float));
    layernorm_args args = {out, in, gamma, beta, dim, eps};
    VIDI_LAUNCH(layernorm_kernel, VIDI_DIM3(rows, 1, 1), VIDI_DIM3(NORM_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}

typedef struct softmax_args {
    float *out;
    const float *in;
    int64_t cols;
} softmax_args;

VIDI_KERNEL(softmax_kernel, softmax_args, a) {
    VIDI_SHARED(float, red, 32);
    const float *x = a.in + (int64_t)blockIdx.x * a.cols;
    float *y = a.out + (int64_t)blockIdx.x * a.cols;
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < a.cols; i += blockDim.x) m = fmaxf(m, x[i]);
    m = block_max(m, red);
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < a.cols; i += blockDim.x) s += expf(x[i] - m);
    float inv = 1.0f / block_sum(s, red);
    for (int64_t i = threadIdx.x; i < a.cols; i += blockDim.x) y[i] = expf(x[i] - m) * inv;
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_softmax)(cudaStream_t s, float *out, const float *in, int64_t rows,
                                                   int64_t cols) {
    if (rows <= 0) return cudaSuccess;
    size_t bytes = (size_t)(rows * cols) * sizeof(float);
    VIDI_DEV_RANGE(out, bytes);
    VIDI_DEV_RANGE(in, bytes);
    softmax_args args = {out, in, cols};
    VIDI_LAUNCH(softmax_kernel, VIDI_DIM3(rows, 1, 1), VIDI_DIM3(NORM_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}
