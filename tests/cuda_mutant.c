/* Runs one op's checks on a deliberately broken build of the CUDA kernels
 * (tests/cuda.cmake) and on the real emulated backend: passes only when the
 * real one passes and the mutant is caught (wrong values, or a kernel fault
 * the emulator reports). Prints how the mutant was caught. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/cuda/cuda_backend.h"
#include "nn/cuda/emu/cuda_emu.h"
#include "vidi/backend.h"

VIDI_CUDA_DECLARE_BACKEND(cumut)

static uint64_t rng = 0x2545f4914f6cdd1dull;
static float frand(float lo, float hi) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (hi - lo) * (float)((double)(rng >> 40) / (double)(1ull << 24));
}

static char why[512];

/* Upload, run, download, compare against ref; 0 when within tolerance. */
static int one_case(vidi_backend *ref, vidi_backend *be, const char *op, int variant) {
    int64_t nin, nout;
    int rows = 0, cols = 0;
    vidi_attn_layout l;
    if (!strcmp(op, "attention")) {
        l = vidi_attn_layout_fused_qkv(1, 3, variant ? 65 : 197, variant ? 80 : 64);
        nin = (int64_t)l.q_len * 3 * l.heads * l.head_dim;
        nout = (int64_t)l.q_len * l.heads * l.head_dim;
    } else {
        rows = variant ? 3 : 197;
        cols = !strcmp(op, "softmax") ? (variant ? 1000 : 197) : 768;
        nin = nout = (int64_t)rows * cols;
    }
    float *x = malloc(sizeof(float) * (size_t)nin), *want = malloc(sizeof(float) * (size_t)nout),
          *got = malloc(sizeof(float) * (size_t)nout);
    for (int64_t i = 0; i < nin; i++) x[i] = strcmp(op, "layernorm") ? frand(-1, 1) : frand(2, 4);
    float *dx = be->alloc(be, sizeof(float) * (size_t)nin), *dy = be->alloc(be, sizeof(float) * (size_t)nout);
    vidi_status st = be->upload(be, dx, x, sizeof(float) * (size_t)nin);
    double atol, rtol;
    int64_t d = 0;
    if (!strcmp(op, "attention")) {
        d = (int64_t)l.heads * l.head_dim;
        ref->attention(ref, want, x, x + d, x + 2 * d, &l, 0.125f);
        if (!st) st = be->attention(be, dy, dx, dx + d, dx + 2 * d, &l, 0.125f);
        atol = 2e-5, rtol = 1e-5;
    } else if (!strcmp(op, "softmax")) {
        ref->softmax(ref, want, x, rows, cols);
        if (!st) st = be->softmax(be, dy, dx, rows, cols);
        atol = 1e-9, rtol = 2e-6;
    } else {
        ref->layernorm(ref, want, x, NULL, NULL, rows, cols, 1e-6f);
        if (!st) st = be->layernorm(be, dy, dx, NULL, NULL, rows, cols, 1e-6f);
        atol = 1e-5, rtol = 1e-5;
    }
    if (!st) st = be->download(be, got, dy, sizeof(float) * (size_t)nout);
    int bad = 0;
    if (st != VIDI_OK) {
        snprintf(why, sizeof why, "%s: %s", vidi_status_name(st), vidi_last_error());
        bad = 1;
    } else {
        for (int64_t i = 0; i < nout; i++)
            if (!(fabs((double)got[i] - want[i]) <= atol + rtol * fabs((double)want[i]))) {
                if (!bad) snprintf(why, sizeof why, "wrong values, e.g. [%lld] got %g want %g", (long long)i, got[i], want[i]);
                bad++;
            }
    }
    be->release(be, dx);
    be->release(be, dy);
    free(x), free(want), free(got);
    return bad;
}

static int failures(vidi_backend *ref, vidi_backend *be, const char *op) {
    return one_case(ref, be, op, 0) + one_case(ref, be, op, 1);
}

int main(void) {
    vidi_backend *ref = NULL, *good = NULL, *mutant = NULL;
    CHECK(vidi_backend_create("ref", 1, &ref) == VIDI_OK);
    CHECK(vidi_backend_create("cuda-emu", 1, &good) == VIDI_OK);
    CHECK(vidi_cumut_backend_create("cuda-mutant", &mutant) == VIDI_OK);
    if (!ref || !good || !mutant) return vidi_test_summary("cuda_mutant");
    int good_fail = failures(ref, good, VIDI_MUTANT_OP);
    CHECK_MSG(good_fail == 0, "the unmodified kernels fail the %s checks: %s", VIDI_MUTANT_OP, why);
    why[0] = '\0';
    int mutant_fail = failures(ref, mutant, VIDI_MUTANT_OP);
    CHECK_MSG(mutant_fail > 0, "mutant %s passed the %s checks: the tests cannot see this bug", VIDI_MUTANT_NAME,
              VIDI_MUTANT_OP);
    if (mutant_fail) printf("mutant %s caught by the %s checks: %s\n", VIDI_MUTANT_NAME, VIDI_MUTANT_OP, why);
    vidi_backend_destroy(mutant);
    vidi_emu_reset_faults();
    vidi_backend_destroy(good);
    vidi_backend_destroy(ref);
    return vidi_test_summary("cuda_mutant");
}
