/* Clip sampler: index plans against mmaction2's SampleFrames(test_mode=True)
 * (values worked out with its formulas, numpy's half-to-even rounding
 * included), uniform plans, tubelet padding, and the spatial path (resize,
 * centre/three crops, normalisation) against the decoder's own frames. */
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/sampler.h"

#define CFR "tests/fixtures/video/cfr.mp4"

static void check_plan(const char *what, const vidi_sampler_params *p, int64_t total, const int64_t *want, int n,
                       int want_T) {
    vidi_sample_plan plan;
    vidi_status st = vidi_sampler_plan(p, total, &plan);
    CHECK_MSG(st == VIDI_OK, "%s: %s", what, vidi_last_error());
    if (st) return;
    CHECK_MSG(plan.n_clips * plan.frames_per_clip == n && plan.frames_per_clip == want_T, "%s: %d x %d", what,
              plan.n_clips, plan.frames_per_clip);
    int same = plan.n_clips * plan.frames_per_clip == n;
    for (int i = 0; same && i < n; i++) same = plan.indices[i] == want[i];
    if (!same) {
        fprintf(stderr, "%s: got", what);
        for (int i = 0; i < plan.n_clips * plan.frames_per_clip; i++) fprintf(stderr, " %lld", (long long)plan.indices[i]);
        fputc('\n', stderr);
    }
    CHECK_MSG(same, "%s: indices differ from mmaction2 / uniform rule", what);
    vidi_sample_plan_free(&plan);
}

static vidi_sampler_params clips(int clip_len, int interval, int num_clips) {
    vidi_sampler_params p = vidi_sampler_default_params();
    p.mode = VIDI_SAMPLE_CLIPS;
    p.clip_len = clip_len;
    p.frame_interval = interval;
    p.num_clips = num_clips;
    return p;
}

static void test_clip_plans(void) {
    vidi_sampler_params p = clips(8, 2, 3); /* max_offset 85, 42.5 apart: round(42.5) = 42 */
    const int64_t a[] = {0, 2, 4, 6, 8, 10, 12, 14, 42, 44, 46, 48, 50, 52, 54, 56,
                         85, 87, 89, 91, 93, 95, 97, 99};
    check_plan("clips 8x2x3 of 100", &p, 100, a, 24, 8);
    p = clips(4, 1, 4); /* max_offset 46: 0, 15.33, 30.67, 46 */
    const int64_t b[] = {0, 1, 2, 3, 15, 16, 17, 18, 31, 32, 33, 34, 46, 47, 48, 49};
    check_plan("clips 4x1x4 of 50", &p, 50, b, 16, 4);
    p = clips(1, 1, 3); /* max_offset 5, 2.5 apart: half to even */
    const int64_t c[] = {0, 2, 5};
    check_plan("clips 1x1x3 of 6", &p, 6, c, 3, 1);
    p = clips(1, 1, 5); /* 0, 0.75, 1.5, 2.25, 3 */
    const int64_t d[] = {0, 1, 2, 2, 3};
    check_plan("clips 1x1x5 of 4", &p, 4, d, 5, 1);
    p = clips(4, 2, 1); /* one clip: offset max_offset // 2 = (20 - 7) // 2 = 6 */
    const int64_t e[] = {6, 8, 10, 12};
    check_plan("clips 4x2x1 of 20", &p, 20, e, 4, 4);
    /* Short video: loop (mmaction2's default) and repeat_last. */
    p = clips(8, 4, 1);
    const int64_t loop[] = {0, 4, 8, 2, 6, 0, 4, 8};
    check_plan("loop 8x4 of 10", &p, 10, loop, 8, 8);
    p.pad = VIDI_PAD_REPEAT_LAST;
    const int64_t rep[] = {0, 4, 8, 8, 8, 8, 8, 8};
    check_plan("repeat_last 8x4 of 10", &p, 10, rep, 8, 8);
    /* Tubelet depth 2: a 3-frame clip becomes 4 frames. */
    p = clips(3, 2, 1);
    p.tubelet_t = 2;
    const int64_t tub[] = {6, 8, 10, 12}; /* span 7 of 20 -> offset 6 */
    check_plan("tubelet 3 -> 4", &p, 20, tub, 4, 4);
}

