/* Every op on every available backend against the ref tier (the oracle),
 * test-backend-ops style: a table of odd shapes per op, a tolerance per op,
 * guard bytes around every output, fixed-seed random inputs. The CPU runs
 * each of its kernel paths (AVX-512 where present, AVX2, scalar) at 1 and 3
 * threads (3 > cores here, so tasks really interleave); device backends run
 * behind a host-memory shim. This file has the error cases, the backend API
 * and the driver; the per-op tables are in tests/test_ops/. */
#include "diffusion/sampler_internal.h"
#include "nn/cpu/cpu.h"
#include "test_ops/ops.h"

/* ---- errors ---- */

static void test_errors(vidi_backend *be) {
    float buf[64] = {0};
    const char *n = be->name;
    CHECK_MSG(be->linear(be, buf, buf, buf, NULL, -1, 4, 4, VIDI_ACT_NONE) == VIDI_ERR_ARG, "%s linear rows<0", n);
    CHECK_MSG(be->linear(be, buf, buf, buf, NULL, 1, 0, 4, VIDI_ACT_NONE) == VIDI_ERR_ARG, "%s linear in_f=0", n);
    CHECK_MSG(be->linear(be, buf, buf, buf, NULL, 1, 4, 4, (vidi_act)9) == VIDI_ERR_ARG, "%s linear act", n);
    CHECK_MSG(be->linear(be, NULL, buf, buf, NULL, 1, 4, 4, VIDI_ACT_NONE) == VIDI_ERR_ARG, "%s linear NULL", n);
    CHECK_MSG(be->layernorm(be, buf, buf, NULL, NULL, 1, 0, 1e-5f) == VIDI_ERR_ARG, "%s layernorm dim=0", n);
    CHECK_MSG(be->layernorm(be, buf, buf, NULL, NULL, -2, 4, 1e-5f) == VIDI_ERR_ARG, "%s layernorm rows<0", n);
    CHECK_MSG(be->layernorm(be, buf, buf, NULL, NULL, 1, 4, -1.0f) == VIDI_ERR_ARG, "%s layernorm eps<0", n);
    vidi_attn_layout l = vidi_attn_layout_fused_qkv(1, 1, 2, 0);
    CHECK_MSG(be->attention(be, buf, buf, buf, buf, &l, 1.0f) == VIDI_ERR_ARG, "%s attention head_dim=0", n);
    CHECK(strstr(vidi_last_error(), "head_dim=0") != NULL);
    l = vidi_attn_layout_fused_qkv(1, -1, 2, 4);
    CHECK_MSG(be->attention(be, buf, buf, buf, buf, &l, 1.0f) == VIDI_ERR_ARG, "%s attention heads<0", n);
    l = vidi_attn_layout_fused_qkv(1, 1, 2, 4);
    l.kv_len = 0;
    CHECK_MSG(be->attention(be, buf, buf, buf, buf, &l, 1.0f) == VIDI_ERR_ARG, "%s attention kv_len=0", n);
    l.kv_len = 2;
    CHECK_MSG(be->attention(be, buf, buf, buf, buf, &l, NAN) == VIDI_ERR_ARG, "%s attention scale nan", n);
    CHECK_MSG(be->attention(be, buf, buf, buf, buf, NULL, 1.0f) == VIDI_ERR_ARG, "%s attention NULL layout", n);
    CHECK_MSG(be->softmax(be, buf, buf, 1, 0) == VIDI_ERR_ARG, "%s softmax cols=0", n);
    CHECK_MSG(be->add(be, buf, buf, buf, -1) == VIDI_ERR_ARG, "%s add n<0", n);
    CHECK_MSG(be->gelu(be, buf, buf, 4, (vidi_act)7) == VIDI_ERR_ARG, "%s gelu act", n);
    vidi_patch_layout p = {4, 3, 12, 8, 3, 4, 4, 8, 8}; /* 3 does not divide 4 frames */
    CHECK_MSG(be->patch_embed(be, buf, buf, buf, NULL, &p) == VIDI_ERR_ARG, "%s patch_embed t", n);
    CHECK(strstr(vidi_last_error(), "does not divide") != NULL);
    p = (vidi_patch_layout){1, 3, 30, 32, 1, 16, 16, 8, 8};
    CHECK_MSG(be->patch_embed(be, buf, buf, buf, NULL, &p) == VIDI_ERR_ARG, "%s patch_embed h", n);
    p = (vidi_patch_layout){1, 3, 32, 32, 1, 16, 16, 8, 7};
    CHECK_MSG(be->patch_embed(be, buf, buf, buf, NULL, &p) == VIDI_ERR_ARG, "%s patch_embed stride", n);
    p = (vidi_patch_layout){1, 3, 32, 32, 1, 0, 16, 8, 8};
    CHECK_MSG(be->patch_embed(be, buf, buf, buf, NULL, &p) == VIDI_ERR_ARG, "%s patch_embed zero patch", n);
    if (be->modulate) {
        CHECK_MSG(be->modulate(be, buf, buf, NULL, 1.0f, NULL, NULL, 2, 4) == VIDI_ERR_ARG, "%s modulate NULL scale", n);
        CHECK_MSG(be->modulate(be, buf, buf, buf, 1.0f, NULL, NULL, 2, 0) == VIDI_ERR_ARG, "%s modulate dim=0", n);
        CHECK_MSG(be->modulate(be, buf, buf, buf, NAN, NULL, NULL, 2, 4) == VIDI_ERR_ARG, "%s modulate nan bias", n);
        CHECK(be->modulate(be, buf, buf, buf, 1.0f, NULL, NULL, 0, 4) == VIDI_OK);
    }
    vidi_patch_layout u = {4, 6, 8, 8, 1, 2, 2, 24, 24};
    CHECK_MSG(be->unpatchify(be, buf, buf, &u, 3, 4) == VIDI_ERR_ARG, "%s unpatchify channels", n);
    CHECK(strstr(vidi_last_error(), "channels [3, 7)") != NULL);
    u.hidden = 23;
    CHECK_MSG(be->unpatchify(be, buf, buf, &u, 0, 3) == VIDI_ERR_ARG, "%s unpatchify token width", n);
    u.hidden = 24, u.out_row_stride = 20;
    CHECK_MSG(be->unpatchify(be, buf, buf, &u, 0, 3) == VIDI_ERR_ARG, "%s unpatchify stride", n);
    u.out_row_stride = 24;
    CHECK_MSG(be->unpatchify(be, buf, buf, NULL, 0, 3) == VIDI_ERR_ARG, "%s unpatchify NULL layout", n);
    vidi_sampler_step s = {.out = buf, .xt = buf, .eps = buf, .ra = 1.0, .rm1 = 0.5};
    CHECK_MSG(be->sampler_step(be, NULL, 4) == VIDI_ERR_ARG, "%s sampler_step NULL", n);
    CHECK_MSG(be->sampler_step(be, &s, -1) == VIDI_ERR_ARG, "%s sampler_step n<0", n);
    s.kind = (vidi_step_kind)7;
    CHECK_MSG(be->sampler_step(be, &s, 4) == VIDI_ERR_ARG, "%s sampler_step kind", n);
    CHECK(strstr(vidi_last_error(), "unknown kind 7") != NULL);
    s.kind = VIDI_STEP_DDIM, s.sab = NAN;
    CHECK_MSG(be->sampler_step(be, &s, 4) == VIDI_ERR_ARG, "%s sampler_step NaN coefficient", n);
    s.sab = 1.0, s.eps = NULL;
    CHECK_MSG(be->sampler_step(be, &s, 4) == VIDI_ERR_ARG, "%s sampler_step no eps", n);
    s.kind = VIDI_STEP_DPMPP_2M, s.x0_in = buf, s.x0_prev = buf, s.r0 = 0.0;
    CHECK_MSG(be->sampler_step(be, &s, 4) == VIDI_ERR_ARG, "%s sampler_step r0 = 0", n);
    CHECK(be->sampler_step(be, &s, 0) != VIDI_OK); /* the coefficients are checked even for no values */
    vidi_sampler_step k = {.out = buf, .xt = buf, .eps = buf, .ra = 1.0, .rm1 = 0.5, .known = buf, .known_s = 0.5};
    CHECK_MSG(be->sampler_step(be, &k, 4) == VIDI_ERR_ARG, "%s sampler_step known without mask", n);
    k.known_mask = buf;
    CHECK_MSG(be->sampler_step(be, &k, 4) == VIDI_ERR_ARG, "%s sampler_step known without noise", n);
    k.known_noise = buf, k.known_a = INFINITY;
    CHECK_MSG(be->sampler_step(be, &k, 4) == VIDI_ERR_ARG, "%s sampler_step known coefficient", n);
    /* Empty work is fine. */
    CHECK(be->linear(be, buf, buf, buf, NULL, 0, 4, 4, VIDI_ACT_GELU_ERF) == VIDI_OK);
    CHECK(be->add(be, buf, buf, buf, 0) == VIDI_OK);
}

