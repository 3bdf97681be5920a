/* The sampling loop: from the seeded noise x_T through DDPM / DDIM over the
 * respaced process, or DPM-Solver++(2M) over the base one, to x_0. One loop
 * for host memory (vidi_diffusion_sample: the ref step on the caller's
 * buffers) and for a backend (vidi_diffusion_sample_on: the state in the
 * backend's memory, each step be->sampler_step), so a GPU keeps the sample
 * on the device between denoiser forwards. What stays on the host, per
 * step: the step's coefficients (double, from the tables), the noise
 * (vidi_randn, so a seed gives the same noise on every backend; uploaded),
 * p->after_step (host memory: a download and an upload on a device) and the
 * progress callback. In-painting's known pixels (p->known) go up once; each
 * step's op also puts them back on the forward process at its new level, with
 * noise drawn on the host and uploaded like the step's own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diffusion/sampler_internal.h"
#include "vidi/backend.h"

typedef struct loop {
    const vidi_backend *be; /* NULL: host memory, the ref step */
    int device;             /* be's memory is not host memory */
    const vidi_sample_params *p;
    vidi_denoise_fn fn;
    void *user;
    int64_t n;
    float *host_x;                              /* the caller's x */
    float *x, *eps, *v, *eps_u, *noise, *x0, *x0_prev; /* be's memory (x is host_x on the host) */
    float *host_noise;                          /* vidi_randn's output: noise itself on the host */
    const float *known, *known_mask;            /* p->known and its mask in be's memory, or NULL */
    float *known_noise, *host_known_noise;      /* their noise: be's memory, and vidi_randn's output */
} loop;

static vidi_status run_step(loop *L, const vidi_sampler_step *s) {
    return L->be ? L->be->sampler_step(L->be, s, L->n) : vidi_ref_sampler_step(NULL, s, L->n);
}

static vidi_status draw_noise(loop *L, uint64_t stream) {
    vidi_randn(L->p->seed, stream, L->host_noise, L->n);
    if (!L->device) return VIDI_OK;
    return L->be->upload(L->be, L->noise, L->host_noise, sizeof(float) * (size_t)L->n);
}

/* The step lands x on level abar after `done` steps: the known elements go
 * there too, inside the op (s->known...). */
static vidi_status keep_known(loop *L, vidi_sampler_step *s, double abar, int done) {
    if (!L->known) return VIDI_OK;
    double a = sqrt(fmin(fmax(abar, 0.0), 1.0)), sd = sqrt(fmax(1.0 - abar, 0.0));
    s->known = L->known, s->known_mask = L->known_mask, s->known_a = a, s->known_s = sd;
    s->known_noise = NULL;
    if (sd == 0.0) return VIDI_OK;
    vidi_randn(L->p->seed, VIDI_STREAM_KNOWN + (uint64_t)done, L->host_known_noise, L->n);
    s->known_noise = L->known_noise;
    return L->device ? L->be->upload(L->be, L->known_noise, L->host_known_noise, sizeof(float) * (size_t)L->n)
                     : VIDI_OK;
}

/* x_T's known elements, before the first model call (x is still on the host). */
static vidi_status start_known(loop *L, double abar) {
    if (!L->known) return VIDI_OK;
    const vidi_sample_params *p = L->p;
    vidi_diffusion_replace_known(p->known, p->known_mask, L->host_x, L->host_known_noise, L->n, abar, p->seed,
                                 VIDI_STREAM_KNOWN);
    return L->device ? L->be->upload(L->be, L->x, L->host_x, sizeof(float) * (size_t)L->n) : VIDI_OK;
}

static vidi_status after(loop *L, double abar, int step) {
    const vidi_sample_params *p = L->p;
    if (!p->after_step) return VIDI_OK;
    size_t bytes = sizeof(float) * (size_t)L->n;
    vidi_status st = L->device ? L->be->download(L->be, L->host_x, L->x, bytes) : VIDI_OK;
    if (st == VIDI_OK) st = p->after_step(p->after_step_user, L->host_x, L->n, abar, step);
    if (st == VIDI_OK && L->device) st = L->be->upload(L->be, L->x, L->host_x, bytes);
    return st;
}

/* eps (and v) at base timestep t into the step; guidance is the step's to
 * apply (eps_uncond, the scale). */
