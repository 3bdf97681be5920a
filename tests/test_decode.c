/* FFmpeg decoder backend on tests/fixtures/video (tools/make_test_videos.sh):
 * metadata, presentation-order indexing (CFR and VFR), random access equal
 * to sequential decoding, odd sizes, rotation, 10-bit, yuvj, memory input,
 * corrupt and truncated files. Bad input and network timeouts are in
 * test_decode_errors.c. */
#include <libavutil/log.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/decode.h"

#define DIR "tests/fixtures/video/"

static vidi_decoder *open_video(const char *path, const vidi_decoder_params *p) {
    vidi_decoder *dec = NULL;
    vidi_status st = vidi_decoder_open(path, p, &dec);
    CHECK_MSG(st == VIDI_OK, "open %s: %s", path, vidi_last_error());
    return st == VIDI_OK ? dec : NULL;
}

/* Decodes everything with next(); returns the frame count, frames in *out. */
static int decode_all(vidi_decoder *dec, vidi_frame **out) {
    int n = 0, cap = 64, got = 1;
    vidi_frame *frames = calloc((size_t)cap, sizeof *frames);
    while (got) {
        if (n == cap) frames = realloc(frames, sizeof *frames * (size_t)(cap *= 2));
        vidi_status st = vidi_decoder_next(dec, &frames[n], &got);
        CHECK_MSG(st == VIDI_OK, "next: %s", vidi_last_error());
        if (st != VIDI_OK) break;
        n += got;
    }
    *out = frames;
    return n;
}

static void free_frames(vidi_frame *frames, int n) {
    for (int i = 0; i < n; i++) vidi_frame_free(&frames[i]);
    free(frames);
}

static int same_pixels(const vidi_frame *a, const vidi_frame *b) {
    return a->width == b->width && a->height == b->height &&
           memcmp(a->rgb, b->rgb, (size_t)a->width * a->height * 3) == 0;
}

static double mean_value(const vidi_frame *f) {
    double s = 0;
    size_t n = (size_t)f->width * f->height * 3;
    for (size_t i = 0; i < n; i++) s += f->rgb[i];
    return s / (double)n;
}

/* Random access (any order, repeats) equals sequential decoding, bit for bit. */
static void check_random_access(const char *path, const vidi_decoder_params *p, const int64_t *idx, int n) {
    vidi_decoder *dec = open_video(path, p);
    if (!dec) return;
    vidi_frame *seq;
    int total = decode_all(dec, &seq);
    vidi_decoder_close(dec);
    if (!(dec = open_video(path, p))) {
        free_frames(seq, total);
        return;
    }
    vidi_frame got[16];
    vidi_status st = vidi_decoder_read_indices(dec, idx, n, got);
    CHECK_MSG(st == VIDI_OK, "%s: read_indices: %s", path, vidi_last_error());
    for (int i = 0; st == VIDI_OK && i < n; i++) {
        CHECK_MSG(idx[i] < total, "%s: index %lld >= %d", path, (long long)idx[i], total);
        if (idx[i] >= total) continue;
        CHECK_MSG(got[i].index == idx[i], "%s: got index %lld for %lld", path, (long long)got[i].index,
                  (long long)idx[i]);
        CHECK_MSG(fabs(got[i].pts - seq[idx[i]].pts) < 1e-9, "%s: pts %g vs %g", path, got[i].pts, seq[idx[i]].pts);
        CHECK_MSG(same_pixels(&got[i], &seq[idx[i]]), "%s: frame %lld differs from sequential decode", path,
                  (long long)idx[i]);
        vidi_frame_free(&got[i]);
    }
    /* next() continues after the last frame read. */
    vidi_frame f;
    int have = 0;
    int64_t last = idx[n - 1];
    if (last + 1 < total && vidi_decoder_next(dec, &f, &have) == VIDI_OK && have) {
        CHECK_MSG(f.index == last + 1 && same_pixels(&f, &seq[last + 1]), "%s: next after %lld gave %lld", path,
                  (long long)last, (long long)f.index);
        vidi_frame_free(&f);
    }
    CHECK(vidi_decoder_frames_lost(dec) == 0);
    vidi_decoder_close(dec);
    free_frames(seq, total);
}

