/* Synthetic dataset renderer: background (solid, gradient or value-noise
 * texture) with static distractors, the foreground object anti-aliased on
 * top (4x4 supersampling), then mild per-pixel noise, as a camera would add.
 *
 * Every shape lacks rotational symmetry and has its centroid away from its
 * pivot, so a turn's direction shows in the pixels. Pure integer and double
 * arithmetic on the clip description: the same clip renders the same bytes. */
#include <math.h>
#include <string.h>

#include "pipeline/synth_internal.h"

#define NOISE_AMPLITUDE 3 /* +-levels per channel per frame */
#define SUPERSAMPLE 4

typedef struct point {
    double x, y;
} point;

/* Polygons in the shape's own units ([-1, 1], y down), pivot at the origin. */
static const point triangle[] = {{-0.9, -0.8}, {1.0, 0.0}, {-0.9, 0.8}};
static const point arrow[] = {{-0.6, -0.15}, {0.0, -0.15}, {0.0, -0.8}, {1.0, 0.0},
                              {0.0, 0.8},    {0.0, 0.15},  {-0.6, 0.15}};
static const point l_shape[] = {{-0.8, -1.0}, {-0.2, -1.0}, {-0.2, 0.4}, {0.8, 0.4}, {0.8, 1.0}, {-0.8, 1.0}};
static const point flag[] = {{-0.9, -1.0}, {0.8, -1.0}, {0.8, -0.1}, {-0.7, -0.1}, {-0.7, 1.0}, {-0.9, 1.0}};

#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

static int in_polygon(const point *poly, int n, double x, double y) {
    int inside = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        if ((poly[i].y > y) != (poly[j].y > y) &&
            x < (poly[j].x - poly[i].x) * (y - poly[i].y) / (poly[j].y - poly[i].y) + poly[i].x)
            inside = !inside;
    }
    return inside;
}

static int in_shape(int shape, double x, double y) {
    switch (shape) {
    case 0: return in_polygon(triangle, COUNT(triangle), x, y);
    case 1: return in_polygon(arrow, COUNT(arrow), x, y);
    case 2: return in_polygon(l_shape, COUNT(l_shape), x, y);
    case 3: return in_polygon(flag, COUNT(flag), x, y);
    case 4: /* pac-man: a disc with a 90-degree mouth facing +x */
        return x * x + y * y <= 1.0 && !(x > 0 && fabs(y) < x);
    case 5: /* semicircle: the half disc at x >= 0 */
        return x * x + y * y <= 1.0 && x >= 0;
    }
    return 0;
}

/* Blends one object into rgb; mask (may be NULL) receives its alpha. */
static void draw_object(int shape, const uint8_t *color, const vidi_synth_pose *pose, int width, int height,
                        uint8_t *rgb, uint8_t *mask) {
    if (pose->scale < 0.05 || pose->opacity <= 0) return;
    /* Every shape fits in a circle of radius sqrt(2) around its pivot. */
    double reach = pose->scale * 1.4143 + 1;
    int x0 = (int)floor(pose->x - reach), x1 = (int)ceil(pose->x + reach);
    int y0 = (int)floor(pose->y - reach), y1 = (int)ceil(pose->y + reach);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > width) x1 = width;
    if (y1 > height) y1 = height;
    double c = cos(pose->angle), s = sin(pose->angle), inv = 1.0 / pose->scale;
    for (int py = y0; py < y1; py++) {
        for (int px = x0; px < x1; px++) {
            int hits = 0;
            for (int sy = 0; sy < SUPERSAMPLE; sy++) {
                double dy = py + (sy + 0.5) / SUPERSAMPLE - pose->y;
                for (int sx = 0; sx < SUPERSAMPLE; sx++) {
                    double dx = px + (sx + 0.5) / SUPERSAMPLE - pose->x;
                    /* Inverse of the on-screen rotation (x' = c x - s y, y' = s x + c y). */
                    double lx = (c * dx + s * dy) * inv, ly = (-s * dx + c * dy) * inv;
                    hits += in_shape(shape, lx, ly);
                }
            }
            if (!hits) continue;
            double a = pose->opacity * hits / (SUPERSAMPLE * SUPERSAMPLE);
            uint8_t *p = rgb + ((size_t)py * width + px) * 3;
            for (int k = 0; k < 3; k++) p[k] = (uint8_t)lround(p[k] * (1 - a) + color[k] * a);
            if (mask) mask[(size_t)py * width + px] = (uint8_t)lround(a * 255);
        }
    }
}

