/* Sampler steps (DDPM, DDIM, DPM-Solver++ 2M), their parameters and
 * timesteps; the loop is in sample_loop.c. Formulas: improved-diffusion
 * gaussian_diffusion.py (p_sample, ddim_sample) and diffusers'
 * DPMSolverMultistepScheduler (dpmsolver++, midpoint). Arithmetic in
 * double, stored as float. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/sampler_internal.h"

/* ---- noise ---- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vidi_randn(uint64_t seed, uint64_t stream, float *out, int64_t n) {
    uint64_t s = seed;
    uint64_t mix = splitmix64(&s) ^ (stream * 0xd1b54a32d192ed03ull);
    s = mix;
    for (int64_t i = 0; i < n; i += 2) {
        /* 53-bit uniforms; u1 in (0, 1] so the log is finite. */
        double u1 = ((double)(splitmix64(&s) >> 11) + 1.0) / 9007199254740992.0;
        double u2 = (double)(splitmix64(&s) >> 11) / 9007199254740992.0;
        double r = sqrt(-2.0 * log(u1)), a = 2.0 * M_PI * u2;
        out[i] = (float)(r * cos(a));
        if (i + 1 < n) out[i + 1] = (float)(r * sin(a));
    }
}

/* ---- single steps ----
 * Each step is the backend op vidi_sampler_step (include/vidi/ops.h) with
 * coefficients from the process's tables; here it runs on host memory as
 * the ref tier. The sampling loop (sample_loop.c) builds the same
 * coefficients and runs the op on its backend. */

static vidi_status check_step(const vidi_diffusion *d, int t, const char *what, int64_t n, const void *a, const void *b,
                              const void *c) {
    if (!d) return vidi_set_error(VIDI_ERR_ARG, "%s: NULL process", what);
    if (t < 0 || t >= d->num_timesteps)
        return vidi_set_error(VIDI_ERR_ARG, "%s: timestep %d outside 0..%d", what, t, d->num_timesteps - 1);
    if (n < 0 || (n && (!a || !b || !c))) return vidi_set_error(VIDI_ERR_ARG, "%s: bad buffers", what);
    return VIDI_OK;
}

void sampler_ddpm_coefs(const vidi_diffusion *d, int t, vidi_sampler_step *s) {
    s->kind = VIDI_STEP_DDPM;
    s->ra = d->sqrt_recip_alphas_cumprod[t], s->rm1 = d->sqrt_recipm1_alphas_cumprod[t];
    s->c1 = d->posterior_mean_coef1[t], s->c2 = d->posterior_mean_coef2[t];
    s->min_log = d->posterior_log_variance_clipped[t], s->max_log = log(d->betas[t]);
}

void sampler_ddim_coefs(const vidi_diffusion *d, int t, float eta, vidi_sampler_step *s) {
    double ab = d->alphas_cumprod[t], abp = d->alphas_cumprod_prev[t];
    s->kind = VIDI_STEP_DDIM;
    s->sigma = eta * sqrt((1.0 - abp) / (1.0 - ab)) * sqrt(1.0 - ab / abp);
    s->ra = d->sqrt_recip_alphas_cumprod[t], s->rm1 = d->sqrt_recipm1_alphas_cumprod[t];
    s->dir = sqrt(fmax(1.0 - abp - s->sigma * s->sigma, 0.0)), s->sab = sqrt(abp);
}

vidi_status sampler_dpmpp_coefs(double abar_s1, double abar_s0, double abar_t, int second_order,
                                vidi_sampler_step *s) {
    s->kind = VIDI_STEP_DPMPP_2M;
    if (!(abar_s0 > 0.0 && abar_s0 < 1.0) || !(abar_t > 0.0 && abar_t <= 1.0) || !(abar_t > abar_s0))
        return vidi_set_error(VIDI_ERR_ARG, "dpm++ step: alphas_cumprod %g -> %g must increase within (0, 1]", abar_s0, abar_t);
    if (abar_t >= 1.0) { /* sigma_t = 0: the step lands on the data prediction */
        s->to_data = 1;
        return VIDI_OK;
    }
    double alpha_t = sqrt(abar_t), sigma_t = sqrt(1.0 - abar_t), sigma_s0 = sqrt(1.0 - abar_s0);
    double lam_t = 0.5 * log(abar_t / (1.0 - abar_t)), lam_s0 = 0.5 * log(abar_s0 / (1.0 - abar_s0));
    double h = lam_t - lam_s0, em1 = expm1(-h);
    s->ratio = sigma_t / sigma_s0;
    s->c_x0 = alpha_t * em1;
    if (!second_order) return VIDI_OK;
    if (!(abar_s1 > 0.0 && abar_s1 < abar_s0))
        return vidi_set_error(VIDI_ERR_ARG, "dpm++ step: previous alphas_cumprod %g must be below %g", abar_s1, abar_s0);
    double lam_s1 = 0.5 * log(abar_s1 / (1.0 - abar_s1));
    s->r0 = (lam_s0 - lam_s1) / h;
    s->c_d1 = 0.5 * alpha_t * em1;
    return VIDI_OK;
}

