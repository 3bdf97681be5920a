/* vidi sample — decode and sample videos with vidi's own decoder and clip
 * sampler and write the clip tensors to one safetensors file. Training data is
 * made this way so that training and inference preprocessing are the same code. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/io/json_file.h"
#include "pipeline/cli/cli.h"
#include "vidi/safetensors.h"
#include "vidi/sampler.h"

static const char help[] =
    "usage: vidi sample (--list FILE | --ssv2 DIR [--split NAME] | VIDEO...) -o OUT [options]\n"
    "\n"
    "Decode and sample videos with vidi's decoder and clip sampler (exactly what\n"
    "'vidi classify' feeds a video model) and write the clips to OUT, a safetensors\n"
    "file: tensor \"clip.<n>.<v>\" [T, 3, H, W] float32 for video n (input order)\n"
    "and view v, and in __metadata__ \"format\": \"vidi-clips\", \"inputs\", \"labels\",\n"
    "\"classes\" and \"sampler\" (each a JSON text).\n"
    "\n"
    "inputs (one of):\n"
    "      --list FILE       one video per line: PATH LABEL (LABEL a class index;\n"
    "                        the last field, so PATH may hold spaces)\n"
    "      --ssv2 DIR        an SSv2-layout dataset (vidi synth): DIR/labels.json,\n"
    "                        DIR/<split>.json, DIR/<id>.{webm,mp4,avi,mkv}\n"
    "      --split NAME      train (default) or validation\n"
    "      VIDEO...          video files (label -1)\n"
    "sampling:\n"
    "  -f, --frames N        frames per clip, spread uniformly over the video (default 16)\n"
    "  -s, --size S          shorter side to S, then an S x S centre crop (default 224)\n"
    "      --mean R,G,B      subtracted after rescaling to [0, 1] (default 0,0,0)\n"
    "      --std R,G,B       divided by afterwards (default 1,1,1)\n"
    "      --preprocessor P  resize, crop, rescale, mean and std from a Hugging Face\n"
    "                        preprocessor_config.json instead of --size/--mean/--std\n"
    "      --views TxS       T temporal clips x S spatial crops (S = 1 centre, 3 three\n"
    "                        crops); default 1x1\n"
    "  -t, --threads N       decoder threads (default: decoder's choice)\n"
    "      --hwaccel NAME    none (default) or cuda: decode on the GPU (NVDEC) when\n"
    "                        FFmpeg, the driver and the codec allow it, else in\n"
    "                        software (said once on stderr); the clips are the same\n"
    "                        either way\n"
    "output:\n"
    "  -o, --output OUT      the safetensors file (written atomically)\n"
    "      --json            print a summary object on stdout\n"
    "  -h, --help            show this help\n"
    "\n"
    "A video that cannot be sampled is reported on stderr; the others are still\n"
    "sampled but OUT is not written and the exit status is 1.\n"
    "\n"
    "example: vidi sample --ssv2 samples/clips/ssv2-vp9 --split train --frames 16 --size 64 -o /tmp/clips.safetensors\n";

typedef struct item {
    char *path;
    int label;
} item;

typedef struct item_list {
    item *v;
    int n, cap;
    cJSON *classes; /* JSON array of class names by index, or NULL */
} item_list;

static int list_add(item_list *l, const char *path, int label) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        item *v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return -1;
        l->v = v, l->cap = cap;
    }
    if (!(l->v[l->n].path = strdup(path))) return -1;
    l->v[l->n++].label = label;
    return 0;
}

static void list_free(item_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i].path);
    free(l->v);
    cJSON_Delete(l->classes);
}

