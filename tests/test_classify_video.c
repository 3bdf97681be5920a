/* Video classification driver (pipeline/classify_video.c): T x S views on real
 * encoded videos, logits = mean of the per-view forwards, the centre crop of
 * three equals the single centre view, frame indices follow the uniform
 * formula; short videos, indistinguishable views, ViT checkpoints, the
 * default model resolver and the model-kind probe. */
#include <libavutil/log.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pipeline/classify_video.h"
#include "vidi/preprocess.h"
#include "vidi/video_writer.h"

#define FE_MODEL "tests/golden/vivit_fe/model.safetensors"
#define HF_MODEL "tests/golden/vivit_hf"
#define VIT_MODEL "samples/models/vit-shapes"
#define CFR_VIDEO "tests/fixtures/video/cfr.mp4" /* 96x64, 50 frames */

static char tmpdir[] = "/tmp/vidi_classify_video_XXXXXX";

static double rel_error(const float *got, const double *want, int n) {
    double diff = 0, scale = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= diff)) diff = d;
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    }
    return diff / (scale > 0 ? scale : 1);
}

static vidi_decoder *open_video(vidi_video_classifier *vc, const char *path) {
    vidi_decoder_params dp = vidi_video_classifier_decoder_params(vc, NULL);
    vidi_decoder *dec = NULL;
    vidi_status s = vidi_decoder_open(path, &dp, &dec);
    CHECK_MSG(s == VIDI_OK, "open %s: %s", path, vidi_last_error());
    return dec;
}

/* A w x h video of n frames, each a different flat colour with a bar. */
static int write_video(const char *path, int w, int h, int n) {
    vidi_video_writer_params p = vidi_video_writer_default_params();
    p.codec = "h264", p.width = w, p.height = h, p.fps_num = 10;
    vidi_video_writer *vw = NULL;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    int ok = rgb && vidi_video_writer_open(path, &p, &vw) == VIDI_OK;
    for (int f = 0; ok && f < n; f++) {
        for (int i = 0; i < w * h; i++) {
            int bar = (i % w) / 4 == f % (w / 4);
            rgb[i * 3 + 0] = (uint8_t)(bar ? 255 : 30 * f);
            rgb[i * 3 + 1] = (uint8_t)(200 - 20 * f);
            rgb[i * 3 + 2] = (uint8_t)(i / w * 4);
        }
        ok = vidi_video_writer_write_rgb(vw, rgb, 0) == VIDI_OK;
    }
    if (vw) ok = vidi_video_writer_close(vw) == VIDI_OK && ok;
    free(rgb);
    CHECK_MSG(ok, "writing %s: %s", path, vidi_last_error());
    return ok;
}

