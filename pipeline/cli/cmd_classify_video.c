/* vidi classify, video path: a ViViT over T x S views per video, or with
 * --stream a result per sliding window. The work is in
 * pipeline/classify_video*.c; this prints. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "pipeline/classify_video.h"
#include "pipeline/cli/classify_cli.h"
#include "pipeline/cli/cli.h"

static const char *vivit_label(const void *model, int index) { return vidi_vivit_label(model, index); }

/* "views", "frames" (indices per temporal view) and "frames_lost". */
static cJSON *views_json(const classify_opts *o, const vidi_clip_views *v) {
    cJSON *extra = cJSON_CreateObject(), *views = cJSON_CreateObject(), *frames = cJSON_CreateArray();
    if (!extra || !views || !frames) {
        cJSON_Delete(extra), cJSON_Delete(views), cJSON_Delete(frames);
        return NULL;
    }
    cJSON_AddNumberToObject(views, "temporal", o->views_t);
    cJSON_AddNumberToObject(views, "spatial", o->views_s);
    cJSON_AddItemToObject(extra, "views", views);
    for (int c = 0; c < v->n_clips; c++) {
        cJSON *clip = cJSON_CreateArray();
        for (int t = 0; clip && t < v->frames; t++)
            cJSON_AddItemToArray(clip, cJSON_CreateNumber((double)v->indices[(size_t)c * v->frames + t]));
        cJSON_AddItemToArray(frames, clip);
    }
    cJSON_AddItemToObject(extra, "frames", frames);
    cJSON_AddNumberToObject(extra, "frames_lost", (double)v->frames_lost);
    return extra;
}

typedef struct window_printer {
    const classify_opts *o;
    const char *input;
    const vidi_vivit *model;
    int n;
} window_printer;

static vidi_status print_window(void *user, const vidi_stream_window *w, const float *logits) {
    const window_printer *p = user;
    cJSON *extra = NULL;
    char suffix[128];
    snprintf(suffix, sizeof suffix, "  [%.3f-%.3f s, frames %lld-%lld]", w->start_s, w->end_s,
             (long long)w->first_frame, (long long)w->last_frame);
    if (p->o->json) {
        cJSON *frames = cJSON_CreateArray();
        if (!(extra = cJSON_CreateObject()) || !frames) {
            cJSON_Delete(extra), cJSON_Delete(frames);
            return vidi_set_error(VIDI_ERR_NOMEM, "out of memory formatting the result");
        }
        cJSON_AddNumberToObject(extra, "window", w->index);
        cJSON_AddNumberToObject(extra, "start", w->start_s);
        cJSON_AddNumberToObject(extra, "end", w->end_s);
        cJSON_AddItemToArray(frames, cJSON_CreateNumber((double)w->first_frame));
        cJSON_AddItemToArray(frames, cJSON_CreateNumber((double)w->last_frame));
        cJSON_AddItemToObject(extra, "frames", frames);
    }
    if (classify_print(p->o, p->input, suffix, extra, logits, p->n, vivit_label, p->model) != 0)
        return vidi_set_error(VIDI_ERR_NOMEM, "out of memory formatting the result");
    return VIDI_OK;
}

/* One input: 0 when classified, -1 after reporting why not. */
static int classify_one(const classify_opts *o, vidi_video_classifier *vc, const char *in, float *logits,
                        cli_progress *bar) {
    vidi_vivit *model = vidi_video_classifier_model(vc);
    int n = vidi_video_classifier_num_labels(vc);
    if (vidi_input_is_image(in)) {
        cli_progress_break(bar);
        cli_error("classify", "%s: is an image, but %s is a ViViT (video) model; classify images with a ViT "
                  "checkpoint (--model)", in, o->model_path);
        return -1;
    }
    vidi_decoder_params dp = vidi_video_classifier_decoder_params(vc, &o->decoder);
    vidi_decoder *dec = NULL;
    vidi_status s = vidi_decoder_open(in, &dp, &dec);
    if (!s) cli_hwaccel_note("classify", &dp, vidi_decoder_info(dec), bar);
    if (!s && o->stream) {
        window_printer p = {o, in, model, n};
        s = vidi_classify_video_stream(vc, dec, o->window_stride, o->frame_stride, print_window, &p);
    } else if (!s) {
        vidi_clip_views views;
        s = vidi_classify_video_views(vc, dec, o->views_t, o->views_s, logits, &views);
        if (!s) {
            cJSON *extra = o->json ? views_json(o, &views) : NULL;
            cli_progress_break(bar);
            if ((o->json && !extra) || classify_print(o, in, NULL, extra, logits, n, vivit_label, model) != 0)
                s = vidi_set_error(VIDI_ERR_NOMEM, "out of memory formatting the result");
            vidi_clip_views_free(&views);
        }
    }
    int64_t lost = s ? 0 : vidi_decoder_frames_lost(dec);
    vidi_decoder_close(dec);
    if (s) {
        cli_progress_break(bar);
        cli_library_error("classify");
        return -1;
    }
    if (lost > 0) { /* classified, but not from the frames asked for: say so, exit 1 */
        cli_progress_break(bar);
        cli_error("classify", "%s: %lld frame%s could not be decoded (corrupt or missing data); %s", in,
                  (long long)lost, lost == 1 ? "" : "s", o->stream ? "the windows skip them" : "the nearest earlier frames stand in for them");
        return -1;
    }
    return 0;
}

int classify_videos(const classify_opts *o, vidi_backend *be) {
    if (o->heads) {
        cli_error("classify", "--heads is for ViT checkpoints; %s is a ViViT", o->model_path);
        return CLI_EXIT_USAGE;
    }
    vidi_video_classifier *vc = NULL;
    if (vidi_video_classifier_open(o->model_path, be, &vc) != VIDI_OK) {
        cli_library_error("classify");
        return CLI_EXIT_FAIL;
    }
    classify_opts opts = *o;
    if (!opts.window_stride_set) opts.window_stride = vidi_vivit_get_config(vidi_video_classifier_model(vc))->tubelet_t;
    if (o->stream && vidi_classify_video_stream_check(vc, o->model_path, opts.window_stride, opts.frame_stride)) {
        cli_library_error("classify");
        vidi_video_classifier_free(vc);
        return CLI_EXIT_USAGE;
    }
    float *logits = malloc(sizeof(float) * (size_t)vidi_video_classifier_num_labels(vc));
    int failures = 0;
    if (!logits) {
        cli_error("classify", "out of memory");
        failures = 1;
    }
    cli_progress bar;
    cli_progress_start(&bar, "classify", "videos", o->n_inputs > 1 && !o->stream ? o->n_inputs : 0);
    for (int i = 0; logits && i < o->n_inputs; i++) {
        if (classify_one(&opts, vc, o->inputs[i], logits, &bar) != 0) failures++;
        cli_progress_update(&bar, i + 1);
    }
    free(logits);
    vidi_video_classifier_free(vc);
    return failures ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
