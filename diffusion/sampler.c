/* Sampler steps (DDPM, DDIM, DPM-Solver++ 2M), classifier-free guidance and
 * the sampling loop. Formulas: improved-diffusion gaussian_diffusion.py
 * (p_sample, ddim_sample) and diffusers' DPMSolverMultistepScheduler
 * (dpmsolver++, midpoint). Arithmetic in double, stored as float. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidi/diffusion.h"

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

/* ---- single steps ---- */

static vidi_status check_step(const vidi_diffusion *d, int t, const char *what, int64_t n, const void *a, const void *b,
                              const void *c) {
    if (!d) return vidi_set_error(VIDI_ERR_ARG, "%s: NULL process", what);
    if (t < 0 || t >= d->num_timesteps)
        return vidi_set_error(VIDI_ERR_ARG, "%s: timestep %d outside 0..%d", what, t, d->num_timesteps - 1);
    if (n < 0 || (n && (!a || !b || !c))) return vidi_set_error(VIDI_ERR_ARG, "%s: bad buffers", what);
    return VIDI_OK;
}

vidi_status vidi_diffusion_ddpm_step(const vidi_diffusion *d, int t, const float *xt, const float *eps, const float *v,
                                     int clip, const float *noise, float *out, int64_t n) {
    vidi_status st = check_step(d, t, "ddpm step", n, xt, eps, out);
    if (st) return st;
    if (t > 0 && n && !noise) return vidi_set_error(VIDI_ERR_ARG, "ddpm step: noise required at t > 0");
    double ra = d->sqrt_recip_alphas_cumprod[t], rm1 = d->sqrt_recipm1_alphas_cumprod[t];
    double c1 = d->posterior_mean_coef1[t], c2 = d->posterior_mean_coef2[t];
    double min_log = d->posterior_log_variance_clipped[t], max_log = log(d->betas[t]);
    for (int64_t i = 0; i < n; i++) {
        double x0 = ra * xt[i] - rm1 * eps[i];
        if (clip) x0 = x0 < -1.0 ? -1.0 : x0 > 1.0 ? 1.0 : x0;
        double mean = c1 * x0 + c2 * xt[i];
        if (t > 0) {
            double frac = v ? (v[i] + 1.0) / 2.0 : 0.0;
            double log_var = frac * max_log + (1.0 - frac) * min_log;
            mean += exp(0.5 * log_var) * noise[i];
        }
        out[i] = (float)mean;
    }
    return VIDI_OK;
}

vidi_status vidi_diffusion_ddim_step(const vidi_diffusion *d, int t, const float *xt, const float *eps, float eta,
                                     int clip, const float *noise, float *out, int64_t n) {
    vidi_status st = check_step(d, t, "ddim step", n, xt, eps, out);
    if (st) return st;
    if (!(eta >= 0.0f)) return vidi_set_error(VIDI_ERR_ARG, "ddim step: eta %g must be >= 0", (double)eta);
    double ab = d->alphas_cumprod[t], abp = d->alphas_cumprod_prev[t];
    double sigma = eta * sqrt((1.0 - abp) / (1.0 - ab)) * sqrt(1.0 - ab / abp);
    if (sigma > 0.0 && n && !noise) return vidi_set_error(VIDI_ERR_ARG, "ddim step: noise required when eta > 0");
    double ra = d->sqrt_recip_alphas_cumprod[t], rm1 = d->sqrt_recipm1_alphas_cumprod[t];
    double dir = sqrt(fmax(1.0 - abp - sigma * sigma, 0.0)), sab = sqrt(abp);
    for (int64_t i = 0; i < n; i++) {
        double x0 = ra * xt[i] - rm1 * eps[i];
        if (clip) x0 = x0 < -1.0 ? -1.0 : x0 > 1.0 ? 1.0 : x0;
        double e = (ra * xt[i] - x0) / rm1; /* eps consistent with the clipped x0 */
        double x = x0 * sab + dir * e;
        if (t > 0 && sigma > 0.0) x += sigma * noise[i];
        out[i] = (float)x;
    }
    return VIDI_OK;
}