/* 2x3 views on a real video: indices, view count, averaging. */
static void test_views_average(vidi_backend *be) {
    vidi_video_classifier *vc = NULL;
    CHECK_MSG(vidi_video_classifier_open(FE_MODEL, be, &vc) == VIDI_OK, "open: %s", vidi_last_error());
    if (!vc) return;
    int n = vidi_video_classifier_num_labels(vc);
    const vidi_vivit_config *c = vidi_vivit_get_config(vidi_video_classifier_model(vc));
    float *logits = malloc(sizeof(float) * n), *one = malloc(sizeof(float) * n), *view = malloc(sizeof(float) * n);
    double *want = calloc((size_t)n, sizeof(double));
    vidi_decoder *dec = open_video(vc, CFR_VIDEO);
    vidi_clip_views info;
    memset(&info, 0, sizeof info);
    if (!dec || !logits || !one || !view || !want) goto done;
    vidi_status s = vidi_classify_video_views(vc, dec, 2, 3, logits, &info);
    CHECK_MSG(s == VIDI_OK, "classify 2x3: %s", vidi_last_error());
    if (s) goto done;
    CHECK(info.n_views == 6 && info.n_clips == 2 && info.n_crops == 3);
    CHECK(info.frames == c->num_frames && info.height == c->image_size && info.width == c->image_size);
    /* Uniform sampling, two clips: centre of segment t shifted to (t + (c + 0.5) / 2) * total / T. */
    int idx_ok = 1;
    for (int k = 0; k < 2; k++)
        for (int t = 0; t < info.frames; t++) {
            int64_t expect = (int64_t)floor((t + (k + 0.5) / 2.0) * 50.0 / info.frames);
            if (info.indices[k * info.frames + t] != expect) idx_ok = 0;
        }
    CHECK_MSG(idx_ok, "2-clip indices do not follow the uniform formula");
    /* Averaged logits = mean of independent forwards over each view. */
    size_t view_floats = (size_t)info.frames * 3 * info.height * info.width;
    int views_differ = 0;
    for (int v = 0; v < info.n_views; v++) {
        CHECK(vidi_vivit_forward(vidi_video_classifier_model(vc), info.data + v * view_floats, view, NULL, NULL) ==
              VIDI_OK);
        for (int i = 0; i < n; i++) {
            want[i] += view[i] / 6.0;
            if (v > 0 && fabsf(view[i] - one[i]) > 1e-4f) views_differ = 1;
        }
        if (v == 0) memcpy(one, view, sizeof(float) * n);
    }
    double err = rel_error(logits, want, n);
    CHECK_MSG(err <= 1e-6, "averaged logits vs mean of per-view forwards: rel err %.3g", err);
    CHECK_MSG(views_differ, "all six views gave the same logits: the test cannot see averaging");

    /* 1x1 is the centre crop of 1x3 (same frames, same crop). */
    vidi_clip_views three, centre;
    CHECK(vidi_video_classifier_sample(vc, dec, 1, 3, &three) == VIDI_OK);
    CHECK(vidi_video_classifier_sample(vc, dec, 1, 1, &centre) == VIDI_OK);
    if (three.data && centre.data) {
        CHECK(three.n_views == 3 && centre.n_views == 1);
        CHECK_MSG(!memcmp(three.data + view_floats, centre.data, view_floats * sizeof(float)),
                  "1x3 centre view differs from the 1x1 view");
        CHECK_MSG(memcmp(three.data, centre.data, view_floats * sizeof(float)) != 0,
                  "1x3 left view equals the centre view on a 96x64 video");
        CHECK(vidi_video_classifier_forward_views(vc, &centre, one) == VIDI_OK);
        CHECK(vidi_classify_video_views(vc, dec, 1, 1, logits, NULL) == VIDI_OK);
        CHECK(!memcmp(one, logits, sizeof(float) * n));
    }
    vidi_clip_views_free(&three);
    vidi_clip_views_free(&centre);

    /* Bad view counts. */
    CHECK(vidi_classify_video_views(vc, dec, 0, 1, logits, NULL) == VIDI_ERR_ARG);
    CHECK(vidi_classify_video_views(vc, dec, 1, 2, logits, NULL) == VIDI_ERR_ARG);
    CHECK_MSG(strstr(vidi_last_error(), "cfr.mp4") && strstr(vidi_last_error(), "1x2"), "message: %s",
              vidi_last_error());
done:
    vidi_clip_views_free(&info);
    vidi_decoder_close(dec);
    vidi_video_classifier_free(vc);
    free(logits), free(one), free(view), free(want);
}

/* A 5-frame square video: classified (frames repeat); 16 temporal views or
 * three crops cannot be told apart and are refused. */
static void test_short_video(vidi_backend *be) {
    char path[256];
    snprintf(path, sizeof path, "%s/short.mp4", tmpdir);
    if (!write_video(path, 32, 32, 5)) return;
    vidi_video_classifier *vc = NULL;
    CHECK(vidi_video_classifier_open(FE_MODEL, be, &vc) == VIDI_OK);
    if (!vc) return;
    float logits[64];
    vidi_decoder *dec = open_video(vc, path);
    vidi_clip_views info;
    if (dec && vidi_classify_video_views(vc, dec, 1, 1, logits, &info) == VIDI_OK) {
        int ok = 1, repeats = 0;
        for (int t = 0; t < info.frames; t++) {
            if (info.indices[t] < 0 || info.indices[t] >= 5) ok = 0;
            if (t && info.indices[t] < info.indices[t - 1]) ok = 0;
            if (t && info.indices[t] == info.indices[t - 1]) repeats++;
        }
        CHECK_MSG(ok && repeats == info.frames - 5, "short video indices: ok %d, %d repeats", ok, repeats);
        vidi_clip_views_free(&info);
    } else {
        CHECK_MSG(0, "short video: %s", vidi_last_error());
    }
    if (dec) {
        CHECK(vidi_classify_video_views(vc, dec, 16, 1, logits, NULL) == VIDI_ERR_ARG);
        CHECK_MSG(strstr(vidi_last_error(), "larger than the video") && strstr(vidi_last_error(), "5 frames"),
                  "message: %s", vidi_last_error());
        CHECK(vidi_classify_video_views(vc, dec, 1, 3, logits, NULL) == VIDI_ERR_ARG);
        CHECK_MSG(strstr(vidi_last_error(), "three different 32x32 crops"), "message: %s", vidi_last_error());
        /* 2 clips of 8 from 5 frames still differ: allowed. */
        CHECK_MSG(vidi_classify_video_views(vc, dec, 2, 1, logits, NULL) == VIDI_OK, "2x1: %s", vidi_last_error());
    }
    vidi_decoder_close(dec);
    vidi_video_classifier_free(vc);
    unlink(path);
}

