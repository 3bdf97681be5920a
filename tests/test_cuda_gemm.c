/* cuBLASLt GEMM modes of the CUDA backend on the emulator: FP32 is held to
 * the op table's tolerance (test_ops.c); TF32 and BF16 round each input to
 * 10 / 7 mantissa bits, so each output may be off by up to
 * 2 * 2^-p * sum_k |x_k w_k| (both inputs rounded, truncation or nearest)
 * plus the float accumulation. The test checks that bound element by element
 * and that the mode really changes the result (BF16 is measurably less
 * exact than FP32), so a mode that is silently ignored fails. Also the path
 * for when cuBLASLt has no fused-epilogue algorithm. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/cuda/emu/cublaslt_emu.h"
#include "nn/cuda/emu/cuda_emu.h"
#include "vidi/backend.h"
#include "vidi/cuda.h"

static uint64_t rng = 0x853c49e6748fea9bull;
static float frand(float lo, float hi) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (float)((double)(rng >> 40) / (double)(1ull << 24));
}

/* Worst error relative to the bound for one mode; also the largest absolute error. */
static double run(vidi_backend *ref, vidi_backend *be, vidi_cuda_gemm_mode mode, int mant_bits, double *max_abs) {
    const int64_t rows = 37, in_f = 300, out_f = 70;
    float *x = malloc(sizeof(float) * rows * in_f), *w = malloc(sizeof(float) * out_f * in_f);
    float *bias = malloc(sizeof(float) * out_f), *want = malloc(sizeof(float) * rows * out_f),
          *got = malloc(sizeof(float) * rows * out_f);
    for (int64_t i = 0; i < rows * in_f; i++) x[i] = frand(-2, 2);
    for (int64_t i = 0; i < out_f * in_f; i++) w[i] = frand(-0.06f, 0.06f);
    for (int64_t i = 0; i < out_f; i++) bias[i] = frand(-1, 1);
    CHECK(ref->linear(ref, want, x, w, bias, rows, in_f, out_f, VIDI_ACT_NONE) == VIDI_OK);
    CHECK(vidi_cuda_set_gemm_mode(be, mode) == VIDI_OK);
    float *dx = be->alloc(be, sizeof(float) * rows * in_f), *dw = be->alloc(be, sizeof(float) * out_f * in_f);
    float *db = be->alloc(be, sizeof(float) * out_f), *dy = be->alloc(be, sizeof(float) * rows * out_f);
    CHECK(be->upload(be, dx, x, sizeof(float) * rows * in_f) == VIDI_OK);
    CHECK(be->upload(be, dw, w, sizeof(float) * out_f * in_f) == VIDI_OK);
    CHECK(be->upload(be, db, bias, sizeof(float) * out_f) == VIDI_OK);
    CHECK(be->linear(be, dy, dx, dw, db, rows, in_f, out_f, VIDI_ACT_NONE) == VIDI_OK);
    CHECK(be->download(be, got, dy, sizeof(float) * rows * out_f) == VIDI_OK);
    double worst = 0.0;
    *max_abs = 0.0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < out_f; o++) {
            double mag = 0.0;
            for (int64_t k = 0; k < in_f; k++) mag += fabs((double)x[r * in_f + k] * w[o * in_f + k]);
            double bound = 2.0 * ldexp(1.0, -mant_bits) * mag + 2e-6 * sqrt((double)in_f) + 2e-7;
            double err = fabs((double)got[r * out_f + o] - want[r * out_f + o]);
            if (err / bound > worst) worst = err / bound;
            if (err > *max_abs) *max_abs = err;
        }
    be->release(be, dx), be->release(be, dw), be->release(be, db), be->release(be, dy);
    free(x), free(w), free(bias), free(want), free(got);
    return worst;
}

/* Where cuBLASLt has no algorithm with a fused bias/GELU epilogue, the
 * backend runs a plain matmul and its own bias + activation kernel: same
 * results, at the op table's tolerance, one more kernel launch. */
