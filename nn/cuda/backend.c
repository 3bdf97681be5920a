/* The CUDA backend's host side: device memory, the stream, cuBLASLt GEMMs
 * with fused epilogues, and the launches of vidi's kernels. Compiled twice:
 * against the real runtime (backend "cuda") and against the emulator
 * (backend "cuda-emu"); every name goes through VIDI_CU (cuda_api.h).
 * Every op only enqueues work on the backend's one stream: nothing here
 * waits for the device except download and synchronize. */
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/cuda_api.h"
#include "nn/cuda/cuda_backend.h"
#include "nn/cuda/kernels.h"
#include "nn/ref/ops_check.h"
#include "vidi/cuda.h"

#define WORKSPACE_BYTES ((size_t)32 << 20)

typedef struct dev_block {
    void *ptr;
    size_t bytes;
} dev_block;

typedef struct cuda_impl {
    cudaStream_t stream;
    cublasLtHandle_t lt;
    void *workspace;
    float *scratch; /* grow-only, patch-embedding columns */
    size_t scratch_floats;
    int gemm_mode;
    size_t mem_limit, mem_used;
    dev_block *blocks;
    size_t n_blocks, cap_blocks;
} cuda_impl;

static cuda_impl *impl_of(vidi_be *be) { return (cuda_impl *)be->impl; }

/* The emulator can say what a kernel did wrong; the GPU only gives a code. */
static const char *fault_detail(void) {
#if defined(VIDI_CUDA_EMU)
    return vidi_emu_fault();
#else
    return "";
#endif
}

static vidi_status cuda_status(cudaError_t err, const char *what) {
    if (err == cudaSuccess) return VIDI_OK;
    const char *detail = fault_detail();
    vidi_status st = err == cudaErrorMemoryAllocation ? VIDI_ERR_NOMEM : VIDI_ERR_DEVICE;
    return vidi_set_error(st, "%s: CUDA error %d (%s)%s%s", what, (int)err, cudaGetErrorString(err),
                          detail[0] ? ": " : "", detail);
}

static vidi_status lt_status(cublasStatus_t st, const char *what) {
    if (st == CUBLAS_STATUS_SUCCESS) return VIDI_OK;
    return vidi_set_error(st == CUBLAS_STATUS_ALLOC_FAILED ? VIDI_ERR_NOMEM : VIDI_ERR_DEVICE,
                          "%s: cuBLASLt status %d", what, (int)st);
}

static int cuda_supports_op(vidi_be *be, vidi_op op) {
    (void)be;
    return op >= 0 && op < VIDI_OP_COUNT;
}

static void *cuda_alloc(vidi_be *be, size_t bytes) {
    cuda_impl *im = impl_of(be);
    if (im->mem_limit && (bytes > im->mem_limit || im->mem_used > im->mem_limit - bytes)) {
        vidi_set_error(VIDI_ERR_NOMEM, "%s: device memory cap reached (%zu bytes requested, %zu of %zu in use)",
                       be->name, bytes, im->mem_used, im->mem_limit);
        return NULL;
    }
    if (im->n_blocks == im->cap_blocks) {
        size_t cap = im->cap_blocks ? 2 * im->cap_blocks : 64;
        dev_block *grown = realloc(im->blocks, cap * sizeof *grown);
        if (!grown) {
            vidi_set_error(VIDI_ERR_NOMEM, "%s: out of host memory", be->name);
            return NULL;
        }
        im->blocks = grown;
        im->cap_blocks = cap;
    }
    void *p = NULL;
    cudaError_t err = cudaMalloc(&p, bytes ? bytes : 1);
    if (err != cudaSuccess) {
        cudaGetLastError(); /* an allocation failure is not sticky: clear it */
        vidi_set_error(VIDI_ERR_NOMEM, "%s: cannot allocate %zu bytes of device memory (%s)", be->name, bytes,
                       cudaGetErrorString(err));
        return NULL;
    }
    im->blocks[im->n_blocks++] = (dev_block){p, bytes};
    im->mem_used += bytes;
    return p;
}

static void cuda_release(vidi_be *be, void *ptr) {
    if (!ptr) return;
    cuda_impl *im = impl_of(be);
    for (size_t i = 0; i < im->n_blocks; i++)
        if (im->blocks[i].ptr == ptr) {
            im->mem_used -= im->blocks[i].bytes;
            im->blocks[i] = im->blocks[--im->n_blocks];
            break;
        }
    cudaFree(ptr);
}

