/* Video writer: RGB24 frames -> libswscale -> libavcodec encoder ->
 * libavformat muxer, into "<path>.tmp" renamed on success (see video_writer.h). */
#include "vidi/video_writer.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Large enough for 8K; keeps a typo from asking for gigabytes per frame. */
#define VIDI_WRITER_MAX_SIDE 8192

typedef struct codec_info {
    const char *name;      /* what users type */
    const char *encoder;   /* libavcodec encoder name */
    enum AVPixelFormat pix_fmt;
    const char *extension; /* default container */
    int default_quality;   /* crf or qscale; 0: none */
    int quality_max;
} codec_info;

static const codec_info codecs[] = {
    {"h264", "libx264", AV_PIX_FMT_YUV420P, "mp4", 23, 51},
    {"vp9", "libvpx-vp9", AV_PIX_FMT_YUV420P, "webm", 32, 63},
    /* The J (full-range) format is what the mjpeg encoder takes without
     * lowering its strictness, and what JPEG decoders assume. */
    {"mjpeg", "mjpeg", AV_PIX_FMT_YUVJ420P, "avi", 4, 31},
    {"mpeg4", "mpeg4", AV_PIX_FMT_YUV420P, "mp4", 4, 31},
    {"gif", "gif", AV_PIX_FMT_RGB8, "gif", 0, 0},
};

struct vidi_video_writer {
    char *path, *tmp_path;
    const codec_info *info;
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *stream;
    AVFrame *frame;
    AVPacket *pkt;
    struct SwsContext *sws;
    int width, height;
    int64_t frames;
    int file_open; /* tmp_path exists and must be removed on failure */
};

static const codec_info *find_codec(const char *name) {
    for (size_t i = 0; name && i < sizeof codecs / sizeof codecs[0]; i++)
        if (!strcmp(codecs[i].name, name)) return &codecs[i];
    return NULL;
}

static vidi_status av_failure(const char *path, const char *what, int averr) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(averr, buf, sizeof buf);
    return vidi_set_error(VIDI_ERR_IO, "%s: %s: %s", path, what, buf);
}

vidi_video_writer_params vidi_video_writer_default_params(void) {
    vidi_video_writer_params p;
    memset(&p, 0, sizeof p);
    p.codec = "h264";
    p.fps_num = 25;
    p.fps_den = 1;
    p.crf = -1;
    p.threads = 1;
    return p;
}

vidi_status vidi_video_codec_check(const char *codec) {
    const codec_info *info = find_codec(codec);
    if (!info)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "codec '%s': unknown (expected h264, vp9, mjpeg, mpeg4 or gif)",
                              codec ? codec : "(null)");
    if (!avcodec_find_encoder_by_name(info->encoder))
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "codec '%s': this FFmpeg's libavcodec has no %s encoder "
                              "(on Debian it comes with libavcodec59; check 'ffmpeg -encoders')",
                              codec, info->encoder);
    return VIDI_OK;
}

const char *vidi_video_codec_extension(const char *codec) {
    const codec_info *info = find_codec(codec);
    return info ? info->extension : NULL;
}

int64_t vidi_video_writer_frames(const vidi_video_writer *w) { return w ? w->frames : 0; }

static void writer_free(vidi_video_writer *w) {
    if (!w) return;
    if (w->fmt && w->fmt->pb) avio_closep(&w->fmt->pb);
    if (w->file_open) remove(w->tmp_path);
    sws_freeContext(w->sws);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    avcodec_free_context(&w->enc);
    avformat_free_context(w->fmt);
    free(w->path);
    free(w->tmp_path);
    free(w);
}

void vidi_video_writer_abort(vidi_video_writer *w) { writer_free(w); }

static vidi_status check_params(const char *path, const vidi_video_writer_params *p) {
    if (p->width <= 0 || p->height <= 0 || p->width > VIDI_WRITER_MAX_SIDE || p->height > VIDI_WRITER_MAX_SIDE)
        return vidi_set_error(VIDI_ERR_ARG, "%s: frame size %dx%d outside 1..%d", path, p->width, p->height,
                              VIDI_WRITER_MAX_SIDE);
    if (p->fps_num <= 0 || p->fps_den <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "%s: frame rate %d/%d is not positive", path, p->fps_num, p->fps_den);
    if (p->threads < 0 || p->gop < 0 || p->bit_rate < 0)
        return vidi_set_error(VIDI_ERR_ARG, "%s: negative threads, gop or bit rate", path);
    return VIDI_OK;
}

