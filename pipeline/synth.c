/* Synthetic dataset driver: checks the parameters, prepares the output
 * directory, renders and encodes every clip, then writes the annotations. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/synth_internal.h"
#include "vidi/video_writer.h"

vidi_synth_params vidi_synth_default_params(void) {
    vidi_synth_params p;
    memset(&p, 0, sizeof p);
    p.clips = 16;
    p.width = 160;
    p.height = 120;
    p.frames = 16;
    p.fps = 12;
    p.layout = VIDI_SYNTH_SSV2;
    return p;
}

const char *vidi_synth_layout_name(vidi_synth_layout layout) {
    return layout == VIDI_SYNTH_KINETICS ? "kinetics" : "ssv2";
}

/* The codec name as a static string (the summary outlives params), or the
 * caller's string when it is not one of ours (check_params rejects it). */
static const char *codec_for(const vidi_synth_params *p) {
    static const char *const known[] = {"h264", "vp9", "mjpeg"};
    if (!p->codec) return p->layout == VIDI_SYNTH_KINETICS ? "h264" : "vp9";
    for (int i = 0; i < 3; i++)
        if (!strcmp(p->codec, known[i])) return known[i];
    return p->codec;
}

vidi_status vidi_synth_check_params(const vidi_synth_params *p) {
    if (p->clips < 1 || p->clips > VIDI_SYNTH_MAX_CLIPS)
        return vidi_set_error(VIDI_ERR_ARG, "clips: %d is not in [1, %d]", p->clips, VIDI_SYNTH_MAX_CLIPS);
    if (p->width < VIDI_SYNTH_MIN_SIDE || p->width > VIDI_SYNTH_MAX_SIDE || p->height < VIDI_SYNTH_MIN_SIDE ||
        p->height > VIDI_SYNTH_MAX_SIDE)
        return vidi_set_error(VIDI_ERR_ARG, "size: %dx%d is outside %dx%d..%dx%d", p->width, p->height,
                              VIDI_SYNTH_MIN_SIDE, VIDI_SYNTH_MIN_SIDE, VIDI_SYNTH_MAX_SIDE, VIDI_SYNTH_MAX_SIDE);
    if (p->width % 2 || p->height % 2)
        return vidi_set_error(VIDI_ERR_ARG, "size: %dx%d must be even in both sides (4:2:0 video)", p->width,
                              p->height);
    if (p->frames < VIDI_SYNTH_MIN_FRAMES || p->frames > VIDI_SYNTH_MAX_FRAMES)
        return vidi_set_error(VIDI_ERR_ARG, "frames: %d is not in [%d, %d]", p->frames, VIDI_SYNTH_MIN_FRAMES,
                              VIDI_SYNTH_MAX_FRAMES);
    if (p->fps < 1 || p->fps > VIDI_SYNTH_MAX_FPS)
        return vidi_set_error(VIDI_ERR_ARG, "fps: %d is not in [1, %d]", p->fps, VIDI_SYNTH_MAX_FPS);
    if (p->layout != VIDI_SYNTH_SSV2 && p->layout != VIDI_SYNTH_KINETICS)
        return vidi_set_error(VIDI_ERR_ARG, "layout: unknown layout %d", (int)p->layout);
    const char *codec = codec_for(p);
    if (strcmp(codec, "h264") && strcmp(codec, "vp9") && strcmp(codec, "mjpeg"))
        return vidi_set_error(VIDI_ERR_ARG, "codec: '%s' is not h264, vp9 or mjpeg", codec);
    return VIDI_OK;
}