/* "PATH LABEL" lines; blank lines and lines starting with '#' are skipped. */
static int read_list(const char *file, item_list *l) {
    FILE *f = fopen(file, "r");
    if (!f) {
        cli_error("sample", "%s: cannot open list file", file);
        return -1;
    }
    char line[8192];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strcspn(line, "\r\n");
        line[len] = '\0';
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\t')) line[--len] = '\0';
        if (!len || line[0] == '#') continue;
        char *sp = strrchr(line, ' '), *tab = strrchr(line, '\t');
        if (tab > sp) sp = tab;
        char *end = NULL;
        long label = sp ? strtol(sp + 1, &end, 10) : -1;
        if (!sp || sp == line || !end || *end || label < 0 || label > 1000000) {
            cli_error("sample", "%s:%d: expected 'PATH LABEL' with LABEL a class index", file, lineno);
            rc = -1;
            break;
        }
        *sp = '\0';
        if (list_add(l, line, (int)label)) {
            cli_error("sample", "out of memory");
            rc = -1;
        }
    }
    fclose(f);
    if (!rc && l->n == 0) {
        cli_error("sample", "%s: no videos listed", file);
        rc = -1;
    }
    return rc;
}

/* SSv2: labels.json maps the bracket-less template to an index string; each
 * entry of <split>.json names its template and its video id. */
static int read_ssv2(const char *dir, const char *split, item_list *l) {
    char path[4096];
    cJSON *labels = NULL, *entries = NULL;
    int rc = -1;
    snprintf(path, sizeof path, "%s/labels.json", dir);
    if (vidi_json_load_file(path, &labels) != VIDI_OK) goto fail_lib;
    snprintf(path, sizeof path, "%s/%s.json", dir, split);
    if (vidi_json_load_file(path, &entries) != VIDI_OK) goto fail_lib;
    if (!cJSON_IsObject(labels) || !cJSON_IsArray(entries)) {
        cli_error("sample", "%s: expected labels.json to be an object and %s.json an array", dir, split);
        goto done;
    }
    int n_classes = cJSON_GetArraySize(labels);
    l->classes = cJSON_CreateArray();
    for (int i = 0; l->classes && i < n_classes; i++) cJSON_AddItemToArray(l->classes, cJSON_CreateString(""));
    const cJSON *e;
    cJSON_ArrayForEach(e, labels) {
        char *end = NULL;
        long idx = cJSON_IsString(e) ? strtol(e->valuestring, &end, 10) : -1;
        if (idx < 0 || idx >= n_classes || !end || *end) {
            cli_error("sample", "%s/labels.json: '%s' is not a class index in [0, %d)", dir, e->string, n_classes);
            goto done;
        }
        if (l->classes) cJSON_ReplaceItemInArray(l->classes, (int)idx, cJSON_CreateString(e->string));
    }
    int k = 0;
    cJSON_ArrayForEach(e, entries) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "id");
        const cJSON *tmpl = cJSON_GetObjectItemCaseSensitive(e, "template");
        if (!cJSON_IsString(id) || !cJSON_IsString(tmpl) || strlen(tmpl->valuestring) >= 1024) {
            cli_error("sample", "%s/%s.json: entry %d lacks string 'id' and 'template'", dir, split, k);
            goto done;
        }
        char key[1024];
        size_t j = 0;
        for (const char *p = tmpl->valuestring; *p; p++)
            if (*p != '[' && *p != ']') key[j++] = *p;
        key[j] = '\0';
        const cJSON *lab = cJSON_GetObjectItemCaseSensitive(labels, key);
        if (!lab) {
            cli_error("sample", "%s/%s.json: entry %d: template '%s' is not in labels.json", dir, split, k, key);
            goto done;
        }
        static const char *const exts[] = {"webm", "mp4", "avi", "mkv"};
        int found = 0;
        for (int x = 0; x < 4 && !found; x++) {
            snprintf(path, sizeof path, "%s/%s.%s", dir, id->valuestring, exts[x]);
            found = access(path, R_OK) == 0;
        }
        if (!found) {
            cli_error("sample", "%s/%s.{webm,mp4,avi,mkv}: no video for id '%s'", dir, id->valuestring, id->valuestring);
            goto done;
        }
        if (list_add(l, path, atoi(lab->valuestring))) {
            cli_error("sample", "out of memory");
            goto done;
        }
        k++;
    }
    if (l->n == 0) {
        cli_error("sample", "%s/%s.json: no videos in this split", dir, split);
        goto done;
    }
    rc = 0;
    goto done;
