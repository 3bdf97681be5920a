/* Per-frame preprocessing (include/vidi/preprocess.h): the sampler's
 * resize / centre crop / normalise for one RGB frame at a time, so a stream
 * feeds a model exactly what `vidi classify` would feed it from a file. */
#include "vidi/preprocess.h"

#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIDE 16384

struct vidi_frame_preprocessor {
    vidi_sampler_params params;
    float lut[3][256];         /* (v * rescale - mean) / std per channel and byte */
    struct SwsContext *sws;    /* cached fast-path scaler */
    uint8_t *resized;          /* scratch: the resized frame, packed RGB */
    size_t resized_size;
    uint8_t *packed;           /* scratch: a strided input repacked for the PIL path */
    size_t packed_size;
};

/* The decoder's filter choice (decode/convert.c), so both paths blur alike. */
static int sws_flags_for(vidi_resample r) {
    switch (r) {
    case VIDI_RESAMPLE_NEAREST: return SWS_POINT;
    case VIDI_RESAMPLE_BICUBIC: return SWS_BICUBIC;
    case VIDI_RESAMPLE_LANCZOS: return SWS_LANCZOS;
    case VIDI_RESAMPLE_BOX: return SWS_AREA;
    default: return SWS_BILINEAR;
    }
}

/* Same rounding as the sampler, the decoder and torchvision "shortest_edge". */
static void resized_size(const vidi_sampler_params *p, int w, int h, int *rw, int *rh) {
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

static vidi_status check_params(const vidi_sampler_params *p) {
    if (p->resize_shorter < 0 || p->resize_shorter > MAX_SIDE || p->resize_w < 0 || p->resize_h < 0 ||
        p->resize_w > MAX_SIDE || p->resize_h > MAX_SIDE || ((p->resize_w > 0) != (p->resize_h > 0)))
        return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: resize %d / %dx%d is invalid", p->resize_shorter,
                              p->resize_w, p->resize_h);
    if (p->crop != VIDI_CROP_NONE && (p->crop_w < 1 || p->crop_h < 1 || p->crop_w > MAX_SIDE || p->crop_h > MAX_SIDE))
        return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: crop size %dx%d is invalid", p->crop_w, p->crop_h);
    for (int c = 0; c < 3; c++)
        if (!(p->std[c] != 0.0f) || p->std[c] != p->std[c] || p->mean[c] != p->mean[c])
            return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: normalisation std[%d] = %g is invalid", c,
                                  p->std[c]);
    return VIDI_OK;
}

vidi_status vidi_preprocess_output_size(const vidi_sampler_params *p, int w, int h, int *out_w, int *out_h) {
    if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE)
        return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: frame size %dx%d is out of range", w, h);
    int rw, rh;
    resized_size(p, w, h, &rw, &rh);
    if (p->crop == VIDI_CROP_NONE) {
        *out_w = rw, *out_h = rh;
        return VIDI_OK;
    }
    if (p->crop_w > rw || p->crop_h > rh)
        return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: crop %dx%d is larger than the resized frame %dx%d",
                              p->crop_w, p->crop_h, rw, rh);
    *out_w = p->crop_w, *out_h = p->crop_h;
    return VIDI_OK;
}

vidi_status vidi_frame_preprocessor_create(const vidi_sampler_params *params, vidi_frame_preprocessor **out) {
    *out = NULL;
    if (!params) return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: params are required");
    vidi_status st = check_params(params);
    if (st) return st;
    vidi_frame_preprocessor *pp = calloc(1, sizeof *pp);
    if (!pp) return vidi_set_error(VIDI_ERR_NOMEM, "frame preprocess: out of memory");
    pp->params = *params;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            pp->lut[c][v] = ((float)v * params->rescale - params->mean[c]) / params->std[c];
    *out = pp;
    return VIDI_OK;
}

void vidi_frame_preprocessor_free(vidi_frame_preprocessor *pp) {
    if (!pp) return;
    sws_freeContext(pp->sws);
    free(pp->resized);
    free(pp->packed);
    free(pp);
}

static uint8_t *scratch(uint8_t **buf, size_t *size, size_t need) {
    if (*size < need) {
        uint8_t *p = realloc(*buf, need);
        if (!p) return NULL;
        *buf = p;
        *size = need;
    }
    return *buf;
}

