/* Per-frame preprocessing (vidi_preprocess_frame) against the clip sampler
 * on the same decoded frames of real sample clips:
 *  - exact_resize (PIL path): bit-identical to vidi_sampler_run;
 *  - fast path (swscale): the sampler scales inside the decoder's YUV->RGB
 *    conversion from subsampled chroma, the stream scales RGB whose chroma
 *    was upsampled first, so they differ along colour edges; the bound is
 *    on 8-bit levels: mean <= 1.5 and at most 5% of values off by more
 *    than 8 (the max, ~40 on these synthetic sharp-edged clips, is printed).
 *    MJPEG is included: it once caught the decoder's parallel workers
 *    converting downscaled frames with the wrong range (fixed in
 *    decode/convert.c);
 *  - a strided input gives the same output as a packed one;
 *  - bad sizes / strides / crops are VIDI_ERR_ARG with nothing written. */
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/preprocess.h"
#include "vidi/sampler.h"

/* fast: whether the decoder-side (scaled) path is trusted for this clip. */
static const struct {
    const char *path;
    int fast;
} CLIPS[] = {
    {"samples/clips/kinetics-h264/val/something disappearing/T_Ar2gTquJc_000063_000065.mp4", 1},
    {"samples/clips/ssv2-vp9/1.webm", 1},
    {"samples/clips/ssv2-mjpeg/1.avi", 1},
};

static vidi_sampler_params test_params(int exact, vidi_resample filter) {
    vidi_sampler_params p = vidi_sampler_default_params();
    p.num_frames = 4;
    p.resize_shorter = 40;
    p.crop = VIDI_CROP_CENTER;
    p.crop_w = 32, p.crop_h = 28; /* not square: catches a swapped axis */
    p.resample = filter;
    p.exact_resize = exact;
    p.rescale = 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) p.mean[c] = 0.45f + 0.01f * c, p.std[c] = 0.22f + 0.01f * c;
    return p;
}

/* Sampler views vs per-frame preprocessing of full-size decoded frames.
 * Differences in 8-bit levels (normalised diff * std / rescale). */
static void compare_clip(const char *clip, int exact, vidi_resample filter, double *max_lv, double *mean_lv,
                         double *over8) {
    *max_lv = *mean_lv = *over8 = -1;
    vidi_sampler_params p = test_params(exact, filter);
    vidi_decoder_params dp = vidi_sampler_decoder_params(&p, NULL), full = vidi_decoder_default_params();
    full.resample = p.resample; /* the full-size conversion's chroma filter follows it too */
    vidi_decoder *dec = NULL, *raw = NULL;
    vidi_clip_views v = {0};
    vidi_frame *frames = NULL;
    float *mine = NULL;
    CHECK_MSG(vidi_decoder_open(clip, &dp, &dec) == VIDI_OK, "%s: %s", clip, vidi_last_error());
    CHECK_MSG(vidi_decoder_open(clip, &full, &raw) == VIDI_OK, "%s: %s", clip, vidi_last_error());
    if (!dec || !raw) goto done;
    CHECK_MSG(vidi_sampler_run(dec, &p, &v) == VIDI_OK, "%s: sampler: %s", clip, vidi_last_error());
    if (!v.data) goto done;
    CHECK(v.width == 32 && v.height == 28 && v.frames == 4 && v.n_views == 1);
    frames = calloc((size_t)v.frames, sizeof *frames);
    size_t plane = (size_t)v.width * v.height, frame_floats = 3 * plane;
    mine = malloc(sizeof(float) * frame_floats);
    if (!frames || !mine) goto done;
    CHECK_MSG(vidi_decoder_read_indices(raw, v.indices, v.frames, frames) == VIDI_OK, "%s", vidi_last_error());
    double max = 0, sum = 0, big = 0;
    for (int t = 0; t < v.frames; t++) {
        if (!frames[t].rgb) goto done;
        int ow = 0, oh = 0;
        CHECK(vidi_preprocess_output_size(&p, frames[t].width, frames[t].height, &ow, &oh) == VIDI_OK && ow == 32 &&
              oh == 28);
        vidi_status st =
            vidi_preprocess_frame(&p, frames[t].rgb, frames[t].width, frames[t].height, frames[t].width * 3, mine);
        CHECK_MSG(st == VIDI_OK, "%s: %s", clip, vidi_last_error());
        if (st) goto done;
        const float *want = v.data + (size_t)t * frame_floats;
        for (size_t i = 0; i < frame_floats; i++) {
            int c = (int)(i / plane);
            double lv = fabs((double)mine[i] - want[i]) * p.std[c] / p.rescale;
            if (!(lv <= max)) max = lv;
            sum += lv;
            big += lv > 8.5;
        }
    }
    *max_lv = max;
    *mean_lv = sum / ((double)frame_floats * v.frames);
    *over8 = big / ((double)frame_floats * v.frames);
done:
    if (frames)
        for (int t = 0; t < v.frames; t++) vidi_frame_free(&frames[t]);
    free(frames);
    free(mine);
    vidi_clip_views_free(&v);
    vidi_decoder_close(dec);
    vidi_decoder_close(raw);
}