fail_lib:
    cli_library_error("sample");
done:
    cJSON_Delete(labels);
    cJSON_Delete(entries);
    return rc;
}

static int parse_floats3(const char *text, float out[3]) {
    char tail;
    return sscanf(text, "%f,%f,%f%c", &out[0], &out[1], &out[2], &tail) == 3 ? 0 : -1;
}

/* Metadata values are strings: JSON texts of the arrays and the settings. */
static char *json_text_and_free(cJSON *o) {
    char *t = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return t;
}

static char *sampler_json(const vidi_sampler_params *p, int views_t, int views_s) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddNumberToObject(o, "frames", p->num_frames);
    cJSON_AddNumberToObject(o, "resize_shorter", p->resize_shorter);
    cJSON_AddNumberToObject(o, "resize_w", p->resize_w);
    cJSON_AddNumberToObject(o, "resize_h", p->resize_h);
    cJSON_AddNumberToObject(o, "crop_w", p->crop_w);
    cJSON_AddNumberToObject(o, "crop_h", p->crop_h);
    cJSON_AddNumberToObject(o, "resample", p->resample);
    cJSON_AddNumberToObject(o, "rescale", p->rescale);
    cJSON_AddItemToObject(o, "mean", cJSON_CreateFloatArray(p->mean, 3));
    cJSON_AddItemToObject(o, "std", cJSON_CreateFloatArray(p->std, 3));
    cJSON_AddNumberToObject(o, "temporal_views", views_t);
    cJSON_AddNumberToObject(o, "spatial_views", views_s);
    return json_text_and_free(o);
}

