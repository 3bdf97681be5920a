/* Synthetic dataset: the PRNG and the description of each clip (class,
 * split, ids, object, background, motion), all drawn from (seed, clip index).
 *
 * The paired direction classes (left/right, up/down, clockwise/counter-
 * clockwise, bigger/smaller, appearing/disappearing) are drawn so that one
 * class's trajectories have exactly the law of the other's played backwards:
 * the same shapes, colours, sizes and positions, the motion window [t0, t1]
 * with t0 and 1 - t1 identically distributed, and the path's midpoint
 * symmetric about the frame centre. So frames pooled over a clip look
 * alike for both classes; only the order of frames tells them apart. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/synth_internal.h"

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vidi_synth_rng_seed(vidi_synth_rng *rng, uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    x = h ^ (a * 0xd1342543de82ef95ull);
    h = splitmix64(&x);
    x = h ^ (b * 0xaf251af3b0f025b5ull);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

uint64_t vidi_synth_rng_next(vidi_synth_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double vidi_synth_rng_uniform(vidi_synth_rng *rng, double lo, double hi) {
    double u = (double)(vidi_synth_rng_next(rng) >> 11) * 0x1.0p-53;
    return lo + (hi - lo) * u;
}

int vidi_synth_rng_below(vidi_synth_rng *rng, int n) {
    /* n is small; the modulo bias is below 2^-40. */
    return (int)(vidi_synth_rng_next(rng) % (uint64_t)n);
}

/* Streams: what each (a, b) pair of vidi_synth_rng_seed draws. */
enum { STREAM_BLOCK = 1, STREAM_CLIP, STREAM_NOISE, STREAM_ID };

/* ---- class, split, ids ---------------------------------------------------- */

/* Clips come in blocks of 12, each block a seeded permutation of the
 * classes: balanced (counts differ by at most one) yet in random order. */
