/* linear (OpenBLAS and the narrow-layer kernels), layernorm, attention. */
#include "test_ops/ops.h"
#include "nn/cpu/cpu.h"

/* ---- linear ---- */

/* BLAS accumulates in float in an order of its choosing: with weights scaled
 * 1/sqrt(in_f) the outputs are O(1) and the rounding error grows like
 * sqrt(in_f) * 2^-24; 2e-6 * sqrt(in_f) leaves ~10x headroom. GELU adds the
 * fast erf's ~1e-7 absolute error. */
void test_linear(vidi_backend *ref, vidi_backend *be) {
    static const int64_t rows_tab[] = {1, 7, 197};
    static const int64_t feat_tab[][2] = {{5, 5}, {64, 80}, {80, 64}, {768, 768}, {768, 80}, {7, 768}};
    static const vidi_act acts[] = {VIDI_ACT_NONE, VIDI_ACT_GELU_ERF, VIDI_ACT_GELU_TANH};
    for (size_t r = 0; r < sizeof rows_tab / sizeof rows_tab[0]; r++)
        for (size_t f = 0; f < sizeof feat_tab / sizeof feat_tab[0]; f++)
            for (int with_bias = 0; with_bias < 2; with_bias++)
                for (size_t a = 0; a < 3; a++) {
                    int64_t rows = rows_tab[r], in_f = feat_tab[f][0], out_f = feat_tab[f][1];
                    float wscale = 1.0f / sqrtf((float)in_f);
                    float *x = rand_buf(rows * in_f, -2.0f, 2.0f);
                    float *w = rand_buf(out_f * in_f, -wscale, wscale);
                    float *bias = with_bias ? rand_buf(out_f, -1.0f, 1.0f) : NULL;
                    float *want = guarded_alloc(rows * out_f), *got = guarded_alloc(rows * out_f);
                    char shape[128];
                    snprintf(shape, sizeof shape, "rows=%lld in=%lld out=%lld bias=%d act=%d", (long long)rows,
                             (long long)in_f, (long long)out_f, with_bias, (int)acts[a]);
                    CHECK(ref->linear(ref, want, x, w, bias, rows, in_f, out_f, acts[a]) == VIDI_OK);
                    vidi_status st = be->linear(be, got, x, w, bias, rows, in_f, out_f, acts[a]);
                    CHECK_MSG(st == VIDI_OK, "linear [%s] %s: %s", config, shape, vidi_last_error());
                    compare("linear", shape, got, want, rows * out_f,
                            (tolerance){2e-6 * sqrt((double)in_f) + 2e-7, 1e-6});
                    free(x); free(w); free(bias);
                    guarded_free(want); guarded_free(got);
                }
}

/* Tall, narrow GEMMs (the diffusion denoiser's 1024 tokens x 96 features):
 * the CPU splits them by row blocks, not by columns; 1000 rows leave a short
 * last block. */
void test_linear_tall(vidi_backend *ref, vidi_backend *be) {
    static const int64_t feat_tab[][2] = {{96, 96}, {96, 384}, {384, 96}};
    static const vidi_act acts[] = {VIDI_ACT_NONE, VIDI_ACT_GELU_TANH};
    const int64_t rows = 1000;
    for (size_t f = 0; f < sizeof feat_tab / sizeof feat_tab[0]; f++)
        for (size_t a = 0; a < 2; a++) {
            int64_t in_f = feat_tab[f][0], out_f = feat_tab[f][1];
            float wscale = 1.0f / sqrtf((float)in_f);
            float *x = rand_buf(rows * in_f, -2.0f, 2.0f);
            float *w = rand_buf(out_f * in_f, -wscale, wscale);
            float *bias = rand_buf(out_f, -1.0f, 1.0f);
            float *want = guarded_alloc(rows * out_f), *got = guarded_alloc(rows * out_f);
            char shape[128];
            snprintf(shape, sizeof shape, "tall rows=%lld in=%lld out=%lld act=%d", (long long)rows, (long long)in_f,
                     (long long)out_f, (int)acts[a]);
            CHECK(ref->linear(ref, want, x, w, bias, rows, in_f, out_f, acts[a]) == VIDI_OK);
            vidi_status st = be->linear(be, got, x, w, bias, rows, in_f, out_f, acts[a]);
            CHECK_MSG(st == VIDI_OK, "linear [%s] %s: %s", config, shape, vidi_last_error());
            compare("linear", shape, got, want, rows * out_f, (tolerance){2e-6 * sqrt((double)in_f) + 2e-7, 1e-6});
            free(x); free(w); free(bias);
            guarded_free(want); guarded_free(got);
        }
}

/* The narrow-layer GEMM at 16 lanes (AVX-512) and at 8 (AVX2) is one FMA
 * chain per output, the same bias add and the same activation polynomials:
 * the two give the same bytes, so a model's output does not depend on which
 * of the two the CPU has. Shapes with a short last panel and rows that are
 * not a multiple of the 6-row tile. */