static void test_uniform_plans(void) {
    vidi_sampler_params p = vidi_sampler_default_params();
    p.num_frames = 4;
    const int64_t a[] = {12, 37, 62, 87};
    check_plan("uniform 4 of 100", &p, 100, a, 4, 4);
    p.num_frames = 8; /* more frames than the video: repeats, never past the end */
    const int64_t b[] = {0, 0, 0, 1, 1, 2, 2, 2};
    check_plan("uniform 8 of 3", &p, 3, b, 8, 8);
    p.num_frames = 3;
    p.tubelet_t = 2;
    const int64_t c[] = {12, 37, 62, 87};
    check_plan("uniform 3 with tubelet 2", &p, 100, c, 4, 4);
    p.num_frames = 2;
    p.tubelet_t = 1;
    p.num_clips = 2; /* clip 0 at 1/4 of each segment, clip 1 at 3/4 */
    const int64_t d[] = {12, 62, 37, 87};
    check_plan("uniform 2 x 2 clips of 100", &p, 100, d, 4, 2);
    vidi_sample_plan plan;
    CHECK(vidi_sampler_plan(&p, 0, &plan) == VIDI_ERR_ARG);
    p.num_frames = 0;
    CHECK(vidi_sampler_plan(&p, 10, &plan) == VIDI_ERR_ARG && strstr(vidi_last_error(), "frames per clip"));
}

static float norm(uint8_t v, const vidi_sampler_params *p, int c) {
    return ((float)v * p->rescale - p->mean[c]) / p->std[c];
}

static void test_run(void) {
    vidi_sampler_params p = vidi_sampler_default_params();
    p.num_frames = 4;
    p.resize_shorter = 32; /* 96x64 -> 48x32 */
    p.crop = VIDI_CROP_THREE;
    p.crop_w = p.crop_h = 32;
    for (int c = 0; c < 3; c++) p.mean[c] = 0.5f, p.std[c] = 0.25f;
    vidi_decoder_params dp = vidi_sampler_decoder_params(&p, NULL);
    vidi_decoder *dec = NULL, *ref = NULL;
    CHECK(vidi_decoder_open(CFR, &dp, &dec) == VIDI_OK);
    CHECK(vidi_decoder_open(CFR, &dp, &ref) == VIDI_OK);
    if (!dec || !ref) goto out;
    vidi_clip_views v;
    vidi_status st = vidi_sampler_run(dec, &p, &v);
    CHECK_MSG(st == VIDI_OK, "run: %s", vidi_last_error());
    if (st) goto out;
    CHECK(v.n_views == 3 && v.n_clips == 1 && v.n_crops == 3 && v.frames == 4 && v.channels == 3 && v.height == 32 &&
          v.width == 32 && v.frames_lost == 0);
    const int64_t want[] = {6, 18, 31, 43}; /* floor((i + 0.5) * 50 / 4) */
    CHECK(!memcmp(v.indices, want, sizeof want));
    /* Every value equals the decoder's frame, cropped and normalised. */
    vidi_frame f[4];
    CHECK(vidi_decoder_read_indices(ref, want, 4, f) == VIDI_OK);
    int ok = 1;
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < 4; t++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++) {
                        int x0 = k * 8; /* left, centre, right of 48 */
                        float e = norm(f[t].rgb[((size_t)y * 48 + x0 + x) * 3 + c], &p, c);
                        float g = v.data[((((size_t)k * 4 + t) * 3 + c) * 32 + y) * 32 + x];
                        if (fabsf(e - g) > 1e-6f) ok = 0;
                    }
    CHECK_MSG(ok, "three-crop views equal decoded frames cropped and normalised");
    for (int t = 0; t < 4; t++) vidi_frame_free(&f[t]);
    vidi_clip_views_free(&v);

    /* Crop larger than the frame: one line naming the video. */
    p.crop = VIDI_CROP_CENTER;
    p.crop_w = p.crop_h = 40;
    CHECK(vidi_sampler_run(dec, &p, &v) == VIDI_ERR_ARG && strstr(vidi_last_error(), CFR) &&
          strstr(vidi_last_error(), "larger"));
    CHECK(v.data == NULL);

    /* exact_resize: full-size frames, PIL bilinear here; a centre crop of
     * the whole height. */
    p.exact_resize = 1;
    p.crop_w = p.crop_h = 32;
    vidi_decoder_close(dec);
    dec = NULL;
    dp = vidi_sampler_decoder_params(&p, NULL);
    CHECK(dp.shorter_side == 0);
    CHECK(vidi_decoder_open(CFR, &dp, &dec) == VIDI_OK);
    if (dec && vidi_sampler_run(dec, &p, &v) == VIDI_OK) {
        vidi_frame full;
        vidi_decoder_params native = vidi_decoder_default_params();
        vidi_decoder *d2 = NULL;
        CHECK(vidi_decoder_open(CFR, &native, &d2) == VIDI_OK);
        if (d2 && vidi_decoder_read_indices(d2, &want[2], 1, &full) == VIDI_OK) {
            vidi_image in = {full.width, full.height, full.rgb}, small = {0, 0, NULL};
            CHECK(vidi_image_resize(&in, 48, 32, VIDI_RESAMPLE_BILINEAR, &small) == VIDI_OK);
            float e = norm(small.rgb[(5 * 48 + 8 + 7) * 3 + 1], &p, 1);
            float g = v.data[(((size_t)2 * 3 + 1) * 32 + 5) * 32 + 7];
            CHECK_MSG(fabsf(e - g) < 1e-6f, "exact resize: %g vs %g", e, g);
            vidi_image_free(&small);
            vidi_frame_free(&full);
        }
        vidi_decoder_close(d2);
        vidi_clip_views_free(&v);
    }
