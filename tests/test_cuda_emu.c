/* The CUDA emulator itself (nn/cuda/emu/), with small kernels written in the
 * kernel dialect (nn/cuda/kernel.h) and compiled for the emulator: barrier
 * and shuffle semantics, 3D indices, shared memory per block, no order
 * between blocks, launch limits
 * (threads, static and dynamic shared memory with the opt-in), memory rules,
 * faults (divergent barriers, partial warps) and their stickiness. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/cuda/kernel.h"

/* ---- kernels ---- */

typedef struct sum_args {
    float *out;
    const float *in;
    int n;
} sum_args;

/* Per block: sum of n values in shared memory by a barrier-separated tree. */
VIDI_KERNEL(tree_sum, sum_args, a) {
    VIDI_SHARED(float, buf, 256);
    unsigned t = threadIdx.x;
    buf[t] = (int)t < a.n ? a.in[blockIdx.x * a.n + t] : 0.0f;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) buf[t] += buf[t + s];
        __syncthreads();
    }
    if (t == 0) a.out[blockIdx.x] = buf[0];
}

/* The same without the barriers inside the loop: must come out wrong. */
VIDI_KERNEL(tree_sum_racy, sum_args, a) {
    VIDI_SHARED(float, buf, 256);
    unsigned t = threadIdx.x;
    buf[t] = (int)t < a.n ? a.in[blockIdx.x * a.n + t] : 0.0f;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1)
        if (t < s) buf[t] += buf[t + s];
    __syncthreads();
    if (t == 0) a.out[blockIdx.x] = buf[0];
}

typedef struct lanes_args {
    float *out; /* per thread: 4 results */
} lanes_args;

VIDI_KERNEL(shuffles, lanes_args, a) {
    unsigned t = threadIdx.x, lane = t % 32;
    float v = (float)lane;
    float sum = v;
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(VIDI_FULL_MASK, sum, o);
    float from5 = __shfl_sync(VIDI_FULL_MASK, v * 10.0f, 5);
    /* Three back-to-back rotations: each lane ends with lane + 3's value. */
    float r = v;
    for (int i = 0; i < 3; i++) r = __shfl_sync(VIDI_FULL_MASK, r, (int)((lane + 1) % 32));
    a.out[4 * t + 0] = sum;
    a.out[4 * t + 1] = from5;
    a.out[4 * t + 2] = r;
    a.out[4 * t + 3] = (float)(t / 32);
}

typedef struct index_args {
    float *out;
} index_args;

VIDI_KERNEL(indices, index_args, a) {
    unsigned bx = blockIdx.x, by = blockIdx.y, bz = blockIdx.z;
    unsigned block = (bz * gridDim.y + by) * gridDim.x + bx;
    unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
    a.out[block * per_block + thread] = (float)(block * 1000 + thread);
}

typedef struct dyn_args {
    float *out;
    int n;
} dyn_args;

/* Dynamic shared memory, read before written: the emulator's NaN shows. */
VIDI_KERNEL(dyn_read_first, dyn_args, a) {
    VIDI_SHARED_DYNAMIC(float, smem);
    unsigned t = threadIdx.x;
    a.out[blockIdx.x * blockDim.x + t] = smem[t];
    smem[t] = 1.0f;
    for (int i = (int)t; i < a.n; i += (int)blockDim.x) smem[i] = 2.0f;
}

typedef struct chain_args {
    float *out, *seen;
} chain_args;

/* Wrong on a GPU: block b reads what block b-1 writes in the same launch. */
VIDI_KERNEL(cross_block, chain_args, a) {
    if (threadIdx.x == 0) {
        a.out[blockIdx.x] = (float)blockIdx.x;
        if (blockIdx.x > 0) a.seen[blockIdx.x] = a.out[blockIdx.x - 1];
    }
}

VIDI_KERNEL(divergent_barrier, index_args, a) {
    if (threadIdx.x == 3) return;
    __syncthreads();
    a.out[threadIdx.x] = 1.0f;
}

VIDI_KERNEL(big_static, index_args, a) {
    VIDI_SHARED(float, huge, 13000); /* 52 KB > 48 KiB of static shared memory */
    huge[threadIdx.x] = 1.0f;
    a.out[threadIdx.x] = huge[threadIdx.x];
}

/* ---- helpers ---- */

static float *dev_floats(size_t n) {
    float *d = NULL;
    CHECK(cudaMalloc(&d, n * sizeof(float)) == cudaSuccess);
    return d;
}