static vidi_status model(loop *L, int t, int want_v, vidi_sampler_step *s) {
    const vidi_sample_params *p = L->p;
    s->eps = L->eps;
    s->v = want_v ? L->v : NULL;
    vidi_status st = L->fn(L->user, L->x, t, p->label, L->eps, want_v ? L->v : NULL, L->n);
    if (st != VIDI_OK) return st;
    if (p->known_guidance != 1.0f) { /* the same guidance arithmetic, over the known pixels */
        s->eps_uncond = L->eps_u;
        s->guidance = p->known_guidance;
        return L->fn(L->user, L->x, t, VIDI_LABEL_NOTHING_KNOWN, L->eps_u, NULL, L->n);
    }
    if (p->label < 0 || p->guidance == 1.0f) return st;
    s->eps_uncond = L->eps_u;
    s->guidance = p->guidance;
    return L->fn(L->user, L->x, t, -1, L->eps_u, NULL, L->n);
}

/* DDPM and DDIM over the respaced process d, from its last step down. */
static vidi_status run_respaced(const vidi_diffusion *d, loop *L) {
    const vidi_sample_params *p = L->p;
    int T = d->num_timesteps, want_v = p->sampler == VIDI_SAMPLER_DDPM && p->learned_sigma;
    vidi_status st = start_known(L, d->alphas_cumprod[T - 1]);
    if (st == VIDI_OK) st = after(L, d->alphas_cumprod[T - 1], 0);
    for (int i = T - 1; i >= 0 && st == VIDI_OK; i--) {
        vidi_sampler_step s = {.out = L->x, .xt = L->x, .clip = p->clip};
        if (p->sampler == VIDI_SAMPLER_DDPM) sampler_ddpm_coefs(d, i, &s);
        else sampler_ddim_coefs(d, i, p->eta, &s);
        if ((st = model(L, d->timestep_map[i], want_v, &s)) != VIDI_OK) return st;
        /* Noise at every step but the last (DDIM: only when it has a noise term). */
        if (i > 0 && (p->sampler == VIDI_SAMPLER_DDPM || s.sigma > 0.0)) {
            if ((st = draw_noise(L, 1 + (uint64_t)(T - 1 - i))) != VIDI_OK) return st;
            s.noise = L->noise;
        }
        st = keep_known(L, &s, i > 0 ? d->alphas_cumprod[i - 1] : 1.0, T - i);
        if (st == VIDI_OK) st = run_step(L, &s);
        if (st == VIDI_OK) st = after(L, i > 0 ? d->alphas_cumprod[i - 1] : 1.0, T - i);
        if (st == VIDI_OK && p->progress) p->progress(p->progress_user, T - i, T);
    }
    return st;
}

static vidi_status run_dpmpp(const vidi_diffusion *base, loop *L) {
    const vidi_sample_params *p = L->p;
    int N = p->steps, *ts = malloc(sizeof(int) * (size_t)N);
    if (!ts) return vidi_set_error(VIDI_ERR_NOMEM, "dpm++: out of memory");
    vidi_status st = vidi_dpmpp_timesteps(base->num_timesteps, N, ts);
    if (st == VIDI_OK) st = start_known(L, base->alphas_cumprod[ts[0]]);
    if (st == VIDI_OK) st = after(L, base->alphas_cumprod[ts[0]], 0);
    for (int k = 0; k < N && st == VIDI_OK; k++) {
        int t = ts[k];
        double ab_t = k + 1 < N ? base->alphas_cumprod[ts[k + 1]] : 1.0;
        double ab_s1 = k > 0 ? base->alphas_cumprod[ts[k - 1]] : 0.0;
        vidi_sampler_step s = {.out = L->x, .xt = L->x, .clip = p->clip, .x0_out = L->x0};
        if ((st = sampler_dpmpp_coefs(ab_s1, base->alphas_cumprod[t], ab_t, k > 0, &s)) != VIDI_OK) break;
        s.ra = base->sqrt_recip_alphas_cumprod[t], s.rm1 = base->sqrt_recipm1_alphas_cumprod[t];
        if (k > 0 && !s.to_data) s.x0_prev = L->x0_prev;
        if ((st = model(L, t, 0, &s)) != VIDI_OK) break;
        if ((st = keep_known(L, &s, ab_t, k + 1)) != VIDI_OK) break;
        st = run_step(L, &s);
        float *tmp = L->x0_prev; /* this step's x0 is the next one's x0_prev */
        L->x0_prev = L->x0, L->x0 = tmp;
        if (st == VIDI_OK) st = after(L, ab_t, k + 1);
        if (st == VIDI_OK && p->progress) p->progress(p->progress_user, k + 1, N);
    }
    free(ts);
    return st;
}

