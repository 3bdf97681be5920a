/* cuBLASLt reference (see cublaslt_emu.h for the semantics it follows).
 * Plain loops, float accumulation in k order: what the library computes up
 * to summation order, which the op tests' tolerances already allow for. */
#include "nn/cuda/emu/cublaslt_emu.h"
#include "nn/cuda/emu/emu_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int fused_epilogues = 1;
void vidi_emu_lt_set_fused_epilogues(int on) { fused_epilogues = on; }

struct vidi_emu_lt_handle {
    int magic;
};
struct vidi_emu_lt_desc {
    cublasComputeType_t compute;
    cublasOperation_t trans_a, trans_b;
    cublasLtEpilogue_t epilogue;
    const float *bias;
};
struct vidi_emu_lt_layout {
    uint64_t rows, cols;
    int64_t ld;
};
struct vidi_emu_lt_pref {
    size_t max_workspace;
    uint32_t align[4]; /* A, B, C, D */
};

cublasStatus_t vidi_emu_lt_create(cublasLtHandle_t *handle) {
    if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
    int count = 0;
    if (vidi_emu_get_device_count(&count) != cudaSuccess || count == 0) return CUBLAS_STATUS_NOT_INITIALIZED;
    *handle = calloc(1, sizeof **handle);
    return *handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_ALLOC_FAILED;
}

