/* Video classification driver: ViViT + sampler, T x S views, logits averaged
 * over the views (see classify_video.h). */
#include "pipeline/classify_video.h"

#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vidi/safetensors.h"

#ifndef VIDI_DEFAULT_MODEL_DIR
#define VIDI_DEFAULT_MODEL_DIR "samples/models"
#endif

struct vidi_video_classifier {
    vidi_vivit *model;
    vidi_sampler_params sampler;
    double *sum; /* [num_labels]: view logits are summed in double */
    float *view_logits;
};

vidi_status vidi_video_classifier_open(const char *model_path, vidi_backend *be, vidi_video_classifier **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_video_classifier_open: out is required");
    *out = NULL;
    vidi_video_classifier *vc = calloc(1, sizeof *vc);
    if (!vc) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    vidi_status s = vidi_vivit_load(model_path, be, &vc->model);
    if (!s) s = vidi_vivit_sampler_params(vc->model, &vc->sampler);
    if (!s) {
        int n = vidi_vivit_get_config(vc->model)->num_labels;
        vc->sum = malloc(sizeof *vc->sum * (size_t)n);
        vc->view_logits = malloc(sizeof *vc->view_logits * (size_t)n);
        if (!vc->sum || !vc->view_logits) s = vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", model_path);
    }
    if (s) {
        vidi_video_classifier_free(vc);
        return s;
    }
    *out = vc;
    return VIDI_OK;
}

void vidi_video_classifier_free(vidi_video_classifier *vc) {
    if (!vc) return;
    vidi_vivit_free(vc->model);
    free(vc->sum);
    free(vc->view_logits);
    free(vc);
}

vidi_vivit *vidi_video_classifier_model(vidi_video_classifier *vc) { return vc->model; }

int vidi_video_classifier_num_labels(const vidi_video_classifier *vc) {
    return vidi_vivit_get_config(vc->model)->num_labels;
}

vidi_sampler_params *vidi_video_classifier_sampler_params(vidi_video_classifier *vc) { return &vc->sampler; }

vidi_decoder_params vidi_video_classifier_decoder_params(const vidi_video_classifier *vc,
                                                         const vidi_decoder_params *base) {
    return vidi_sampler_decoder_params(&vc->sampler, base);
}

/* The sampler params for T x S views: the model's, with num_clips and the
 * crop mode set; three crops keep the model's crop size. */
static vidi_status view_params(const vidi_video_classifier *vc, const char *label, int views_t, int views_s,
                               vidi_sampler_params *p) {
    if (views_t < 1 || views_t > 64 || (views_s != 1 && views_s != 3))
        return vidi_set_error(VIDI_ERR_ARG, "%s: views %dx%d: T must be in [1, 64] and S 1 or 3", label, views_t,
                              views_s);
    *p = vc->sampler;
    p->num_clips = views_t;
    if (views_s == 3) {
        if (p->crop == VIDI_CROP_NONE) { /* resized straight to the model size: nothing to crop from */
            const vidi_vivit_config *c = vidi_vivit_get_config(vc->model);
            return vidi_set_error(VIDI_ERR_ARG,
                                  "%s: views %dx3: the model resizes frames to exactly %dx%d, so three crops would be "
                                  "identical",
                                  label, views_t, c->image_size, c->image_size);
        }
        p->crop = VIDI_CROP_THREE;
    }
    return VIDI_OK;
}

/* Temporal views must differ: clips c and c' with the same frames mean the
 * video is too short for views_t clips. */
