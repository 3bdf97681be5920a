/* Reads a ViViT's configuration: Hugging Face config.json (model 1) or the
 * vidi single-file __metadata__ {"format": "vidi-vivit", "config": JSON}.
 * Unlike ViT, the config is authoritative (frames, tubelet, variant cannot
 * all be read off the tensors), so every size is then checked against the
 * weights and a disagreement is reported with both numbers. */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/io/json_file.h"
#include "nn/io/labels.h"
#include "vivit/vivit_internal.h"

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A ViT handed to the ViViT loader: say so instead of "missing tensor". */
static vidi_status reject_vit(const vidi_safetensors *st) {
    static const char *const vit_names[] = {"vit.embeddings.cls_token", "pos_embed", "conv_proj.weight",
                                            "embeddings.patch_embeddings.projection.weight"};
    for (size_t i = 0; i < sizeof vit_names / sizeof vit_names[0]; i++) {
        const vidi_st_tensor *t = vidi_safetensors_find(st, vit_names[i]);
        if (t && t->ndim == 4)
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: is a ViT checkpoint (tensor '%s' is a 2D patch kernel), not a ViViT; "
                                  "load it with vidi_vit_load or inflate it (vidi_vivit_inflate_patch)",
                                  vidi_safetensors_label(st), t->name);
        if (t && i < 2)
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: is a ViT checkpoint (tensor '%s'), not a ViViT",
                                  vidi_safetensors_label(st), t->name);
    }
    return VIDI_OK;
}

static vidi_status parse_act(const char *file, const char *name, vidi_act *out) {
    if (!strcmp(name, "gelu")) *out = VIDI_ACT_GELU_ERF;
    else if (!strcmp(name, "gelu_new") || !strcmp(name, "gelu_fast") || !strcmp(name, "gelu_pytorch_tanh"))
        *out = VIDI_ACT_GELU_TANH;
    else
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "%s: hidden_act '%s' is not supported (gelu, gelu_new, gelu_fast, gelu_pytorch_tanh)", file,
                              name);
    return VIDI_OK;
}

static vidi_status read_tubelet(const cJSON *cfg, const char *file, int required, vidi_vivit_config *c) {
    double t[3], def[3] = {2, 16, 16};
    vidi_status s = vidi_json_get_float_array(cfg, "tubelet_size", file, t, 3, def, required);
    if (s) return s;
    for (int i = 0; i < 3; i++)
        if (t[i] != floor(t[i]) || t[i] < 1 || t[i] > 4096)
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: tubelet_size must be three positive integers", file);
    c->tubelet_t = (int)t[0], c->tubelet_h = (int)t[1], c->tubelet_w = (int)t[2];
    return VIDI_OK;
}

static vidi_status read_variant(const cJSON *cfg, const char *file, vidi_vivit_config *c) {
    static const struct { const char *name; vidi_vivit_variant v; } variants[] = {
        {"spatiotemporal", VIDI_VIVIT_SPATIOTEMPORAL},
        {"factorised_encoder", VIDI_VIVIT_FACTORISED_ENCODER},
        {"factorised_self_attention", VIDI_VIVIT_FACTORISED_SELF_ATTENTION},
        {"factorised_dot_product", VIDI_VIVIT_FACTORISED_DOT_PRODUCT}};
    const char *name, *order;
    vidi_status s;
    if ((s = vidi_json_get_string(cfg, "variant", file, &name, NULL, 1))) return s;
    c->variant = 0;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (!strcmp(name, variants[i].name)) c->variant = variants[i].v;
    if (!c->variant)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "%s: variant '%s' is not one of spatiotemporal, factorised_encoder, "
                              "factorised_self_attention, factorised_dot_product", file, name);
    if (c->variant == VIDI_VIVIT_FACTORISED_ENCODER &&
        (s = vidi_json_get_int(cfg, "num_temporal_layers", file, &c->temporal_layers, 0, 1)))
        return s;
    if ((s = vidi_json_get_string(cfg, "attention_order", file, &order, "spatial_first", 0))) return s;
    if (strcmp(order, "spatial_first") && strcmp(order, "temporal_first"))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: attention_order '%s' is not spatial_first or temporal_first", file,
                              order);
    c->temporal_first = !strcmp(order, "temporal_first");
    return VIDI_OK;
}

