/* The narrow-layer GEMMs, c = act(a * b^T + bias) for k <= 512: one tile
 * kernel (gemm_narrow_tile.h) built at two vector widths, gemm_avx512.c
 * (16-column panels) and gemm_avx2.c (8-column panels); linear.c decides
 * when they run and packs B for them. */
#ifndef VIDI_NN_CPU_GEMM_NARROW_H
#define VIDI_NN_CPU_GEMM_NARROW_H

#include <stdint.h>

#include "nn/cpu/cpu.h"

/* Only layers this narrow take these kernels: a packed slab of B (k x 64
 * floats for AVX-512, k x 16 for AVX2) then stays in L1/L2. Wider layers
 * (ViT-B's 768, 3072) keep OpenBLAS, whose cache blocking over k they need. */
#define VIDI_GEMM_NARROW_MAX_K 512

/* Floats of packed B for n columns: whole panels of `panel` columns, k x panel each. */
static inline int64_t vidi_cpu_gemm_packed_floats(int64_t n, int64_t k, int panel) {
    return (n + panel - 1) / panel * panel * k;
}

/* bp (64-byte aligned, packed_floats(n, k, panel)) = b[n, k] (row-major,
 * leading dimension ldb) as panels of `panel` columns, each k x panel, padded
 * with zeros. */
void vidi_cpu_gemm_pack(const float *b, int64_t ldb, int64_t n, int64_t k, int panel, float *bp);

/* c[m0..m1, n0..n1] = act(a * b^T + bias) on those rows and columns (a and c
 * are the whole matrices), b packed by vidi_cpu_gemm_pack with panel 16
 * (AVX-512) or 8 (AVX2); n0 must be a multiple of the panel. Call the AVX-512
 * one only when vidi_cpu_avx512_enabled(), the AVX2 one only when
 * vidi_cpu_simd_enabled(). Both give the same bytes: each output is one
 * sequential FMA chain over k, then + bias, then the activation's shared
 * polynomials. */
#define VIDI_GEMM_AVX512_PANEL 16
#define VIDI_GEMM_AVX2_PANEL 8
void vidi_cpu_gemm_avx512_block(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k, const float *a,
                                int64_t lda, const float *bp, float *c, int64_t ldc, const float *bias, vidi_act act);
void vidi_cpu_gemm_avx2_block(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k, const float *a,
                              int64_t lda, const float *bp, float *c, int64_t ldc, const float *bias, vidi_act act);

#endif
