/* GStreamer backend: uridecodebin ! videoconvert ! appsink in the
 * decoder's native format, behind the same API as FFmpeg. Scaling, rotation
 * and YUV -> RGB are vidi's shared conversion (decode/convert.c), so the two
 * backends differ only where their decoders do.
 *
 * GStreamer hands out frames in presentation order with timestamps but has
 * no demux-only index, so frames are numbered by counting from the start:
 * reading forward pulls and drops samples, going back restarts the pipeline.
 * That is exact under variable frame rate but decodes everything up to the
 * last requested frame (the FFmpeg backend seeks). */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <libavutil/pixdesc.h>

#include "decode/convert.h"
#include "decode/decoder.h"

typedef struct gst_decoder {
    vidi_decoder *dec;
    GstElement *pipeline, *sink;
    int64_t next_index;     /* index of the next sample the sink gives */
    GstClockTime origin;    /* pts of frame 0 */
    int64_t counted;        /* exact frame count once known, else -1 */
    int rotation;           /* clockwise degrees vidi applies (0 with no_rotate) */
    vidi_converter conv;
} gst_decoder;

/* The decoder's native formats that vidi converts itself (the same swscale
 * path as the FFmpeg backend), with their FFmpeg names. videoconvert passes
 * these through untouched; anything else it converts to one of them (RGB as
 * the last resort), which is the only case GStreamer's own converter runs. */
static const struct {
    GstVideoFormat gst;
    enum AVPixelFormat av;
} native_formats[] = {
    {GST_VIDEO_FORMAT_I420, AV_PIX_FMT_YUV420P},
    {GST_VIDEO_FORMAT_NV12, AV_PIX_FMT_NV12},
    {GST_VIDEO_FORMAT_NV21, AV_PIX_FMT_NV21},
    {GST_VIDEO_FORMAT_Y42B, AV_PIX_FMT_YUV422P},
    {GST_VIDEO_FORMAT_Y444, AV_PIX_FMT_YUV444P},
    {GST_VIDEO_FORMAT_Y41B, AV_PIX_FMT_YUV411P},
    {GST_VIDEO_FORMAT_I420_10LE, AV_PIX_FMT_YUV420P10LE},
    {GST_VIDEO_FORMAT_I422_10LE, AV_PIX_FMT_YUV422P10LE},
    {GST_VIDEO_FORMAT_Y444_10LE, AV_PIX_FMT_YUV444P10LE},
    {GST_VIDEO_FORMAT_I420_12LE, AV_PIX_FMT_YUV420P12LE},
    {GST_VIDEO_FORMAT_I422_12LE, AV_PIX_FMT_YUV422P12LE},
    {GST_VIDEO_FORMAT_Y444_12LE, AV_PIX_FMT_YUV444P12LE},
    {GST_VIDEO_FORMAT_P010_10LE, AV_PIX_FMT_P010LE},
    {GST_VIDEO_FORMAT_GRAY8, AV_PIX_FMT_GRAY8},
    {GST_VIDEO_FORMAT_RGB, AV_PIX_FMT_RGB24},
};
#define APPSINK_CAPS                                                                                            \
    "video/x-raw,format={I420,NV12,NV21,Y42B,Y444,Y41B,I420_10LE,I422_10LE,Y444_10LE,I420_12LE,I422_12LE,"     \
    "Y444_12LE,P010_10LE,GRAY8,RGB}"

static enum AVPixelFormat av_format(GstVideoFormat f) {
    for (size_t i = 0; i < sizeof native_formats / sizeof native_formats[0]; i++)
        if (native_formats[i].gst == f) return native_formats[i].av;
    return AV_PIX_FMT_NONE;
}

static enum AVColorSpace av_colorspace(GstVideoColorMatrix m) {
    switch (m) {
    case GST_VIDEO_COLOR_MATRIX_BT709: return AVCOL_SPC_BT709;
    case GST_VIDEO_COLOR_MATRIX_BT601: return AVCOL_SPC_SMPTE170M;
    case GST_VIDEO_COLOR_MATRIX_BT2020: return AVCOL_SPC_BT2020_NCL;
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M: return AVCOL_SPC_SMPTE240M;
    case GST_VIDEO_COLOR_MATRIX_FCC: return AVCOL_SPC_FCC;
    default: return AVCOL_SPC_UNSPECIFIED;
    }
}