static vidi_status check_temporal_views(const vidi_sampler_params *p, vidi_decoder *dec, const char *label,
                                        int views_s) {
    if (p->num_clips < 2) return VIDI_OK;
    int64_t total = 0;
    vidi_status s = vidi_decoder_count_frames(dec, &total);
    if (s) return s;
    if (total <= 0) return vidi_set_error(VIDI_ERR_FORMAT, "%s: no video frames", label);
    vidi_sample_plan plan;
    if ((s = vidi_sampler_plan(p, total, &plan))) return vidi_wrap_error(s, "%s", label);
    size_t bytes = sizeof *plan.indices * (size_t)plan.frames_per_clip;
    for (int c = 1; c < plan.n_clips && !s; c++)
        if (!memcmp(plan.indices + (size_t)(c - 1) * plan.frames_per_clip,
                    plan.indices + (size_t)c * plan.frames_per_clip, bytes))
            s = vidi_set_error(VIDI_ERR_ARG,
                               "%s: views %dx%d are larger than the video: %lld frames are too few for %d different "
                               "clips of %d frames",
                               label, p->num_clips, views_s, (long long)total, p->num_clips, plan.frames_per_clip);
    vidi_sample_plan_free(&plan);
    return s;
}

/* ThreeCrop offsets along the longer side are 0, (L - crop) / 2 and twice
 * that: all equal when the resized frame exceeds the crop by less than 2. */
static vidi_status check_spatial_views(const vidi_sampler_params *p, vidi_decoder *dec, const char *label,
                                       int views_t) {
    if (p->crop != VIDI_CROP_THREE) return VIDI_OK;
    const vidi_video_info *info = vidi_decoder_info(dec);
    int w = info->width, h = info->height;
    if (p->resize_shorter > 0 && w > 0 && h > 0) {
        if (w <= h) h = (int)((int64_t)p->resize_shorter * h / w), w = p->resize_shorter;
        else w = (int)((int64_t)p->resize_shorter * w / h), h = p->resize_shorter;
    } else if (p->resize_w > 0) {
        w = p->resize_w, h = p->resize_h;
    }
    if (w - p->crop_w >= 2 || h - p->crop_h >= 2) return VIDI_OK;
    return vidi_set_error(VIDI_ERR_ARG,
                          "%s: views %dx3 are larger than the video: frames are %dx%d after resizing, too small for "
                          "three different %dx%d crops",
                          label, views_t, w, h, p->crop_w, p->crop_h);
}

vidi_status vidi_video_classifier_sample(const vidi_video_classifier *vc, vidi_decoder *dec, int views_t, int views_s,
                                         vidi_clip_views *out) {
    if (!vc || !dec || !out) return vidi_set_error(VIDI_ERR_ARG, "vidi_video_classifier_sample: arguments are required");
    memset(out, 0, sizeof *out);
    const char *label = vidi_decoder_input(dec);
    vidi_sampler_params p;
    vidi_status s = view_params(vc, label, views_t, views_s, &p);
    if (s || (s = check_temporal_views(&p, dec, label, views_s)) || (s = check_spatial_views(&p, dec, label, views_t)) ||
        (s = vidi_sampler_run(dec, &p, out)))
        return s;
    const vidi_vivit_config *c = vidi_vivit_get_config(vc->model);
    if (out->frames != c->num_frames || out->height != c->image_size || out->width != c->image_size)
        s = vidi_set_error(VIDI_ERR_SHAPE, "%s: sampled views are %dx%dx%d but the model takes %dx%dx%d", label,
                           out->frames, out->height, out->width, c->num_frames, c->image_size, c->image_size);
    if (s) vidi_clip_views_free(out);
    return s;
}

