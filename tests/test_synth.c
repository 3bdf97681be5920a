/* Synthetic dataset: class texts, balance and split, ids, and — on the
 * rendered RGB frames before encoding — that every class shows the motion
 * its name promises, measured from the foreground's pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pipeline/synth_internal.h"

/* Per-frame foreground measurements from the alpha mask. */
typedef struct track {
    double area[VIDI_SYNTH_MAX_FRAMES], cx[VIDI_SYNTH_MAX_FRAMES], cy[VIDI_SYNTH_MAX_FRAMES];
} track;

static void measure(const vidi_synth_clip *c, track *t) {
    size_t n = (size_t)c->width * c->height;
    uint8_t *bg = malloc(n * 3), *rgb = malloc(n * 3), *mask = malloc(n);
    vidi_synth_render_background(c, bg);
    for (int f = 0; f < c->frames; f++) {
        vidi_synth_render_frame(c, bg, f, rgb, mask);
        double a = 0, sx = 0, sy = 0;
        for (int y = 0; y < c->height; y++)
            for (int x = 0; x < c->width; x++) {
                double m = mask[(size_t)y * c->width + x] / 255.0;
                a += m, sx += m * (x + 0.5), sy += m * (y + 0.5);
            }
        t->area[f] = a;
        t->cx[f] = a > 0 ? sx / a : NAN;
        t->cy[f] = a > 0 ? sy / a : NAN;
    }
    free(bg), free(rgb), free(mask);
}

static void test_texts(void) {
    for (int k = 0; k < VIDI_SYNTH_CLASSES; k++) {
        char stripped[128] = {0}, lower[128];
        const char *t = vidi_synth_template(k);
        for (int i = 0, j = 0; t[i]; i++)
            if (t[i] != '[' && t[i] != ']') stripped[j++] = t[i];
        CHECK_MSG(!strcmp(stripped, vidi_synth_class_name(k)), "class %d: %s vs %s", k, stripped,
                  vidi_synth_class_name(k));
        snprintf(lower, sizeof lower, "%s", vidi_synth_class_name(k));
        lower[0] = (char)(lower[0] - 'A' + 'a');
        CHECK(!strcmp(lower, vidi_synth_kinetics_label(k)));
        CHECK(strstr(t, "[something]") || strstr(t, "[Something]"));
    }
    CHECK(!strcmp(vidi_synth_class_name(0), "Moving something from left to right"));
    CHECK(!strcmp(vidi_synth_class_name(11), "Moving something back and forth"));
    CHECK(vidi_synth_template(12) == NULL && vidi_synth_template(-1) == NULL);
}

