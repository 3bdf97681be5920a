/* The CUDA attention kernels on the emulator ("cuda-emu") against ref, for
 * the shapes the op table (test_ops.c) does not cover: head_dim 128 (the
 * tiled kernel at its widest, over 48 KiB of shared memory, so it needs the
 * cudaFuncSetAttribute opt-in), and head_dim > 128 (the row-per-block
 * kernel: 160, and ViViT's mean pooling — attention with scale 0 over the
 * whole hidden width 768). Same tolerance as the op table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/backend.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 40) / (double)(1ull << 23)) - 1.0f;
}

static void check_case(vidi_backend *ref, vidi_backend *be, const char *what, const vidi_attn_layout *l,
                       int64_t n_in, int64_t q_off, int64_t k_off, int64_t v_off, int64_t n_out, float scale) {
    float *x = malloc(sizeof(float) * (size_t)n_in), *want = malloc(sizeof(float) * (size_t)n_out),
          *got = malloc(sizeof(float) * (size_t)n_out);
    for (int64_t i = 0; i < n_in; i++) x[i] = frand();
    for (int64_t i = 0; i < n_out; i++) want[i] = got[i] = -7.0f; /* cells the op must not write stay -7 */
    float *dx = be->alloc(be, sizeof(float) * (size_t)n_in), *dy = be->alloc(be, sizeof(float) * (size_t)n_out);
    CHECK(dx && dy && be->upload(be, dx, x, sizeof(float) * (size_t)n_in) == VIDI_OK &&
          be->upload(be, dy, got, sizeof(float) * (size_t)n_out) == VIDI_OK);
    CHECK(ref->attention(ref, want, x + q_off, x + k_off, x + v_off, l, scale) == VIDI_OK);
    vidi_status st = be->attention(be, dy, dx + q_off, dx + k_off, dx + v_off, l, scale);
    CHECK_MSG(st == VIDI_OK, "%s: %s", what, vidi_last_error());
    CHECK(be->download(be, got, dy, sizeof(float) * (size_t)n_out) == VIDI_OK);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n_out; i++)
        if (!(fabs((double)got[i] - want[i]) <= 2e-5 + 1e-5 * fabs((double)want[i])))
            if (bad++ == 0) first = i;
    CHECK_MSG(bad == 0, "%s: %lld of %lld values off, e.g. [%lld] got %g want %g", what, (long long)bad,
              (long long)n_out, (long long)first, first >= 0 ? got[first] : 0.0, first >= 0 ? want[first] : 0.0);
    printf("%-48s ok\n", what);
    be->release(be, dx);
    be->release(be, dy);
    free(x), free(want), free(got);
}

static void fused(vidi_backend *ref, vidi_backend *be, int batch, int heads, int len, int hd) {
    vidi_attn_layout l = vidi_attn_layout_fused_qkv(batch, heads, len, hd);
    int64_t d = (int64_t)heads * hd;
    char what[96];
    snprintf(what, sizeof what, "fused b=%d h=%d len=%d head_dim=%d", batch, heads, len, hd);
    check_case(ref, be, what, &l, (int64_t)batch * len * 3 * d, 0, d, 2 * d, (int64_t)batch * len * d,
               1.0f / sqrtf((float)hd));
}

int main(void) {
    vidi_backend *ref = NULL, *be = NULL;
    CHECK(vidi_backend_create("ref", 1, &ref) == VIDI_OK);
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (!ref || !be) return vidi_test_summary("cuda_attention");
    fused(ref, be, 1, 2, 70, 128);
    fused(ref, be, 2, 1, 33, 128);
    fused(ref, be, 2, 2, 33, 160);
    fused(ref, be, 1, 1, 5, 1000);
    /* ViViT models 3/4 'gap': one query, scale 0, over n rows of width d. */
    int n = 50, d = 768;
    vidi_attn_layout mean = {.batch = 1, .heads = 1, .q_len = 1, .kv_len = n, .head_dim = d,
                             .q_tok = d, .k_tok = d, .v_tok = d, .o_tok = d};
    check_case(ref, be, "mean pooling n=50 d=768 (scale 0)", &mean, (int64_t)n * d, 0, 0, 0, d, 0.0f);
    vidi_backend_destroy(be);
    vidi_backend_destroy(ref);
    return vidi_test_summary("cuda_attention");
}
