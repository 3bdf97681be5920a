/* Video classification driver shared by `vidi classify`, `vidi eval` and the
 * GStreamer plugin: a ViViT plus the sampler settings that reproduce its
 * preprocessing, T x S views per video, logits averaged over the views
 * (Scenic / mmaction2 test protocol: average logits, then softmax).
 *
 *   vidi_video_classifier *vc;
 *   vidi_video_classifier_open(path, be, &vc);
 *   vidi_decoder_params dp = vidi_video_classifier_decoder_params(vc, NULL);
 *   vidi_decoder_open(url, &dp, &dec);
 *   vidi_classify_video_views(vc, dec, 4, 3, logits, NULL);
 *
 * Sampling and the forward passes are separate steps too
 * (vidi_video_classifier_sample, then _forward_views) so that callers can
 * decode ahead on other threads: sampling reads the classifier's settings
 * only, the forward passes need the classifier to themselves.
 *
 * Short videos: the model's uniform sampler spreads T frames over the whole
 * video, so a video shorter than a clip repeats frames (nearest segment) and
 * is classified. Views that cannot be told apart are an error instead of a
 * silent duplicate: two temporal views with the same frames (the video has
 * too few frames for that many clips) or three crops of a frame no larger
 * than the crop ("views larger than the video"). */
#ifndef VIDI_PIPELINE_CLASSIFY_VIDEO_H
#define VIDI_PIPELINE_CLASSIFY_VIDEO_H

#include <stddef.h>

#include "vidi/backend.h"
#include "vidi/decode.h"
#include "vidi/sampler.h"
#include "vidi/vivit.h"

typedef struct vidi_video_classifier vidi_video_classifier;

/* Loads the ViViT at model_path (HF directory or vidi single file) on be,
 * which must outlive the classifier. */
vidi_status vidi_video_classifier_open(const char *model_path, vidi_backend *be, vidi_video_classifier **out);
void vidi_video_classifier_free(vidi_video_classifier *vc);

vidi_vivit *vidi_video_classifier_model(vidi_video_classifier *vc);
int vidi_video_classifier_num_labels(const vidi_video_classifier *vc);

/* The model's sampler settings; callers may change them (e.g. exact_resize,
 * pad) before sampling. Views are set per call. */
vidi_sampler_params *vidi_video_classifier_sampler_params(vidi_video_classifier *vc);

/* Decoder params that let the decoder do the sampler's resize (fast path);
 * other fields from base (NULL: defaults). */
vidi_decoder_params vidi_video_classifier_decoder_params(const vidi_video_classifier *vc,
                                                         const vidi_decoder_params *base);

/* Sample views_t temporal clips x views_s crops (1: centre, 3: three crops
 * along the longer side) from dec. out is freed with vidi_clip_views_free. */
vidi_status vidi_video_classifier_sample(const vidi_video_classifier *vc, vidi_decoder *dec, int views_t, int views_s,
                                         vidi_clip_views *out);

/* One forward per view; logits (num_labels floats) = mean over views. */
vidi_status vidi_video_classifier_forward_views(vidi_video_classifier *vc, const vidi_clip_views *views,
                                                float *logits);

/* Sample + forward. opt_info: when not NULL, receives the sampled views
 * (indices, frames_lost, data) and the caller frees it; otherwise they are
 * freed here. */
vidi_status vidi_classify_video_views(vidi_video_classifier *vc, vidi_decoder *dec, int views_t, int views_s,
                                      float *logits, vidi_clip_views *opt_info);

/* Sliding windows over a whole video (factorised encoder, model 2, only):
 * frames are decoded in order from dec's current position, every
 * frame_stride-th kept, preprocessed as the sampler's centre view
 * (vidi_frame_preprocessor) and pushed once into a vidi_vivit_stream. Once
 * num_frames frames are in, and then every window_stride kept frames (a
 * multiple of the tubelet depth, so windows start on tubelet boundaries),
 * fn gets the window's logits; each equals a full forward over the same
 * frames. A non-OK return from fn stops the run and is returned. A video
 * with fewer kept frames than one window is VIDI_ERR_ARG. */
typedef struct vidi_stream_window {
    int index;                       /* 0, 1, ... */
    int64_t first_frame, last_frame; /* presentation-order indices of its first and last frames */
    double start_s, end_s;           /* their timestamps (pts, seconds) */
} vidi_stream_window;
typedef vidi_status (*vidi_stream_window_fn)(void *user, const vidi_stream_window *window, const float *logits);
vidi_status vidi_classify_video_stream(vidi_video_classifier *vc, vidi_decoder *dec, int window_stride,
                                       int frame_stride, vidi_stream_window_fn fn, void *user);
/* The checks vidi_classify_video_stream starts with (variant, strides), for
 * callers that want to refuse once before opening any input; label names
 * the thing in the message. */
vidi_status vidi_classify_video_stream_check(vidi_video_classifier *vc, const char *label, int window_stride,
                                             int frame_stride);

/* The default video model: $VIDI_MODEL_DIR/vivit-synth.safetensors when
 * VIDI_MODEL_DIR is set, else <VIDI_DEFAULT_MODEL_DIR>/vivit-synth.safetensors
 * (the source tree's samples/models at build time). VIDI_ERR_IO naming the
 * places looked at when there is no such file. */
#define VIDI_DEFAULT_VIDEO_MODEL_NAME "vivit-synth.safetensors"
vidi_status vidi_default_video_model(char *buf, size_t n);

/* What a checkpoint path holds, from its tensor names and metadata (without
 * loading it): ViViT (HF VivitForVideoClassification dir or vidi-vivit file)
 * or anything else (left to the image loader, which reports what it is). */
typedef enum vidi_model_kind { VIDI_MODEL_IMAGE = 0, VIDI_MODEL_VIDEO } vidi_model_kind;
vidi_status vidi_model_probe(const char *path, vidi_model_kind *kind);

/* 1 when path is a still image (libavformat picks an image demuxer: image2,
 * png_pipe, jpeg_pipe, ...), 0 otherwise, including URLs (not opened here)
 * and files libavformat cannot read (the decoder then reports why). Lets a
 * caller say "an image given to a video model" instead of classifying a
 * one-frame video, and the other way round. */
int vidi_input_is_image(const char *path);

#endif
