/* Video decode throughput for bench/decode.sh: "all" decodes every frame
 * (resized to SIZE x SIZE), "uniform" samples N frames with the clip
 * sampler's plan and decodes only those. Prints one line:
 * mode frames seconds frames_per_second. Built by bench/decode.sh. */
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vidi/decode.h"
#include "vidi/sampler.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "all") && strcmp(argv[1], "uniform"))) {
        fprintf(stderr, "usage: %s all|uniform VIDEO SIZE|N THREADS\n", argv[0]);
        return 2;
    }
    av_log_set_level(AV_LOG_QUIET);
    int all = !strcmp(argv[1], "all"), arg = atoi(argv[3]);
    vidi_decoder_params p = vidi_decoder_default_params();
    p.threads = atoi(argv[4]);
    p.out_width = p.out_height = all ? arg : 224;
    p.resample = VIDI_RESAMPLE_BICUBIC; /* what ffmpeg's scale filter uses */
    double t0 = now_s();
    vidi_decoder *dec = NULL;
    if (vidi_decoder_open(argv[2], &p, &dec) != VIDI_OK) {
        fprintf(stderr, "%s\n", vidi_last_error());
        return 1;
    }
    int64_t n = 0;
    if (all) {
        vidi_frame f;
        int got = 1;
        while (got && vidi_decoder_next(dec, &f, &got) == VIDI_OK && got) {
            vidi_frame_free(&f);
            n++;
        }
    } else {
        vidi_sampler_params sp = vidi_sampler_default_params();
        sp.num_frames = arg;
        vidi_sample_plan plan;
        int64_t total = 0;
        vidi_frame *frames = calloc((size_t)arg, sizeof *frames);
        if (vidi_decoder_count_frames(dec, &total) || vidi_sampler_plan(&sp, total, &plan) ||
            vidi_decoder_read_indices(dec, plan.indices, arg, frames)) {
            fprintf(stderr, "%s\n", vidi_last_error());
            return 1;
        }
        for (int i = 0; i < arg; i++) vidi_frame_free(&frames[i]);
        free(frames);
        vidi_sample_plan_free(&plan);
        n = arg;
    }
    double dt = now_s() - t0;
    vidi_decoder_close(dec);
    printf("%s %lld %.3f %.1f\n", argv[1], (long long)n, dt, n / dt);
    return 0;
}
