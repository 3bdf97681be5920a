/* Shared picture -> RGB conversion (see convert.h). */
#include "decode/convert.h"

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

static int sws_flags(vidi_resample r) {
    switch (r) {
    case VIDI_RESAMPLE_NEAREST: return SWS_POINT;
    case VIDI_RESAMPLE_BICUBIC: return SWS_BICUBIC;
    case VIDI_RESAMPLE_LANCZOS: return SWS_LANCZOS;
    case VIDI_RESAMPLE_BOX: return SWS_AREA;
    default: return SWS_BILINEAR;
    }
}

/* yuvj* formats are yuv* at full range; naming the range explicitly keeps
 * swscale from guessing (and from warning about deprecated formats). */
static enum AVPixelFormat unjpeg(enum AVPixelFormat f, int *full_range) {
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full_range = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full_range = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full_range = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full_range = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full_range = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

static int sws_colorspace(enum AVColorSpace cs) {
    switch (cs) {
    case AVCOL_SPC_BT709: return SWS_CS_ITU709;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return SWS_CS_BT2020;
    case AVCOL_SPC_SMPTE240M: return SWS_CS_SMPTE240M;
    case AVCOL_SPC_FCC: return SWS_CS_FCC;
    default: return SWS_CS_ITU601; /* unspecified: what players assume for SD */
    }
}

void vidi_converter_free(vidi_converter *c) {
    sws_freeContext(c->sws);
    free(c->tmp);
    memset(c, 0, sizeof *c);
}

vidi_status vidi_convert_picture(vidi_converter *c, const vidi_picture *pic, int rotation,
                                 const vidi_decoder_params *params, const char *label, int64_t index,
                                 vidi_frame *out) {
    memset(out, 0, sizeof *out);
    int w = pic->width, h = pic->height;
    if (w <= 0 || h <= 0 || (int64_t)w * h > vidi_decoder_max_pixels(params))
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: frame %lld has unsupported size %dx%d", label,
                              (long long)index, w, h);
    int rot = rotation;
    int disp_w = rot % 180 ? h : w, disp_h = rot % 180 ? w : h, ow, oh;
    vidi_decoder_out_size(params, disp_w, disp_h, &ow, &oh);
    int sw = rot % 180 ? oh : ow, sh = rot % 180 ? ow : oh;
    int full = pic->full_range;
    enum AVPixelFormat src_fmt = unjpeg(pic->format, &full);
    int cs = sws_colorspace(pic->colorspace);
    /* Full-resolution output gets exact rounding and interpolated chroma;
     * a downscale (the sampler's usual case) averages both away, so it
     * takes swscale's fast path, as ffmpeg's scale filter does. */
    int flags = sws_flags(params->resample);
    if ((int64_t)sw * sh >= (int64_t)w * h) flags |= SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
    int key[7] = {w, h, (int)src_fmt, sw, sh, full * 16 + cs, flags};
    /* Our own key, not sws_getCachedContext: swscale rewrites a context's
     * flags for RGB24 output, so the cached call rebuilt the context on every
     * frame, and where malloc handed back the same address (decode workers'
     * thread arenas) the range/matrix set-up below was skipped: MJPEG frames
     * came out with the range expanded twice. */
    if (!c->sws || memcmp(key, c->key, sizeof key) != 0) {
        sws_freeContext(c->sws);
        memset(c->key, 0, sizeof c->key);
        c->sws = sws_getContext(w, h, src_fmt, sw, sh, AV_PIX_FMT_RGB24, flags, NULL, NULL, NULL);
        if (!c->sws)
            return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: cannot convert pixel format %s to RGB", label,
                                  av_get_pix_fmt_name(pic->format));
        const int *coef = sws_getCoefficients(cs);
        sws_setColorspaceDetails(c->sws, coef, full, sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
        memcpy(c->key, key, sizeof key);
    }
    struct SwsContext *sws = c->sws;
    size_t bytes = (size_t)ow * oh * 3;
    uint8_t *rgb = malloc(bytes);
    if (!rgb) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for a %dx%d frame", label, ow, oh);
    uint8_t *dst = rgb;
    if (rot) {
        if (c->tmp_size < bytes) {
            free(c->tmp);
            c->tmp = malloc(bytes);
            c->tmp_size = c->tmp ? bytes : 0;
            if (!c->tmp) {
                free(rgb);
                return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", label);
            }
        }
        dst = c->tmp;
    }
    uint8_t *planes[4] = {dst, NULL, NULL, NULL};
    int strides[4] = {sw * 3, 0, 0, 0};
    sws_scale(sws, pic->data, pic->linesize, 0, h, planes, strides);
    if (rot) vidi_rgb_rotate(dst, sw, sh, rot, rgb);
    out->width = ow;
    out->height = oh;
    out->rgb = rgb;
    out->index = index;
    return VIDI_OK;
}