void test_linear_widths_agree(void) {
    if (!vidi_cpu_avx512_enabled()) return; /* nothing to compare against */
    static const int64_t shape_tab[][3] = {{197, 80, 64}, {1000, 96, 384}, {197, 7, 768}, {33, 5, 5}, {16, 384, 96}};
    static const vidi_act acts[] = {VIDI_ACT_NONE, VIDI_ACT_GELU_ERF, VIDI_ACT_GELU_TANH};
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cpu", 3, &be) == VIDI_OK);
    if (!be) return;
    for (size_t f = 0; f < sizeof shape_tab / sizeof shape_tab[0]; f++)
        for (size_t a = 0; a < 3; a++) {
            int64_t rows = shape_tab[f][0], in_f = shape_tab[f][1], out_f = shape_tab[f][2];
            float *x = rand_buf(rows * in_f, -2.0f, 2.0f), *w = rand_buf(out_f * in_f, -0.3f, 0.3f);
            float *bias = rand_buf(out_f, -1.0f, 1.0f);
            float *wide = guarded_alloc(rows * out_f), *narrow = guarded_alloc(rows * out_f);
            CHECK(be->linear(be, wide, x, w, bias, rows, in_f, out_f, acts[a]) == VIDI_OK);
            vidi_cpu_force_no_avx512(1);
            CHECK(be->linear(be, narrow, x, w, bias, rows, in_f, out_f, acts[a]) == VIDI_OK);
            vidi_cpu_force_no_avx512(0);
            int64_t differ = 0;
            for (int64_t i = 0; i < rows * out_f; i++) differ += memcmp(&wide[i], &narrow[i], sizeof(float)) != 0;
            CHECK_MSG(differ == 0, "linear rows=%lld in=%lld out=%lld act=%d: %lld of %lld outputs differ between "
                      "the AVX-512 and the AVX2 GEMM", (long long)rows, (long long)in_f, (long long)out_f,
                      (int)acts[a], (long long)differ, (long long)(rows * out_f));
            free(x); free(w); free(bias);
            guarded_free(wide); guarded_free(narrow);
        }
    vidi_backend_destroy(be);
}

/* ---- layernorm ---- */

/* Float two-pass statistics over <= 768 values of O(1): relative error of
 * mean and inverse std ~1e-6, output O(3) after gamma; 1e-5 absolute. */
void test_layernorm(vidi_backend *ref, vidi_backend *be) {
    static const int64_t dims[] = {1, 7, 768};
    static const int64_t rows_tab[] = {1, 5, 197};
    for (size_t d = 0; d < 3; d++)
        for (size_t r = 0; r < 3; r++)
            for (int inplace = 0; inplace < 2; inplace++) {
                int64_t rows = rows_tab[r], dim = dims[d], n = rows * dim;
                /* An offset mean: what makes the one-pass formula fail. */
                float *x = rand_buf(n, 2.0f, 4.0f);
                float *g = rand_buf(dim, 0.5f, 1.5f), *bta = rand_buf(dim, -1.0f, 1.0f);
                float *want = guarded_alloc(n), *got = guarded_alloc(n);
                char shape[96];
                snprintf(shape, sizeof shape, "rows=%lld dim=%lld inplace=%d", (long long)rows, (long long)dim, inplace);
                CHECK(ref->layernorm(ref, want, x, g, bta, rows, dim, 1e-6f) == VIDI_OK);
                if (inplace) memcpy(got, x, (size_t)n * sizeof *x);
                vidi_status st = be->layernorm(be, got, inplace ? got : x, g, bta, rows, dim, 1e-6f);
                CHECK_MSG(st == VIDI_OK, "layernorm [%s] %s: %s", config, shape, vidi_last_error());
                compare("layernorm", shape, got, want, n, (tolerance){1e-5, 1e-5});
                free(x); free(g); free(bta);
                guarded_free(want); guarded_free(got);
            }
}

/* ---- attention ---- */

/* Scores are float dot products over <= 80 products of O(1) values (error
 * ~1e-6), the fast exp is ~1 ulp, and outputs are convex combinations of V in
 * [-1, 1] accumulated in float over <= 257 keys: 2e-5 absolute. */
static const tolerance attn_tol = {2e-5, 1e-5};

static void run_attention_case(vidi_backend *ref, vidi_backend *be, const char *shape, const float *q,
                               const float *k, const float *v, int64_t out_n, int64_t out_offset,
                               const vidi_attn_layout *l, float scale) {
    float *want = guarded_alloc(out_n), *got = guarded_alloc(out_n);
    CHECK(ref->attention(ref, want + out_offset, q, k, v, l, scale) == VIDI_OK);
    vidi_status st = be->attention(be, got + out_offset, q, k, v, l, scale);
    CHECK_MSG(st == VIDI_OK, "attention [%s] %s: %s", config, shape, vidi_last_error());
    compare("attention", shape, got, want, out_n, attn_tol);
    guarded_free(want);
    guarded_free(got);
}

