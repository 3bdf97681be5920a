/* vidi — synthetic action dataset (`vidi synth`).
 *
 * Renders and encodes deterministic clips of one moving foreground object
 * over a random background, in twelve Something-Something-v2-style classes,
 * and lays them out as the real datasets are laid out:
 *
 *   ssv2:      DIR/<id>.webm (or .mp4 / .avi), DIR/labels.json,
 *              DIR/train.json, DIR/validation.json
 *   kinetics:  DIR/<split>/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4,
 *              DIR/train.csv, DIR/val.csv
 *
 * The same parameters give byte-identical files. Clips are written
 * atomically and the annotation files last, so an interrupted run never
 * leaves a dataset that looks complete. See docs/synth.md. */
#ifndef VIDI_SYNTH_H
#define VIDI_SYNTH_H

#include <stdint.h>
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIDI_SYNTH_CLASSES 12

/* Limits checked by vidi_synth_check_params. */
#define VIDI_SYNTH_MIN_SIDE 32
#define VIDI_SYNTH_MAX_SIDE 1920
#define VIDI_SYNTH_MIN_FRAMES 8
#define VIDI_SYNTH_MAX_FRAMES 1000
#define VIDI_SYNTH_MAX_FPS 240
#define VIDI_SYNTH_MAX_CLIPS 10000000

typedef enum vidi_synth_layout {
    VIDI_SYNTH_SSV2 = 0,
    VIDI_SYNTH_KINETICS,
} vidi_synth_layout;

typedef struct vidi_synth_params {
    int clips;                /* number of clips, >= 1 */
    uint64_t seed;
    int width, height;        /* even, VIDI_SYNTH_MIN_SIDE..VIDI_SYNTH_MAX_SIDE */
    int frames;               /* per clip */
    int fps;
    /* "h264", "vp9" or "mjpeg"; NULL: vp9 (.webm) for ssv2, h264 (.mp4)
     * for kinetics, as the real datasets ship. */
    const char *codec;
    vidi_synth_layout layout;
    int force;                /* write into a non-empty directory */
    /* Called after each clip is on disk (done = 1..total); may be NULL. */
    void (*progress)(void *user, int done, int total);
    void *progress_user;
} vidi_synth_params;

typedef struct vidi_synth_summary {
    int clips, train, validation;
    int64_t bytes;            /* total size of the clip files */
    const char *codec;        /* codec used (static string) */
    const char *extension;    /* clip file extension (static string) */
} vidi_synth_summary;

/* 16 clips, seed 0, 160x120, 16 frames at 12 fps, ssv2 layout, default codec. */
vidi_synth_params vidi_synth_default_params(void);

/* VIDI_ERR_ARG naming the field and the allowed range when a parameter is
 * out of range or the codec is not one of h264, vp9, mjpeg. Does not check
 * that the encoder exists (vidi_video_codec_check) or touch the disk. */
vidi_status vidi_synth_check_params(const vidi_synth_params *params);

/* Generates the dataset into out_dir (created if missing). A non-empty
 * out_dir is refused unless params->force; with force, clip and annotation
 * files are overwritten and nothing else is removed. summary may be NULL. */
vidi_status vidi_synth_generate(const char *out_dir, const vidi_synth_params *params,
                                vidi_synth_summary *summary);

/* Class texts, cls in [0, VIDI_SYNTH_CLASSES); NULL otherwise.
 *   template:       "Moving [something] from left to right"  (train.json "template")
 *   class name:     "Moving something from left to right"    (labels.json key)
 *   kinetics label: "moving something from left to right"    (CSV label, folder name) */
const char *vidi_synth_template(int cls);
const char *vidi_synth_class_name(int cls);
const char *vidi_synth_kinetics_label(int cls);

const char *vidi_synth_layout_name(vidi_synth_layout layout);

#ifdef __cplusplus
}
#endif
#endif
