/* Streaming factorised encoder: logits after every push equal a full
 * forward over the same window (1e-5 relative), whatever the push sizes;
 * errors before the window fills and for other variants; and the per-window
 * cost of a stream step vs a full forward (printed). Uses the model-2 golden
 * checkpoint (tests/golden/vivit_fe). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "vidi/vivit.h"

#define REL_TOL 1e-5

static double rel_error(const float *got, const float *want, int n) {
    double diff = 0, scale = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= diff)) diff = d;
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    }
    return diff / (scale > 0 ? scale : 1);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Deterministic frames in roughly the normalised range. */
static void fill_frames(float *v, size_t n, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        v[i] = (float)((x >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

static void check_equivalence(vidi_vivit *m, const char *backend) {
    const vidi_vivit_config *c = vidi_vivit_get_config(m);
    const int total = 42;
    size_t frame = (size_t)c->channels * c->image_size * c->image_size;
    float *video = malloc(sizeof(float) * frame * total);
    float *a = malloc(sizeof(float) * (size_t)c->num_labels), *b = malloc(sizeof(float) * (size_t)c->num_labels);
    vidi_vivit_stream *st = NULL;
    CHECK_MSG(vidi_vivit_stream_create(m, &st) == VIDI_OK, "stream_create: %s", vidi_last_error());
    if (!video || !a || !b || !st) goto done;
    fill_frames(video, frame * total, 7);
    /* Irregular pushes: tubelets complete mid-push and across pushes. */
    /* One push longer than a window (the push encodes it in batches). */
    static const int chunks[] = {3, 1, 5, 2, 0, 4, 1, 3, 2, 19, 2};
    int pushed = 0, windows = 0;
    double worst = 0;
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        CHECK(vidi_vivit_stream_push(st, video + pushed * frame, chunks[k]) == VIDI_OK);
        pushed += chunks[k];
        int complete = pushed / c->tubelet_t * c->tubelet_t;
        vidi_status s = vidi_vivit_stream_classify(st, a);
        if (complete < c->num_frames) {
            CHECK_MSG(s == VIDI_ERR_ARG, "classify with %d frames: %s", pushed, vidi_status_name(s));
            CHECK_MSG(strstr(vidi_last_error(), "frames") != NULL, "message: %s", vidi_last_error());
            continue;
        }
        CHECK_MSG(s == VIDI_OK, "classify: %s", vidi_last_error());
        CHECK(vidi_vivit_forward(m, video + (complete - c->num_frames) * frame, b, NULL, NULL) == VIDI_OK);
        double err = rel_error(a, b, c->num_labels);
        if (err > worst) worst = err;
        CHECK_MSG(err <= REL_TOL, "[%s] after %d frames: stream vs full forward rel err %.3g", backend, pushed, err);
        windows++;
    }
    CHECK_MSG(pushed == total && windows >= 5, "pushed %d, compared %d windows", pushed, windows);
    printf("[%s] stream == full forward over %d windows, worst rel err %.2e\n", backend, windows, worst);
done:
    vidi_vivit_stream_free(st);
    free(video);
    free(a);
    free(b);
}

/* Per-window cost: full forward vs push one tubelet + classify. */
static void measure(vidi_vivit *m, int iters) {
    const vidi_vivit_config *c = vidi_vivit_get_config(m);
    size_t frame = (size_t)c->channels * c->image_size * c->image_size;
    float *video = malloc(sizeof(float) * frame * (size_t)c->num_frames);
    float *logits = malloc(sizeof(float) * (size_t)c->num_labels);
    vidi_vivit_stream *st = NULL;
    if (!video || !logits || vidi_vivit_stream_create(m, &st) != VIDI_OK) goto done;
    fill_frames(video, frame * (size_t)c->num_frames, 3);
    CHECK(vidi_vivit_stream_push(st, video, c->num_frames) == VIDI_OK);
    double t0 = now_s();
    for (int i = 0; i < iters; i++) CHECK(vidi_vivit_forward(m, video, logits, NULL, NULL) == VIDI_OK);
    double full = (now_s() - t0) / iters;
    t0 = now_s();
    for (int i = 0; i < iters; i++) {
        CHECK(vidi_vivit_stream_push(st, video, c->tubelet_t) == VIDI_OK);
        CHECK(vidi_vivit_stream_classify(st, logits) == VIDI_OK);
    }
    double step = (now_s() - t0) / iters;
    printf("per window (stride %d frames, %d tubelets): full forward %.3f ms, stream step %.3f ms (%.1fx)\n",
           c->tubelet_t, c->num_frames / c->tubelet_t, full * 1e3, step * 1e3, full / step);
done:
    vidi_vivit_stream_free(st);
    free(video);
    free(logits);
}

int main(void) {
    static const char *const backends[] = {"ref", "cpu"};
    for (size_t i = 0; i < 2; i++) {
        vidi_backend *be = NULL;
        vidi_vivit *m = NULL;
        CHECK(vidi_backend_create(backends[i], 1, &be) == VIDI_OK);
        CHECK_MSG(vidi_vivit_load("tests/golden/vivit_fe/model.safetensors", be, &m) == VIDI_OK, "load: %s",
                  vidi_last_error());
        if (m) check_equivalence(m, backends[i]);
        if (m && i == 1) measure(m, 40);
        vidi_vivit_free(m);
        vidi_backend_destroy(be);
    }
    /* Optional: time a bigger model 2 (any vidi file), e.g. written by
     * tools/oracle/gen_vivit_golden.py-style random weights. */
    const char *bench = getenv("VIDI_VIVIT_BENCH_MODEL");
    if (bench) {
        vidi_backend *bb = NULL;
        vidi_vivit *bm = NULL;
        int threads = getenv("VIDI_THREADS") ? atoi(getenv("VIDI_THREADS")) : 1;
        CHECK(vidi_backend_create("cpu", threads, &bb) == VIDI_OK);
        CHECK_MSG(vidi_vivit_load(bench, bb, &bm) == VIDI_OK, "%s: %s", bench, vidi_last_error());
        if (bm) {
            printf("%s: %.2f GFLOP per full forward, %d thread(s)\n", bench, vidi_vivit_flops(bm) / 1e9, threads);
            measure(bm, 5);
        }
        vidi_vivit_free(bm);
        vidi_backend_destroy(bb);
    }
    /* Only model 2 streams. */
    vidi_backend *be = NULL;
    vidi_vivit *m = NULL;
    vidi_vivit_stream *st = NULL;
    CHECK(vidi_backend_create("cpu", 1, &be) == VIDI_OK);
    CHECK(vidi_vivit_load("tests/golden/vivit_fsa/model.safetensors", be, &m) == VIDI_OK);
    CHECK(m && vidi_vivit_stream_create(m, &st) == VIDI_ERR_UNSUPPORTED && st == NULL);
    CHECK_MSG(strstr(vidi_last_error(), "factorised_encoder") != NULL, "message: %s", vidi_last_error());
    vidi_vivit_free(m);
    vidi_backend_destroy(be);
    return vidi_test_summary("vivit_stream");
}
