/* vidi classify — top-k labels for images, as text or one JSON object per input. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/cli.h"
#include "pipeline/classify.h"
#include "vidi/vit.h"

static const char help[] =
    "usage: vidi classify --model PATH [options] IMAGE...\n"
    "\n"
    "Classify images (PNG, JPEG, BMP, WebP, ...) with a ViT checkpoint.\n"
    "\n"
    "  -m, --model PATH     Hugging Face ViT directory (config.json, model.safetensors,\n"
    "                       preprocessor_config.json), or a timm / torchvision ViT\n"
    "                       .safetensors file (with an optional config.json beside it)\n"
    "  -k, --top-k K        labels to print per image (default 5)\n"
    "      --json           one JSON object per input on stdout:\n"
    "                       {\"input\", \"top\": [{\"index\", \"label\", \"score\"}], \"logits\"}\n"
    "      --backend NAME   cpu (default), ref or auto\n"
    "  -t, --threads N      worker threads (default: all cores)\n"
    "      --heads N        attention heads, for checkpoints whose config lacks them\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 when every image was classified, 1 when any failed (each failure\n"
    "is reported on stderr and the other images are still classified), 2 on bad usage.\n"
    "\n"
    "example: vidi classify --model samples/models/vit-shapes samples/images/*.png\n";

static void print_text(const char *input, const vidi_vit *m, const vidi_topk *top, int k) {
    printf("%s\n", input);
    for (int i = 0; i < k; i++)
        printf("  %d. %-28s %.4f\n", i + 1, vidi_vit_label(m, top[i].index), top[i].score);
}

static int print_json(const char *input, const vidi_vit *m, const vidi_topk *top, int k, const float *logits,
                      int n) {
    cJSON *obj = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *lg = cJSON_CreateArray();
    if (!obj || !arr || !lg) {
        cJSON_Delete(obj), cJSON_Delete(arr), cJSON_Delete(lg);
        return -1;
    }
    cJSON_AddStringToObject(obj, "input", input);
    for (int i = 0; i < k; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "index", top[i].index);
        cJSON_AddStringToObject(e, "label", vidi_vit_label(m, top[i].index));
        cJSON_AddNumberToObject(e, "score", top[i].score);
        cJSON_AddItemToArray(arr, e);
    }
    cJSON_AddItemToObject(obj, "top", arr);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(lg, cJSON_CreateNumber(logits[i]));
    cJSON_AddItemToObject(obj, "logits", lg);
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    if (!text) return -1;
    puts(text);
    cJSON_free(text);
    return 0;
}

int cmd_classify(int argc, char **argv) {
    const char *model_path = NULL, *backend_name = "cpu";
    int top_k = 5, json = 0, threads = 0, heads = 0;
    enum { OPT_JSON = 256, OPT_BACKEND, OPT_HEADS };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},  {"top-k", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, OPT_JSON},     {"backend", required_argument, NULL, OPT_BACKEND},
        {"threads", required_argument, NULL, 't'}, {"heads", required_argument, NULL, OPT_HEADS},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:k:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'k': if (cli_parse_int("classify", "--top-k", optarg, 1, 1000000, &top_k)) return CLI_EXIT_USAGE; break;
        case 't': if (cli_parse_int("classify", "--threads", optarg, 0, 1024, &threads)) return CLI_EXIT_USAGE; break;
        case OPT_HEADS: if (cli_parse_int("classify", "--heads", optarg, 1, 4096, &heads)) return CLI_EXIT_USAGE; break;
        case OPT_JSON: json = 1; break;
        case OPT_BACKEND: backend_name = optarg; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("classify", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("classify", "unknown option '%s' (see 'vidi classify --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (!model_path) {
        cli_error("classify", "--model is required (see 'vidi classify --help')");
        return CLI_EXIT_USAGE;
    }
    if (optind >= argc) {
        cli_error("classify", "no input images (see 'vidi classify --help')");
        return CLI_EXIT_USAGE;
    }
    vidi_backend *be = cli_backend("classify", backend_name, threads);
    if (!be) return CLI_EXIT_USAGE;
    vidi_vit *model = NULL;
    if (vidi_vit_load(model_path, be, heads, &model) != VIDI_OK) {
        cli_library_error("classify");
        vidi_backend_destroy(be);
        return CLI_EXIT_FAIL;
    }
    const vidi_vit_config *cfg = vidi_vit_get_config(model);
    int n = cfg->num_labels, k = top_k < n ? top_k : n;
    float *logits = malloc(sizeof(float) * (size_t)n);
    vidi_topk *top = malloc(sizeof(vidi_topk) * (size_t)n);
    int failures = 0;
    if (!logits || !top) {
        cli_error("classify", "out of memory");
        failures = 1;
        optind = argc;
    }
    for (int i = optind; i < argc; i++) {
        if (vidi_classify_image(model, argv[i], logits) != VIDI_OK) {
            cli_library_error("classify");
            failures++;
            continue;
        }
        vidi_softmax_topk(logits, n, top, k);
        if (json) {
            if (print_json(argv[i], model, top, k, logits, n) != 0) {
                cli_error("classify", "out of memory formatting JSON");
                failures++;
            }
        } else {
            print_text(argv[i], model, top, k);
        }
        fflush(stdout);
    }
    free(top);
    free(logits);
    vidi_vit_free(model);
    vidi_backend_destroy(be);
    return failures ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
