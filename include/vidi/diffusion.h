/* vidi — video diffusion: the Improved-DDPM core (Nichol & Dhariwal 2021)
 * with respaced / DDIM / DPM-Solver++(2M) sampling and classifier-free
 * guidance.
 *
 * The process. vidi_diffusion holds the tables of one Gaussian diffusion
 * process in double precision (as improved-diffusion's GaussianDiffusion):
 * betas, alphas_cumprod, the posterior q(x_{t-1} | x_t, x_0) and the
 * learned-range variance bounds. A respaced process (space_timesteps,
 * "ddimN") keeps a subset of the base steps; its betas are
 * 1 - abar[t_i] / abar[t_{i-1}] so its abar equal the base ones at the kept
 * steps, and the model is always called with the base timestep
 * (timestep_map), which is what it was trained on.
 *
 * Models predict eps and, when learned, v in [-1, 1] per element:
 *   log sigma^2 = frac * log beta_t + (1 - frac) * log beta~_t, frac = (v+1)/2
 * Samplers call the model through vidi_denoise_fn; classifier-free guidance
 * is eps_u + s (eps_c - eps_u) on eps (v from the conditional call).
 *
 * Noise comes from vidi's own seeded generator (splitmix64 + Box-Muller in
 * double), so the same seed gives the same bytes on every machine. */
#ifndef VIDI_DIFFUSION_H
#define VIDI_DIFFUSION_H

#include <stdint.h>
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_beta_schedule {
    VIDI_SCHEDULE_LINEAR = 0, /* linspace(1e-4, 0.02) scaled by 1000/T (improved-diffusion) */
    VIDI_SCHEDULE_COSINE,     /* abar(t) = cos^2(((t/T) + s)/(1 + s) * pi/2), s = 0.008, beta <= 0.999 */
} vidi_beta_schedule;

/* "linear" / "cosine" -> schedule; VIDI_ERR_ARG for anything else. */
vidi_status vidi_beta_schedule_parse(const char *name, vidi_beta_schedule *out);
const char *vidi_beta_schedule_name(vidi_beta_schedule s);

/* betas[0..T) of the named schedule. */
vidi_status vidi_beta_schedule_betas(vidi_beta_schedule s, int T, double *betas);

/* improved-diffusion space_timesteps(T, spec): "ddimN" keeps range(0, T, T/N)
 * for the stride that yields exactly N steps; otherwise a comma list of counts
 * "a,b,c" splits [0, T) into equal sections and takes that many evenly spaced
 * steps from each (a single number N: N steps over the whole range). Writes
 * the kept steps ascending into keep[] (capacity T) and their number to *n.
 * Errors name the spec and the reason (0 steps, more steps than T, ...). */
vidi_status vidi_space_timesteps(int T, const char *spec, int *keep, int *n);

typedef struct vidi_diffusion {
    int num_timesteps;             /* T of this process (the respaced count) */
    int *timestep_map;             /* [T]: base timestep the model sees at step t */
    double *betas;                 /* [T] */
    double *alphas_cumprod;        /* [T] abar_t */
    double *alphas_cumprod_prev;   /* [T] abar_{t-1}, 1 at t = 0 */
    double *sqrt_alphas_cumprod;   /* [T] */
    double *sqrt_one_minus_alphas_cumprod;   /* [T] */
    double *log_one_minus_alphas_cumprod;    /* [T] */
    double *sqrt_recip_alphas_cumprod;       /* [T] 1/sqrt(abar) */
    double *sqrt_recipm1_alphas_cumprod;     /* [T] sqrt(1/abar - 1) */
    double *posterior_variance;              /* [T] beta~_t */
    double *posterior_log_variance_clipped;  /* [T] log beta~ with t = 0 taking beta~_1 */
    double *posterior_mean_coef1;            /* [T] coefficient of x_0 */
    double *posterior_mean_coef2;            /* [T] coefficient of x_t */
} vidi_diffusion;