static GstClockTime timeout_ns(const gst_decoder *g) {
    return (GstClockTime)(g->dec->params.timeout_s * 1e9);
}

/* The pipeline's first error as "LABEL: what: message", status by domain. */
static vidi_status bus_error(gst_decoder *g, const char *what) {
    GstBus *bus = gst_element_get_bus(g->pipeline);
    GstMessage *msg = bus ? gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) : NULL;
    vidi_status st;
    if (msg) {
        GError *err = NULL;
        gst_message_parse_error(msg, &err, NULL);
        vidi_status kind = VIDI_ERR_DECODE;
        if (err->domain == GST_RESOURCE_ERROR) kind = VIDI_ERR_IO;
        else if (err->domain == GST_STREAM_ERROR &&
                 (err->code == GST_STREAM_ERROR_TYPE_NOT_FOUND || err->code == GST_STREAM_ERROR_WRONG_TYPE))
            kind = VIDI_ERR_FORMAT;
        else if (err->domain == GST_STREAM_ERROR && (err->code == GST_STREAM_ERROR_CODEC_NOT_FOUND ||
                                                    err->code == GST_STREAM_ERROR_NOT_IMPLEMENTED))
            kind = VIDI_ERR_UNSUPPORTED;
        else if (err->domain == GST_CORE_ERROR && err->code == GST_CORE_ERROR_MISSING_PLUGIN)
            kind = VIDI_ERR_UNSUPPORTED;
        st = vidi_set_error(kind, "%s: %s: %s", g->dec->label, what, err->message);
        g_error_free(err);
        gst_message_unref(msg);
    } else {
        st = vidi_set_error(VIDI_ERR_IO, "%s: %s: timed out after %g s", g->dec->label, what,
                            g->dec->params.timeout_s);
    }
    if (bus) gst_object_unref(bus);
    return st;
}

static void gst_close_impl(vidi_decoder *dec) {
    gst_decoder *g = dec->impl;
    if (!g) return;
    if (g->pipeline) {
        gst_element_set_state(g->pipeline, GST_STATE_NULL);
        gst_object_unref(g->pipeline);
    }
    if (g->sink) gst_object_unref(g->sink);
    vidi_converter_free(&g->conv);
    free(g);
    dec->impl = NULL;
}

/* Decoder threads: libav decoders (avdec_*) take max-threads. */
static void on_element_added(GstBin *bin, GstBin *sub, GstElement *element, gpointer user) {
    (void)bin, (void)sub;
    const gst_decoder *g = user;
    if (g->dec->params.threads > 0 && g_object_class_find_property(G_OBJECT_GET_CLASS(element), "max-threads"))
        g_object_set(element, "max-threads", g->dec->params.threads, NULL);
}

/* Brings the pipeline to `target` and waits (bounded) for preroll. */
static vidi_status set_state(gst_decoder *g, GstState target) {
    if (gst_element_set_state(g->pipeline, target) == GST_STATE_CHANGE_FAILURE)
        return bus_error(g, "cannot start decoding");
    GstState state;
    GstStateChangeReturn r = gst_element_get_state(g->pipeline, &state, NULL, timeout_ns(g));
    if (r == GST_STATE_CHANGE_FAILURE || r == GST_STATE_CHANGE_ASYNC) return bus_error(g, "cannot decode");
    return VIDI_OK;
}

/* Back to frame 0 with a flushing seek. (Not via the NULL state: the
 * launch-line link from uridecodebin's dynamic pad is made only once.) */
static vidi_status start(gst_decoder *g) {
    g->next_index = 0;
    if (!gst_element_seek_simple(g->pipeline, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, 0))
        return bus_error(g, "cannot seek to the start");
    return set_state(g, GST_STATE_PLAYING);
}