static vidi_status cuda_upload(vidi_be *be, void *dst, const void *src, size_t bytes) {
    if (bytes && (!dst || !src)) return vidi_set_error(VIDI_ERR_ARG, "%s: upload with NULL pointer", be->name);
    /* From pageable memory the copy has read `src` when the call returns. */
    return cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, impl_of(be)->stream), "upload");
}

static vidi_status cuda_download(vidi_be *be, void *dst, const void *src, size_t bytes) {
    if (bytes && (!dst || !src)) return vidi_set_error(VIDI_ERR_ARG, "%s: download with NULL pointer", be->name);
    cuda_impl *im = impl_of(be);
    vidi_status st = cuda_status(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, im->stream), "download");
    if (st != VIDI_OK) return st;
    return cuda_status(cudaStreamSynchronize(im->stream), "download");
}

static vidi_status cuda_synchronize(vidi_be *be) {
    return cuda_status(cudaStreamSynchronize(impl_of(be)->stream), "synchronize");
}

static void cuda_destroy(vidi_backend *be) {
    if (!be) return;
    cuda_impl *im = impl_of(be);
    if (im) {
        if (im->stream) cudaStreamSynchronize(im->stream);
        for (size_t i = 0; i < im->n_blocks; i++) cudaFree(im->blocks[i].ptr);
        free(im->blocks);
        cudaFree(im->scratch);
        cudaFree(im->workspace);
        if (im->lt) cublasLtDestroy(im->lt);
        if (im->stream) cudaStreamDestroy(im->stream);
        free(im);
    }
    free(be);
}

/* ---- GEMM: d[r, o] (row stride ldd) = act(x[r, :] . w[o, :] + bias[o]) ----
 * Row-major [rows, n] with stride ldd is column-major n x rows with ld = ldd,
 * so cuBLASLt computes D = op(A) op(B) with A = w (stored k x n, ld k,
 * transposed), B = x (stored k x rows, ld k) and bias along D's rows. The
 * tanh GELU is cuBLASLt's own GELU epilogue; the exact erf GELU is a second
 * kernel on the same stream. */
static uint32_t alignment(const void *p) {
    uintptr_t u = (uintptr_t)p, a = u & (~u + 1); /* lowest set bit */
    return a == 0 || a > 256 ? 256u : (uint32_t)a;
}

/* One cuBLASLt matmul d = w-GEMM(x) with the given epilogue. *no_algo is set
 * (and nothing enqueued) when cuBLASLt has no algorithm for it. */