static int clip_class(uint64_t seed, int index) {
    vidi_synth_rng rng;
    vidi_synth_rng_seed(&rng, seed, STREAM_BLOCK, (uint64_t)(index / VIDI_SYNTH_CLASSES));
    int perm[VIDI_SYNTH_CLASSES];
    for (int i = 0; i < VIDI_SYNTH_CLASSES; i++) perm[i] = i;
    for (int i = VIDI_SYNTH_CLASSES - 1; i > 0; i--) {
        int j = vidi_synth_rng_below(&rng, i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return perm[index % VIDI_SYNTH_CLASSES];
}

/* Every class has one clip per block; the one in every fifth block goes to
 * validation (offset by class and seed), so each class is split 80/20. */
static vidi_synth_split clip_split(uint64_t seed, int index, int cls) {
    uint64_t block = (uint64_t)(index / VIDI_SYNTH_CLASSES);
    return (block + (uint64_t)cls + seed % 5) % 5 == 0 ? VIDI_SYNTH_VALIDATION : VIDI_SYNTH_TRAIN;
}

/* Kinetics names clips by YouTube id (11 chars of [A-Za-z0-9_-]) and the
 * whole seconds the clip was cut from; here the cut spans the clip's real
 * duration. Drawn from their own stream so the pixels do not depend on the
 * layout. */
static void kinetics_id(const vidi_synth_params *p, int index, vidi_synth_clip *c) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    vidi_synth_rng rng;
    vidi_synth_rng_seed(&rng, p->seed, STREAM_ID, (uint64_t)index);
    uint64_t bits = vidi_synth_rng_next(&rng), more = vidi_synth_rng_next(&rng);
    for (int i = 0; i < 11; i++) {
        /* 10 chars from 60 bits, the 11th from a second draw. */
        uint64_t v = i < 10 ? bits >> (6 * i) : more;
        c->id[i] = alphabet[v & 63];
    }
    c->id[11] = '\0';
    c->time_start = vidi_synth_rng_below(&rng, 290);
    int seconds = (p->frames + p->fps - 1) / p->fps;
    c->time_end = c->time_start + (seconds > 0 ? seconds : 1);
}

/* ---- appearance -------------------------------------------------------- */

static double color_dist(const uint8_t *a, const uint8_t *b) {
    double dr = a[0] - b[0], dg = a[1] - b[1], db = a[2] - b[2];
    return sqrt(dr * dr + dg * dg + db * db);
}

/* A random background colour far enough from the foreground to see it. */
static void background_color(vidi_synth_rng *rng, const uint8_t *fg, uint8_t *out) {
    for (int attempt = 0; attempt < 64; attempt++) {
        for (int c = 0; c < 3; c++) out[c] = (uint8_t)vidi_synth_rng_below(rng, 256);
        if (color_dist(out, fg) >= 140) return;
    }
    for (int c = 0; c < 3; c++) out[c] = (uint8_t)(fg[c] < 128 ? 235 : 20);
}

static int distractor_color(vidi_synth_rng *rng, const vidi_synth_clip *c) {
    int best = (c->fg.color + 1) % VIDI_SYNTH_COLORS;
    for (int attempt = 0; attempt < 32; attempt++) {
        int k = vidi_synth_rng_below(rng, VIDI_SYNTH_COLORS);
        const uint8_t *col = vidi_synth_palette[k];
        if (k == c->fg.color) continue;
        best = k;
        if (color_dist(col, c->bg0) >= 80 && color_dist(col, c->bg1) >= 80) break;
    }
    return best;
}

static void draw_appearance(vidi_synth_rng *rng, vidi_synth_clip *c) {
    c->fg.shape = vidi_synth_rng_below(rng, VIDI_SYNTH_SHAPES);
    c->fg.color = vidi_synth_rng_below(rng, VIDI_SYNTH_COLORS);
    const uint8_t *fg = vidi_synth_palette[c->fg.color];
    c->background = (vidi_synth_background)vidi_synth_rng_below(rng, 3);
    background_color(rng, fg, c->bg0);
    if (c->background == VIDI_SYNTH_BG_SOLID)
        memcpy(c->bg1, c->bg0, 3);
    else
        background_color(rng, fg, c->bg1);
    c->bg_angle = vidi_synth_rng_uniform(rng, 0, 2 * M_PI);
    double m = c->width < c->height ? c->width : c->height;
    c->bg_cell = m * vidi_synth_rng_uniform(rng, 0.12, 0.3);
    c->n_distractors = vidi_synth_rng_below(rng, 3);
    for (int i = 0; i < c->n_distractors; i++) {
        vidi_synth_object *d = &c->distractors[i];
        d->shape = vidi_synth_rng_below(rng, VIDI_SYNTH_SHAPES);
        d->color = distractor_color(rng, c);
        d->pose.scale = m * vidi_synth_rng_uniform(rng, 0.07, 0.12);
        d->pose.x = vidi_synth_rng_uniform(rng, d->pose.scale, c->width - d->pose.scale);
        d->pose.y = vidi_synth_rng_uniform(rng, d->pose.scale, c->height - d->pose.scale);
        d->pose.angle = vidi_synth_rng_uniform(rng, 0, 2 * M_PI);
        d->pose.opacity = 1.0;
    }
}

/* ---- motion -------------------------------------------------------------- */

/* A path of length d along an axis of `extent` pixels, keeping `margin`
 * clear at both ends: midpoint uniform where it fits, so symmetric about
 * the centre. Returns the two ends, low first. */
static void path_on_axis(vidi_synth_rng *rng, double extent, double margin, double *lo, double *hi) {
    double span = extent - 2 * margin;
    double d = span * vidi_synth_rng_uniform(rng, 0.45, 0.85);
    double mid = vidi_synth_rng_uniform(rng, margin + d / 2, extent - margin - d / 2);
    *lo = mid - d / 2;
    *hi = mid + d / 2;
}

static void draw_motion(vidi_synth_rng *rng, vidi_synth_clip *c) {
    double w = c->width, h = c->height, m = w < h ? w : h;
    double r = m * vidi_synth_rng_uniform(rng, 0.13, 0.2);
    vidi_synth_pose p = {vidi_synth_rng_uniform(rng, r, w - r), vidi_synth_rng_uniform(rng, r, h - r), r,
                         vidi_synth_rng_uniform(rng, 0, 2 * M_PI), 1.0};
    c->t0 = vidi_synth_rng_uniform(rng, 0, 0.2);
    c->t1 = 1 - vidi_synth_rng_uniform(rng, 0, 0.2);
    c->from = c->to = p;
    double lo, hi;
    switch (c->cls) {
    case 0: case 1: /* left to right, right to left */
        path_on_axis(rng, w, r, &lo, &hi);
        c->from.x = c->cls == 0 ? lo : hi;
        c->to.x = c->cls == 0 ? hi : lo;
        break;
    case 2: case 3: /* up (y decreasing on screen), down */
        path_on_axis(rng, h, r, &lo, &hi);
        c->from.y = c->cls == 2 ? hi : lo;
        c->to.y = c->cls == 2 ? lo : hi;
        break;
    case 4: case 5: { /* clockwise: the angle grows (image y points down) */
        /* Large enough to see, small enough per frame (< 40 degrees) that
         * the direction cannot alias backwards. */
        double turn = vidi_synth_rng_uniform(rng, 120, 270) * M_PI / 180;
        double max_turn = 40 * M_PI / 180 * (c->frames - 1) * (c->t1 - c->t0);
        if (turn > max_turn) turn = max_turn;
        c->to.angle = c->from.angle + (c->cls == 4 ? turn : -turn);
        break;
    }
    case 6: case 7: { /* bigger, smaller */
        double small = r * vidi_synth_rng_uniform(rng, 0.45, 0.6);
        double big = small * vidi_synth_rng_uniform(rng, 1.8, 2.4);
        if (big > 0.3 * m) big = 0.3 * m;
        c->from.x = c->to.x = vidi_synth_rng_uniform(rng, big, w - big);
        c->from.y = c->to.y = vidi_synth_rng_uniform(rng, big, h - big);
        c->from.scale = c->cls == 6 ? small : big;
        c->to.scale = c->cls == 6 ? big : small;
        break;
    }
    case 8: case 9: { /* appearing, disappearing: fade or grow from nothing */
        vidi_synth_pose *none = c->cls == 8 ? &c->from : &c->to;
        if (vidi_synth_rng_below(rng, 2))
            none->opacity = 0;
        else
            none->scale = 0;
        break;
    }
    case 10: /* holding still: a hand is never perfectly still */
        c->jitter_px = vidi_synth_rng_uniform(rng, 0.4, 0.9);
        c->jitter_angle = vidi_synth_rng_uniform(rng, 0.5, 1.5) * M_PI / 180;
        break;
    case 11: { /* back and forth: at least one full period, >= 6 frames each */
        c->osc_axis = 1 + vidi_synth_rng_below(rng, 2);
        double extent = c->osc_axis == 1 ? w : h;
        c->osc_amp = (extent - 2 * r) / 2 * vidi_synth_rng_uniform(rng, 0.45, 0.8);
        double max_periods = (c->frames - 1) / 6.0;
        if (max_periods > 2) max_periods = 2;
        c->osc_periods = max_periods > 1 ? vidi_synth_rng_uniform(rng, 1, max_periods) : 1;
        c->osc_phase = vidi_synth_rng_uniform(rng, 0, 2 * M_PI);
        double centre = vidi_synth_rng_uniform(rng, r + c->osc_amp, extent - r - c->osc_amp);
        if (c->osc_axis == 1)
            c->from.x = c->to.x = centre;
        else
            c->from.y = c->to.y = centre;
        break;
    }
    }
}

void vidi_synth_clip_make(const vidi_synth_params *p, int index, vidi_synth_clip *c) {
    memset(c, 0, sizeof *c);
    c->index = index;
    c->width = p->width;
    c->height = p->height;
    c->frames = p->frames;
    c->cls = clip_class(p->seed, index);
    c->split = clip_split(p->seed, index, c->cls);
    if (p->layout == VIDI_SYNTH_KINETICS)
        kinetics_id(p, index, c);
    else
        snprintf(c->id, sizeof c->id, "%d", index + 1);
    vidi_synth_rng rng;
    vidi_synth_rng_seed(&rng, p->seed, STREAM_CLIP, (uint64_t)index);
    draw_appearance(&rng, c);
    draw_motion(&rng, c);
    vidi_synth_rng next;
    vidi_synth_rng_seed(&next, p->seed, STREAM_NOISE, (uint64_t)index);
    c->noise_seed = vidi_synth_rng_next(&next);
}

vidi_synth_pose vidi_synth_clip_pose(const vidi_synth_clip *c, int frame) {
    double u = c->frames > 1 ? (double)frame / (c->frames - 1) : 0;
    double t = c->t1 > c->t0 ? (u - c->t0) / (c->t1 - c->t0) : 1;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    vidi_synth_pose p;
    p.x = c->from.x + (c->to.x - c->from.x) * t;
    p.y = c->from.y + (c->to.y - c->from.y) * t;
    p.scale = c->from.scale + (c->to.scale - c->from.scale) * t;
    p.angle = c->from.angle + (c->to.angle - c->from.angle) * t;
    p.opacity = c->from.opacity + (c->to.opacity - c->from.opacity) * t;
    if (c->osc_axis) {
        double off = c->osc_amp * sin(2 * M_PI * c->osc_periods * u + c->osc_phase);
        if (c->osc_axis == 1) p.x += off;
        else p.y += off;
    }
    if (c->jitter_px > 0) {
        vidi_synth_rng rng;
        vidi_synth_rng_seed(&rng, c->noise_seed, 0x6a177e7, (uint64_t)frame);
        p.x += vidi_synth_rng_uniform(&rng, -c->jitter_px, c->jitter_px);
        p.y += vidi_synth_rng_uniform(&rng, -c->jitter_px, c->jitter_px);
        p.angle += vidi_synth_rng_uniform(&rng, -c->jitter_angle, c->jitter_angle);
    }
    return p;
}
