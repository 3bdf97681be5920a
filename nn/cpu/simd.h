/* AVX2/FMA helpers for the CPU kernels.
 *
 * Everything here is compiled with a target attribute instead of -mavx2 so
 * the library still builds for, and runs on, any x86-64: callers pick the
 * AVX2 path at run time (vidi_cpu_simd_enabled) and keep a scalar twin. */
#ifndef VIDI_NN_CPU_SIMD_H
#define VIDI_NN_CPU_SIMD_H

#if defined(__x86_64__) || defined(__i386__)
#define VIDI_HAVE_X86 1
#include <immintrin.h>

#define VIDI_AVX2 __attribute__((target("avx2,fma")))

VIDI_AVX2 static inline float vidi_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

VIDI_AVX2 static inline float vidi_hmax8(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Mask selecting the first n (0..8) lanes, for loads/stores of row tails. */
VIDI_AVX2 static inline __m256i vidi_tail_mask(int n) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
}

/* exp with ~1 ulp relative error over the float range (Cephes expf: split
 * off n = round(x log2 e), a degree-5 polynomial on the remainder, then scale
 * by 2^n through the exponent bits). Inputs are clamped so 2^n stays a
 * normal float; exp(-inf) comes out as ~1e-38, which softmax treats as 0. */
VIDI_AVX2 static inline __m256 vidi_exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3365f)), _mm256_set1_ps(88.3762f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    /* ln 2 in two pieces so that x - n ln2 is exact for |n| <= 127. */
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* erf with <1e-7 absolute error (measured max ~8e-8 against double erf).
 * Two branches, both always evaluated and blended: |x| < 1 is x + x P(x^2);
 * above, erf = 1 - exp(g(t) - t^2) with g smooth and small, so the t^2 that
 * dominates the exponent is never rounded inside a polynomial. Coefficients
 * are Lawson (near-minimax) fits in float made for vidi. Past |x| = 3.92 the
 * float result is exactly +-1. */
VIDI_AVX2 static inline __m256 vidi_erf8(__m256 x) {
    const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    const __m256 t = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);

    __m256 s = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(7.647470192750916e-05f);
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-7.942463271319866e-04f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(5.1797619089484215e-03f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-2.6848597452044487e-02f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.1283430457115173e-01f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-3.761260509490967e-01f));
    p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.2837915122509003e-01f));
    const __m256 small = _mm256_fmadd_ps(p, x, x);

    const __m256 tc = _mm256_min_ps(t, _mm256_set1_ps(3.92f));
    const __m256 u = _mm256_sub_ps(tc, _mm256_set1_ps(2.46f));
    __m256 g = _mm256_set1_ps(1.6320188933605095e-06f);
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(-1.3800477063341532e-05f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(8.112336945487186e-05f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(-4.3925875797867775e-04f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(2.2511605639010668e-03f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(-1.1211683042347431e-02f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(5.743040889501572e-02f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(-3.5722190141677856e-01f));
    g = _mm256_fmadd_ps(g, u, _mm256_set1_ps(-1.5426175594329834f));
    const __m256 q = _mm256_fnmadd_ps(tc, tc, g);
    const __m256 large = _mm256_or_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), vidi_exp8(q)), sign);

    return _mm256_blendv_ps(large, small, _mm256_cmp_ps(t, _mm256_set1_ps(1.0f), _CMP_LT_OQ));
}

/* GELU, exact: 0.5 x (1 + erf(x / sqrt 2)). */
VIDI_AVX2 static inline __m256 vidi_gelu_erf8(__m256 x) {
    const __m256 e = vidi_erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(0.5f)), _mm256_add_ps(e, _mm256_set1_ps(1.0f)));
}

/* GELU, tanh form, via 0.5 (1 + tanh z) = 1 / (1 + exp(-2z)): one exp and a
 * division, and no cancellation for large negative z. */
VIDI_AVX2 static inline __m256 vidi_gelu_tanh8(__m256 x) {
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 z = _mm256_mul_ps(_mm256_set1_ps(0.79788456080286536f),
                                   _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
    const __m256 e = vidi_exp8(_mm256_mul_ps(z, _mm256_set1_ps(-2.0f)));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

/* ---- AVX-512 twins of the activation helpers (bias_act's wide path) ----
 * The same polynomials and the same operation order as the 8-lane versions
 * above, 16 lanes at a time: on a CPU with AVX-512 the GELU epilogue of the
 * MLP's first linear was ~10% of the diffusion denoiser's forward. */
#define VIDI_AVX512 __attribute__((target("avx512f")))

VIDI_AVX512 static inline __m512 vidi_exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3365f)), _mm512_set1_ps(88.3762f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    x = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), x);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, x, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

VIDI_AVX512 static inline __m512 vidi_erf16(__m512 x) {
    const __m512i sign_bit = _mm512_set1_epi32((int)0x80000000u);
    const __m512i sign = _mm512_and_epi32(_mm512_castps_si512(x), sign_bit);
    const __m512 t = _mm512_castsi512_ps(_mm512_andnot_epi32(sign_bit, _mm512_castps_si512(x)));

    __m512 s = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(7.647470192750916e-05f);
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-7.942463271319866e-04f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(5.1797619089484215e-03f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-2.6848597452044487e-02f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.1283430457115173e-01f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(-3.761260509490967e-01f));
    p = _mm512_fmadd_ps(p, s, _mm512_set1_ps(1.2837915122509003e-01f));
    const __m512 small = _mm512_fmadd_ps(p, x, x);

    const __m512 tc = _mm512_min_ps(t, _mm512_set1_ps(3.92f));
    const __m512 u = _mm512_sub_ps(tc, _mm512_set1_ps(2.46f));
    __m512 g = _mm512_set1_ps(1.6320188933605095e-06f);
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-1.3800477063341532e-05f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(8.112336945487186e-05f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-4.3925875797867775e-04f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(2.2511605639010668e-03f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-1.1211683042347431e-02f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(5.743040889501572e-02f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-3.5722190141677856e-01f));
    g = _mm512_fmadd_ps(g, u, _mm512_set1_ps(-1.5426175594329834f));
    const __m512 q = _mm512_fnmadd_ps(tc, tc, g);
    const __m512 one_minus = _mm512_sub_ps(_mm512_set1_ps(1.0f), vidi_exp16(q));
    const __m512 large = _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(one_minus), sign));

    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(t, _mm512_set1_ps(1.0f), _CMP_LT_OQ), large, small);
}

VIDI_AVX512 static inline __m512 vidi_gelu_erf16(__m512 x) {
    const __m512 e = vidi_erf16(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)));
    return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), _mm512_add_ps(e, _mm512_set1_ps(1.0f)));
}

VIDI_AVX512 static inline __m512 vidi_gelu_tanh16(__m512 x) {
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 z = _mm512_mul_ps(_mm512_set1_ps(0.79788456080286536f),
                                   _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
    const __m512 e = vidi_exp16(_mm512_mul_ps(z, _mm512_set1_ps(-2.0f)));
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

#endif /* x86 */
#endif