static void test_cfr(void) {
    vidi_decoder *dec = open_video(DIR "cfr.mp4", NULL);
    if (!dec) return;
    const vidi_video_info *info = vidi_decoder_info(dec);
    CHECK(info->width == 96 && info->height == 64);
    CHECK(info->frame_count == 50 && info->frame_count_exact);
    CHECK(fabs(info->fps - 25.0) < 1e-9);
    CHECK(fabs(info->duration - 2.0) < 0.05);
    CHECK(!strcmp(info->codec, "h264") && !strcmp(info->pix_fmt, "yuv420p") && info->bit_depth == 8);
    CHECK(info->rotation == 0 && !strcmp(info->backend, "ffmpeg"));
    int64_t count = 0;
    CHECK(vidi_decoder_count_frames(dec, &count) == VIDI_OK && count == 50);
    vidi_frame *seq;
    int n = decode_all(dec, &seq);
    CHECK_MSG(n == 50, "cfr: %d frames", n);
    int ordered = 1;
    for (int i = 0; i < n; i++)
        if (seq[i].index != i || fabs(seq[i].pts - i / 25.0) > 1e-9 || seq[i].width != 96) ordered = 0;
    CHECK(ordered);
    /* Different frames really differ (testsrc2 moves). */
    CHECK(n == 50 && !same_pixels(&seq[0], &seq[30]));
    free_frames(seq, n);
    /* Past the end; by time. */
    vidi_frame f;
    int64_t past = 50;
    CHECK(vidi_decoder_read_indices(dec, &past, 1, &f) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "cfr.mp4") != NULL);
    CHECK(vidi_decoder_read_time(dec, 1.01, &f) == VIDI_OK && f.index == 25);
    vidi_frame_free(&f);
    CHECK(vidi_decoder_read_time(dec, 100.0, &f) == VIDI_OK && f.index == 49);
    vidi_frame_free(&f);
    vidi_decoder_close(dec);

    int64_t idx[] = {49, 0, 13, 13, 37, 24, 25, 11, 12};
    check_random_access(DIR "cfr.mp4", NULL, idx, 9);
    vidi_decoder_params p = vidi_decoder_default_params();
    p.threads = 2;
    p.shorter_side = 32;
    check_random_access(DIR "cfr.mp4", &p, idx, 9);
    int64_t tail[] = {5, 47, 48};
    check_random_access(DIR "cfr.mp4", &p, tail, 3);
    /* Sparse reads across keyframe intervals run on parallel workers
     * (threads > 1); with one thread, sequentially. Both equal next(). */
    p.threads = 4;
    check_random_access(DIR "cfr.mp4", &p, idx, 9);
    p.threads = 1;
    check_random_access(DIR "cfr.mp4", &p, idx, 9);
}

static void test_vfr(void) {
    vidi_decoder *dec = open_video(DIR "vfr.mp4", NULL);
    if (!dec) return;
    CHECK(vidi_decoder_info(dec)->frame_count == 30);
    vidi_frame *seq;
    int n = decode_all(dec, &seq);
    CHECK_MSG(n == 30, "vfr: %d frames", n);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        double want = i < 10 ? i * 0.04 : 0.4 + (i - 10) * 0.1;
        if (seq[i].index != i || fabs(seq[i].pts - want) > 0.0015) ok = 0; /* setpts truncates to ms */
    }
    CHECK_MSG(ok, "vfr: indices follow presentation timestamps");
    free_frames(seq, n);
    vidi_frame f;
    CHECK(vidi_decoder_read_time(dec, 0.65, &f) == VIDI_OK && f.index == 12 && fabs(f.pts - 0.6) < 1e-6);
    vidi_frame_free(&f);
    CHECK(vidi_decoder_read_time(dec, 0.38, &f) == VIDI_OK && f.index == 9);
    vidi_frame_free(&f);
    vidi_decoder_close(dec);
    int64_t idx[] = {29, 3, 15, 10, 9};
    check_random_access(DIR "vfr.mp4", NULL, idx, 5);
}

static void test_odd_size(void) {
    vidi_decoder *dec = open_video(DIR "odd_97x61.webm", NULL);
    if (!dec) return;
    const vidi_video_info *info = vidi_decoder_info(dec);
    CHECK(info->width == 97 && info->height == 61 && !strcmp(info->codec, "vp9"));
    vidi_frame *seq;
    int n = decode_all(dec, &seq);
    CHECK(n == 12 && seq[0].width == 97 && seq[0].height == 61);
    free_frames(seq, n);
    vidi_decoder_close(dec);
    vidi_decoder_params p = vidi_decoder_default_params();
    p.shorter_side = 32; /* 97 * 32 / 61 = 50.9 -> 50 */
    int64_t idx[] = {11, 2, 7};
    check_random_access(DIR "odd_97x61.webm", &p, idx, 3);
    if (!(dec = open_video(DIR "odd_97x61.webm", &p))) return;
    vidi_frame f;
    CHECK(vidi_decoder_read_indices(dec, idx, 1, &f) == VIDI_OK && f.width == 50 && f.height == 32);
    vidi_frame_free(&f);
    vidi_decoder_close(dec);
}