/* Model 1 from a Hugging Face directory goes through the same driver. */
static void test_hf_model(vidi_backend *be) {
    vidi_video_classifier *vc = NULL;
    CHECK_MSG(vidi_video_classifier_open(HF_MODEL, be, &vc) == VIDI_OK, "open HF: %s", vidi_last_error());
    if (!vc) return;
    float logits[64];
    vidi_decoder *dec = open_video(vc, CFR_VIDEO);
    if (dec) CHECK_MSG(vidi_classify_video_views(vc, dec, 1, 3, logits, NULL) == VIDI_OK, "%s", vidi_last_error());
    vidi_decoder_close(dec);
    vidi_video_classifier_free(vc);
}

/* Windows collected from vidi_classify_video_stream. */
#define MAX_WINDOWS 32
typedef struct windows {
    int n, labels;
    vidi_stream_window w[MAX_WINDOWS];
    float logits[MAX_WINDOWS][16];
} windows;

static vidi_status collect(void *user, const vidi_stream_window *w, const float *logits) {
    windows *ws = user;
    if (ws->n >= MAX_WINDOWS) return vidi_set_error(VIDI_ERR_ARG, "too many windows");
    ws->w[ws->n] = *w;
    memcpy(ws->logits[ws->n++], logits, sizeof(float) * (size_t)ws->labels);
    return VIDI_OK;
}

static double rel_error_f(const float *got, const float *want, int n) {
    double w[64];
    for (int i = 0; i < n; i++) w[i] = want[i];
    return rel_error(got, w, n);
}

/* Each streamed window equals a full forward over the same frames, read by
 * index (the decoder's seek path, not the sequential one) and preprocessed
 * one by one; frame stride 2, window stride 4 on a 50-frame video. */