/* Sizes, act, eps, bias. HF: VivitConfig's defaults; vidi: sizes required. */
static vidi_status read_common(const cJSON *cfg, const char *file, int hf, vidi_vivit_config *c) {
    int req = !hf, bias;
    double eps;
    const char *act, *type;
    vidi_status s;
    if ((s = vidi_json_get_string(cfg, "model_type", file, &type, "vivit", 0))) return s;
    if (strcmp(type, "vivit"))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: model_type '%s' is not a ViViT%s", file, type,
                              !strcmp(type, "vit") ? " (it is a ViT checkpoint: load it with vidi_vit_load)" : "");
    if ((s = vidi_json_get_int(cfg, "num_frames", file, &c->num_frames, 32, req)) ||
        (s = vidi_json_get_int(cfg, "image_size", file, &c->image_size, 224, req)) ||
        (s = vidi_json_get_int(cfg, "num_channels", file, &c->channels, 3, 0)) || (s = read_tubelet(cfg, file, req, c)) ||
        (s = vidi_json_get_int(cfg, "hidden_size", file, &c->hidden, 768, req)) ||
        (s = vidi_json_get_int(cfg, "num_attention_heads", file, &c->heads, 12, req)) ||
        (s = vidi_json_get_int(cfg, "intermediate_size", file, &c->mlp_dim, 3072, req)) ||
        (s = vidi_json_get_int(cfg, "num_hidden_layers", file, &c->layers, 12, req)) ||
        (s = vidi_json_get_string(cfg, "hidden_act", file, &act, hf ? "gelu_fast" : "gelu", 0)) ||
        (s = parse_act(file, act, &c->act)) || (s = vidi_json_get_float(cfg, "layer_norm_eps", file, &eps, 1e-6, 0)) ||
        (s = vidi_json_get_bool(cfg, "qkv_bias", file, &bias, 1, 0)))
        return s;
    c->ln_eps = (float)eps, c->qkv_bias = bias;
    if (hf) c->variant = VIDI_VIVIT_SPATIOTEMPORAL;
    else if ((s = read_variant(cfg, file, c))) return s;
    struct { const char *key; int v; } pos[] = {{"num_frames", c->num_frames}, {"image_size", c->image_size},
                                                {"num_channels", c->channels}, {"hidden_size", c->hidden},
                                                {"num_attention_heads", c->heads}, {"intermediate_size", c->mlp_dim},
                                                {"num_hidden_layers", c->layers}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0 || pos[i].v > 1 << 20)
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: %s %d is out of range", file, pos[i].key, pos[i].v);
    if (c->variant == VIDI_VIVIT_FACTORISED_ENCODER && (c->temporal_layers <= 0 || c->temporal_layers > 1 << 20))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: num_temporal_layers %d is out of range", file, c->temporal_layers);
    if (!(eps >= 0 && eps < 1)) return vidi_set_error(VIDI_ERR_FORMAT, "%s: layer_norm_eps %g is out of range", file, eps);
    if (c->num_frames % c->tubelet_t)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: num_frames %d is not a multiple of the tubelet's %d frames", file,
                              c->num_frames, c->tubelet_t);
    if (c->image_size % c->tubelet_h || c->image_size % c->tubelet_w)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: image_size %d is not a multiple of the tubelet's %dx%d", file,
                              c->image_size, c->tubelet_h, c->tubelet_w);
    if (c->hidden % c->heads)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: hidden_size %d is not divisible by %d heads", file, c->hidden,
                              c->heads);
    if (c->variant == VIDI_VIVIT_FACTORISED_DOT_PRODUCT && c->heads < 2)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: factorised_dot_product needs at least 2 heads (half over space, half over time)",
                              file);
    return VIDI_OK;
}

/* The vidi "preprocessor" object: out = (rgb * rescale_factor - mean) / std
 * after a shortest-edge resize and a square centre crop. */
