/* Loads a denoiser from the vidi single-file format: the config from
 * __metadata__["config"], then every tensor with the shape the config implies
 * (so a mismatch names the tensor), then the activation arena. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diffusion/denoiser_internal.h"
#include "nn/io/json_file.h"

static vidi_status read_labels(vidi_denoiser *m, const cJSON *cfg, const char *file) {
    int k = m->cfg.num_classes;
    if (!(m->labels = calloc((size_t)k, sizeof(char *)))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cfg, "labels");
    if (!arr || cJSON_IsNull(arr)) return VIDI_OK;
    if (!cJSON_IsArray(arr)) return vidi_set_error(VIDI_ERR_FORMAT, "%s: config key 'labels' must be a list of names", file);
    int n = cJSON_GetArraySize(arr);
    if (n && n != k)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: config has %d labels for num_classes %d", file, n, k);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsString(e)) return vidi_set_error(VIDI_ERR_FORMAT, "%s: labels[%d] is not a string", file, i);
        if (!(m->labels[i] = strdup(e->valuestring))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    }
    return VIDI_OK;
}

vidi_status denoiser_read_config(vidi_denoiser *m) {
    const char *file = vidi_safetensors_label(m->weights);
    const char *format = vidi_safetensors_metadata(m->weights, "format");
    const char *text = vidi_safetensors_metadata(m->weights, "config");
    if (format && !strcmp(format, "vidi-vivit"))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: is a ViViT classifier checkpoint (format vidi-vivit), not a diffusion model", file);
    if (vidi_safetensors_find(m->weights, "vit.embeddings.cls_token") || vidi_safetensors_find(m->weights, "cls_token") ||
        vidi_safetensors_find(m->weights, "vivit.embeddings.cls_token") || vidi_safetensors_find(m->weights, "classifier.weight"))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: is a classifier checkpoint (ViT/ViViT tensors), not a diffusion model", file);
    if (!format || strcmp(format, "vidi-diffusion") || !text)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: not a vidi diffusion model (__metadata__ needs format 'vidi-diffusion' and a config)",
                              file);
    cJSON *cfg = cJSON_Parse(text);
    if (!cfg || !cJSON_IsObject(cfg)) {
        cJSON_Delete(cfg);
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: __metadata__.config is not a JSON object", file);
    }
    vidi_denoiser_config *c = &m->cfg;
    const char *type, *sched, *prediction;
    double eps, guidance;
    vidi_status s;
    if ((s = vidi_json_get_string(cfg, "model_type", file, &type, NULL, 1))) goto done;
    if (strcmp(type, "vidi_diffusion")) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: model_type '%s' is not vidi_diffusion", file, type);
        goto done;
    }
    if ((s = vidi_json_get_int(cfg, "frames", file, &c->frames, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "image_size", file, &c->image_size, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "channels", file, &c->channels, 3, 0)) ||
        (s = vidi_json_get_int(cfg, "patch", file, &c->patch, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "hidden", file, &c->hidden, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "heads", file, &c->heads, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "depth", file, &c->depth, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "mlp_dim", file, &c->mlp_dim, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "freq_dim", file, &c->freq_dim, 0, 1)) ||
        (s = vidi_json_get_int(cfg, "num_classes", file, &c->num_classes, 0, 1)) ||
        (s = vidi_json_get_bool(cfg, "learn_sigma", file, &c->learn_sigma, 1, 0)) ||
        (s = vidi_json_get_bool(cfg, "inpaint", file, &c->inpaint, 0, 0)) ||
        (s = vidi_json_get_int(cfg, "diffusion_steps", file, &c->diffusion_steps, 1000, 0)) ||
        (s = vidi_json_get_string(cfg, "noise_schedule", file, &sched, "cosine", 0)) ||
        (s = vidi_json_get_float(cfg, "ln_eps", file, &eps, 1e-6, 0)) ||
        (s = vidi_json_get_string(cfg, "prediction", file, &prediction, "eps", 0)) ||
        (s = vidi_json_get_float(cfg, "guidance", file, &guidance, 1.0, 0)))
        goto done;
    if (strcmp(prediction, "eps") && strcmp(prediction, "velocity")) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: config prediction '%s': unknown (expected eps or velocity)", file,
                           prediction);
        goto done;
    }
    c->velocity = !strcmp(prediction, "velocity");
    if ((s = vidi_beta_schedule_parse(sched, &c->schedule))) {
        s = vidi_wrap_error(s, "%s", file);
        goto done;
    }
    c->ln_eps = (float)eps;
    c->guidance = (float)guidance;
    struct { const char *key; int v, lo, hi; } range[] = {
        {"frames", c->frames, 1, 4096},     {"image_size", c->image_size, 1, 8192}, {"channels", c->channels, 1, 16},
        {"patch", c->patch, 1, 256},        {"hidden", c->hidden, 2, 1 << 16},     {"heads", c->heads, 1, 1024},
        {"depth", c->depth, 2, 1024},       {"mlp_dim", c->mlp_dim, 1, 1 << 18},   {"freq_dim", c->freq_dim, 2, 1 << 16},
        {"num_classes", c->num_classes, 0, 1 << 20}, {"diffusion_steps", c->diffusion_steps, 21, 100000}};
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++)
        if (range[i].v < range[i].lo || range[i].v > range[i].hi) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: config %s %d is out of range %d..%d", file, range[i].key, range[i].v,
                               range[i].lo, range[i].hi);
            goto done;
        }
    if (c->image_size % c->patch || c->hidden % c->heads || c->depth % 2 || c->freq_dim % 2 || !(eps >= 0 && eps < 1)) {
        s = vidi_set_error(VIDI_ERR_FORMAT,
                           "%s: config needs image_size %% patch == 0, hidden %% heads == 0, even depth and freq_dim, "
                           "0 <= ln_eps < 1 (got %d, %d, %d, %d, %d, %d, %g)",
                           file, c->image_size, c->patch, c->hidden, c->heads, c->depth, c->freq_dim, eps);
        goto done;
    }
    if (!(guidance >= 0 && guidance <= 100) || (guidance != 1 && c->num_classes == 0)) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: config guidance %g: must be in [0, 100], and 1 for a model without classes",
                           file, guidance);
        goto done;
    }
    s = read_labels(m, cfg, file);
done:
    cJSON_Delete(cfg);
    return s;
}

typedef struct binder {
    vidi_denoiser *m;
    char name[128];
} binder;

static vidi_status get(binder *b, const char *name, int ndim, int64_t d0, int64_t d1, const float **out) {
    int64_t shape[2] = {d0, d1};
    snprintf(b->name, sizeof b->name, "%s", name);
    return vidi_safetensors_get_f32(b->m->weights, b->name, ndim, shape, out);
}

static vidi_status get_block(binder *b, int i, const char *suffix, int ndim, int64_t d0, int64_t d1, const float **out) {
    char name[128];
    snprintf(name, sizeof name, "blocks.%d.%s", i, suffix);
    return get(b, name, ndim, d0, d1, out);
}

vidi_status denoiser_bind_weights(vidi_denoiser *m) {
    const vidi_denoiser_config *c = &m->cfg;
    binder b = {.m = m};
    int64_t d = c->hidden, f = c->mlp_dim, p = c->patch;
    int64_t kshape[5] = {d, m->in_channels, 1, p, p};
    vidi_status s;
    if ((s = vidi_safetensors_get_f32(m->weights, "patch.weight", 5, kshape, &m->patch_w)) ||
        (s = get(&b, "patch.bias", 1, d, 0, &m->patch_b)) || (s = get(&b, "pos_embed", 2, m->tokens, d, &m->pos)) ||
        (s = get(&b, "t_embed.fc1.weight", 2, d, c->freq_dim, &m->t_fc1_w)) ||
        (s = get(&b, "t_embed.fc1.bias", 1, d, 0, &m->t_fc1_b)) || (s = get(&b, "t_embed.fc2.weight", 2, d, d, &m->t_fc2_w)) ||
        (s = get(&b, "t_embed.fc2.bias", 1, d, 0, &m->t_fc2_b)) ||
        (s = get(&b, "y_embed.weight", 2, c->num_classes + 1, d, &m->y_embed)) ||
        (s = get(&b, "final.ada.weight", 2, 2 * d, d, &m->final_ada_w)) ||
        (s = get(&b, "final.ada.bias", 1, 2 * d, 0, &m->final_ada_b)) ||
        (s = get(&b, "final.linear.weight", 2, p * p * m->out_channels, d, &m->final_w)) ||
        (s = get(&b, "final.linear.bias", 1, p * p * m->out_channels, 0, &m->final_b)))
        return s;
    if (!(m->block = calloc((size_t)c->depth, sizeof *m->block))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (int i = 0; i < c->depth; i++) {
        denoiser_block *l = &m->block[i];
        l->temporal = i % 2;
        if ((s = get_block(&b, i, "qkv.weight", 2, 3 * d, d, &l->qkv_w)) ||
            (s = get_block(&b, i, "qkv.bias", 1, 3 * d, 0, &l->qkv_b)) ||
            (s = get_block(&b, i, "qkv_t.weight", 2, 3 * d, d, &l->qkv_t_w)) ||
            (s = get_block(&b, i, "proj.weight", 2, d, d, &l->proj_w)) ||
            (s = get_block(&b, i, "proj.bias", 1, d, 0, &l->proj_b)) ||
            (s = get_block(&b, i, "fc1.weight", 2, f, d, &l->fc1_w)) ||
            (s = get_block(&b, i, "fc1.bias", 1, f, 0, &l->fc1_b)) ||
            (s = get_block(&b, i, "fc2.weight", 2, d, f, &l->fc2_w)) ||
            (s = get_block(&b, i, "fc2.bias", 1, d, 0, &l->fc2_b)) ||
            (s = get_block(&b, i, "ada.weight", 2, 6 * d, d, &l->ada_w)) ||
            (s = get_block(&b, i, "ada.bias", 1, 6 * d, 0, &l->ada_b)))
            return s;
        if (i >= c->depth / 2 &&
            ((s = get_block(&b, i, "skip.weight", 2, d, d, &l->skip_w)) ||
             (s = get_block(&b, i, "skip.bias", 1, d, 0, &l->skip_b)) ||
             (s = get_block(&b, i, "skip_s.weight", 2, d, d, &l->skip_s_w))))
            return s;
    }
    return VIDI_OK;
}

/* On a device backend every weight is uploaded once, here (a no-op on host backends). */
static vidi_status upload_weights(vidi_denoiser *m) {
    const vidi_denoiser_config *c = &m->cfg;
    size_t d = (size_t)c->hidden, f = (size_t)c->mlp_dim, p = (size_t)c->patch;
    size_t P = p * p * (size_t)m->out_channels;
    vidi_device_store *s = &m->store;
    vidi_status e;
#define PUT(field, count) \
    if ((e = vidi_device_store_put(s, &(field), (count))) != VIDI_OK) return e
    PUT(m->patch_w, d * (size_t)m->in_channels * p * p);
    PUT(m->patch_b, d);
    PUT(m->pos, (size_t)m->tokens * d);
    PUT(m->t_fc1_w, d * (size_t)c->freq_dim);
    PUT(m->t_fc1_b, d);
    PUT(m->t_fc2_w, d * d);
    PUT(m->t_fc2_b, d);
    PUT(m->y_embed, (size_t)(c->num_classes + 1) * d);
    PUT(m->final_ada_w, 2 * d * d);
    PUT(m->final_ada_b, 2 * d);
    PUT(m->final_w, P * d);
    PUT(m->final_b, P);
    for (int i = 0; i < c->depth; i++) {
        denoiser_block *l = &m->block[i];
        PUT(l->qkv_w, 3 * d * d);
        PUT(l->qkv_b, 3 * d);
        PUT(l->qkv_t_w, 3 * d * d);
        PUT(l->proj_w, d * d);
        PUT(l->proj_b, d);
        PUT(l->fc1_w, f * d);
        PUT(l->fc1_b, f);
        PUT(l->fc2_w, d * f);
        PUT(l->fc2_b, d);
        PUT(l->ada_w, 6 * d * d);
        PUT(l->ada_b, 6 * d);
        PUT(l->skip_w, d * d);
        PUT(l->skip_b, d);
        PUT(l->skip_s_w, d * d);
    }
#undef PUT
    return VIDI_OK;
}