int cmd_sample(int argc, char **argv) {
    const char *list_file = NULL, *ssv2 = NULL, *split = "train", *out = NULL, *preproc = NULL, *views = NULL;
    int frames = 16, size = 224, json = 0, have_mean = 0, have_std = 0, vt = 1, vs = 1;
    float mean[3] = {0, 0, 0}, stdv[3] = {1, 1, 1};
    vidi_decoder_params dp = vidi_decoder_default_params();
    enum { OPT_LIST = 256, OPT_SSV2, OPT_SPLIT, OPT_MEAN, OPT_STD, OPT_PRE, OPT_VIEWS, OPT_JSON, OPT_HWACCEL };
    static const struct option opts[] = {
        {"list", required_argument, NULL, OPT_LIST},   {"ssv2", required_argument, NULL, OPT_SSV2},
        {"split", required_argument, NULL, OPT_SPLIT}, {"frames", required_argument, NULL, 'f'},
        {"size", required_argument, NULL, 's'},        {"mean", required_argument, NULL, OPT_MEAN},
        {"std", required_argument, NULL, OPT_STD},     {"preprocessor", required_argument, NULL, OPT_PRE},
        {"views", required_argument, NULL, OPT_VIEWS}, {"threads", required_argument, NULL, 't'},
        {"output", required_argument, NULL, 'o'},      {"json", no_argument, NULL, OPT_JSON},
        {"hwaccel", required_argument, NULL, OPT_HWACCEL},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:s:t:o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LIST: list_file = optarg; break;
        case OPT_SSV2: ssv2 = optarg; break;
        case OPT_SPLIT: split = optarg; break;
        case 'f': if (cli_parse_int("sample", "--frames", optarg, 1, 4096, &frames)) return CLI_EXIT_USAGE; break;
        case 's': if (cli_parse_int("sample", "--size", optarg, 1, 4096, &size)) return CLI_EXIT_USAGE; break;
        case 't': if (cli_parse_int("sample", "--threads", optarg, 0, 256, &dp.threads)) return CLI_EXIT_USAGE; break;
        case OPT_MEAN:
        case OPT_STD:
            if (parse_floats3(optarg, c == OPT_MEAN ? mean : stdv)) {
                cli_error("sample", "%s: '%s' is not three comma-separated numbers (R,G,B)",
                          c == OPT_MEAN ? "--mean" : "--std", optarg);
                return CLI_EXIT_USAGE;
            }
            *(c == OPT_MEAN ? &have_mean : &have_std) = 1;
            break;
        case OPT_PRE: preproc = optarg; break;
        case OPT_VIEWS:
            if (cli_parse_views("sample", optarg, &vt, &vs)) return CLI_EXIT_USAGE;
            views = optarg;
            break;
        case OPT_HWACCEL: {
            int rc = cli_hwaccel_option("sample", optarg, &dp);
            if (rc) return rc;
            break;
        }
        case 'o': out = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("sample", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("sample", "unknown option '%s' (see 'vidi sample --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    (void)views;
    int sources = !!list_file + !!ssv2 + (optind < argc);
    if (sources != 1) {
        cli_error("sample", "%s (see 'vidi sample --help')",
                  sources ? "give only one of --list, --ssv2 and video files" : "no input videos: give --list, --ssv2 or video files");
        return CLI_EXIT_USAGE;
    }
    if (!out || !*out) {
        cli_error("sample", "-o OUT is required (see 'vidi sample --help')");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(split, "train") && strcmp(split, "validation")) {
        cli_error("sample", "--split: '%s' is not train or validation", split);
        return CLI_EXIT_USAGE;
    }
    if (preproc && (have_mean || have_std)) {
        cli_error("sample", "--preprocessor already sets mean and std; drop --mean/--std");
        return CLI_EXIT_USAGE;
    }
    for (int i = 0; i < 3; i++)
        if (!(stdv[i] > 0)) {
            cli_error("sample", "--std: every value must be positive");
            return CLI_EXIT_USAGE;
        }

    vidi_sampler_params sp = vidi_sampler_default_params();
    sp.mode = VIDI_SAMPLE_UNIFORM;
    sp.num_frames = frames;
    sp.num_clips = vt;
    sp.resize_shorter = size;
    sp.crop_w = sp.crop_h = size;
    sp.crop = VIDI_CROP_CENTER;
    memcpy(sp.mean, mean, sizeof mean);
    memcpy(sp.std, stdv, sizeof stdv);
    if (preproc && vidi_sampler_params_from_preprocessor(preproc, &sp) != VIDI_OK) {
        cli_library_error("sample");
        return CLI_EXIT_FAIL;
    }
    if (vs == 3) {
        if (sp.crop == VIDI_CROP_NONE) {
            cli_error("sample", "--views %dx3: three crops need a crop size (the preprocessor has none)", vt);
            return CLI_EXIT_USAGE;
        }
        sp.crop = VIDI_CROP_THREE;
    }

    item_list items = {0};
    int rc = CLI_EXIT_FAIL;
    if (list_file) {
        if (read_list(list_file, &items)) goto done_items;
    } else if (ssv2) {
        if (read_ssv2(ssv2, split, &items)) goto done_items;
    } else {
        for (int i = optind; i < argc; i++)
            if (list_add(&items, argv[i], -1)) {
                cli_error("sample", "out of memory");
                goto done_items;
            }
    }

    int n_views = vt * vs, n = items.n;
    vidi_clip_views *clips = calloc((size_t)n, sizeof *clips);
    if (!clips) {
        cli_error("sample", "out of memory");
        goto done_items;
    }
    cli_progress prog;
    cli_progress_start(&prog, "sample", "videos", n);
    int failures = 0;
    vidi_decoder_params dec_params = vidi_sampler_decoder_params(&sp, &dp);
    for (int i = 0; i < n; i++) {
        vidi_decoder *dec = NULL;
        vidi_status st = vidi_decoder_open(items.v[i].path, &dec_params, &dec);
        if (st == VIDI_OK) cli_hwaccel_note("sample", &dec_params, vidi_decoder_info(dec), &prog);
        if (st != VIDI_OK || vidi_sampler_run(dec, &sp, &clips[i]) != VIDI_OK) {
            cli_progress_break(&prog);
            cli_library_error("sample");
            failures++;
        }
        vidi_decoder_close(dec);
        cli_progress_update(&prog, i + 1);
    }
    double secs = cli_progress_elapsed(&prog);
    if (failures) {
        cli_error("sample", "%d of %d videos failed; %s not written", failures, n, out);
        goto done_clips;
    }

    vidi_st_write_entry *entries = calloc((size_t)n * n_views, sizeof *entries);
    char *names = malloc((size_t)n * n_views * 32);
    cJSON *inputs = cJSON_CreateArray(), *labels = cJSON_CreateArray();
    for (int i = 0; inputs && labels && i < n; i++) {
        cJSON_AddItemToArray(inputs, cJSON_CreateString(items.v[i].path));
        cJSON_AddItemToArray(labels, cJSON_CreateNumber(items.v[i].label));
    }
    char *inputs_text = json_text_and_free(inputs), *labels_text = json_text_and_free(labels);
    char *classes_text = items.classes ? cJSON_PrintUnformatted(items.classes) : strdup("[]");
    char *sampler_text = sampler_json(&sp, vt, vs);
    if (!entries || !names || !inputs_text || !labels_text || !classes_text || !sampler_text) {
        cli_error("sample", "out of memory");
    } else {
        const vidi_clip_views *v0 = &clips[0];
        for (int i = 0; i < n; i++)
            for (int v = 0; v < n_views; v++) {
                const vidi_clip_views *cv = &clips[i];
                vidi_st_write_entry *e = &entries[(size_t)i * n_views + v];
                char *name = names + ((size_t)i * n_views + v) * 32;
                snprintf(name, 32, "clip.%d.%d", i, v);
                e->name = name;
                e->ndim = 4;
                e->shape[0] = cv->frames, e->shape[1] = cv->channels;
                e->shape[2] = cv->height, e->shape[3] = cv->width;
                e->data = cv->data + (size_t)v * cv->frames * cv->channels * cv->height * cv->width;
            }
        const char *meta[] = {"format", "vidi-clips", "inputs", inputs_text, "labels", labels_text,
                              "classes", classes_text, "sampler", sampler_text, NULL};
        if (vidi_safetensors_write_f32(out, entries, n * n_views, meta) != VIDI_OK) {
            cli_library_error("sample");
        } else {
            rc = CLI_EXIT_OK;
            if (json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "output", out);
                cJSON_AddNumberToObject(o, "videos", n);
                cJSON_AddNumberToObject(o, "views", n_views);
                cJSON_AddNumberToObject(o, "tensors", n * n_views);
                cJSON_AddNumberToObject(o, "frames", v0->frames);
                cJSON_AddNumberToObject(o, "height", v0->height);
                cJSON_AddNumberToObject(o, "width", v0->width);
                cJSON_AddNumberToObject(o, "seconds", secs);
                char *t = json_text_and_free(o);
                if (t) puts(t);
                cJSON_free(t);
            } else {
                printf("%s: %d videos x %d views, clips [%d, 3, %d, %d], %.1f s\n", out, n, n_views, v0->frames,
                       v0->height, v0->width, secs);
            }
        }
    }
    cJSON_free(inputs_text);
    cJSON_free(labels_text);
    cJSON_free(classes_text);
    cJSON_free(sampler_text);
    free(names);
    free(entries);
done_clips:
    for (int i = 0; i < n; i++) vidi_clip_views_free(&clips[i]);
    free(clips);
done_items:
    list_free(&items);
    return rc;
}