static void test_against_sampler(void) {
    for (size_t k = 0; k < sizeof CLIPS / sizeof CLIPS[0]; k++) {
        double max, mean, over8;
        /* PIL path: the sampler decodes full size and resizes with PIL too. */
        static const vidi_resample filters[] = {VIDI_RESAMPLE_BILINEAR, VIDI_RESAMPLE_BICUBIC};
        for (int f = 0; f < 2; f++) {
            compare_clip(CLIPS[k].path, 1, filters[f], &max, &mean, &over8);
            printf("exact %-7s %-60s max %.3g levels\n", f ? "bicubic" : "bilinear", CLIPS[k].path, max);
            CHECK_MSG(max >= 0 && max < 1e-3, "%s exact path: max %.3g levels (want identical)", CLIPS[k].path, max);
        }
        if (!CLIPS[k].fast) continue;
        compare_clip(CLIPS[k].path, 0, VIDI_RESAMPLE_BILINEAR, &max, &mean, &over8);
        printf("fast  bilinear %-60s max %.3g, mean %.3g levels, %.2f%% > 8\n", CLIPS[k].path, max, mean, 100 * over8);
        CHECK_MSG(max >= 0 && mean <= 1.5 && over8 <= 0.05, "%s fast path: mean %.3g levels, %.2f%% > 8 levels",
                  CLIPS[k].path, mean, 100 * over8);
    }
}

/* The same frame given packed and with padded rows (as GstVideoFrame hands
 * it): identical outputs on both paths. */
static void test_stride(void) {
    const int w = 50, h = 37, stride = 160;
    uint8_t *packed = malloc((size_t)w * h * 3), *padded = malloc((size_t)stride * h);
    float *a = malloc(sizeof(float) * 3 * 32 * 28), *b = malloc(sizeof(float) * 3 * 32 * 28);
    if (!packed || !padded || !a || !b) goto done;
    uint32_t x = 12345;
    memset(padded, 0xEE, (size_t)stride * h);
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w * 3; i++) {
            x = x * 1664525u + 1013904223u;
            packed[(size_t)y * w * 3 + i] = padded[(size_t)y * stride + i] = (uint8_t)(x >> 24);
        }
    for (int exact = 0; exact < 2; exact++) {
        vidi_sampler_params p = test_params(exact, VIDI_RESAMPLE_BILINEAR);
        CHECK(vidi_preprocess_frame(&p, packed, w, h, w * 3, a) == VIDI_OK);
        CHECK(vidi_preprocess_frame(&p, padded, w, h, stride, b) == VIDI_OK);
        CHECK_MSG(memcmp(a, b, sizeof(float) * 3 * 32 * 28) == 0, "exact=%d: strided input differs", exact);
    }
    /* No resize, no crop: plain normalisation of the input pixels. */
    vidi_sampler_params p = vidi_sampler_default_params();
    CHECK(vidi_preprocess_frame(&p, padded, 4, 2, stride, a) == VIDI_OK);
    CHECK(fabsf(a[0] - padded[0] / 255.0f) < 1e-7f && fabsf(a[8 + 5] - padded[stride + 3 * 1 + 1] / 255.0f) < 1e-7f);
done:
    free(packed);
    free(padded);
    free(a);
    free(b);
}

static void test_errors(void) {
    vidi_sampler_params p = test_params(0, VIDI_RESAMPLE_BILINEAR);
    uint8_t px[64 * 64 * 3] = {0};
    float out[3 * 32 * 28];
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) out[i] = 7.0f;
    CHECK(vidi_preprocess_frame(&p, px, 0, 10, 30, out) == VIDI_ERR_ARG && strstr(vidi_last_error(), "0x10"));
    CHECK(vidi_preprocess_frame(&p, px, 10, 0, 30, out) == VIDI_ERR_ARG);
    CHECK(vidi_preprocess_frame(&p, px, 20, 20, 59, out) == VIDI_ERR_ARG && strstr(vidi_last_error(), "stride"));
    p.resize_shorter = 0; /* 20x20 cannot give a 32x28 crop */
    CHECK(vidi_preprocess_frame(&p, px, 20, 20, 60, out) == VIDI_ERR_ARG && strstr(vidi_last_error(), "crop"));
    p.std[1] = 0;
    CHECK(vidi_preprocess_frame(&p, px, 64, 64, 192, out) == VIDI_ERR_ARG && strstr(vidi_last_error(), "std"));
    int untouched = 1;
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) untouched &= out[i] == 7.0f;
    CHECK_MSG(untouched, "a failed call wrote to the output");
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    test_against_sampler();
    test_stride();
    test_errors();
    return vidi_test_summary("frame_preprocess");
}