static vidi_status alloc_activations(vidi_denoiser *m) {
    const vidi_denoiser_config *c = &m->cfg;
    size_t n = (size_t)m->tokens, d = (size_t)c->hidden, half = (size_t)c->depth / 2;
    size_t P = (size_t)c->patch * c->patch * m->out_channels;
    size_t video = (size_t)c->frames * m->in_channels * c->image_size * c->image_size;
    size_t counts[] = {video, n * d, n * d, n * d, n * 3 * d, n * d, n * (size_t)c->mlp_dim, n * P,
                       (size_t)c->freq_dim, d, d, d, d, 6 * d, 3 * d, d, d};
    float **slots[] = {&m->video, &m->x, &m->h, &m->tmp, &m->qkv, &m->attn, &m->mlp, &m->out,
                       &m->tsin, &m->thid, &m->temb, &m->cond, &m->gcond, &m->ada, &m->tq, &m->ones, &m->gamma};
    /* The staging buffer is host memory whatever the backend (the arena may be on a device). */
    size_t stage = n * P > video ? n * P : video;
    if (stage < (size_t)c->freq_dim) stage = (size_t)c->freq_dim;
    if (stage < d) stage = d;
    if (!(m->stage = malloc(stage * sizeof(float)))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    size_t count = sizeof counts / sizeof counts[0], total = 0;
    for (size_t i = 0; i < count; i++) total += counts[i] * sizeof(float) + 64;
    total += half * (n * d * sizeof(float) + 64);
    vidi_status s = vidi_device_store_arena(&m->store, &m->arena, total);
    if (s) return s;
    for (size_t i = 0; i < count; i++)
        if (!(*slots[i] = vidi_arena_floats(&m->arena, counts[i]))) return VIDI_ERR_NOMEM;
    if (!(m->skips = calloc(half, sizeof(float *)))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < half; i++)
        if (!(m->skips[i] = vidi_arena_floats(&m->arena, n * d))) return VIDI_ERR_NOMEM;
    for (size_t i = 0; i < d; i++) m->stage[i] = 1.0f;
    return m->be->upload(m->be, m->ones, m->stage, d * sizeof(float));
}

vidi_status vidi_denoiser_load(const char *path, vidi_backend *backend, vidi_denoiser **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_denoiser_load: out is required");
    *out = NULL;
    if (!path || !backend) return vidi_set_error(VIDI_ERR_ARG, "vidi_denoiser_load: path and backend are required");
    if (!backend->modulate)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "backend '%s' has no modulate op (needed by the denoiser)", backend->name);
    struct stat sb;
    if (stat(path, &sb) != 0) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: no such file or directory", path);
    if (S_ISDIR(sb.st_mode))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: is a directory; a diffusion model is one .safetensors file", path);
    vidi_denoiser *m = calloc(1, sizeof *m);
    if (!m) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    m->be = backend;
    m->store.be = backend;
    vidi_status s = vidi_safetensors_open(path, &m->weights);
    if (s == VIDI_OK) s = denoiser_read_config(m);
    if (s == VIDI_OK) {
        const vidi_denoiser_config *c = &m->cfg;
        m->grid = c->image_size / c->patch;
        m->tokens = c->frames * m->grid * m->grid;
        m->in_channels = c->inpaint ? 2 * c->channels + 1 : c->channels;
        m->out_channels = c->learn_sigma ? 2 * c->channels : c->channels;
        s = denoiser_bind_weights(m);
    }
    if (s == VIDI_OK) s = upload_weights(m);
    if (s == VIDI_OK) s = alloc_activations(m);
    if (s == VIDI_OK && m->cfg.velocity) s = vidi_denoiser_process(m, &m->process);
    if (s != VIDI_OK) {
        vidi_denoiser_free(m);
        return s;
    }
    *out = m;
    return VIDI_OK;
}

