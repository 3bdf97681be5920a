/* libFuzzer target: any byte string, read as a video from memory through a
 * custom AVIOContext, must open or fail cleanly; whatever opens must be safe
 * to read sequentially, by index, by time and through the clip sampler.
 * Seeds: tests/fuzz/corpus/fuzz_decode/ (tiny H.264, VP9 and rotated clips). */
#include <libavutil/log.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vidi/decode.h"
#include "vidi/sampler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    av_log_set_level(AV_LOG_QUIET);
    vidi_decoder_params p = vidi_decoder_default_params();
    p.threads = 1;
    p.shorter_side = 16;
    p.max_pixels = 1 << 18; /* keeps one input far below the RSS limit */
    p.timeout_s = 2;
    vidi_decoder *dec = NULL;
    if (vidi_decoder_open_memory(data, size, "fuzz.mp4", &p, &dec) != VIDI_OK) {
        if (dec != NULL || vidi_last_error()[0] == '\0') abort();
        return 0;
    }
    const vidi_video_info *info = vidi_decoder_info(dec);
    if (info->width <= 0 || info->height <= 0) abort();
    vidi_frame f;
    int got = 1;
    for (int i = 0; i < 8 && got; i++) {
        if (vidi_decoder_next(dec, &f, &got) != VIDI_OK) break;
        if (got && (!f.rgb || f.width <= 0 || f.height <= 0)) abort();
        if (got) vidi_frame_free(&f);
    }
    int64_t count = 0;
    if (vidi_decoder_count_frames(dec, &count) == VIDI_OK && count > 0) {
        int64_t idx[3] = {count - 1, 0, count / 2};
        vidi_frame fr[3];
        if (vidi_decoder_read_indices(dec, idx, 3, fr) == VIDI_OK)
            for (int i = 0; i < 3; i++) vidi_frame_free(&fr[i]);
    }
    if (vidi_decoder_read_time(dec, 0.5, &f) == VIDI_OK) vidi_frame_free(&f);
    vidi_sampler_params sp = vidi_sampler_default_params();
    sp.num_frames = 4;
    sp.crop = VIDI_CROP_THREE;
    sp.crop_w = sp.crop_h = 8;
    vidi_clip_views views;
    if (vidi_sampler_run(dec, &sp, &views) == VIDI_OK) {
        if (views.n_views != 3 || !views.data) abort();
        vidi_clip_views_free(&views);
    }
    vidi_decoder_close(dec);
    return 0;
}
