/* FFmpeg backend, opening: input (file, URL or memory) with a deadline on
 * every blocking call, stream and codec checks, metadata, and the packet
 * index that makes random access exact. */
#include <errno.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/ffmpeg.h"

#define MEM_IO_BUFFER 4096

void ff_arm(ff_decoder *ff) {
    ff->deadline_us = av_gettime_relative() + (int64_t)(ff->dec->params.timeout_s * 1e6);
}

/* A hung server must not hang the caller: libavformat polls this during
 * connect, read and probe, and gives up with AVERROR_EXIT once it is past
 * the deadline. */
static int ff_interrupt(void *opaque) {
    const ff_decoder *ff = opaque;
    return ff->deadline_us > 0 && av_gettime_relative() > ff->deadline_us;
}

vidi_status ff_fail(ff_decoder *ff, vidi_status status, const char *what, int averr) {
    const char *label = ff->dec->label;
    if (averr == AVERROR_EXIT)
        return vidi_set_error(VIDI_ERR_IO, "%s: %s: timed out after %g s", label, what, ff->dec->params.timeout_s);
    char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(averr, buf, sizeof buf);
    if (averr == AVERROR(ECONNREFUSED) || averr == AVERROR(ETIMEDOUT) || averr == AVERROR(EIO) ||
        averr == AVERROR(ENOENT) || averr == AVERROR(EACCES) || averr == AVERROR(EHOSTUNREACH) ||
        averr == AVERROR(ENETUNREACH) || averr == AVERROR_HTTP_NOT_FOUND)
        status = VIDI_ERR_IO;
    return vidi_set_error(status, "%s: %s: %s", label, what, buf);
}

static int mem_read(void *opaque, uint8_t *buf, int size) {
    ff_memory *m = opaque;
    size_t left = m->size - m->pos;
    if (left == 0) return AVERROR_EOF;
    size_t n = (size_t)size < left ? (size_t)size : left;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence) {
    ff_memory *m = opaque;
    if (whence & AVSEEK_SIZE) return (int64_t)m->size;
    int64_t base = (whence & 3) == SEEK_CUR ? (int64_t)m->pos : (whence & 3) == SEEK_END ? (int64_t)m->size : 0;
    int64_t pos = base + offset;
    if (pos < 0 || pos > (int64_t)m->size) return AVERROR(EINVAL);
    m->pos = (size_t)pos;
    return pos;
}

void ff_close(vidi_decoder *dec) {
    ff_decoder *ff = dec->impl;
    if (!ff) return;
    vidi_converter_free(&ff->conv);
    av_frame_free(&ff->frame);
    av_frame_free(&ff->pending);
    ff_hw_free(ff);
    av_packet_free(&ff->pkt);
    avcodec_free_context(&ff->codec);
    avformat_close_input(&ff->fmt);
    if (ff->avio) {
        av_freep(&ff->avio->buffer);
        avio_context_free(&ff->avio);
    }
    if (!ff->index_borrowed) {
        free(ff->ts);
        free(ff->key);
    }
    free(ff->lost_mark);
    free(ff);
    dec->impl = NULL;
}

static int cmp_entry(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* One demux pass over the video packets (no decoding): their presentation
 * timestamps sorted are the frames in presentation order, which numbers
 * frames exactly under variable frame rate and tells where keyframes are.
 * Only for seekable, local input; otherwise frames are numbered by counting. */
static vidi_status build_index(ff_decoder *ff) {
    if (ff->network || !ff->fmt->pb || !(ff->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL)) return VIDI_OK;
    int64_t cap = 0, n = 0, *pairs = NULL; /* (ts, key) */
    int usable = 1, err;
    for (;;) {
        ff_arm(ff);
        err = av_read_frame(ff->fmt, ff->pkt);
        if (err == AVERROR_EXIT) {
            free(pairs);
            return ff_fail(ff, VIDI_ERR_IO, "cannot read", err);
        }
        if (err < 0) break; /* end of file, or truncation: index what is there */
        if (ff->pkt->stream_index == ff->stream && !(ff->pkt->flags & AV_PKT_FLAG_DISCARD)) {
            int64_t ts = ff->pkt->pts != AV_NOPTS_VALUE ? ff->pkt->pts : ff->pkt->dts;
            if (ts == AV_NOPTS_VALUE) usable = 0;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                int64_t *grown = realloc(pairs, sizeof *pairs * 2 * (size_t)cap);
                if (!grown) {
                    free(pairs);
                    av_packet_unref(ff->pkt);
                    return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for the frame index", ff->dec->label);
                }
                pairs = grown;
            }
            pairs[2 * n] = ts;
            pairs[2 * n + 1] = (ff->pkt->flags & AV_PKT_FLAG_KEY) != 0;
            n++;
        }
        av_packet_unref(ff->pkt);
    }
    if (usable && n > 0) {
        qsort(pairs, (size_t)n, sizeof *pairs * 2, cmp_entry);
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (m == 0 || pairs[2 * (m - 1)] != pairs[2 * i])
                pairs[2 * m] = pairs[2 * i], pairs[2 * m + 1] = pairs[2 * i + 1], m++;
        n = m;
    }
    if (usable) {
        ff->ts = malloc(sizeof *ff->ts * (size_t)(n ? n : 1));
        ff->key = calloc((size_t)(n ? n : 1), 1);
        ff->lost_mark = calloc((size_t)(n ? n : 1), 1);
        if (!ff->ts || !ff->key || !ff->lost_mark) {
            free(pairs);
            return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory for the frame index", ff->dec->label);
        }
        for (int64_t i = 0; i < n; i++) ff->ts[i] = pairs[2 * i], ff->key[i] = (uint8_t)pairs[2 * i + 1];
        if (n > 0) ff->key[0] = 1; /* decoding always starts somewhere */
        ff->n_ts = n;
        ff->indexed = 1;
        if (n > 0) ff->origin_ts = ff->ts[0];
        /* Frames the container announces but the file no longer holds. */
        int64_t declared = ff->fmt->streams[ff->stream]->nb_frames;
        if (declared > n) ff->dec->lost += declared - n;
    }
    free(pairs);
    return ff_seek(ff, ff->indexed && n > 0 ? ff->ts[0] : INT64_MIN);
}

