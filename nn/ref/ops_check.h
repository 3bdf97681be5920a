/* Argument checks shared by every tier, so ref, cpu and cuda reject the same
 * nonsense with the same message. Each returns VIDI_OK or sets the error. */
#ifndef VIDI_NN_OPS_CHECK_H
#define VIDI_NN_OPS_CHECK_H

#include "vidi/ops.h"

vidi_status vidi_check_linear(const float *out, const float *in, const float *weight, int64_t rows,
                              int64_t in_f, int64_t out_f, vidi_act act);
vidi_status vidi_check_layernorm(const float *out, const float *in, int64_t rows, int64_t dim, float eps);
vidi_status vidi_check_attention(const float *out, const float *q, const float *k, const float *v,
                                 const vidi_attn_layout *layout, float scale);
vidi_status vidi_check_softmax(const float *out, const float *in, int64_t rows, int64_t cols);
vidi_status vidi_check_add(const float *out, const float *a, const float *b, int64_t n);
vidi_status vidi_check_gelu(const float *out, const float *in, int64_t n, vidi_act act);
vidi_status vidi_check_patch_embed(const float *out, const float *video, const float *weight,
                                   const vidi_patch_layout *layout);
vidi_status vidi_check_modulate(const float *out, const float *in, const float *scale, int64_t rows, int64_t dim,
                                float scale_bias);
vidi_status vidi_check_unpatchify(const float *video, const float *tokens, const vidi_patch_layout *layout, int c0,
                                  int nc);
vidi_status vidi_check_sampler_step(const vidi_sampler_step *step, int64_t n);

#endif