static void test_balance_and_ids(void) {
    vidi_synth_params p = vidi_synth_default_params();
    p.clips = 600;
    p.seed = 42;
    p.layout = VIDI_SYNTH_KINETICS;
    int count[VIDI_SYNTH_CLASSES] = {0}, val[VIDI_SYNTH_CLASSES] = {0};
    static char ids[600][16];
    for (int i = 0; i < p.clips; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(&p, i, &c);
        count[c.cls]++;
        val[c.cls] += c.split == VIDI_SYNTH_VALIDATION;
        CHECK(strlen(c.id) == 11 && strspn(c.id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 11);
        CHECK(c.time_end > c.time_start && c.time_start >= 0);
        memcpy(ids[i], c.id, 16);
        for (int j = 0; j < i; j++)
            if (!strcmp(ids[j], c.id)) CHECK_MSG(0, "duplicate youtube id %s", c.id);
    }
    for (int k = 0; k < VIDI_SYNTH_CLASSES; k++) {
        CHECK_MSG(count[k] == 50, "class %d has %d clips", k, count[k]);
        CHECK_MSG(val[k] == 10, "class %d has %d validation clips", k, val[k]);
    }
    /* The first 12 clips are a permutation of the classes. */
    int seen = 0;
    for (int i = 0; i < 12; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(&p, i, &c);
        seen |= 1 << c.cls;
    }
    CHECK(seen == 0xfff);
    /* The layout changes names, not pixels. */
    vidi_synth_clip a, b;
    vidi_synth_clip_make(&p, 7, &a);
    p.layout = VIDI_SYNTH_SSV2;
    vidi_synth_clip_make(&p, 7, &b);
    CHECK(!strcmp(b.id, "8") && a.cls == b.cls && a.fg.shape == b.fg.shape && a.from.x == b.from.x);
    char text[256];
    vidi_synth_label_text(&b, text, sizeof text);
    CHECK(text[0] >= 'a' && text[0] <= 'z' && !strchr(text, '['));
}

static int monotone(const double *v, int n, int sign, double slack) {
    for (int i = 1; i < n; i++)
        if (sign * (v[i] - v[i - 1]) < -slack) return 0;
    return 1;
}

/* Turn of the foreground about its pivot, from the pixel centroid's angle:
 * every shape's centroid sits off its pivot. Positive = clockwise on screen. */
static double measured_turn(const vidi_synth_clip *c, const track *t) {
    double total = 0, prev = 0;
    for (int f = 0; f < c->frames; f++) {
        vidi_synth_pose pose = vidi_synth_clip_pose(c, f);
        double a = atan2(t->cy[f] - pose.y, t->cx[f] - pose.x);
        if (f) {
            double d = a - prev;
            while (d > M_PI) d -= 2 * M_PI;
            while (d < -M_PI) d += 2 * M_PI;
            total += d;
        }
        prev = a;
    }
    return total * 180 / M_PI;
}

static void check_motion(const vidi_synth_clip *c, const track *t) {
    int n = c->frames, last = n - 1, cls = c->cls;
    double w = c->width, h = c->height;
    switch (cls) {
    case 0: case 1: {
        int s = cls == 0 ? 1 : -1;
        CHECK_MSG(s * (t->cx[last] - t->cx[0]) > 0.2 * w, "clip %d class %d: x %.1f -> %.1f", c->index, cls, t->cx[0],
                  t->cx[last]);
        CHECK_MSG(monotone(t->cx, n, s, 0.5), "clip %d class %d: x not monotone", c->index, cls);
        CHECK(fabs(t->cy[last] - t->cy[0]) < 2);
        break;
    }
    case 2: case 3: {
        int s = cls == 3 ? 1 : -1; /* up = y decreasing */
        CHECK_MSG(s * (t->cy[last] - t->cy[0]) > 0.2 * h, "clip %d class %d: y %.1f -> %.1f", c->index, cls, t->cy[0],
                  t->cy[last]);
        CHECK_MSG(monotone(t->cy, n, s, 0.5), "clip %d class %d: y not monotone", c->index, cls);
        CHECK(fabs(t->cx[last] - t->cx[0]) < 2);
        break;
    }
    case 4: case 5: {
        double turn = measured_turn(c, t);
        CHECK_MSG(cls == 4 ? turn > 60 : turn < -60, "clip %d class %d: turned %.0f degrees", c->index, cls, turn);
        break;
    }
    case 6: case 7: {
        double grow = cls == 6 ? t->area[last] / t->area[0] : t->area[0] / t->area[last];
        CHECK_MSG(grow > 2.5, "clip %d class %d: area %.0f -> %.0f", c->index, cls, t->area[0], t->area[last]);
        CHECK(monotone(t->area, n, cls == 6 ? 1 : -1, 1.0));
        break;
    }
    case 8: case 9: {
        double first = cls == 8 ? t->area[0] : t->area[last], full = cls == 8 ? t->area[last] : t->area[0];
        CHECK_MSG(first < 0.02 * full && full > 50, "clip %d class %d: alpha %.0f vs %.0f", c->index, cls, first, full);
        break;
    }
    case 10: {
        double dmax = 0;
        for (int f = 1; f < n; f++) {
            double d = hypot(t->cx[f] - t->cx[0], t->cy[f] - t->cy[0]);
            dmax = d > dmax ? d : dmax;
        }
        CHECK_MSG(dmax > 0.05 && dmax < 2.5, "clip %d holding still: moved %.2f px", c->index, dmax);
        break;
    }
    case 11: {
        const double *v = c->osc_axis == 1 ? t->cx : t->cy;
        double lo = v[0], hi = v[0];
        int turns = 0;
        for (int f = 1; f < n; f++) {
            lo = v[f] < lo ? v[f] : lo, hi = v[f] > hi ? v[f] : hi;
            if (f + 1 < n && (v[f] - v[f - 1]) * (v[f + 1] - v[f]) < 0) turns++;
        }
        double extent = c->osc_axis == 1 ? w : h;
        CHECK_MSG(hi - lo > 0.15 * extent && turns >= 1, "clip %d back and forth: range %.1f, %d turns", c->index,
                  hi - lo, turns);
        break;
    }
    }
}

static void test_motion(int width, int height, int frames, uint64_t seed, int clips) {
    vidi_synth_params p = vidi_synth_default_params();
    p.width = width, p.height = height, p.frames = frames, p.seed = seed, p.clips = clips;
    track *t = malloc(sizeof *t);
    for (int i = 0; i < clips; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(&p, i, &c);
        measure(&c, t);
        check_motion(&c, t);
    }
    free(t);
}

/* The direction classes of a pair look alike frame by frame: pooled over
 * all frames, the object's position (or angle, or size) has the same mean
 * and spread for both, and one class's start has the other's end's law. */
static void test_pairs_alike(void) {
    vidi_synth_params p = vidi_synth_default_params();
    p.clips = 2400;
    p.seed = 9;
    double sum[VIDI_SYNTH_CLASSES] = {0}, sq[VIDI_SYNTH_CLASSES] = {0}, start[VIDI_SYNTH_CLASSES] = {0},
           end[VIDI_SYNTH_CLASSES] = {0};
    int count[VIDI_SYNTH_CLASSES] = {0};
    for (int i = 0; i < p.clips; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(&p, i, &c);
        for (int f = 0; f < p.frames; f++) {
            vidi_synth_pose s = vidi_synth_clip_pose(&c, f);
            double v = c.cls < 2 ? s.x : c.cls < 4 ? s.y : c.cls < 6 ? fmod(s.angle + 40 * M_PI, 2 * M_PI) : s.scale;
            sum[c.cls] += v, sq[c.cls] += v * v;
            if (f == 0) start[c.cls] += v;
            if (f == p.frames - 1) end[c.cls] += v;
        }
        count[c.cls]++;
    }
    for (int k = 0; k < 8; k += 2) {
        double n0 = count[k] * p.frames, n1 = count[k + 1] * p.frames;
        double m0 = sum[k] / n0, m1 = sum[k + 1] / n1;
        double s0 = sqrt(sq[k] / n0 - m0 * m0), s1 = sqrt(sq[k + 1] / n1 - m1 * m1);
        double tol = 0.1 * (s0 + s1) / 2;
        CHECK_MSG(fabs(m0 - m1) < tol, "classes %d/%d: pooled means %.2f vs %.2f", k, k + 1, m0, m1);
        CHECK_MSG(fabs(s0 - s1) < tol, "classes %d/%d: pooled spreads %.2f vs %.2f", k, k + 1, s0, s1);
        double a = start[k] / count[k], b = end[k + 1] / count[k + 1];
        CHECK_MSG(fabs(a - b) < 2 * tol, "classes %d/%d: start %.2f vs reversed end %.2f", k, k + 1, a, b);
    }
}

static void test_render_deterministic(void) {
    vidi_synth_params p = vidi_synth_default_params();
    p.width = 64, p.height = 48, p.seed = 5;
    vidi_synth_clip c;
    vidi_synth_clip_make(&p, 3, &c);
    size_t n = 64 * 48 * 3;
    uint8_t *bg = malloc(n), *a = malloc(n), *b = malloc(n);
    vidi_synth_render_background(&c, bg);
    vidi_synth_render_frame(&c, bg, 5, a, NULL);
    vidi_synth_render_frame(&c, bg, 5, b, NULL);
    CHECK(memcmp(a, b, n) == 0);
    vidi_synth_render_frame(&c, bg, 6, b, NULL);
    CHECK(memcmp(a, b, n) != 0); /* fresh noise every frame */
    free(bg), free(a), free(b);
}

static void test_params(void) {
    vidi_synth_params p = vidi_synth_default_params();
    CHECK(vidi_synth_check_params(&p) == VIDI_OK);
    p.width = 0, p.height = 0;
    CHECK(vidi_synth_check_params(&p) == VIDI_ERR_ARG && strstr(vidi_last_error(), "0x0"));
    p = vidi_synth_default_params();
    p.width = 161;
    CHECK(vidi_synth_check_params(&p) == VIDI_ERR_ARG && strstr(vidi_last_error(), "even"));
    p = vidi_synth_default_params();
    p.clips = 0;
    CHECK(vidi_synth_check_params(&p) == VIDI_ERR_ARG && strstr(vidi_last_error(), "clips"));
    p = vidi_synth_default_params();
    p.codec = "theora";
    CHECK(vidi_synth_check_params(&p) == VIDI_ERR_ARG && strstr(vidi_last_error(), "theora"));
    p = vidi_synth_default_params();
    p.frames = 4;
    CHECK(vidi_synth_check_params(&p) == VIDI_ERR_ARG);
    CHECK(vidi_synth_generate("/tmp/vidi-never-created", &p, NULL) == VIDI_ERR_ARG);
    p = vidi_synth_default_params();
    CHECK(vidi_synth_generate("/proc/vidi-synth-test", &p, NULL) == VIDI_ERR_IO);
    CHECK(strstr(vidi_last_error(), "/proc/vidi-synth-test") != NULL);
}

int main(void) {
    test_texts();
    test_balance_and_ids();
    test_render_deterministic();
    test_params();
    test_pairs_alike();
    test_motion(96, 72, 16, 1, 48); /* four clips of every class */
    test_motion(64, 48, 8, 2, 24);  /* the smallest clips allowed */
    test_motion(160, 120, 16, 3, 12);
    return vidi_test_summary("test_synth");
}
