/* vidi — ViT image classifier. Loads Hugging Face ViT directories, timm
 * `vit_*` safetensors and torchvision `vit_b_16`-style state dicts. */
#ifndef VIDI_VIT_H
#define VIDI_VIT_H

#include <stdint.h>
#include "vidi/backend.h"
#include "vidi/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_vit_format { VIDI_VIT_HF = 0, VIDI_VIT_TIMM, VIDI_VIT_TORCHVISION } vidi_vit_format;

/* How an input image becomes the model's pixel tensor: resize (either to
 * exactly resize_w x resize_h, or the shorter side to resize_shorter keeping
 * the aspect ratio), optional centre crop, rescale, normalise. */
typedef struct vidi_preprocess {
    int resize_w, resize_h;   /* used when resize_shorter == 0 */
    int resize_shorter;       /* > 0: shorter side to this, then crop */
    int crop_w, crop_h;       /* 0: no crop */
    vidi_resample resample;
    float rescale;            /* usually 1/255 */
    float mean[3], std[3];
} vidi_preprocess;

typedef struct vidi_vit_config {
    vidi_vit_format format;
    int image_size, patch_size, channels;
    int hidden, layers, heads, mlp_dim;
    int num_labels;
    float ln_eps;
    vidi_act act;
    int qkv_bias;
    vidi_preprocess pre;
} vidi_vit_config;

typedef struct vidi_vit vidi_vit;

/* Called after each stage of the forward with a host copy of the activations
 * (rows x cols floats): "embeddings", "layer.0" ... "layer.N-1",
 * "final_norm", "logits". Used by the golden tests to find the first layer
 * that diverges. */
typedef void (*vidi_layer_hook)(void *user, const char *name, const float *data, int64_t rows,
                                int64_t cols);

/* path: a directory (config.json + model.safetensors [+ preprocessor_config.json])
 * or a .safetensors file (format from its tensor names; config from
 * __metadata__, a config.json beside it, or the tensor shapes).
 * heads_override > 0 replaces a num_heads that could only be guessed.
 * The backend is borrowed and must outlive the model. */
vidi_status vidi_vit_load(const char *path, vidi_backend *backend, int heads_override, vidi_vit **out);
void vidi_vit_free(vidi_vit *model);

const vidi_vit_config *vidi_vit_get_config(const vidi_vit *model);
/* Label for a class index ("LABEL_<i>" style names when the checkpoint has none). */
const char *vidi_vit_label(const vidi_vit *model, int index);
/* Multiply-adds of one forward pass x 2. */
double vidi_vit_flops(const vidi_vit *model);

/* pixels: [3, image_size, image_size] preprocessed; logits: [num_labels].
 * One forward at a time per model handle. hook may be NULL. */
vidi_status vidi_vit_forward(vidi_vit *model, const float *pixels, float *logits,
                             vidi_layer_hook hook, void *user);

/* Image -> pixel tensor per the model's preprocessing. pixels: 3*S*S floats. */
vidi_status vidi_vit_preprocess(const vidi_vit *model, const vidi_image *image, float *pixels);

#ifdef __cplusplus
}
#endif
#endif