out:
    vidi_decoder_close(dec);
    vidi_decoder_close(ref);
}

static void test_preprocessor(void) {
    const char *path = "build-test-vivit-preprocessor.json";
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    /* google/vivit-b-16x2-kinetics400's processor. */
    fputs("{\"do_center_crop\": true, \"do_normalize\": true, \"do_rescale\": true, \"do_resize\": true,"
          " \"crop_size\": {\"height\": 224, \"width\": 224}, \"image_mean\": [0.5, 0.5, 0.5],"
          " \"image_std\": [0.5, 0.5, 0.5], \"offset\": true, \"resample\": 2, \"rescale_factor\": 0.00784313725490196,"
          " \"size\": {\"shortest_edge\": 256}, \"image_processor_type\": \"VivitImageProcessor\"}",
          f);
    fclose(f);
    vidi_sampler_params p = vidi_sampler_default_params();
    CHECK(vidi_sampler_params_from_preprocessor(path, &p) == VIDI_OK);
    CHECK(p.resize_shorter == 256 && p.crop == VIDI_CROP_CENTER && p.crop_w == 224 && p.crop_h == 224);
    CHECK(p.resample == VIDI_RESAMPLE_BILINEAR);
    /* 255 -> 255/127.5 - 1 = 1 -> (1 - 0.5) / 0.5 = 1; 0 -> -1 -> -3 (HF's own arithmetic). */
    CHECK(fabsf(norm(255, &p, 0) - 1.0f) < 1e-5f && fabsf(norm(0, &p, 2) + 3.0f) < 1e-5f);
    f = fopen(path, "w");
    fputs("{\"size\": \"big\"}", f);
    fclose(f);
    CHECK(vidi_sampler_params_from_preprocessor(path, &p) == VIDI_ERR_FORMAT && strstr(vidi_last_error(), path));
    remove(path);
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    test_clip_plans();
    test_uniform_plans();
    test_run();
    test_preprocessor();
    return vidi_test_summary("test_sampler");
}