/* Resize into pp->resized (rw x rh, packed); returns the row stride used. */
static vidi_status resize(vidi_frame_preprocessor *pp, const uint8_t *rgb, int w, int h, int stride, int rw, int rh,
                          const uint8_t **dst, int *dst_stride) {
    const vidi_sampler_params *p = &pp->params;
    if (rw == w && rh == h) { /* no resize: crop straight from the input */
        *dst = rgb, *dst_stride = stride;
        return VIDI_OK;
    }
    if (p->exact_resize) {
        /* vidi_image_resize takes packed rows; repack only when strided. */
        const uint8_t *src = rgb;
        if (stride != w * 3) {
            uint8_t *packed = scratch(&pp->packed, &pp->packed_size, (size_t)w * h * 3);
            if (!packed) return vidi_set_error(VIDI_ERR_NOMEM, "frame preprocess: out of memory");
            for (int y = 0; y < h; y++) memcpy(packed + (size_t)y * w * 3, rgb + (size_t)y * stride, (size_t)w * 3);
            src = packed;
        }
        vidi_image in = {w, h, (uint8_t *)src}, res = {0, 0, NULL};
        vidi_status st = vidi_image_resize(&in, rw, rh, p->resample, &res);
        if (st) return vidi_wrap_error(st, "frame preprocess");
        /* Keep the result as the scratch buffer (no second copy). */
        free(pp->resized);
        pp->resized = res.rgb;
        pp->resized_size = (size_t)rw * rh * 3;
        *dst = pp->resized, *dst_stride = rw * 3;
        return VIDI_OK;
    }
    uint8_t *out = scratch(&pp->resized, &pp->resized_size, (size_t)rw * rh * 3);
    if (!out) return vidi_set_error(VIDI_ERR_NOMEM, "frame preprocess: out of memory");
    int flags = sws_flags_for(p->resample);
    if ((int64_t)rw * rh >= (int64_t)w * h) flags |= SWS_ACCURATE_RND; /* as the decoder upscales */
    pp->sws = sws_getCachedContext(pp->sws, w, h, AV_PIX_FMT_RGB24, rw, rh, AV_PIX_FMT_RGB24, flags, NULL, NULL, NULL);
    if (!pp->sws) return vidi_set_error(VIDI_ERR_UNSUPPORTED, "frame preprocess: no scaler for %dx%d -> %dx%d", w, h, rw, rh);
    const uint8_t *src_planes[4] = {rgb, NULL, NULL, NULL};
    int src_strides[4] = {stride, 0, 0, 0};
    uint8_t *dst_planes[4] = {out, NULL, NULL, NULL};
    int dst_strides[4] = {rw * 3, 0, 0, 0};
    sws_scale(pp->sws, src_planes, src_strides, 0, h, dst_planes, dst_strides);
    *dst = out, *dst_stride = rw * 3;
    return VIDI_OK;
}

vidi_status vidi_frame_preprocessor_run(vidi_frame_preprocessor *pp, const uint8_t *rgb, int w, int h, int stride,
                                        float *out) {
    if (!pp || !rgb || !out) return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: frame and output are required");
    const vidi_sampler_params *p = &pp->params;
    int W, H;
    vidi_status st = vidi_preprocess_output_size(p, w, h, &W, &H);
    if (st) return st;
    if (stride < w * 3)
        return vidi_set_error(VIDI_ERR_ARG, "frame preprocess: row stride %d is shorter than %d pixels", stride, w);
    int rw, rh, rstride = 0;
    resized_size(p, w, h, &rw, &rh);
    const uint8_t *res = NULL;
    if ((st = resize(pp, rgb, w, h, stride, rw, rh, &res, &rstride))) return st;
    /* The sampler's crop origin (integer halving, not round-half-even). */
    int x0 = (rw - W) / 2, y0 = (rh - H) / 2;
    for (int y = 0; y < H; y++) {
        const uint8_t *row = res + (size_t)(y0 + y) * rstride + (size_t)x0 * 3;
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) out[((size_t)c * H + y) * W + x] = pp->lut[c][row[x * 3 + c]];
    }
    return VIDI_OK;
}

vidi_status vidi_preprocess_frame(const vidi_sampler_params *params, const uint8_t *rgb, int w, int h, int stride,
                                  float *out) {
    vidi_frame_preprocessor *pp;
    vidi_status st = vidi_frame_preprocessor_create(params, &pp);
    if (st) return st;
    st = vidi_frame_preprocessor_run(pp, rgb, w, h, stride, out);
    vidi_frame_preprocessor_free(pp);
    return st;
}