static void fill_info(ff_decoder *ff) {
    vidi_video_info *info = &ff->dec->info;
    AVStream *st = ff->fmt->streams[ff->stream];
    AVCodecParameters *par = st->codecpar;
    snprintf(info->codec, sizeof info->codec, "%s", avcodec_get_name(par->codec_id));
    info->coded_width = par->width;
    info->coded_height = par->height;
    info->rotation = ff->rotation;
    info->width = ff->rotation % 180 ? par->height : par->width;
    info->height = ff->rotation % 180 ? par->width : par->height;
    AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    info->fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        info->duration = st->duration * av_q2d(st->time_base);
    else if (ff->fmt->duration != AV_NOPTS_VALUE && ff->fmt->duration > 0)
        info->duration = ff->fmt->duration / (double)AV_TIME_BASE;
    if (ff->indexed) {
        info->frame_count = ff->n_ts;
        info->frame_count_exact = 1;
    } else if (st->nb_frames > 0) {
        info->frame_count = st->nb_frames;
        info->frame_count_exact = 1;
    } else {
        info->frame_count = (int64_t)llround(info->duration * info->fps);
        info->frame_count_exact = 0;
    }
}

/* Clockwise degrees that make the picture upright, as the ffmpeg CLI's
 * autorotate computes them from the display matrix. */
static int stream_rotation(const AVStream *st) {
    const int32_t *matrix = (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!matrix) return 0;
    double theta = -round(av_display_rotation_get(matrix));
    if (isnan(theta)) return 0;
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    int r = (int)lround(theta);
    return (r == 90 || r == 180 || r == 270) ? r : 0;
}