static vidi_status read_vidi_preprocessor(const cJSON *cfg, const char *file, const vidi_vivit_config *c,
                                          vidi_sampler_params *p) {
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(cfg, "preprocessor");
    /* Absent: every key takes its default. */
    static const cJSON empty = {.type = cJSON_Object};
    if (!pre) pre = &empty;
    double rescale, mean[3], stdv[3], half[3] = {0.5, 0.5, 0.5};
    int shorter, crop = c->image_size, resample;
    if (!cJSON_IsObject(pre)) return vidi_set_error(VIDI_ERR_FORMAT, "%s: key 'preprocessor' must be an object", file);
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(pre, "crop_size");
    vidi_status s;
    if (cJSON_IsObject(cs)) { /* {"height", "width"} as HF writes it: must be square */
        int w;
        if ((s = vidi_json_get_int(cs, "height", file, &crop, 0, 1)) || (s = vidi_json_get_int(cs, "width", file, &w, 0, 1)))
            return s;
        if (w != crop) return vidi_set_error(VIDI_ERR_FORMAT, "%s: preprocessor crop_size must be square", file);
    } else if ((s = vidi_json_get_int(pre, "crop_size", file, &crop, c->image_size, 0))) {
        return s;
    }
    if ((s = vidi_json_get_int(pre, "shortest_edge", file, &shorter, c->image_size, 0)) ||
        (s = vidi_json_get_int(pre, "resample", file, &resample, VIDI_RESAMPLE_BILINEAR, 0)) ||
        (s = vidi_json_get_float(pre, "rescale_factor", file, &rescale, 1.0 / 255.0, 0)) ||
        (s = vidi_json_get_float_array(pre, "image_mean", file, mean, 3, half, 0)) ||
        (s = vidi_json_get_float_array(pre, "image_std", file, stdv, 3, half, 0)))
        return s;
    if (resample < 0 || resample > 5)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: preprocessor resample %d is not a PIL filter (0-5)", file, resample);
    if (shorter < crop)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: preprocessor shortest_edge %d is smaller than crop_size %d", file,
                              shorter, crop);
    p->resize_shorter = shorter;
    p->crop = VIDI_CROP_CENTER, p->crop_w = p->crop_h = crop;
    p->resample = (vidi_resample)resample;
    p->rescale = (float)rescale;
    for (int i = 0; i < 3; i++) {
        if (!(stdv[i] > 0)) return vidi_set_error(VIDI_ERR_FORMAT, "%s: preprocessor image_std must be positive", file);
        p->mean[i] = (float)mean[i], p->std[i] = (float)stdv[i];
    }
    return VIDI_OK;
}

/* HF VivitImageProcessor's defaults, scaled to the model (256/224 resize,
 * centre crop, x/127.5 - 1, then (x - 0.5) / 0.5 — HF really does both). */
static void hf_default_preprocessor(const vidi_vivit_config *c, vidi_sampler_params *p) {
    p->resize_shorter = c->image_size * 256 / 224;
    p->crop = VIDI_CROP_CENTER, p->crop_w = p->crop_h = c->image_size;
    p->resample = VIDI_RESAMPLE_BILINEAR;
    p->rescale = 1.0f / 127.5f;
    for (int i = 0; i < 3; i++) p->mean[i] = 1.5f, p->std[i] = 0.5f;
}

static vidi_status check_preprocess_size(const vidi_sampler_params *p, const vidi_vivit_config *c, const char *file) {
    int w = p->crop == VIDI_CROP_CENTER ? p->crop_w : p->resize_w, h = p->crop == VIDI_CROP_CENTER ? p->crop_h : p->resize_h;
    if (w != c->image_size || h != c->image_size)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: preprocessing yields %dx%d frames but the model takes %dx%d", file, w,
                              h, c->image_size, c->image_size);
    return VIDI_OK;
}

static vidi_status read_labels(vidi_vivit *m, const cJSON *cfg, const char *file) {
    int n = m->cfg.num_labels;
    m->labels = calloc((size_t)n, sizeof(char *));
    if (!m->labels) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory for %d labels", n);
    vidi_labels labels = {0};
    vidi_status s = VIDI_OK;
    if (cJSON_GetObjectItemCaseSensitive(cfg, "id2label") && (s = vidi_labels_from_id2label(cfg, file, &labels)))
        return s;
    if (labels.count && labels.count != n) {
        s = vidi_set_error(VIDI_ERR_SHAPE, "%s: %d labels in id2label but the classifier has %d outputs", file,
                           labels.count, n);
        vidi_labels_free(&labels);
        return s;
    }
    for (int i = 0; i < n && !s; i++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "LABEL_%d", i);
        if (!(m->labels[i] = strdup(labels.count ? labels.names[i] : fallback)))
            s = vidi_set_error(VIDI_ERR_NOMEM, "out of memory for labels");
    }
    vidi_labels_free(&labels);
    return s;
}