static void test_rotation(void) {
    vidi_decoder *dec = open_video(DIR "rotated.mp4", NULL);
    vidi_decoder_params p = vidi_decoder_default_params();
    p.no_rotate = 1;
    vidi_decoder *raw = open_video(DIR "rotated.mp4", &p);
    if (!dec || !raw) {
        vidi_decoder_close(dec);
        vidi_decoder_close(raw);
        return;
    }
    const vidi_video_info *info = vidi_decoder_info(dec);
    CHECK_MSG(info->width == 48 && info->height == 64 && info->coded_width == 64 && info->rotation == 270,
              "rotated: %dx%d rotation %d", info->width, info->height, info->rotation);
    CHECK(vidi_decoder_info(raw)->rotation == 0 && vidi_decoder_info(raw)->width == 64);
    vidi_frame a, b;
    int got1 = 0, got2 = 0;
    CHECK(vidi_decoder_next(dec, &a, &got1) == VIDI_OK && got1 && a.width == 48 && a.height == 64);
    CHECK(vidi_decoder_next(raw, &b, &got2) == VIDI_OK && got2 && b.width == 64 && b.height == 48);
    if (got1 && got2) {
        /* The ffmpeg CLI shows this file turned 90 degrees counter-clockwise
         * (display matrix rotation 90): upright (x, y) = raw (W-1-y, x)... checked
         * against `ffmpeg -i rotated.mp4 -frames:v 1 x.png`, the top-left
         * pixel comes from the raw top-right corner. */
        int ok = 1;
        for (int y = 0; y < 64 && ok; y++)
            for (int x = 0; x < 48 && ok; x++)
                for (int c = 0; c < 3; c++)
                    if (a.rgb[(y * 48 + x) * 3 + c] != b.rgb[(x * 64 + (63 - y)) * 3 + c]) ok = 0;
        CHECK_MSG(ok, "rotation: upright frame is the raw frame turned counter-clockwise");
    }
    vidi_frame_free(&a);
    vidi_frame_free(&b);
    vidi_decoder_close(dec);
    vidi_decoder_close(raw);
}

static void test_formats(void) {
    static const struct { const char *file, *codec, *pix_fmt; int depth; } cases[] = {
        {DIR "h264_10bit.mp4", "h264", "yuv420p10le", 10},
        {DIR "hevc_10bit.mp4", "hevc", "yuv420p10le", 10},
        {DIR "yuvj_mjpeg.avi", "mjpeg", "yuvj420p", 8},
    };
    vidi_frame ref = {0};
    int have_ref = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        vidi_decoder *dec = open_video(cases[k].file, NULL);
        if (!dec) continue;
        const vidi_video_info *info = vidi_decoder_info(dec);
        CHECK_MSG(!strcmp(info->codec, cases[k].codec) && !strcmp(info->pix_fmt, cases[k].pix_fmt) &&
                      info->bit_depth == cases[k].depth,
                  "%s: %s %s %d", cases[k].file, info->codec, info->pix_fmt, info->bit_depth);
        vidi_frame *seq;
        int n = decode_all(dec, &seq);
        CHECK_MSG(n == 12, "%s: %d frames", cases[k].file, n);
        if (n > 0) {
            double m = mean_value(&seq[0]);
            /* Same testsrc2 picture in every file: a 10-bit or full-range
             * mix-up moves the mean brightness far more than coding noise. */
            if (!have_ref) {
                ref = seq[0];
                seq[0].rgb = NULL;
                have_ref = 1;
            } else {
                CHECK_MSG(fabs(m - mean_value(&ref)) < 4.0, "%s: mean %.2f vs %.2f", cases[k].file, m,
                          mean_value(&ref));
            }
        }
        free_frames(seq, n);
        vidi_decoder_close(dec);
    }
    if (have_ref) vidi_frame_free(&ref);
}

