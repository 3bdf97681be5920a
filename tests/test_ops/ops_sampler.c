/* The diffusion sampler step, every kind, in-painting's known pixels included. */
#include "test_ops/ops.h"
#include "diffusion/sampler_internal.h"

/* ---- sampler step ---- */

/* ref and cpu run the same double expressions, and so does the emulated
 * kernel: equal bytes. A GPU fuses multiply-adds in double (~1e-16 relative)
 * before the rounding to float; that moves a result by at most a float ulp,
 * or a float intermediate (guided eps, DPM++'s x0) by one ulp times the
 * step's coefficients: 1e-6 absolute and relative is ~10x that. */
static const tolerance step_tol = {1e-6, 1e-6};

static void step_case(vidi_backend *ref, vidi_backend *be, vidi_sampler_step s, int64_t n, const char *what) {
    float *xt = rand_buf(n, -3.0f, 3.0f), *eps = rand_buf(n, -3.0f, 3.0f), *eps_u = rand_buf(n, -3.0f, 3.0f);
    float *noise = rand_buf(n, -3.0f, 3.0f), *v = rand_buf(n, -1.0f, 1.0f), *x0p = rand_buf(n, -1.0f, 1.0f);
    float *x0i = rand_buf(n, -1.0f, 1.0f), *known = rand_buf(n, -1.0f, 1.0f), *kmask = rand_buf(n, 0.0f, 1.0f);
    float *knoise = rand_buf(n, -3.0f, 3.0f);
    float *want = guarded_alloc(n), *got = guarded_alloc(n), *want_x0 = guarded_alloc(n), *got_x0 = guarded_alloc(n);
    int in_place = s.out != NULL; /* the caller's marker: out aliases xt */
    if (s.eps) s.eps = eps;
    if (s.eps_uncond) s.eps_uncond = eps_u;
    if (s.noise) s.noise = noise;
    if (s.v) s.v = v;
    if (s.x0_prev) s.x0_prev = x0p;
    if (s.x0_in) s.x0_in = x0i;
    if (s.known) s.known = known, s.known_mask = kmask, s.known_noise = s.known_noise ? knoise : NULL;
    char shape[192];
    snprintf(shape, sizeof shape, "%s n=%lld guided=%d noise=%d v=%d clip=%d x0_prev=%d in-place=%d known=%d", what,
             (long long)n, !!s.eps_uncond, !!s.noise, !!s.v, s.clip, !!s.x0_prev, in_place, !!s.known);
    vidi_sampler_step w = s, g = s;
    w.out = want, w.xt = xt, w.x0_out = s.x0_out ? want_x0 : NULL;
    CHECK(ref->sampler_step(ref, &w, n) == VIDI_OK);
    if (in_place) memcpy(got, xt, (size_t)n * sizeof *xt);
    g.out = got, g.xt = in_place ? got : xt, g.x0_out = s.x0_out ? got_x0 : NULL;
    vidi_status st = be->sampler_step(be, &g, n);
    CHECK_MSG(st == VIDI_OK, "sampler_step [%s] %s: %s", config, shape, vidi_last_error());
    compare("sampler_step", shape, got, want, n, step_tol);
    if (s.x0_out) compare("sampler_step x0", shape, got_x0, want_x0, n, step_tol);
    free(xt); free(eps); free(eps_u); free(noise); free(v); free(x0p); free(x0i); free(known); free(kmask);
    free(knoise);
    guarded_free(want); guarded_free(got); guarded_free(want_x0); guarded_free(got_x0);
}

/* Coefficients from real processes (diffusion/sampler.c computes them the
 * same way for the sampling loop) at the first, second, middle and last
 * step; marker pointers (any non-NULL) say which operands a case has. */
