/* Still-image decoding through libavformat/libavcodec: the same demuxers and
 * decoders that read video, so PNG, JPEG, BMP, WebP, ... all work, and
 * libswscale converts whatever pixel format comes out to packed RGB. */
#include "vidi/image.h"

#include "decode/jpeg_color.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Large enough for any real image; keeps a hostile header from asking for
 * gigabytes. */
#define VIDI_IMAGE_MAX_PIXELS (1 << 28)

static vidi_status av_failure(const char *path, const char *what, int averr) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(averr, buf, sizeof buf);
    return vidi_set_error(VIDI_ERR_DECODE, "%s: %s: %s", path, what, buf);
}

static vidi_status convert_to_rgb(const char *path, const AVFrame *frame, vidi_image *out) {
    int w = frame->width, h = frame->height;
    if (w <= 0 || h <= 0 || (int64_t)w * h > VIDI_IMAGE_MAX_PIXELS)
        return vidi_set_error(VIDI_ERR_DECODE, "%s: unsupported image size %dx%d", path, w, h);
    if (frame->format == AV_PIX_FMT_YUVJ420P) {
        /* JPEG: follow libjpeg exactly (see jpeg_color.c). */
        uint8_t *rgb = malloc((size_t)w * h * 3);
        if (!rgb || vidi_yuvj420_to_rgb(frame->data[0], frame->linesize[0], frame->data[1], frame->data[2],
                                        frame->linesize[1], w, h, rgb) != 0) {
            free(rgb);
            return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for %dx%d image", path, w, h);
        }
        out->width = w, out->height = h, out->rgb = rgb;
        return VIDI_OK;
    }
    struct SwsContext *sws = sws_getContext(w, h, (enum AVPixelFormat)frame->format, w, h,
                                            AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT | SWS_FULL_CHR_H_INP,
                                            NULL, NULL, NULL);
    if (!sws)
        return vidi_set_error(VIDI_ERR_DECODE, "%s: cannot convert pixel format %s to RGB", path,
                              av_get_pix_fmt_name((enum AVPixelFormat)frame->format));
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) {
        sws_freeContext(sws);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for %dx%d image", path, w, h);
    }
    uint8_t *dst[4] = {rgb, NULL, NULL, NULL};
    int dst_stride[4] = {w * 3, 0, 0, 0};
    sws_scale(sws, (const uint8_t *const *)frame->data, frame->linesize, 0, h, dst, dst_stride);
    sws_freeContext(sws);
    out->width = w;
    out->height = h;
    out->rgb = rgb;
    return VIDI_OK;
}

/* Feeds packets of the chosen stream to the decoder until one frame comes out. */
static vidi_status decode_first_frame(const char *path, AVFormatContext *fmt, int stream,
                                      AVCodecContext *codec, AVFrame *frame) {
    AVPacket *pkt = av_packet_alloc();
    if (!pkt) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    vidi_status st = VIDI_ERR_DECODE;
    int flushing = 0;
    for (;;) {
        int err = avcodec_receive_frame(codec, frame);
        if (err == 0) { st = VIDI_OK; break; }
        if (err == AVERROR_EOF) { st = vidi_set_error(VIDI_ERR_DECODE, "%s: no image data", path); break; }
        if (err != AVERROR(EAGAIN)) { st = av_failure(path, "cannot decode image", err); break; }
        if (flushing) { st = vidi_set_error(VIDI_ERR_DECODE, "%s: no image data", path); break; }
        err = av_read_frame(fmt, pkt);
        if (err < 0) {
            flushing = 1;
            err = avcodec_send_packet(codec, NULL);
        } else {
            if (pkt->stream_index == stream) err = avcodec_send_packet(codec, pkt);
            av_packet_unref(pkt);
        }
        if (err < 0 && err != AVERROR_EOF && err != AVERROR(EAGAIN)) {
            st = av_failure(path, "cannot decode image", err);
            break;
        }
    }
    av_packet_free(&pkt);
    return st;
}

vidi_status vidi_image_load(const char *path, vidi_image *out) {
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return vidi_set_error(VIDI_ERR_IO, "%s: not a regular file", path);

    AVFormatContext *fmt = NULL;
    int err = avformat_open_input(&fmt, path, NULL, NULL);
    if (err < 0) return av_failure(path, "not a readable image", err);

    vidi_status st = VIDI_OK;
    AVCodecContext *codec = NULL;
    AVFrame *frame = NULL;
    const AVCodec *decoder = NULL;
    if ((err = avformat_find_stream_info(fmt, NULL)) < 0) {
        st = av_failure(path, "not a readable image", err);
        goto done;
    }
    int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
    if (stream < 0 || !decoder) {
        st = vidi_set_error(VIDI_ERR_DECODE, "%s: no image stream", path);
        goto done;
    }
    codec = avcodec_alloc_context3(decoder);
    frame = av_frame_alloc();
    if (!codec || !frame) {
        st = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((err = avcodec_parameters_to_context(codec, fmt->streams[stream]->codecpar)) < 0 ||
        (err = avcodec_open2(codec, decoder, NULL)) < 0) {
        st = av_failure(path, "cannot open decoder", err);
        goto done;
    }
    st = decode_first_frame(path, fmt, stream, codec, frame);
    if (st == VIDI_OK) st = convert_to_rgb(path, frame, out);
done:
    av_frame_free(&frame);
    avcodec_free_context(&codec);
    avformat_close_input(&fmt);
    return st;
}

void vidi_image_free(vidi_image *image) {
    if (!image) return;
    free(image->rgb);
    image->rgb = NULL;
    image->width = image->height = 0;
}
