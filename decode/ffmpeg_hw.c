/* NVDEC through FFmpeg's CUDA hwaccel (`--hwaccel cuda`). The decoder gets a
 * CUDA device context and a get_format callback that picks AV_PIX_FMT_CUDA;
 * decoded surfaces are downloaded (av_hwframe_transfer_data) to the same
 * software format a software decoder would give (NV12 / P010 ...), and the
 * shared conversion (convert.c) takes it from there, so frames are the same
 * pictures either way. Whenever CUDA cannot be used — FFmpeg without it, no
 * driver or GPU, a codec or profile NVDEC does not take — decoding stays in
 * software and info.hwaccel says why; opening never fails because of it. */
#include <libavutil/hwcontext.h>
#include <libavutil/pixdesc.h>

#include "decode/ffmpeg.h"

static void note(ff_decoder *ff, const char *fmt, const char *arg) {
    char reason[160];
    snprintf(reason, sizeof reason, fmt, arg);
    snprintf(ff->dec->info.hwaccel, sizeof ff->dec->info.hwaccel, "none (cuda: %s)", reason);
}

/* The CUDA format when the decoder offers it for this stream; otherwise the
 * first software format (NVDEC does not take every profile). */
static enum AVPixelFormat pick_format(AVCodecContext *c, const enum AVPixelFormat *fmts) {
    const ff_decoder *ff = c->opaque;
    for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++)
        if ((int)*p == ff->hw_pix_fmt) return *p;
    for (const enum AVPixelFormat *p = fmts; *p != AV_PIX_FMT_NONE; p++) {
        const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(*p);
        if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) return *p;
    }
    return AV_PIX_FMT_NONE;
}

void ff_hw_setup(ff_decoder *ff, const AVCodec *decoder) {
    snprintf(ff->dec->info.hwaccel, sizeof ff->dec->info.hwaccel, "none");
    if (ff->dec->params.hwaccel != VIDI_HWACCEL_CUDA) return;
    const AVCodecHWConfig *cfg = NULL;
    for (int i = 0; (cfg = avcodec_get_hw_config(decoder, i)); i++)
        if (cfg->device_type == AV_HWDEVICE_TYPE_CUDA && (cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX))
            break;
    if (!cfg) {
        note(ff, "FFmpeg has no CUDA decoder for %s", decoder->name);
        return;
    }
    int err = av_hwdevice_ctx_create(&ff->hw_device, AV_HWDEVICE_TYPE_CUDA, NULL, NULL, 0);
    if (err < 0) {
        char msg[AV_ERROR_MAX_STRING_SIZE] = {0};
        av_strerror(err, msg, sizeof msg);
        note(ff, "no CUDA device (%s)", msg);
        ff->hw_device = NULL;
        return;
    }
    ff->sw_frame = av_frame_alloc();
    if (!ff->sw_frame || !(ff->codec->hw_device_ctx = av_buffer_ref(ff->hw_device))) {
        note(ff, "%s", "out of memory");
        ff_hw_free(ff);
        return;
    }
    ff->hw_pix_fmt = cfg->pix_fmt;
    ff->codec->opaque = ff;
    ff->codec->get_format = pick_format;
    snprintf(ff->dec->info.hwaccel, sizeof ff->dec->info.hwaccel, "cuda");
}

const AVFrame *ff_hw_frame(ff_decoder *ff, const AVFrame *f) {
    if (ff->hw_pix_fmt == AV_PIX_FMT_NONE || f->format != ff->hw_pix_fmt) return f;
    av_frame_unref(ff->sw_frame);
    int err = av_hwframe_transfer_data(ff->sw_frame, f, 0);
    if (err >= 0) err = av_frame_copy_props(ff->sw_frame, f);
    if (err < 0) {
        ff_fail(ff, VIDI_ERR_DECODE, "cannot download a decoded frame from the GPU", err);
        return NULL;
    }
    return ff->sw_frame;
}

void ff_hw_free(ff_decoder *ff) {
    av_frame_free(&ff->sw_frame);
    av_buffer_unref(&ff->hw_device);
}
