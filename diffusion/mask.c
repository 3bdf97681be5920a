/* In-painting mask specs (vidi_inpaint_mask_parse): boxes over frame ranges,
 * whole frames, future-frame prediction, interpolation, mask images and mask
 * videos, in any mix. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidi/decode.h"
#include "vidi/diffusion.h"
#include "vidi/image.h"

typedef struct clip_shape {
    int frames, height, width;
} clip_shape;

static void fill_frame(float *mask, const clip_shape *c, int f) {
    int64_t hw = (int64_t)c->height * c->width;
    for (int64_t i = 0; i < hw; i++) mask[f * hw + i] = 0.0f;
}

/* Integer at *p (advances); -1 when none. */
static long read_int(const char **p) {
    if (!isdigit((unsigned char)**p)) return -1;
    char *end;
    long v = strtol(*p, &end, 10);
    *p = end;
    return v > 1000000 ? 1000001 : v;
}

static vidi_status part_box(const char *part, const char *arg, const clip_shape *c, float *mask) {
    const char *p = arg;
    long v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = read_int(&p);
        if (v[i] < 0 || (i < 3 && *p++ != ','))
            return vidi_set_error(VIDI_ERR_ARG, "mask '%s': expected box:X,Y,W,H[@F0-F1]", part);
    }
    long f0 = 0, f1 = c->frames - 1;
    if (*p == '@') {
        p++;
        f0 = read_int(&p);
        f1 = f0;
        if (*p == '-') p++, f1 = read_int(&p);
        if (f0 < 0 || f1 < f0) return vidi_set_error(VIDI_ERR_ARG, "mask '%s': expected frames @F0-F1 with F0 <= F1", part);
    }
    if (*p) return vidi_set_error(VIDI_ERR_ARG, "mask '%s': unexpected '%s'", part, p);
    if (v[2] < 1 || v[3] < 1) return vidi_set_error(VIDI_ERR_ARG, "mask '%s': empty box (%ldx%ld)", part, v[2], v[3]);
    if (v[0] + v[2] > c->width || v[1] + v[3] > c->height)
        return vidi_set_error(VIDI_ERR_ARG, "mask '%s': box %ld,%ld %ldx%ld is outside the %dx%d frame", part, v[0], v[1],
                              v[2], v[3], c->width, c->height);
    if (f1 >= c->frames)
        return vidi_set_error(VIDI_ERR_ARG, "mask '%s': frame %ld is outside the clip's %d frames (0..%d)", part, f1,
                              c->frames, c->frames - 1);
    int64_t hw = (int64_t)c->height * c->width;
    for (long f = f0; f <= f1; f++)
        for (long y = v[1]; y < v[1] + v[3]; y++)
            for (long x = v[0]; x < v[0] + v[2]; x++) mask[f * hw + y * c->width + x] = 0.0f;
    return VIDI_OK;
}

static vidi_status part_frames(const char *part, const char *arg, const clip_shape *c, float *mask) {
    const char *p = arg;
    do {
        long a = read_int(&p), b = a;
        if (*p == '-') p++, b = read_int(&p);
        if (a < 0 || b < a) return vidi_set_error(VIDI_ERR_ARG, "mask '%s': expected frames:N,N-M,...", part);
        if (b >= c->frames)
            return vidi_set_error(VIDI_ERR_ARG, "mask '%s': frame %ld is outside the clip's %d frames (0..%d)", part, b,
                                  c->frames, c->frames - 1);
        for (long f = a; f <= b; f++) fill_frame(mask, c, (int)f);
    } while (*p == ',' && *++p);
    if (*p) return vidi_set_error(VIDI_ERR_ARG, "mask '%s': unexpected '%s'", part, p);
    return VIDI_OK;
}

static vidi_status part_keep(const char *part, const char *arg, const clip_shape *c, float *mask, int both_ends) {
    const char *p = arg;
    long k = read_int(&p);
    if (k < 1 || *p) return vidi_set_error(VIDI_ERR_ARG, "mask '%s': expected a frame count K >= 1", part);
    long last = both_ends ? c->frames - k : c->frames; /* frames [k, last) are filled */
    if (k >= last)
        return vidi_set_error(VIDI_ERR_ARG, "mask '%s': keeping %ld frame(s)%s of the clip's %d leaves no frame to fill", part,
                              k, both_ends ? " at each end" : "", c->frames);
    for (long f = k; f < last; f++) fill_frame(mask, c, (int)f);
    return VIDI_OK;
}

