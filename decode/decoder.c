/* vidi_decoder: the backend-independent half. Parameter checks, backend
 * dispatch, and read_indices' sort / de-duplicate / scatter so that each
 * backend only ever walks forward through ascending unique indices. */
#include "decode/decoder.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_PIXELS ((int64_t)1 << 26) /* 8K UHD is 2^25: room for anything real */

vidi_decoder_params vidi_decoder_default_params(void) {
    vidi_decoder_params p;
    memset(&p, 0, sizeof p);
    p.backend = VIDI_DECODER_FFMPEG;
    p.resample = VIDI_RESAMPLE_BILINEAR;
    p.timeout_s = 5.0;
    return p;
}

const char *vidi_decoder_backend_name(vidi_decoder_backend backend) {
    return backend == VIDI_DECODER_GST ? "gst" : "ffmpeg";
}

int vidi_decoder_backend_available(vidi_decoder_backend backend) {
#ifdef VIDI_HAVE_GST
    return backend == VIDI_DECODER_FFMPEG || backend == VIDI_DECODER_GST;
#else
    return backend == VIDI_DECODER_FFMPEG;
#endif
}

vidi_status vidi_decoder_backend_parse(const char *name, vidi_decoder_backend *out) {
    if (!strcmp(name, "ffmpeg")) {
        *out = VIDI_DECODER_FFMPEG;
        return VIDI_OK;
    }
    if (!strcmp(name, "gst") || !strcmp(name, "gstreamer")) {
        if (!vidi_decoder_backend_available(VIDI_DECODER_GST))
            return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                                  "decoder 'gst': vidi was not built with GStreamer (configure with -DVIDI_GST=ON "
                                  "and the gstreamer-1.0, gstreamer-app-1.0, gstreamer-video-1.0 dev packages)");
        *out = VIDI_DECODER_GST;
        return VIDI_OK;
    }
    return vidi_set_error(VIDI_ERR_ARG, "decoder '%s': unknown (expected ffmpeg or gst)", name);
}

int64_t vidi_decoder_max_pixels(const vidi_decoder_params *p) {
    return p->max_pixels > 0 ? p->max_pixels : DEFAULT_MAX_PIXELS;
}

static vidi_status check_params(const char *label, const vidi_decoder_params *p) {
    if (p->threads < 0 || p->threads > 256)
        return vidi_set_error(VIDI_ERR_ARG, "%s: decoder threads %d out of range [0, 256]", label, p->threads);
    if (p->out_width < 0 || p->out_height < 0 || p->shorter_side < 0 || p->out_width > 16384 ||
        p->out_height > 16384 || p->shorter_side > 16384 || ((p->out_width > 0) != (p->out_height > 0)))
        return vidi_set_error(VIDI_ERR_ARG, "%s: output size %dx%d / shorter side %d is invalid", label,
                              p->out_width, p->out_height, p->shorter_side);
    if (!(p->timeout_s > 0) || p->timeout_s > 86400)
        return vidi_set_error(VIDI_ERR_ARG, "%s: timeout %g s is invalid", label, p->timeout_s);
    if ((int)p->resample < 0 || (int)p->resample > VIDI_RESAMPLE_HAMMING)
        return vidi_set_error(VIDI_ERR_ARG, "%s: unknown resample filter %d", label, (int)p->resample);
    return VIDI_OK;
}

vidi_status vidi_decoder_alloc(const char *label, const vidi_decoder_params *params, vidi_decoder **out) {
    *out = NULL;
    vidi_decoder_params p = params ? *params : vidi_decoder_default_params();
    vidi_status st = check_params(label, &p);
    if (st) return st;
    vidi_decoder *dec = calloc(1, sizeof *dec);
    char *copy = strdup(label);
    if (!dec || !copy) {
        free(dec);
        free(copy);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", label);
    }
    dec->label = copy;
    dec->params = p;
    dec->info.backend = vidi_decoder_backend_name(p.backend);
    *out = dec;
    return VIDI_OK;
}

void vidi_decoder_free_shell(vidi_decoder *dec) {
    if (!dec) return;
    free(dec->label);
    free(dec);
}

vidi_status vidi_decoder_open(const char *url, const vidi_decoder_params *params, vidi_decoder **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_decoder_open: out is NULL");
    *out = NULL;
    if (!url || !*url) return vidi_set_error(VIDI_ERR_ARG, "vidi_decoder_open: empty input name");
    vidi_decoder *dec;
    vidi_status st = vidi_decoder_alloc(url, params, &dec);
    if (st) return st;
    if (!vidi_decoder_backend_available(dec->params.backend)) {
        vidi_decoder_free_shell(dec);
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: vidi was not built with GStreamer (decoder 'gst')", url);
    }
#ifdef VIDI_HAVE_GST
    if (dec->params.backend == VIDI_DECODER_GST)
        st = vidi_gst_open(dec, url);
    else
#endif
        st = vidi_ffmpeg_open(dec, url);
    if (st) {
        vidi_decoder_free_shell(dec);
        return st;
    }
    *out = dec;
    return VIDI_OK;
}

vidi_status vidi_decoder_open_memory(const void *data, size_t size, const char *label,
                                     const vidi_decoder_params *params, vidi_decoder **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_decoder_open_memory: out is NULL");
    *out = NULL;
    if (!label) label = "<memory>";
    vidi_decoder *dec;
    vidi_status st = vidi_decoder_alloc(label, params, &dec);
    if (st) return st;
    if (dec->params.backend != VIDI_DECODER_FFMPEG) {
        vidi_decoder_free_shell(dec);
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: in-memory input needs the ffmpeg decoder", label);
    }
    if ((st = vidi_ffmpeg_open_memory(dec, data, size))) {
        vidi_decoder_free_shell(dec);
        return st;
    }
    *out = dec;
    return VIDI_OK;
}

