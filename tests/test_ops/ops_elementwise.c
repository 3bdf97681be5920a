/* softmax, add, gelu; and the video layout ops: patch embed, modulate (adaLN), unpatchify. */
#include "test_ops/ops.h"

/* ---- softmax, add, gelu ---- */

void test_elementwise(vidi_backend *ref, vidi_backend *be) {
    static const int64_t rows_tab[] = {1, 3, 197};
    static const int64_t cols_tab[] = {1, 7, 197, 1000};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            for (int inplace = 0; inplace < 2; inplace++) {
                int64_t rows = rows_tab[r], cols = cols_tab[c], n = rows * cols;
                float *x = rand_buf(n, -20.0f, 20.0f);
                float *want = guarded_alloc(n), *got = guarded_alloc(n);
                char shape[96];
                snprintf(shape, sizeof shape, "rows=%lld cols=%lld inplace=%d", (long long)rows, (long long)cols, inplace);
                CHECK(ref->softmax(ref, want, x, rows, cols) == VIDI_OK);
                if (inplace) memcpy(got, x, (size_t)n * sizeof *x);
                CHECK_MSG(be->softmax(be, got, inplace ? got : x, rows, cols) == VIDI_OK, "softmax [%s] %s: %s",
                          config, shape, vidi_last_error());
                /* exp is ~1 ulp and the sum is float over <= 1000 terms: relative 2e-6. */
                compare("softmax", shape, got, want, n, (tolerance){1e-9, 2e-6});
                free(x);
                guarded_free(want); guarded_free(got);
            }

    static const int64_t ns[] = {1, 7, 8, 9, 100, 100003, 300001};
    for (int i = 0; i < 7; i++) {
        int64_t n = ns[i];
        float *a = rand_buf(n, -6.0f, 6.0f), *b = rand_buf(n, -6.0f, 6.0f);
        float *want = guarded_alloc(n), *got = guarded_alloc(n);
        char shape[64];
        snprintf(shape, sizeof shape, "n=%lld", (long long)n);
        CHECK(ref->add(ref, want, a, b, n) == VIDI_OK);
        CHECK(be->add(be, got, a, b, n) == VIDI_OK);
        /* A float sum is correctly rounded, and so is the ref's double sum cast to float. */
        compare("add", shape, got, want, n, (tolerance){0, 0});
        memcpy(got, a, (size_t)n * sizeof *a);
        CHECK(be->add(be, got, got, b, n) == VIDI_OK);
        compare("add in-place", shape, got, want, n, (tolerance){0, 0});

        static const vidi_act acts[] = {VIDI_ACT_NONE, VIDI_ACT_GELU_ERF, VIDI_ACT_GELU_TANH};
        for (int ai = 0; ai < 3; ai++) {
            CHECK(ref->gelu(ref, want, a, n, acts[ai]) == VIDI_OK);
            CHECK(be->gelu(be, got, a, n, acts[ai]) == VIDI_OK);
            snprintf(shape, sizeof shape, "n=%lld act=%d", (long long)n, (int)acts[ai]);
            /* erf: the fast erf is within 1e-7 absolute, times x/2 with
             * |x| <= 6, plus float rounding of the product. tanh: exp ~1 ulp
             * and one division, relative. */
            compare("gelu", shape, got, want, n, (tolerance){4e-7, 4e-7});
            memcpy(got, a, (size_t)n * sizeof *a);
            CHECK(be->gelu(be, got, got, n, acts[ai]) == VIDI_OK);
            compare("gelu in-place", shape, got, want, n, (tolerance){4e-7, 4e-7});
        }
        free(a); free(b);
        guarded_free(want); guarded_free(got);
    }
}

/* ---- patch embed ---- */

static void patch_case(vidi_backend *ref, vidi_backend *be, vidi_patch_layout l, int with_bias) {
    int64_t n_video = (int64_t)l.frames * l.channels * l.height * l.width;
    int64_t k = (int64_t)l.channels * l.patch_t * l.patch_h * l.patch_w;
    int64_t tokens = (int64_t)(l.frames / l.patch_t) * (l.height / l.patch_h) * (l.width / l.patch_w);
    /* One leading row, as the cls token would have: the op must not touch it. */
    int64_t n_out = (tokens + 1) * l.out_row_stride;
    float *video = rand_buf(n_video, -1.0f, 1.0f);
    float *w = rand_buf(l.hidden * k, -1.0f / sqrtf((float)k), 1.0f / sqrtf((float)k));
    float *bias = with_bias ? rand_buf(l.hidden, -1.0f, 1.0f) : NULL;
    float *want = guarded_alloc(n_out), *got = guarded_alloc(n_out);
    char shape[128];
    snprintf(shape, sizeof shape, "video %dx%dx%dx%d patch %dx%dx%d hidden %d stride %lld bias %d", l.frames,
             l.channels, l.height, l.width, l.patch_t, l.patch_h, l.patch_w, l.hidden, (long long)l.out_row_stride,
             with_bias);
    CHECK(ref->patch_embed(ref, want + l.out_row_stride, video, w, bias, &l) == VIDI_OK);
    vidi_status st = be->patch_embed(be, got + l.out_row_stride, video, w, bias, &l);
    CHECK_MSG(st == VIDI_OK, "patch_embed [%s] %s: %s", config, shape, vidi_last_error());
    /* Same float-GEMM argument as linear, over K = C*pt*ph*pw. */
    compare("patch_embed", shape, got, want, n_out, (tolerance){2e-6 * sqrt((double)k) + 2e-7, 1e-6});
    free(video); free(w); free(bias);
    guarded_free(want); guarded_free(got);
}

