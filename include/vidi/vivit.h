/* vidi — ViViT video classifiers: all four variants of Arnab et al. 2021
 * (Scenic semantics). Loads Hugging Face VivitForVideoClassification
 * directories (model 1) and vidi single-file checkpoints (any model: a
 * safetensors file whose __metadata__["config"] holds the JSON config; names
 * in docs/checkpoints.md). */
#ifndef VIDI_VIVIT_H
#define VIDI_VIVIT_H

#include <stdint.h>
#include "vidi/backend.h"
#include "vidi/sampler.h"
#include "vidi/vit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_vivit_variant {
    VIDI_VIVIT_SPATIOTEMPORAL = 1,            /* model 1: joint attention over all tokens */
    VIDI_VIVIT_FACTORISED_ENCODER = 2,        /* model 2: spatial encoder per time index, then temporal */
    VIDI_VIVIT_FACTORISED_SELF_ATTENTION = 3, /* model 3: spatial then temporal attention in each block */
    VIDI_VIVIT_FACTORISED_DOT_PRODUCT = 4,    /* model 4: half the heads over space, half over time */
} vidi_vivit_variant;

typedef struct vidi_vivit_config {
    vidi_vivit_variant variant;
    int num_frames, image_size, channels;
    int tubelet_t, tubelet_h, tubelet_w;
    int hidden, heads, mlp_dim;
    int layers;          /* encoder depth (model 2: the spatial encoder's) */
    int temporal_layers; /* model 2 only */
    int temporal_first;  /* model 3: temporal attention before spatial */
    int num_labels;
    float ln_eps;
    vidi_act act;
    int qkv_bias;
} vidi_vivit_config;

typedef struct vidi_vivit vidi_vivit;

/* path: HF directory (config.json with model_type "vivit" + model.safetensors
 * [+ preprocessor_config.json]) or a vidi single-file .safetensors. Errors
 * name what disagrees (e.g. a ViT checkpoint, tubelet size vs weights). */
vidi_status vidi_vivit_load(const char *path, vidi_backend *backend, vidi_vivit **out);
void vidi_vivit_free(vidi_vivit *model);

const vidi_vivit_config *vidi_vivit_get_config(const vidi_vivit *model);
const char *vidi_vivit_label(const vidi_vivit *model, int index);
double vidi_vivit_flops(const vidi_vivit *model);

/* Sampler settings that reproduce the model's preprocessing: T = num_frames
 * (uniform sampling), tubelet_t, resize / crop / rescale / mean / std from the
 * checkpoint's preprocessor config. Callers then set views (num_clips, crop). */
vidi_status vidi_vivit_sampler_params(const vidi_vivit *model, vidi_sampler_params *out);

/* clip: [num_frames, channels, image_size, image_size] preprocessed;
 * logits: [num_labels]. Stages reported to hook: "embeddings", "layer.i"
 * (model 2: "spatial.layer.i", "spatial.norm", "temporal.embeddings",
 * "temporal.layer.i"), "final_norm", "logits". One forward at a time. */
vidi_status vidi_vivit_forward(vidi_vivit *model, const float *clip, float *logits, vidi_layer_hook hook,
                               void *user);

/* Streaming factorised encoder (model 2): frames are pushed as they arrive;
 * spatial encodings of complete tubelets are cached, so a window that moved
 * by s frames costs s/t spatial encodings plus the temporal encoder. Results
 * equal a full forward over the same num_frames frames. */
typedef struct vidi_vivit_stream vidi_vivit_stream;
vidi_status vidi_vivit_stream_create(vidi_vivit *model, vidi_vivit_stream **out);
void vidi_vivit_stream_free(vidi_vivit_stream *stream);
/* frames: [n, channels, H, W] preprocessed, in order. */
vidi_status vidi_vivit_stream_push(vidi_vivit_stream *stream, const float *frames, int n);
/* Logits over the most recent num_frames frames; VIDI_ERR_ARG before enough have arrived. */
vidi_status vidi_vivit_stream_classify(vidi_vivit_stream *stream, float *logits);

/* 3D kernel inflation (ViViT paper, section 3.4): seeds a tubelet embedding
 * from a 2D ViT patch kernel [hidden, channels, patch_h, patch_w], writing
 * [hidden, channels, tubelet_t, patch_h, patch_w] (PyTorch Conv3d order).
 *   AVERAGE  the 2D kernel on every frame, divided by tubelet_t: a clip
 *            constant over time embeds exactly like one frame through the ViT.
 *   CENTRAL  the 2D kernel on frame tubelet_t / 2, zeros elsewhere (Scenic's
 *            central-frame init): the model starts as uniform frame sampling.
 * The rest of a ViT (cls, blocks, norm, head) maps onto the vidi names one to
 * one; spatiotemporal position embeddings are the ViT's repeated over T'
 * (docs/checkpoints.md). */
typedef enum vidi_vivit_inflation { VIDI_INFLATE_AVERAGE = 0, VIDI_INFLATE_CENTRAL } vidi_vivit_inflation;
vidi_status vidi_vivit_inflate_patch(const float *kernel2d, int hidden, int channels, int patch_h, int patch_w,
                                     int tubelet_t, vidi_vivit_inflation mode, float *kernel3d);

#ifdef __cplusplus
}
#endif
#endif