static void test_barriers(void) {
    const int blocks = 3, n = 200;
    float host[600], out[3];
    for (int i = 0; i < blocks * n; i++) host[i] = (float)(i % 17) - 3.0f;
    float *din = dev_floats((size_t)blocks * n), *dout = dev_floats(blocks);
    CHECK(cudaMemcpy(din, host, sizeof host, cudaMemcpyHostToDevice) == cudaSuccess);
    sum_args args = {dout, din, n};
    VIDI_LAUNCH(tree_sum, VIDI_DIM3(blocks, 1, 1), VIDI_DIM3(256, 1, 1), 0, NULL, args);
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK(cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost) == cudaSuccess);
    for (int b = 0; b < blocks; b++) {
        float want = 0.0f;
        for (int i = 0; i < n; i++) want += host[b * n + i];
        CHECK_MSG(out[b] == want, "tree sum block %d: %g, want %g", b, out[b], want);
    }
    /* Without the loop's barriers some block must come out wrong. */
    VIDI_LAUNCH(tree_sum_racy, VIDI_DIM3(blocks, 1, 1), VIDI_DIM3(256, 1, 1), 0, NULL, args);
    CHECK(cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost) == cudaSuccess);
    int wrong = 0;
    for (int b = 0; b < blocks; b++) {
        float want = 0.0f;
        for (int i = 0; i < n; i++) want += host[b * n + i];
        wrong += !(out[b] == want);
    }
    CHECK_MSG(wrong > 0, "the racy reduction came out right on every block: the emulator hides missing barriers");
    cudaFree(din);
    cudaFree(dout);
}

static void test_shuffles(void) {
    const int threads = 64;
    float out[4 * 64];
    float *d = dev_floats(4 * threads);
    lanes_args args = {d};
    VIDI_LAUNCH(shuffles, VIDI_DIM3(1, 1, 1), VIDI_DIM3(threads, 1, 1), 0, NULL, args);
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK(cudaMemcpy(out, d, sizeof out, cudaMemcpyDeviceToHost) == cudaSuccess);
    int bad = 0;
    for (int t = 0; t < threads; t++) {
        int lane = t % 32;
        bad += out[4 * t + 0] != 496.0f;                       /* 0 + 1 + ... + 31 */
        bad += out[4 * t + 1] != 50.0f;                        /* lane 5's value x 10 */
        bad += out[4 * t + 2] != (float)((lane + 3) % 32);     /* three rotations */
        bad += out[4 * t + 3] != (float)(t / 32);
    }
    CHECK_MSG(bad == 0, "%d shuffle results wrong", bad);
    cudaFree(d);
}

static void test_indices(void) {
    const int gx = 3, gy = 2, gz = 2, bx = 8, by = 4, bz = 2, per = bx * by * bz, nb = gx * gy * gz;
    float *d = dev_floats((size_t)nb * per), *h = malloc(sizeof(float) * (size_t)nb * per);
    index_args args = {d};
    VIDI_LAUNCH(indices, VIDI_DIM3(gx, gy, gz), VIDI_DIM3(bx, by, bz), 0, NULL, args);
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK(cudaMemcpy(h, d, sizeof(float) * (size_t)nb * per, cudaMemcpyDeviceToHost) == cudaSuccess);
    int bad = 0;
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < per; t++) bad += h[b * per + t] != (float)(b * 1000 + t);
    CHECK_MSG(bad == 0, "%d threads saw wrong indices", bad);
    free(h);
    cudaFree(d);
}

static void test_shared_and_limits(void) {
    float *d = dev_floats(2 * 64), h[128];
    dyn_args args = {d, 100};
    /* Dynamic shared memory: NaN until written, fresh for every block. */
    VIDI_LAUNCH(dyn_read_first, VIDI_DIM3(2, 1, 1), VIDI_DIM3(64, 1, 1), 100 * sizeof(float), NULL, args);
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost) == cudaSuccess);
    int nans = 0;
    for (int i = 0; i < 128; i++) nans += isnan(h[i]);
    CHECK_MSG(nans == 128, "%d of 128 reads of unwritten shared memory were NaN", nans);
    /* Over 48 KiB needs the opt-in, and the opt-in has a ceiling. */
    size_t big = 60 * 1024;
    VIDI_LAUNCH(dyn_read_first, VIDI_DIM3(1, 1, 1), VIDI_DIM3(64, 1, 1), big, NULL, args);
    CHECK(cudaGetLastError() == cudaErrorInvalidValue);
    CHECK(cudaFuncSetAttribute(dyn_read_first, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)big) == cudaSuccess);
    VIDI_LAUNCH(dyn_read_first, VIDI_DIM3(1, 1, 1), VIDI_DIM3(64, 1, 1), big, NULL, args);
    CHECK(cudaGetLastError() == cudaSuccess);
    CHECK(cudaFuncSetAttribute(dyn_read_first, cudaFuncAttributeMaxDynamicSharedMemorySize, 200 * 1024) ==
          cudaErrorInvalidValue);
    cudaGetLastError();
    /* Launch configuration limits. */
    index_args ia = {d};
    VIDI_LAUNCH(indices, VIDI_DIM3(1, 1, 1), VIDI_DIM3(2048, 1, 1), 0, NULL, ia);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
    VIDI_LAUNCH(indices, VIDI_DIM3(0, 1, 1), VIDI_DIM3(32, 1, 1), 0, NULL, ia);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
    VIDI_LAUNCH(indices, VIDI_DIM3(1, 70000, 1), VIDI_DIM3(32, 1, 1), 0, NULL, ia);
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
    CHECK(cudaGetLastError() == cudaSuccess); /* read and cleared */
    cudaFree(d);
}