static void test_unfused_epilogues(vidi_backend *ref, vidi_backend *be) {
    const int64_t rows = 9, in_f = 64, out_f = 33;
    float *x = malloc(sizeof(float) * rows * in_f), *w = malloc(sizeof(float) * out_f * in_f);
    float *bias = malloc(sizeof(float) * out_f), *want = malloc(sizeof(float) * rows * out_f),
          *got = malloc(sizeof(float) * rows * out_f);
    for (int64_t i = 0; i < rows * in_f; i++) x[i] = frand(-2, 2);
    for (int64_t i = 0; i < out_f * in_f; i++) w[i] = frand(-0.125f, 0.125f);
    for (int64_t i = 0; i < out_f; i++) bias[i] = frand(-1, 1);
    float *dx = be->alloc(be, sizeof(float) * rows * in_f), *dw = be->alloc(be, sizeof(float) * out_f * in_f);
    float *db = be->alloc(be, sizeof(float) * out_f), *dy = be->alloc(be, sizeof(float) * rows * out_f);
    CHECK(be->upload(be, dx, x, sizeof(float) * rows * in_f) == VIDI_OK);
    CHECK(be->upload(be, dw, w, sizeof(float) * out_f * in_f) == VIDI_OK);
    CHECK(be->upload(be, db, bias, sizeof(float) * out_f) == VIDI_OK);
    CHECK(vidi_cuda_set_gemm_mode(be, VIDI_CUDA_GEMM_FP32) == VIDI_OK);
    static const vidi_act acts[] = {VIDI_ACT_NONE, VIDI_ACT_GELU_ERF, VIDI_ACT_GELU_TANH};
    for (int fused = 1; fused >= 0; fused--)
        for (int a = 0; a < 3; a++) {
            vidi_emu_lt_set_fused_epilogues(fused);
            vidi_emu_stats s0, s1;
            vidi_emu_get_stats(&s0);
            CHECK(ref->linear(ref, want, x, w, bias, rows, in_f, out_f, acts[a]) == VIDI_OK);
            vidi_status st = be->linear(be, dy, dx, dw, db, rows, in_f, out_f, acts[a]);
            CHECK_MSG(st == VIDI_OK, "fused=%d act=%d: %s", fused, a, vidi_last_error());
            CHECK(be->download(be, got, dy, sizeof(float) * rows * out_f) == VIDI_OK);
            vidi_emu_get_stats(&s1);
            int bad = 0;
            for (int64_t i = 0; i < rows * out_f; i++)
                bad += !(fabs((double)got[i] - want[i]) <= 2e-6 * sqrt((double)in_f) + 2e-7 + 1e-6 * fabs((double)want[i]));
            CHECK_MSG(bad == 0, "fused=%d act=%d: %d values off", fused, a, bad);
            /* Kernels besides the matmul: erf GELU always, bias+act when unfused. */
            long long want_launches = (!fused || acts[a] == VIDI_ACT_GELU_ERF) ? 1 : 0;
            CHECK_MSG(s1.launches - s0.launches == want_launches, "fused=%d act=%d: %lld kernel launches, want %lld",
                      fused, a, s1.launches - s0.launches, want_launches);
        }
    vidi_emu_lt_set_fused_epilogues(1);
    be->release(be, dx), be->release(be, dw), be->release(be, db), be->release(be, dy);
    free(x), free(w), free(bias), free(want), free(got);
}

int main(void) {
    vidi_backend *ref = NULL, *be = NULL;
    CHECK(vidi_backend_create("ref", 1, &ref) == VIDI_OK);
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (!ref || !be) return vidi_test_summary("cuda_gemm");
    double abs32, abs_tf32, abs_bf16;
    double w32 = run(ref, be, VIDI_CUDA_GEMM_FP32, 23, &abs32);
    double wtf = run(ref, be, VIDI_CUDA_GEMM_TF32, 10, &abs_tf32);
    double wbf = run(ref, be, VIDI_CUDA_GEMM_BF16, 7, &abs_bf16);
    printf("max abs error: fp32 %.2e, tf32 %.2e, bf16 %.2e; worst error / bound: %.2f %.2f %.2f\n", abs32, abs_tf32,
           abs_bf16, w32, wtf, wbf);
    CHECK_MSG(w32 <= 1.0 && wtf <= 1.0 && wbf <= 1.0, "an error exceeds its bound (%.2f %.2f %.2f)", w32, wtf, wbf);
    /* The modes take effect: reduced precision shows, in the expected order. */
    CHECK_MSG(abs_bf16 > 4.0 * abs_tf32 && abs_tf32 > 4.0 * abs32, "modes not applied? %.2e %.2e %.2e", abs32, abs_tf32,
              abs_bf16);
    test_unfused_epilogues(ref, be);
    vidi_backend_destroy(be);
    vidi_backend_destroy(ref);
    return vidi_test_summary("cuda_gemm");
}
