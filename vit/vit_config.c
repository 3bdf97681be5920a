/* Reads a ViT's configuration. What the tensors say (hidden size, patch
 * size, depth, MLP width, classes, position count) is read from their shapes;
 * what they cannot say (heads, GELU flavour, eps, preprocessing, labels)
 * comes from the config file of the checkpoint's own format, with that
 * format's defaults when absent. */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/io/json_file.h"
#include "nn/io/labels.h"
#include "vit/vit_internal.h"

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static vidi_status detect_format(vidi_vit *m) {
    const vidi_safetensors *st = m->weights;
    /* A ViViT shares HF-style names with ViT; say what it is instead of
     * failing later on a missing 2D patch kernel. */
    const char *fmt = vidi_safetensors_metadata(st, "format");
    if ((fmt && !strcmp(fmt, "vidi-vivit")) || vidi_safetensors_find(st, "vivit.embeddings.cls_token"))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: is a ViViT checkpoint, not a ViT; load it with vidi_vivit_load",
                              vidi_safetensors_label(st));
    if (vidi_safetensors_find(st, "vit.embeddings.cls_token") || vidi_safetensors_find(st, "embeddings.cls_token"))
        m->cfg.format = VIDI_VIT_HF;
    else if (vidi_safetensors_find(st, "cls_token") && vidi_safetensors_find(st, "pos_embed"))
        m->cfg.format = VIDI_VIT_TIMM;
    else if (vidi_safetensors_find(st, "class_token") && vidi_safetensors_find(st, "conv_proj.weight"))
        m->cfg.format = VIDI_VIT_TORCHVISION;
    else
        return vidi_set_error(VIDI_ERR_FORMAT,
                              "%s: not a ViT checkpoint (no Hugging Face, timm or torchvision ViT tensor names)",
                              vidi_safetensors_label(st));
    return VIDI_OK;
}

static const vidi_st_tensor *find_any(const vidi_safetensors *st, const char *a, const char *b) {
    const vidi_st_tensor *t = vidi_safetensors_find(st, a);
    return t ? t : (b ? vidi_safetensors_find(st, b) : NULL);
}

static vidi_status need(const vidi_safetensors *st, const vidi_st_tensor *t, const char *name, int ndim) {
    if (!t) return vidi_set_error(VIDI_ERR_SHAPE, "%s: missing tensor '%s'", vidi_safetensors_label(st), name);
    if (t->ndim != ndim)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: tensor '%s' has %d dims, expected %d",
                              vidi_safetensors_label(st), t->name, t->ndim, ndim);
    return VIDI_OK;
}

/* Sizes the tensors themselves fix. The binder re-checks every tensor. */
static vidi_status shapes_from_tensors(vidi_vit *m) {
    const vidi_safetensors *st = m->weights;
    vidi_vit_config *c = &m->cfg;
    const char *patch = NULL, *pos = NULL, *fc1 = NULL, *head = NULL, *layer_fmt = NULL;
    switch (c->format) {
    case VIDI_VIT_HF:
        patch = vidi_safetensors_find(st, "vit.embeddings.cls_token")
                    ? "vit.embeddings.patch_embeddings.projection.weight"
                    : "embeddings.patch_embeddings.projection.weight";
        pos = patch[0] == 'v' ? "vit.embeddings.position_embeddings" : "embeddings.position_embeddings";
        fc1 = patch[0] == 'v' ? "vit.encoder.layer.0.intermediate.dense.weight" : "encoder.layer.0.intermediate.dense.weight";
        layer_fmt = patch[0] == 'v' ? "vit.encoder.layer.%d.layernorm_before.weight" : "encoder.layer.%d.layernorm_before.weight";
        head = "classifier.weight";
        break;
    case VIDI_VIT_TIMM:
        patch = "patch_embed.proj.weight", pos = "pos_embed", fc1 = "blocks.0.mlp.fc1.weight";
        layer_fmt = "blocks.%d.norm1.weight", head = "head.weight";
        break;
    case VIDI_VIT_TORCHVISION:
        patch = "conv_proj.weight", pos = "encoder.pos_embedding";
        fc1 = "encoder.layers.encoder_layer_0.mlp.0.weight";
        layer_fmt = "encoder.layers.encoder_layer_%d.ln_1.weight", head = "heads.head.weight";
        break;
    }
    const vidi_st_tensor *tp = vidi_safetensors_find(st, patch), *tpos = vidi_safetensors_find(st, pos);
    const vidi_st_tensor *tfc1 = vidi_safetensors_find(st, fc1), *thead = find_any(st, head, NULL);
    vidi_status s;
    if ((s = need(st, tp, patch, 4)) || (s = need(st, tpos, pos, 3)) || (s = need(st, tfc1, fc1, 2)))
        return s;
    if (!thead)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: no classification head ('%s'): vidi classify needs one",
                              vidi_safetensors_label(st), head);
    if ((s = need(st, thead, head, 2))) return s;
    if (tp->shape[2] != tp->shape[3])
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: non-square patches %lldx%lld are not supported",
                              vidi_safetensors_label(st), (long long)tp->shape[2], (long long)tp->shape[3]);
    c->hidden = (int)tp->shape[0];
    c->channels = (int)tp->shape[1];
    c->patch_size = (int)tp->shape[2];
    c->mlp_dim = (int)tfc1->shape[0];
    c->num_labels = (int)thead->shape[0];
    int64_t patches = tpos->shape[1] - 1;
    int64_t side = (int64_t)llround(sqrt((double)(patches > 0 ? patches : 0)));
    if (patches <= 0 || side * side != patches)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: tensor '%s' holds %lld positions, not 1 + a square number",
                              vidi_safetensors_label(st), pos, (long long)tpos->shape[1]);
    c->image_size = (int)(side * c->patch_size);
    char name[160];
    c->layers = 0;
    for (;;) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(name, sizeof name, layer_fmt, c->layers);