/* A process from explicit betas (0 < beta <= 0.999 each, T >= 1). */
vidi_status vidi_diffusion_create(const double *betas, int T, vidi_diffusion **out);
/* The base process of a schedule with T steps. */
vidi_status vidi_diffusion_create_named(vidi_beta_schedule s, int T, vidi_diffusion **out);
/* The base process respaced to the steps `spec` keeps (vidi_space_timesteps). */
vidi_status vidi_diffusion_respace(const vidi_diffusion *base, const char *spec, vidi_diffusion **out);
void vidi_diffusion_free(vidi_diffusion *d);

/* x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise over n floats (out may alias x0). */
vidi_status vidi_diffusion_q_sample(const vidi_diffusion *d, int t, const float *x0, const float *noise, float *out,
                                    int64_t n);

/* Mean of q(x_{t-1} | x_t, x_0) (n floats); *var / *log_var (may be NULL) get
 * the posterior variance and its clipped log. */
vidi_status vidi_diffusion_q_posterior(const vidi_diffusion *d, int t, const float *x0, const float *xt, float *mean,
                                       int64_t n, double *var, double *log_var);

/* p(x_{t-1} | x_t) from the model outputs: pred_x0 = (x_t - sqrt(1-abar) eps)/sqrt(abar)
 * (clamped to [-1, 1] when clip), mean = posterior mean(pred_x0, x_t);
 * log_var per element from v (learned range) or, when v is NULL, the fixed
 * log beta~ (clipped). pred_x0 and log_var may be NULL. */
vidi_status vidi_diffusion_p_mean_variance(const vidi_diffusion *d, int t, const float *xt, const float *eps,
                                           const float *v, int clip, float *mean, float *log_var, float *pred_x0,
                                           int64_t n);

/* ---- one step of each sampler (the building blocks the loop uses) ---- */

/* Ancestral DDPM: x_{t-1} = mean + [t > 0] exp(log_var / 2) noise. */
vidi_status vidi_diffusion_ddpm_step(const vidi_diffusion *d, int t, const float *xt, const float *eps, const float *v,
                                     int clip, const float *noise, float *out, int64_t n);

/* DDIM (Song et al., improved-diffusion ddim_sample) from step t to t-1 of
 * d: eps is re-derived from the (clipped) pred_x0, sigma = eta
 * sqrt((1-abar')/(1-abar)) sqrt(1 - abar/abar'). noise may be NULL when
 * eta == 0. */
vidi_status vidi_diffusion_ddim_step(const vidi_diffusion *d, int t, const float *xt, const float *eps, float eta,
                                     int clip, const float *noise, float *out, int64_t n);

/* DPM-Solver++(2M) (Lu et al. 2022, midpoint form as in diffusers'
 * DPMSolverMultistepScheduler) in data prediction, between cumulative
 * alphas: from abar_s0 (current) to abar_t (next; 1.0 means sigma = 0, the
 * final step, which is first order). x0 is the data prediction at s0; x0_prev
 * the one at the previous step s1 with abar_s1, or NULL for the first-order
 * (first) step. */
vidi_status vidi_dpmpp_2m_step(double abar_s1, double abar_s0, double abar_t, const float *xt, const float *x0,
                               const float *x0_prev, float *out, int64_t n);

/* ---- sampling loop ---- */

/* The denoiser: eps (and v when the model learns its variance; v is NULL
 * when the sampler does not need it) for x_t at base timestep t, conditioned
 * on `label` (-1: the null label, for guidance). n floats each. */
typedef vidi_status (*vidi_denoise_fn)(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n);

/* The label a vidi_denoise_fn gets for known-pixel guidance's second call
 * (vidi_sample_params.known_guidance): the sample's own label, with nothing
 * known (an in-painting model's generation mode). Only fns of conditioned
 * in-painting see it. */
#define VIDI_LABEL_NOTHING_KNOWN (-2)

