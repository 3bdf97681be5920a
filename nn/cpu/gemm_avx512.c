/* An AVX-512 GEMM for narrow layers: c = act(a * b^T + bias), k <= 512.
 *
 * The diffusion denoiser's layers are 1024 tokens x 96..384 features. On
 * those, a profile of OpenBLAS's sgemm spent as much time around the kernel
 * as a third of the kernel itself: a memset of C (beta = 0), packing B again in
 * every row-block task, and a second pass over C for the bias and GELU. Here
 * B is packed once per call (panels of 16 columns, k x 16 floats each, the
 * last panel zero-padded), A is read in place (each element broadcast), and
 * the bias and activation are applied to the register tile before its only
 * store. Each output is one sequential FMA chain over k, so its value does
 * not depend on the tiling or on how many threads share the rows. */
#include "nn/cpu/gemm_avx512.h"
#include "nn/cpu/simd.h"

#ifdef VIDI_HAVE_X86

#define PANEL 16 /* columns per packed panel: one zmm */
#define MR 6     /* rows per register tile */
#define NV 4     /* panels per register tile: MR x NV = 24 accumulators of 32 zmm */

void vidi_cpu_gemm_avx512_pack(const float *b, int64_t ldb, int64_t n, int64_t k, float *bp) {
    for (int64_t p = 0; p * PANEL < n; p++) {
        float *dst = bp + p * k * PANEL;
        int64_t cols = n - p * PANEL < PANEL ? n - p * PANEL : PANEL;
        for (int64_t j = 0; j < PANEL; j++) {
            const float *src = b + (p * PANEL + j) * ldb;
            for (int64_t kk = 0; kk < k; kk++) dst[kk * PANEL + j] = j < cols ? src[kk] : 0.0f;
        }
    }
}

/* One mr x (nv * 16) tile; mr and nv are constants at every call site, so the
 * loops unroll and acc stays in registers. The last panel's lanes past n are
 * masked off on the bias load and the store. */
VIDI_AVX512 static inline __attribute__((always_inline)) void tile(const int mr, const int nv, int64_t k,
                                                                   const float *a, int64_t lda, const float *bp,
                                                                   int64_t pstride, float *c, int64_t ldc,
                                                                   const float *bias, __mmask16 last, vidi_act act) {
    __m512 acc[MR][NV];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[i][v] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; kk++) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) bv[v] = _mm512_load_ps(bp + v * pstride + kk * PANEL);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            __m512 av = _mm512_set1_ps(a[i * lda + kk]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        __mmask16 m = v == nv - 1 ? last : (__mmask16)0xffff;
        __m512 bias_v = bias ? _mm512_maskz_loadu_ps(m, bias + v * PANEL) : _mm512_setzero_ps();
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            /* The same arithmetic as bias_act's AVX-512 path: (sum + bias), then act. */
            __m512 x = _mm512_add_ps(acc[i][v], bias_v);
            if (act == VIDI_ACT_GELU_ERF) x = vidi_gelu_erf16(x);
            else if (act == VIDI_ACT_GELU_TANH) x = vidi_gelu_tanh16(x);
            _mm512_mask_storeu_ps(c + i * ldc + v * PANEL, m, x);
        }
    }
}

#define TILE_CASE(R, V)                                                             \
    case (R) * 8 + (V):                                                            \
        tile(R, V, k, a, lda, bp, pstride, c, ldc, bias, last, act);              \
        break;
#define TILE_ROW(R) TILE_CASE(R, 1) TILE_CASE(R, 2) TILE_CASE(R, 3) TILE_CASE(R, 4)

VIDI_AVX512 static void tile_dispatch(int mr, int nv, int64_t k, const float *a, int64_t lda, const float *bp,
                                      int64_t pstride, float *c, int64_t ldc, const float *bias, __mmask16 last,
                                      vidi_act act) {
    switch (mr * 8 + nv) {
        TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)
    default:
        break; /* unreachable: mr is 1..MR and nv 1..NV */
    }
}

void vidi_cpu_gemm_avx512_block(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k, const float *a,
                                int64_t lda, const float *bp, float *c, int64_t ldc, const float *bias, vidi_act act) {
    int64_t pstride = k * PANEL;
    /* Panels outer, rows inner: NV panels of B (k x 64 floats, 24 KB at k = 96)
     * stay in L1 while every row strip of the block passes over them. */
    for (int64_t j = n0; j < n1; j += NV * PANEL) {
        int64_t cols = n1 - j < NV * PANEL ? n1 - j : NV * PANEL;
        int nv = (int)((cols + PANEL - 1) / PANEL);
        int tail = (int)(cols - (int64_t)(nv - 1) * PANEL);
        __mmask16 last = tail == PANEL ? (__mmask16)0xffff : (__mmask16)((1u << tail) - 1);
        const float *bpj = bp + (j / PANEL) * pstride;
        for (int64_t i = m0; i < m1; i += MR) {
            int mr = m1 - i < MR ? (int)(m1 - i) : MR;
            tile_dispatch(mr, nv, k, a + i * lda, lda, bpj, pstride, c + i * ldc + j, ldc, bias ? bias + j : NULL,
                          last, act);
        }
    }
}

#endif
