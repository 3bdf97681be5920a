/* Generation and in-painting with a denoiser: the model as the samplers'
 * vidi_denoise_fn, conditioned in-painting (known pixels + mask as model
 * inputs) and RePaint (replacement with resampling). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/denoiser_internal.h"

vidi_status vidi_inpaint_method_parse(const char *name, vidi_inpaint_method *out) {
    if (name && !strcmp(name, "conditioned")) return *out = VIDI_INPAINT_CONDITIONED, VIDI_OK;
    if (name && !strcmp(name, "repaint")) return *out = VIDI_INPAINT_REPAINT, VIDI_OK;
    return vidi_set_error(VIDI_ERR_ARG, "in-painting method '%s': unknown (expected conditioned or repaint)",
                          name ? name : "(null)");
}

typedef struct model_fn {
    vidi_denoiser *m;
    const float *known, *mask; /* model inputs (conditioned in-painting), or NULL */
} model_fn;

static vidi_status call_model(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    model_fn *f = user;
    const vidi_denoiser_config *c = &f->m->cfg;
    if (n != (int64_t)c->frames * c->channels * c->image_size * c->image_size)
        return vidi_set_error(VIDI_ERR_ARG, "denoiser: %lld values is not one clip", (long long)n);
    return vidi_denoiser_forward(f->m, xt, t, label, f->known, f->mask, eps, v, NULL, NULL);
}

typedef struct replace_state {
    const float *known, *mask; /* mask per pixel [T, H, W] */
    int channels;
    int64_t hw;
    uint64_t seed, stream;
    float *noise;
} replace_state;

/* x[known] = sqrt(abar) known + sqrt(1 - abar) noise (fresh noise per call). */
static void replace_known(replace_state *r, float *x, int64_t n, double abar) {
    double a = sqrt(abar), s = sqrt(fmax(1.0 - abar, 0.0));
    if (s > 0) vidi_randn(r->seed, r->stream++, r->noise, n);
    int64_t frame = (int64_t)r->channels * r->hw;
    for (int64_t i = 0; i < n; i++) {
        int64_t f = i / frame, px = i % r->hw;
        if (r->mask[f * r->hw + px] > 0.5f) x[i] = (float)(a * r->known[i] + (s > 0 ? s * r->noise[i] : 0.0));
    }
}

static vidi_status check_request(const vidi_denoiser *m, const vidi_sample_params *p, const float *known,
                                 const float *mask, vidi_inpaint_method method, int resample) {
    const vidi_denoiser_config *c = &m->cfg;
    if (p->guidance != 1.0f && c->num_classes == 0)
        return vidi_set_error(VIDI_ERR_ARG, "guidance %g needs a class-conditional model; this one has no classes",
                              (double)p->guidance);
    if (p->label >= c->num_classes)
        return vidi_set_error(VIDI_ERR_ARG, "label %d: the model has %d classes (0..%d)", p->label, c->num_classes,
                              c->num_classes - 1);
    if (!known != !mask) return vidi_set_error(VIDI_ERR_ARG, "in-painting needs both the known clip and the mask");
    if (!mask) return VIDI_OK;
    if (method == VIDI_INPAINT_CONDITIONED && !c->inpaint)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "this model was trained without in-painting masks; use --method repaint");
    if (method == VIDI_INPAINT_REPAINT && (resample < 1 || resample > 100))
        return vidi_set_error(VIDI_ERR_ARG, "repaint resampling %d: must be 1..100", resample);
    int64_t px = (int64_t)c->frames * c->image_size * c->image_size, unknown = 0;
    for (int64_t i = 0; i < px; i++) unknown += mask[i] < 0.5f;
    if (!unknown) return vidi_set_error(VIDI_ERR_ARG, "the mask leaves nothing to in-paint (every pixel is known)");
    return VIDI_OK;
}

