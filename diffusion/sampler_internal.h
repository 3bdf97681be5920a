/* Sampler internals shared by the single steps (sampler.c) and the loop
 * (sample_loop.c): the coefficients of one step of each sampler, as the
 * backend op vidi_sampler_step takes them (computed in double from the
 * process's tables). Buffers, clip, guidance and noise are the caller's. */
#ifndef VIDI_DIFFUSION_SAMPLER_INTERNAL_H
#define VIDI_DIFFUSION_SAMPLER_INTERNAL_H

#include "vidi/diffusion.h"
#include "vidi/ops.h"

/* Step t -> t-1 of d (t a step of d, not a base timestep). */
void sampler_ddpm_coefs(const vidi_diffusion *d, int t, vidi_sampler_step *s);
void sampler_ddim_coefs(const vidi_diffusion *d, int t, float eta, vidi_sampler_step *s);
/* From cumulative alpha abar_s0 to abar_t (1.0: the final step, to the data);
 * second order with the previous step's abar_s1. VIDI_ERR_ARG when the
 * alphas do not increase within (0, 1]. */
vidi_status sampler_dpmpp_coefs(double abar_s1, double abar_s0, double abar_t, int second_order,
                                vidi_sampler_step *s);

#endif
