/* The cuBLASLt subset vidi calls, executed by a reference that follows the
 * library's documented semantics (docs/cuda.md, "cuBLASLt reference"):
 * column-major matrices described by (rows, cols, ld) before the transpose,
 * D = alpha * op(A) op(B) + beta * C, then the epilogue (+ bias[row] broadcast
 * over columns, then GELU — cuBLASLt's GELU is the tanh approximation).
 * Pointers must be aligned to the preference's MIN_ALIGNMENT_*_BYTES
 * (default 256), as algorithms chosen under it assume. Compute types: 32F (float), 32F_FAST_TF32 and 32F_FAST_16BF (inputs
 * rounded to TF32 / BF16, products accumulated in float). Inconsistent
 * descriptors return CUBLAS_STATUS_INVALID_VALUE, as the library does. */
#ifndef VIDI_NN_CUBLASLT_EMU_H
#define VIDI_NN_CUBLASLT_EMU_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    vidi_emu_CUBLAS_STATUS_SUCCESS = 0,
    vidi_emu_CUBLAS_STATUS_NOT_INITIALIZED = 1,
    vidi_emu_CUBLAS_STATUS_ALLOC_FAILED = 3,
    vidi_emu_CUBLAS_STATUS_INVALID_VALUE = 7,
    vidi_emu_CUBLAS_STATUS_EXECUTION_FAILED = 13,
    vidi_emu_CUBLAS_STATUS_NOT_SUPPORTED = 15,
} vidi_emu_cublas_status;
#define cublasStatus_t vidi_emu_cublas_status
#define CUBLAS_STATUS_SUCCESS vidi_emu_CUBLAS_STATUS_SUCCESS
#define CUBLAS_STATUS_NOT_INITIALIZED vidi_emu_CUBLAS_STATUS_NOT_INITIALIZED
#define CUBLAS_STATUS_ALLOC_FAILED vidi_emu_CUBLAS_STATUS_ALLOC_FAILED
#define CUBLAS_STATUS_INVALID_VALUE vidi_emu_CUBLAS_STATUS_INVALID_VALUE
#define CUBLAS_STATUS_EXECUTION_FAILED vidi_emu_CUBLAS_STATUS_EXECUTION_FAILED
#define CUBLAS_STATUS_NOT_SUPPORTED vidi_emu_CUBLAS_STATUS_NOT_SUPPORTED

typedef enum { vidi_emu_CUBLAS_OP_N = 0, vidi_emu_CUBLAS_OP_T = 1 } vidi_emu_cublas_op;
#define cublasOperation_t vidi_emu_cublas_op
#define CUBLAS_OP_N vidi_emu_CUBLAS_OP_N
#define CUBLAS_OP_T vidi_emu_CUBLAS_OP_T

typedef enum { vidi_emu_CUDA_R_32F = 0 } vidi_emu_data_type;
#define cudaDataType_t vidi_emu_data_type
#define cudaDataType vidi_emu_data_type
#define CUDA_R_32F vidi_emu_CUDA_R_32F

typedef enum {
    vidi_emu_CUBLAS_COMPUTE_32F = 68,
    vidi_emu_CUBLAS_COMPUTE_32F_FAST_16BF = 75,
    vidi_emu_CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
} vidi_emu_compute_type;
#define cublasComputeType_t vidi_emu_compute_type
#define CUBLAS_COMPUTE_32F vidi_emu_CUBLAS_COMPUTE_32F
#define CUBLAS_COMPUTE_32F_FAST_16BF vidi_emu_CUBLAS_COMPUTE_32F_FAST_16BF
#define CUBLAS_COMPUTE_32F_FAST_TF32 vidi_emu_CUBLAS_COMPUTE_32F_FAST_TF32

typedef enum {
    vidi_emu_CUBLASLT_MATMUL_DESC_TRANSA = 3,
    vidi_emu_CUBLASLT_MATMUL_DESC_TRANSB = 4,
    vidi_emu_CUBLASLT_MATMUL_DESC_EPILOGUE = 7,
    vidi_emu_CUBLASLT_MATMUL_DESC_BIAS_POINTER = 8,
} vidi_emu_matmul_desc_attr;
#define cublasLtMatmulDescAttributes_t vidi_emu_matmul_desc_attr
#define CUBLASLT_MATMUL_DESC_TRANSA vidi_emu_CUBLASLT_MATMUL_DESC_TRANSA
#define CUBLASLT_MATMUL_DESC_TRANSB vidi_emu_CUBLASLT_MATMUL_DESC_TRANSB
#define CUBLASLT_MATMUL_DESC_EPILOGUE vidi_emu_CUBLASLT_MATMUL_DESC_EPILOGUE
#define CUBLASLT_MATMUL_DESC_BIAS_POINTER vidi_emu_CUBLASLT_MATMUL_DESC_BIAS_POINTER