vidi_status vidi_diffusion_ddpm_step(const vidi_diffusion *d, int t, const float *xt, const float *eps, const float *v,
                                     int clip, const float *noise, float *out, int64_t n) {
    vidi_status st = check_step(d, t, "ddpm step", n, xt, eps, out);
    if (st) return st;
    if (t > 0 && n && !noise) return vidi_set_error(VIDI_ERR_ARG, "ddpm step: noise required at t > 0");
    vidi_sampler_step s = {.out = out, .xt = xt, .eps = eps, .v = v, .clip = clip, .noise = t > 0 ? noise : NULL};
    sampler_ddpm_coefs(d, t, &s);
    return vidi_ref_sampler_step(NULL, &s, n);
}

vidi_status vidi_diffusion_ddim_step(const vidi_diffusion *d, int t, const float *xt, const float *eps, float eta,
                                     int clip, const float *noise, float *out, int64_t n) {
    vidi_status st = check_step(d, t, "ddim step", n, xt, eps, out);
    if (st) return st;
    if (!(eta >= 0.0f)) return vidi_set_error(VIDI_ERR_ARG, "ddim step: eta %g must be >= 0", (double)eta);
    vidi_sampler_step s = {.out = out, .xt = xt, .eps = eps, .clip = clip};
    sampler_ddim_coefs(d, t, eta, &s);
    if (s.sigma > 0.0 && n && !noise) return vidi_set_error(VIDI_ERR_ARG, "ddim step: noise required when eta > 0");
    if (t > 0 && s.sigma > 0.0) s.noise = noise;
    return vidi_ref_sampler_step(NULL, &s, n);
}

vidi_status vidi_dpmpp_2m_step(double abar_s1, double abar_s0, double abar_t, const float *xt, const float *x0,
                               const float *x0_prev, float *out, int64_t n) {
    if (n < 0 || (n && (!xt || !x0 || !out))) return vidi_set_error(VIDI_ERR_ARG, "dpm++ step: bad buffers");
    vidi_sampler_step s = {.out = out, .xt = xt, .x0_in = x0};
    vidi_status st = sampler_dpmpp_coefs(abar_s1, abar_s0, abar_t, x0_prev != NULL, &s);
    if (st) return st;
    if (!s.to_data) s.x0_prev = x0_prev;
    return vidi_ref_sampler_step(NULL, &s, n);
}

/* ---- names and parameters ---- */

vidi_status vidi_sampler_parse(const char *name, vidi_sampler_kind *out) {
    if (name && !strcmp(name, "ddpm")) return *out = VIDI_SAMPLER_DDPM, VIDI_OK;
    if (name && !strcmp(name, "ddim")) return *out = VIDI_SAMPLER_DDIM, VIDI_OK;
    if (name && (!strcmp(name, "dpm++") || !strcmp(name, "dpmpp") || !strcmp(name, "dpm++2m")))
        return *out = VIDI_SAMPLER_DPMPP_2M, VIDI_OK;
    return vidi_set_error(VIDI_ERR_ARG, "sampler '%s': unknown (expected ddpm, ddim or dpm++)", name ? name : "(null)");
}

const char *vidi_sampler_name(vidi_sampler_kind k) {
    return k == VIDI_SAMPLER_DDIM ? "ddim" : k == VIDI_SAMPLER_DPMPP_2M ? "dpm++" : "ddpm";
}

vidi_sample_params vidi_sample_default_params(void) {
    vidi_sample_params p;
    memset(&p, 0, sizeof p);
    p.sampler = VIDI_SAMPLER_DDPM;
    p.steps = 50;
    p.guidance = 1.0f;
    p.known_guidance = 1.0f;
    p.label = -1;
    p.clip = 1;
    return p;
}

vidi_status vidi_sampler_process(const vidi_diffusion *base, const vidi_sample_params *p, vidi_diffusion **out) {
    if (!base || !p || !out) return vidi_set_error(VIDI_ERR_ARG, "sampler: NULL argument");
    *out = NULL;
    int T = base->num_timesteps;
    if (p->steps < 1 || p->steps > T)
        return vidi_set_error(VIDI_ERR_ARG, "steps %d: must be 1..%d (the model's diffusion steps)", p->steps, T);
    char spec[32];
    snprintf(spec, sizeof spec, "ddim%d", p->steps);
    int *keep = malloc(sizeof(int) * (size_t)T), n = 0;
    if (!keep) return vidi_set_error(VIDI_ERR_NOMEM, "sampler: out of memory");
    /* An even stride when one gives exactly `steps` (what DDIM and diffusers
     * use), else improved-diffusion's evenly rounded spacing. */
    if (vidi_space_timesteps(T, spec, keep, &n) != VIDI_OK) snprintf(spec, sizeof spec, "%d", p->steps);
    free(keep);
    return vidi_diffusion_respace(base, spec, out);
}

vidi_status vidi_dpmpp_timesteps(int T, int N, int *ts) {
    if (T < 1 || N < 1 || N > T || !ts) return vidi_set_error(VIDI_ERR_ARG, "dpm++: %d steps of %d", N, T);
    /* numpy's linspace multiplies the step, then rounds half to even. */
    double step = (double)(T - 1) / N;
    for (int k = 0; k < N; k++) ts[k] = (int)rint((N - k) * step);
    for (int k = 1; k < N; k++)
        if (ts[k] >= ts[k - 1]) return vidi_set_error(VIDI_ERR_ARG, "dpm++: %d steps do not fit %d timesteps", N, T);
    return VIDI_OK;
}
