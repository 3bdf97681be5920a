/* Fast linear: one BLAS sgemm, then one fused pass for bias + activation.
 *
 * BLAS runs on the calling thread with its own threads (capped at the
 * backend's n_threads by vidi_cpu_blas_set_threads); our pool sleeps
 * meanwhile, and only the memory-bound epilogue runs on the pool. BLAS is
 * never called from a pool worker, which would nest two thread teams. */
#include "nn/cpu/cpu.h"
#include "nn/ref/ops_check.h"

#ifdef VIDI_USE_BLIS
#include <blis.h>
#else
#include <cblas.h>
#endif

void vidi_cpu_blas_set_threads(int n_threads) {
    if (n_threads < 1) n_threads = 1;
#ifdef VIDI_USE_BLIS
    bli_thread_set_num_threads(n_threads);
#else
    openblas_set_num_threads(n_threads);
#endif
}

const char *vidi_cpu_blas_name(void) {
#ifdef VIDI_USE_BLIS
    return "blis";
#else
    return "openblas";
#endif
}

void vidi_cpu_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
                (int)ldb, 0.0f, c, (int)ldc);
}

vidi_status vidi_cpu_linear(vidi_be *be, float *out, const float *in, const float *weight,
                            const float *bias, int64_t rows, int64_t in_f, int64_t out_f, vidi_act act) {
    vidi_status st = vidi_check_linear(out, in, weight, rows, in_f, out_f, act);
    if (st != VIDI_OK || rows == 0) return st;
    /* weight is [out_f, in_f] (PyTorch layout), so B = weight^T is a Trans
     * operand and no copy is needed. */
    vidi_cpu_sgemm_nt(rows, out_f, in_f, in, in_f, weight, in_f, out, out_f);
    vidi_cpu_bias_act(be, out, rows, out_f, out_f, bias, act);
    return VIDI_OK;
}