void test_patch_embed(vidi_backend *ref, vidi_backend *be) {
    for (int b = 0; b < 2; b++) {
        patch_case(ref, be, (vidi_patch_layout){4, 3, 12, 8, 2, 4, 4, 40, 45}, b);   /* tubelet 2x4x4 */
        patch_case(ref, be, (vidi_patch_layout){1, 3, 32, 48, 1, 16, 16, 64, 70}, b); /* 2D 16x16 */
        patch_case(ref, be, (vidi_patch_layout){2, 1, 6, 9, 1, 3, 3, 5, 5}, b);
    }
}

/* ---- modulate (adaLN) ---- */

/* One product, up to two sums of O(1) floats: a few float roundings. */
void test_modulate(vidi_backend *ref, vidi_backend *be) {
    if (!be->supports_op(be, VIDI_OP_MODULATE) || !be->modulate) return;
    static const int64_t rows_tab[] = {1, 7, 197};
    static const int64_t dims[] = {1, 7, 96, 768};
    for (int r = 0; r < 3; r++)
        for (int d = 0; d < 4; d++)
            for (int form = 0; form < 4; form++) /* bit 0: shift, bit 1: residual */
                for (int alias = 0; alias < 3; alias++) { /* 0: none, 1: out == in, 2: out == res */
                    int64_t rows = rows_tab[r], dim = dims[d], n = rows * dim;
                    int with_shift = form & 1, with_res = form >> 1;
                    if (alias == 2 && !with_res) continue;
                    float sb = form == 3 ? 0.0f : 1.0f;
                    float *x = rand_buf(n, -3.0f, 3.0f), *res = rand_buf(n, -3.0f, 3.0f);
                    float *scale = rand_buf(dim, -1.5f, 1.5f), *shift = rand_buf(dim, -1.0f, 1.0f);
                    float *want = guarded_alloc(n), *got = guarded_alloc(n);
                    char shape[128];
                    snprintf(shape, sizeof shape, "rows=%lld dim=%lld shift=%d res=%d bias=%g alias=%d", (long long)rows,
                             (long long)dim, with_shift, with_res, (double)sb, alias);
                    CHECK(ref->modulate(ref, want, x, scale, sb, with_shift ? shift : NULL, with_res ? res : NULL, rows,
                                        dim) == VIDI_OK);
                    const float *in = x, *rs = with_res ? res : NULL;
                    if (alias == 1) memcpy(got, x, (size_t)n * sizeof *x), in = got;
                    if (alias == 2) memcpy(got, res, (size_t)n * sizeof *x), rs = got;
                    vidi_status st = be->modulate(be, got, in, scale, sb, with_shift ? shift : NULL, rs, rows, dim);
                    CHECK_MSG(st == VIDI_OK, "modulate [%s] %s: %s", config, shape, vidi_last_error());
                    compare("modulate", shape, got, want, n, (tolerance){2e-6, 1e-6});
                    free(x); free(res); free(scale); free(shift);
                    guarded_free(want); guarded_free(got);
                }
}

/* ---- unpatchify ---- */

/* A copy: exact. The output is guarded, so a value written outside the
 * channels asked for, or not written, shows. */
static void unpatchify_case(vidi_backend *ref, vidi_backend *be, vidi_patch_layout l, int c0, int nc) {
    int64_t nt = (int64_t)(l.frames / l.patch_t) * (l.height / l.patch_h) * (l.width / l.patch_w);
    int64_t n_tok = (nt - 1) * l.out_row_stride + l.hidden, n_out = (int64_t)l.frames * nc * l.height * l.width;
    float *tokens = rand_buf(n_tok, -2.0f, 2.0f);
    float *want = guarded_alloc(n_out), *got = guarded_alloc(n_out);
    char shape[128];
    snprintf(shape, sizeof shape, "video %dx%dx%dx%d patch %dx%dx%d stride %lld channels [%d,%d)", l.frames, l.channels,
             l.height, l.width, l.patch_t, l.patch_h, l.patch_w, (long long)l.out_row_stride, c0, c0 + nc);
    CHECK(ref->unpatchify(ref, want, tokens, &l, c0, nc) == VIDI_OK);
    vidi_status st = be->unpatchify(be, got, tokens, &l, c0, nc);
    CHECK_MSG(st == VIDI_OK, "unpatchify [%s] %s: %s", config, shape, vidi_last_error());
    compare("unpatchify", shape, got, want, n_out, (tolerance){0, 0});
    free(tokens);
    guarded_free(want); guarded_free(got);
}

void test_unpatchify(vidi_backend *ref, vidi_backend *be) {
    if (!be->supports_op(be, VIDI_OP_UNPATCHIFY) || !be->unpatchify) return;
    /* The denoiser's output: eps then v (2C channels), patch 2x2. */
    unpatchify_case(ref, be, (vidi_patch_layout){4, 6, 8, 8, 1, 2, 2, 24, 24}, 0, 3);
    unpatchify_case(ref, be, (vidi_patch_layout){4, 6, 8, 8, 1, 2, 2, 24, 24}, 3, 3);
    unpatchify_case(ref, be, (vidi_patch_layout){4, 2, 6, 9, 2, 3, 3, 36, 40}, 1, 1); /* tubelets, padded rows */
    unpatchify_case(ref, be, (vidi_patch_layout){1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 1);
    unpatchify_case(ref, be, (vidi_patch_layout){8, 6, 64, 64, 1, 8, 8, 384, 384}, 0, 3); /* big enough for threads */
}
