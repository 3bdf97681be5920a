/* ViViT model handle: load (HF directory or vidi single file), activations,
 * accessors. The forward pass is in vivit_encoder.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vivit/vivit_internal.h"

/* Rows of the widest activation: model 1 [1 + T'S], model 2's batched
 * spatial encoder [T'(1 + S)], models 3/4 [T'S]. */
static int64_t max_rows(const vidi_vivit *m) {
    int64_t nt = m->nt, ns = m->ns;
    switch (m->cfg.variant) {
    case VIDI_VIVIT_SPATIOTEMPORAL: return 1 + nt * ns;
    case VIDI_VIVIT_FACTORISED_ENCODER: return nt * (1 + ns);
    default: return nt * ns;
    }
}

static vidi_status alloc_activations(vidi_vivit *m) {
    const vidi_vivit_config *c = &m->cfg;
    size_t r = (size_t)max_rows(m), d = (size_t)c->hidden;
    size_t counts[9] = {(size_t)c->num_frames * c->channels * c->image_size * c->image_size,
                        r * d, r * d, r * 3 * d, r * d, r * (size_t)c->mlp_dim, (size_t)(1 + m->nt) * d, d,
                        (size_t)c->num_labels};
    float **slots[9] = {&m->video, &m->x, &m->h, &m->qkv, &m->attn, &m->mlp, &m->tx, &m->pooled, &m->logits};
    size_t total = 0;
    for (int i = 0; i < 9; i++) total += counts[i] * sizeof(float) + 64;
    vidi_status s = vidi_device_store_arena(&m->store, &m->arena, total);
    if (s) return s;
    for (int i = 0; i < 9; i++)
        if (!(*slots[i] = vidi_arena_floats(&m->arena, counts[i]))) return VIDI_ERR_NOMEM;
    return VIDI_OK;
}

static vidi_status upload_attn(vidi_device_store *s, vivit_attn_w *w, size_t d) {
    vidi_status st;
    if ((st = vidi_device_store_put(s, &w->ln_w, d)) || (st = vidi_device_store_put(s, &w->ln_b, d)) ||
        (st = vidi_device_store_put(s, &w->qkv_w, 3 * d * d)) || (st = vidi_device_store_put(s, &w->qkv_b, 3 * d)) ||
        (st = vidi_device_store_put(s, &w->proj_w, d * d)) || (st = vidi_device_store_put(s, &w->proj_b, d)))
        return st;
    return VIDI_OK;
}

static vidi_status upload_stage(vidi_vivit *m, vivit_stage *st, size_t pos_rows) {
    vidi_device_store *s = &m->store;
    size_t d = (size_t)m->cfg.hidden, f = (size_t)m->cfg.mlp_dim;
    vidi_status e;
    if ((e = vidi_device_store_put(s, &st->cls, d)) || (e = vidi_device_store_put(s, &st->pos, pos_rows * d)) ||
        (e = vidi_device_store_put(s, &st->norm_w, d)) || (e = vidi_device_store_put(s, &st->norm_b, d)))
        return e;
    for (int i = 0; i < st->depth; i++) {
        vivit_block *l = &st->layer[i];
        if ((e = upload_attn(s, &l->attn, d)) ||
            (m->cfg.variant == VIDI_VIVIT_FACTORISED_SELF_ATTENTION && (e = upload_attn(s, &l->temporal, d))) ||
            (e = vidi_device_store_put(s, &l->ln2_w, d)) || (e = vidi_device_store_put(s, &l->ln2_b, d)) ||
            (e = vidi_device_store_put(s, &l->fc1_w, f * d)) || (e = vidi_device_store_put(s, &l->fc1_b, f)) ||
            (e = vidi_device_store_put(s, &l->fc2_w, d * f)) || (e = vidi_device_store_put(s, &l->fc2_b, d)))
            return e;
    }
    return VIDI_OK;
}