static GstSample *pull(gst_decoder *g, vidi_status *st) {
    *st = VIDI_OK;
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(g->sink), timeout_ns(g));
    if (s) return s;
    if (!gst_app_sink_is_eos(GST_APP_SINK(g->sink))) *st = bus_error(g, "cannot decode");
    return NULL;
}

static vidi_status to_frame(gst_decoder *g, GstSample *s, int64_t index, vidi_frame *out) {
    memset(out, 0, sizeof *out);
    GstVideoInfo vi;
    GstBuffer *buf = gst_sample_get_buffer(s);
    if (!buf || !gst_video_info_from_caps(&vi, gst_sample_get_caps(s)))
        return vidi_set_error(VIDI_ERR_DECODE, "%s: GStreamer gave a sample without video caps", g->dec->label);
    enum AVPixelFormat fmt = av_format(GST_VIDEO_INFO_FORMAT(&vi));
    if (fmt == AV_PIX_FMT_NONE)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: GStreamer gave unexpected format %s", g->dec->label,
                              GST_VIDEO_INFO_NAME(&vi));
    GstVideoFrame vf;
    if (!gst_video_frame_map(&vf, &vi, buf, GST_MAP_READ))
        return vidi_set_error(VIDI_ERR_DECODE, "%s: cannot map a GStreamer buffer", g->dec->label);
    vidi_picture pic = {
        .width = GST_VIDEO_INFO_WIDTH(&vi),
        .height = GST_VIDEO_INFO_HEIGHT(&vi),
        .format = fmt,
        .full_range = GST_VIDEO_INFO_COLORIMETRY(&vi).range == GST_VIDEO_COLOR_RANGE_0_255,
        .colorspace = av_colorspace(GST_VIDEO_INFO_COLORIMETRY(&vi).matrix),
    };
    for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(&vf) && i < 4; i++) {
        pic.data[i] = GST_VIDEO_FRAME_PLANE_DATA(&vf, i);
        pic.linesize[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&vf, i);
    }
    vidi_status st = vidi_convert_picture(&g->conv, &pic, g->rotation, &g->dec->params, g->dec->label, index, out);
    gst_video_frame_unmap(&vf);
    if (st) return st;
    GstClockTime pts = GST_BUFFER_PTS(buf);
    if (index == 0 && GST_CLOCK_TIME_IS_VALID(pts)) g->origin = pts;
    out->pts = GST_CLOCK_TIME_IS_VALID(pts) && pts >= g->origin ? (double)(pts - g->origin) / 1e9 : 0.0;
    return VIDI_OK;
}

static vidi_status gst_next(vidi_decoder *dec, vidi_frame *frame, int *got) {
    gst_decoder *g = dec->impl;
    vidi_status st;
    GstSample *s = pull(g, &st);
    if (!s) return st;
    st = to_frame(g, s, g->next_index++, frame);
    gst_sample_unref(s);
    if (st == VIDI_OK) *got = 1;
    return st;
}

static vidi_status gst_count(vidi_decoder *dec, int64_t *count) {
    gst_decoder *g = dec->impl;
    if (g->counted < 0) {
        vidi_status st = start(g);
        int64_t n = 0;
        GstSample *s;
        while (st == VIDI_OK && (s = pull(g, &st))) {
            if (n == 0) {
                GstBuffer *b = gst_sample_get_buffer(s);
                if (b && GST_CLOCK_TIME_IS_VALID(GST_BUFFER_PTS(b))) g->origin = GST_BUFFER_PTS(b);
            }
            n++;
            gst_sample_unref(s);
        }
        if (st) return st;
        g->counted = n;
        dec->info.frame_count = n;
        dec->info.frame_count_exact = 1;
        if ((st = start(g))) return st;
    }
    *count = g->counted;
    return VIDI_OK;
}

