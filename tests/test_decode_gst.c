/* GStreamer backend against the FFmpeg backend on the test videos: same
 * frame count, same timestamps, pixels within a small bound (the two
 * colour converters and chroma upsamplers round differently). Skips when
 * vidi is built without GStreamer. */
#include <libavutil/log.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Only reachable (include path) when vidi links GStreamer. */
#if defined(__has_include)
#if __has_include(<gst/gst.h>)
#include <gst/gst.h>
#define HAVE_GST_HEADERS 1
#endif
#endif

#include "harness.h"
#include "vidi/decode.h"

#define DIR "tests/fixtures/video/"
#define MAX_FRAMES 64
/* Both backends hand vidi the decoder's native picture and vidi converts
 * and scales it the same way (decode/convert.c), so the only differences
 * left are the decoders' own. */
/* GStreamer and GLib keep a few one-time allocations (GLib's constructor,
 * gst-libav's plugin thread) that LeakSanitizer reports at exit; they are
 * not vidi's. Read by LSan in the sanitizer build, unused otherwise. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libglib-2.0.so\nleak:libgstlibav.so\nleak:libgstreamer-1.0.so\nleak:libgobject-2.0.so\n";
}

static int decode_all(const char *path, vidi_decoder_backend backend, int shorter, vidi_frame *frames) {
    vidi_decoder_params p = vidi_decoder_default_params();
    p.backend = backend;
    p.shorter_side = shorter;
    vidi_decoder *dec = NULL;
    if (vidi_decoder_open(path, &p, &dec) != VIDI_OK) {
        CHECK_MSG(0, "%s (%s): %s", path, vidi_decoder_backend_name(backend), vidi_last_error());
        return 0;
    }
    int n = 0, got = 1;
    while (n < MAX_FRAMES && got) {
        vidi_status st = vidi_decoder_next(dec, &frames[n], &got);
        CHECK_MSG(st == VIDI_OK, "%s: %s", path, vidi_last_error());
        if (st) break;
        n += got;
    }
    vidi_decoder_close(dec);
    return n;
}

/* Largest and mean absolute difference per channel value. */
static double mean_abs_diff(const vidi_frame *a, const vidi_frame *b, int *max) {
    size_t n = (size_t)a->width * a->height * 3;
    double s = 0;
    *max = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a->rgb[i] - (int)b->rgb[i]);
        s += d;
        if (d > *max) *max = d;
    }
    return s / (double)n;
}

static void parity(const char *path, int shorter, int max_bound, double mean_bound) {
    static vidi_frame ff[MAX_FRAMES], gs[MAX_FRAMES];
    int nf = decode_all(path, VIDI_DECODER_FFMPEG, shorter, ff);
    int ng = decode_all(path, VIDI_DECODER_GST, shorter, gs);
    CHECK_MSG(nf == ng && nf > 0, "%s: ffmpeg %d frames, gst %d", path, nf, ng);
    double worst = 0;
    int worst_max = 0;
    int n = nf < ng ? nf : ng;
    for (int i = 0; i < n; i++) {
        CHECK_MSG(ff[i].width == gs[i].width && ff[i].height == gs[i].height, "%s: frame %d %dx%d vs %dx%d", path, i,
                  ff[i].width, ff[i].height, gs[i].width, gs[i].height);
        CHECK_MSG(fabs(ff[i].pts - gs[i].pts) < 1e-3, "%s: frame %d pts %.4f vs %.4f", path, i, ff[i].pts, gs[i].pts);
        if (ff[i].width == gs[i].width && ff[i].height == gs[i].height) {
            int max;
            double d = mean_abs_diff(&ff[i], &gs[i], &max);
            if (d > worst) worst = d;
            if (max > worst_max) worst_max = max;
        }
    }
    CHECK_MSG(worst <= mean_bound && worst_max <= max_bound, "%s (shorter side %d): |ffmpeg - gst| max %d, mean %.3f",
              path, shorter, worst_max, worst);
    if (getenv("VIDI_TEST_VERBOSE"))
        printf("%s (shorter side %d): %d frames, |ffmpeg - gst| max %d, mean %.4f\n", path, shorter, n, worst_max,
               worst);
    for (int i = 0; i < nf; i++) vidi_frame_free(&ff[i]);
    for (int i = 0; i < ng; i++) vidi_frame_free(&gs[i]);
}