/* On a device backend every weight is uploaded once, here. */
static vidi_status upload_weights(vidi_vivit *m) {
    const vidi_vivit_config *c = &m->cfg;
    if (!m->be->device_memory) return VIDI_OK;
    size_t d = (size_t)c->hidden, nt = (size_t)m->nt, ns = (size_t)m->ns;
    size_t k = (size_t)c->channels * c->tubelet_t * c->tubelet_h * c->tubelet_w;
    vidi_device_store *s = &m->store;
    vidi_status e;
    if ((e = vidi_device_store_put(s, &m->patch_w, d * k)) || (e = vidi_device_store_put(s, &m->patch_b, d)) ||
        (e = vidi_device_store_put(s, &m->head_w, (size_t)c->num_labels * d)) ||
        (e = vidi_device_store_put(s, &m->head_b, (size_t)c->num_labels)))
        return e;
    switch (c->variant) {
    case VIDI_VIVIT_SPATIOTEMPORAL: return upload_stage(m, &m->enc, 1 + nt * ns);
    case VIDI_VIVIT_FACTORISED_ENCODER:
        if ((e = upload_stage(m, &m->enc, 1 + ns))) return e;
        return upload_stage(m, &m->temporal, 1 + nt);
    default: return upload_stage(m, &m->enc, nt * ns);
    }
}

vidi_status vidi_vivit_load(const char *path, vidi_backend *backend, vidi_vivit **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_load: out is required");
    *out = NULL;
    if (!path || !backend) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_load: path and backend are required");
    char weights_path[4096];
    int is_dir = 0;
    vidi_status s = vidi_checkpoint_weights_path(path, weights_path, sizeof weights_path, &is_dir);
    if (s) return s;
    const char *dir = is_dir ? path : NULL;
    vidi_vivit *m = calloc(1, sizeof *m);
    if (!m) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    m->be = backend;
    m->store.be = backend;
    if ((s = vidi_safetensors_open(weights_path, &m->weights)) || (s = vivit_read_config(m, dir, weights_path)) ||
        (s = vivit_bind_weights(m)) || (s = upload_weights(m)) || (s = alloc_activations(m))) {
        vidi_vivit_free(m);
        return s;
    }
    *out = m;
    return VIDI_OK;
}

void vidi_vivit_free(vidi_vivit *m) {
    if (!m) return;
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    if (m->labels)
        for (int i = 0; i < m->cfg.num_labels; i++) free(m->labels[i]);
    free(m->labels);
    free(m->enc.layer);
    free(m->temporal.layer);
    if (m->be && m->be->device_memory) memset(&m->arena, 0, sizeof m->arena); /* the store owns it */
    else vidi_arena_free(&m->arena);
    vidi_device_store_free(&m->store);
    free(m->hook_scratch);
    vidi_safetensors_close(m->weights);
    free(m);
}

const vidi_vivit_config *vidi_vivit_get_config(const vidi_vivit *m) { return &m->cfg; }

const char *vidi_vivit_label(const vidi_vivit *m, int index) {
    return (index >= 0 && index < m->cfg.num_labels) ? m->labels[index] : "?";
}

vidi_status vidi_vivit_sampler_params(const vidi_vivit *m, vidi_sampler_params *out) {
    if (!m || !out) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_sampler_params: model and out are required");
    *out = m->sampler;
    return VIDI_OK;
}

/* Multiply-adds x 2 of a pre-norm block over `batch` sequences of `len`. */
static double block_flops(const vidi_vivit_config *c, double batch, double len, int attentions) {
    double rows = batch * len, d = c->hidden, f = c->mlp_dim;
    return attentions * (rows * d * 3 * d + rows * d * d) + 2 * rows * d * f;
}

double vidi_vivit_flops(const vidi_vivit *m) {
    const vidi_vivit_config *c = &m->cfg;
    double nt = m->nt, ns = m->ns, d = c->hidden, n = nt * ns;
    double embed = n * d * c->channels * c->tubelet_t * c->tubelet_h * c->tubelet_w;
    double total = embed + d * c->num_labels;
    switch (c->variant) {
    case VIDI_VIVIT_SPATIOTEMPORAL:
        total += c->layers * (block_flops(c, 1, n + 1, 1) + 2 * (n + 1) * (n + 1) * d);
        break;
    case VIDI_VIVIT_FACTORISED_ENCODER:
        total += c->layers * (block_flops(c, nt, ns + 1, 1) + 2 * nt * (ns + 1) * (ns + 1) * d);
        total += c->temporal_layers * (block_flops(c, 1, nt + 1, 1) + 2 * (nt + 1) * (nt + 1) * d);
        break;
    case VIDI_VIVIT_FACTORISED_SELF_ATTENTION:
        total += c->layers * (block_flops(c, 1, n, 2) + 2 * n * (ns + nt) * d);
        break;
    case VIDI_VIVIT_FACTORISED_DOT_PRODUCT:
        total += c->layers * (block_flops(c, 1, n, 1) + n * (ns + nt) * d);
        break;
    }
    return 2.0 * total;
}