typedef enum vidi_sampler_kind {
    VIDI_SAMPLER_DDPM = 0,  /* ancestral, respaced */
    VIDI_SAMPLER_DDIM,      /* eta = 0 deterministic */
    VIDI_SAMPLER_DPMPP_2M,  /* DPM-Solver++(2M), deterministic */
} vidi_sampler_kind;

/* "ddpm" / "ddim" / "dpm++" (also "dpmpp", "dpm++2m"). */
vidi_status vidi_sampler_parse(const char *name, vidi_sampler_kind *out);
const char *vidi_sampler_name(vidi_sampler_kind k);

typedef struct vidi_sample_params {
    vidi_sampler_kind sampler;
    int steps;             /* sampling steps, 1..T */
    float eta;             /* DDIM only */
    float guidance;        /* classifier-free guidance scale; 1: conditional only, no second call */
    /* Conditioned in-painting's guidance on the known pixels: eps = eps(nothing
     * known) + s (eps(known) - eps(nothing known)), the second call with label
     * VIDI_LABEL_NOTHING_KNOWN; 1: none. Pushes the sample towards what the
     * known pixels imply (the model, trained on generation as well, otherwise
     * leans on its own x_t). Not together with `guidance`. */
    float known_guidance;
    /* In-painting: before every model call the elements with known_mask > 0.5
     * (per element, n each, host memory) are the forward process's
     * sqrt(abar) known + sqrt(1 - abar) noise at the level x sits at, the
     * noise of call k (k = 0 before the first) from vidi_randn(seed,
     * VIDI_STREAM_KNOWN + k); after the last step, known itself. On a backend
     * this is part of each sampler_step, so x stays in its memory. NULL: none. */
    const float *known, *known_mask;
    int label;             /* class, or -1 for the null label (unconditional) */
    int clip;              /* clamp pred_x0 to [-1, 1] (improved-diffusion's clip_denoised) */
    uint64_t seed;
    int learned_sigma;     /* the model outputs v (DDPM uses it) */
    /* Called after each step (done = 1..steps); may be NULL. */
    void (*progress)(void *user, int done, int total);
    void *progress_user;
    /* Called on the initial noise and after each step with x and the
     * cumulative alpha abar of the noise level x now sits at (1.0: data, after
     * the last step), e.g. to watch the sample (on a device backend x is
     * downloaded and uploaded for it, every step). In-painting's known pixels
     * are `known` above, which stays in the backend's memory. May be NULL. */
    vidi_status (*after_step)(void *user, float *x, int64_t n, double abar, int step);
    void *after_step_user;
} vidi_sample_params;

/* DDPM, 50 steps, eta 0, guidance 1, label -1, clip 1, seed 0. */
vidi_sample_params vidi_sample_default_params(void);

/* The respaced process DDPM and DDIM run on: "ddimN" spacing (an even
 * stride, diffusers' "leading" timesteps) when one gives exactly N steps,
 * else improved-diffusion's section spacing "N". The caller frees it. */
vidi_status vidi_sampler_process(const vidi_diffusion *base, const vidi_sample_params *p, vidi_diffusion **out);

/* DPM++ timesteps as diffusers' DPMSolverMultistepScheduler ("linspace"):
 * round(linspace(0, T-1, N+1)) descending without the 0; the last step then
 * goes to sigma = 0. ts: N ints. */
vidi_status vidi_dpmpp_timesteps(int T, int N, int *ts);

/* Runs the sampler from pure noise (drawn from p->seed) and leaves x0 in x
 * (n floats). Host memory throughout; eps/v scratch is allocated here. */
vidi_status vidi_diffusion_sample(const vidi_diffusion *base, const vidi_sample_params *p, vidi_denoise_fn fn,
                                  void *user, float *x, int64_t n);

/* The same loop with the sample on a backend: x_t, eps, v and the sampler's
 * state live in be's memory, fn reads x_t and writes eps (and v) there, and
 * every step is be->sampler_step. On a device backend the sample stays on
 * the device from the first noise to the last step: per step the host only
 * computes the step's coefficients (double) and draws the noise
 * (vidi_randn, uploaded, so a seed gives the same noise on every backend);
 * x (host memory) receives the result, one download at the end. On a host
 * backend the result is the same bytes as vidi_diffusion_sample's.
 * p->after_step gets host memory: on a device backend x is downloaded for
 * it and uploaded again, every step. work: 10n floats of be's memory for the
 * sampler's state, reused across calls; NULL: allocated here per call. */