typedef enum {
    vidi_emu_CUBLASLT_EPILOGUE_DEFAULT = 1,
    vidi_emu_CUBLASLT_EPILOGUE_BIAS = 4,
    vidi_emu_CUBLASLT_EPILOGUE_GELU = 32,
    vidi_emu_CUBLASLT_EPILOGUE_GELU_BIAS = 36,
} vidi_emu_epilogue;
#define cublasLtEpilogue_t vidi_emu_epilogue
#define CUBLASLT_EPILOGUE_DEFAULT vidi_emu_CUBLASLT_EPILOGUE_DEFAULT
#define CUBLASLT_EPILOGUE_BIAS vidi_emu_CUBLASLT_EPILOGUE_BIAS
#define CUBLASLT_EPILOGUE_GELU vidi_emu_CUBLASLT_EPILOGUE_GELU
#define CUBLASLT_EPILOGUE_GELU_BIAS vidi_emu_CUBLASLT_EPILOGUE_GELU_BIAS

typedef enum {
    vidi_emu_CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
    vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,
    vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
    vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
    vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8,
} vidi_emu_pref_attr;
#define cublasLtMatmulPreferenceAttributes_t vidi_emu_pref_attr
#define CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES vidi_emu_CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
#define CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES
#define CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES
#define CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES
#define CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES vidi_emu_CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES

typedef struct vidi_emu_lt_handle *vidi_emu_lt_handle_t;
typedef struct vidi_emu_lt_desc *vidi_emu_lt_desc_t;
typedef struct vidi_emu_lt_layout *vidi_emu_lt_layout_t;
typedef struct vidi_emu_lt_pref *vidi_emu_lt_pref_t;
typedef struct {
    uint64_t data[8];
} vidi_emu_lt_algo;
typedef struct {
    vidi_emu_lt_algo algo;
    size_t workspaceSize;
    cublasStatus_t state;
    float wavesCount;
    int reserved[4];
} vidi_emu_lt_heuristic;
#define cublasLtHandle_t vidi_emu_lt_handle_t
#define cublasLtMatmulDesc_t vidi_emu_lt_desc_t
#define cublasLtMatrixLayout_t vidi_emu_lt_layout_t
#define cublasLtMatmulPreference_t vidi_emu_lt_pref_t
#define cublasLtMatmulAlgo_t vidi_emu_lt_algo
#define cublasLtMatmulHeuristicResult_t vidi_emu_lt_heuristic

struct vidi_emu_stream;
cublasStatus_t vidi_emu_lt_create(cublasLtHandle_t *handle);
cublasStatus_t vidi_emu_lt_destroy(cublasLtHandle_t handle);
cublasStatus_t vidi_emu_lt_desc_create(cublasLtMatmulDesc_t *desc, cublasComputeType_t compute,
                                       cudaDataType_t scale_type);
cublasStatus_t vidi_emu_lt_desc_destroy(cublasLtMatmulDesc_t desc);
cublasStatus_t vidi_emu_lt_desc_set(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const void *buf,
                                    size_t size);
cublasStatus_t vidi_emu_lt_layout_create(cublasLtMatrixLayout_t *layout, cudaDataType type, uint64_t rows,
                                         uint64_t cols, int64_t ld);
cublasStatus_t vidi_emu_lt_layout_destroy(cublasLtMatrixLayout_t layout);
cublasStatus_t vidi_emu_lt_pref_create(cublasLtMatmulPreference_t *pref);
cublasStatus_t vidi_emu_lt_pref_destroy(cublasLtMatmulPreference_t pref);
cublasStatus_t vidi_emu_lt_pref_set(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attr,
                                    const void *buf, size_t size);
cublasStatus_t vidi_emu_lt_heuristic_get(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, cublasLtMatrixLayout_t a,
                                         cublasLtMatrixLayout_t b, cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
                                         cublasLtMatmulPreference_t pref, int requested,
                                         cublasLtMatmulHeuristicResult_t *results, int *returned);
cublasStatus_t vidi_emu_lt_matmul(cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha,
                                  const void *a, cublasLtMatrixLayout_t a_layout, const void *b,
                                  cublasLtMatrixLayout_t b_layout, const void *beta, const void *c,
                                  cublasLtMatrixLayout_t c_layout, void *d, cublasLtMatrixLayout_t d_layout,
                                  const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspace_size,
                                  struct vidi_emu_stream *stream);

/* Emulator control (tests): with 0, the reference has no algorithm for
 * fused epilogues (heuristic NOT_SUPPORTED), as the library may for some
 * type / epilogue combinations; default 1. */
void vidi_emu_lt_set_fused_epilogues(int on);

#define cublasLtCreate vidi_emu_lt_create
#define cublasLtDestroy vidi_emu_lt_destroy
#define cublasLtMatmulDescCreate vidi_emu_lt_desc_create
#define cublasLtMatmulDescDestroy vidi_emu_lt_desc_destroy
#define cublasLtMatmulDescSetAttribute vidi_emu_lt_desc_set
#define cublasLtMatrixLayoutCreate vidi_emu_lt_layout_create
#define cublasLtMatrixLayoutDestroy vidi_emu_lt_layout_destroy
#define cublasLtMatmulPreferenceCreate vidi_emu_lt_pref_create
#define cublasLtMatmulPreferenceDestroy vidi_emu_lt_pref_destroy
#define cublasLtMatmulPreferenceSetAttribute vidi_emu_lt_pref_set
#define cublasLtMatmulAlgoGetHeuristic vidi_emu_lt_heuristic_get
#define cublasLtMatmul vidi_emu_lt_matmul

#endif