static void test_stream_windows(vidi_backend *be) {
    vidi_video_classifier *vc = NULL;
    CHECK(vidi_video_classifier_open(FE_MODEL, be, &vc) == VIDI_OK);
    if (!vc) return;
    vidi_vivit *m = vidi_video_classifier_model(vc);
    const vidi_vivit_config *c = vidi_vivit_get_config(m);
    windows ws;
    memset(&ws, 0, sizeof ws);
    ws.labels = c->num_labels;
    vidi_decoder *dec = open_video(vc, CFR_VIDEO), *seek = open_video(vc, CFR_VIDEO);
    size_t frame = (size_t)3 * c->image_size * c->image_size;
    float *clip = malloc(sizeof(float) * frame * c->num_frames), want[16];
    vidi_frame *frames = calloc((size_t)c->num_frames, sizeof *frames);
    if (!dec || !seek || !clip || !frames) goto done;
    vidi_status s = vidi_classify_video_stream(vc, dec, 4, 2, collect, &ws);
    CHECK_MSG(s == VIDI_OK, "stream: %s", vidi_last_error());
    /* 25 kept frames (0, 2, ..., 48): windows after 8, 12, 16, 20, 24 of them. */
    CHECK_MSG(ws.n == 5, "%d windows, expected 5", ws.n);
    vidi_sampler_params p = *vidi_video_classifier_sampler_params(vc);
    double worst = 0;
    for (int k = 0; k < ws.n; k++) {
        const vidi_stream_window *w = &ws.w[k];
        CHECK_MSG(w->index == k && w->first_frame == 8 * k && w->last_frame == 8 * k + 2 * (c->num_frames - 1),
                  "window %d: frames %lld-%lld", k, (long long)w->first_frame, (long long)w->last_frame);
        CHECK(w->end_s > w->start_s && w->start_s >= 0);
        int64_t idx[64];
        for (int t = 0; t < c->num_frames; t++) idx[t] = w->first_frame + 2 * t;
        if (vidi_decoder_read_indices(seek, idx, c->num_frames, frames) != VIDI_OK) {
            CHECK_MSG(0, "read_indices: %s", vidi_last_error());
            break;
        }
        int ok = 1;
        for (int t = 0; t < c->num_frames; t++) {
            ok &= vidi_preprocess_frame(&p, frames[t].rgb, frames[t].width, frames[t].height, frames[t].width * 3,
                                        clip + t * frame) == VIDI_OK;
            if (t == 0) CHECK(fabs(frames[t].pts - w->start_s) < 1e-9);
            if (t == c->num_frames - 1) CHECK(fabs(frames[t].pts - w->end_s) < 1e-9);
            vidi_frame_free(&frames[t]);
        }
        CHECK(ok && vidi_vivit_forward(m, clip, want, NULL, NULL) == VIDI_OK);
        double err = rel_error_f(ws.logits[k], want, c->num_labels);
        if (err > worst) worst = err;
        CHECK_MSG(err <= 1e-5, "window %d: stream vs full forward rel err %.3g", k, err);
    }
    printf("stream windows == full forwards over %d windows, worst rel err %.2e\n", ws.n, worst);

    /* Wrong strides and models. */
    CHECK(vidi_classify_video_stream(vc, seek, 3, 1, collect, &ws) == VIDI_ERR_ARG);
    CHECK_MSG(strstr(vidi_last_error(), "tubelet depth 2"), "message: %s", vidi_last_error());
    CHECK(vidi_classify_video_stream(vc, seek, 2, 0, collect, &ws) == VIDI_ERR_ARG);
done:
    vidi_decoder_close(dec);
    vidi_decoder_close(seek);
    vidi_video_classifier_free(vc);
    free(clip);
    free(frames);
    vc = NULL;
    if (vidi_video_classifier_open(HF_MODEL, be, &vc) == VIDI_OK) {
        dec = open_video(vc, CFR_VIDEO);
        if (dec) CHECK(vidi_classify_video_stream(vc, dec, 2, 1, collect, &ws) == VIDI_ERR_UNSUPPORTED);
        CHECK_MSG(strstr(vidi_last_error(), "factorised-encoder"), "message: %s", vidi_last_error());
        vidi_decoder_close(dec);
    }
    vidi_video_classifier_free(vc);
}

/* A video of exactly num_frames frames: uniform sampling takes every frame,
 * so `classify` (sampler, 1x1) and the stream's only window see the same
 * frames and must agree; a shorter video has no window. */
static void test_stream_equals_classify(vidi_backend *be) {
    char path[256], short_path[256];
    snprintf(path, sizeof path, "%s/eight.mp4", tmpdir);
    snprintf(short_path, sizeof short_path, "%s/seven.mp4", tmpdir);
    if (!write_video(path, 48, 40, 8) || !write_video(short_path, 48, 40, 7)) return;
    vidi_video_classifier *vc = NULL;
    CHECK(vidi_video_classifier_open(FE_MODEL, be, &vc) == VIDI_OK);
    if (!vc) return;
    windows ws;
    memset(&ws, 0, sizeof ws);
    ws.labels = vidi_video_classifier_num_labels(vc);
    float logits[16];
    vidi_decoder *a = open_video(vc, path), *b = open_video(vc, path), *c = open_video(vc, short_path);
    if (a && b && c) {
        CHECK_MSG(vidi_classify_video_views(vc, a, 1, 1, logits, NULL) == VIDI_OK, "%s", vidi_last_error());
        CHECK_MSG(vidi_classify_video_stream(vc, b, 2, 1, collect, &ws) == VIDI_OK, "%s", vidi_last_error());
        CHECK(ws.n == 1);
        double err = rel_error_f(ws.logits[0], logits, ws.labels);
        CHECK_MSG(err <= 1e-5, "stream window vs classify 1x1: rel err %.3g", err);
        CHECK(vidi_classify_video_stream(vc, c, 2, 1, collect, &ws) == VIDI_ERR_ARG);
        CHECK_MSG(strstr(vidi_last_error(), "fewer than one window of 8 frames"), "message: %s", vidi_last_error());
    }
    vidi_decoder_close(a);
    vidi_decoder_close(b);
    vidi_decoder_close(c);
    vidi_video_classifier_free(vc);
    unlink(path);
    unlink(short_path);
}