/* Rate control: bit rate when asked, else the codec's constant-quality knob. */
static vidi_status set_quality(vidi_video_writer *w, const vidi_video_writer_params *p) {
    const codec_info *info = w->info;
    AVCodecContext *enc = w->enc;
    if (p->bit_rate > 0) {
        enc->bit_rate = p->bit_rate;
        return VIDI_OK;
    }
    if (!info->default_quality) return VIDI_OK;
    int q = p->crf >= 0 ? p->crf : info->default_quality;
    int lo = !strcmp(info->encoder, "libx264") || !strcmp(info->encoder, "libvpx-vp9") ? 0 : 2;
    if (q < lo || q > info->quality_max)
        return vidi_set_error(VIDI_ERR_ARG, "%s: quality %d outside %d..%d for %s", w->path, q, lo,
                              info->quality_max, info->name);
    if (!strcmp(info->encoder, "libx264") || !strcmp(info->encoder, "libvpx-vp9")) {
        /* vp9 is constant-quality only when the bit rate is zero. */
        enc->bit_rate = 0;
        if (av_opt_set_int(enc->priv_data, "crf", q, 0) < 0)
            return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: %s rejects crf", w->path, info->encoder);
    } else {
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = q * FF_QP2LAMBDA;
    }
    return VIDI_OK;
}

static vidi_status open_encoder(vidi_video_writer *w, const vidi_video_writer_params *p) {
    const AVCodec *codec = avcodec_find_encoder_by_name(w->info->encoder);
    if (!codec) return vidi_video_codec_check(w->info->name);
    w->enc = avcodec_alloc_context3(codec);
    if (!w->enc) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", w->path);
    AVCodecContext *enc = w->enc;
    enc->width = p->width;
    enc->height = p->height;
    enc->pix_fmt = w->info->pix_fmt;
    enc->time_base = (AVRational){p->fps_den, p->fps_num};
    enc->framerate = (AVRational){p->fps_num, p->fps_den};
    enc->sample_aspect_ratio = (AVRational){1, 1};
    if (p->gop > 0) enc->gop_size = p->gop;
    enc->thread_count = p->threads > 0 ? p->threads : 1;
    enc->flags |= AV_CODEC_FLAG_BITEXACT;
    if (w->info->pix_fmt == AV_PIX_FMT_YUVJ420P) enc->color_range = AVCOL_RANGE_JPEG;
    if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    vidi_status st = set_quality(w, p);
    if (st != VIDI_OK) return st;
    if (!strcmp(w->info->encoder, "libvpx-vp9")) {
        /* libvpx's default (good, cpu-used 1) is very slow for no visible gain
         * on small clips; row-mt would make the output depend on threads. */
        av_opt_set(enc->priv_data, "deadline", "good", 0);
        av_opt_set_int(enc->priv_data, "cpu-used", 4, 0);
        av_opt_set_int(enc->priv_data, "row-mt", 0, 0);
    }
    if (!strcmp(w->info->encoder, "libx264") && enc->thread_count == 1) {
        /* Even single-threaded, x264's CPU-specific paths made successive
         * encodes of the same frames in one process differ (measured with
         * x264 core 164); cpu-independent keeps them byte-identical, also
         * across machines. */
        av_opt_set(enc->priv_data, "x264-params", "cpu-independent=1", 0);
    }
    int err = avcodec_open2(enc, codec, NULL);
    if (err < 0) {
        char what[96];
        snprintf(what, sizeof what, "cannot open encoder %s", w->info->encoder);
        return av_failure(w->path, what, err);
    }
    return VIDI_OK;
}

static vidi_status open_output(vidi_video_writer *w, const vidi_video_writer_params *p) {
    const AVOutputFormat *ofmt = p->format ? av_guess_format(p->format, NULL, NULL)
                                           : av_guess_format(NULL, w->path, NULL);
    if (!ofmt)
        return p->format ? vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: unknown container format '%s'", w->path, p->format)
                         : vidi_set_error(VIDI_ERR_ARG, "%s: cannot tell the container from the file extension",
                                          w->path);
    int err = avformat_alloc_output_context2(&w->fmt, ofmt, NULL, w->tmp_path);
    if (err < 0) return av_failure(w->path, "cannot create the container", err);
    /* No version strings, no random segment UIDs, no wall-clock times. */
    w->fmt->flags |= AVFMT_FLAG_BITEXACT;
    vidi_status st = open_encoder(w, p);
    if (st != VIDI_OK) return st;
    if (avformat_query_codec(ofmt, w->enc->codec_id, FF_COMPLIANCE_NORMAL) != 1)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: the %s container cannot hold %s video", w->path,
                              ofmt->name, w->info->name);
    w->stream = avformat_new_stream(w->fmt, NULL);
    if (!w->stream) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", w->path);
    w->stream->time_base = w->enc->time_base;
    w->stream->avg_frame_rate = w->enc->framerate;
    if ((err = avcodec_parameters_from_context(w->stream->codecpar, w->enc)) < 0)
        return av_failure(w->path, "cannot set stream parameters", err);
    if ((err = avio_open(&w->fmt->pb, w->tmp_path, AVIO_FLAG_WRITE)) < 0)
        return av_failure(w->tmp_path, "cannot create file", err);
    w->file_open = 1;
    if ((err = avformat_write_header(w->fmt, NULL)) < 0) return av_failure(w->path, "cannot write header", err);
    return VIDI_OK;
}