vidi_status vidi_dpmpp_2m_step(double abar_s1, double abar_s0, double abar_t, const float *xt, const float *x0,
                               const float *x0_prev, float *out, int64_t n) {
    if (n < 0 || (n && (!xt || !x0 || !out))) return vidi_set_error(VIDI_ERR_ARG, "dpm++ step: bad buffers");
    if (!(abar_s0 > 0.0 && abar_s0 < 1.0) || !(abar_t > 0.0 && abar_t <= 1.0) || !(abar_t > abar_s0))
        return vidi_set_error(VIDI_ERR_ARG, "dpm++ step: alphas_cumprod %g -> %g must increase within (0, 1]", abar_s0, abar_t);
    if (abar_t >= 1.0) { /* sigma_t = 0: the step lands on the data prediction */
        for (int64_t i = 0; i < n; i++) out[i] = x0[i];
        return VIDI_OK;
    }
    double alpha_t = sqrt(abar_t), sigma_t = sqrt(1.0 - abar_t), sigma_s0 = sqrt(1.0 - abar_s0);
    double lam_t = 0.5 * log(abar_t / (1.0 - abar_t)), lam_s0 = 0.5 * log(abar_s0 / (1.0 - abar_s0));
    double h = lam_t - lam_s0, em1 = expm1(-h), ratio = sigma_t / sigma_s0;
    if (!x0_prev) {
        for (int64_t i = 0; i < n; i++) out[i] = (float)(ratio * xt[i] - alpha_t * em1 * x0[i]);
        return VIDI_OK;
    }
    if (!(abar_s1 > 0.0 && abar_s1 < abar_s0))
        return vidi_set_error(VIDI_ERR_ARG, "dpm++ step: previous alphas_cumprod %g must be below %g", abar_s1, abar_s0);
    double lam_s1 = 0.5 * log(abar_s1 / (1.0 - abar_s1));
    double r0 = (lam_s0 - lam_s1) / h;
    for (int64_t i = 0; i < n; i++) {
        double d1 = (x0[i] - (double)x0_prev[i]) / r0;
        out[i] = (float)(ratio * xt[i] - alpha_t * em1 * x0[i] - 0.5 * alpha_t * em1 * d1);
    }
    return VIDI_OK;
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

/* ---- the loop ---- */

typedef struct sample_state {
    const vidi_sample_params *p;
    vidi_denoise_fn fn;
    void *user;
    float *eps, *v, *eps_u, *noise, *x0, *x0_prev;
} sample_state;

/* eps (and v) at model timestep t, with guidance when asked. */
static vidi_status model_eps(sample_state *s, const float *x, int t, int want_v, int64_t n) {
    const vidi_sample_params *p = s->p;
    vidi_status st = s->fn(s->user, x, t, p->label, s->eps, want_v ? s->v : NULL, n);
    if (st != VIDI_OK || p->label < 0 || p->guidance == 1.0f) return st;
    if ((st = s->fn(s->user, x, t, -1, s->eps_u, NULL, n)) != VIDI_OK) return st;
    double g = p->guidance;
    for (int64_t i = 0; i < n; i++) s->eps[i] = (float)(s->eps_u[i] + g * ((double)s->eps[i] - s->eps_u[i]));
    return VIDI_OK;
}

static vidi_status after(const vidi_sample_params *p, float *x, int64_t n, double abar, int step) {
    return p->after_step ? p->after_step(p->after_step_user, x, n, abar, step) : VIDI_OK;
}

/* DDPM and DDIM over the respaced process d, from its last step down. */
static vidi_status run_respaced(const vidi_diffusion *d, sample_state *s, float *x, int64_t n) {
    const vidi_sample_params *p = s->p;
    int T = d->num_timesteps, want_v = p->sampler == VIDI_SAMPLER_DDPM && p->learned_sigma;
    vidi_status st = after(p, x, n, d->alphas_cumprod[T - 1], 0);
    for (int i = T - 1; i >= 0 && st == VIDI_OK; i--) {
        if ((st = model_eps(s, x, d->timestep_map[i], want_v, n)) != VIDI_OK) return st;
        uint64_t stream = 1 + (uint64_t)(T - 1 - i);
        if (p->sampler == VIDI_SAMPLER_DDPM) {
            if (i > 0) vidi_randn(p->seed, stream, s->noise, n);
            st = vidi_diffusion_ddpm_step(d, i, x, s->eps, want_v ? s->v : NULL, p->clip, s->noise, x, n);
        } else {
            if (i > 0 && p->eta > 0.0f) vidi_randn(p->seed, stream, s->noise, n);
            st = vidi_diffusion_ddim_step(d, i, x, s->eps, p->eta, p->clip, s->noise, x, n);
        }
        if (st == VIDI_OK) st = after(p, x, n, i > 0 ? d->alphas_cumprod[i - 1] : 1.0, T - i);
        if (st == VIDI_OK && p->progress) p->progress(p->progress_user, T - i, T);
    }
    return st;
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

static vidi_status run_dpmpp(const vidi_diffusion *base, sample_state *s, float *x, int64_t n) {
    const vidi_sample_params *p = s->p;
    int N = p->steps, *ts = malloc(sizeof(int) * (size_t)N);
    if (!ts) return vidi_set_error(VIDI_ERR_NOMEM, "dpm++: out of memory");
    vidi_status st = vidi_dpmpp_timesteps(base->num_timesteps, N, ts);
    if (st == VIDI_OK) st = after(p, x, n, base->alphas_cumprod[ts[0]], 0);
    for (int k = 0; k < N && st == VIDI_OK; k++) {
        int t = ts[k];
        if ((st = model_eps(s, x, t, 0, n)) != VIDI_OK) break;
        double ra = base->sqrt_recip_alphas_cumprod[t], rm1 = base->sqrt_recipm1_alphas_cumprod[t];
        for (int64_t j = 0; j < n; j++) {
            double x0 = ra * x[j] - rm1 * s->eps[j];
            if (p->clip) x0 = x0 < -1.0 ? -1.0 : x0 > 1.0 ? 1.0 : x0;
            s->x0[j] = (float)x0;
        }
        double ab_t = k + 1 < N ? base->alphas_cumprod[ts[k + 1]] : 1.0;
        double ab_s1 = k > 0 ? base->alphas_cumprod[ts[k - 1]] : 0.0;
        st = vidi_dpmpp_2m_step(ab_s1, base->alphas_cumprod[t], ab_t, x, s->x0, k > 0 ? s->x0_prev : NULL, x, n);
        float *tmp = s->x0_prev;
        s->x0_prev = s->x0, s->x0 = tmp;
        if (st == VIDI_OK) st = after(p, x, n, ab_t, k + 1);
        if (st == VIDI_OK && p->progress) p->progress(p->progress_user, k + 1, N);
    }
    free(ts);
    return st;
}

vidi_status vidi_diffusion_sample(const vidi_diffusion *base, const vidi_sample_params *p, vidi_denoise_fn fn,
                                  void *user, float *x, int64_t n) {
    if (!base || !p || !fn || !x || n <= 0) return vidi_set_error(VIDI_ERR_ARG, "sample: NULL argument or empty sample");
    if (!(p->guidance >= 0.0f) || !isfinite(p->guidance))
        return vidi_set_error(VIDI_ERR_ARG, "guidance %g: must be a finite number >= 0", (double)p->guidance);
    vidi_diffusion *d = NULL;
    vidi_status st = vidi_sampler_process(base, p, &d);
    if (st != VIDI_OK) return st;
    float *blk = malloc(sizeof(float) * (size_t)n * 6);
    if (!blk) return vidi_diffusion_free(d), vidi_set_error(VIDI_ERR_NOMEM, "sample: out of memory for %lld floats", (long long)n);
    sample_state s = {.p = p, .fn = fn, .user = user, .eps = blk, .v = blk + n, .eps_u = blk + 2 * n,
                      .noise = blk + 3 * n, .x0 = blk + 4 * n, .x0_prev = blk + 5 * n};
    vidi_randn(p->seed, 0, x, n);
    st = p->sampler == VIDI_SAMPLER_DPMPP_2M ? run_dpmpp(base, &s, x, n) : run_respaced(d, &s, x, n);
    free(blk);
    vidi_diffusion_free(d);
    return st;
}
