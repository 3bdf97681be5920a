/* 3D kernel inflation: a ViT's 2D patch kernel seeds a ViViT tubelet kernel
 * (Arnab et al. 2021, section 3.4; Scenic's init_from_vit "central_frame_initializer"
 * and the I3D-style average). Host-side: it prepares checkpoint weights,
 * it is not part of a forward pass. */
#include <string.h>

#include "vidi/vivit.h"

vidi_status vidi_vivit_inflate_patch(const float *k2, int hidden, int channels, int ph, int pw, int t,
                                     vidi_vivit_inflation mode, float *k3) {
    if (!k2 || !k3 || hidden <= 0 || channels <= 0 || ph <= 0 || pw <= 0 || t <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_inflate_patch: kernels and positive sizes are required");
    if (mode != VIDI_INFLATE_AVERAGE && mode != VIDI_INFLATE_CENTRAL)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_inflate_patch: unknown mode %d", (int)mode);
    size_t plane = (size_t)ph * pw;
    size_t filters = (size_t)hidden * channels; /* each (out, in) pair owns t planes */
    for (size_t f = 0; f < filters; f++) {
        const float *src = k2 + f * plane;
        float *dst = k3 + f * plane * (size_t)t;
        for (int ti = 0; ti < t; ti++) {
            float *p = dst + (size_t)ti * plane;
            if (mode == VIDI_INFLATE_AVERAGE) {
                for (size_t i = 0; i < plane; i++) p[i] = src[i] / (float)t;
            } else if (ti == t / 2) {
                memcpy(p, src, sizeof(float) * plane);
            } else {
                memset(p, 0, sizeof(float) * plane);
            }
        }
    }
    return VIDI_OK;
}