/* Separate Q, K, V in [batch, heads, len, head_dim], q_len may differ from kv_len. */
static void attention_separate(vidi_backend *ref, vidi_backend *be, int batch, int heads, int q_len, int kv_len,
                               int hd) {
    vidi_attn_layout l = {batch, heads, q_len, kv_len, hd,
                          (int64_t)heads * q_len * hd, (int64_t)q_len * hd, hd,
                          (int64_t)heads * kv_len * hd, (int64_t)kv_len * hd, hd,
                          (int64_t)heads * kv_len * hd, (int64_t)kv_len * hd, hd,
                          (int64_t)heads * q_len * hd, (int64_t)q_len * hd, hd};
    int64_t nq = (int64_t)batch * heads * q_len * hd, nkv = (int64_t)batch * heads * kv_len * hd;
    float *q = rand_buf(nq, -1.0f, 1.0f), *k = rand_buf(nkv, -1.0f, 1.0f), *v = rand_buf(nkv, -1.0f, 1.0f);
    char shape[128];
    snprintf(shape, sizeof shape, "separate b=%d h=%d q=%d kv=%d d=%d", batch, heads, q_len, kv_len, hd);
    /* A large scale makes the softmax peaky, so the running max really moves between key tiles. */
    run_attention_case(ref, be, shape, q, k, v, nq, 0, &l, 1.0f / sqrtf((float)hd));
    snprintf(shape, sizeof shape, "separate b=%d h=%d q=%d kv=%d d=%d scale=4", batch, heads, q_len, kv_len, hd);
    run_attention_case(ref, be, shape, q, k, v, nq, 0, &l, 4.0f);
    free(q); free(k); free(v);
}

/* Fused QKV [batch, len, 3*heads*hd]: joint attention, and a split-head call
 * on heads [h0, h0+nh) that must leave the other heads' output untouched. */
static void attention_fused(vidi_backend *ref, vidi_backend *be, int batch, int heads, int len, int hd) {
    int64_t D = (int64_t)heads * hd;
    int64_t n_qkv = (int64_t)batch * len * 3 * D, n_out = (int64_t)batch * len * D;
    float *qkv = rand_buf(n_qkv, -1.0f, 1.0f);
    vidi_attn_layout l = vidi_attn_layout_fused_qkv(batch, heads, len, hd);
    char shape[128];
    snprintf(shape, sizeof shape, "fused b=%d h=%d len=%d d=%d", batch, heads, len, hd);
    run_attention_case(ref, be, shape, qkv, qkv + D, qkv + 2 * D, n_out, 0, &l, 1.0f / sqrtf((float)hd));
    if (heads > 1) {
        int h0 = 1, nh = heads - 1;
        vidi_attn_layout part = l;
        part.heads = nh;
        int64_t off = (int64_t)h0 * hd;
        snprintf(shape, sizeof shape, "split-head [%d,%d) b=%d h=%d len=%d d=%d", h0, h0 + nh, batch, heads, len, hd);
        run_attention_case(ref, be, shape, qkv + off, qkv + D + off, qkv + 2 * D + off, n_out, off, &part,
                           1.0f / sqrtf((float)hd));
    }
    free(qkv);
}

/* Temporal attention over a fused QKV laid out [frames, positions, 3D]:
 * batch = positions (stride 3D, small), sequence = frames (stride
 * positions*3D, large). */
static void attention_temporal(vidi_backend *ref, vidi_backend *be, int frames, int positions, int heads, int hd) {
    int64_t D = (int64_t)heads * hd;
    int64_t n_qkv = (int64_t)frames * positions * 3 * D, n_out = (int64_t)frames * positions * D;
    float *qkv = rand_buf(n_qkv, -1.0f, 1.0f);
    vidi_attn_layout l = {positions, heads, frames, frames, hd,
                          3 * D, hd, positions * 3 * D,
                          3 * D, hd, positions * 3 * D,
                          3 * D, hd, positions * 3 * D,
                          D, hd, positions * D};
    char shape[128];
    snprintf(shape, sizeof shape, "temporal frames=%d positions=%d h=%d d=%d", frames, positions, heads, hd);
    run_attention_case(ref, be, shape, qkv, qkv + D, qkv + 2 * D, n_out, 0, &l, 1.0f / sqrtf((float)hd));
    free(qkv);
}

void test_attention(vidi_backend *ref, vidi_backend *be) {
    static const int lens[] = {1, 7, 197, 257};
    static const int hds[] = {32, 64, 80};
    for (int li = 0; li < 4; li++)
        for (int hi = 0; hi < 3; hi++) {
            attention_fused(ref, be, 1, 3, lens[li], hds[hi]);
            attention_separate(ref, be, 2, 1, lens[li], lens[li], hds[hi]);
        }
    attention_fused(ref, be, 2, 3, 65, 80);
    attention_fused(ref, be, 2, 1, 33, 32);
    attention_separate(ref, be, 2, 3, 7, 197, 64);  /* q_len < kv_len (cross-attention) */
    attention_separate(ref, be, 1, 3, 197, 7, 80);  /* q_len > kv_len */
    attention_separate(ref, be, 1, 1, 1, 257, 20);  /* head_dim with an odd tail */
    attention_separate(ref, be, 2, 1, 9, 130, 3);
    attention_temporal(ref, be, 8, 49, 3, 64);
    attention_temporal(ref, be, 16, 5, 2, 80);
}