void vidi_decoder_close(vidi_decoder *dec) {
    if (!dec) return;
    dec->ops->close(dec);
    vidi_decoder_free_shell(dec);
}

const vidi_video_info *vidi_decoder_info(const vidi_decoder *dec) { return &dec->info; }

const char *vidi_decoder_input(const vidi_decoder *dec) { return dec->label; }

int64_t vidi_decoder_frames_lost(const vidi_decoder *dec) { return dec->lost; }

vidi_status vidi_decoder_count_frames(vidi_decoder *dec, int64_t *count) {
    return dec->ops->count_frames(dec, count);
}

vidi_status vidi_decoder_next(vidi_decoder *dec, vidi_frame *frame, int *got) {
    *got = 0;
    return dec->ops->next(dec, frame, got);
}

vidi_status vidi_decoder_read_time(vidi_decoder *dec, double seconds, vidi_frame *frame) {
    memset(frame, 0, sizeof *frame);
    if (!(seconds >= 0) || seconds > 1e9)
        return vidi_set_error(VIDI_ERR_ARG, "%s: time %g s is out of range", dec->label, seconds);
    return dec->ops->read_time(dec, seconds, frame);
}

void vidi_frame_free(vidi_frame *frame) {
    if (!frame) return;
    free(frame->rgb);
    memset(frame, 0, sizeof *frame);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static vidi_status copy_frame(const vidi_frame *src, vidi_frame *dst, const char *label) {
    size_t bytes = (size_t)src->width * src->height * 3;
    *dst = *src;
    dst->rgb = malloc(bytes);
    if (!dst->rgb) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for a frame copy", label);
    memcpy(dst->rgb, src->rgb, bytes);
    return VIDI_OK;
}

vidi_status vidi_decoder_read_indices(vidi_decoder *dec, const int64_t *indices, int n, vidi_frame *frames) {
    if (n <= 0) return n == 0 ? VIDI_OK : vidi_set_error(VIDI_ERR_ARG, "%s: negative frame count", dec->label);
    memset(frames, 0, sizeof *frames * (size_t)n);
    for (int i = 0; i < n; i++)
        if (indices[i] < 0)
            return vidi_set_error(VIDI_ERR_ARG, "%s: frame index %lld is negative", dec->label,
                                  (long long)indices[i]);
    int64_t *uniq = malloc(sizeof *uniq * (size_t)n);
    int *owner = malloc(sizeof *owner * (size_t)n);
    vidi_frame *got = calloc((size_t)n, sizeof *got);
    if (!uniq || !owner || !got) {
        free(uniq);
        free(owner);
        free(got);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", dec->label);
    }
    memcpy(uniq, indices, sizeof *uniq * (size_t)n);
    qsort(uniq, (size_t)n, sizeof *uniq, cmp_i64);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || uniq[m - 1] != uniq[i]) owner[m] = -1, uniq[m++] = uniq[i];
    vidi_status st = dec->ops->read_sorted(dec, uniq, m, got);
    /* Scatter: the first request of each index takes the decoded buffer,
     * repeats get copies of it. */
    for (int i = 0; st == VIDI_OK && i < n; i++) {
        int j = (int)((int64_t *)bsearch(&indices[i], uniq, (size_t)m, sizeof *uniq, cmp_i64) - uniq);
        if (owner[j] < 0) {
            frames[i] = got[j];
            got[j].rgb = NULL;
            owner[j] = i;
        } else {
            st = copy_frame(&frames[owner[j]], &frames[i], dec->label);
        }
    }
    for (int i = 0; i < m; i++) vidi_frame_free(&got[i]);
    if (st)
        for (int i = 0; i < n; i++) vidi_frame_free(&frames[i]);
    free(got);
    free(owner);
    free(uniq);
    return st;
}

void vidi_decoder_out_size(const vidi_decoder_params *p, int disp_w, int disp_h, int *out_w, int *out_h) {
    if (p->out_width > 0 && p->out_height > 0) {
        *out_w = p->out_width;
        *out_h = p->out_height;
    } else if (p->shorter_side > 0) {
        /* Same rounding as torchvision / HF "shortest_edge": long = int(S * long / short). */
        if (disp_w <= disp_h) {
            *out_w = p->shorter_side;
            *out_h = (int)((int64_t)p->shorter_side * disp_h / disp_w);
        } else {
            *out_h = p->shorter_side;
            *out_w = (int)((int64_t)p->shorter_side * disp_w / disp_h);
        }
        if (*out_w < 1) *out_w = 1;
        if (*out_h < 1) *out_h = 1;
    } else {
        *out_w = disp_w;
        *out_h = disp_h;
    }
}

void vidi_rgb_rotate(const uint8_t *src, int w, int h, int rotation, uint8_t *dst) {
    if (rotation == 0) {
        memcpy(dst, src, (size_t)w * h * 3);
        return;
    }
    int dw = (rotation == 180) ? w : h;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            int dx, dy;
            if (rotation == 90) dx = h - 1 - y, dy = x;
            else if (rotation == 180) dx = w - 1 - x, dy = h - 1 - y;
            else dx = y, dy = w - 1 - x;
            const uint8_t *s = src + ((size_t)y * w + x) * 3;
            uint8_t *d = dst + ((size_t)dy * dw + dx) * 3;
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
        }
    }
}
