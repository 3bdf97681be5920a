/* Internals shared by the fast CPU ops (not part of the public API). */
#ifndef VIDI_NN_CPU_H
#define VIDI_NN_CPU_H

#include <stdint.h>

#include "vidi/backend.h"

/* 1 when the AVX2+FMA kernels run, 0 for the portable scalar code. */
int vidi_cpu_simd_enabled(void);
/* Tests call this to check the scalar fallback against ref on an AVX2
 * machine too (checkasm style). Not thread-safe: set it before running ops. */
void vidi_cpu_force_scalar(int force);
/* 1 when the AVX-512 epilogue (bias_act) runs: AVX2 on and the CPU has
 * AVX-512F. Tests force it off to check the AVX2 path on such a CPU too. */
int vidi_cpu_avx512_enabled(void);
void vidi_cpu_force_no_avx512(int force);

/* Makes BLAS use at most n threads. BLAS threading is process-wide, so the
 * last CPU backend created sets it. */
void vidi_cpu_blas_set_threads(int n_threads);
const char *vidi_cpu_blas_name(void);

/* c[m, n] = a[m, k] * b[n, k]^T (row-major, leading dims in elements): the
 * only BLAS call vidi makes, so only linear.c sees the BLAS headers. */
void vidi_cpu_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *c, int64_t ldc);

/* c = act(a * b^T + bias), the GEMM split by output columns (or row blocks)
 * over be's pool, each block one single-threaded sgemm plus its epilogue
 * (see linear.c). */
void vidi_cpu_gemm_bias_act(vidi_be *be, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                            const float *b, int64_t ldb, float *c, int64_t ldc, const float *bias, vidi_act act);

/* Single-threaded c = a * op(b) + beta * c (row-major): op(b) = b^T [n, k]
 * when b_normal is 0, b [k, n] when 1. For kernels that run inside pool tasks. */
void vidi_cpu_sgemm(int b_normal, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc);

/* out[r*ld + c] = act(out[r*ld + c] + bias[c]) for r < rows, c < cols; bias
 * may be NULL. Parallel over rows on be->pool. */
void vidi_cpu_bias_act(vidi_be *be, float *out, int64_t rows, int64_t cols, int64_t ld,
                       const float *bias, vidi_act act);

/* Grow-only scratch memory owned by the backend (64-byte aligned), one slot
 * per op family, so the steady state of a forward allocates nothing. NULL
 * with vidi_last_error set when out of memory. A backend runs one op at a
 * time: ops are issued from one thread (one backend per stream). */
enum { VIDI_CPU_SCRATCH_ATTENTION = 0, VIDI_CPU_SCRATCH_PATCH_EMBED, VIDI_CPU_SCRATCH_GEMM, VIDI_CPU_SCRATCH_SLOTS };
float *vidi_cpu_scratch(vidi_be *be, int slot, size_t floats);
/* Frees the scratch; called when the backend is destroyed. */
void vidi_cpu_scratch_release(vidi_backend *be);

static inline vidi_threadpool *vidi_cpu_pool(vidi_be *be) { return be ? be->pool : (vidi_threadpool *)0; }
static inline int vidi_cpu_threads(vidi_be *be) { return be && be->pool ? vidi_threadpool_size(be->pool) : 1; }

#endif
