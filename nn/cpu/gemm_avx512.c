/* The narrow-layer GEMM (gemm_narrow_tile.h) at 16 lanes: a 6 x 64 register
 * tile, 24 accumulators of the 32 zmm registers. */
#include "nn/cpu/gemm_narrow.h"
#include "nn/cpu/simd.h"

#ifdef VIDI_HAVE_X86

#define GN_TARGET VIDI_AVX512
#define GN_VEC __m512
#define GN_W VIDI_GEMM_AVX512_PANEL
#define GN_MR 6
#define GN_NV 4
#define GN_MASK __mmask16
#define GN_MASK_FOR(lanes) ((lanes) >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (lanes)) - 1))
#define GN_ZERO() _mm512_setzero_ps()
#define GN_LOAD(p) _mm512_load_ps(p)
#define GN_SET1(x) _mm512_set1_ps(x)
#define GN_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define GN_ADD(a, b) _mm512_add_ps(a, b)
#define GN_MASKLOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define GN_MASKSTORE(p, m, x) _mm512_mask_storeu_ps(p, m, x)
#define GN_GELU_ERF(x) vidi_gelu_erf16(x)
#define GN_GELU_TANH(x) vidi_gelu_tanh16(x)
#define GN_BLOCK vidi_cpu_gemm_avx512_block
#define TILE_ROW(R) TILE_CASE(R, 1) TILE_CASE(R, 2) TILE_CASE(R, 3) TILE_CASE(R, 4)
#define GN_TILE_CASES TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)

#include "nn/cpu/gemm_narrow_tile.h"

#endif