#pragma GCC diagnostic pop
        if (!vidi_safetensors_find(st, name)) break;
        c->layers++;
    }
    if (c->layers == 0)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: no transformer blocks found", vidi_safetensors_label(st));
    if (c->format == VIDI_VIT_HF) {
        const char *q = tp->name[0] == 'v' ? "vit.encoder.layer.0.attention.attention.query.bias"
                                           : "encoder.layer.0.attention.attention.query.bias";
        c->qkv_bias = vidi_safetensors_find(st, q) != NULL;
    } else {
        c->qkv_bias = vidi_safetensors_find(st, c->format == VIDI_VIT_TIMM
                                                    ? "blocks.0.attn.qkv.bias"
                                                    : "encoder.layers.encoder_layer_0.self_attention.in_proj_bias") != NULL;
    }
    return VIDI_OK;
}

static vidi_status parse_act(const char *file, const char *name, vidi_act *out) {
    if (!strcmp(name, "gelu")) *out = VIDI_ACT_GELU_ERF;
    else if (!strcmp(name, "gelu_new") || !strcmp(name, "gelu_fast") || !strcmp(name, "gelu_pytorch_tanh"))
        *out = VIDI_ACT_GELU_TANH;
    else
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported (gelu, gelu_new, gelu_fast, gelu_pytorch_tanh)",
                              file, name);
    return VIDI_OK;
}

static vidi_status check_int(const char *file, const char *key, int got, int expected) {
    if (got != expected)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: %s is %d but the weights say %d", file, key, got, expected);
    return VIDI_OK;
}

/* HF config.json: sizes must agree with the weights; act, eps from here. */
static vidi_status read_hf_config(vidi_vit *m, const cJSON *cfg, const char *file) {
    vidi_vit_config *c = &m->cfg;
    int v;
    double eps;
    const char *act;
    vidi_status s;
    if ((s = vidi_json_get_int(cfg, "hidden_size", file, &v, c->hidden, 0)) || (s = check_int(file, "hidden_size", v, c->hidden)) ||
        (s = vidi_json_get_int(cfg, "patch_size", file, &v, c->patch_size, 0)) || (s = check_int(file, "patch_size", v, c->patch_size)) ||
        (s = vidi_json_get_int(cfg, "image_size", file, &v, c->image_size, 0)) || (s = check_int(file, "image_size", v, c->image_size)) ||
        (s = vidi_json_get_int(cfg, "num_hidden_layers", file, &v, c->layers, 0)) || (s = check_int(file, "num_hidden_layers", v, c->layers)) ||
        (s = vidi_json_get_int(cfg, "intermediate_size", file, &v, c->mlp_dim, 0)) || (s = check_int(file, "intermediate_size", v, c->mlp_dim)) ||
        (s = vidi_json_get_int(cfg, "num_channels", file, &v, c->channels, 0)) || (s = check_int(file, "num_channels", v, c->channels)) ||
        (s = vidi_json_get_int(cfg, "num_attention_heads", file, &c->heads, 0, 1)) ||
        (s = vidi_json_get_float(cfg, "layer_norm_eps", file, &eps, 1e-12, 0)) ||
        (s = vidi_json_get_string(cfg, "hidden_act", file, &act, "gelu", 0)) || (s = parse_act(file, act, &c->act)))
        return s;
    c->ln_eps = (float)eps;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "vit") != 0)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: model_type '%s' is not a ViT", file, type->valuestring);
    return VIDI_OK;
}

