/* vidi classify — top-k labels for images (ViT) or videos (ViViT), as text or
 * one JSON object per input. The model decides which: its checkpoint is
 * probed before loading. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/classify_video.h"
#include "pipeline/cli/classify_cli.h"
#include "pipeline/cli/cli.h"
#include "vidi/vit.h"

static const char help[] =
    "usage: vidi classify [--model PATH] [options] IMAGE...|VIDEO...\n"
    "\n"
    "Classify images with a ViT checkpoint, or videos with a ViViT checkpoint; the\n"
    "model decides which. Without --model: the default video model,\n"
    "$VIDI_MODEL_DIR/vivit-synth.safetensors, else samples/models/vivit-synth.safetensors\n"
    "of the source tree vidi was built from.\n"
    "\n"
    "  -m, --model PATH     ViT: Hugging Face directory (config.json, model.safetensors,\n"
    "                       preprocessor_config.json), or a timm / torchvision ViT\n"
    "                       .safetensors file (with an optional config.json beside it).\n"
    "                       ViViT: Hugging Face VivitForVideoClassification directory,\n"
    "                       or a vidi single-file .safetensors (models 1-4)\n"
    "  -k, --top-k K        labels to print per input (default 5)\n"
    "      --json           one JSON object per input on stdout:\n"
    "                       {\"input\", \"top\": [{\"index\", \"label\", \"score\"}], \"logits\"};\n"
    "                       videos add \"views\" {\"temporal\", \"spatial\"}, \"frames\" (the\n"
    "                       frame indices of each temporal view) and \"frames_lost\"\n"
    "      --backend NAME   cpu (default), cuda, auto (cuda if there is a GPU, else cpu), ref, cuda-emu\n"
    "  -t, --threads N      worker threads (default: all cores)\n"
    "      --heads N        ViT: attention heads, for checkpoints whose config lacks them\n"
    "video:\n"
    "      --views TxS      T temporal clips x S spatial crops (S = 1 centre, 3 three\n"
    "                       crops along the longer side), logits averaged over the\n"
    "                       T*S views (default 1x1). Each clip is the model's frame\n"
    "                       count spread uniformly over the video; a video with fewer\n"
    "                       frames repeats frames. Views that would be identical (too\n"
    "                       few frames for T different clips, frames too small for\n"
    "                       three different crops) are an error\n"
    "      --decoder NAME   ffmpeg (default) or gst\n"
    "      --hwaccel NAME   none (default) or cuda: decode on the GPU (NVDEC) when\n"
    "                       FFmpeg, the driver and the codec allow it, else in\n"
    "                       software (said once on stderr); the frames, and so the\n"
    "                       results, are the same either way\n"
    "      --timeout SEC    network inputs: deadline for opening and each read\n"
    "      --stream         slide a window over the whole video (factorised-encoder\n"
    "                       ViViT, model 2): every frame decoded in order, centre\n"
    "                       crop; one result per window with its time range (pts of\n"
    "                       its first and last frame); --json prints one object per\n"
    "                       window with \"window\", \"start\", \"end\", \"frames\"\n"
    "      --window-stride S  frames between windows (a multiple of the model's\n"
    "                       tubelet depth; default: the tubelet depth)\n"
    "      --frame-stride N use every N-th decoded frame (default 1)\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 when every input was classified, 1 when any failed (each failure\n"
    "is reported on stderr and the other inputs are still classified), 2 on bad usage.\n"
    "\n"
    "examples:\n"
    "  vidi classify --model samples/models/vit-shapes samples/images/*.png\n"
    "  vidi classify --views 2x3 samples/clips/ssv2-vp9/1.webm\n"
    "  vidi classify --stream --window-stride 4 --json samples/clips/ssv2-vp9/1.webm\n";

int classify_print(const classify_opts *o, const char *input, const char *suffix, cJSON *extra, const float *logits,
                   int n, classify_label_fn label, const void *model) {
    int k = o->top_k < n ? o->top_k : n;
    vidi_topk *top = malloc(sizeof *top * (size_t)n);
    if (!top) {
        cJSON_Delete(extra);
        return -1;
    }
    vidi_softmax_topk(logits, n, top, k);
    if (!o->json) {
        cJSON_Delete(extra);
        printf("%s%s\n", input, suffix ? suffix : "");
        /* One column for the scores over every input: as wide as the model's longest label. */
        int width = 28;
        for (int i = 0; i < n; i++) {
            int len = (int)strlen(label(model, i));
            if (len > width) width = len;
        }
        for (int i = 0; i < k; i++)
            printf("  %d. %-*s %.4f\n", i + 1, width, label(model, top[i].index), top[i].score);
        free(top);
        fflush(stdout);
        return 0;
    }
    cJSON *obj = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *lg = cJSON_CreateArray();
    int rc = -1;
    if (!obj || !arr || !lg) goto done;
    cJSON_AddStringToObject(obj, "input", input);
    for (cJSON *e = extra ? extra->child : NULL; e;) { /* move extra's members in, in order */
        cJSON *next = e->next;
        cJSON_AddItemToObject(obj, e->string, cJSON_DetachItemViaPointer(extra, e));
        e = next;
    }
    for (int i = 0; i < k; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "index", top[i].index);
        cJSON_AddStringToObject(e, "label", label(model, top[i].index));
        cJSON_AddNumberToObject(e, "score", top[i].score);
        cJSON_AddItemToArray(arr, e);
    }
    cJSON_AddItemToObject(obj, "top", arr);
    arr = NULL;
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(lg, cJSON_CreateNumber(logits[i]));
    cJSON_AddItemToObject(obj, "logits", lg);
    lg = NULL;
    char *text = cJSON_PrintUnformatted(obj);
    if (text) {
        puts(text);
        fflush(stdout);
        cJSON_free(text);
        rc = 0;
    }