static const vidi_st_tensor *need(const vidi_safetensors *st, const char *name, int ndim, vidi_status *s) {
    const vidi_st_tensor *t = vidi_safetensors_find(st, name);
    if (!t) *s = vidi_set_error(VIDI_ERR_SHAPE, "%s: missing tensor '%s'", vidi_safetensors_label(st), name);
    else if (t->ndim != ndim)
        *s = vidi_set_error(VIDI_ERR_SHAPE, "%s: tensor '%s' has %d dims, expected %d", vidi_safetensors_label(st), name,
                            t->ndim, ndim), t = NULL;
    return t;
}

static vidi_status check_positions(const vidi_safetensors *st, const char *name, int64_t want, const char *what,
                                   const vidi_vivit_config *c, const char *file) {
    vidi_status s = VIDI_OK;
    const vidi_st_tensor *t = need(st, name, 3, &s);
    if (!t) return s;
    if (t->shape[1] != want)
        return vidi_set_error(VIDI_ERR_SHAPE,
                              "%s: config (num_frames %d, image_size %d, tubelet %dx%dx%d) gives %lld %s but tensor '%s' holds %lld positions",
                              file, c->num_frames, c->image_size, c->tubelet_t, c->tubelet_h, c->tubelet_w,
                              (long long)want, what, name, (long long)t->shape[1]);
    return VIDI_OK;
}

/* Config vs the tensors that fix each size, named in the message. */
static vidi_status check_weights(vidi_vivit *m, const char *file) {
    const vidi_safetensors *st = m->weights;
    vidi_vivit_config *c = &m->cfg;
    vidi_status s = VIDI_OK;
    const char *patch = m->hf ? "vivit.embeddings.patch_embeddings.projection.weight" : "embeddings.patch.weight";
    const char *head = m->hf ? "classifier.weight" : "head.weight";
    const vidi_st_tensor *tp = need(st, patch, 5, &s), *th = tp ? need(st, head, 2, &s) : NULL;
    if (!tp || !th) return s;
    if (tp->shape[0] != c->hidden || th->shape[1] != c->hidden)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: hidden_size is %d but tensor '%s' is %lld wide", file, c->hidden,
                              tp->shape[0] != c->hidden ? patch : head,
                              (long long)(tp->shape[0] != c->hidden ? tp->shape[0] : th->shape[1]));
    if (tp->shape[1] != c->channels)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: num_channels is %d but tensor '%s' takes %lld", file, c->channels, patch,
                              (long long)tp->shape[1]);
    if (tp->shape[2] != c->tubelet_t || tp->shape[3] != c->tubelet_h || tp->shape[4] != c->tubelet_w)
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: tubelet_size is [%d, %d, %d] but tensor '%s' is a %lldx%lldx%lld kernel",
                              file, c->tubelet_t, c->tubelet_h, c->tubelet_w, patch, (long long)tp->shape[2],
                              (long long)tp->shape[3], (long long)tp->shape[4]);
    c->num_labels = (int)th->shape[0];
    if (c->num_labels <= 0) return vidi_set_error(VIDI_ERR_SHAPE, "%s: tensor '%s' has no outputs", file, head);
    int64_t nt = m->nt, ns = m->ns;
    switch (c->variant) {
    case VIDI_VIVIT_SPATIOTEMPORAL:
        return check_positions(st, m->hf ? "vivit.embeddings.position_embeddings" : "embeddings.position_embeddings",
                               1 + nt * ns, "tokens (1 + tubelets x patches)", c, file);
    case VIDI_VIVIT_FACTORISED_ENCODER:
        if ((s = check_positions(st, "spatial.position_embeddings", 1 + ns, "spatial tokens (1 + patches per frame)", c, file)))
            return s;
        return check_positions(st, "temporal.position_embeddings", 1 + nt, "temporal tokens (1 + tubelets along time)", c,
                               file);
    default:
        return check_positions(st, "embeddings.position_embeddings", nt * ns, "tokens (tubelets x patches)", c, file);
    }
}

