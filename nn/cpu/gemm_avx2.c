/* The narrow-layer GEMM (gemm_narrow_tile.h) at 8 lanes, for CPUs without
 * AVX-512: a 6 x 16 register tile, 12 accumulators + 2 of B + 1 of A in the
 * 16 ymm registers. */
#include "nn/cpu/gemm_narrow.h"
#include "nn/cpu/simd.h"

#ifdef VIDI_HAVE_X86

#define GN_TARGET VIDI_AVX2
#define GN_VEC __m256
#define GN_W VIDI_GEMM_AVX2_PANEL
#define GN_MR 6
#define GN_NV 2
#define GN_MASK __m256i
#define GN_MASK_FOR(lanes) vidi_tail_mask(lanes)
#define GN_ZERO() _mm256_setzero_ps()
#define GN_LOAD(p) _mm256_load_ps(p)
#define GN_SET1(x) _mm256_set1_ps(x)
#define GN_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define GN_ADD(a, b) _mm256_add_ps(a, b)
#define GN_MASKLOAD(m, p) _mm256_maskload_ps(p, m)
#define GN_MASKSTORE(p, m, x) _mm256_maskstore_ps(p, m, x)
#define GN_GELU_ERF(x) vidi_gelu_erf8(x)
#define GN_GELU_TANH(x) vidi_gelu_tanh8(x)
#define GN_BLOCK vidi_cpu_gemm_avx2_block
#define TILE_ROW(R) TILE_CASE(R, 1) TILE_CASE(R, 2)
#define GN_TILE_CASES TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)

#include "nn/cpu/gemm_narrow_tile.h"

#endif
