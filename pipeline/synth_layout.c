/* Synthetic dataset layouts: where each clip goes and the annotation files,
 * in the real datasets' conventions.
 *
 * ssv2 (something-something-v2): labels.json maps the class text without
 * brackets to its index as a string; train.json / validation.json are lists
 * of {"id", "label", "template", "placeholders"} with the id a decimal
 * string, the template with "[something]" and the label the filled-in,
 * lowercase sentence. Loaders look classes up with
 * labels[template.replace("[", "").replace("]", "")].
 *
 * kinetics: <split>/<label>/<youtube_id>_<start:06d>_<end:06d>.<ext> and
 * <split>.csv with the header label,youtube_id,time_start,time_end,split
 * (split "train" or "val"), the label also the folder name, as the
 * ActivityNet download scripts lay Kinetics out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/synth_internal.h"

const char *const vidi_synth_annotation_files[] = {
    "labels.json", "train.json", "validation.json", "train.csv", "val.csv", "poses.json", NULL,
};

static const char *kinetics_split(vidi_synth_split split) { return split == VIDI_SYNTH_TRAIN ? "train" : "val"; }

void vidi_synth_clip_path(const vidi_synth_params *p, const vidi_synth_clip *c, const char *ext, char *out,
                          int size) {
    if (p->layout == VIDI_SYNTH_KINETICS)
        snprintf(out, (size_t)size, "%s/%s/%s_%06d_%06d.%s", kinetics_split(c->split),
                 vidi_synth_kinetics_label(c->cls), c->id, c->time_start, c->time_end, ext);
    else
        snprintf(out, (size_t)size, "%s.%s", c->id, ext);
}

/* A file written to "<path>.tmp" and renamed when complete. */
typedef struct atomic_file {
    char path[4096], tmp[4100];
    FILE *f;
} atomic_file;

static vidi_status atomic_open(atomic_file *a, const char *dir, const char *name) {
    snprintf(a->path, sizeof a->path, "%s/%s", dir, name);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp", a->path);
    a->f = fopen(a->tmp, "w");
    if (!a->f) return vidi_set_error(VIDI_ERR_IO, "%s: cannot create: %s", a->tmp, strerror(errno));
    return VIDI_OK;
}

static vidi_status atomic_close(atomic_file *a) {
    int failed = ferror(a->f);
    failed |= fclose(a->f) != 0;
    if (failed) {
        int e = errno;
        remove(a->tmp);
        return vidi_set_error(VIDI_ERR_IO, "%s: write failed: %s", a->path, strerror(e));
    }
    if (rename(a->tmp, a->path) != 0) {
        int e = errno;
        remove(a->tmp);
        return vidi_set_error(VIDI_ERR_IO, "%s: cannot move into place: %s", a->path, strerror(e));
    }
    return VIDI_OK;
}

/* Our strings come from fixed tables, but escape anyway: the files are JSON. */
static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static vidi_status write_labels_json(const char *dir) {
    atomic_file a;
    vidi_status st = atomic_open(&a, dir, "labels.json");
    if (st != VIDI_OK) return st;
    fputs("{\n", a.f);
    for (int k = 0; k < VIDI_SYNTH_CLASSES; k++) {
        fputs("    ", a.f);
        json_string(a.f, vidi_synth_class_name(k));
        fprintf(a.f, ": \"%d\"%s\n", k, k + 1 < VIDI_SYNTH_CLASSES ? "," : "");
    }
    fputs("}\n", a.f);
    return atomic_close(&a);
}