/* Lattice value in [0, 1) for value noise: a hash, so no table to allocate. */
static double lattice(uint64_t seed, int64_t ix, int64_t iy) {
    vidi_synth_rng rng;
    vidi_synth_rng_seed(&rng, seed, (uint64_t)ix, (uint64_t)iy);
    return (double)(vidi_synth_rng_next(&rng) >> 11) * 0x1.0p-53;
}

static double smooth(double t) { return t * t * (3 - 2 * t); }

static double value_noise(uint64_t seed, double x, double y, double cell) {
    double gx = x / cell, gy = y / cell;
    int64_t ix = (int64_t)floor(gx), iy = (int64_t)floor(gy);
    double fx = smooth(gx - ix), fy = smooth(gy - iy);
    double a = lattice(seed, ix, iy), b = lattice(seed, ix + 1, iy);
    double c = lattice(seed, ix, iy + 1), d = lattice(seed, ix + 1, iy + 1);
    return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
}

void vidi_synth_render_background(const vidi_synth_clip *clip, uint8_t *bg) {
    int w = clip->width, h = clip->height;
    double ca = cos(clip->bg_angle), sa = sin(clip->bg_angle);
    double half = 0.5 * (w * fabs(ca) + h * fabs(sa));
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double t = 0;
            if (clip->background == VIDI_SYNTH_BG_GRADIENT) {
                t = 0.5 + ((x + 0.5 - w / 2.0) * ca + (y + 0.5 - h / 2.0) * sa) / (2 * half);
            } else if (clip->background == VIDI_SYNTH_BG_NOISE) {
                t = 0.67 * value_noise(clip->noise_seed, x, y, clip->bg_cell) +
                    0.33 * value_noise(clip->noise_seed ^ 0x5bd1e995u, x, y, clip->bg_cell / 2);
            }
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            uint8_t *p = bg + ((size_t)y * w + x) * 3;
            for (int k = 0; k < 3; k++) p[k] = (uint8_t)lround(clip->bg0[k] + (clip->bg1[k] - clip->bg0[k]) * t);
        }
    }
    for (int i = 0; i < clip->n_distractors; i++) {
        const vidi_synth_object *d = &clip->distractors[i];
        draw_object(d->shape, vidi_synth_palette[d->color], &d->pose, w, h, bg, NULL);
    }
}

void vidi_synth_render_frame(const vidi_synth_clip *clip, const uint8_t *bg, int frame, uint8_t *rgb,
                             uint8_t *mask) {
    size_t pixels = (size_t)clip->width * clip->height;
    memcpy(rgb, bg, pixels * 3);
    if (mask) memset(mask, 0, pixels);
    vidi_synth_pose pose = vidi_synth_clip_pose(clip, frame);
    draw_object(clip->fg.shape, vidi_synth_palette[clip->fg.color], &pose, clip->width, clip->height, rgb, mask);
    /* Sensor-like noise, fresh every frame; 8 channels per 64-bit draw. */
    vidi_synth_rng rng;
    vidi_synth_rng_seed(&rng, clip->noise_seed, 0x9015e, (uint64_t)frame);
    uint64_t bits = 0;
    for (size_t i = 0; i < pixels * 3; i++) {
        if (i % 8 == 0) bits = vidi_synth_rng_next(&rng);
        int v = rgb[i] + (int)((bits & 0xff) % (2 * NOISE_AMPLITUDE + 1)) - NOISE_AMPLITUDE;
        bits >>= 8;
        rgb[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}