cublasStatus_t vidi_emu_lt_destroy(cublasLtHandle_t handle) {
    free(handle);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t vidi_emu_lt_desc_create(cublasLtMatmulDesc_t *desc, cublasComputeType_t compute,
                                       cudaDataType_t scale_type) {
    if (!desc || scale_type != CUDA_R_32F) return CUBLAS_STATUS_INVALID_VALUE;
    if (compute != CUBLAS_COMPUTE_32F && compute != CUBLAS_COMPUTE_32F_FAST_TF32 &&
        compute != CUBLAS_COMPUTE_32F_FAST_16BF)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    *desc = calloc(1, sizeof **desc);
    if (!*desc) return CUBLAS_STATUS_ALLOC_FAILED;
    (*desc)->compute = compute;
    (*desc)->epilogue = CUBLASLT_EPILOGUE_DEFAULT;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t vidi_emu_lt_desc_destroy(cublasLtMatmulDesc_t desc) {
    free(desc);
    return CUBLAS_STATUS_SUCCESS;
}

/* Attribute sizes as the library checks them: int32 enums, a pointer for the bias. */
cublasStatus_t vidi_emu_lt_desc_set(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const void *buf,
                                    size_t size) {
    if (!desc || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    int32_t v = 0;
    switch (attr) {
    case CUBLASLT_MATMUL_DESC_TRANSA:
    case CUBLASLT_MATMUL_DESC_TRANSB:
    case CUBLASLT_MATMUL_DESC_EPILOGUE:
        if (size != sizeof(int32_t)) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&v, buf, sizeof v);
        if (attr == CUBLASLT_MATMUL_DESC_EPILOGUE) {
            if (v != CUBLASLT_EPILOGUE_DEFAULT && v != CUBLASLT_EPILOGUE_BIAS && v != CUBLASLT_EPILOGUE_GELU &&
                v != CUBLASLT_EPILOGUE_GELU_BIAS)
                return CUBLAS_STATUS_NOT_SUPPORTED;
            desc->epilogue = (cublasLtEpilogue_t)v;
        } else {
            if (v != CUBLAS_OP_N && v != CUBLAS_OP_T) return CUBLAS_STATUS_INVALID_VALUE;
            if (attr == CUBLASLT_MATMUL_DESC_TRANSA) desc->trans_a = (cublasOperation_t)v;
            else desc->trans_b = (cublasOperation_t)v;
        }
        return CUBLAS_STATUS_SUCCESS;
    case CUBLASLT_MATMUL_DESC_BIAS_POINTER:
        if (size != sizeof(void *)) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&desc->bias, buf, sizeof desc->bias);
        return CUBLAS_STATUS_SUCCESS;
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

cublasStatus_t vidi_emu_lt_layout_create(cublasLtMatrixLayout_t *layout, cudaDataType type, uint64_t rows,
                                         uint64_t cols, int64_t ld) {
    if (!layout || type != CUDA_R_32F) return CUBLAS_STATUS_INVALID_VALUE;
    /* Column-major: the leading dimension is at least the row count. */
    if (ld < 1 || (uint64_t)ld < rows) return CUBLAS_STATUS_INVALID_VALUE;
    *layout = calloc(1, sizeof **layout);
    if (!*layout) return CUBLAS_STATUS_ALLOC_FAILED;
    **layout = (struct vidi_emu_lt_layout){rows, cols, ld};
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t vidi_emu_lt_layout_destroy(cublasLtMatrixLayout_t layout) {
    free(layout);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t vidi_emu_lt_pref_create(cublasLtMatmulPreference_t *pref) {
    if (!pref) return CUBLAS_STATUS_INVALID_VALUE;
    *pref = calloc(1, sizeof **pref);
    if (!*pref) return CUBLAS_STATUS_ALLOC_FAILED;
    for (int i = 0; i < 4; i++) (*pref)->align[i] = 256;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t vidi_emu_lt_pref_destroy(cublasLtMatmulPreference_t pref) {
    free(pref);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t vidi_emu_lt_pref_set(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr,
                                    const void *buf, size_t size) {
    if (!pref || !buf) return CUBLAS_STATUS_INVALID_VALUE;
    if (attr == CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES) {
        uint64_t v;
        if (size != sizeof v) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&v, buf, sizeof v);
        pref->max_workspace = (size_t)v;
        return CUBLAS_STATUS_SUCCESS;
    }
    if (attr >= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES && attr <= CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES) {
        uint32_t v;
        if (size != sizeof v) return CUBLAS_STATUS_INVALID_VALUE;
        memcpy(&v, buf, sizeof v);
        pref->align[attr - CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES] = v;
        return CUBLAS_STATUS_SUCCESS;
    }
    return CUBLAS_STATUS_INVALID_VALUE;
}

/* m, n, k from the layouts after the transposes; 0 when inconsistent. */
static int shapes(cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                  cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d, uint64_t *m, uint64_t *n, uint64_t *k) {
    if (!desc || !a || !b || !c || !d) return 0;
    uint64_t am = desc->trans_a == CUBLAS_OP_N ? a->rows : a->cols;
    uint64_t ak = desc->trans_a == CUBLAS_OP_N ? a->cols : a->rows;
    uint64_t bk = desc->trans_b == CUBLAS_OP_N ? b->rows : b->cols;
    uint64_t bn = desc->trans_b == CUBLAS_OP_N ? b->cols : b->rows;
    if (ak != bk || d->rows != am || d->cols != bn || c->rows != d->rows || c->cols != d->cols) return 0;
    *m = am;
    *n = bn;
    *k = ak;
    return 1;
}

cublasStatus_t vidi_emu_lt_heuristic_get(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a,
                                         cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                         cublasLtMatmulPreference_t pref, int requested,
                                         cublasLtMatmulHeuristicResult_t *results, int *returned) {
    uint64_t m, n, k;
    if (!handle || !pref || requested < 1 || !results || !returned) return CUBLAS_STATUS_INVALID_VALUE;
    if (!shapes(desc, a, b, c, d, &m, &n, &k)) return CUBLAS_STATUS_INVALID_VALUE;
    *returned = 0;
    if (!fused_epilogues && desc->epilogue != CUBLASLT_EPILOGUE_DEFAULT) return CUBLAS_STATUS_NOT_SUPPORTED;
    memset(results, 0, sizeof *results);
    /* The algorithm remembers the alignments it was chosen for. */
    for (int i = 0; i < 4; i++) results[0].algo.data[i] = pref->align[i];
    results[0].state = CUBLAS_STATUS_SUCCESS;
    results[0].wavesCount = 1.0f;
    *returned = 1;
    return CUBLAS_STATUS_SUCCESS;
}

static float round_mantissa(float x, int drop_bits) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) >= 0x7f800000u) return x;
    uint32_t half = 1u << (drop_bits - 1);
    u += half - 1 + ((u >> drop_bits) & 1u); /* round to nearest even */
    u &= ~((1u << drop_bits) - 1u);
    memcpy(&x, &u, sizeof x);
    return x;
}

static float input(cublasComputeType_t compute, float x) {
    if (compute == CUBLAS_COMPUTE_32F_FAST_TF32) return round_mantissa(x, 13); /* 10 mantissa bits */
    if (compute == CUBLAS_COMPUTE_32F_FAST_16BF) return round_mantissa(x, 16); /* 7 mantissa bits */
    return x;
}

cublasStatus_t vidi_emu_lt_matmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha_p,
                                  const void *a_p, cublasLtMatrixLayout_t al, const void *b_p,
                                  cublasLtMatrixLayout_t bl, const void *beta_p, const void *c_p,
                                  cublasLtMatrixLayout_t cl, void *d_p, cublasLtMatrixLayout_t dl,
                                  const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspace_size,
                                  struct vidi_emu_stream *stream) {
    (void)workspace;
    (void)workspace_size;
    (void)stream;
    uint64_t m, n, k;
    if (!handle || !alpha_p || !beta_p || !shapes(desc, al, bl, cl, dl, &m, &n, &k))
        return CUBLAS_STATUS_INVALID_VALUE;
    if (vidi_emu_sticky()) return CUBLAS_STATUS_EXECUTION_FAILED;
    if (!fused_epilogues && desc->epilogue != CUBLASLT_EPILOGUE_DEFAULT) return CUBLAS_STATUS_NOT_SUPPORTED;
    if (algo) {
        const void *ptrs[4] = {a_p, b_p, c_p, d_p};
        for (int i = 0; i < 4; i++)
            if (algo->data[i] && (uintptr_t)ptrs[i] % algo->data[i]) return CUBLAS_STATUS_NOT_SUPPORTED;
    }
    if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
    float alpha = *(const float *)alpha_p, beta = *(const float *)beta_p;
    const float *a = a_p, *b = b_p, *c = c_p;
    float *d = d_p;
    /* Every matrix the call reads or writes must be device memory, whole. */
    size_t a_bytes = ((size_t)(al->cols - 1) * (size_t)al->ld + al->rows) * sizeof(float);
    size_t b_bytes = ((size_t)(bl->cols - 1) * (size_t)bl->ld + bl->rows) * sizeof(float);
    size_t d_bytes = ((size_t)(dl->cols - 1) * (size_t)dl->ld + dl->rows) * sizeof(float);
    size_t c_bytes = ((size_t)(cl->cols - 1) * (size_t)cl->ld + cl->rows) * sizeof(float);
    int has_bias = desc->epilogue == CUBLASLT_EPILOGUE_BIAS || desc->epilogue == CUBLASLT_EPILOGUE_GELU_BIAS;
    if ((k && (!vidi_emu_is_device_range(a, a_bytes) || !vidi_emu_is_device_range(b, b_bytes))) ||
        !vidi_emu_is_device_range(d, d_bytes) || (beta != 0.0f && !vidi_emu_is_device_range(c, c_bytes)) ||
        (has_bias && !vidi_emu_is_device_range(desc->bias, m * sizeof(float))))
        return CUBLAS_STATUS_INVALID_VALUE;
    int gelu = desc->epilogue == CUBLASLT_EPILOGUE_GELU || desc->epilogue == CUBLASLT_EPILOGUE_GELU_BIAS;
    /* op(A)[i, p] = a[i * a_i + p * a_k], op(B)[p, j] = b[p * b_k + j * b_j]. */
    uint64_t a_i = desc->trans_a == CUBLAS_OP_N ? 1 : (uint64_t)al->ld, a_k = desc->trans_a == CUBLAS_OP_N ? (uint64_t)al->ld : 1;
    uint64_t b_k = desc->trans_b == CUBLAS_OP_N ? 1 : (uint64_t)bl->ld, b_j = desc->trans_b == CUBLAS_OP_N ? (uint64_t)bl->ld : 1;
    int exact = desc->compute == CUBLAS_COMPUTE_32F;
    for (uint64_t j = 0; j < n; j++)
        for (uint64_t i = 0; i < m; i++) {
            const float *ar = a + i * a_i, *bc = b + j * b_j;
            float acc = 0.0f;
            if (exact)
                for (uint64_t p = 0; p < k; p++) acc += ar[p * a_k] * bc[p * b_k];
            else
                for (uint64_t p = 0; p < k; p++)
                    acc += input(desc->compute, ar[p * a_k]) * input(desc->compute, bc[p * b_k]);
            float v = alpha * acc;
            if (beta != 0.0f) v += beta * c[i + j * (uint64_t)cl->ld];
            if (has_bias) v += desc->bias[i];
            if (gelu) v = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
            d[i + j * (uint64_t)dl->ld] = v;
        }
    return CUBLAS_STATUS_SUCCESS;
}
