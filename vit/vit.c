/* ViT forward pass, written once against the backend interface:
 *   x = [cls; patches(pixels)] + pos
 *   per block: x += proj(attn(ln1(x))); x += fc2(act(fc1(ln2(x))))
 *   logits = head(ln(x)[0])
 * Activations live in one arena sized at load, so a forward allocates nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vit/vit_internal.h"

static vidi_status alloc_activations(vidi_vit *m) {
    const vidi_vit_config *c = &m->cfg;
    size_t t = (size_t)(c->image_size / c->patch_size) * (c->image_size / c->patch_size) + 1;
    size_t d = (size_t)c->hidden;
    size_t counts[7] = {(size_t)c->channels * c->image_size * c->image_size, t * d, t * d, t * 3 * d, t * d,
                        t * (size_t)c->mlp_dim, (size_t)c->num_labels};
    size_t total = 0;
    for (int i = 0; i < 7; i++) total += counts[i] * sizeof(float) + 64;
    vidi_status s = vidi_device_store_arena(&m->store, &m->arena, total);
    if (s) return s;
    float **slots[7] = {&m->pixels, &m->x, &m->h, &m->qkv, &m->attn, &m->mlp, &m->logits};
    for (int i = 0; i < 7; i++)
        if (!(*slots[i] = vidi_arena_floats(&m->arena, counts[i]))) return VIDI_ERR_NOMEM;
    return VIDI_OK;
}

/* On a device backend every weight is uploaded once, here. */
static vidi_status upload_weights(vidi_vit *m) {
    const vidi_vit_config *c = &m->cfg;
    size_t d = (size_t)c->hidden, f = (size_t)c->mlp_dim, p = (size_t)c->patch_size;
    size_t t = (size_t)(c->image_size / c->patch_size) * (c->image_size / c->patch_size) + 1;
    vidi_device_store *s = &m->store;
    vidi_status st;
#define PUT(field, count) \
    if ((st = vidi_device_store_put(s, &(field), (count))) != VIDI_OK) return st
    PUT(m->cls, d);
    PUT(m->pos, t * d);
    PUT(m->patch_w, d * (size_t)c->channels * p * p);
    PUT(m->patch_b, d);
    for (int i = 0; i < c->layers; i++) {
        vit_layer *l = &m->layer[i];
        PUT(l->ln1_w, d);
        PUT(l->ln1_b, d);
        PUT(l->qkv_w, 3 * d * d);
        PUT(l->qkv_b, 3 * d);
        PUT(l->proj_w, d * d);
        PUT(l->proj_b, d);
        PUT(l->ln2_w, d);
        PUT(l->ln2_b, d);
        PUT(l->fc1_w, f * d);
        PUT(l->fc1_b, f);
        PUT(l->fc2_w, d * f);
        PUT(l->fc2_b, d);
    }
    PUT(m->norm_w, d);
    PUT(m->norm_b, d);
    PUT(m->head_w, (size_t)c->num_labels * d);
    PUT(m->head_b, (size_t)c->num_labels);
#undef PUT
    return VIDI_OK;
}

static vidi_status check_preprocess(const vidi_vit *m, const char *path) {
    const vidi_preprocess *p = &m->cfg.pre;
    int out_w = p->crop_w ? p->crop_w : p->resize_w, out_h = p->crop_h ? p->crop_h : p->resize_h;
    if (out_w != m->cfg.image_size || out_h != m->cfg.image_size)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: preprocessing yields %dx%d images but the model takes %dx%d", path,
                              out_w, out_h, m->cfg.image_size, m->cfg.image_size);
    if (p->resize_shorter > 0 && (p->resize_shorter < p->crop_w || p->resize_shorter < p->crop_h))
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: resize to %d is smaller than the %dx%d crop", path,
                              p->resize_shorter, p->crop_w, p->crop_h);
    return VIDI_OK;
}

