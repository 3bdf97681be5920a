/* Beta schedules, the process tables and respacing (improved-diffusion's
 * gaussian_diffusion.py and respace.py, in double precision). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidi/diffusion.h"

#define MAX_T 100000

vidi_status vidi_beta_schedule_parse(const char *name, vidi_beta_schedule *out) {
    if (name && !strcmp(name, "linear")) return *out = VIDI_SCHEDULE_LINEAR, VIDI_OK;
    if (name && !strcmp(name, "cosine")) return *out = VIDI_SCHEDULE_COSINE, VIDI_OK;
    return vidi_set_error(VIDI_ERR_ARG, "noise schedule '%s': unknown (expected linear or cosine)", name ? name : "(null)");
}

const char *vidi_beta_schedule_name(vidi_beta_schedule s) { return s == VIDI_SCHEDULE_COSINE ? "cosine" : "linear"; }

static double cosine_alpha_bar(double t) {
    double c = cos((t + 0.008) / 1.008 * M_PI / 2.0);
    return c * c;
}

vidi_status vidi_beta_schedule_betas(vidi_beta_schedule s, int T, double *betas) {
    if (T < 1 || T > MAX_T) return vidi_set_error(VIDI_ERR_ARG, "diffusion steps %d: must be 1..%d", T, MAX_T);
    if (!betas) return vidi_set_error(VIDI_ERR_ARG, "beta schedule: NULL output");
    if (s == VIDI_SCHEDULE_LINEAR) {
        /* Ho et al.'s 1e-4..0.02 for T = 1000, scaled so other T keep the same total noise. */
        double scale = 1000.0 / T, lo = scale * 0.0001, hi = scale * 0.02;
        for (int i = 0; i < T; i++) betas[i] = T == 1 ? lo : lo + (hi - lo) * (double)i / (double)(T - 1);
        if (hi >= 1.0) return vidi_set_error(VIDI_ERR_ARG, "linear schedule with %d steps: beta %.3g >= 1 (use T >= 21)", T, hi);
        return VIDI_OK;
    }
    if (s == VIDI_SCHEDULE_COSINE) {
        for (int i = 0; i < T; i++) {
            double b = 1.0 - cosine_alpha_bar((double)(i + 1) / T) / cosine_alpha_bar((double)i / T);
            betas[i] = b < 0.999 ? b : 0.999;
        }
        return VIDI_OK;
    }
    return vidi_set_error(VIDI_ERR_ARG, "beta schedule %d: unknown", (int)s);
}

void vidi_diffusion_free(vidi_diffusion *d) {
    if (!d) return;
    /* All tables live in one block after timestep_map (see alloc_process). */
    free(d->timestep_map);
    free(d->betas);
    free(d);
}

static vidi_diffusion *alloc_process(int T) {
    vidi_diffusion *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->num_timesteps = T;
    d->timestep_map = calloc((size_t)T, sizeof(int));
    double *blk = calloc((size_t)T * 12, sizeof(double));
    if (!d->timestep_map || !blk) {
        free(d->timestep_map);
        free(blk);
        free(d);
        return NULL;
    }
    double **tabs[12] = {&d->betas, &d->alphas_cumprod, &d->alphas_cumprod_prev, &d->sqrt_alphas_cumprod,
                         &d->sqrt_one_minus_alphas_cumprod, &d->log_one_minus_alphas_cumprod,
                         &d->sqrt_recip_alphas_cumprod, &d->sqrt_recipm1_alphas_cumprod, &d->posterior_variance,
                         &d->posterior_log_variance_clipped, &d->posterior_mean_coef1, &d->posterior_mean_coef2};
    for (int i = 0; i < 12; i++) *tabs[i] = blk + (size_t)i * T;
    return d;
}

/* The tables of GaussianDiffusion.__init__, term by term. */
static void fill_tables(vidi_diffusion *d) {
    int T = d->num_timesteps;
    double ac = 1.0;
    for (int t = 0; t < T; t++) {
        double b = d->betas[t];
        d->alphas_cumprod_prev[t] = ac;
        ac *= 1.0 - b;
        d->alphas_cumprod[t] = ac;
        d->sqrt_alphas_cumprod[t] = sqrt(ac);
        d->sqrt_one_minus_alphas_cumprod[t] = sqrt(1.0 - ac);
        d->log_one_minus_alphas_cumprod[t] = log(1.0 - ac);
        d->sqrt_recip_alphas_cumprod[t] = sqrt(1.0 / ac);
        d->sqrt_recipm1_alphas_cumprod[t] = sqrt(1.0 / ac - 1.0);
        double prev = d->alphas_cumprod_prev[t];
        d->posterior_variance[t] = b * (1.0 - prev) / (1.0 - ac);
        d->posterior_mean_coef1[t] = b * sqrt(prev) / (1.0 - ac);
        d->posterior_mean_coef2[t] = (1.0 - prev) * sqrt(1.0 - b) / (1.0 - ac);
    }
    /* beta~_0 is 0: its log is clipped to beta~_1 (the first step adds no noise anyway). */
    for (int t = 0; t < T; t++) {
        double v = (t == 0 && T > 1) ? d->posterior_variance[1] : d->posterior_variance[t];
        d->posterior_log_variance_clipped[t] = T == 1 && v <= 0.0 ? log(d->betas[0]) : log(v);
    }
}

