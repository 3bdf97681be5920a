/* vidi — clip sampling: which frames a video model sees, and how.
 *
 * Temporal: the sampler decides every frame index before decoding (a plan)
 * and asks the decoder only for those, so sparse sampling seeks instead of
 * decoding the whole video.
 *   uniform  n frames spread evenly over the whole video (ViViT / TSN test
 *            style): frame i = floor((i + 0.5) * total / n), the centre of
 *            the i-th of n equal segments. num_clips > 1 shifts the
 *            segments' sample points to (i + (c + 0.5) / num_clips) for clip c.
 *   clips    mmaction2 SampleFrames(test_mode=True): clip_len frames
 *            frame_interval apart; num_clips clips whose start offsets are
 *            round(c * max_offset / (num_clips - 1)) (one clip: max_offset / 2),
 *            max_offset = max(total - ((clip_len - 1) * frame_interval + 1), 0);
 *            np.round, i.e. half to even.
 * Short videos: indices past the end either loop (index mod total, mmaction2's
 * default "loop") or pad with the clip's last valid frame ("repeat_last").
 * Uniform sampling of more frames than the video has repeats frames
 * (nearest-segment padding) and never needs either.
 *
 * Tubelets: T (frames per view) is rounded up to a multiple of tubelet_t;
 * uniform sampling samples T frames, clip sampling lengthens each clip.
 *
 * Spatial: resize the shorter side (decoder's scaler, or PIL-exact when
 * exact_resize), then a centre crop or three crops along the longer side
 * (left/centre/right or top/centre/bottom, in that order), then
 * out = (rgb * rescale - mean) / std per channel.
 *
 * Output: n_clips * n_crops views, each a float tensor [T, 3, H, W];
 * view v is clip v / n_crops, crop v % n_crops. */
#ifndef VIDI_SAMPLER_H
#define VIDI_SAMPLER_H

#include <stdint.h>
#include "vidi/decode.h"
#include "vidi/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_sample_mode { VIDI_SAMPLE_UNIFORM = 0, VIDI_SAMPLE_CLIPS } vidi_sample_mode;
typedef enum vidi_sample_pad { VIDI_PAD_LOOP = 0, VIDI_PAD_REPEAT_LAST } vidi_sample_pad;
typedef enum vidi_crop_mode { VIDI_CROP_CENTER = 0, VIDI_CROP_THREE, VIDI_CROP_NONE } vidi_crop_mode;

typedef struct vidi_sampler_params {
    vidi_sample_mode mode;
    int num_frames;     /* uniform: frames per clip */
    int clip_len;       /* clips: frames per clip */
    int frame_interval; /* clips: distance between sampled frames (default 1) */
    int num_clips;      /* temporal views (default 1) */
    vidi_sample_pad pad;
    int tubelet_t;      /* T is a multiple of this (default 1) */

    int resize_shorter; /* > 0: shorter side to this before cropping, aspect kept */
    int resize_w, resize_h; /* > 0 (and resize_shorter 0): exactly this size, aspect not kept */
    int crop_w, crop_h; /* crop size; 0: no crop (crop mode NONE) */
    vidi_crop_mode crop;
    vidi_resample resample; /* default bilinear */
    int exact_resize;   /* 1: decode full size and resize with PIL's algorithm (slower) */
    float rescale;      /* default 1/255 */
    float mean[3], std[3]; /* default 0 and 1 */
} vidi_sampler_params;

vidi_sampler_params vidi_sampler_default_params(void);

/* Fills the spatial and normalisation fields from a Hugging Face
 * preprocessor_config.json (VivitImageProcessor, VideoMAEImageProcessor,
 * ViTImageProcessor, ...): size.shortest_edge or size.height/width,
 * crop_size, resample, rescale_factor, offset (rescale to [-1, 1]),
 * image_mean, image_std, do_* switches. Temporal fields are untouched. */
vidi_status vidi_sampler_params_from_preprocessor(const char *path, vidi_sampler_params *params);

typedef struct vidi_sample_plan {
    int n_clips;           /* temporal views */
    int frames_per_clip;   /* T, a multiple of tubelet_t */
    int64_t *indices;      /* [n_clips * frames_per_clip], clip-major */
    int64_t total_frames;  /* the count the plan was made for */
} vidi_sample_plan;

/* Indices only, for a video of total_frames frames (> 0). */
vidi_status vidi_sampler_plan(const vidi_sampler_params *params, int64_t total_frames, vidi_sample_plan *plan);
void vidi_sample_plan_free(vidi_sample_plan *plan);

typedef struct vidi_clip_views {
    int n_views, n_clips, n_crops;
    int frames, channels, height, width; /* T, 3, H, W per view */
    float *data;                         /* [n_views][T][3][H][W] */
    int64_t *indices;                    /* [n_clips][T] frame indices used */
    int64_t frames_lost;                 /* decoder's count after sampling */
} vidi_clip_views;

/* Plan with the decoder's exact frame count, decode only the planned frames
 * (vidi_decoder_read_indices), resize, crop, normalise. Frames that do not
 * arrive at the planned size (a decoder opened without
 * vidi_sampler_decoder_params, or exact_resize) are resized here with PIL's
 * algorithm. */
vidi_status vidi_sampler_run(vidi_decoder *dec, const vidi_sampler_params *params, vidi_clip_views *out);
void vidi_clip_views_free(vidi_clip_views *views);

/* Decoder params that make the decoder do the sampler's resize (fast path):
 * shorter side and filter set from the sampler params; other fields from base
 * (NULL: defaults). With exact_resize the decoder returns full-size frames. */
vidi_decoder_params vidi_sampler_decoder_params(const vidi_sampler_params *params, const vidi_decoder_params *base);

#ifdef __cplusplus
}
#endif
#endif
