/* BLAS-tiled flash attention (attention_gemm.c), chosen by vidi_cpu_attention. */
#ifndef VIDI_NN_CPU_ATTENTION_GEMM_H
#define VIDI_NN_CPU_ATTENTION_GEMM_H

#include <stddef.h>

#include "nn/cpu/cpu.h"

int vidi_cpu_attention_gemm_applies(const vidi_attn_layout *layout, int simd);
size_t vidi_cpu_attention_gemm_scratch(int head_dim);
/* Arguments already validated by vidi_cpu_attention. */
vidi_status vidi_cpu_attention_gemm(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                                    const vidi_attn_layout *layout, float scale);

#endif
