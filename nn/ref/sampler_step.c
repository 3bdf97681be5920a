/* Reference sampler step (vidi_sampler_step in ops.h): the per-element
 * formulas of improved-diffusion's p_sample / ddim_sample and diffusers'
 * DPM-Solver++(2M), in double, stored as float. vidi_diffusion_*_step
 * (diffusion/sampler.c) are this op with coefficients from the tables, so the
 * golden tests against improved-diffusion and diffusers check this code; the
 * cpu tier runs it on slices of the span. */
#include <math.h>

#include "nn/ref/ops_check.h"

static double clamp1(double x) { return x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x; }

/* The model's eps, guided (and rounded to float, as it would be stored). */
static float model_eps(const vidi_sampler_step *s, int64_t i) {
    if (!s->eps_uncond) return s->eps[i];
    return (float)(s->eps_uncond[i] + s->guidance * ((double)s->eps[i] - s->eps_uncond[i]));
}

static double pred_x0(const vidi_sampler_step *s, double x, float e) {
    double x0 = s->ra * x - s->rm1 * e;
    return s->clip ? clamp1(x0) : x0;
}

static float ddpm(const vidi_sampler_step *s, int64_t i) {
    double x = s->xt[i], x0 = pred_x0(s, x, model_eps(s, i));
    double mean = s->c1 * x0 + s->c2 * x;
    if (s->noise) {
        double frac = s->v ? (s->v[i] + 1.0) / 2.0 : 0.0;
        double log_var = frac * s->max_log + (1.0 - frac) * s->min_log;
        mean += exp(0.5 * log_var) * s->noise[i];
    }
    return (float)mean;
}

static float ddim(const vidi_sampler_step *s, int64_t i) {
    double x = s->xt[i], x0 = pred_x0(s, x, model_eps(s, i));
    double e = (s->ra * x - x0) / s->rm1; /* eps consistent with the clipped x0 */
    double r = x0 * s->sab + s->dir * e;
    if (s->noise) r += s->sigma * s->noise[i];
    return (float)r;
}

static float dpmpp(const vidi_sampler_step *s, int64_t i) {
    double x = s->xt[i];
    float x0 = s->eps ? (float)pred_x0(s, x, model_eps(s, i)) : s->x0_in[i];
    if (s->eps && s->x0_out) s->x0_out[i] = x0;
    if (s->to_data) return x0;
    if (!s->x0_prev) return (float)(s->ratio * x - s->c_x0 * x0);
    double d1 = (x0 - (double)s->x0_prev[i]) / s->r0;
    return (float)(s->ratio * x - s->c_x0 * x0 - s->c_d1 * d1);
}

vidi_status vidi_ref_sampler_step(vidi_be *be, const vidi_sampler_step *s, int64_t n) {
    (void)be;
    vidi_status st = vidi_check_sampler_step(s, n);
    if (st != VIDI_OK) return st;
    for (int64_t i = 0; i < n; i++) {
        s->out[i] = s->kind == VIDI_STEP_DDPM ? ddpm(s, i) : s->kind == VIDI_STEP_DDIM ? ddim(s, i) : dpmpp(s, i);
        /* vidi_diffusion_replace_known's arithmetic, so both give the same bytes */
        if (s->known && s->known_mask[i] > 0.5f)
            s->out[i] = (float)(s->known_a * s->known[i] + (s->known_noise ? s->known_s * s->known_noise[i] : 0.0));
    }
    return VIDI_OK;
}