done:
    cJSON_Delete(obj), cJSON_Delete(arr), cJSON_Delete(lg), cJSON_Delete(extra);
    free(top);
    return rc;
}

static const char *vit_label(const void *model, int index) { return vidi_vit_label(model, index); }

static int classify_images(const classify_opts *o, vidi_backend *be) {
    if (o->views_set || o->stream || o->window_stride_set || o->frame_stride_set) {
        cli_error("classify", "%s: is a ViT (image) model; --views, --stream, --window-stride and --frame-stride "
                  "are for video models", o->model_path);
        return CLI_EXIT_USAGE;
    }
    vidi_vit *model = NULL;
    if (vidi_vit_load(o->model_path, be, o->heads, &model) != VIDI_OK) {
        cli_library_error("classify");
        return CLI_EXIT_FAIL;
    }
    int n = vidi_vit_get_config(model)->num_labels, failures = 0;
    float *logits = malloc(sizeof(float) * (size_t)n);
    if (!logits) {
        cli_error("classify", "out of memory");
        vidi_vit_free(model);
        return CLI_EXIT_FAIL;
    }
    for (int i = 0; i < o->n_inputs; i++) {
        const char *in = o->inputs[i];
        /* The image loader would take a video's first frame: say what it is instead. */
        vidi_decoder *dec = NULL;
        if (!vidi_input_is_image(in) && vidi_decoder_open(in, NULL, &dec) == VIDI_OK) {
            vidi_decoder_close(dec);
            cli_error("classify", "%s: is a video, but %s is a ViT (image) model; pass a ViViT with --model (or no "
                      "--model for the default video model)", in, o->model_path);
            failures++;
            continue;
        }
        if (vidi_classify_image(model, in, logits) != VIDI_OK) {
            cli_library_error("classify");
            failures++;
            continue;
        }
        if (classify_print(o, in, NULL, NULL, logits, n, vit_label, model) != 0) {
            cli_error("classify", "out of memory formatting the result");
            failures++;
        }
    }
    free(logits);
    vidi_vit_free(model);
    return failures ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_classify(int argc, char **argv) {
    classify_opts o;
    memset(&o, 0, sizeof o);
    o.backend_name = "cpu";
    o.top_k = 5;
    o.views_t = o.views_s = 1;
    o.frame_stride = 1;
    o.decoder = vidi_decoder_default_params();
    enum { OPT_JSON = 256, OPT_BACKEND, OPT_HEADS, OPT_VIEWS, OPT_DECODER, OPT_TIMEOUT, OPT_STREAM, OPT_WSTRIDE,
           OPT_FSTRIDE, OPT_HWACCEL };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},          {"top-k", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, OPT_JSON},             {"backend", required_argument, NULL, OPT_BACKEND},
        {"threads", required_argument, NULL, 't'},         {"heads", required_argument, NULL, OPT_HEADS},
        {"views", required_argument, NULL, OPT_VIEWS},     {"decoder", required_argument, NULL, OPT_DECODER},
        {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"stream", no_argument, NULL, OPT_STREAM},
        {"window-stride", required_argument, NULL, OPT_WSTRIDE},
        {"frame-stride", required_argument, NULL, OPT_FSTRIDE}, {"hwaccel", required_argument, NULL, OPT_HWACCEL},
        {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":m:k:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': o.model_path = optarg; break;
        case 'k': if (cli_parse_int("classify", "--top-k", optarg, 1, 1000000, &o.top_k)) return CLI_EXIT_USAGE; break;
        case 't': if (cli_parse_int("classify", "--threads", optarg, 0, 1024, &o.threads)) return CLI_EXIT_USAGE; break;
        case OPT_HEADS: if (cli_parse_int("classify", "--heads", optarg, 1, 4096, &o.heads)) return CLI_EXIT_USAGE; break;
        case OPT_VIEWS:
            if (cli_parse_views("classify", optarg, &o.views_t, &o.views_s)) return CLI_EXIT_USAGE;
            o.views_set = 1;
            break;
        case OPT_WSTRIDE:
            if (cli_parse_int("classify", "--window-stride", optarg, 1, 1 << 20, &o.window_stride)) return CLI_EXIT_USAGE;
            o.window_stride_set = 1;
            break;
        case OPT_FSTRIDE:
            if (cli_parse_int("classify", "--frame-stride", optarg, 1, 1 << 20, &o.frame_stride)) return CLI_EXIT_USAGE;
            o.frame_stride_set = 1;
            break;
        case OPT_DECODER: if ((rc = cli_decoder_option("classify", optarg, &o.decoder))) return rc; break;
        case OPT_TIMEOUT: if ((rc = cli_timeout_option("classify", optarg, &o.decoder))) return rc; break;
        case OPT_HWACCEL: if ((rc = cli_hwaccel_option("classify", optarg, &o.decoder))) return rc; break;
        case OPT_STREAM: o.stream = 1; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_BACKEND: o.backend_name = optarg; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("classify", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("classify", "unknown option '%s' (see 'vidi classify --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (!o.stream && (o.window_stride_set || o.frame_stride_set)) {
        cli_error("classify", "--window-stride and --frame-stride need --stream");
        return CLI_EXIT_USAGE;
    }
    if (o.stream && o.views_set) {
        cli_error("classify", "--views and --stream do not mix (a stream takes the centre view of each window)");
        return CLI_EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_error("classify", "no inputs (see 'vidi classify --help')");
        return CLI_EXIT_USAGE;
    }
    o.inputs = argv + optind;
    o.n_inputs = argc - optind;
    char default_model[4096];
    if (!o.model_path) {
        if (vidi_default_video_model(default_model, sizeof default_model) != VIDI_OK) {
            cli_library_error("classify");
            return CLI_EXIT_FAIL;
        }
        o.model_path = default_model;
    }
    vidi_model_kind kind;
    if (vidi_model_probe(o.model_path, &kind) != VIDI_OK) {
        cli_library_error("classify");
        return CLI_EXIT_FAIL;
    }
    vidi_backend *be = cli_backend("classify", o.backend_name, o.threads);
    if (!be) return CLI_EXIT_USAGE;
    rc = kind == VIDI_MODEL_VIDEO ? classify_videos(&o, be) : classify_images(&o, be);
    vidi_backend_destroy(be);
    return rc;
}