/* No order exists between blocks: the emulator runs them last to first. */
static void test_block_order(void) {
    float *out = dev_floats(8), *seen = dev_floats(8), h[8];
    chain_args args = {out, seen};
    VIDI_LAUNCH(cross_block, VIDI_DIM3(8, 1, 1), VIDI_DIM3(32, 1, 1), 0, NULL, args);
    CHECK(cudaMemcpy(h, seen, sizeof h, cudaMemcpyDeviceToHost) == cudaSuccess);
    int unwritten = 0;
    for (int b = 1; b < 8; b++) unwritten += isnan(h[b]);
    CHECK_MSG(unwritten == 7, "%d of 7 blocks read their predecessor's output unwritten", unwritten);
    cudaFree(out);
    cudaFree(seen);
}

static void test_memory_rules(void) {
    float host[4] = {1, 2, 3, 4};
    float *d = dev_floats(4);
    CHECK(cudaMemcpy(host, d, sizeof host, cudaMemcpyHostToDevice) == cudaErrorInvalidValue); /* wrong way round */
    CHECK(cudaMemcpy(d, host, 5 * sizeof(float), cudaMemcpyHostToDevice) == cudaErrorInvalidValue); /* past the end */
    CHECK(cudaFree(d + 1) == cudaErrorInvalidValue);
    CHECK(vidi_emu_check_range(d, 4 * sizeof(float), "d", "test") == 1);
    size_t free_b = 0, total = 0;
    CHECK(cudaMemGetInfo(&free_b, &total) == cudaSuccess && free_b < total);
    CHECK(cudaFree(d) == cudaSuccess);
    cudaGetLastError();
}

static void test_faults(void) {
    float *d = dev_floats(64);
    index_args args = {d};
    VIDI_LAUNCH(divergent_barrier, VIDI_DIM3(1, 1, 1), VIDI_DIM3(32, 1, 1), 0, NULL, args);
    CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
    CHECK_MSG(strstr(vidi_emu_fault(), "divergent_barrier") && strstr(vidi_emu_fault(), "__syncthreads"), "fault: %s",
              vidi_emu_fault());
    /* Sticky: later work is refused until the context is reset. */
    float h[4];
    CHECK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost) == cudaErrorLaunchFailure);
    vidi_emu_reset_faults();
    VIDI_LAUNCH(big_static, VIDI_DIM3(1, 1, 1), VIDI_DIM3(32, 1, 1), 0, NULL, args);
    CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
    CHECK_MSG(strstr(vidi_emu_fault(), "48 KiB") != NULL, "fault: %s", vidi_emu_fault());
    vidi_emu_reset_faults();
    /* A shuffle in a partial warp (48 threads: the second warp has 16). */
    float *o = dev_floats(4 * 48);
    lanes_args la = {o};
    VIDI_LAUNCH(shuffles, VIDI_DIM3(1, 1, 1), VIDI_DIM3(48, 1, 1), 0, NULL, la);
    CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
    CHECK_MSG(strstr(vidi_emu_fault(), "full warp") != NULL, "fault: %s", vidi_emu_fault());
    vidi_emu_reset_faults();
    /* A pointer outside every allocation, as a launcher's range check sees it. */
    CHECK(vidi_emu_check_range(h, sizeof h, "h", "test") == 0);
    CHECK(cudaDeviceSynchronize() == cudaErrorIllegalAddress);
    vidi_emu_reset_faults();
    CHECK(cudaDeviceSynchronize() == cudaSuccess);
    cudaFree(o);
    cudaFree(d);
}

int main(void) {
    test_barriers();
    test_shuffles();
    test_indices();
    test_shared_and_limits();
    test_block_order();
    test_memory_rules();
    test_faults();
    return vidi_test_summary("cuda_emu");
}