/* mkdir -p; errors name the directory that could not be made. */
static vidi_status make_dirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return vidi_set_error(VIDI_ERR_ARG, "%.64s...: path too long", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return vidi_set_error(VIDI_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = c;
        if (!c) break;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return vidi_set_error(VIDI_ERR_IO, "%s: not a directory", path);
    return VIDI_OK;
}

static vidi_status prepare_out_dir(const char *dir, int force) {
    vidi_status st = make_dirs(dir);
    if (st != VIDI_OK) return st;
    if (access(dir, W_OK | X_OK) != 0)
        return vidi_set_error(VIDI_ERR_IO, "%s: not writable: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d) return vidi_set_error(VIDI_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    if (!empty && !force)
        return vidi_set_error(VIDI_ERR_IO, "%s: exists and is not empty (use --force to write into it)", dir);
    /* An earlier dataset's annotations would make an interrupted run look
     * complete; they are rewritten at the end anyway. */
    for (int i = 0; vidi_synth_annotation_files[i]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, vidi_synth_annotation_files[i]);
        if (remove(path) != 0 && errno != ENOENT)
            return vidi_set_error(VIDI_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    }
    return VIDI_OK;
}

static vidi_status write_clip(const char *dir, const vidi_synth_params *p, const char *codec, const char *ext,
                              int index, uint8_t *bg, uint8_t *rgb, int64_t *bytes) {
    vidi_synth_clip clip;
    vidi_synth_clip_make(p, index, &clip);
    char rel[512], path[4700];
    vidi_synth_clip_path(p, &clip, ext, rel, sizeof rel);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    if (p->layout == VIDI_SYNTH_KINETICS && slash) {
        *slash = '\0';
        vidi_status st = make_dirs(path);
        *slash = '/';
        if (st != VIDI_OK) return st;
    }
    vidi_video_writer_params wp = vidi_video_writer_default_params();
    wp.codec = codec;
    wp.width = p->width;
    wp.height = p->height;
    wp.fps_num = p->fps;
    wp.fps_den = 1;
    vidi_video_writer *w = NULL;
    vidi_status st = vidi_video_writer_open(path, &wp, &w);
    if (st != VIDI_OK) return st;
    vidi_synth_render_background(&clip, bg);
    for (int f = 0; f < p->frames && st == VIDI_OK; f++) {
        vidi_synth_render_frame(&clip, bg, f, rgb, NULL);
        st = vidi_video_writer_write_rgb(w, rgb, 0);
    }
    if (st != VIDI_OK) {
        vidi_video_writer_abort(w);
        return st;
    }
    if ((st = vidi_video_writer_close(w)) != VIDI_OK) return st;
    struct stat sb;
    if (stat(path, &sb) == 0) *bytes += sb.st_size;
    return VIDI_OK;
}

vidi_status vidi_synth_generate(const char *out_dir, const vidi_synth_params *params,
                                vidi_synth_summary *summary) {
    if (summary) memset(summary, 0, sizeof *summary);
    if (!out_dir || !*out_dir) return vidi_set_error(VIDI_ERR_ARG, "synth: no output directory");
    vidi_status st = vidi_synth_check_params(params);
    if (st != VIDI_OK) return st;
    const char *codec = codec_for(params);
    if ((st = vidi_video_codec_check(codec)) != VIDI_OK) return st;
    const char *ext = vidi_video_codec_extension(codec);
    if ((st = prepare_out_dir(out_dir, params->force)) != VIDI_OK) return st;

    size_t frame_bytes = (size_t)params->width * params->height * 3;
    uint8_t *bg = malloc(frame_bytes), *rgb = malloc(frame_bytes);
    if (!bg || !rgb) {
        free(bg);
        free(rgb);
        return vidi_set_error(VIDI_ERR_NOMEM, "synth: out of memory for %dx%d frames", params->width,
                              params->height);
    }
    int64_t bytes = 0;
    int train = 0;
    for (int i = 0; i < params->clips && st == VIDI_OK; i++) {
        st = write_clip(out_dir, params, codec, ext, i, bg, rgb, &bytes);
        if (st == VIDI_OK && params->progress) params->progress(params->progress_user, i + 1, params->clips);
    }
    free(bg);
    free(rgb);
    if (st != VIDI_OK) return st;
    if ((st = vidi_synth_write_annotations(out_dir, params)) != VIDI_OK) return st;
    if (summary) {
        for (int i = 0; i < params->clips; i++) {
            vidi_synth_clip c;
            vidi_synth_clip_make(params, i, &c);
            train += c.split == VIDI_SYNTH_TRAIN;
        }
        summary->clips = params->clips;
        summary->train = train;
        summary->validation = params->clips - train;
        summary->bytes = bytes;
        summary->codec = codec;
        summary->extension = ext;
    }
    return VIDI_OK;
}
