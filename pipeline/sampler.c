/* Clip sampler: frame indices first (uniform, or mmaction2's test-mode
 * SampleFrames), then only those frames are decoded, resized, cropped and
 * normalised into [T, 3, H, W] float views. */
#include "vidi/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Keeps a typo in a CLI flag from asking for terabytes. */
#define MAX_FRAMES_PER_VIEW 4096
#define MAX_CLIPS 1024

vidi_sampler_params vidi_sampler_default_params(void) {
    vidi_sampler_params p;
    memset(&p, 0, sizeof p);
    p.mode = VIDI_SAMPLE_UNIFORM;
    p.num_frames = 8;
    p.clip_len = 8;
    p.frame_interval = 1;
    p.num_clips = 1;
    p.pad = VIDI_PAD_LOOP;
    p.tubelet_t = 1;
    p.crop = VIDI_CROP_NONE;
    p.resample = VIDI_RESAMPLE_BILINEAR;
    p.rescale = 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) p.mean[c] = 0.0f, p.std[c] = 1.0f;
    return p;
}

static vidi_status check_params(const vidi_sampler_params *p) {
    int per_clip = p->mode == VIDI_SAMPLE_UNIFORM ? p->num_frames : p->clip_len;
    if (p->mode != VIDI_SAMPLE_UNIFORM && p->mode != VIDI_SAMPLE_CLIPS)
        return vidi_set_error(VIDI_ERR_ARG, "sampler: unknown mode %d", (int)p->mode);
    if (per_clip < 1 || per_clip > MAX_FRAMES_PER_VIEW)
        return vidi_set_error(VIDI_ERR_ARG, "sampler: %d frames per clip is out of range [1, %d]", per_clip,
                              MAX_FRAMES_PER_VIEW);
    if (p->num_clips < 1 || p->num_clips > MAX_CLIPS)
        return vidi_set_error(VIDI_ERR_ARG, "sampler: %d clips is out of range [1, %d]", p->num_clips, MAX_CLIPS);
    if (p->mode == VIDI_SAMPLE_CLIPS && (p->frame_interval < 1 || p->frame_interval > 1000000))
        return vidi_set_error(VIDI_ERR_ARG, "sampler: frame interval %d is out of range", p->frame_interval);
    if (p->tubelet_t < 1 || p->tubelet_t > 64)
        return vidi_set_error(VIDI_ERR_ARG, "sampler: tubelet depth %d is out of range [1, 64]", p->tubelet_t);
    if (p->resize_shorter < 0 || p->resize_shorter > 16384 || p->resize_w < 0 || p->resize_h < 0 ||
        p->resize_w > 16384 || p->resize_h > 16384 || ((p->resize_w > 0) != (p->resize_h > 0)))
        return vidi_set_error(VIDI_ERR_ARG, "sampler: resize %d / %dx%d is invalid", p->resize_shorter, p->resize_w,
                              p->resize_h);
    if (p->crop != VIDI_CROP_NONE && (p->crop_w < 1 || p->crop_h < 1 || p->crop_w > 16384 || p->crop_h > 16384))
        return vidi_set_error(VIDI_ERR_ARG, "sampler: crop size %dx%d is invalid", p->crop_w, p->crop_h);
    for (int c = 0; c < 3; c++)
        if (!(p->std[c] != 0.0f) || !isfinite(p->std[c]) || !isfinite(p->mean[c]))
            return vidi_set_error(VIDI_ERR_ARG, "sampler: normalisation std[%d] = %g is invalid", c, p->std[c]);
    return VIDI_OK;
}

static int round_up(int n, int m) { return (n + m - 1) / m * m; }

/* mmaction2 SampleFrames._get_test_clips + out_of_bound_opt, start_index 0. */
static void plan_clips(const vidi_sampler_params *p, int T, int64_t total, int64_t *out) {
    int64_t span = (int64_t)(T - 1) * p->frame_interval + 1;
    int64_t max_offset = total - span > 0 ? total - span : 0;
    for (int c = 0; c < p->num_clips; c++) {
        int64_t offset;
        if (p->num_clips > 1) {
            double between = (double)max_offset / (double)(p->num_clips - 1);
            offset = (int64_t)nearbyint((double)c * between); /* np.round: half to even */
        } else {
            offset = max_offset / 2;
        }
        int64_t *clip = out + (int64_t)c * T, last_valid = 0;
        for (int t = 0; t < T; t++) {
            clip[t] = offset + (int64_t)t * p->frame_interval;
            if (clip[t] < total && clip[t] > last_valid) last_valid = clip[t];
        }
        for (int t = 0; t < T; t++)
            if (clip[t] >= total) clip[t] = p->pad == VIDI_PAD_LOOP ? clip[t] % total : last_valid;
    }
}

/* Centre of each of T equal segments; clip c shifts the sample point within
 * the segment so that num_clips clips interleave. */
static void plan_uniform(const vidi_sampler_params *p, int T, int64_t total, int64_t *out) {
    for (int c = 0; c < p->num_clips; c++) {
        double shift = (c + 0.5) / p->num_clips;
        for (int t = 0; t < T; t++) {
            int64_t i = (int64_t)floor(((double)t + shift) * (double)total / T);
            out[(int64_t)c * T + t] = i < total ? i : total - 1;
        }
    }
}

vidi_status vidi_sampler_plan(const vidi_sampler_params *params, int64_t total_frames, vidi_sample_plan *plan) {
    memset(plan, 0, sizeof *plan);
    vidi_status st = check_params(params);
    if (st) return st;
    if (total_frames <= 0) return vidi_set_error(VIDI_ERR_ARG, "sampler: the video has no frames");
    int per_clip = params->mode == VIDI_SAMPLE_UNIFORM ? params->num_frames : params->clip_len;
    int T = round_up(per_clip, params->tubelet_t);
    plan->indices = malloc(sizeof *plan->indices * (size_t)T * (size_t)params->num_clips);
    if (!plan->indices) return vidi_set_error(VIDI_ERR_NOMEM, "sampler: out of memory");
    plan->n_clips = params->num_clips;
    plan->frames_per_clip = T;
    plan->total_frames = total_frames;
    if (params->mode == VIDI_SAMPLE_UNIFORM)
        plan_uniform(params, T, total_frames, plan->indices);
    else
        plan_clips(params, T, total_frames, plan->indices);
    return VIDI_OK;
}

void vidi_sample_plan_free(vidi_sample_plan *plan) {
    if (!plan) return;
    free(plan->indices);
    memset(plan, 0, sizeof *plan);
}

vidi_decoder_params vidi_sampler_decoder_params(const vidi_sampler_params *params, const vidi_decoder_params *base) {
    vidi_decoder_params d = base ? *base : vidi_decoder_default_params();
    d.out_width = d.out_height = d.shorter_side = 0;
    d.resample = params->resample;
    if (!params->exact_resize) {
        if (params->resize_shorter > 0) d.shorter_side = params->resize_shorter;
        else if (params->resize_w > 0) d.out_width = params->resize_w, d.out_height = params->resize_h;
    }
    return d;
}
