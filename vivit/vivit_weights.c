/* Binds checkpoint tensors to a ViViT's weights: Hugging Face
 * VivitForVideoClassification names (model 1; separate q/k/v, fused here)
 * and the vidi single-file names (all models; docs/checkpoints.md). Every
 * tensor is fetched with the shape the config implies, so a mismatch fails
 * with the tensor's name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vivit/vivit_internal.h"

typedef struct binder {
    vidi_vivit *model;
    char name[256];
} binder;

/* Tensor "<prefix><suffix>" with shape {d0, d1, d2} (ndim of them). */
static vidi_status get(binder *b, const char *prefix, const char *suffix, int ndim, int64_t d0, int64_t d1,
                       int64_t d2, const float **out) {
    int64_t shape[3] = {d0, d1, d2};
    snprintf(b->name, sizeof b->name, "%s%s", prefix, suffix);
    return vidi_safetensors_get_f32(b->model->weights, b->name, ndim, shape, out);
}

static float *own(vidi_vivit *m, size_t count) {
    float **owned = realloc(m->owned, sizeof(float *) * (size_t)(m->n_owned + 1));
    if (!owned) return NULL;
    m->owned = owned;
    float *p = malloc(sizeof(float) * count);
    if (p) m->owned[m->n_owned++] = p;
    return p;
}

/* HF keeps q, k, v as three Linear layers; the engine wants one fused GEMM. */
static vidi_status fuse_hf_qkv(binder *b, const char *prefix, vivit_attn_w *w) {
    vidi_vivit *m = b->model;
    int64_t d = m->cfg.hidden;
    static const char *const parts[3] = {"query", "key", "value"};
    float *qkv = own(m, (size_t)(3 * d * d)), *bias = m->cfg.qkv_bias ? own(m, (size_t)(3 * d)) : NULL;
    if (!qkv || (m->cfg.qkv_bias && !bias)) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory fusing %sq/k/v", prefix);
    for (int p = 0; p < 3; p++) {
        char suffix[96];
        const float *src;
        vidi_status s;
        snprintf(suffix, sizeof suffix, "attention.attention.%s.weight", parts[p]);
        if ((s = get(b, prefix, suffix, 2, d, d, 0, &src))) return s;
        memcpy(qkv + p * d * d, src, sizeof(float) * (size_t)(d * d));
        if (bias) {
            snprintf(suffix, sizeof suffix, "attention.attention.%s.bias", parts[p]);
            if ((s = get(b, prefix, suffix, 1, d, 0, 0, &src))) return s;
            memcpy(bias + p * d, src, sizeof(float) * (size_t)d);
        }
    }
    w->qkv_w = qkv, w->qkv_b = bias;
    return VIDI_OK;
}

/* vidi attention: "<p>{ln,qkv,proj}" where ln is "ln1" in plain blocks. */
static vidi_status bind_attn(binder *b, const char *p, const char *ln, vivit_attn_w *w) {
    int64_t d = b->model->cfg.hidden;
    char lw[32], lb[32];
    snprintf(lw, sizeof lw, "%s.weight", ln);
    snprintf(lb, sizeof lb, "%s.bias", ln);
    vidi_status s;
    if ((s = get(b, p, lw, 1, d, 0, 0, &w->ln_w)) || (s = get(b, p, lb, 1, d, 0, 0, &w->ln_b)) ||
        (s = get(b, p, "qkv.weight", 2, 3 * d, d, 0, &w->qkv_w)) || (s = get(b, p, "proj.weight", 2, d, d, 0, &w->proj_w)) ||
        (s = get(b, p, "proj.bias", 1, d, 0, 0, &w->proj_b)))
        return s;
    w->qkv_b = NULL;
    return b->model->cfg.qkv_bias ? get(b, p, "qkv.bias", 1, 3 * d, 0, 0, &w->qkv_b) : VIDI_OK;
}

