/* vidi classify, shared between the image path (cmd_classify.c) and the
 * video path (cmd_classify_video.c): options and result printing. */
#ifndef VIDI_CLI_CLASSIFY_H
#define VIDI_CLI_CLASSIFY_H

#include <cjson/cJSON.h>

#include "pipeline/classify.h"
#include "vidi/decode.h"

typedef struct classify_opts {
    const char *model_path, *backend_name;
    int top_k, json, threads, heads;
    int views_t, views_s, views_set;
    int stream, window_stride, frame_stride, window_stride_set, frame_stride_set;
    vidi_decoder_params decoder; /* --decoder, --timeout, --hwaccel */
    char **inputs;
    int n_inputs;
} classify_opts;

/* Labels by index, for printing. */
typedef const char *(*classify_label_fn)(const void *model, int index);

/* Softmax + top-k of logits, then text ("INPUT[ suffix]" and the ranked
 * labels) or one JSON object with "input", extra's members, "top" and
 * "logits". extra (may be NULL) is consumed. 0, or -1 when out of memory. */
int classify_print(const classify_opts *o, const char *input, const char *suffix, cJSON *extra, const float *logits,
                   int n, classify_label_fn label, const void *model);

/* The ViViT path: every input a video (or, with --stream, windows over it). */
int classify_videos(const classify_opts *o, vidi_backend *be);

#endif
