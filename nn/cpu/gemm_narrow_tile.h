/* The narrow-layer GEMM's tile kernel, written once for any vector width;
 * gemm_avx512.c and gemm_avx2.c include it after defining:
 *   GN_TARGET            the functions' target attribute
 *   GN_VEC, GN_W         vector type and its lanes (= the packed panel's columns)
 *   GN_MR, GN_NV         register tile: GN_MR rows x GN_NV vectors
 *   GN_MASK, GN_MASK_FOR(lanes)          a mask type and the mask of the first lanes
 *   GN_ZERO(), GN_LOAD(p), GN_SET1(x), GN_FMA(a, b, c), GN_ADD(a, b)
 *   GN_MASKLOAD(m, p), GN_MASKSTORE(p, m, x)
 *   GN_GELU_ERF(x), GN_GELU_TANH(x)     simd.h's activations at that width
 *   GN_BLOCK             the name of the block function to define
 *
 * Why it is fast on the diffusion denoiser's layers (1024 tokens x 96..384):
 * B is packed once per call, A is read in place (each element broadcast), and
 * the bias and activation are applied to the register tile before its only
 * store, where OpenBLAS's sgemm spends as much time around its kernel as a
 * third of the kernel (a memset of C for beta = 0, B packed again in every
 * row-block task, a second pass over C for the epilogue). Each output is one
 * sequential FMA chain over k, so its value does not depend on the tiling,
 * the vector width, or how many threads share the rows. */

/* One mr x (nv * W) tile; mr and nv are constants at every call site, so the
 * loops unroll and acc stays in registers. The last panel's lanes past n are
 * masked off on the bias load and the store. */
GN_TARGET static inline __attribute__((always_inline)) void tile(const int mr, const int nv, int64_t k,
                                                                 const float *a, int64_t lda, const float *bp,
                                                                 int64_t pstride, float *c, int64_t ldc,
                                                                 const float *bias, GN_MASK last, vidi_act act) {
    GN_VEC acc[GN_MR][GN_NV];
#pragma GCC unroll 6
    for (int i = 0; i < mr; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[i][v] = GN_ZERO();
    for (int64_t kk = 0; kk < k; kk++) {
        GN_VEC bv[GN_NV];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) bv[v] = GN_LOAD(bp + v * pstride + kk * GN_W);
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            GN_VEC av = GN_SET1(a[i * lda + kk]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) acc[i][v] = GN_FMA(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        GN_MASK m = v == nv - 1 ? last : GN_MASK_FOR(GN_W);
        GN_VEC bias_v = bias ? GN_MASKLOAD(m, bias + v * GN_W) : GN_ZERO();
#pragma GCC unroll 6
        for (int i = 0; i < mr; i++) {
            /* The same arithmetic as bias_act: (sum + bias), then act. */
            GN_VEC x = GN_ADD(acc[i][v], bias_v);
            if (act == VIDI_ACT_GELU_ERF) x = GN_GELU_ERF(x);
            else if (act == VIDI_ACT_GELU_TANH) x = GN_GELU_TANH(x);
            GN_MASKSTORE(c + i * ldc + v * GN_W, m, x);
        }
    }
}

#define TILE_CASE(R, V)                                                \
    case (R) * 8 + (V):                                               \
        tile(R, V, k, a, lda, bp, pstride, c, ldc, bias, last, act); \
        break;

GN_TARGET static void tile_dispatch(int mr, int nv, int64_t k, const float *a, int64_t lda, const float *bp,
                                    int64_t pstride, float *c, int64_t ldc, const float *bias, GN_MASK last,
                                    vidi_act act) {
    switch (mr * 8 + nv) {
        GN_TILE_CASES
    default:
        break; /* unreachable: mr is 1..GN_MR and nv 1..GN_NV */
    }
}

GN_TARGET void GN_BLOCK(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t k, const float *a, int64_t lda,
                        const float *bp, float *c, int64_t ldc, const float *bias, vidi_act act) {
    int64_t pstride = k * GN_W;
    /* Panels outer, rows inner: GN_NV panels of B stay in L1 while every row
     * strip of the block passes over them. */
    for (int64_t j = n0; j < n1; j += GN_NV * GN_W) {
        int64_t cols = n1 - j < GN_NV * GN_W ? n1 - j : GN_NV * GN_W;
        int nv = (int)((cols + GN_W - 1) / GN_W);
        GN_MASK last = GN_MASK_FOR((int)(cols - (int64_t)(nv - 1) * GN_W));
        const float *bpj = bp + (j / GN_W) * pstride;
        for (int64_t i = m0; i < m1; i += GN_MR) {
            int mr = m1 - i < GN_MR ? (int)(m1 - i) : GN_MR;
            tile_dispatch(mr, nv, k, a + i * lda, lda, bpj, pstride, c + i * ldc + j, ldc, bias ? bias + j : NULL,
                          last, act);
        }
    }
}
