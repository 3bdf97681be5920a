/* Generation and in-painting drivers (diffusion/generate.c, mask.c) with the
 * tiny golden in-painting model: mask specs, known pixels kept exactly by
 * both methods, determinism, request errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/backend.h"
#include "vidi/diffusion.h"

#define T 4
#define S 8
#define HW (S * S)

static int64_t count_fill(const float *mask, int n) {
    int64_t k = 0;
    for (int i = 0; i < n; i++) k += mask[i] < 0.5f;
    return k;
}

static void test_masks(void) {
    float m[T * HW];
    CHECK(vidi_inpaint_mask_parse("box:1,2,3,4", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == T * 12);
    CHECK(m[0 * HW + 2 * S + 1] == 0.0f && m[0 * HW + 2 * S + 4] == 1.0f && m[0 * HW + 6 * S + 1] == 1.0f);
    CHECK(vidi_inpaint_mask_parse("box:0,0,8,8@1-2", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == 2 * HW);
    CHECK(m[0] == 1.0f && m[HW] == 0.0f && m[3 * HW] == 1.0f);
    CHECK(vidi_inpaint_mask_parse("box:0,0,1,1@3", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == 1 && m[3 * HW] == 0.0f);
    CHECK(vidi_inpaint_mask_parse("frames:0,2-3", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == 3 * HW && m[HW] == 1.0f);
    CHECK(vidi_inpaint_mask_parse("predict:1", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == 3 * HW && m[0] == 1.0f);
    CHECK(vidi_inpaint_mask_parse("interpolate:1", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == 2 * HW);
    CHECK(m[0] == 1.0f && m[3 * HW] == 1.0f && m[HW] == 0.0f);
    CHECK(vidi_inpaint_mask_parse("box:0,0,2,2+frames:3", T, S, S, m) == VIDI_OK && count_fill(m, T * HW) == 3 * 4 + HW);
    /* Errors name the part. */
    static const char *bad[] = {"box:7,0,2,2", "box:0,0,0,3", "box:1,2,3", "box:0,0,1,1@2-1", "box:0,0,1,1@4",
                                "frames:4", "frames:", "frames:2-1", "predict:0", "predict:4", "interpolate:2",
                                "image:/nonexistent.png", "video:/nonexistent.mp4", "blob:1", "box", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vidi_status st = vidi_inpaint_mask_parse(bad[i], T, S, S, m);
        CHECK_MSG(st != VIDI_OK, "mask '%s' accepted", bad[i]);
        CHECK_MSG(strlen(vidi_last_error()) > 0 && !strchr(vidi_last_error(), '\n'), "mask '%s': message '%s'", bad[i],
                  vidi_last_error());
    }
}