static vidi_status open_stream(ff_decoder *ff) {
    const char *label = ff->dec->label;
    int err;
    ff_arm(ff);
    if ((err = avformat_find_stream_info(ff->fmt, NULL)) < 0)
        return ff_fail(ff, VIDI_ERR_FORMAT, "cannot read stream information", err);
    const AVCodec *decoder = NULL;
    ff->stream = av_find_best_stream(ff->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (ff->stream < 0) {
        int audio = av_find_best_stream(ff->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0) >= 0;
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: no video stream%s", label,
                              audio ? " (audio only)" : "");
    }
    AVStream *st = ff->fmt->streams[ff->stream];
    AVCodecParameters *par = st->codecpar;
    ff->tb = st->time_base;
    if (ff->tb.num <= 0 || ff->tb.den <= 0) ff->tb = (AVRational){1, AV_TIME_BASE};
    ff->origin_ts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    if (par->codec_id == AV_CODEC_ID_NONE) {
        char tag[AV_FOURCC_MAX_STRING_SIZE] = {0};
        av_fourcc_make_string(tag, par->codec_tag);
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: unsupported video codec (unknown codec tag '%s')", label, tag);
    }
    decoder = avcodec_find_decoder(par->codec_id);
    if (!decoder)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: unsupported video codec '%s' (no decoder in this FFmpeg)",
                              label, avcodec_get_name(par->codec_id));
    if (par->width <= 0 || par->height <= 0 ||
        (int64_t)par->width * par->height > vidi_decoder_max_pixels(&ff->dec->params))
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: unsupported frame size %dx%d", label, par->width,
                              par->height);
    ff->rotation = ff->dec->params.no_rotate ? 0 : stream_rotation(st);
    ff->codec = avcodec_alloc_context3(decoder);
    if (!ff->codec) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", label);
    if ((err = avcodec_parameters_to_context(ff->codec, par)) < 0)
        return ff_fail(ff, VIDI_ERR_DECODE, "cannot set up the decoder", err);
    ff->codec->thread_count = ff->dec->params.threads; /* 0: one per core */
    ff->codec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    ff->codec->pkt_timebase = ff->tb;
    ff_hw_setup(ff, decoder);
    if ((err = avcodec_open2(ff->codec, decoder, NULL)) < 0)
        return ff_fail(ff, VIDI_ERR_DECODE, "cannot open the decoder", err);
    ff->pkt = av_packet_alloc();
    ff->frame = av_frame_alloc();
    ff->pending = av_frame_alloc();
    if (!ff->pkt || !ff->frame || !ff->pending) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", label);

    vidi_status s = build_index(ff);
    if (s) return s;
    fill_info(ff);
    /* Decode the first frame now: a stream that demuxes but never decodes
     * (no frames, broken codec data) fails here, at open, and the frame is
     * kept for the first read. */
    int got = ff_decode_frame(ff, ff->pending);
    if (got < 0) return VIDI_ERR_IO;
    if (got == 0) {
        if (ff->decode_errors)
            return vidi_set_error(VIDI_ERR_DECODE, "%s: no decodable video frames (%lld packets failed to decode)",
                                  label, (long long)ff->decode_errors);
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: no video frames", label);
    }
    if (ff->pending->width <= 0 || ff->pending->height <= 0 ||
        (int64_t)ff->pending->width * ff->pending->height > vidi_decoder_max_pixels(&ff->dec->params))
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: unsupported frame size %dx%d", label, ff->pending->width,
                              ff->pending->height);
    ff->has_pending = 1;
    if (!ff->indexed && ff->pending->best_effort_timestamp != AV_NOPTS_VALUE)
        ff->origin_ts = ff->pending->best_effort_timestamp;
    /* A GPU frame's format is "cuda": report the format of its contents. */
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(
        ff->pending->format == ff->hw_pix_fmt ? ff->codec->sw_pix_fmt : (enum AVPixelFormat)ff->pending->format);
    snprintf(ff->dec->info.pix_fmt, sizeof ff->dec->info.pix_fmt, "%s", desc ? desc->name : "unknown");
    ff->dec->info.bit_depth = desc ? desc->comp[0].depth : 0;
    return VIDI_OK;
}

static int is_network_url(const char *url) {
    const char *sep = strstr(url, "://");
    if (!sep) return 0;
    return !(sep - url == 4 && !strncmp(url, "file", 4));
}

static vidi_status ff_alloc(vidi_decoder *dec, ff_decoder **out) {
    ff_decoder *ff = calloc(1, sizeof *ff);
    if (!ff) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", dec->label);
    ff->dec = dec;
    ff->last_out = -1;
    ff->skip_before = AV_NOPTS_VALUE;
    ff->resume_at = -1;
    ff->hw_pix_fmt = AV_PIX_FMT_NONE;
    dec->impl = ff;
    dec->ops = &vidi_ffmpeg_ops;
    ff->fmt = avformat_alloc_context();
    if (!ff->fmt) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", dec->label);
    ff->fmt->interrupt_callback.callback = ff_interrupt;
    ff->fmt->interrupt_callback.opaque = ff;
    *out = ff;
    return VIDI_OK;
}

static vidi_status finish_open(vidi_decoder *dec, vidi_status st) {
    if (st) ff_close(dec);
    return st;
}

vidi_status vidi_ffmpeg_open(vidi_decoder *dec, const char *url) {
    int network = is_network_url(url);
    if (!network && strcmp(url, "-") != 0 && strncmp(url, "pipe:", 5) != 0) {
        const char *path = strncmp(url, "file:", 5) ? url : url + 5;
        struct stat sb;
        if (stat(path, &sb) != 0)
            return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", url, strerror(errno));
        if (S_ISDIR(sb.st_mode)) return vidi_set_error(VIDI_ERR_IO, "%s: is a directory", url);
    }
    ff_decoder *ff;
    vidi_status st = ff_alloc(dec, &ff);
    if (st) return finish_open(dec, st);
    ff->network = network;
    AVDictionary *opts = NULL;
    if (network) {
        /* Socket-level timeouts (microseconds) on top of the interrupt deadline. */
        char us[32];
        snprintf(us, sizeof us, "%lld", (long long)(dec->params.timeout_s * 1e6));
        av_dict_set(&opts, "timeout", us, 0);
        av_dict_set(&opts, "rw_timeout", us, 0);
    }
    ff_arm(ff);
    int err = avformat_open_input(&ff->fmt, url, NULL, &opts);
    av_dict_free(&opts);
    if (err < 0) {
        st = ff_fail(ff, network ? VIDI_ERR_IO : VIDI_ERR_FORMAT,
                     network ? "cannot open" : "not a readable video file", err);
        return finish_open(dec, st);
    }
    return finish_open(dec, open_stream(ff));
}

