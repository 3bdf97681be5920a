/* Denoiser internals shared by the loader (denoiser_load.c) and the forward
 * pass (denoiser.c). */
#ifndef VIDI_DIFFUSION_DENOISER_INTERNAL_H
#define VIDI_DIFFUSION_DENOISER_INTERNAL_H

#include "vidi/backend.h"
#include "vidi/diffusion.h"
#include "vidi/safetensors.h"
#include "vidi/tensor.h"

typedef struct denoiser_block {
    const float *qkv_w, *qkv_b, *qkv_t_w;  /* TMSA: spatial part [3D, D] + bias, time part [3D, D] */
    const float *proj_w, *proj_b;
    const float *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    const float *ada_w, *ada_b;             /* [6D, D]: shift, scale, gate (attention), shift, scale, gate (MLP) */
    const float *skip_w, *skip_b, *skip_s_w; /* second half only (U-ViT long skip) */
    int temporal;                           /* odd blocks attend over time */
} denoiser_block;

struct vidi_denoiser {
    vidi_denoiser_config cfg;
    vidi_backend *be;
    vidi_safetensors *weights;
    char **labels; /* num_classes entries (NULL when unnamed), owned */
    int grid, tokens, in_channels, out_channels;

    const float *patch_w, *patch_b, *pos, *t_fc1_w, *t_fc1_b, *t_fc2_w, *t_fc2_b, *y_embed;
    const float *final_ada_w, *final_ada_b, *final_w, *final_b;
    denoiser_block *block;

    /* Activations, carved from one arena at load. skips: depth/2 buffers of
     * [tokens, D] that hold the first half's outputs until the second half
     * reads them (each first-half block writes its output there directly). */
    vidi_arena arena;
    float *video, *x, *h, *tmp, *qkv, *attn, *mlp, *out, **skips;
    float *tsin, *thid, *temb, *cond, *gcond, *ada, *tq;
    /* adaLN's modulation LN(x)(1 + scale) + shift is the layernorm's own affine
     * with gamma = 1 + scale (ones + scale, per block) and beta = shift: one
     * pass over the tokens instead of two. */
    float *ones, *gamma;
    float *stage; /* host staging for the input video and the output tokens (host memory, own) */
    /* Device copies of the weights and the device arena (device backends). */
    vidi_device_store store;
    float *hook_scratch; /* host copies of activations for hooks (device backends) */
    size_t hook_scratch_n;
    /* The sampler's state in the backend's memory (vidi_diffusion_sample_on's
     * work: 7 clips), made by the first generation and kept, so later ones
     * allocate nothing. */
    float *sample_work;
    /* The training process (velocity models: its abar turns u into eps), or NULL. */
    vidi_diffusion *process;
};

vidi_status denoiser_read_config(vidi_denoiser *m);
vidi_status denoiser_bind_weights(vidi_denoiser *m);

/* The forward on the backend's memory (the sampling loop's vidi_denoise_fn):
 * xt, eps and v (NULL, or for a model with learned variance) are in be's
 * memory; nothing is copied to or from the host but the timestep's
 * sinusoid, and nothing waits for the device. An in-painting model reads
 * the known pixels and mask given to denoiser_set_known (both NULL: none
 * known), which stay until the next call of either forward. */
vidi_status denoiser_set_known(vidi_denoiser *m, const float *known, const float *mask);
vidi_status denoiser_forward_on(vidi_denoiser *m, const float *xt, int t, int label, float *eps, float *v);

#endif
