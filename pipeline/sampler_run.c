/* Clip sampler, second half: decode the planned frames, resize, crop and
 * normalise into views. */
#include <stdlib.h>
#include <string.h>

#include "vidi/sampler.h"

/* One video's views must fit in memory with room to spare. */
#define MAX_VIEW_FLOATS ((size_t)1 << 32)

/* Same rounding as the decoder and as torchvision / HF "shortest_edge". */
static void target_size(const vidi_sampler_params *p, int w, int h, int *rw, int *rh) {
    if (p->resize_shorter > 0) {
        int s = p->resize_shorter;
        if (w <= h) *rw = s, *rh = (int)((int64_t)s * h / w);
        else *rh = s, *rw = (int)((int64_t)s * w / h);
        if (*rw < 1) *rw = 1;
        if (*rh < 1) *rh = 1;
    } else if (p->resize_w > 0) {
        *rw = p->resize_w, *rh = p->resize_h;
    } else {
        *rw = w, *rh = h;
    }
}

/* Crop k of n: centre, or left/centre/right (top/centre/bottom) along the
 * longer side, the other axis centred (mmaction2 ThreeCrop's offsets). */
static void crop_origin(int W, int H, int cw, int ch, vidi_crop_mode mode, int k, int *x0, int *y0) {
    *x0 = (W - cw) / 2;
    *y0 = (H - ch) / 2;
    if (mode != VIDI_CROP_THREE) return;
    if (W - cw >= H - ch) *x0 = k * ((W - cw) / 2);
    else *y0 = k * ((H - ch) / 2);
}

static vidi_status fit_frame(const char *label, const vidi_sampler_params *p, vidi_frame *f, int rw, int rh) {
    if (f->width == rw && f->height == rh) return VIDI_OK;
    vidi_image in = {f->width, f->height, f->rgb}, out = {0, 0, NULL};
    vidi_status st = vidi_image_resize(&in, rw, rh, p->resample, &out);
    if (st) return vidi_wrap_error(st, "%s", label);
    free(f->rgb);
    f->rgb = out.rgb;
    f->width = rw;
    f->height = rh;
    return VIDI_OK;
}

vidi_status vidi_sampler_run(vidi_decoder *dec, const vidi_sampler_params *params, vidi_clip_views *out) {
    memset(out, 0, sizeof *out);
    const char *label = vidi_decoder_input(dec);
    int64_t total = 0;
    vidi_status st = vidi_decoder_count_frames(dec, &total);
    if (st) return st;
    if (total <= 0) return vidi_set_error(VIDI_ERR_FORMAT, "%s: no video frames", label);
    vidi_sample_plan plan;
    if ((st = vidi_sampler_plan(params, total, &plan))) return vidi_wrap_error(st, "%s", label);
    int T = plan.frames_per_clip, n = plan.n_clips * T;
    vidi_frame *frames = calloc((size_t)n, sizeof *frames);
    if (!frames) {
        vidi_sample_plan_free(&plan);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", label);
    }
    if ((st = vidi_decoder_read_indices(dec, plan.indices, n, frames))) goto done;
    int rw, rh;
    target_size(params, frames[0].width, frames[0].height, &rw, &rh);
    for (int i = 0; i < n; i++)
        if ((st = fit_frame(label, params, &frames[i], rw, rh))) goto done;
    int n_crops = params->crop == VIDI_CROP_THREE ? 3 : 1;
    int W = params->crop == VIDI_CROP_NONE ? rw : params->crop_w;
    int H = params->crop == VIDI_CROP_NONE ? rh : params->crop_h;
    if (W > rw || H > rh) {
        st = vidi_set_error(VIDI_ERR_ARG, "%s: crop %dx%d is larger than the resized frame %dx%d", label, W, H, rw, rh);
        goto done;
    }
    size_t view_floats = (size_t)T * 3 * H * W, count = view_floats * plan.n_clips * n_crops;
    if (count > MAX_VIEW_FLOATS) {
        st = vidi_set_error(VIDI_ERR_NOMEM, "%s: %zu floats of views is too much", label, count);
        goto done;
    }
    out->data = malloc(count * sizeof(float));
    out->indices = malloc(sizeof *out->indices * (size_t)n);
    if (!out->data || !out->indices) {
        st = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for %zu floats of views", label, count);
        goto done;
    }
    memcpy(out->indices, plan.indices, sizeof *out->indices * (size_t)n);
    /* (v * rescale - mean) / std for every byte value, per channel. */
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) lut[c][v] = ((float)v * params->rescale - params->mean[c]) / params->std[c];
    for (int clip = 0; clip < plan.n_clips; clip++) {
        for (int k = 0; k < n_crops; k++) {
            float *view = out->data + (size_t)(clip * n_crops + k) * view_floats;
            int x0, y0;
            crop_origin(rw, rh, W, H, params->crop, k, &x0, &y0);
            for (int t = 0; t < T; t++) {
                const uint8_t *rgb = frames[clip * T + t].rgb;
                float *dst = view + (size_t)t * 3 * H * W;
                for (int y = 0; y < H; y++) {
                    const uint8_t *row = rgb + ((size_t)(y0 + y) * rw + x0) * 3;
                    for (int x = 0; x < W; x++)
                        for (int c = 0; c < 3; c++) dst[((size_t)c * H + y) * W + x] = lut[c][row[x * 3 + c]];
                }
            }
        }
    }
    out->n_clips = plan.n_clips;
    out->n_crops = n_crops;
    out->n_views = plan.n_clips * n_crops;
    out->frames = T;
    out->channels = 3;
    out->height = H;
    out->width = W;
    out->frames_lost = vidi_decoder_frames_lost(dec);
done:
    for (int i = 0; i < n; i++) vidi_frame_free(&frames[i]);
    free(frames);
    vidi_sample_plan_free(&plan);
    if (st) vidi_clip_views_free(out);
    return st;
}

void vidi_clip_views_free(vidi_clip_views *views) {
    if (!views) return;
    free(views->data);
    free(views->indices);
    memset(views, 0, sizeof *views);
}