vidi_status vidi_ffmpeg_open_memory(vidi_decoder *dec, const void *data, size_t size) {
    ff_decoder *ff;
    vidi_status st = ff_alloc(dec, &ff);
    if (st) return finish_open(dec, st);
    ff->mem.data = data;
    ff->mem.size = size;
    uint8_t *buf = av_malloc(MEM_IO_BUFFER);
    if (buf) ff->avio = avio_alloc_context(buf, MEM_IO_BUFFER, 0, &ff->mem, mem_read, NULL, mem_seek);
    if (!ff->avio) {
        av_free(buf);
        return finish_open(dec, vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", dec->label));
    }
    ff->fmt->pb = ff->avio;
    ff->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    ff_arm(ff);
    int err = avformat_open_input(&ff->fmt, NULL, NULL, NULL);
    if (err < 0) return finish_open(dec, ff_fail(ff, VIDI_ERR_FORMAT, "not a readable video", err));
    return finish_open(dec, open_stream(ff));
}

/* Opens the input again (own demuxer, own I/O position), takes the codec
 * parameters src already probed (no second stream probe unless the format
 * only finds its streams that way) and borrows src's packet index. */
vidi_status ff_open_clone(const ff_decoder *src, vidi_decoder *shell, int threads) {
    ff_decoder *ff;
    vidi_status st = ff_alloc(shell, &ff);
    if (st) return finish_open(shell, st);
    int err;
    ff_arm(ff);
    if (src->avio) {
        ff->mem = src->mem;
        ff->mem.pos = 0;
        uint8_t *buf = av_malloc(MEM_IO_BUFFER);
        if (buf) ff->avio = avio_alloc_context(buf, MEM_IO_BUFFER, 0, &ff->mem, mem_read, NULL, mem_seek);
        if (!ff->avio) {
            av_free(buf);
            return finish_open(shell, vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", shell->label));
        }
        ff->fmt->pb = ff->avio;
        ff->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
        err = avformat_open_input(&ff->fmt, NULL, NULL, NULL);
    } else {
        err = avformat_open_input(&ff->fmt, shell->label, NULL, NULL);
    }
    if (err < 0) return finish_open(shell, ff_fail(ff, VIDI_ERR_IO, "cannot reopen for a decode worker", err));
    const AVCodecParameters *par = src->fmt->streams[src->stream]->codecpar;
    if ((int)ff->fmt->nb_streams <= src->stream && (err = avformat_find_stream_info(ff->fmt, NULL)) < 0)
        return finish_open(shell, ff_fail(ff, VIDI_ERR_FORMAT, "cannot read stream information", err));
    if ((int)ff->fmt->nb_streams <= src->stream || ff->fmt->streams[src->stream]->codecpar->codec_id != par->codec_id)
        return finish_open(shell, vidi_set_error(VIDI_ERR_FORMAT, "%s: streams differ on reopening", shell->label));
    ff->stream = src->stream;
    ff->tb = src->tb;
    ff->origin_ts = src->origin_ts;
    ff->rotation = src->rotation;
    ff->ts = src->ts;
    ff->key = src->key;
    ff->index_borrowed = 1;
    ff->n_ts = src->n_ts;
    ff->indexed = 1;
    ff->lost_mark = calloc((size_t)(src->n_ts ? src->n_ts : 1), 1);
    const AVCodec *decoder = avcodec_find_decoder(par->codec_id);
    ff->codec = decoder ? avcodec_alloc_context3(decoder) : NULL;
    ff->pkt = av_packet_alloc();
    ff->frame = av_frame_alloc();
    ff->pending = av_frame_alloc();
    if (!ff->lost_mark || !ff->codec || !ff->pkt || !ff->frame || !ff->pending)
        return finish_open(shell, vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", shell->label));
    if ((err = avcodec_parameters_to_context(ff->codec, par)) < 0)
        return finish_open(shell, ff_fail(ff, VIDI_ERR_DECODE, "cannot set up the decoder", err));
    ff->codec->thread_count = threads;
    ff->codec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    ff->codec->pkt_timebase = ff->tb;
    ff_hw_setup(ff, decoder);
    if ((err = avcodec_open2(ff->codec, decoder, NULL)) < 0)
        return finish_open(shell, ff_fail(ff, VIDI_ERR_DECODE, "cannot open the decoder", err));
    return VIDI_OK;
}