/* HF preprocessor_config.json (ViTImageProcessor and friends). */
static vidi_status read_hf_preprocessor(vidi_vit *m, const char *file) {
    vidi_preprocess *p = &m->cfg.pre;
    cJSON *root = NULL;
    vidi_status s = vidi_json_load_file(file, &root);
    if (s) return s;
    double rescale, mean[3], stdv[3];
    int resample, do_resize, do_norm, do_rescale, do_crop;
    if ((s = vidi_json_get_int(root, "resample", file, &resample, 2, 0)) ||
        (s = vidi_json_get_bool(root, "do_resize", file, &do_resize, 1, 0)) ||
        (s = vidi_json_get_bool(root, "do_rescale", file, &do_rescale, 1, 0)) ||
        (s = vidi_json_get_bool(root, "do_normalize", file, &do_norm, 1, 0)) ||
        (s = vidi_json_get_bool(root, "do_center_crop", file, &do_crop, 0, 0)) ||
        (s = vidi_json_get_float(root, "rescale_factor", file, &rescale, 1.0 / 255.0, 0)))
        goto done;
    if (resample < 0 || resample > 5) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: resample %d is not a PIL filter (0-5)", file, resample);
        goto done;
    }
    p->resample = (vidi_resample)resample;
    p->rescale = do_rescale ? (float)rescale : 1.0f;
    if (do_norm) {
        if (cJSON_GetObjectItemCaseSensitive(root, "image_mean")) {
            if ((s = vidi_json_get_float_array(root, "image_mean", file, mean, 3, NULL, 1)) ||
                (s = vidi_json_get_float_array(root, "image_std", file, stdv, 3, NULL, 1)))
                goto done;
            for (int i = 0; i < 3; i++) {
                if (!(stdv[i] > 0)) {
                    s = vidi_set_error(VIDI_ERR_FORMAT, "%s: image_std must be positive", file);
                    goto done;
                }
                p->mean[i] = (float)mean[i], p->std[i] = (float)stdv[i];
            }
        }
    } else {
        for (int i = 0; i < 3; i++) p->mean[i] = 0.0f, p->std[i] = 1.0f;
    }
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(root, "size");
    int s_short = 0;
    if (do_resize && cJSON_IsObject(size)) {
        if (cJSON_GetObjectItemCaseSensitive(size, "shortest_edge")) {
            if ((s = vidi_json_get_int(size, "shortest_edge", file, &s_short, 0, 1))) goto done;
            p->resize_shorter = s_short;
        } else if ((s = vidi_json_get_int(size, "height", file, &p->resize_h, 0, 1)) ||
                   (s = vidi_json_get_int(size, "width", file, &p->resize_w, 0, 1))) {
            goto done;
        }
    } else if (do_resize && cJSON_IsNumber(size)) {
        p->resize_w = p->resize_h = size->valueint;
    }
    const cJSON *crop = cJSON_GetObjectItemCaseSensitive(root, "crop_size");
    if (do_crop && cJSON_IsObject(crop)) {
        if ((s = vidi_json_get_int(crop, "height", file, &p->crop_h, 0, 1)) ||
            (s = vidi_json_get_int(crop, "width", file, &p->crop_w, 0, 1)))
            goto done;
    }
done:
    cJSON_Delete(root);
    return s;
}

/* timm hub config.json: {"architecture", "num_classes", "model_args",
 * "pretrained_cfg": {"input_size", "mean", "std", "interpolation", "crop_pct"},
 * "label_names"}. */
