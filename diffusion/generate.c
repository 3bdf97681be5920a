/* Generation and in-painting with a denoiser: the model as the samplers'
 * vidi_denoise_fn, conditioned in-painting (known pixels + mask as model
 * inputs) and RePaint (replacement with resampling). Generation and
 * conditioned in-painting sample on the model's backend
 * (vidi_diffusion_sample_on); RePaint's loop runs on the host, each forward
 * downloading eps (its replacement and resampling steps are host code). */
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
    int label;                 /* the sample's label (known-pixel guidance's second call) */
} model_fn;

static vidi_status check_clip(const vidi_denoiser *m, int64_t n) {
    const vidi_denoiser_config *c = &m->cfg;
    if (n != (int64_t)c->frames * c->channels * c->image_size * c->image_size)
        return vidi_set_error(VIDI_ERR_ARG, "denoiser: %lld values is not one clip", (long long)n);
    return VIDI_OK;
}

/* Host memory in and out (RePaint's loop). */
static vidi_status call_model(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    model_fn *f = user;
    vidi_status st = check_clip(f->m, n);
    return st ? st : vidi_denoiser_forward(f->m, xt, t, label, f->known, f->mask, eps, v, NULL, NULL);
}

/* The backend's memory in and out (vidi_diffusion_sample_on's loop). Known-
 * pixel guidance's second call runs the model with nothing known, then puts
 * the known pixels back for the next step. */
static vidi_status call_model_on(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    model_fn *f = user;
    vidi_status st = check_clip(f->m, n);
    if (st != VIDI_OK || label != VIDI_LABEL_NOTHING_KNOWN) return st ? st : denoiser_forward_on(f->m, xt, t, label, eps, v);
    if ((st = denoiser_set_known(f->m, NULL, NULL)) == VIDI_OK) st = denoiser_forward_on(f->m, xt, t, f->label, eps, v);
    vidi_status back = denoiser_set_known(f->m, f->known, f->mask);
    return st ? st : back;
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
    if (p->known_guidance != 1.0f && (!mask || method != VIDI_INPAINT_CONDITIONED))
        return vidi_set_error(VIDI_ERR_ARG, "known-pixel guidance %g: only for conditioned in-painting%s",
                              (double)p->known_guidance, mask ? " (not repaint)" : " (there is no mask)");
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

vidi_status vidi_diffusion_generate(vidi_denoiser *m, const vidi_sample_params *p, const float *known,
                                    const float *mask, vidi_inpaint_method method, int resample, float *out) {
    if (!m || !p || !out) return vidi_set_error(VIDI_ERR_ARG, "vidi_diffusion_generate: model, params and out are required");
    vidi_status st = check_request(m, p, known, mask, method, resample);
    if (st != VIDI_OK) return st;
    const vidi_denoiser_config *c = &m->cfg;
    int64_t hw = (int64_t)c->image_size * c->image_size, frame = (int64_t)c->channels * hw;
    int64_t n = (int64_t)c->frames * frame;
    vidi_sample_params q = *p;
    q.learned_sigma = c->learn_sigma;
    model_fn fn = {.m = m, .label = p->label};
    vidi_diffusion *base = NULL;
    float *emask = NULL;
    if ((st = vidi_denoiser_process(m, &base)) != VIDI_OK) return st;
    if (mask) { /* the mask per element: every channel of a pixel */
        if (!(emask = malloc(sizeof(float) * (size_t)n))) {
            vidi_diffusion_free(base);
            return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        }
        for (int64_t i = 0; i < n; i++) emask[i] = mask[(i / frame) * hw + i % hw];
    }
    if (mask && method == VIDI_INPAINT_REPAINT) {
        st = vidi_diffusion_repaint(base, &q, call_model, &fn, known, emask, resample, out, n);
    } else {
        /* The sample stays in the model's backend memory (on a GPU: on the
         * device) from the first noise to the last step; each step also puts
         * the known region back on the forward process (q.known). */
        if (!m->be->unpatchify || !m->be->sampler_step)
            st = vidi_set_error(VIDI_ERR_UNSUPPORTED,
                                "backend '%s' has no unpatchify / sampler_step op (needed to sample on it)", m->be->name);
        else if (!m->sample_work && !(m->sample_work = m->be->alloc(m->be, sizeof(float) * (size_t)n * 10)))
            st = VIDI_ERR_NOMEM; /* alloc said why */
        if (st == VIDI_OK) st = denoiser_set_known(m, known, mask);
        fn.known = known, fn.mask = mask; /* for call_model_on to put back after a nothing-known call */
        if (mask) q.known = known, q.known_mask = emask;
        if (st == VIDI_OK) st = vidi_diffusion_sample_on(m->be, base, &q, call_model_on, &fn, out, n, m->sample_work);
    }
    /* The known pixels are given: the result carries them exactly. */
    if (st == VIDI_OK && mask)
        for (int64_t i = 0; i < n; i++)
            if (emask[i] > 0.5f) out[i] = known[i];
    free(emask);
    vidi_diffusion_free(base);
    return st;
}