/* Bright pixels of an RGB image (any size, resized to the frame) are filled. */
static void mask_from_rgb(const vidi_image *img, int f, const clip_shape *c, float *mask) {
    int64_t hw = (int64_t)c->height * c->width;
    for (int y = 0; y < c->height; y++)
        for (int x = 0; x < c->width; x++) {
            const uint8_t *px = img->rgb + ((int64_t)y * img->width + x) * 3;
            if ((px[0] + px[1] + px[2]) / 3 > 127) mask[f * hw + (int64_t)y * c->width + x] = 0.0f;
        }
}

static vidi_status part_image(const char *part, const char *path, const clip_shape *c, float *mask) {
    vidi_image img = {0}, sized = {0};
    vidi_status st = vidi_image_load(path, &img);
    if (st == VIDI_OK) st = vidi_image_resize(&img, c->width, c->height, VIDI_RESAMPLE_NEAREST, &sized);
    if (st != VIDI_OK) {
        vidi_image_free(&img);
        return vidi_wrap_error(st, "mask '%s'", part);
    }
    for (int f = 0; f < c->frames; f++) mask_from_rgb(&sized, f, c, mask);
    vidi_image_free(&img);
    vidi_image_free(&sized);
    return VIDI_OK;
}

/* A mask video: its first `frames` frames, scaled to the frame size. */
static vidi_status part_video(const char *part, const char *path, const clip_shape *c, float *mask) {
    vidi_decoder_params dp = vidi_decoder_default_params();
    dp.out_width = c->width, dp.out_height = c->height, dp.resample = VIDI_RESAMPLE_NEAREST;
    vidi_decoder *dec = NULL;
    vidi_status st = vidi_decoder_open(path, &dp, &dec);
    int f = 0;
    while (st == VIDI_OK && f < c->frames) {
        vidi_frame fr = {0};
        int got = 0;
        st = vidi_decoder_next(dec, &fr, &got);
        if (st != VIDI_OK || !got) break;
        vidi_image img = {fr.width, fr.height, fr.rgb};
        mask_from_rgb(&img, f++, c, mask);
        vidi_frame_free(&fr);
    }
    vidi_decoder_close(dec);
    if (st != VIDI_OK) return vidi_wrap_error(st, "mask '%s'", part);
    if (f < c->frames)
        return vidi_set_error(VIDI_ERR_ARG, "mask '%s': the mask video has %d frames, the clip %d", part, f, c->frames);
    return VIDI_OK;
}

vidi_status vidi_inpaint_mask_parse(const char *spec, int frames, int height, int width, float *mask) {
    if (!spec || !mask || frames < 1 || height < 1 || width < 1)
        return vidi_set_error(VIDI_ERR_ARG, "mask: spec, mask buffer and a clip size are required");
    clip_shape c = {frames, height, width};
    int64_t n = (int64_t)frames * height * width;
    for (int64_t i = 0; i < n; i++) mask[i] = 1.0f;
    if (!*spec) return vidi_set_error(VIDI_ERR_ARG, "mask '': empty spec");
    char *copy = strdup(spec);
    if (!copy) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    vidi_status st = VIDI_OK;
    char *save = NULL;
    for (char *part = strtok_r(copy, "+", &save); part && st == VIDI_OK; part = strtok_r(NULL, "+", &save)) {
        char *colon = strchr(part, ':');
        if (!colon) {
            st = vidi_set_error(VIDI_ERR_ARG, "mask '%s': expected KIND:ARGS (box, frames, predict, interpolate, image, video)", part);
            break;
        }
        *colon = '\0';
        const char *kind = part, *arg = colon + 1;
        char label[256];
        snprintf(label, sizeof label, "%s:%s", kind, arg);
        if (!strcmp(kind, "box")) st = part_box(label, arg, &c, mask);
        else if (!strcmp(kind, "frames")) st = part_frames(label, arg, &c, mask);
        else if (!strcmp(kind, "predict")) st = part_keep(label, arg, &c, mask, 0);
        else if (!strcmp(kind, "interpolate")) st = part_keep(label, arg, &c, mask, 1);
        else if (!strcmp(kind, "image")) st = part_image(label, arg, &c, mask);
        else if (!strcmp(kind, "video")) st = part_video(label, arg, &c, mask);
        else st = vidi_set_error(VIDI_ERR_ARG, "mask '%s': unknown kind '%s' (box, frames, predict, interpolate, image, video)", label, kind);
    }
    free(copy);
    if (st != VIDI_OK) return st;
    int64_t unknown = 0;
    for (int64_t i = 0; i < n; i++) unknown += mask[i] < 0.5f;
    if (!unknown) return vidi_set_error(VIDI_ERR_ARG, "mask '%s' is empty: it marks no pixel to fill", spec);
    return VIDI_OK;
}