static void test_backend_api(void) {
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("nope", 1, &be) == VIDI_ERR_ARG && be == NULL);
    CHECK(strstr(vidi_last_error(), "'nope'") != NULL);
    /* Without a device (or without -DVIDI_CUDA=ON) "cuda" says why and auto is the CPU. */
    int have_cuda = 0;
    for (const char *const *n = vidi_backend_available(); *n; n++) have_cuda |= !strcmp(*n, "cuda");
    if (!have_cuda) {
        CHECK(vidi_backend_create("cuda", 1, &be) == VIDI_ERR_UNSUPPORTED && be == NULL);
        CHECK(strstr(vidi_last_error(), "backend 'cuda': not built (configure with -DVIDI_CUDA=ON)") ||
              strstr(vidi_last_error(), "backend 'cuda': no CUDA device"));
    }
    CHECK(vidi_backend_create("auto", 2, &be) == VIDI_OK && be && strcmp(be->name, have_cuda ? "cuda" : "cpu") == 0);
    if (be) {
        CHECK(have_cuda || be->n_threads == 2);
        for (int op = 0; op < VIDI_OP_COUNT; op++) CHECK(be->supports_op(be, (vidi_op)op));
        void *p = be->alloc(be, 100);
        CHECK(p && ((uintptr_t)p & 63) == 0);
        CHECK(be->upload(be, p, "hello", 6) == VIDI_OK);
        char back[6];
        CHECK(be->download(be, back, p, 6) == VIDI_OK && strcmp(back, "hello") == 0);
        be->release(be, p);
        CHECK(be->synchronize(be) == VIDI_OK);
        vidi_backend_destroy(be);
    }
    CHECK(vidi_backend_create(NULL, 1, &be) == VIDI_ERR_ARG);
    CHECK(strcmp(vidi_op_name(VIDI_OP_PATCH_EMBED), "patch_embed") == 0);
    CHECK(strcmp(vidi_op_name(VIDI_OP_ATTENTION), "attention") == 0);
    CHECK(strcmp(vidi_op_name(VIDI_OP_SAMPLER_STEP), "sampler_step") == 0);
    CHECK(strcmp(vidi_op_name(VIDI_OP_UNPATCHIFY), "unpatchify") == 0);
    vidi_attn_layout l = vidi_attn_layout_fused_qkv(2, 12, 197, 64);
    CHECK(l.q_tok == 3 * 768 && l.q_head == 64 && l.q_batch == 197 * 3 * 768 && l.o_tok == 768 &&
          l.o_batch == 197 * 768 && l.kv_len == 197);
}

