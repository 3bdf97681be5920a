/* The AVX-512 narrow-layer GEMM (gemm_avx512.c); linear.c decides when it runs. */
#ifndef VIDI_NN_CPU_GEMM_AVX512_H
#define VIDI_NN_CPU_GEMM_AVX512_H

#include <stdint.h>

#include "nn/cpu/cpu.h"

/* Only layers this narrow take the AVX-512 path: a packed 64-column slab of B
 * (k x 64 floats) then stays in L1/L2. Wider layers (ViT-B's 768, 3072) keep
 * OpenBLAS, whose cache blocking over k they need. */
#define VIDI_GEMM_AVX512_MAX_K 512

/* Floats of packed B for n columns: whole panels of 16 columns, k x 16 each. */
static inline int64_t vidi_cpu_gemm_avx512_packed_floats(int64_t n, int64_t k) { return (n + 15) / 16 * 16 * k; }

/* bp (64-byte aligned, packed_floats(n, k)) = b[n, k] (row-major, leading
 * dimension ldb) as panels of 16 columns, each k x 16, padded with zeros. */
void vidi_cpu_gemm_avx512_pack(const float *b, int64_t ldb, int64_t n, int64_t k, float *bp);

/* c[m0..m1, n0..n1] = act(a * b^T + bias) on those rows and columns (a and c
 * are the whole matrices), b packed by vidi_cpu_gemm_avx512_pack; n0 must be a
 * multiple of 16. Call only when vidi_cpu_avx512_enabled(). */
void vidi_cpu_gemm_avx512_block(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k, const float *a,
                                int64_t lda, const float *bp, float *c, int64_t ldc, const float *bias, vidi_act act);

#endif
