/* NVDEC through FFmpeg's CUDA hwaccel (decode/ffmpeg_hw.c). Asking for CUDA
 * never fails an open: without a GPU (this machine, CI) the decoder runs in
 * software, info.hwaccel says why, and the frames are exactly the software
 * decoder's; with one, info.hwaccel is "cuda" and frames match the software
 * decode within the conversion's rounding. Sequential and sparse (seeking,
 * parallel) reads, 8- and 10-bit, several codecs. */
#include <libavutil/log.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/decode.h"

static int max_diff(const vidi_frame *a, const vidi_frame *b) {
    if (a->width != b->width || a->height != b->height) return 256;
    int worst = 0;
    for (size_t i = 0; i < (size_t)a->width * a->height * 3; i++) {
        int d = abs((int)a->rgb[i] - (int)b->rgb[i]);
        if (d > worst) worst = d;
    }
    return worst;
}

static void check_file(const char *path) {
    vidi_decoder_params sw = vidi_decoder_default_params(), hw = sw;
    hw.hwaccel = VIDI_HWACCEL_CUDA;
    vidi_decoder *a = NULL, *b = NULL;
    CHECK_MSG(vidi_decoder_open(path, &sw, &a) == VIDI_OK, "%s: %s", path, vidi_last_error());
    CHECK_MSG(vidi_decoder_open(path, &hw, &b) == VIDI_OK, "%s (cuda): %s", path, vidi_last_error());
    if (!a || !b) {
        vidi_decoder_close(a);
        vidi_decoder_close(b);
        return;
    }
    const char *how = vidi_decoder_info(b)->hwaccel;
    int on_gpu = !strcmp(how, "cuda");
    CHECK_MSG(on_gpu || !strncmp(how, "none (cuda: ", 12), "%s: hwaccel '%s'", path, how);
    CHECK(!strcmp(vidi_decoder_info(a)->hwaccel, "none"));
    CHECK(!strcmp(vidi_decoder_info(a)->pix_fmt, vidi_decoder_info(b)->pix_fmt));
    /* Bit-exact in software; NV12/P010 from NVDEC may round differently in the conversion. */
    int allowed = on_gpu ? 2 : 0, worst = 0, frames = 0;
    for (;;) {
        vidi_frame fa = {0}, fb = {0};
        int ga = 0, gb = 0;
        CHECK(vidi_decoder_next(a, &fa, &ga) == VIDI_OK);
        CHECK(vidi_decoder_next(b, &fb, &gb) == VIDI_OK);
        CHECK(ga == gb);
        if (ga && gb) {
            int d = max_diff(&fa, &fb);
            if (d > worst) worst = d;
            CHECK(fa.index == fb.index && fa.pts == fb.pts);
            frames++;
        }
        vidi_frame_free(&fa);
        vidi_frame_free(&fb);
        if (!ga || !gb) break;
    }
    CHECK_MSG(worst <= allowed, "%s: frames differ by %d (allowed %d)", path, worst, allowed);
    /* Sparse reads (seeks, parallel workers, each with its own decoder). */
    int64_t idx[3] = {0, 5, 11}; /* every file here has at least 12 frames */
    vidi_frame sa[3] = {{0}}, sb[3] = {{0}};
    CHECK_MSG(vidi_decoder_read_indices(a, idx, 3, sa) == VIDI_OK, "%s: %s", path, vidi_last_error());
    CHECK_MSG(vidi_decoder_read_indices(b, idx, 3, sb) == VIDI_OK, "%s (cuda): %s", path, vidi_last_error());
    for (int i = 0; i < 3; i++) {
        CHECK_MSG(max_diff(&sa[i], &sb[i]) <= allowed, "%s: frame %lld differs", path, (long long)idx[i]);
        vidi_frame_free(&sa[i]);
        vidi_frame_free(&sb[i]);
    }
    printf("%-40s %d frames, hwaccel %s, max diff %d\n", path, frames, how, worst);
    vidi_decoder_close(a);
    vidi_decoder_close(b);
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET); /* FFmpeg's own note that libcuda is missing */
    check_file("tests/fixtures/video/cfr.mp4");
    check_file("tests/fixtures/video/h264_10bit.mp4");
    check_file("tests/fixtures/video/hevc_10bit.mp4");
    check_file("tests/fixtures/video/odd_97x61.webm");
    check_file("samples/clips/ssv2-vp9/1.webm");
    return vidi_test_summary("cuda_decode");
}