vidi_status vidi_vit_load(const char *path, vidi_backend *backend, int heads_override, vidi_vit **out) {
    *out = NULL;
    if (!path || !backend) return vidi_set_error(VIDI_ERR_ARG, "vidi_vit_load: path and backend are required");
    char weights_path[4096];
    int is_dir = 0;
    vidi_status s = vidi_checkpoint_weights_path(path, weights_path, sizeof weights_path, &is_dir);
    if (s) return s;
    const char *dir = is_dir ? path : NULL;
    vidi_vit *m = calloc(1, sizeof *m);
    if (!m) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    m->be = backend;
    m->store.be = backend;
    if ((s = vidi_safetensors_open(weights_path, &m->weights)) ||
        (s = vit_read_config(m, dir, weights_path, heads_override)) || (s = check_preprocess(m, path)) ||
        (s = vit_bind_weights(m)) || (s = upload_weights(m)) || (s = alloc_activations(m))) {
        vidi_vit_free(m);
        return s;
    }
    *out = m;
    return VIDI_OK;
}

void vidi_vit_free(vidi_vit *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    if (m->labels)
        for (int i = 0; i < m->cfg.num_labels; i++) free(m->labels[i]);
    free(m->labels);
    free(m->layer);
    if (m->be && m->be->device_memory) memset(&m->arena, 0, sizeof m->arena); /* the store owns it */
    else vidi_arena_free(&m->arena);
    vidi_device_store_free(&m->store);
    free(m->hook_scratch);
    vidi_safetensors_close(m->weights);
    free(m);
}

const vidi_vit_config *vidi_vit_get_config(const vidi_vit *m) { return &m->cfg; }

const char *vidi_vit_label(const vidi_vit *m, int index) {
    return (index >= 0 && index < m->cfg.num_labels) ? m->labels[index] : "?";
}

double vidi_vit_flops(const vidi_vit *m) {
    const vidi_vit_config *c = &m->cfg;
    double n = (double)(c->image_size / c->patch_size) * (c->image_size / c->patch_size);
    double t = n + 1, d = c->hidden, f = c->mlp_dim;
    double embed = n * d * c->channels * c->patch_size * c->patch_size;
    double block = t * d * 3 * d + 2 * t * t * d + t * d * d + 2 * t * d * f;
    return 2.0 * (embed + c->layers * block + d * c->num_labels);
}

/* Hooks see host memory: on a device backend the activation is downloaded. */
static vidi_status report(vidi_vit *m, vidi_layer_hook hook, void *user, const char *name, const float *data,
                          int64_t rows, int64_t cols) {
    if (!hook) return VIDI_OK;
    const float *host =
        vidi_device_store_host_view(m->be, data, (size_t)(rows * cols), &m->hook_scratch, &m->hook_scratch_n);
    if (!host) return VIDI_ERR_NOMEM;
    hook(user, name, host, rows, cols);
    return VIDI_OK;
}