static void gst_indices_and_errors(void) {
    vidi_decoder_params p = vidi_decoder_default_params();
    p.backend = VIDI_DECODER_GST;
    vidi_decoder *dec = NULL;
    CHECK(vidi_decoder_open(DIR "vfr.mp4", &p, &dec) == VIDI_OK);
    if (dec) {
        int64_t count = 0;
        CHECK(vidi_decoder_count_frames(dec, &count) == VIDI_OK && count == 30);
        int64_t idx[] = {20, 3, 3};
        vidi_frame f[3];
        CHECK(vidi_decoder_read_indices(dec, idx, 3, f) == VIDI_OK);
        CHECK(f[0].index == 20 && fabs(f[0].pts - 1.4) < 2e-3 && f[1].index == 3 && fabs(f[1].pts - 0.12) < 1e-6);
        for (int i = 0; i < 3; i++) vidi_frame_free(&f[i]);
        vidi_frame t;
        CHECK(vidi_decoder_read_time(dec, 0.65, &t) == VIDI_OK && t.index == 12);
        vidi_frame_free(&t);
        int64_t past = 30;
        CHECK(vidi_decoder_read_indices(dec, &past, 1, f) == VIDI_ERR_ARG);
        vidi_decoder_close(dec);
    }
    const char *bad[] = {DIR "missing.mp4", DIR "garbage.mp4", DIR "audio_only.mp4", DIR "zero_frames.y4m"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dec = NULL;
        vidi_status st = vidi_decoder_open(bad[i], &p, &dec);
        CHECK_MSG(st != VIDI_OK && dec == NULL && strstr(vidi_last_error(), bad[i]), "gst %s: %s", bad[i],
                  vidi_last_error());
        if (dec) vidi_decoder_close(dec);
    }
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    if (!vidi_decoder_backend_available(VIDI_DECODER_GST)) {
        puts("test_decode_gst: skipped (built without GStreamer)");
        return 0;
    }
    setenv("GST_DEBUG", "0", 1);
    /* H.264, HEVC and VP9 decode in GStreamer with libav (avdec_*) or
     * libvpx, bit-exact with FFmpeg's decoders: the frames must be equal. */
    const char *files[] = {DIR "cfr.mp4",        DIR "vfr.mp4",        DIR "odd_97x61.webm", DIR "rotated.mp4",
                           DIR "h264_10bit.mp4", DIR "hevc_10bit.mp4"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        parity(files[i], 0, 0, 0);
        parity(files[i], 32, 0, 0);
    }
    /* MJPEG: GStreamer's jpegdec (libjpeg) has its own IDCT, which moves a
     * few values by a few levels (max 5, mean 0.7 on this file) ... */
    parity(DIR "yuvj_mjpeg.avi", 0, 6, 1.0);
    parity(DIR "yuvj_mjpeg.avi", 32, 6, 1.0);
    /* ... and with FFmpeg's MJPEG decoder inside GStreamer (avdec_mjpeg
     * ranked first) the frames are equal again. */
#ifdef HAVE_GST_HEADERS
    GstPluginFeature *avdec = gst_registry_lookup_feature(gst_registry_get(), "avdec_mjpeg");
    if (avdec) {
        gst_plugin_feature_set_rank(avdec, GST_RANK_PRIMARY + 1);
        gst_object_unref(avdec);
        parity(DIR "yuvj_mjpeg.avi", 0, 0, 0);
        parity(DIR "yuvj_mjpeg.avi", 32, 0, 0);
    }
#endif
    gst_indices_and_errors();
    return vidi_test_summary("test_decode_gst");
}
