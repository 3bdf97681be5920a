/* ViViT internals shared by the loader (vivit_config.c, vivit_weights.c),
 * the forward pass (vivit.c, vivit_encoder.c) and the stream (vivit_stream.c). */
#ifndef VIDI_VIVIT_INTERNAL_H
#define VIDI_VIVIT_INTERNAL_H

#include "vidi/safetensors.h"
#include "vidi/tensor.h"
#include "vidi/backend.h"
#include "vidi/vivit.h"

/* One pre-norm attention sub-layer: x += proj(attn(ln(x))). */
typedef struct vivit_attn_w {
    const float *ln_w, *ln_b;
    const float *qkv_w, *qkv_b; /* fused [3D, D] (q, k, v), qkv_b may be NULL */
    const float *proj_w, *proj_b;
} vivit_attn_w;

typedef struct vivit_block {
    vivit_attn_w attn;     /* models 1, 2, 4: the block's attention; model 3: spatial */
    vivit_attn_w temporal; /* model 3 only */
    const float *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} vivit_block;

/* An encoder: models 1, 3, 4 have one; model 2 a spatial and a temporal one. */
typedef struct vivit_stage {
    const float *cls, *pos; /* cls NULL for models 3, 4 */
    vivit_block *layer;
    int depth;
    const float *norm_w, *norm_b;
} vivit_stage;

struct vidi_vivit {
    vidi_vivit_config cfg;
    int hf; /* 1: Hugging Face names (model 1 only) */
    vidi_backend *be;
    vidi_safetensors *weights;
    char **labels; /* num_labels entries, owned */
    vidi_sampler_params sampler;

    const float *patch_w, *patch_b, *head_w, *head_b;
    vivit_stage enc;      /* models 1, 3, 4; model 2: the spatial encoder */
    vivit_stage temporal; /* model 2 */
    float **owned;        /* buffers built at load (fused HF q/k/v) */
    int n_owned;

    int nt, ns; /* tubelets along time, patches per frame */
    /* Activations, carved from one arena at load: nothing is allocated per forward. */
    vidi_arena arena;
    float *video, *x, *h, *qkv, *attn, *mlp, *tx, *pooled, *logits;
    /* Device copies of the weights and the device arena (device backends). */
    vidi_device_store store;
    float *hook_scratch; /* host copies of activations for hooks (device backends) */
    size_t hook_scratch_n;
};

/* Reads config.json / __metadata__ into model->cfg, labels and sampler
 * settings; checks the config against the weights' shapes. dir may be NULL. */
vidi_status vivit_read_config(vidi_vivit *model, const char *dir, const char *weights_path);
/* Binds every weight with its expected shape; fuses HF q/k/v. */
vidi_status vivit_bind_weights(vidi_vivit *model);

/* Encoder pieces (vivit_encoder.c), used by the forward and the stream. */
vidi_status vivit_report(vidi_vivit *model, vidi_layer_hook hook, void *user, const char *name, const float *data,
                         int64_t rows, int64_t cols);
/* Model 2: embeds `count` tubelets of `video` (count*tubelet_t frames on the
 * backend) and runs the spatial encoder and its norm; the normed cls token of
 * tubelet i is then row i*(1+S) of model->h. */
vidi_status vivit_spatial_encode(vidi_vivit *model, const float *video, int count, vidi_layer_hook hook,
                                 void *user);
/* Model 2: temporal encoder over model->tx ([1+T', D], cls and positions
 * already added), final norm, head -> model->logits. */
vidi_status vivit_temporal_encode(vidi_vivit *model, vidi_layer_hook hook, void *user);

#endif