vidi_status vidi_diffusion_create(const double *betas, int T, vidi_diffusion **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "diffusion: NULL output");
    *out = NULL;
    if (!betas || T < 1 || T > MAX_T) return vidi_set_error(VIDI_ERR_ARG, "diffusion: %d steps (must be 1..%d)", T, MAX_T);
    for (int t = 0; t < T; t++)
        if (!(betas[t] > 0.0 && betas[t] <= 0.999))
            return vidi_set_error(VIDI_ERR_ARG, "diffusion: beta[%d] = %g outside (0, 0.999]", t, betas[t]);
    vidi_diffusion *d = alloc_process(T);
    if (!d) return vidi_set_error(VIDI_ERR_NOMEM, "diffusion: out of memory for %d steps", T);
    for (int t = 0; t < T; t++) d->betas[t] = betas[t], d->timestep_map[t] = t;
    fill_tables(d);
    *out = d;
    return VIDI_OK;
}

vidi_status vidi_diffusion_create_named(vidi_beta_schedule s, int T, vidi_diffusion **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "diffusion: NULL output");
    *out = NULL;
    if (T < 1 || T > MAX_T) return vidi_set_error(VIDI_ERR_ARG, "diffusion steps %d: must be 1..%d", T, MAX_T);
    double *b = malloc(sizeof(double) * (size_t)T);
    if (!b) return vidi_set_error(VIDI_ERR_NOMEM, "diffusion: out of memory");
    vidi_status st = vidi_beta_schedule_betas(s, T, b);
    if (st == VIDI_OK) st = vidi_diffusion_create(b, T, out);
    free(b);
    return st;
}

/* improved-diffusion respace.py space_timesteps, including its rounding. */
vidi_status vidi_space_timesteps(int T, const char *spec, int *keep, int *n) {
    if (!spec || !keep || !n) return vidi_set_error(VIDI_ERR_ARG, "space_timesteps: NULL argument");
    if (T < 1) return vidi_set_error(VIDI_ERR_ARG, "space_timesteps: %d steps", T);
    *n = 0;
    if (!strncmp(spec, "ddim", 4)) {
        char *end;
        long want = strtol(spec + 4, &end, 10);
        if (end == spec + 4 || *end || want < 1)
            return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '%s': expected ddimN with N >= 1", spec);
        for (int stride = 1; stride < T; stride++)
            if ((T + stride - 1) / stride == want) {
                for (int t = 0; t < T; t += stride) keep[(*n)++] = t;
                return VIDI_OK;
            }
        if (want == 1 && T == 1) return keep[(*n)++] = 0, VIDI_OK;
        return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '%s': cannot create exactly %ld steps with an integer stride over %d",
                              spec, want, T);
    }
    int counts[64], sections = 0;
    const char *p = spec;
    while (*p) {
        char *end;
        long c = strtol(p, &end, 10);
        if (end == p || c < 0 || c > T || sections == 64)
            return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '%s': expected ddimN or comma-separated counts", spec);
        counts[sections++] = (int)c;
        p = end;
        if (*p == ',') p++;
        else if (*p) return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '%s': expected ddimN or comma-separated counts", spec);
    }
    if (!sections) return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '': empty");
    int size_per = T / sections, extra = T % sections, start = 0, total = 0;
    for (int i = 0; i < sections; i++) {
        int size = size_per + (i < extra ? 1 : 0);
        int c = counts[i];
        if (size < c) return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '%s': cannot divide section of %d steps into %d", spec, size, c);
        double frac = c <= 1 ? 1.0 : (double)(size - 1) / (double)(c - 1);
        double cur = 0.0;
        for (int j = 0; j < c; j++) {
            keep[(*n)++] = start + (int)rint(cur); /* Python's round(): half to even */
            cur += frac;
        }
        start += size;
        total += c;
    }
    if (total == 0) return vidi_set_error(VIDI_ERR_ARG, "timestep spacing '%s': 0 steps", spec);
    return VIDI_OK;
}