/* One more block in the weights than the config says: a wrong depth. */
static vidi_status check_depth(const vidi_vivit *m, const char *fmt, int depth, const char *key, const char *file) {
    char name[160];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(name, sizeof name, fmt, depth);
#pragma GCC diagnostic pop
    if (vidi_safetensors_find(m->weights, name))
        return vidi_set_error(VIDI_ERR_SHAPE, "%s: %s is %d but the weights have tensor '%s'", file, key, depth, name);
    return VIDI_OK;
}

static vidi_status read_config_json(vidi_vivit *m, const cJSON *cfg, const char *file, const char *dir) {
    vidi_vivit_config *c = &m->cfg;
    vidi_status s;
    if ((s = read_common(cfg, file, m->hf, c))) return s;
    m->nt = c->num_frames / c->tubelet_t;
    m->ns = (c->image_size / c->tubelet_h) * (c->image_size / c->tubelet_w);
    if ((s = check_weights(m, file)) || (s = read_labels(m, cfg, file))) return s;
    const char *depth_fmt = m->hf ? "vivit.encoder.layer.%d.layernorm_before.weight"
                            : c->variant == VIDI_VIVIT_FACTORISED_ENCODER ? "spatial.layers.%d.ln2.weight"
                                                                            : "layers.%d.ln2.weight";
    if ((s = check_depth(m, depth_fmt, c->layers, "num_hidden_layers", file))) return s;
    if (c->variant == VIDI_VIVIT_FACTORISED_ENCODER &&
        (s = check_depth(m, "temporal.layers.%d.ln2.weight", c->temporal_layers, "num_temporal_layers", file)))
        return s;

    vidi_sampler_params *p = &m->sampler;
    *p = vidi_sampler_default_params();
    p->mode = VIDI_SAMPLE_UNIFORM;
    p->num_frames = c->num_frames;
    p->tubelet_t = c->tubelet_t;
    if (m->hf) {
        hf_default_preprocessor(c, p);
        char pre[4096];
        snprintf(pre, sizeof pre, "%s/preprocessor_config.json", dir ? dir : ".");
        if (dir && file_exists(pre)) {
            if ((s = vidi_sampler_params_from_preprocessor(pre, p))) return s;
            return check_preprocess_size(p, c, pre);
        }
        return VIDI_OK;
    }
    if ((s = read_vidi_preprocessor(cfg, file, c, p))) return s;
    return check_preprocess_size(p, c, file);
}

vidi_status vivit_read_config(vidi_vivit *m, const char *dir, const char *weights_path) {
    vidi_status s;
    char file[4096];
    cJSON *cfg = NULL;
    const char *format = vidi_safetensors_metadata(m->weights, "format");
    const char *embedded = vidi_safetensors_metadata(m->weights, "config");
    if (format && !strcmp(format, "vidi-vivit")) {
        snprintf(file, sizeof file, "%s: __metadata__.config", weights_path);
        if (!embedded) return vidi_set_error(VIDI_ERR_FORMAT, "%s: format 'vidi-vivit' without a config", weights_path);
        cfg = cJSON_Parse(embedded);
        if (!cJSON_IsObject(cfg)) {
            cJSON_Delete(cfg);
            return vidi_set_error(VIDI_ERR_FORMAT, "%s is not a JSON object", file);
        }
        m->hf = 0;
    } else {
        if ((s = reject_vit(m->weights))) return s;
        /* Any other format tag ("pt" from transformers) means HF names + config.json. */
        char *copy = strdup(weights_path);
        if (!copy) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
        snprintf(file, sizeof file, "%s/config.json", dir ? dir : dirname(copy));
        free(copy);
        if (!file_exists(file))
            return vidi_set_error(VIDI_ERR_FORMAT, "%s: no ViViT config (neither __metadata__ format 'vidi-vivit' nor %s)",
                                  weights_path, file);
        if ((s = vidi_json_load_file(file, &cfg))) return s;
        m->hf = 1;
    }
    s = read_config_json(m, cfg, file, dir);
    cJSON_Delete(cfg);
    return s;
}