static vidi_status alloc_conversion(vidi_video_writer *w) {
    w->frame = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->frame || !w->pkt) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", w->path);
    w->frame->format = w->info->pix_fmt;
    w->frame->width = w->width;
    w->frame->height = w->height;
    w->frame->color_range = w->enc->color_range;
    int err = av_frame_get_buffer(w->frame, 0);
    if (err < 0) return av_failure(w->path, "cannot allocate a frame", err);
    /* Same size in and out: only colour conversion, done exactly (no dither
     * differences between machines from SIMD paths). */
    w->sws = sws_getContext(w->width, w->height, AV_PIX_FMT_RGB24, w->width, w->height, w->info->pix_fmt,
                            SWS_POINT | SWS_ACCURATE_RND | SWS_BITEXACT, NULL, NULL, NULL);
    if (!w->sws)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: cannot convert RGB to %s", w->path,
                              av_get_pix_fmt_name(w->info->pix_fmt));
    return VIDI_OK;
}

vidi_status vidi_video_writer_open(const char *path, const vidi_video_writer_params *params,
                                   vidi_video_writer **out) {
    *out = NULL;
    vidi_video_writer_params p = params ? *params : vidi_video_writer_default_params();
    vidi_status st = check_params(path, &p);
    if (st != VIDI_OK) return st;
    const codec_info *info = find_codec(p.codec);
    if (!info) return vidi_wrap_error(vidi_video_codec_check(p.codec), "%s", path);
    if (info->pix_fmt != AV_PIX_FMT_RGB8 && (p.width % 2 || p.height % 2))
        return vidi_set_error(VIDI_ERR_ARG, "%s: %s needs an even width and height, got %dx%d", path, info->name,
                              p.width, p.height);
    vidi_video_writer *w = calloc(1, sizeof *w);
    if (!w) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    w->tmp_path = malloc(n + 5);
    if (!w->path || !w->tmp_path) {
        writer_free(w);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(w->path, path, n + 1);
    snprintf(w->tmp_path, n + 5, "%s.tmp", path);
    w->info = info;
    w->width = p.width;
    w->height = p.height;
    st = open_output(w, &p);
    if (st == VIDI_OK) st = alloc_conversion(w);
    if (st != VIDI_OK) {
        writer_free(w);
        return st;
    }
    *out = w;
    return VIDI_OK;
}

/* Moves every packet the encoder has ready into the muxer. */
static vidi_status drain(vidi_video_writer *w) {
    for (;;) {
        int err = avcodec_receive_packet(w->enc, w->pkt);
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return VIDI_OK;
        if (err < 0) return av_failure(w->path, "encoding failed", err);
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->stream->time_base);
        w->pkt->stream_index = w->stream->index;
        err = av_interleaved_write_frame(w->fmt, w->pkt);
        if (err < 0) return av_failure(w->path, "cannot write", err);
    }
}

vidi_status vidi_video_writer_write_rgb(vidi_video_writer *w, const uint8_t *rgb, int stride) {
    if (!w || !rgb) return vidi_set_error(VIDI_ERR_ARG, "video writer: NULL writer or frame");
    int err = av_frame_make_writable(w->frame);
    if (err < 0) return av_failure(w->path, "cannot allocate a frame", err);
    const uint8_t *src[4] = {rgb, NULL, NULL, NULL};
    int src_stride[4] = {stride > 0 ? stride : w->width * 3, 0, 0, 0};
    sws_scale(w->sws, src, src_stride, 0, w->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->frames++;
    if ((err = avcodec_send_frame(w->enc, w->frame)) < 0) return av_failure(w->path, "encoding failed", err);
    return drain(w);
}

vidi_status vidi_video_writer_close(vidi_video_writer *w) {
    if (!w) return VIDI_OK;
    int err = avcodec_send_frame(w->enc, NULL);
    vidi_status st = err < 0 ? av_failure(w->path, "encoding failed", err) : drain(w);
    if (st == VIDI_OK && (err = av_write_trailer(w->fmt)) < 0) st = av_failure(w->path, "cannot finish file", err);
    if (st == VIDI_OK && (err = avio_closep(&w->fmt->pb)) < 0) st = av_failure(w->path, "cannot close file", err);
    if (st == VIDI_OK) {
        if (rename(w->tmp_path, w->path) != 0)
            st = vidi_set_error(VIDI_ERR_IO, "%s: cannot move into place: %s", w->path, strerror(errno));
        else
            w->file_open = 0;
    }
    writer_free(w);
    return st;
}
