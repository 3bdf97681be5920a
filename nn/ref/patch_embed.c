/* Reference patch / tubelet embedding (a strided Conv3d, written as loops)
 * and its gather read backwards, unpatchify. */
#include "nn/ref/ops_check.h"

vidi_status vidi_ref_patch_embed(vidi_be *be, float *out, const float *video, const float *weight,
                                 const float *bias, const vidi_patch_layout *l) {
    (void)be;
    vidi_status st = vidi_check_patch_embed(out, video, weight, l);
    if (st != VIDI_OK) return st;
    const int nt = l->frames / l->patch_t, nh = l->height / l->patch_h, nw = l->width / l->patch_w;
    const int64_t plane = (int64_t)l->height * l->width;
    for (int ti = 0; ti < nt; ti++)
        for (int hi = 0; hi < nh; hi++)
            for (int wi = 0; wi < nw; wi++) {
                int64_t row = ((int64_t)ti * nh + hi) * nw + wi;
                for (int o = 0; o < l->hidden; o++) {
                    double acc = bias ? (double)bias[o] : 0.0;
                    const float *w = weight + (int64_t)o * l->channels * l->patch_t * l->patch_h * l->patch_w;
                    for (int c = 0; c < l->channels; c++)
                        for (int kt = 0; kt < l->patch_t; kt++)
                            for (int kh = 0; kh < l->patch_h; kh++)
                                for (int kw = 0; kw < l->patch_w; kw++) {
                                    int64_t t = (int64_t)ti * l->patch_t + kt;
                                    int64_t y = (int64_t)hi * l->patch_h + kh;
                                    int64_t x = (int64_t)wi * l->patch_w + kw;
                                    acc += (double)video[(t * l->channels + c) * plane + y * l->width + x] *
                                           (double)*w++;
                                }
                    out[row * l->out_row_stride + o] = (float)acc;
                }
            }
    return VIDI_OK;
}

vidi_status vidi_ref_unpatchify(vidi_be *be, float *video, const float *tokens, const vidi_patch_layout *l, int c0,
                                int nc) {
    (void)be;
    vidi_status st = vidi_check_unpatchify(video, tokens, l, c0, nc);
    if (st != VIDI_OK) return st;
    const int nh = l->height / l->patch_h, nw = l->width / l->patch_w;
    for (int t = 0; t < l->frames; t++)
        for (int c = 0; c < nc; c++)
            for (int y = 0; y < l->height; y++)
                for (int x = 0; x < l->width; x++) {
                    int64_t row = ((int64_t)(t / l->patch_t) * nh + y / l->patch_h) * nw + x / l->patch_w;
                    int64_t col = (((int64_t)(c0 + c) * l->patch_t + t % l->patch_t) * l->patch_h + y % l->patch_h) *
                                      l->patch_w + x % l->patch_w;
                    video[(((int64_t)t * nc + c) * l->height + y) * l->width + x] = tokens[row * l->out_row_stride + col];
                }
    return VIDI_OK;
}