static vidi_status write_ssv2_split(const char *dir, const char *name, const vidi_synth_params *p,
                                    vidi_synth_split split) {
    atomic_file a;
    vidi_status st = atomic_open(&a, dir, name);
    if (st != VIDI_OK) return st;
    fputc('[', a.f);
    int first = 1;
    for (int i = 0; i < p->clips; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(p, i, &c);
        if (c.split != split) continue;
        char label[256], thing[64];
        vidi_synth_label_text(&c, label, sizeof label);
        vidi_synth_placeholder(&c, thing, sizeof thing);
        fputs(first ? "\n" : ",\n", a.f);
        first = 0;
        fputs("    {\"id\": ", a.f);
        json_string(a.f, c.id);
        fputs(", \"label\": ", a.f);
        json_string(a.f, label);
        fputs(", \"template\": ", a.f);
        json_string(a.f, vidi_synth_template(c.cls));
        fputs(", \"placeholders\": [", a.f);
        json_string(a.f, thing);
        fputs("]}", a.f);
    }
    fputs(first ? "]\n" : "\n]\n", a.f);
    return atomic_close(&a);
}

static vidi_status write_kinetics_csv(const char *dir, const vidi_synth_params *p, vidi_synth_split split) {
    atomic_file a;
    char name[32];
    snprintf(name, sizeof name, "%s.csv", kinetics_split(split));
    vidi_status st = atomic_open(&a, dir, name);
    if (st != VIDI_OK) return st;
    fputs("label,youtube_id,time_start,time_end,split\n", a.f);
    for (int i = 0; i < p->clips; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(p, i, &c);
        if (c.split != split) continue;
        /* Labels hold no commas or quotes, so no CSV quoting is needed. */
        fprintf(a.f, "%s,%s,%d,%d,%s\n", vidi_synth_kinetics_label(c.cls), c.id, c.time_start, c.time_end,
                kinetics_split(split));
    }
    return atomic_close(&a);
}

/* Ground truth for localisation and tracking (and for auxiliary losses in
 * training): the foreground object's pose at every frame of every clip,
 * {"width", "height", "frames", "poses": {id: [[x, y, half_size, angle,
 * opacity], ...]}}, x/y/half_size in pixels, angle in radians clockwise. */
static vidi_status write_poses_json(const char *dir, const vidi_synth_params *p) {
    atomic_file a;
    vidi_status st = atomic_open(&a, dir, "poses.json");
    if (st != VIDI_OK) return st;
    fprintf(a.f, "{\"width\": %d, \"height\": %d, \"frames\": %d, \"poses\": {", p->width, p->height,
            p->frames);
    for (int i = 0; i < p->clips; i++) {
        vidi_synth_clip c;
        vidi_synth_clip_make(p, i, &c);
        fputs(i ? ",\n" : "\n", a.f);
        fputs("    ", a.f);
        json_string(a.f, c.id);
        fputs(": [", a.f);
        for (int f = 0; f < p->frames; f++) {
            vidi_synth_pose q = vidi_synth_clip_pose(&c, f);
            fprintf(a.f, "%s[%.2f, %.2f, %.2f, %.4f, %.3f]", f ? ", " : "", q.x, q.y, q.scale, q.angle,
                    q.opacity);
        }
        fputc(']', a.f);
    }
    fputs("\n}}\n", a.f);
    return atomic_close(&a);
}

vidi_status vidi_synth_write_annotations(const char *dir, const vidi_synth_params *p) {
    vidi_status st = write_poses_json(dir, p);
    if (st != VIDI_OK) return st;
    if (p->layout == VIDI_SYNTH_KINETICS) {
        if ((st = write_kinetics_csv(dir, p, VIDI_SYNTH_TRAIN)) != VIDI_OK) return st;
        return write_kinetics_csv(dir, p, VIDI_SYNTH_VALIDATION);
    }
    /* labels.json last: loaders open it first, so its presence marks a
     * finished dataset. */
    if ((st = write_ssv2_split(dir, "train.json", p, VIDI_SYNTH_TRAIN)) != VIDI_OK) return st;
    if ((st = write_ssv2_split(dir, "validation.json", p, VIDI_SYNTH_VALIDATION)) != VIDI_OK) return st;
    return write_labels_json(dir);
}
