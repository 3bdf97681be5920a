/* Internals of the synthetic dataset shared by pipeline/synth*.c and the
 * tests: the seeded PRNG, the per-clip description drawn from (seed, index),
 * the object pose at each frame, and the renderer (RGB frames before
 * encoding, plus the foreground's alpha for motion checks). */
#ifndef VIDI_PIPELINE_SYNTH_INTERNAL_H
#define VIDI_PIPELINE_SYNTH_INTERNAL_H

#include <stdint.h>
#include "vidi/synth.h"

/* xoshiro256** seeded through splitmix64: our own, so clips do not depend
 * on the C library's rand(). */
typedef struct vidi_synth_rng {
    uint64_t s[4];
} vidi_synth_rng;

/* Independent stream per (seed, a, b): clip specs, noise, class blocks. */
void vidi_synth_rng_seed(vidi_synth_rng *rng, uint64_t seed, uint64_t a, uint64_t b);
uint64_t vidi_synth_rng_next(vidi_synth_rng *rng);
double vidi_synth_rng_uniform(vidi_synth_rng *rng, double lo, double hi); /* [lo, hi) */
int vidi_synth_rng_below(vidi_synth_rng *rng, int n);                     /* [0, n) */

enum {
    VIDI_SYNTH_SHAPES = 6,
    VIDI_SYNTH_COLORS = 10,
};

/* RGB of each named colour (vidi_synth_color_name). */
extern const uint8_t vidi_synth_palette[VIDI_SYNTH_COLORS][3];

typedef enum vidi_synth_background {
    VIDI_SYNTH_BG_SOLID = 0,
    VIDI_SYNTH_BG_GRADIENT,
    VIDI_SYNTH_BG_NOISE,
} vidi_synth_background;

/* Where an object is and how it looks at one frame: centre in pixels,
 * half-size in pixels (the shape spans [-1, 1] in its own units), angle in
 * radians clockwise on screen (image y points down), opacity in [0, 1]. */
typedef struct vidi_synth_pose {
    double x, y, scale, angle, opacity;
} vidi_synth_pose;

typedef struct vidi_synth_object {
    int shape, color;
    vidi_synth_pose pose;
} vidi_synth_object;

typedef enum vidi_synth_split { VIDI_SYNTH_TRAIN = 0, VIDI_SYNTH_VALIDATION } vidi_synth_split;

/* Everything about one clip, drawn from (seed, index) alone so any clip can
 * be rendered without the others. */
typedef struct vidi_synth_clip {
    int index, cls;
    vidi_synth_split split;
    char id[16];               /* ssv2: decimal id; kinetics: 11-char youtube id */
    int time_start, time_end;  /* kinetics seconds */
    int width, height, frames;
    uint64_t noise_seed;

    vidi_synth_background background;
    uint8_t bg0[3], bg1[3];
    double bg_angle, bg_cell;

    int n_distractors;
    vidi_synth_object distractors[2];

    vidi_synth_object fg;      /* shape, colour; pose unused */
    /* Motion: pose `from` at progress 0 to `to` at progress 1, progress
     * going linearly from 0 at time t0 to 1 at time t1 (times in [0, 1]
     * over the clip). Oscillation and jitter are added on top. */
    vidi_synth_pose from, to;
    double t0, t1;
    int osc_axis;              /* 0 none, 1 x, 2 y */
    double osc_amp, osc_periods, osc_phase;
    double jitter_px, jitter_angle;
} vidi_synth_clip;

void vidi_synth_clip_make(const vidi_synth_params *params, int index, vidi_synth_clip *clip);
vidi_synth_pose vidi_synth_clip_pose(const vidi_synth_clip *clip, int frame);

const char *vidi_synth_shape_name(int shape);
const char *vidi_synth_color_name(int color);
/* "red triangle": the SSv2 placeholder for the clip's object. */
void vidi_synth_placeholder(const vidi_synth_clip *clip, char *out, int size);
/* The filled-in SSv2 label: "moving red triangle from left to right". */
void vidi_synth_label_text(const vidi_synth_clip *clip, char *out, int size);

/* Static background with the distractors, width * height * 3 bytes. */
void vidi_synth_render_background(const vidi_synth_clip *clip, uint8_t *bg);
/* Frame `frame`: the background, the foreground object blended on top, then
 * mild per-pixel noise. mask (may be NULL) gets the foreground's alpha
 * (0..255) before noise. */
void vidi_synth_render_frame(const vidi_synth_clip *clip, const uint8_t *bg, int frame, uint8_t *rgb,
                             uint8_t *mask);

/* Clip file path relative to the dataset root (no extension dot issues:
 * ext without the dot). */
void vidi_synth_clip_path(const vidi_synth_params *params, const vidi_synth_clip *clip, const char *ext,
                          char *out, int size);
/* Writes the layout's annotation files into out_dir (atomically, each via
 * a .tmp file). */
vidi_status vidi_synth_write_annotations(const char *out_dir, const vidi_synth_params *params);
/* Names of every annotation file the layouts write, NULL-terminated. */
extern const char *const vidi_synth_annotation_files[];

#endif