vidi_status vidi_video_classifier_forward_views(vidi_video_classifier *vc, const vidi_clip_views *views,
                                                float *logits) {
    if (!vc || !views || !views->data || !logits)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_video_classifier_forward_views: arguments are required");
    const vidi_vivit_config *c = vidi_vivit_get_config(vc->model);
    if (views->n_views < 1 || views->frames != c->num_frames || views->channels != c->channels ||
        views->height != c->image_size || views->width != c->image_size)
        return vidi_set_error(VIDI_ERR_SHAPE, "views are %d x [%d, %d, %d, %d] but the model takes [%d, %d, %d, %d]",
                              views->n_views, views->frames, views->channels, views->height, views->width,
                              c->num_frames, c->channels, c->image_size, c->image_size);
    int n = c->num_labels;
    size_t view_floats = (size_t)views->frames * views->channels * views->height * views->width;
    for (int i = 0; i < n; i++) vc->sum[i] = 0.0;
    for (int v = 0; v < views->n_views; v++) {
        vidi_status s = vidi_vivit_forward(vc->model, views->data + (size_t)v * view_floats, vc->view_logits, NULL, NULL);
        if (s) return s;
        for (int i = 0; i < n; i++) vc->sum[i] += vc->view_logits[i];
    }
    for (int i = 0; i < n; i++) logits[i] = (float)(vc->sum[i] / views->n_views);
    return VIDI_OK;
}

vidi_status vidi_classify_video_views(vidi_video_classifier *vc, vidi_decoder *dec, int views_t, int views_s,
                                      float *logits, vidi_clip_views *opt_info) {
    vidi_clip_views views;
    vidi_status s = vidi_video_classifier_sample(vc, dec, views_t, views_s, &views);
    if (s) return s;
    s = vidi_video_classifier_forward_views(vc, &views, logits);
    if (s) s = vidi_wrap_error(s, "%s", vidi_decoder_input(dec));
    if (opt_info && !s) *opt_info = views;
    else vidi_clip_views_free(&views);
    return s;
}

static int is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

vidi_status vidi_default_video_model(char *buf, size_t n) {
    if (!buf || n == 0) return vidi_set_error(VIDI_ERR_ARG, "vidi_default_video_model: buffer is required");
    const char *env = getenv("VIDI_MODEL_DIR");
    const char *dir = env && *env ? env : VIDI_DEFAULT_MODEL_DIR;
    int len = snprintf(buf, n, "%s/%s", dir, VIDI_DEFAULT_VIDEO_MODEL_NAME);
    if (len < 0 || (size_t)len >= n)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_default_video_model: path longer than %zu bytes", n);
    if (is_file(buf)) return VIDI_OK;
    if (env && *env)
        return vidi_set_error(VIDI_ERR_IO,
                              "no default video model: %s does not exist (VIDI_MODEL_DIR=%s; unset it to use %s/%s, "
                              "or pass --model)",
                              buf, env, VIDI_DEFAULT_MODEL_DIR, VIDI_DEFAULT_VIDEO_MODEL_NAME);
    return vidi_set_error(VIDI_ERR_IO,
                          "no default video model: %s does not exist and VIDI_MODEL_DIR is not set (set it to a "
                          "directory holding %s, or pass --model)",
                          buf, VIDI_DEFAULT_VIDEO_MODEL_NAME);
}

vidi_status vidi_model_probe(const char *path, vidi_model_kind *kind) {
    if (!path || !kind) return vidi_set_error(VIDI_ERR_ARG, "vidi_model_probe: path and kind are required");
    *kind = VIDI_MODEL_IMAGE;
    char file[4096];
    vidi_status s = vidi_checkpoint_weights_path(path, file, sizeof file, NULL);
    if (s) return s;
    vidi_safetensors *st = NULL;
    if ((s = vidi_safetensors_open(file, &st))) return s;
    const char *fmt = vidi_safetensors_metadata(st, "format");
    if ((fmt && !strcmp(fmt, "vidi-vivit")) || vidi_safetensors_find(st, "vivit.embeddings.cls_token"))
        *kind = VIDI_MODEL_VIDEO;
    vidi_safetensors_close(st);
    return VIDI_OK;
}

int vidi_input_is_image(const char *path) {
    if (!path || strstr(path, "://")) return 0;
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, path, NULL, NULL) < 0) return 0;
    const char *name = fmt->iformat->name;
    size_t len = strlen(name);
    int image = !strcmp(name, "image2") || (len > 5 && !strcmp(name + len - 5, "_pipe"));
    avformat_close_input(&fmt);
    return image;
}