static vidi_status read_timm_config(vidi_vit *m, const cJSON *cfg, const char *file) {
    vidi_vit_config *c = &m->cfg;
    vidi_status s;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(cfg, "model_args");
    if (cJSON_IsObject(args) && cJSON_GetObjectItemCaseSensitive(args, "num_heads"))
        if ((s = vidi_json_get_int(args, "num_heads", file, &c->heads, 0, 1))) return s;
    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(cfg, "architecture");
    if (c->heads == 0 && cJSON_IsString(arch)) {
        /* timm's standard sizes: the name fixes the head count. */
        static const struct { const char *tag; int heads; } sizes[] = {
            {"vit_tiny_", 3}, {"vit_small_", 6}, {"vit_base_", 12}, {"vit_large_", 16}, {"vit_huge_", 16}};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            if (!strncmp(arch->valuestring, sizes[i].tag, strlen(sizes[i].tag))) c->heads = sizes[i].heads;
    }
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(cfg, "pretrained_cfg");
    if (cJSON_IsObject(pre)) {
        double mean[3], stdv[3], crop_pct;
        if (cJSON_GetObjectItemCaseSensitive(pre, "mean")) {
            if ((s = vidi_json_get_float_array(pre, "mean", file, mean, 3, NULL, 1)) ||
                (s = vidi_json_get_float_array(pre, "std", file, stdv, 3, NULL, 1)))
                return s;
            for (int i = 0; i < 3; i++) c->pre.mean[i] = (float)mean[i], c->pre.std[i] = (float)stdv[i];
        }
        const char *interp;
        if ((s = vidi_json_get_string(pre, "interpolation", file, &interp, "bicubic", 0))) return s;
        c->pre.resample = !strcmp(interp, "bilinear") ? VIDI_RESAMPLE_BILINEAR
                          : !strcmp(interp, "nearest") ? VIDI_RESAMPLE_NEAREST
                                                       : VIDI_RESAMPLE_BICUBIC;
        if ((s = vidi_json_get_float(pre, "crop_pct", file, &crop_pct, 0.9, 0))) return s;
        if (!(crop_pct > 0.0 && crop_pct <= 4.0))
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: crop_pct %g out of range", file, crop_pct);
        /* timm's eval transform: Resize(floor(size / crop_pct)) on the shorter
         * side, then CenterCrop(size). */
        c->pre.resize_shorter = (int)floor(c->image_size / crop_pct);
        c->pre.crop_w = c->pre.crop_h = c->image_size;
    }
    return VIDI_OK;
}

static vidi_status read_torchvision_config(vidi_vit *m, const cJSON *cfg, const char *file) {
    if (cJSON_GetObjectItemCaseSensitive(cfg, "num_heads"))
        return vidi_json_get_int(cfg, "num_heads", file, &m->cfg.heads, 0, 1);
    return VIDI_OK;
}

static void set_format_defaults(vidi_vit_config *c) {
    vidi_preprocess *p = &c->pre;
    p->rescale = 1.0f / 255.0f;
    if (c->format == VIDI_VIT_HF) {
        c->ln_eps = 1e-12f, c->act = VIDI_ACT_GELU_ERF;
        p->resample = VIDI_RESAMPLE_BILINEAR;
        for (int i = 0; i < 3; i++) p->mean[i] = 0.5f, p->std[i] = 0.5f;
        p->resize_w = p->resize_h = c->image_size;
    } else {
        c->ln_eps = 1e-6f, c->act = VIDI_ACT_GELU_ERF;
        for (int i = 0; i < 3; i++) p->mean[i] = imagenet_mean[i], p->std[i] = imagenet_std[i];
        /* torchvision's ViT weights: resize 256, crop 224, bilinear (timm: bicubic, 0.9). */
        p->resample = c->format == VIDI_VIT_TIMM ? VIDI_RESAMPLE_BICUBIC : VIDI_RESAMPLE_BILINEAR;
        p->resize_shorter = c->format == VIDI_VIT_TIMM ? (int)floor(c->image_size / 0.9)
                                                        : c->image_size * 256 / 224;
        p->crop_w = p->crop_h = c->image_size;
    }
}

/* timm hub configs list labels as "label_names": ["a", "b", ...]. */
static vidi_status labels_from_array(const cJSON *arr, const char *file, vidi_labels *out) {
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n == 0)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: key 'label_names' must be a non-empty array of strings", file);
    out->names = calloc((size_t)n, sizeof(char *));
    if (!out->names) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory for labels");
    out->count = n;
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        if (!cJSON_IsString(item)) {
            vidi_labels_free(out);
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: label_names[%d] must be a string", file, i);
        }
        if (!(out->names[i++] = strdup(item->valuestring))) {
            vidi_labels_free(out);
            return vidi_set_error(VIDI_ERR_NOMEM, "out of memory for labels");
        }
    }
    return VIDI_OK;
}