vidi_status vidi_diffusion_respace(const vidi_diffusion *base, const char *spec, vidi_diffusion **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "respace: NULL output");
    *out = NULL;
    if (!base) return vidi_set_error(VIDI_ERR_ARG, "respace: NULL process");
    int T = base->num_timesteps, n = 0;
    int *keep = malloc(sizeof(int) * (size_t)T);
    if (!keep) return vidi_set_error(VIDI_ERR_NOMEM, "respace: out of memory");
    vidi_status st = vidi_space_timesteps(T, spec, keep, &n);
    if (st != VIDI_OK) return free(keep), st;
    vidi_diffusion *d = alloc_process(n);
    if (!d) return free(keep), vidi_set_error(VIDI_ERR_NOMEM, "respace: out of memory");
    /* keep[] is ascending and duplicate-free for every spec above, so the
     * walk over the base steps in respace.py reduces to this. */
    double last = 1.0;
    for (int i = 0; i < n; i++) {
        double ac = base->alphas_cumprod[keep[i]];
        d->betas[i] = 1.0 - ac / last;
        d->timestep_map[i] = keep[i];
        last = ac;
    }
    free(keep);
    fill_tables(d);
    *out = d;
    return VIDI_OK;
}

static vidi_status check_t(const vidi_diffusion *d, int t, const char *what) {
    if (!d) return vidi_set_error(VIDI_ERR_ARG, "%s: NULL process", what);
    if (t < 0 || t >= d->num_timesteps)
        return vidi_set_error(VIDI_ERR_ARG, "%s: timestep %d outside 0..%d", what, t, d->num_timesteps - 1);
    return VIDI_OK;
}

vidi_status vidi_diffusion_q_sample(const vidi_diffusion *d, int t, const float *x0, const float *noise, float *out,
                                    int64_t n) {
    vidi_status st = check_t(d, t, "q_sample");
    if (st) return st;
    if (n < 0 || (n && (!x0 || !noise || !out))) return vidi_set_error(VIDI_ERR_ARG, "q_sample: bad buffers");
    double a = d->sqrt_alphas_cumprod[t], s = d->sqrt_one_minus_alphas_cumprod[t];
    for (int64_t i = 0; i < n; i++) out[i] = (float)(a * x0[i] + s * noise[i]);
    return VIDI_OK;
}

vidi_status vidi_diffusion_q_posterior(const vidi_diffusion *d, int t, const float *x0, const float *xt, float *mean,
                                       int64_t n, double *var, double *log_var) {
    vidi_status st = check_t(d, t, "q_posterior");
    if (st) return st;
    if (n < 0 || (n && (!x0 || !xt || !mean))) return vidi_set_error(VIDI_ERR_ARG, "q_posterior: bad buffers");
    double c1 = d->posterior_mean_coef1[t], c2 = d->posterior_mean_coef2[t];
    for (int64_t i = 0; i < n; i++) mean[i] = (float)(c1 * x0[i] + c2 * xt[i]);
    if (var) *var = d->posterior_variance[t];
    if (log_var) *log_var = d->posterior_log_variance_clipped[t];
    return VIDI_OK;
}

vidi_status vidi_diffusion_p_mean_variance(const vidi_diffusion *d, int t, const float *xt, const float *eps,
                                           const float *v, int clip, float *mean, float *log_var, float *pred_x0,
                                           int64_t n) {
    vidi_status st = check_t(d, t, "p_mean_variance");
    if (st) return st;
    if (n < 0 || (n && (!xt || !eps || !mean))) return vidi_set_error(VIDI_ERR_ARG, "p_mean_variance: bad buffers");
    double ra = d->sqrt_recip_alphas_cumprod[t], rm1 = d->sqrt_recipm1_alphas_cumprod[t];
    double c1 = d->posterior_mean_coef1[t], c2 = d->posterior_mean_coef2[t];
    double min_log = d->posterior_log_variance_clipped[t], max_log = log(d->betas[t]);
    for (int64_t i = 0; i < n; i++) {
        double x0 = ra * xt[i] - rm1 * eps[i];
        if (clip) x0 = x0 < -1.0 ? -1.0 : x0 > 1.0 ? 1.0 : x0;
        if (pred_x0) pred_x0[i] = (float)x0;
        mean[i] = (float)(c1 * x0 + c2 * xt[i]);
        if (log_var) {
            double frac = v ? (v[i] + 1.0) / 2.0 : 0.0;
            log_var[i] = (float)(frac * max_log + (1.0 - frac) * min_log);
        }
    }
    return VIDI_OK;
}
