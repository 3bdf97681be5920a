/* ViT internals shared by the loader (vit_load.c, vit_config.c) and the
 * forward pass (vit.c). */
#ifndef VIDI_VIT_INTERNAL_H
#define VIDI_VIT_INTERNAL_H

#include "vidi/safetensors.h"
#include "vidi/tensor.h"
#include "vidi/backend.h"
#include "vidi/vit.h"

typedef struct vit_layer {
    const float *ln1_w, *ln1_b;
    const float *qkv_w, *qkv_b; /* fused [3D, D] and [3D] (q, k, v), qkv_b may be NULL */
    const float *proj_w, *proj_b;
    const float *ln2_w, *ln2_b;
    const float *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} vit_layer;

struct vidi_vit {
    vidi_vit_config cfg;
    vidi_backend *be;
    vidi_safetensors *weights;
    char **labels; /* num_labels entries, owned */

    const float *cls, *pos, *patch_w, *patch_b;
    vit_layer *layer;
    const float *norm_w, *norm_b, *head_w, *head_b;
    float **owned; /* buffers built at load (fused HF q/k/v) */
    int n_owned;

    /* Activations, carved from one arena at load: nothing is allocated per forward. */
    vidi_arena arena;
    float *pixels, *x, *h, *qkv, *attn, *mlp, *logits;
    /* Device copies of the weights and the device arena (device backends). */
    vidi_device_store store;
    float *hook_scratch; /* host copies of activations for hooks (device backends) */
    size_t hook_scratch_n;
};

/* Reads config.json / preprocessor_config.json / __metadata__ and the tensor
 * shapes into model->cfg and model->labels. dir may be NULL (bare file). */
vidi_status vit_read_config(vidi_vit *model, const char *dir, const char *weights_path,
                            int heads_override);
/* Binds every weight with its expected shape; fuses HF q/k/v. */
vidi_status vit_bind_weights(vidi_vit *model);

#endif