static vidi_status read_labels(vidi_vit *m, const cJSON *cfg, const char *file) {
    int n = m->cfg.num_labels;
    m->labels = calloc((size_t)n, sizeof(char *));
    if (!m->labels) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory for %d labels", n);
    vidi_labels labels = {0};
    vidi_status s = VIDI_OK;
    if (cfg && cJSON_GetObjectItemCaseSensitive(cfg, "id2label"))
        s = vidi_labels_from_id2label(cfg, file, &labels);
    else if (cfg && cJSON_GetObjectItemCaseSensitive(cfg, "label_names"))
        s = labels_from_array(cJSON_GetObjectItemCaseSensitive(cfg, "label_names"), file, &labels);
    if (s) return s;
    if (labels.count && labels.count != n) {
        s = vidi_set_error(VIDI_ERR_SHAPE, "%s: %d labels but the classifier has %d outputs", file, labels.count, n);
        vidi_labels_free(&labels);
        return s;
    }
    for (int i = 0; i < n; i++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "LABEL_%d", i);
        m->labels[i] = strdup(labels.count ? labels.names[i] : fallback);
        if (!m->labels[i]) s = vidi_set_error(VIDI_ERR_NOMEM, "out of memory for labels");
    }
    vidi_labels_free(&labels);
    return s;
}

vidi_status vit_read_config(vidi_vit *m, const char *dir, const char *weights_path, int heads_override) {
    vidi_status s;
    if ((s = detect_format(m)) || (s = shapes_from_tensors(m))) return s;
    vidi_vit_config *c = &m->cfg;
    set_format_defaults(c);

    /* The config: __metadata__["config"] (vidi single file), else config.json
     * in the directory, else a config.json beside a bare .safetensors file. */
    char cfg_path[4096] = "";
    cJSON *cfg = NULL;
    const char *embedded = vidi_safetensors_metadata(m->weights, "config");
    if (embedded) {
        snprintf(cfg_path, sizeof cfg_path, "%s: __metadata__.config", weights_path);
        cfg = cJSON_Parse(embedded);
        if (!cfg || !cJSON_IsObject(cfg)) {
            cJSON_Delete(cfg);
            return vidi_set_error(VIDI_ERR_FORMAT, "%s is not a JSON object", cfg_path);
        }
    } else {
        char *copy = strdup(weights_path);
        if (!copy) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        snprintf(cfg_path, sizeof cfg_path, "%s/config.json", dir ? dir : dirname(copy));
        free(copy);
        if (file_exists(cfg_path)) {
            if ((s = vidi_json_load_file(cfg_path, &cfg))) return s;
        } else if (dir && c->format == VIDI_VIT_HF) {
            return vidi_set_error(VIDI_ERR_IO, "%s: missing (a Hugging Face ViT directory needs it)", cfg_path);
        }
    }
    if (cfg) {
        if (c->format == VIDI_VIT_HF) s = read_hf_config(m, cfg, cfg_path);
        else if (c->format == VIDI_VIT_TIMM) s = read_timm_config(m, cfg, cfg_path);
        else s = read_torchvision_config(m, cfg, cfg_path);
    }
    if (!s) s = read_labels(m, cfg, cfg_path);
    cJSON_Delete(cfg);
    if (s) return s;

    if (heads_override > 0) c->heads = heads_override;
    if (c->heads <= 0) {
        /* Every standard ViT uses 64-wide heads except ViT-H (80). */
        c->heads = c->hidden == 1280 ? 16 : c->hidden % 64 == 0 ? c->hidden / 64 : 0;
        if (c->heads == 0)
            return vidi_set_error(VIDI_ERR_ARG, "%s: cannot infer the number of attention heads for hidden size %d; pass --heads",
                                  weights_path, c->hidden);
    }
    if (c->hidden % c->heads != 0)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: hidden size %d is not divisible by %d heads", weights_path, c->hidden,
                              c->heads);

    if (c->format == VIDI_VIT_HF && dir) {
        char pre_path[4096];
        snprintf(pre_path, sizeof pre_path, "%s/preprocessor_config.json", dir);
        if (file_exists(pre_path) && (s = read_hf_preprocessor(m, pre_path))) return s;
    }
    return VIDI_OK;
}