void test_sampler_step(vidi_backend *ref, vidi_backend *be) {
    if (!be->supports_op(be, VIDI_OP_SAMPLER_STEP) || !be->sampler_step) return;
    static float mark;
    float *on = &mark;
    static const int64_t ns[] = {1, 7, 1000};
    vidi_diffusion *base[2] = {NULL, NULL}, *d[2] = {NULL, NULL};
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_LINEAR, 200, &base[0]) == VIDI_OK);
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_COSINE, 1000, &base[1]) == VIDI_OK);
    for (int pi = 0; pi < 2; pi++) CHECK(base[pi] && vidi_diffusion_respace(base[pi], pi ? "50" : "10", &d[pi]) == VIDI_OK);
    for (int pi = 0; pi < 2 && d[pi]; pi++) {
        int T = d[pi]->num_timesteps, ts[4] = {0, 1, T / 2, T - 1};
        for (int ti = 0; ti < 4; ti++)
            for (int ni = 0; ni < 3; ni++)
                for (int var = 0; var < 4; var++) { /* bit 0: guidance, bit 1: v (DDPM) / eta (DDIM) */
                    int t = ts[ti], alt = (ti + ni + var) & 1;
                    int64_t n = ns[ni];
                    vidi_sampler_step s = {.eps = on, .eps_uncond = var & 1 ? on : NULL, .guidance = 2.5, .clip = !alt,
                                           .out = alt ? on : NULL};
                    char what[64];
                    sampler_ddpm_coefs(d[pi], t, &s);
                    s.noise = t > 0 ? on : NULL, s.v = var & 2 ? on : NULL;
                    if (ti & 1) /* in-painting: the known elements to the new level (t = 0: no noise) */
                        s.known = s.known_mask = on, s.known_a = 0.8, s.known_s = t > 0 ? 0.6 : 0.0,
                        s.known_noise = t > 0 ? on : NULL;
                    snprintf(what, sizeof what, "ddpm T=%d t=%d", T, t);
                    step_case(ref, be, s, n, what);
                    vidi_sampler_step e = {.eps = on, .eps_uncond = var & 1 ? on : NULL, .guidance = 0.5, .clip = alt,
                                           .out = alt ? NULL : on};
                    sampler_ddim_coefs(d[pi], t, var & 2 ? 0.7f : 0.0f, &e);
                    e.noise = t > 0 && e.sigma > 0.0 ? on : NULL;
                    if (!(ti & 1)) e.known = e.known_mask = e.known_noise = on, e.known_a = 0.3, e.known_s = 0.95;
                    snprintf(what, sizeof what, "ddim T=%d t=%d eta=%g", T, t, var & 2 ? 0.7 : 0.0);
                    step_case(ref, be, e, n, what);
                }
        /* DPM++ on the base process: first order, 2M, the final step to the
         * data, and the data prediction given (x0_in) instead of eps. */
        const vidi_diffusion *b = base[pi];
        int N = 10, steps[10];
        CHECK(vidi_dpmpp_timesteps(b->num_timesteps, N, steps) == VIDI_OK);
        for (int k = 0; k < N; k++)
            for (int ni = 0; ni < 3; ni++)
                for (int var = 0; var < 4; var++) { /* bit 0: guidance, bit 1: x0_in instead of eps */
                    int t = steps[k];
                    double ab_t = k + 1 < N ? b->alphas_cumprod[steps[k + 1]] : 1.0;
                    double ab_s1 = k > 0 ? b->alphas_cumprod[steps[k - 1]] : 0.0;
                    vidi_sampler_step s = {.clip = (k + var) & 1, .out = (k + ni) & 1 ? on : NULL, .guidance = 1.5};
                    CHECK(sampler_dpmpp_coefs(ab_s1, b->alphas_cumprod[t], ab_t, k > 0, &s) == VIDI_OK);
                    s.ra = b->sqrt_recip_alphas_cumprod[t], s.rm1 = b->sqrt_recipm1_alphas_cumprod[t];
                    if (var & 2) s.x0_in = on;
                    else s.eps = on, s.x0_out = on, s.eps_uncond = var & 1 ? on : NULL;
                    if (k > 0 && !s.to_data) s.x0_prev = on;
                    if (var & 1) s.known = s.known_mask = on, s.known_a = sqrt(ab_t), s.known_s = sqrt(1.0 - ab_t),
                                 s.known_noise = ab_t < 1.0 ? on : NULL;
                    char what[64];
                    snprintf(what, sizeof what, "dpm++ T=%d step %d of %d x0_in=%d", b->num_timesteps, k, N, !!(var & 2));
                    step_case(ref, be, s, ns[ni], what);
                }
    }
    /* Long spans: the CPU splits them over its pool. */
    if (d[1]) {
        vidi_sampler_step s = {.eps = on, .eps_uncond = on, .guidance = 3.0, .clip = 1, .v = on, .noise = on,
                               .known = on, .known_mask = on, .known_noise = on, .known_a = 0.5, .known_s = 0.85};
        sampler_ddpm_coefs(d[1], 20, &s);
        step_case(ref, be, s, 100003, "ddpm long");
        vidi_sampler_step e = {.eps = on, .clip = 1, .x0_out = on, .x0_prev = on};
        CHECK(sampler_dpmpp_coefs(0.3, 0.4, 0.6, 1, &e) == VIDI_OK);
        e.ra = 1.0 / sqrt(0.4), e.rm1 = sqrt(1.0 / 0.4 - 1.0);
        step_case(ref, be, e, 100003, "dpm++ long");
    }
    for (int pi = 0; pi < 2; pi++) vidi_diffusion_free(base[pi]), vidi_diffusion_free(d[pi]);
}
