/* Host-callable launchers of vidi's own kernels (the .cu files in nn/cuda/). Each checks
 * its pointer ranges (on the emulator), enqueues on `stream` and returns
 * cudaGetLastError(): launch errors now, kernel faults at the next sync. */
#ifndef VIDI_NN_CUDA_KERNELS_H
#define VIDI_NN_CUDA_KERNELS_H

#include <stdint.h>

#include "nn/cuda/cuda_api.h"
#include "vidi/ops.h"

/* Largest head_dim the tiled attention kernel takes; wider heads (up to
 * VIDI_CUDA_ATTN_WIDE_MAX_HEAD_DIM) run a row-per-block kernel. */
#define VIDI_CUDA_ATTN_MAX_HEAD_DIM 128
#define VIDI_CUDA_ATTN_WIDE_MAX_HEAD_DIM 6144

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_add)(cudaStream_t s, float *out, const float *a, const float *b,
                                               int64_t n);
/* act NONE copies (unless out == in). */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_gelu)(cudaStream_t s, float *out, const float *in, int64_t n, int act);
/* out[r*ld + c] = act(out[r*ld + c] + bias[c]) (bias may be NULL): the exact
 * erf GELU that cuBLASLt's (tanh) GELU epilogue cannot do, and the whole
 * epilogue when cuBLASLt has no fused algorithm. */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_bias_act_2d)(cudaStream_t s, float *out, int64_t rows, int64_t cols,
                                                       int64_t ld, const float *bias, int act);
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_layernorm)(cudaStream_t s, float *out, const float *in, const float *gamma,
                                                     const float *beta, int64_t rows, int64_t dim, float eps);
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_softmax)(cudaStream_t s, float *out, const float *in, int64_t rows,
                                                   int64_t cols);
/* adaLN modulation, vidi_ref_modulate's semantics (ops.h). */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_modulate)(cudaStream_t s, float *out, const float *in, const float *scale,
                                                    float scale_bias, const float *shift, const float *res,
                                                    int64_t rows, int64_t dim);
/* cols[token, k] for the patch GEMM, k in the weight's (c, kt, kh, kw) order. */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_im2col)(cudaStream_t s, float *cols, const float *video,
                                                  const vidi_patch_layout *l);
/* patch_embed's gather read backwards: channels [c0, c0+nc) of the token rows into a video. */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_unpatchify)(cudaStream_t s, float *video, const float *tokens,
                                                      const vidi_patch_layout *l, int c0, int nc);
/* One diffusion sampler step (vidi_sampler_step, ops.h); the step's pointers
 * are device memory, the struct itself host memory (passed by value). */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_sampler_step)(cudaStream_t s, const vidi_sampler_step *step, int64_t n);
/* The fused flash attention; head_dim <= VIDI_CUDA_ATTN_WIDE_MAX_HEAD_DIM,
 * batch <= 65535, heads <= 65535 (the caller checks). */
VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_attention)(cudaStream_t s, float *out, const float *q, const float *k,
                                                     const float *v, const vidi_attn_layout *l, float scale);

#endif
