/* Elementwise kernels: add, GELU (erf / tanh), the GEMM epilogue cuBLASLt
 * cannot fuse (bias + activation), modulate (adaLN), the im2col gather
 * of patch / tubelet embedding and its inverse, unpatchify. Grid-stride loops. */
#include "nn/cuda/kernel.h"
#include "nn/cuda/kernels.h"

#define EW_THREADS 256

static unsigned ew_blocks(int64_t n) {
    int64_t b = (n + EW_THREADS - 1) / EW_THREADS;
    return (unsigned)(b < 1 ? 1 : b > 8192 ? 8192 : b);
}

VIDI_DEVICE float gelu_erf(float x) { return 0.5f * x * erfcf(-x * 0.70710678118654752f); }
VIDI_DEVICE float gelu_tanh(float x) {
    return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

typedef struct add_args {
    float *out;
    const float *a, *b;
    int64_t n;
} add_args;

VIDI_KERNEL(add_kernel, add_args, a) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += stride) a.out[i] = a.a[i] + a.b[i];
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_add)(cudaStream_t s, float *out, const float *a, const float *b,
                                               int64_t n) {
    if (n <= 0) return cudaSuccess;
    size_t bytes = (size_t)n * sizeof(float);
    VIDI_DEV_RANGE(out, bytes);
    VIDI_DEV_RANGE(a, bytes);
    VIDI_DEV_RANGE(b, bytes);
    add_args args = {out, a, b, n};
    VIDI_LAUNCH(add_kernel, VIDI_DIM3(ew_blocks(n), 1, 1), VIDI_DIM3(EW_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}

typedef struct gelu_args {
    float *out;
    const float *in;
    int64_t n;
    int act;
} gelu_args;

VIDI_KERNEL(gelu_kernel, gelu_args, a) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += stride) {
        float x = a.in[i];
        a.out[i] = a.act == VIDI_ACT_GELU_ERF ? gelu_erf(x) : a.act == VIDI_ACT_GELU_TANH ? gelu_tanh(x) : x;
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_gelu)(cudaStream_t s, float *out, const float *in, int64_t n, int act) {
    if (n <= 0 || (act == VIDI_ACT_NONE && out == in)) return cudaSuccess;
    size_t bytes = (size_t)n * sizeof(float);
    VIDI_DEV_RANGE(out, bytes);
    VIDI_DEV_RANGE(in, bytes);
    gelu_args args = {out, in, n, act};
    VIDI_LAUNCH(gelu_kernel, VIDI_DIM3(ew_blocks(n), 1, 1), VIDI_DIM3(EW_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}

typedef struct bias_act_args {
    float *out;
    const float *bias;
    int64_t rows, cols, ld;
    int act;
} bias_act_args;

VIDI_KERNEL(bias_act_2d_kernel, bias_act_args, a) {
    int64_t n = a.rows * a.cols, stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int64_t c = i % a.cols;
        float *p = a.out + (i / a.cols) * a.ld + c;
        float x = *p + (a.bias ? a.bias[c] : 0.0f);
        *p = a.act == VIDI_ACT_GELU_ERF ? gelu_erf(x) : a.act == VIDI_ACT_GELU_TANH ? gelu_tanh(x) : x;
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_bias_act_2d)(cudaStream_t s, float *out, int64_t rows, int64_t cols,
                                                       int64_t ld, const float *bias, int act) {
    if (rows <= 0 || cols <= 0 || (!bias && act == VIDI_ACT_NONE)) return cudaSuccess;
    VIDI_DEV_RANGE(out, ((size_t)(rows - 1) * (size_t)ld + (size_t)cols) * sizeof(float));
    if (bias) VIDI_DEV_RANGE(bias, (size_t)cols * sizeof(float));
    bias_act_args args = {out, bias, rows, cols, ld, act};
    VIDI_LAUNCH(bias_act_2d_kernel, VIDI_DIM3(ew_blocks(rows * cols), 1, 1), VIDI_DIM3(EW_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}

typedef struct im2col_args {
    float *cols;
    const float *video;
    int channels, height, width, pt, ph, pw, nh, nw;
    int64_t tokens, k;
} im2col_args;

VIDI_KERNEL(im2col_kernel, im2col_args, a) {
    int64_t n = a.tokens * a.k, stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        int64_t tok = i / a.k, kk = i % a.k;
        int kw = (int)(kk % a.pw), kh = (int)(kk / a.pw % a.ph), kt = (int)(kk / ((int64_t)a.pw * a.ph) % a.pt);
        int c = (int)(kk / ((int64_t)a.pw * a.ph * a.pt));
        int wi = (int)(tok % a.nw), hi = (int)(tok / a.nw % a.nh), ti = (int)(tok / ((int64_t)a.nw * a.nh));
        int64_t t = (int64_t)ti * a.pt + kt, y = (int64_t)hi * a.ph + kh, x = (int64_t)wi * a.pw + kw;
        a.cols[i] = a.video[((t * a.channels + c) * a.height + y) * a.width + x];
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_im2col)(cudaStream_t s, float *cols, const float *video,
                                                  const vidi_patch_layout *l) {
    im2col_args args;
    args.cols = cols;
    args.video = video;
    args.channels = l->channels;
    args.height = l->height;
    args.width = l->width;
    args.pt = l->patch_t;
    args.ph = l->patch_h;
    args.pw = l->patch_w;
    args.nh = l->height / l->patch_h;
    args.nw = l->width / l->patch_w;
    args.tokens = (int64_t)(l->frames / l->patch_t) * args.nh * args.nw;
    args.k = (int64_t)l->channels * l->patch_t * l->patch_h * l->patch_w;
    VIDI_DEV_RANGE(cols, (size_t)(args.tokens * args.k) * sizeof(float));
    VIDI_DEV_RANGE(video, (size_t)l->frames * l->channels * l->height * l->width * sizeof(float));
    VIDI_LAUNCH(im2col_kernel, VIDI_DIM3(ew_blocks(args.tokens * args.k), 1, 1), VIDI_DIM3(EW_THREADS, 1, 1), 0, s,
                args);
    return cudaGetLastError();
}

typedef struct modulate_args {
    float *out;
    const float *in, *scale, *shift, *res;
    float scale_bias;
    int64_t n, dim;
} modulate_args;

/* adaLN (DiT): out = res + in * (scale_bias + scale[c]) + shift[c]; out may
 * alias in or res (each element is read and written by one thread). */
VIDI_KERNEL(modulate_kernel, modulate_args, a) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += stride) {
        int64_t c = i % a.dim;
        float v = a.in[i] * (a.scale_bias + a.scale[c]);
        if (a.shift) v += a.shift[c];
        if (a.res) v += a.res[i];
        a.out[i] = v;
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_modulate)(cudaStream_t s, float *out, const float *in, const float *scale,
                                                    float scale_bias, const float *shift, const float *res,
                                                    int64_t rows, int64_t dim) {
    int64_t n = rows * dim;
    if (n <= 0) return cudaSuccess;
    size_t bytes = (size_t)n * sizeof(float);
    VIDI_DEV_RANGE(out, bytes);
    VIDI_DEV_RANGE(in, bytes);
    VIDI_DEV_RANGE(scale, (size_t)dim * sizeof(float));
    if (shift) VIDI_DEV_RANGE(shift, (size_t)dim * sizeof(float));
    if (res) VIDI_DEV_RANGE(res, bytes);
    modulate_args args = {out, in, scale, shift, res, scale_bias, n, dim};
    VIDI_LAUNCH(modulate_kernel, VIDI_DIM3(ew_blocks(n), 1, 1), VIDI_DIM3(EW_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}

typedef struct unpatchify_args {
    float *video;
    const float *tokens;
    int height, width, pt, ph, pw, nh, nw, c0, nc;
    int64_t stride, n;
} unpatchify_args;

/* One thread per output value (t, c, y, x): a gather from its token row. */
VIDI_KERNEL(unpatchify_kernel, unpatchify_args, a) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += stride) {
        int x = (int)(i % a.width), y = (int)(i / a.width % a.height);
        int64_t c = i / ((int64_t)a.width * a.height) % a.nc, t = i / ((int64_t)a.width * a.height * a.nc);
        int64_t row = ((t / a.pt) * a.nh + y / a.ph) * a.nw + x / a.pw;
        int64_t col = (((a.c0 + c) * a.pt + t % a.pt) * a.ph + y % a.ph) * a.pw + x % a.pw;
        a.video[i] = a.tokens[row * a.stride + col];
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_unpatchify)(cudaStream_t s, float *video, const float *tokens,
                                                      const vidi_patch_layout *l, int c0, int nc) {
    unpatchify_args args;
    args.video = video;
    args.tokens = tokens;
    args.height = l->height;
    args.width = l->width;
    args.pt = l->patch_t;
    args.ph = l->patch_h;
    args.pw = l->patch_w;
    args.nh = l->height / l->patch_h;
    args.nw = l->width / l->patch_w;
    args.c0 = c0;
    args.nc = nc;
    args.stride = l->out_row_stride;
    args.n = (int64_t)l->frames * nc * l->height * l->width;
    int64_t tokens_n = (int64_t)(l->frames / l->patch_t) * args.nh * args.nw;
    VIDI_DEV_RANGE(video, (size_t)args.n * sizeof(float));
    VIDI_DEV_RANGE(tokens, ((size_t)(tokens_n - 1) * (size_t)args.stride + (size_t)l->hidden) * sizeof(float));
    VIDI_LAUNCH(unpatchify_kernel, VIDI_DIM3(ew_blocks(args.n), 1, 1), VIDI_DIM3(EW_THREADS, 1, 1), 0, s, args);
    return cudaGetLastError();
}
