/* Synthetic dataset: the class texts in each layout's conventions, the shape
 * and colour names, and the SSv2 placeholder and label of a clip. */
#include <stdio.h>
#include <string.h>

#include "pipeline/synth_internal.h"

static const char *const templates[VIDI_SYNTH_CLASSES] = {
    "Moving [something] from left to right",
    "Moving [something] from right to left",
    "Moving [something] up",
    "Moving [something] down",
    "Turning [something] clockwise",
    "Turning [something] counterclockwise",
    "[Something] getting bigger",
    "[Something] getting smaller",
    "[Something] appearing",
    "[Something] disappearing",
    "Holding [something] still",
    "Moving [something] back and forth",
};

/* labels.json keys: the template without brackets, as in the real
 * something-something-v2-labels.json. */
static const char *const class_names[VIDI_SYNTH_CLASSES] = {
    "Moving something from left to right",
    "Moving something from right to left",
    "Moving something up",
    "Moving something down",
    "Turning something clockwise",
    "Turning something counterclockwise",
    "Something getting bigger",
    "Something getting smaller",
    "Something appearing",
    "Something disappearing",
    "Holding something still",
    "Moving something back and forth",
};

/* Kinetics labels are lowercase human text, also the class folder names. */
static const char *const kinetics_labels[VIDI_SYNTH_CLASSES] = {
    "moving something from left to right",
    "moving something from right to left",
    "moving something up",
    "moving something down",
    "turning something clockwise",
    "turning something counterclockwise",
    "something getting bigger",
    "something getting smaller",
    "something appearing",
    "something disappearing",
    "holding something still",
    "moving something back and forth",
};

static const char *const shape_names[VIDI_SYNTH_SHAPES] = {
    "triangle", "arrow", "L-shape", "flag", "pac-man", "semicircle",
};

static const char *const color_names[VIDI_SYNTH_COLORS] = {
    "red", "green", "blue", "yellow", "orange", "purple", "cyan", "magenta", "white", "black",
};

const uint8_t vidi_synth_palette[VIDI_SYNTH_COLORS][3] = {
    {220, 40, 40},  {40, 170, 60},  {40, 80, 220},  {235, 210, 40}, {240, 140, 30},
    {140, 60, 190}, {40, 200, 210}, {220, 60, 200}, {245, 245, 245}, {20, 20, 20},
};

const char *vidi_synth_template(int cls) { return cls >= 0 && cls < VIDI_SYNTH_CLASSES ? templates[cls] : NULL; }
const char *vidi_synth_class_name(int cls) { return cls >= 0 && cls < VIDI_SYNTH_CLASSES ? class_names[cls] : NULL; }
const char *vidi_synth_kinetics_label(int cls) {
    return cls >= 0 && cls < VIDI_SYNTH_CLASSES ? kinetics_labels[cls] : NULL;
}
const char *vidi_synth_shape_name(int shape) {
    return shape >= 0 && shape < VIDI_SYNTH_SHAPES ? shape_names[shape] : "?";
}
const char *vidi_synth_color_name(int color) {
    return color >= 0 && color < VIDI_SYNTH_COLORS ? color_names[color] : "?";
}

void vidi_synth_placeholder(const vidi_synth_clip *c, char *out, int size) {
    snprintf(out, (size_t)size, "%s %s", vidi_synth_color_name(c->fg.color), vidi_synth_shape_name(c->fg.shape));
}

void vidi_synth_label_text(const vidi_synth_clip *c, char *out, int size) {
    char thing[64];
    vidi_synth_placeholder(c, thing, sizeof thing);
    const char *tpl = templates[c->cls], *at = strchr(tpl, '[');
    const char *end = at ? strchr(at, ']') : NULL;
    if (!at || !end) {
        snprintf(out, (size_t)size, "%s", tpl);
    } else {
        snprintf(out, (size_t)size, "%.*s%s%s", (int)(at - tpl), tpl, thing, end + 1);
    }
    /* SSv2 labels are lowercase sentences: "moving red arrow up". */
    if (out[0] >= 'A' && out[0] <= 'Z') out[0] = (char)(out[0] - 'A' + 'a');
}