static vidi_status bind_block(binder *b, const char *prefix, int i, vivit_block *l) {
    const vidi_vivit_config *c = &b->model->cfg;
    int64_t d = c->hidden, f = c->mlp_dim;
    char p[128], sub[160];
    vidi_status s;
    if (b->model->hf) {
        snprintf(p, sizeof p, "vivit.encoder.layer.%d.", i);
        if ((s = get(b, p, "layernorm_before.weight", 1, d, 0, 0, &l->attn.ln_w)) ||
            (s = get(b, p, "layernorm_before.bias", 1, d, 0, 0, &l->attn.ln_b)) || (s = fuse_hf_qkv(b, p, &l->attn)) ||
            (s = get(b, p, "attention.output.dense.weight", 2, d, d, 0, &l->attn.proj_w)) ||
            (s = get(b, p, "attention.output.dense.bias", 1, d, 0, 0, &l->attn.proj_b)) ||
            (s = get(b, p, "layernorm_after.weight", 1, d, 0, 0, &l->ln2_w)) ||
            (s = get(b, p, "layernorm_after.bias", 1, d, 0, 0, &l->ln2_b)) ||
            (s = get(b, p, "intermediate.dense.weight", 2, f, d, 0, &l->fc1_w)) ||
            (s = get(b, p, "intermediate.dense.bias", 1, f, 0, 0, &l->fc1_b)) ||
            (s = get(b, p, "output.dense.weight", 2, d, f, 0, &l->fc2_w)) ||
            (s = get(b, p, "output.dense.bias", 1, d, 0, 0, &l->fc2_b)))
            return s;
        return VIDI_OK;
    }
    snprintf(p, sizeof p, "%slayers.%d.", prefix, i);
    if (c->variant == VIDI_VIVIT_FACTORISED_SELF_ATTENTION) {
        snprintf(sub, sizeof sub, "%sspatial.", p);
        if ((s = bind_attn(b, sub, "ln", &l->attn))) return s;
        snprintf(sub, sizeof sub, "%stemporal.", p);
        if ((s = bind_attn(b, sub, "ln", &l->temporal))) return s;
    } else if ((s = bind_attn(b, p, "ln1", &l->attn))) {
        return s;
    }
    if ((s = get(b, p, "ln2.weight", 1, d, 0, 0, &l->ln2_w)) || (s = get(b, p, "ln2.bias", 1, d, 0, 0, &l->ln2_b)) ||
        (s = get(b, p, "fc1.weight", 2, f, d, 0, &l->fc1_w)) || (s = get(b, p, "fc1.bias", 1, f, 0, 0, &l->fc1_b)) ||
        (s = get(b, p, "fc2.weight", 2, d, f, 0, &l->fc2_w)) || (s = get(b, p, "fc2.bias", 1, d, 0, 0, &l->fc2_b)))
        return s;
    return VIDI_OK;
}

/* prefix: "" (models 1, 3, 4), "spatial." / "temporal." (model 2), "vivit." (HF).
 * tokens: rows of the position embedding; with_cls: a cls token precedes them. */
static vidi_status bind_stage(binder *b, const char *prefix, int depth, int64_t tokens, int with_cls, vivit_stage *st) {
    int64_t d = b->model->cfg.hidden;
    const char *emb = b->model->hf ? "vivit.embeddings." : !strcmp(prefix, "") ? "embeddings." : prefix;
    vidi_status s;
    st->depth = depth;
    st->cls = NULL;
    if ((with_cls && (s = get(b, emb, "cls_token", 3, 1, 1, d, &st->cls))) ||
        (s = get(b, emb, "position_embeddings", 3, 1, tokens, d, &st->pos)))
        return s;
    if (!(st->layer = calloc((size_t)depth, sizeof *st->layer))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (int i = 0; i < depth; i++)
        if ((s = bind_block(b, prefix, i, &st->layer[i]))) return s;
    const char *norm = b->model->hf ? "vivit.layernorm." : NULL;
    char buf[64];
    if (!norm) snprintf(buf, sizeof buf, "%snorm.", prefix), norm = buf;
    if ((s = get(b, norm, "weight", 1, d, 0, 0, &st->norm_w)) || (s = get(b, norm, "bias", 1, d, 0, 0, &st->norm_b)))
        return s;
    return VIDI_OK;
}

vidi_status vivit_bind_weights(vidi_vivit *m) {
    const vidi_vivit_config *c = &m->cfg;
    binder b = {.model = m};
    int64_t d = c->hidden, nt = m->nt, ns = m->ns;
    const char *patch = m->hf ? "vivit.embeddings.patch_embeddings.projection." : "embeddings.patch.";
    const char *head = m->hf ? "classifier." : "head.";
    int64_t kshape[5] = {d, c->channels, c->tubelet_t, c->tubelet_h, c->tubelet_w};
    vidi_status s;
    snprintf(b.name, sizeof b.name, "%sweight", patch);
    if ((s = vidi_safetensors_get_f32(m->weights, b.name, 5, kshape, &m->patch_w)) ||
        (s = get(&b, patch, "bias", 1, d, 0, 0, &m->patch_b)) ||
        (s = get(&b, head, "weight", 2, c->num_labels, d, 0, &m->head_w)) ||
        (s = get(&b, head, "bias", 1, c->num_labels, 0, 0, &m->head_b)))
        return s;
    switch (c->variant) {
    case VIDI_VIVIT_SPATIOTEMPORAL:
        return bind_stage(&b, "", c->layers, 1 + nt * ns, 1, &m->enc);
    case VIDI_VIVIT_FACTORISED_ENCODER:
        if ((s = bind_stage(&b, "spatial.", c->layers, 1 + ns, 1, &m->enc))) return s;
        return bind_stage(&b, "temporal.", c->temporal_layers, 1 + nt, 1, &m->temporal);
    default:
        return bind_stage(&b, "", c->layers, nt * ns, 0, &m->enc);
    }
}