void vidi_denoiser_free(vidi_denoiser *m) {
    if (!m) return;
    if (m->labels)
        for (int i = 0; i < m->cfg.num_classes; i++) free(m->labels[i]);
    free(m->labels);
    vidi_diffusion_free(m->process);
    free(m->block);
    free(m->skips);
    if (m->sample_work) { /* the stream may still use it */
        m->be->synchronize(m->be);
        m->be->release(m->be, m->sample_work);
    }
    if (m->be && m->be->device_memory) memset(&m->arena, 0, sizeof m->arena); /* the store owns it */
    else vidi_arena_free(&m->arena);
    vidi_device_store_free(&m->store);
    free(m->stage);
    free(m->hook_scratch);
    vidi_safetensors_close(m->weights);
    free(m);
}

const vidi_denoiser_config *vidi_denoiser_get_config(const vidi_denoiser *m) { return m ? &m->cfg : NULL; }

const char *vidi_denoiser_label(const vidi_denoiser *m, int index) {
    if (!m || index < 0 || index >= m->cfg.num_classes) return NULL;
    return m->labels[index];
}

int vidi_denoiser_find_label(const vidi_denoiser *m, const char *name) {
    if (!m || !name || !*name) return -1;
    for (int i = 0; i < m->cfg.num_classes; i++)
        if (m->labels[i] && !strcmp(m->labels[i], name)) return i;
    char *end;
    long v = strtol(name, &end, 10);
    if (!*end && v >= 0 && v < m->cfg.num_classes) return (int)v;
    return -1;
}

vidi_status vidi_denoiser_process(const vidi_denoiser *m, vidi_diffusion **out) {
    if (!m) return vidi_set_error(VIDI_ERR_ARG, "vidi_denoiser_process: NULL model");
    return vidi_diffusion_create_named(m->cfg.schedule, m->cfg.diffusion_steps, out);
}