static vidi_status sample(const vidi_backend *be, const vidi_diffusion *base, const vidi_sample_params *p,
                          vidi_denoise_fn fn, void *user, float *x, int64_t n, float *work) {
    if (!base || !p || !fn || !x || n <= 0) return vidi_set_error(VIDI_ERR_ARG, "sample: NULL argument or empty sample");
    if (!p->known != !p->known_mask) return vidi_set_error(VIDI_ERR_ARG, "sample: known pixels without their mask");
    if (be && !be->sampler_step)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "backend '%s' has no sampler_step op", be->name);
    if (!(p->guidance >= 0.0f) || !isfinite(p->guidance))
        return vidi_set_error(VIDI_ERR_ARG, "guidance %g: must be a finite number >= 0", (double)p->guidance);
    if (!(p->known_guidance >= 0.0f) || !isfinite(p->known_guidance))
        return vidi_set_error(VIDI_ERR_ARG, "known-pixel guidance %g: must be a finite number >= 0",
                              (double)p->known_guidance);
    if (p->known_guidance != 1.0f && p->guidance != 1.0f && p->label >= 0)
        return vidi_set_error(VIDI_ERR_ARG, "guidance %g and known-pixel guidance %g: give one of the two",
                              (double)p->guidance, (double)p->known_guidance);
    vidi_diffusion *d = NULL;
    vidi_status st = vidi_sampler_process(base, p, &d);
    if (st != VIDI_OK) return st;
    loop L = {.be = be, .device = be && be->device_memory, .p = p, .fn = fn, .user = user, .n = n, .host_x = x};
    size_t bytes = sizeof(float) * (size_t)n * 10;
    float *own = NULL; /* the state when the caller gave no work buffer: be's memory, or host memory */
    if (!work && !(work = own = be ? be->alloc(be, bytes) : malloc(bytes))) {
        vidi_diffusion_free(d);
        return be ? VIDI_ERR_NOMEM /* alloc said why */
                  : vidi_set_error(VIDI_ERR_NOMEM, "sample: out of memory for %lld floats", (long long)n);
    }
    L.x = L.device ? work : x;
    L.eps = work + n, L.v = work + 2 * n, L.eps_u = work + 3 * n, L.noise = work + 4 * n;
    L.x0 = work + 5 * n, L.x0_prev = work + 6 * n;
    L.host_noise = L.device ? malloc(sizeof(float) * (size_t)n * (p->known ? 2 : 1)) : L.noise;
    if (!L.host_noise) st = vidi_set_error(VIDI_ERR_NOMEM, "sample: out of memory for %lld floats", (long long)n);
    if (st == VIDI_OK && p->known) { /* the known pixels, their mask, their noise: 3n more */
        L.known_noise = work + 7 * n;
        L.host_known_noise = L.device ? L.host_noise + n : L.known_noise;
        L.known = L.device ? work + 8 * n : p->known, L.known_mask = L.device ? work + 9 * n : p->known_mask;
        if (L.device && (st = be->upload(be, work + 8 * n, p->known, sizeof(float) * (size_t)n)) == VIDI_OK)
            st = be->upload(be, work + 9 * n, p->known_mask, sizeof(float) * (size_t)n);
    }
    if (st == VIDI_OK) {
        vidi_randn(p->seed, 0, x, n);
        if (L.device) st = be->upload(be, L.x, x, sizeof(float) * (size_t)n);
    }
    if (st == VIDI_OK) st = p->sampler == VIDI_SAMPLER_DPMPP_2M ? run_dpmpp(base, &L) : run_respaced(d, &L);
    if (st == VIDI_OK && L.device) st = be->download(be, x, L.x, sizeof(float) * (size_t)n);
    if (L.device) free(L.host_noise);
    if (own && be) {
        if (L.device) be->synchronize(be); /* the stream may still read it after an error */
        be->release(be, own);
    } else {
        free(own);
    }
    vidi_diffusion_free(d);
    return st;
}

vidi_status vidi_diffusion_sample(const vidi_diffusion *base, const vidi_sample_params *p, vidi_denoise_fn fn,
                                  void *user, float *x, int64_t n) {
    return sample(NULL, base, p, fn, user, x, n, NULL);
}

vidi_status vidi_diffusion_sample_on(const vidi_backend *be, const vidi_diffusion *base, const vidi_sample_params *p,
                                     vidi_denoise_fn fn, void *user, float *x, int64_t n, float *work) {
    if (!be) return vidi_set_error(VIDI_ERR_ARG, "sample: NULL backend");
    return sample(be, base, p, fn, user, x, n, work);
}