static vidi_status lt_matmul(vidi_be *be, float *d, int64_t ldd, const float *x, const float *w, const float *bias,
                             int64_t rows, int64_t k, int64_t n, int32_t epilogue, int *no_algo) {
    cuda_impl *im = impl_of(be);
    static const cublasComputeType_t computes[3] = {CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32,
                                                    CUBLAS_COMPUTE_32F_FAST_16BF};
    cublasLtMatmulDesc_t desc = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, ld = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    vidi_status st = VIDI_OK;
    int32_t trans_a = CUBLAS_OP_T, trans_b = CUBLAS_OP_N;
    uint64_t ws = WORKSPACE_BYTES;
    const float one = 1.0f, zero = 0.0f;
    *no_algo = 0;
#define LT(fn, ...)                                                         \
    do {                                                                    \
        if (st == VIDI_OK) st = lt_status(fn(__VA_ARGS__), "linear: " #fn); \
    } while (0)
    LT(cublasLtMatmulDescCreate, &desc, computes[im->gemm_mode], CUDA_R_32F);
    LT(cublasLtMatmulDescSetAttribute, desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans_a, sizeof trans_a);
    LT(cublasLtMatmulDescSetAttribute, desc, CUBLASLT_MATMUL_DESC_TRANSB, &trans_b, sizeof trans_b);
    LT(cublasLtMatmulDescSetAttribute, desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue);
    if (bias) LT(cublasLtMatmulDescSetAttribute, desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias);
    LT(cublasLtMatrixLayoutCreate, &la, CUDA_R_32F, (uint64_t)k, (uint64_t)n, k);
    LT(cublasLtMatrixLayoutCreate, &lb, CUDA_R_32F, (uint64_t)k, (uint64_t)rows, k);
    LT(cublasLtMatrixLayoutCreate, &ld, CUDA_R_32F, (uint64_t)n, (uint64_t)rows, ldd);
    LT(cublasLtMatmulPreferenceCreate, &pref);
    LT(cublasLtMatmulPreferenceSetAttribute, pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    /* Activations at row offsets (x + d, strided patch rows) are not 256-byte
     * aligned; an algorithm chosen for the default 256 would refuse them. */
    uint32_t align[4] = {alignment(w), alignment(x), alignment(d), alignment(d)};
    for (int i = 0; i < 4; i++)
        LT(cublasLtMatmulPreferenceSetAttribute, pref,
           (cublasLtMatmulPreferenceAttributes_t)(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES + i), &align[i],
           sizeof align[i]);
    cublasLtMatmulHeuristicResult_t heur;
    int found = 0;
    if (st == VIDI_OK) {
        cublasStatus_t hs = cublasLtMatmulAlgoGetHeuristic(im->lt, desc, la, lb, ld, ld, pref, 1, &heur, &found);
        if (hs == CUBLAS_STATUS_NOT_SUPPORTED || (hs == CUBLAS_STATUS_SUCCESS && found < 1)) {
            *no_algo = 1;
            st = vidi_set_error(VIDI_ERR_UNSUPPORTED, "linear: cuBLASLt has no algorithm for %lldx%lldx%lld",
                                (long long)rows, (long long)k, (long long)n);
        } else {
            st = lt_status(hs, "linear: cublasLtMatmulAlgoGetHeuristic");
        }
    }
    LT(cublasLtMatmul, im->lt, desc, &one, w, la, x, lb, &zero, d, ld, d, ld, &heur.algo, im->workspace,
       WORKSPACE_BYTES, im->stream);
#undef LT
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (ld) cublasLtMatrixLayoutDestroy(ld);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (desc) cublasLtMatmulDescDestroy(desc);
    return st;
}

/* d[r, o] (row stride ldd) = act(x[r, :] . w[o, :] + bias[o]). The bias and
 * the tanh GELU are fused into the matmul as cuBLASLt epilogues when it has
 * an algorithm for them; the exact erf GELU, and the bias too where no fused
 * algorithm exists, run as one more kernel on the same stream. */
static vidi_status gemm(vidi_be *be, float *d, int64_t ldd, const float *x, const float *w, const float *bias,
                        int64_t rows, int64_t k, int64_t n, vidi_act act) {
    cuda_impl *im = impl_of(be);
    int32_t epilogue = act == VIDI_ACT_GELU_TANH ? (bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU)
                                                 : (bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT);
    int no_algo = 0;
    vidi_status st = lt_matmul(be, d, ldd, x, w, bias, rows, k, n, epilogue, &no_algo);
    if (st == VIDI_OK) {
        if (act == VIDI_ACT_GELU_ERF)
            st = cuda_status(VIDI_CU(launch_bias_act_2d)(im->stream, d, rows, n, ldd, NULL, (int)act), "linear: gelu");
        return st;
    }
    if (!no_algo || epilogue == CUBLASLT_EPILOGUE_DEFAULT) return st;
    /* No fused algorithm: a plain matmul, then bias and activation. */
    if ((st = lt_matmul(be, d, ldd, x, w, NULL, rows, k, n, CUBLASLT_EPILOGUE_DEFAULT, &no_algo)) != VIDI_OK) return st;
    return cuda_status(VIDI_CU(launch_bias_act_2d)(im->stream, d, rows, n, ldd, bias, (int)act), "linear: bias");
}

static vidi_status cuda_linear(vidi_be *be, float *out, const float *in, const float *weight, const float *bias,
                               int64_t rows, int64_t in_f, int64_t out_f, vidi_act act) {
    vidi_status st = vidi_check_linear(out, in, weight, rows, in_f, out_f, act);
    if (st != VIDI_OK || rows == 0) return st;
    return gemm(be, out, out_f, in, weight, bias, rows, in_f, out_f, act);
}

static vidi_status cuda_layernorm(vidi_be *be, float *out, const float *in, const float *gamma, const float *beta,
                                  int64_t rows, int64_t dim, float eps) {
    vidi_status st = vidi_check_layernorm(out, in, rows, dim, eps);
    if (st != VIDI_OK) return st;
    if (rows > 0x7fffffff) return vidi_set_error(VIDI_ERR_UNSUPPORTED, "layernorm: %lld rows > 2^31-1", (long long)rows);
    return cuda_status(VIDI_CU(launch_layernorm)(impl_of(be)->stream, out, in, gamma, beta, rows, dim, eps),
                       "layernorm");
}

static vidi_status cuda_attention(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                                  const vidi_attn_layout *l, float scale) {
    vidi_status st = vidi_check_attention(out, q, k, v, l, scale);
    if (st != VIDI_OK) return st;
    if (l->head_dim > VIDI_CUDA_ATTN_WIDE_MAX_HEAD_DIM)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "attention: head_dim %d > %d is not supported by the CUDA kernels",
                              l->head_dim, VIDI_CUDA_ATTN_WIDE_MAX_HEAD_DIM);
    if (l->batch > 65535 || l->heads > 65535)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "attention: batch %d or heads %d > 65535 is not supported by the CUDA kernel", l->batch,
                              l->heads);
    return cuda_status(VIDI_CU(launch_attention)(impl_of(be)->stream, out, q, k, v, l, scale), "attention");
}