static vidi_status gst_read_sorted(vidi_decoder *dec, const int64_t *indices, int n, vidi_frame *frames) {
    gst_decoder *g = dec->impl;
    if (g->counted >= 0 && indices[n - 1] >= g->counted)
        return vidi_set_error(VIDI_ERR_ARG, "%s: frame index %lld is past the end (%lld frames)", dec->label,
                              (long long)indices[n - 1], (long long)g->counted);
    vidi_status st = VIDI_OK;
    if (indices[0] < g->next_index && (st = start(g))) return st;
    for (int k = 0; k < n; k++) {
        GstSample *s = NULL;
        while (g->next_index <= indices[k]) {
            if (s) gst_sample_unref(s);
            s = pull(g, &st);
            if (!s) break;
            if (g->next_index == 0) { /* frame 0 fixes the time origin even when not requested */
                GstBuffer *b = gst_sample_get_buffer(s);
                if (b && GST_CLOCK_TIME_IS_VALID(GST_BUFFER_PTS(b))) g->origin = GST_BUFFER_PTS(b);
            }
            g->next_index++;
        }
        if (st) return st;
        if (!s)
            return vidi_set_error(VIDI_ERR_ARG, "%s: frame index %lld is past the end (%lld frames)", dec->label,
                                  (long long)indices[k], (long long)g->next_index);
        st = to_frame(g, s, indices[k], &frames[k]);
        gst_sample_unref(s);
        if (st) return st;
    }
    return VIDI_OK;
}

static vidi_status gst_read_time(vidi_decoder *dec, double seconds, vidi_frame *frame) {
    gst_decoder *g = dec->impl;
    vidi_status st = start(g);
    if (st) return st;
    GstSample *prev = NULL, *s;
    int64_t prev_index = -1;
    while ((s = pull(g, &st))) {
        GstBuffer *b = gst_sample_get_buffer(s);
        GstClockTime pts = b ? GST_BUFFER_PTS(b) : GST_CLOCK_TIME_NONE;
        if (g->next_index == 0 && GST_CLOCK_TIME_IS_VALID(pts)) g->origin = pts;
        if (prev && GST_CLOCK_TIME_IS_VALID(pts) && (double)(pts - g->origin) / 1e9 > seconds + 1e-9) {
            gst_sample_unref(s);
            break;
        }
        if (prev) gst_sample_unref(prev);
        prev = s;
        prev_index = g->next_index++;
    }
    if (!prev) return st ? st : vidi_set_error(VIDI_ERR_DECODE, "%s: no frame at %g s", dec->label, seconds);
    if (st == VIDI_OK) st = to_frame(g, prev, prev_index, frame);
    gst_sample_unref(prev);
    return st;
}

static const vidi_decoder_ops gst_ops = {
    .close = gst_close_impl,
    .count_frames = gst_count,
    .next = gst_next,
    .read_sorted = gst_read_sorted,
    .read_time = gst_read_time,
};

static void read_tags(gst_decoder *g) {
    GstBus *bus = gst_element_get_bus(g->pipeline);
    GstMessage *msg;
    while (bus && (msg = gst_bus_pop_filtered(bus, GST_MESSAGE_TAG))) {
        GstTagList *tags = NULL;
        gst_message_parse_tag(msg, &tags);
        gchar *s = NULL;
        if (gst_tag_list_get_string(tags, GST_TAG_VIDEO_CODEC, &s) && !g->dec->info.codec[0])
            snprintf(g->dec->info.codec, sizeof g->dec->info.codec, "%s", s);
        g_free(s);
        s = NULL;
        if (gst_tag_list_get_string(tags, GST_TAG_IMAGE_ORIENTATION, &s)) {
            int deg = 0;
            if (sscanf(s, "rotate-%d", &deg) == 1) g->dec->info.rotation = deg;
        }
        g_free(s);
        gst_tag_list_unref(tags);
        gst_message_unref(msg);
    }
    if (bus) gst_object_unref(bus);
}