struct vidi_backend;
vidi_status vidi_diffusion_sample_on(const struct vidi_backend *be, const vidi_diffusion *base,
                                     const vidi_sample_params *p, vidi_denoise_fn fn, void *user, float *x, int64_t n,
                                     float *work);

/* ---- the denoiser (diffusion/denoiser*.c; PyTorch twin: tools/diffusion_reference.py) ----
 *
 * A video transformer over frame patches: blocks alternating spatial and
 * temporal attention, time-dependent self-attention (DiffiT TMSA), adaLN-Zero
 * on timestep + class (DiT), U-ViT long skips; outputs eps and v (learned
 * range). In-painting models also read the known pixels and a known-token
 * mask. Loaded from the vidi single-file format: safetensors with
 * __metadata__ {"format": "vidi-diffusion", "config": JSON}
 * (docs/checkpoints.md). */

typedef struct vidi_denoiser_config {
    int frames, image_size, channels, patch;
    int hidden, heads, depth, mlp_dim, freq_dim;
    int num_classes;       /* labels 0..num_classes-1; num_classes is the null label */
    int learn_sigma;       /* outputs v too */
    int inpaint;           /* inputs known pixels + mask (in_channels 2C+1) */
    int diffusion_steps;   /* T of the training process */
    vidi_beta_schedule schedule;
    float ln_eps;
    /* config "prediction": "velocity": the network's first C channels are
     * u = sqrt(abar) eps - sqrt(1 - abar) x0 and the forward returns
     * eps = sqrt(abar) u + sqrt(1 - abar) x_t; 0 ("eps", the default): eps. */
    int velocity;
    /* config "guidance": the classifier-free guidance scale the model's trainer
     * recommends for a labelled clip; `vidi generate` and vidigen use it when
     * none is asked for. 1 (the default): none. */
    float guidance;
} vidi_denoiser_config;

struct vidi_backend;
typedef struct vidi_denoiser vidi_denoiser;

/* Errors name the file and what is wrong: not a vidi-diffusion file (a ViViT
 * classifier is recognised and named), config field out of range, tensor
 * missing or of the wrong shape. */
vidi_status vidi_denoiser_load(const char *path, struct vidi_backend *backend, vidi_denoiser **out);
void vidi_denoiser_free(vidi_denoiser *m);
const vidi_denoiser_config *vidi_denoiser_get_config(const vidi_denoiser *m);
/* Class name (from the config's "labels"), NULL when out of range or unnamed. */
const char *vidi_denoiser_label(const vidi_denoiser *m, int index);
/* Index of a class given by name or number; -1 when unknown. */
int vidi_denoiser_find_label(const vidi_denoiser *m, const char *name);
/* The model's base diffusion process (its schedule and steps); caller frees. */
vidi_status vidi_denoiser_process(const vidi_denoiser *m, vidi_diffusion **out);

/* Per-layer activations for tests: name, rows x cols floats in host memory. */
typedef void (*vidi_denoiser_hook)(void *user, const char *name, const float *data, int64_t rows, int64_t cols);

/* One forward. xt, eps, v: [frames, channels, size, size]; label -1 or
 * num_classes: the null label. known [frames, channels, size, size] and
 * mask [frames, size, size] (1 = known pixel) for in-painting models, NULL
 * for none known. v may be NULL. Hook names: "embed", "t_emb", "cond",
 * "block.i", "final". One forward at a time per model. */
vidi_status vidi_denoiser_forward(vidi_denoiser *m, const float *xt, int t, int label, const float *known,
                                  const float *mask, float *eps, float *v, vidi_denoiser_hook hook, void *user);