static vidi_status cuda_softmax(vidi_be *be, float *out, const float *in, int64_t rows, int64_t cols) {
    vidi_status st = vidi_check_softmax(out, in, rows, cols);
    if (st != VIDI_OK) return st;
    if (rows > 0x7fffffff) return vidi_set_error(VIDI_ERR_UNSUPPORTED, "softmax: %lld rows > 2^31-1", (long long)rows);
    return cuda_status(VIDI_CU(launch_softmax)(impl_of(be)->stream, out, in, rows, cols), "softmax");
}

static vidi_status cuda_add(vidi_be *be, float *out, const float *a, const float *b, int64_t n) {
    vidi_status st = vidi_check_add(out, a, b, n);
    if (st != VIDI_OK) return st;
    return cuda_status(VIDI_CU(launch_add)(impl_of(be)->stream, out, a, b, n), "add");
}

static vidi_status cuda_gelu(vidi_be *be, float *out, const float *in, int64_t n, vidi_act act) {
    vidi_status st = vidi_check_gelu(out, in, n, act);
    if (st != VIDI_OK) return st;
    return cuda_status(VIDI_CU(launch_gelu)(impl_of(be)->stream, out, in, n, (int)act), "gelu");
}

static vidi_status cuda_modulate(vidi_be *be, float *out, const float *in, const float *scale, float scale_bias,
                                 const float *shift, const float *res, int64_t rows, int64_t dim) {
    vidi_status st = vidi_check_modulate(out, in, scale, rows, dim, scale_bias);
    if (st != VIDI_OK) return st;
    return cuda_status(
        VIDI_CU(launch_modulate)(impl_of(be)->stream, out, in, scale, scale_bias, shift, res, rows, dim), "modulate");
}

static vidi_status cuda_unpatchify(vidi_be *be, float *video, const float *tokens, const vidi_patch_layout *l, int c0,
                                   int nc) {
    vidi_status st = vidi_check_unpatchify(video, tokens, l, c0, nc);
    if (st != VIDI_OK) return st;
    return cuda_status(VIDI_CU(launch_unpatchify)(impl_of(be)->stream, video, tokens, l, c0, nc), "unpatchify");
}

static vidi_status cuda_sampler_step(vidi_be *be, const vidi_sampler_step *step, int64_t n) {
    vidi_status st = vidi_check_sampler_step(step, n);
    if (st != VIDI_OK) return st;
    return cuda_status(VIDI_CU(launch_sampler_step)(impl_of(be)->stream, step, n), "sampler_step");
}