static void test_input_kind(void) {
    CHECK(vidi_input_is_image("samples/images/circle_1.jpg") == 1);
    CHECK(vidi_input_is_image("samples/images/circle_2.png") == 1);
    CHECK(vidi_input_is_image(CFR_VIDEO) == 0);
    CHECK(vidi_input_is_image("samples/clips/ssv2-vp9/1.webm") == 0);
    CHECK(vidi_input_is_image("tests/fixtures/video/yuvj_mjpeg.avi") == 0);
    CHECK(vidi_input_is_image("no/such/file.png") == 0);
}

static void test_wrong_models(vidi_backend *be) {
    vidi_video_classifier *vc = NULL;
    CHECK(vidi_video_classifier_open(VIT_MODEL, be, &vc) == VIDI_ERR_FORMAT && !vc);
    CHECK_MSG(strstr(vidi_last_error(), "ViT checkpoint"), "message: %s", vidi_last_error());
    CHECK(vidi_video_classifier_open("no/such/model.safetensors", be, &vc) == VIDI_ERR_IO && !vc);

    vidi_model_kind kind;
    CHECK(vidi_model_probe(VIT_MODEL, &kind) == VIDI_OK && kind == VIDI_MODEL_IMAGE);
    CHECK(vidi_model_probe(FE_MODEL, &kind) == VIDI_OK && kind == VIDI_MODEL_VIDEO);
    CHECK(vidi_model_probe(HF_MODEL, &kind) == VIDI_OK && kind == VIDI_MODEL_VIDEO);
    CHECK(vidi_model_probe("no/such/model", &kind) == VIDI_ERR_IO);
    CHECK(vidi_model_probe(CFR_VIDEO, &kind) != VIDI_OK);
}

static void test_default_model(void) {
    char buf[4096], want[512];
    const char *old = getenv("VIDI_MODEL_DIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("VIDI_MODEL_DIR", tmpdir, 1);
    CHECK(vidi_default_video_model(buf, sizeof buf) == VIDI_ERR_IO);
    CHECK_MSG(strstr(vidi_last_error(), tmpdir) && strstr(vidi_last_error(), "VIDI_MODEL_DIR"), "message: %s",
              vidi_last_error());
    snprintf(want, sizeof want, "%s/" VIDI_DEFAULT_VIDEO_MODEL_NAME, tmpdir);
    char target[4096];
    CHECK(getcwd(target, sizeof target) != NULL);
    strncat(target, "/" FE_MODEL, sizeof target - strlen(target) - 1);
    CHECK(symlink(target, want) == 0);
    CHECK_MSG(vidi_default_video_model(buf, sizeof buf) == VIDI_OK && !strcmp(buf, want), "%s", vidi_last_error());
    CHECK(vidi_default_video_model(buf, 8) == VIDI_ERR_ARG);
    unlink(want);
    /* Without the variable: the build's samples/models, named in the error if absent. */
    unsetenv("VIDI_MODEL_DIR");
    vidi_status s = vidi_default_video_model(buf, sizeof buf);
    CHECK_MSG(strstr(buf, "samples/models/" VIDI_DEFAULT_VIDEO_MODEL_NAME), "default path %s", buf);
    if (s) CHECK_MSG(strstr(vidi_last_error(), "samples/models"), "message: %s", vidi_last_error());
    else CHECK(access(buf, R_OK) == 0);
    if (saved) setenv("VIDI_MODEL_DIR", saved, 1);
    free(saved);
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET); /* libx264 banners from the short-video writer */
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    vidi_backend *be = NULL;
    if (vidi_backend_create("cpu", 2, &be) != VIDI_OK) {
        fprintf(stderr, "backend: %s\n", vidi_last_error());
        return 1;
    }
    test_views_average(be);
    test_short_video(be);
    test_hf_model(be);
    test_stream_windows(be);
    test_stream_equals_classify(be);
    test_input_kind();
    test_wrong_models(be);
    test_default_model();
    vidi_backend_destroy(be);
    rmdir(tmpdir);
    return vidi_test_summary("classify_video");
}