vidi_status vidi_vit_forward(vidi_vit *m, const float *pixels, float *logits, vidi_layer_hook hook, void *user) {
    const vidi_vit_config *c = &m->cfg;
    const vidi_backend *be = m->be;
    int64_t side = c->image_size / c->patch_size, n = side * side, t = n + 1, d = c->hidden;
    float scale = 1.0f / sqrtf((float)(d / c->heads));
    vidi_status s;
#define TRY(call)                              \
    do {                                       \
        if ((s = (call)) != VIDI_OK) return s; \
    } while (0)
    TRY(be->upload(be, m->pixels, pixels, sizeof(float) * c->channels * c->image_size * c->image_size));
    vidi_patch_layout patch = {.frames = 1, .channels = c->channels, .height = c->image_size,
                               .width = c->image_size, .patch_t = 1, .patch_h = c->patch_size,
                               .patch_w = c->patch_size, .hidden = c->hidden, .out_row_stride = d};
    TRY(be->add(be, m->x, m->cls, m->pos, d));
    TRY(be->patch_embed(be, m->x + d, m->pixels, m->patch_w, m->patch_b, &patch));
    TRY(be->add(be, m->x + d, m->x + d, m->pos + d, n * d));
    TRY(report(m, hook, user, "embeddings", m->x, t, d));

    vidi_attn_layout attn = vidi_attn_layout_fused_qkv(1, c->heads, (int)t, (int)(d / c->heads));
    for (int i = 0; i < c->layers; i++) {
        const vit_layer *l = &m->layer[i];
        TRY(be->layernorm(be, m->h, m->x, l->ln1_w, l->ln1_b, t, d, c->ln_eps));
        TRY(be->linear(be, m->qkv, m->h, l->qkv_w, l->qkv_b, t, d, 3 * d, VIDI_ACT_NONE));
        TRY(be->attention(be, m->attn, m->qkv, m->qkv + d, m->qkv + 2 * d, &attn, scale));
        TRY(be->linear(be, m->h, m->attn, l->proj_w, l->proj_b, t, d, d, VIDI_ACT_NONE));
        TRY(be->add(be, m->x, m->x, m->h, t * d));
        TRY(be->layernorm(be, m->h, m->x, l->ln2_w, l->ln2_b, t, d, c->ln_eps));
        TRY(be->linear(be, m->mlp, m->h, l->fc1_w, l->fc1_b, t, d, c->mlp_dim, c->act));
        TRY(be->linear(be, m->h, m->mlp, l->fc2_w, l->fc2_b, t, c->mlp_dim, d, VIDI_ACT_NONE));
        TRY(be->add(be, m->x, m->x, m->h, t * d));
        if (hook) {
            char name[32];
            snprintf(name, sizeof name, "layer.%d", i);
            TRY(report(m, hook, user, name, m->x, t, d));
        }
    }
    TRY(be->layernorm(be, m->h, m->x, m->norm_w, m->norm_b, t, d, c->ln_eps));
    TRY(report(m, hook, user, "final_norm", m->h, t, d));
    /* Classification reads the class token only (row 0). */
    TRY(be->linear(be, m->logits, m->h, m->head_w, m->head_b, 1, d, c->num_labels, VIDI_ACT_NONE));
    TRY(be->synchronize(be));
    TRY(be->download(be, logits, m->logits, sizeof(float) * c->num_labels));
    if (hook) hook(user, "logits", logits, 1, c->num_labels);
#undef TRY
    return VIDI_OK;
}

vidi_status vidi_vit_preprocess(const vidi_vit *m, const vidi_image *image, float *pixels) {
    const vidi_preprocess *p = &m->cfg.pre;
    vidi_image resized = {0}, cropped = {0};
    const vidi_image *cur = image;
    vidi_status s = VIDI_OK;
    if (p->resize_shorter > 0) {
        /* torchvision Resize(int): the shorter side becomes resize_shorter,
         * the longer one int(resize_shorter * long / short). */
        int w = image->width, h = image->height;
        int rw = w <= h ? p->resize_shorter : (int)((int64_t)p->resize_shorter * w / h);
        int rh = w <= h ? (int)((int64_t)p->resize_shorter * h / w) : p->resize_shorter;
        s = vidi_image_resize(image, rw, rh, p->resample, &resized);
        cur = &resized;
    } else if (p->resize_w > 0) {
        s = vidi_image_resize(image, p->resize_w, p->resize_h, p->resample, &resized);
        cur = &resized;
    }
    if (!s && p->crop_w > 0) {
        s = vidi_image_center_crop(cur, p->crop_w, p->crop_h, &cropped);
        cur = &cropped;
    }
    if (!s && (cur->width != m->cfg.image_size || cur->height != m->cfg.image_size))
        s = vidi_set_error(VIDI_ERR_ARG, "image is %dx%d after preprocessing, model needs %dx%d", cur->width,
                           cur->height, m->cfg.image_size, m->cfg.image_size);
    if (!s) vidi_image_normalize(cur, p->rescale, p->mean, p->std, pixels);
    vidi_image_free(&resized);
    vidi_image_free(&cropped);
    return s;
}