static void test_inpaint(void) {
    vidi_backend *be = NULL;
    vidi_denoiser *m = NULL;
    CHECK(vidi_backend_create("cpu", 2, &be) == VIDI_OK);
    CHECK(vidi_denoiser_load("tests/golden/diffusion/den_inpaint/model.safetensors", be, &m) == VIDI_OK);
    if (!m) {
        vidi_backend_destroy(be);
        return;
    }
    const int n = T * 3 * HW;
    float known[T * 3 * HW], mask[T * HW], a[T * 3 * HW], b[T * 3 * HW];
    for (int i = 0; i < n; i++) known[i] = (float)sin(0.37 * i) * 0.8f;
    CHECK(vidi_inpaint_mask_parse("box:2,2,4,4+frames:3", T, S, S, mask) == VIDI_OK);
    vidi_sample_params p = vidi_sample_default_params();
    p.steps = 10, p.seed = 7, p.label = 1;
    for (int method = 0; method < 2; method++) {
        CHECK(vidi_diffusion_generate(m, &p, known, mask, (vidi_inpaint_method)method, 2, a) == VIDI_OK);
        int kept = 1, changed = 0;
        for (int i = 0; i < n; i++) {
            int f = i / (3 * HW), px = i % HW;
            if (mask[f * HW + px] > 0.5f) kept &= a[i] == known[i];
            else changed += a[i] != known[i];
        }
        CHECK_MSG(kept, "method %d: a known pixel changed", method);
        CHECK_MSG(changed > 0, "method %d: nothing was filled", method);
        CHECK(vidi_diffusion_generate(m, &p, known, mask, (vidi_inpaint_method)method, 2, b) == VIDI_OK);
        CHECK_MSG(memcmp(a, b, sizeof a) == 0, "method %d: same seed, different result", method);
    }
    /* Generation: seeds reproduce and differ; every sampler stays finite and in range. */
    for (int s = 0; s < 3; s++) {
        p.sampler = (vidi_sampler_kind)s;
        CHECK(vidi_diffusion_generate(m, &p, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_OK);
        int finite = 1;
        for (int i = 0; i < n; i++) finite &= isfinite(a[i]) && fabsf(a[i]) <= 1.5f;
        CHECK_MSG(finite, "sampler %d: values not finite or far outside [-1, 1]", s);
    }
    p.seed = 8;
    CHECK(vidi_diffusion_generate(m, &p, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1, b) == VIDI_OK);
    CHECK(memcmp(a, b, sizeof a) != 0);
    /* Requests the model cannot serve. */
    p.label = 5;
    CHECK(vidi_diffusion_generate(m, &p, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "5 classes") != NULL);
    p.label = 1;
    for (int i = 0; i < T * HW; i++) mask[i] = 1.0f;
    CHECK(vidi_diffusion_generate(m, &p, known, mask, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "nothing to in-paint") != NULL);
    CHECK(vidi_diffusion_generate(m, &p, known, NULL, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_ERR_ARG);
    mask[0] = 0.0f;
    CHECK(vidi_diffusion_generate(m, &p, known, mask, VIDI_INPAINT_REPAINT, 0, a) == VIDI_ERR_ARG);
    /* Known-pixel guidance: conditioned in-painting only, not with label guidance, a finite scale >= 0. */
    p.known_guidance = 2.0f;
    CHECK(vidi_diffusion_generate(m, &p, known, mask, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_OK);
    CHECK(vidi_diffusion_generate(m, &p, known, mask, VIDI_INPAINT_REPAINT, 1, a) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "not repaint") != NULL);
    CHECK(vidi_diffusion_generate(m, &p, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "no mask") != NULL);
    p.guidance = 3.0f;
    CHECK(vidi_diffusion_generate(m, &p, known, mask, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "give one of the two") != NULL);
    p.guidance = 1.0f, p.known_guidance = NAN;
    CHECK(vidi_diffusion_generate(m, &p, known, mask, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_ERR_ARG);
    p.known_guidance = 1.0f;
    vidi_denoiser_free(m);
    /* An unconditional model without masks. */
    CHECK(vidi_denoiser_load("tests/golden/diffusion/den_plain/model.safetensors", be, &m) == VIDI_OK);
    if (m) {
        p.label = -1, p.guidance = 2.0f;
        float c[3 * 36], km[3 * 36], mk[3 * 36];
        CHECK(vidi_diffusion_generate(m, &p, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1, c) == VIDI_ERR_ARG);
        CHECK(strstr(vidi_last_error(), "class-conditional") != NULL);
        p.guidance = 1.0f;
        memset(km, 0, sizeof km);
        for (int i = 0; i < 3 * 36; i++) mk[i] = i < 36 ? 1.0f : 0.0f;
        CHECK(vidi_diffusion_generate(m, &p, km, mk, VIDI_INPAINT_CONDITIONED, 1, c) == VIDI_ERR_UNSUPPORTED);
        CHECK(vidi_diffusion_generate(m, &p, km, mk, VIDI_INPAINT_REPAINT, 1, c) == VIDI_OK);
        CHECK(c[0] == 0.0f && c[35] == 0.0f);
        vidi_denoiser_free(m);
    }
    vidi_backend_destroy(be);
}

/* The model as a host-memory vidi_denoise_fn, as generation called it before
 * sampling moved onto the model's backend. */
typedef struct host_model {
    vidi_denoiser *m;
    const float *known, *mask;
    int label;
} host_model;

static vidi_status host_forward(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    (void)n;
    host_model *h = user;
    if (label == VIDI_LABEL_NOTHING_KNOWN) /* known-pixel guidance: the sample's label, nothing known */
        return vidi_denoiser_forward(h->m, xt, t, h->label, NULL, NULL, eps, v, NULL, NULL);
    return vidi_denoiser_forward(h->m, xt, t, label, h->known, h->mask, eps, v, NULL, NULL);
}

/* On the CPU, generation samples on the backend (vidi_diffusion_sample_on,
 * the cpu sampler_step op, the forward reading x_t in place); the host loop
 * (vidi_diffusion_sample with the host forward) gives the same bytes, for
 * every sampler, with guidance, with in-painting and with known-pixel
 * guidance (the model run with nothing known as the second call, on the
 * host through vidi_denoiser_forward's own inputs); for a velocity model
 * too (the backend turns u into eps with a sampler_step, the host in a loop). */
static void test_backend_loop_is_host_loop(const char *model) {
    vidi_backend *be = NULL;
    vidi_denoiser *m = NULL;
    vidi_diffusion *base = NULL;
    CHECK(vidi_backend_create("cpu", 3, &be) == VIDI_OK);
    CHECK_MSG(be && vidi_denoiser_load(model, be, &m) == VIDI_OK, "%s: %s", model, vidi_last_error());
    CHECK(m && vidi_denoiser_process(m, &base) == VIDI_OK);
    if (!base) goto out;
    const int n = T * 3 * HW;
    float known[T * 3 * HW], mask[T * HW], emask[T * 3 * HW], a[T * 3 * HW], b[T * 3 * HW];
    for (int i = 0; i < n; i++) known[i] = (float)cos(0.21 * i) * 0.7f;
    CHECK(vidi_inpaint_mask_parse("box:1,1,5,3+frames:2", T, S, S, mask) == VIDI_OK);
    for (int i = 0; i < n; i++) emask[i] = mask[(i / (3 * HW)) * HW + i % HW];
    for (int s = 0; s < 3; s++)
        for (int var = 0; var < 4; var++) { /* plain; guided; guided in-painting; known-guided in-painting */
            vidi_sample_params p = vidi_sample_default_params();
            p.sampler = (vidi_sampler_kind)s, p.steps = 7, p.seed = 21 + var, p.eta = s == 1 && var ? 0.6f : 0.0f;
            p.label = var ? vidi_denoiser_get_config(m)->num_classes - 1 : -1, p.guidance = var == 1 || var == 2 ? 2.0f : 1.0f;
            if (var == 3) p.known_guidance = 2.5f;
            const float *kn = var >= 2 ? known : NULL, *mk = var >= 2 ? mask : NULL;
            CHECK(vidi_diffusion_generate(m, &p, kn, mk, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_OK);
            host_model h = {m, kn, mk, p.label};
            p.learned_sigma = vidi_denoiser_get_config(m)->learn_sigma;
            if (mk) p.known = known, p.known_mask = emask;
            CHECK(vidi_diffusion_sample(base, &p, host_forward, &h, b, n) == VIDI_OK);
            if (mk)
                for (int i = 0; i < n; i++)
                    if (mask[(i / (3 * HW)) * HW + i % HW] > 0.5f) b[i] = known[i];
            CHECK_MSG(memcmp(a, b, sizeof a) == 0, "%s: sampler %s, case %d: the backend loop differs from the host loop",
                      model, vidi_sampler_name(p.sampler), var);
        }
out:
    vidi_diffusion_free(base);
    vidi_denoiser_free(m);
    vidi_backend_destroy(be);
}

/* vidi_sample_params.known (conditioned in-painting): before every model
 * call the known elements of x_t are exactly the forward process's
 * sqrt(abar_t) known + sqrt(1 - abar_t) noise (call k: stream
 * VIDI_STREAM_KNOWN + k), as the model saw them in training, and after the
 * last step the known values; on the host loop (the ref step) and on the cpu
 * and cuda-emu backends (their sampler_step ops, x in backend memory). */
typedef struct recorder {
    const vidi_diffusion *base;
    const float *known, *mask;
    uint64_t seed;
    int calls, wrong;
} recorder;

static vidi_status record_known(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    (void)label, (void)v;
    recorder *r = user;
    float *noise = malloc(sizeof(float) * (size_t)n);
    if (!noise) return VIDI_ERR_NOMEM;
    vidi_randn(r->seed, VIDI_STREAM_KNOWN + (uint64_t)r->calls, noise, n);
    double a = r->base->alphas_cumprod[t];
    for (int64_t i = 0; i < n; i++) {
        double want = sqrt(a) * r->known[i] + sqrt(1.0 - a) * noise[i];
        if (r->mask[i] > 0.5f && fabs(xt[i] - want) > 1e-5 * (1.0 + fabs(want))) r->wrong++;
        eps[i] = 0.3f * xt[i];
    }
    free(noise);
    r->calls++;
    return VIDI_OK;
}

typedef struct on_backend {
    vidi_backend *be;
    recorder *r;
} on_backend;

static vidi_status record_known_on(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    on_backend *o = user;
    float *host_x = malloc(sizeof(float) * (size_t)n), *host_eps = malloc(sizeof(float) * (size_t)n);
    vidi_status st = host_x && host_eps ? VIDI_OK : VIDI_ERR_NOMEM;
    if (st == VIDI_OK) st = o->be->download(o->be, host_x, xt, sizeof(float) * (size_t)n);
    if (st == VIDI_OK) st = record_known(o->r, host_x, t, label, host_eps, v, n);
    if (st == VIDI_OK) st = o->be->upload(o->be, eps, host_eps, sizeof(float) * (size_t)n);
    free(host_x);
    free(host_eps);
    return st;
}

static void test_keep_known(void) {
    vidi_backend *ref = NULL;
    vidi_denoiser *m = NULL;
    vidi_diffusion *base = NULL;
    CHECK(vidi_backend_create("ref", 1, &ref) == VIDI_OK);
    CHECK(ref && vidi_denoiser_load("tests/golden/diffusion/den_inpaint/model.safetensors", ref, &m) == VIDI_OK);
    CHECK(m && vidi_denoiser_process(m, &base) == VIDI_OK);
    if (!base) goto out;
    const int n = T * 3 * HW;
    float known[T * 3 * HW], emask[T * 3 * HW], x[T * 3 * HW];
    for (int i = 0; i < n; i++) known[i] = (float)sin(0.37 * i) * 0.8f, emask[i] = i % 3 != 0;
    static const char *const where[] = {"host", "cpu", "cuda-emu"};
    for (int w = 0; w < 3; w++) {
        vidi_backend *be = NULL;
        if (w) CHECK_MSG(vidi_backend_create(where[w], 2, &be) == VIDI_OK, "%s: %s", where[w], vidi_last_error());
        if (w && !be) continue;
        for (int s = 0; s < 3; s++) {
            vidi_sample_params p = vidi_sample_default_params();
            p.sampler = (vidi_sampler_kind)s, p.steps = 6, p.seed = 5 + s;
            p.known = known, p.known_mask = emask;
            recorder r = {base, known, emask, p.seed, 0, 0};
            vidi_status st = be ? vidi_diffusion_sample_on(be, base, &p, record_known_on, &(on_backend){be, &r}, x, n, NULL)
                                : vidi_diffusion_sample(base, &p, record_known, &r, x, n);
            CHECK_MSG(st == VIDI_OK, "%s: %s", where[w], vidi_last_error());
            CHECK_MSG(r.calls == 6 && r.wrong == 0, "%s, sampler %s: %d calls, %d known values off the forward process",
                      where[w], vidi_sampler_name(p.sampler), r.calls, r.wrong);
            int exact = 0; /* after the last step (abar = 1) the known values themselves */
            for (int i = 0; i < n; i++) exact += emask[i] > 0.5f ? x[i] == known[i] : 0;
            CHECK_MSG(exact == 2 * n / 3, "%s, sampler %s: %d of %d known values exact at the end", where[w],
                      vidi_sampler_name(p.sampler), exact, 2 * n / 3);
        }
        vidi_backend_destroy(be);
    }
    vidi_sample_params bad = vidi_sample_default_params();
    bad.known = known; /* without its mask */
    CHECK(vidi_diffusion_sample(base, &bad, record_known, &(recorder){base, known, emask, 0, 0, 0}, x, n) == VIDI_ERR_ARG);
out:
    vidi_diffusion_free(base);
    vidi_denoiser_free(m);
    vidi_backend_destroy(ref);
}

int main(void) {
    test_keep_known();
    test_masks();
    test_inpaint();
    test_backend_loop_is_host_loop("tests/golden/diffusion/den_inpaint/model.safetensors");
    test_backend_loop_is_host_loop("tests/golden/diffusion/den_velocity/model.safetensors");
    return vidi_test_summary("diffusion_generate");
}