int main(void) {
    const char *ts = getenv("VIDI_OPS_TOL_SCALE");
    if (ts) tol_scale = atof(ts);
    test_backend_api();
    vidi_backend *ref = NULL;
    if (vidi_backend_create("ref", 1, &ref) != VIDI_OK) {
        fprintf(stderr, "cannot create ref backend: %s\n", vidi_last_error());
        return 1;
    }
    test_errors(ref);
    for (const char *const *name = vidi_backend_available(); *name; name++) {
        if (!strcmp(*name, "ref")) continue; /* the oracle is not its own subject */
        int is_cpu = !strcmp(*name, "cpu");
        static const int threads_tab[] = {1, 3};
        for (int ti = 0; ti < (is_cpu ? 2 : 1); ti++)
            /* CPU kernel paths, widest first: 0 = best the CPU has (AVX-512
             * epilogue where present), 1 = AVX2 only (run when it differs
             * from 0), 2 = scalar. */
            for (int path = 0; path < (is_cpu ? 3 : 1); path++) {
                if (path == 1 && !vidi_cpu_avx512_enabled()) continue;
                vidi_backend *be = NULL;
                vidi_status st = vidi_backend_create(*name, threads_tab[ti], &be);
                CHECK_MSG(st == VIDI_OK, "create %s: %s", *name, vidi_last_error());
                if (st != VIDI_OK) continue;
                if (is_cpu) vidi_cpu_force_no_avx512(path == 1), vidi_cpu_force_scalar(path == 2);
                snprintf(config, sizeof config, "%s %s threads=%d", *name,
                         !is_cpu                    ? ""
                         : vidi_cpu_avx512_enabled() ? "avx512"
                         : vidi_cpu_simd_enabled()   ? "avx2"
                                                     : "scalar",
                         be->n_threads);
                test_errors(be);
                vidi_backend *subject = be->device_memory ? device_shim(be) : be;
                test_linear(ref, subject);
                test_linear_tall(ref, subject);
                test_layernorm(ref, subject);
                test_attention(ref, subject);
                test_elementwise(ref, subject);
                test_patch_embed(ref, subject);
                test_modulate(ref, subject);
                test_unpatchify(ref, subject);
                test_sampler_step(ref, subject);
                if (is_cpu) vidi_cpu_force_no_avx512(0), vidi_cpu_force_scalar(0);
                vidi_backend_destroy(be);
            }
    }
    vidi_backend_destroy(ref);
    test_linear_widths_agree();
    return vidi_test_summary("ops");
}
