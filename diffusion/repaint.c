/* RePaint (Lugmayr et al. 2022) over any denoiser: ancestral DDPM on the
 * respaced process; after every step the known elements are replaced by the
 * known values noised to the new level, and each step is resampled
 * `resample` times (x_{t-1} noised back to level t and stepped again), which
 * lets the unknown region agree with the known one. */
#include <math.h>
#include <stdlib.h>

#include "vidi/diffusion.h"

/* Noise streams apart from the sampler's (0: x_T, 1..: steps). */
#define STREAM_STEP (1ull << 20)
#define STREAM_REPLACE (1ull << 30)

void vidi_diffusion_replace_known(const float *known, const float *mask, float *x, float *noise, int64_t n,
                                  double abar, uint64_t seed, uint64_t stream) {
    double a = sqrt(fmin(fmax(abar, 0.0), 1.0)), s = sqrt(fmax(1.0 - abar, 0.0));
    if (s > 0) vidi_randn(seed, stream, noise, n);
    for (int64_t i = 0; i < n; i++)
        if (mask[i] > 0.5f) x[i] = (float)(a * known[i] + (s > 0 ? s * noise[i] : 0.0));
}

vidi_status vidi_diffusion_repaint(const vidi_diffusion *base, const vidi_sample_params *p, vidi_denoise_fn fn,
                                   void *user, const float *known, const float *mask, int resample, float *x,
                                   int64_t n) {
    if (!base || !p || !fn || !known || !mask || !x || n <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "repaint: NULL argument or empty sample");
    if (resample < 1 || resample > 100) return vidi_set_error(VIDI_ERR_ARG, "repaint resampling %d: must be 1..100", resample);
    vidi_sample_params q = *p;
    q.sampler = VIDI_SAMPLER_DDPM;
    vidi_diffusion *d = NULL;
    vidi_status st = vidi_sampler_process(base, &q, &d);
    if (st != VIDI_OK) return st;
    float *blk = malloc(sizeof(float) * (size_t)n * 4);
    if (!blk) return vidi_diffusion_free(d), vidi_set_error(VIDI_ERR_NOMEM, "repaint: out of memory");
    float *eps = blk, *v = blk + n, *eps_u = blk + 2 * n, *noise = blk + 3 * n;
    int T = d->num_timesteps, guided = p->label >= 0 && p->guidance != 1.0f;
    uint64_t stream = STREAM_STEP, rstream = STREAM_REPLACE;
    vidi_randn(p->seed, 0, x, n);
    vidi_diffusion_replace_known(known, mask, x, noise, n, d->alphas_cumprod[T - 1], p->seed, rstream++);
    for (int i = T - 1; i >= 0 && st == VIDI_OK; i--) {
        for (int k = 0; k < resample && st == VIDI_OK; k++) {
            const float *vv = p->learned_sigma ? v : NULL;
            if ((st = fn(user, x, d->timestep_map[i], p->label, eps, p->learned_sigma ? v : NULL, n))) break;
            if (guided) {
                if ((st = fn(user, x, d->timestep_map[i], -1, eps_u, NULL, n))) break;
                for (int64_t j = 0; j < n; j++) eps[j] = (float)(eps_u[j] + p->guidance * ((double)eps[j] - eps_u[j]));
            }
            if (i > 0) vidi_randn(p->seed, stream++, noise, n);
            if ((st = vidi_diffusion_ddpm_step(d, i, x, eps, vv, p->clip, noise, x, n))) break;
            vidi_diffusion_replace_known(known, mask, x, noise, n, i > 0 ? d->alphas_cumprod[i - 1] : 1.0, p->seed, rstream++);
            /* Back to level i: q(x_i | x_{i-1}) = N(sqrt(1 - beta_i) x, beta_i). */
            if (k + 1 < resample && i > 0) {
                double a = sqrt(1.0 - d->betas[i]), s = sqrt(d->betas[i]);
                vidi_randn(p->seed, stream++, noise, n);
                for (int64_t j = 0; j < n; j++) x[j] = (float)(a * x[j] + s * noise[j]);
            }
        }
        if (st == VIDI_OK && p->progress) p->progress(p->progress_user, T - i, T);
    }
    free(blk);
    vidi_diffusion_free(d);
    return st;
}