static vidi_status setup(gst_decoder *g, const char *url) {
    vidi_decoder *dec = g->dec;
    GError *err = NULL;
    if (!gst_init_check(NULL, NULL, &err)) {
        vidi_status st = vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: cannot initialise GStreamer: %s", url,
                                        err ? err->message : "unknown error");
        if (err) g_error_free(err);
        return st;
    }
    gchar *uri = gst_uri_is_valid(url) ? g_strdup(url) : gst_filename_to_uri(url, NULL);
    if (!uri) return vidi_set_error(VIDI_ERR_IO, "%s: cannot make a URI of this path", url);
    /* No scaling, flipping or colour conversion in GStreamer: the decoder's
     * own pictures go to vidi's shared conversion (see native_formats). */
    gchar *desc = g_strdup_printf("uridecodebin uri=\"%s\" caps=video/x-raw ! videoconvert ! "
                                  "appsink name=sink sync=false max-buffers=4 caps=\"%s\"",
                                  uri, APPSINK_CAPS);
    g_free(uri);
    g->pipeline = gst_parse_launch(desc, &err);
    g_free(desc);
    if (!g->pipeline || err) {
        vidi_status st = vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: cannot build the GStreamer pipeline: %s", url,
                                        err ? err->message : "unknown error");
        if (err) g_error_free(err);
        return st;
    }
    g_signal_connect(g->pipeline, "deep-element-added", G_CALLBACK(on_element_added), g);
    g->sink = gst_bin_get_by_name(GST_BIN(g->pipeline), "sink");
    if (!g->sink) return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: GStreamer pipeline incomplete", url);
    vidi_status st = set_state(g, GST_STATE_PAUSED);
    if (st) return st;
    GstSample *pre = gst_app_sink_try_pull_preroll(GST_APP_SINK(g->sink), timeout_ns(g));
    if (!pre) return gst_app_sink_is_eos(GST_APP_SINK(g->sink)) ? vidi_set_error(VIDI_ERR_FORMAT, "%s: no video frames", url)
                                                                 : bus_error(g, "cannot decode");
    GstVideoInfo vi;
    int ok = gst_video_info_from_caps(&vi, gst_sample_get_caps(pre));
    gst_sample_unref(pre);
    if (!ok) return vidi_set_error(VIDI_ERR_DECODE, "%s: GStreamer gave no video caps", url);
    vidi_video_info *info = &dec->info;
    int cw = GST_VIDEO_INFO_WIDTH(&vi), ch = GST_VIDEO_INFO_HEIGHT(&vi);
    if (cw <= 0 || ch <= 0 || (int64_t)cw * ch > vidi_decoder_max_pixels(&dec->params))
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: unsupported frame size %dx%d", url, cw, ch);
    info->fps = GST_VIDEO_INFO_FPS_D(&vi) > 0 ? (double)GST_VIDEO_INFO_FPS_N(&vi) / GST_VIDEO_INFO_FPS_D(&vi) : 0.0;
    read_tags(g);
    g->rotation = dec->params.no_rotate ? 0 : info->rotation;
    info->rotation = g->rotation;
    info->coded_width = cw;
    info->coded_height = ch;
    info->width = g->rotation % 180 ? ch : cw;
    info->height = g->rotation % 180 ? cw : ch;
    enum AVPixelFormat fmt = av_format(GST_VIDEO_INFO_FORMAT(&vi));
    snprintf(info->pix_fmt, sizeof info->pix_fmt, "%s", fmt != AV_PIX_FMT_NONE ? av_get_pix_fmt_name(fmt) : "unknown");
    info->bit_depth = (int)GST_VIDEO_FORMAT_INFO_DEPTH(vi.finfo, 0);
    gint64 dur = 0;
    if (gst_element_query_duration(g->pipeline, GST_FORMAT_TIME, &dur) && dur > 0) info->duration = dur / 1e9;
    info->frame_count = (int64_t)llround(info->duration * info->fps);
    info->frame_count_exact = 0;
    return start(g);
}

vidi_status vidi_gst_open(vidi_decoder *dec, const char *url) {
    if (!strstr(url, "://")) {
        struct stat sb;
        if (stat(url, &sb) != 0) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: %s", url, strerror(errno));
        if (S_ISDIR(sb.st_mode)) return vidi_set_error(VIDI_ERR_IO, "%s: is a directory", url);
    }
    gst_decoder *g = calloc(1, sizeof *g);
    if (!g) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", url);
    g->dec = dec;
    g->counted = -1;
    dec->impl = g;
    dec->ops = &gst_ops;
    vidi_status st = setup(g, url);
    if (st) gst_close_impl(dec);
    return st;
}