/* ---- generation and in-painting (diffusion/generate.c, diffusion/mask.c) ---- */

typedef enum vidi_inpaint_method {
    /* The model sees the known pixels and the known-token mask at every step
     * (learned at training time; needs an in-painting model), and the known
     * region of x_t is kept on the forward process as in training
     * (vidi_sample_params.known): the loss covers only the pixels to fill, so
     * the model's outputs on the known ones are untrained. Default. */
    VIDI_INPAINT_CONDITIONED = 0,
    /* RePaint (Lugmayr et al. 2022), training-free: after each ancestral step
     * the known region is replaced by the forward-noised known pixels, and
     * each step is resampled `resample` times (x_t -> x_{t-1} -> noised back
     * to x_t). Runs the DDPM sampler whatever p->sampler says. */
    VIDI_INPAINT_REPAINT,
} vidi_inpaint_method;

/* "conditioned" / "repaint". */
vidi_status vidi_inpaint_method_parse(const char *name, vidi_inpaint_method *out);

/* Samples one clip [frames, channels, size, size] in [-1, 1] into out.
 * known and mask (1 = known pixel, [frames, size, size]) both NULL:
 * generation; otherwise in-painting by `method`, and the known pixels of the
 * result are the given ones exactly. p->learned_sigma is set from the model.
 * Errors: guidance != 1 with a model without classes, a label outside the
 * model's classes, conditioned in-painting with a model trained without
 * masks, an empty mask (nothing to fill). */
vidi_status vidi_diffusion_generate(vidi_denoiser *m, const vidi_sample_params *p, const float *known,
                                    const float *mask, vidi_inpaint_method method, int resample, float *out);

/* In-painting masks from a text spec over a clip of frames x height x width;
 * writes mask (1 = known, 0 = to fill), [frames, height, width]. The spec is
 * one or more parts joined by '+', each marking pixels to fill:
 *   box:X,Y,W,H            a box (pixels of the model's frame) on every frame
 *   box:X,Y,W,H@F0-F1      the same on frames F0..F1 (inclusive)
 *   frames:LIST            whole frames, LIST = comma-separated N or N-M
 *   predict:K              all frames after the first K (future prediction)
 *   interpolate:K          all frames but the first and last K
 *   image:PATH             a mask image (PNG, ...), resized to the frame;
 *                          bright pixels (> 127) are filled, on every frame
 * Errors name the part and the reason: a box outside the frame, a frame out
 * of range, an unreadable image, or a mask that leaves nothing to fill. */
vidi_status vidi_inpaint_mask_parse(const char *spec, int frames, int height, int width, float *mask);

/* RePaint with any denoiser (the loop behind VIDI_INPAINT_REPAINT): known
 * and mask (1 = known) per element, n each; x receives the sample. Runs
 * ancestral DDPM on the sampler's respaced process whatever p->sampler says;
 * p->learned_sigma says whether fn gives v. */
vidi_status vidi_diffusion_repaint(const vidi_diffusion *base, const vidi_sample_params *p, vidi_denoise_fn fn,
                                   void *user, const float *known, const float *mask, int resample, float *x,
                                   int64_t n);

/* In-painting by replacement: the known elements of x (mask > 0.5, one
 * value per element, n each) set to sqrt(abar) known + sqrt(1 - abar) noise,
 * what the forward process gives at the level x sits at; the noise is
 * vidi_randn(seed, stream) into `noise` (n floats of scratch). abar = 1: the
 * known values themselves. */
void vidi_diffusion_replace_known(const float *known, const float *mask, float *x, float *noise, int64_t n,
                                  double abar, uint64_t seed, uint64_t stream);

/* The noise streams of vidi_sample_params.known (call k: VIDI_STREAM_KNOWN + k). */
#define VIDI_STREAM_KNOWN (1ull << 40)

/* Deterministic standard normal noise: n floats from the stream (seed,
 * stream). The same (seed, stream) always gives the same values. */
void vidi_randn(uint64_t seed, uint64_t stream, float *out, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