/* im2col into the grow-only scratch, then one GEMM writing the strided rows. */
static vidi_status cuda_patch_embed(vidi_be *be, float *out, const float *video, const float *weight,
                                    const float *bias, const vidi_patch_layout *l) {
    vidi_status st = vidi_check_patch_embed(out, video, weight, l);
    if (st != VIDI_OK) return st;
    cuda_impl *im = impl_of(be);
    int64_t tokens = (int64_t)(l->frames / l->patch_t) * (l->height / l->patch_h) * (l->width / l->patch_w);
    int64_t k = (int64_t)l->channels * l->patch_t * l->patch_h * l->patch_w;
    size_t need = (size_t)(tokens * k);
    if (need > im->scratch_floats) {
        /* Growing may free memory the stream still reads: wait first. */
        if ((st = cuda_synchronize(be)) != VIDI_OK) return st;
        cudaFree(im->scratch);
        im->scratch = NULL;
        im->scratch_floats = 0;
        if (cudaMalloc((void **)&im->scratch, need * sizeof(float)) != cudaSuccess) {
            cudaGetLastError();
            return vidi_set_error(VIDI_ERR_NOMEM, "patch_embed: cannot allocate %zu bytes of device scratch",
                                  need * sizeof(float));
        }
        im->scratch_floats = need;
    }
    if ((st = cuda_status(VIDI_CU(launch_im2col)(im->stream, im->scratch, video, l), "patch_embed")) != VIDI_OK)
        return st;
    return gemm(be, out, l->out_row_stride, im->scratch, weight, bias, tokens, k, l->hidden, VIDI_ACT_NONE);
}

static int gemm_mode_from_env(void) {
    const char *s = getenv("VIDI_CUDA_GEMM");
    if (s && !strcmp(s, "tf32")) return VIDI_CUDA_GEMM_TF32;
    if (s && !strcmp(s, "bf16")) return VIDI_CUDA_GEMM_BF16;
    return VIDI_CUDA_GEMM_FP32;
}

vidi_status VIDI_CU(backend_create)(const char *name, vidi_backend **out) {
    *out = NULL;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        cudaGetLastError();
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "backend '%s': no CUDA device (%s)", name,
                              err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount found 0");
    }
    vidi_backend *be = calloc(1, sizeof *be);
    cuda_impl *im = calloc(1, sizeof *im);
    if (!be || !im) {
        free(be);
        free(im);
        return vidi_set_error(VIDI_ERR_NOMEM, "backend '%s': out of memory", name);
    }
    be->name = name;
    be->impl = im;
    be->n_threads = 1;
    be->device_memory = 1;
    be->supports_op = cuda_supports_op;
    be->alloc = cuda_alloc;
    be->release = cuda_release;
    be->upload = cuda_upload;
    be->download = cuda_download;
    be->synchronize = cuda_synchronize;
    be->destroy = cuda_destroy;
    be->linear = cuda_linear;
    be->layernorm = cuda_layernorm;
    be->attention = cuda_attention;
    be->softmax = cuda_softmax;
    be->add = cuda_add;
    be->gelu = cuda_gelu;
    be->patch_embed = cuda_patch_embed;
    be->modulate = cuda_modulate;
    be->unpatchify = cuda_unpatchify;
    be->sampler_step = cuda_sampler_step;
    im->gemm_mode = gemm_mode_from_env();
    vidi_status st = cuda_status(cudaSetDevice(0), name);
    if (st == VIDI_OK) st = cuda_status(cudaStreamCreateWithFlags(&im->stream, cudaStreamNonBlocking), name);
    if (st == VIDI_OK) st = lt_status(cublasLtCreate(&im->lt), name);
    if (st == VIDI_OK && cudaMalloc(&im->workspace, WORKSPACE_BYTES) != cudaSuccess) {
        cudaGetLastError();
        st = vidi_set_error(VIDI_ERR_NOMEM, "backend '%s': cannot allocate the cuBLASLt workspace", name);
    }
    if (st != VIDI_OK) {
        cuda_destroy(be);
        return st;
    }
    *out = be;
    return VIDI_OK;
}

vidi_status VIDI_CU(backend_set_gemm_mode)(vidi_backend *be, int mode) {
    if (mode < VIDI_CUDA_GEMM_FP32 || mode > VIDI_CUDA_GEMM_BF16)
        return vidi_set_error(VIDI_ERR_ARG, "%s: unknown GEMM mode %d", be->name, mode);
    impl_of(be)->gemm_mode = mode;
    return VIDI_OK;
}

vidi_status VIDI_CU(backend_set_memory_limit)(vidi_backend *be, size_t bytes) {
    impl_of(be)->mem_limit = bytes;
    return VIDI_OK;
}