/* RePaint on the respaced ancestral process. */
static vidi_status repaint(vidi_denoiser *m, const vidi_sample_params *p, model_fn *fn, replace_state *r, int resample,
                           float *x, int64_t n) {
    vidi_diffusion *base = NULL, *d = NULL;
    vidi_sample_params q = *p;
    q.sampler = VIDI_SAMPLER_DDPM;
    vidi_status st = vidi_denoiser_process(m, &base);
    if (st == VIDI_OK) st = vidi_sampler_process(base, &q, &d);
    float *blk = st == VIDI_OK ? malloc(sizeof(float) * (size_t)n * 4) : NULL;
    if (st == VIDI_OK && !blk) st = vidi_set_error(VIDI_ERR_NOMEM, "repaint: out of memory");
    if (st != VIDI_OK) goto out;
    float *eps = blk, *v = blk + n, *eps_u = blk + 2 * n, *noise = blk + 3 * n;
    int T = d->num_timesteps;
    uint64_t stream = 1u << 20; /* streams apart from replace_known's */
    vidi_randn(p->seed, 0, x, n);
    replace_known(r, x, n, d->alphas_cumprod[T - 1]);
    for (int i = T - 1; i >= 0 && st == VIDI_OK; i--) {
        for (int k = 0; k < resample && st == VIDI_OK; k++) {
            int want_v = m->cfg.learn_sigma;
            if ((st = call_model(fn, x, d->timestep_map[i], p->label, eps, want_v ? v : NULL, n))) break;
            if (p->label >= 0 && p->guidance != 1.0f) {
                if ((st = call_model(fn, x, d->timestep_map[i], -1, eps_u, NULL, n))) break;
                for (int64_t j = 0; j < n; j++) eps[j] = (float)(eps_u[j] + p->guidance * ((double)eps[j] - eps_u[j]));
            }
            if (i > 0) vidi_randn(p->seed, stream++, noise, n);
            if ((st = vidi_diffusion_ddpm_step(d, i, x, eps, want_v ? v : NULL, p->clip, noise, x, n))) break;
            replace_known(r, x, n, i > 0 ? d->alphas_cumprod[i - 1] : 1.0);
            /* Back to level i: q(x_i | x_{i-1}) = N(sqrt(1 - beta_i) x, beta_i). */
            if (k + 1 < resample && i > 0) {
                double a = sqrt(1.0 - d->betas[i]), s = sqrt(d->betas[i]);
                vidi_randn(p->seed, stream++, noise, n);
                for (int64_t j = 0; j < n; j++) x[j] = (float)(a * x[j] + s * noise[j]);
            }
        }
        if (st == VIDI_OK && p->progress) p->progress(p->progress_user, T - i, T);
    }
out:
    free(blk);
    vidi_diffusion_free(d);
    vidi_diffusion_free(base);
    return st;
}

vidi_status vidi_diffusion_generate(vidi_denoiser *m, const vidi_sample_params *p, const float *known,
                                    const float *mask, vidi_inpaint_method method, int resample, float *out) {
    if (!m || !p || !out) return vidi_set_error(VIDI_ERR_ARG, "vidi_diffusion_generate: model, params and out are required");
    vidi_status st = check_request(m, p, known, mask, method, resample);
    if (st != VIDI_OK) return st;
    const vidi_denoiser_config *c = &m->cfg;
    int64_t hw = (int64_t)c->image_size * c->image_size, n = (int64_t)c->frames * c->channels * hw;
    vidi_sample_params q = *p;
    q.learned_sigma = c->learn_sigma;
    model_fn fn = {.m = m};
    replace_state r = {.known = known, .mask = mask, .channels = c->channels, .hw = hw, .seed = p->seed,
                       .stream = 1u << 30};
    if (mask && method == VIDI_INPAINT_REPAINT) {
        if (!(r.noise = malloc(sizeof(float) * (size_t)n))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        st = repaint(m, p, &fn, &r, resample, out, n);
    } else {
        fn.known = known, fn.mask = mask;
        vidi_diffusion *base = NULL;
        st = vidi_denoiser_process(m, &base);
        if (st == VIDI_OK) st = vidi_diffusion_sample(base, &q, call_model, &fn, out, n);
        vidi_diffusion_free(base);
    }
    /* The known pixels are given: the result carries them exactly. */
    if (st == VIDI_OK && mask) {
        r.stream = 0;
        if (!r.noise && !(r.noise = malloc(sizeof(float) * (size_t)n))) st = vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        else replace_known(&r, out, n, 1.0);
    }
    free(r.noise);
    return st;
}