static void test_memory(void) {
    size_t len = 0;
    char *data = vidi_test_read_file(DIR "cfr.mp4", &len);
    CHECK(data != NULL);
    if (!data) return;
    vidi_decoder *mem = NULL, *file = open_video(DIR "cfr.mp4", NULL);
    CHECK(vidi_decoder_open_memory(data, len, "cfr-in-memory", NULL, &mem) == VIDI_OK);
    if (mem && file) {
        CHECK(vidi_decoder_info(mem)->frame_count == 50);
        int64_t idx[] = {3, 40};
        vidi_frame a[2], b[2];
        CHECK(vidi_decoder_read_indices(mem, idx, 2, a) == VIDI_OK);
        CHECK(vidi_decoder_read_indices(file, idx, 2, b) == VIDI_OK);
        CHECK(same_pixels(&a[0], &b[0]) && same_pixels(&a[1], &b[1]));
        for (int i = 0; i < 2; i++) vidi_frame_free(&a[i]), vidi_frame_free(&b[i]);
    }
    vidi_decoder_close(mem);
    vidi_decoder_close(file);
    /* Garbage in memory fails with the label in the message. */
    mem = NULL;
    CHECK(vidi_decoder_open_memory(data, 100, "first-100-bytes", NULL, &mem) != VIDI_OK && mem == NULL);
    CHECK(strstr(vidi_last_error(), "first-100-bytes") != NULL);
    free(data);
}

static void test_damaged(void) {
    /* 25 MJPEG frames, 10-12 overwritten: 22 decoded, 3 lost. */
    vidi_decoder *dec = open_video(DIR "corrupt.avi", NULL);
    if (dec) {
        vidi_frame *seq;
        int n = decode_all(dec, &seq);
        CHECK_MSG(n == 22, "corrupt: %d frames decoded", n);
        CHECK_MSG(vidi_decoder_frames_lost(dec) == 3, "corrupt: %lld lost", (long long)vidi_decoder_frames_lost(dec));
        free_frames(seq, n);
        /* Asking for a lost frame gives the nearest earlier one. */
        int64_t idx = 11;
        vidi_frame f;
        CHECK(vidi_decoder_read_indices(dec, &idx, 1, &f) == VIDI_OK && f.index == 9);
        vidi_frame_free(&f);
        vidi_decoder_close(dec);
    }
    /* The same through parallel workers (every MJPEG frame is a keyframe):
     * same replacement, and the workers' lost frames are counted. */
    vidi_decoder_params par = vidi_decoder_default_params();
    par.threads = 2;
    if ((dec = open_video(DIR "corrupt.avi", &par))) {
        int64_t idx[] = {2, 11, 20};
        vidi_frame f[3];
        CHECK(vidi_decoder_read_indices(dec, idx, 3, f) == VIDI_OK && f[0].index == 2 && f[1].index == 9 &&
              f[2].index == 20);
        CHECK_MSG(vidi_decoder_frames_lost(dec) >= 1, "corrupt, parallel: %lld lost",
                  (long long)vidi_decoder_frames_lost(dec));
        for (int i = 0; i < 3; i++) vidi_frame_free(&f[i]);
        vidi_decoder_close(dec);
    }
    /* Truncated to 55%: decodes the frames that are there, counts the rest lost. */
    if ((dec = open_video(DIR "truncated.mp4", NULL))) {
        vidi_frame *seq;
        int n = decode_all(dec, &seq);
        int64_t lost = vidi_decoder_frames_lost(dec);
        CHECK_MSG(n > 5 && n < 50 && n + lost == 50, "truncated: %d decoded, %lld lost", n, (long long)lost);
        free_frames(seq, n);
        vidi_decoder_close(dec);
    }
}

/* Full-range MJPEG scaled down by parallel workers: each worker's converter
 * must keep its range set-up from frame to frame (it once lost it when
 * swscale rebuilt the context at the same address: +9.5 levels). */
static void test_mjpeg_parallel_downscale(void) {
    int64_t idx[] = {0, 2, 5, 10, 12, 15};
    vidi_decoder_params p = vidi_decoder_default_params();
    p.shorter_side = 40;
    p.threads = 4;
    check_random_access("samples/clips/ssv2-mjpeg/1.avi", &p, idx, 6);
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    test_mjpeg_parallel_downscale();
    test_cfr();
    test_vfr();
    test_odd_size();
    test_rotation();
    test_formats();
    test_memory();
    test_damaged();
    return vidi_test_summary("test_decode");
}
