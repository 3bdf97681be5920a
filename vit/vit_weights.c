/* Binds checkpoint tensors to the ViT's weights, for the three naming
 * schemes users have: Hugging Face (separate q/k/v), timm and torchvision
 * (fused qkv, q then k then v along the output dimension). Every tensor is
 * fetched with the shape the config implies, so a mismatched checkpoint fails
 * here with the tensor's name instead of producing garbage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vit/vit_internal.h"

typedef struct vit_names {
    const char *cls, *pos, *patch_w, *patch_b;
    const char *ln1_w, *ln1_b, *qkv_w, *qkv_b, *proj_w, *proj_b;
    const char *ln2_w, *ln2_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    const char *norm_w, *norm_b, *head_w, *head_b;
} vit_names;

/* %s is the HF prefix ("vit." or ""), %d the layer index. HF q/k/v are
 * "…attention.attention.{query,key,value}.{weight,bias}". */
static const vit_names hf_names = {
    "%sembeddings.cls_token", "%sembeddings.position_embeddings",
    "%sembeddings.patch_embeddings.projection.weight", "%sembeddings.patch_embeddings.projection.bias",
    "%sencoder.layer.%d.layernorm_before.weight", "%sencoder.layer.%d.layernorm_before.bias",
    NULL, NULL,
    "%sencoder.layer.%d.attention.output.dense.weight", "%sencoder.layer.%d.attention.output.dense.bias",
    "%sencoder.layer.%d.layernorm_after.weight", "%sencoder.layer.%d.layernorm_after.bias",
    "%sencoder.layer.%d.intermediate.dense.weight", "%sencoder.layer.%d.intermediate.dense.bias",
    "%sencoder.layer.%d.output.dense.weight", "%sencoder.layer.%d.output.dense.bias",
    "%slayernorm.weight", "%slayernorm.bias", "classifier.weight", "classifier.bias",
};

static const vit_names timm_names = {
    "%scls_token", "%spos_embed", "%spatch_embed.proj.weight", "%spatch_embed.proj.bias",
    "%sblocks.%d.norm1.weight", "%sblocks.%d.norm1.bias",
    "%sblocks.%d.attn.qkv.weight", "%sblocks.%d.attn.qkv.bias",
    "%sblocks.%d.attn.proj.weight", "%sblocks.%d.attn.proj.bias",
    "%sblocks.%d.norm2.weight", "%sblocks.%d.norm2.bias",
    "%sblocks.%d.mlp.fc1.weight", "%sblocks.%d.mlp.fc1.bias",
    "%sblocks.%d.mlp.fc2.weight", "%sblocks.%d.mlp.fc2.bias",
    "%snorm.weight", "%snorm.bias", "head.weight", "head.bias",
};

static const vit_names torchvision_names = {
    "%sclass_token", "%sencoder.pos_embedding", "%sconv_proj.weight", "%sconv_proj.bias",
    "%sencoder.layers.encoder_layer_%d.ln_1.weight", "%sencoder.layers.encoder_layer_%d.ln_1.bias",
    "%sencoder.layers.encoder_layer_%d.self_attention.in_proj_weight",
    "%sencoder.layers.encoder_layer_%d.self_attention.in_proj_bias",
    "%sencoder.layers.encoder_layer_%d.self_attention.out_proj.weight",
    "%sencoder.layers.encoder_layer_%d.self_attention.out_proj.bias",
    "%sencoder.layers.encoder_layer_%d.ln_2.weight", "%sencoder.layers.encoder_layer_%d.ln_2.bias",
    "%sencoder.layers.encoder_layer_%d.mlp.0.weight", "%sencoder.layers.encoder_layer_%d.mlp.0.bias",
    "%sencoder.layers.encoder_layer_%d.mlp.3.weight", "%sencoder.layers.encoder_layer_%d.mlp.3.bias",
    "%sencoder.ln.weight", "%sencoder.ln.bias", "heads.head.weight", "heads.head.bias",
};

typedef struct binder {
    vidi_vit *model;
    const char *prefix;
    char name[256];
} binder;

static vidi_status get(binder *b, const char *fmt, int layer, int ndim, int64_t d0, int64_t d1,
                       int64_t d2, int64_t d3, const float **out) {
    int64_t shape[4] = {d0, d1, d2, d3};
    /* The format strings take (prefix, layer); those without %d ignore the layer. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(b->name, sizeof b->name, fmt, b->prefix, layer);
#pragma GCC diagnostic pop
    return vidi_safetensors_get_f32(b->model->weights, b->name, ndim, shape, out);
}

/* HF keeps q, k, v as three Linear layers; the engine wants one fused GEMM. */
static vidi_status fuse_hf_qkv(binder *b, int layer, vit_layer *l) {
    vidi_vit *m = b->model;
    int64_t d = m->cfg.hidden;
    static const char *const parts[3] = {"query", "key", "value"};
    float *w = malloc(sizeof(float) * 3 * d * d);
    float *bias = m->cfg.qkv_bias ? malloc(sizeof(float) * 3 * d) : NULL;
    float **owned = realloc(m->owned, sizeof(float *) * (size_t)(m->n_owned + 2));
    if (!w || (m->cfg.qkv_bias && !bias) || !owned) {
        free(w);
        free(bias);
        if (owned) m->owned = owned;
        return vidi_set_error(VIDI_ERR_NOMEM, "out of memory fusing layer %d q/k/v", layer);
    }
    m->owned = owned;
    m->owned[m->n_owned++] = w;
    if (bias) m->owned[m->n_owned++] = bias;
    for (int p = 0; p < 3; p++) {
        char fmt[160];
        const float *src;
        snprintf(fmt, sizeof fmt, "%%sencoder.layer.%%d.attention.attention.%s.weight", parts[p]);
        vidi_status st = get(b, fmt, layer, 2, d, d, 0, 0, &src);
        if (st != VIDI_OK) return st;
        memcpy(w + p * d * d, src, sizeof(float) * d * d);
        if (bias) {
            snprintf(fmt, sizeof fmt, "%%sencoder.layer.%%d.attention.attention.%s.bias", parts[p]);
            if ((st = get(b, fmt, layer, 1, d, 0, 0, 0, &src)) != VIDI_OK) return st;
            memcpy(bias + p * d, src, sizeof(float) * d);
        }
    }
    l->qkv_w = w;
    l->qkv_b = bias;
    return VIDI_OK;
}

static vidi_status bind_layer(binder *b, const vit_names *n, int i, vit_layer *l) {
    const vidi_vit_config *c = &b->model->cfg;
    int64_t d = c->hidden, f = c->mlp_dim;
    vidi_status st;
#define GET(fmt, ndim, a, bb, out)                                             \
    if ((st = get(b, (fmt), i, (ndim), (a), (bb), 0, 0, (out))) != VIDI_OK) \
        return st;
    GET(n->ln1_w, 1, d, 0, &l->ln1_w);
    GET(n->ln1_b, 1, d, 0, &l->ln1_b);
    if (n->qkv_w) {
        GET(n->qkv_w, 2, 3 * d, d, &l->qkv_w);
        l->qkv_b = NULL;
        if (c->qkv_bias) GET(n->qkv_b, 1, 3 * d, 0, &l->qkv_b);
    } else if ((st = fuse_hf_qkv(b, i, l)) != VIDI_OK) {
        return st;
    }
    GET(n->proj_w, 2, d, d, &l->proj_w);
    GET(n->proj_b, 1, d, 0, &l->proj_b);
    GET(n->ln2_w, 1, d, 0, &l->ln2_w);
    GET(n->ln2_b, 1, d, 0, &l->ln2_b);
    GET(n->fc1_w, 2, f, d, &l->fc1_w);
    GET(n->fc1_b, 1, f, 0, &l->fc1_b);
    GET(n->fc2_w, 2, d, f, &l->fc2_w);
    GET(n->fc2_b, 1, d, 0, &l->fc2_b);
#undef GET
    return VIDI_OK;
}

vidi_status vit_bind_weights(vidi_vit *m) {
    const vidi_vit_config *c = &m->cfg;
    const vit_names *n = c->format == VIDI_VIT_HF     ? &hf_names
                         : c->format == VIDI_VIT_TIMM ? &timm_names
                                                      : &torchvision_names;
    binder b = {.model = m, .prefix = ""};
    if (c->format == VIDI_VIT_HF && vidi_safetensors_find(m->weights, "vit.embeddings.cls_token"))
        b.prefix = "vit.";
    int64_t d = c->hidden, p = c->patch_size;
    int64_t tokens = (int64_t)(c->image_size / c->patch_size) * (c->image_size / c->patch_size) + 1;
    vidi_status st;
    if ((st = get(&b, n->cls, 0, 3, 1, 1, d, 0, &m->cls)) != VIDI_OK ||
        (st = get(&b, n->pos, 0, 3, 1, tokens, d, 0, &m->pos)) != VIDI_OK ||
        (st = get(&b, n->patch_w, 0, 4, d, c->channels, p, p, &m->patch_w)) != VIDI_OK ||
        (st = get(&b, n->patch_b, 0, 1, d, 0, 0, 0, &m->patch_b)) != VIDI_OK)
        return st;
    m->layer = calloc((size_t)c->layers, sizeof *m->layer);
    if (!m->layer) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (int i = 0; i < c->layers; i++)
        if ((st = bind_layer(&b, n, i, &m->layer[i])) != VIDI_OK) return st;
    if ((st = get(&b, n->norm_w, 0, 1, d, 0, 0, 0, &m->norm_w)) != VIDI_OK ||
        (st = get(&b, n->norm_b, 0, 1, d, 0, 0, 0, &m->norm_b)) != VIDI_OK)
        return st;
    /* The head's names carry no prefix in any of the three schemes. */
    b.prefix = "";
    if ((st = get(&b, n->head_w, 0, 2, c->num_labels, d, 0, 0, &m->head_w)) != VIDI_OK ||
        (st = get(&b, n->head_b, 0, 1, c->num_labels, 0, 0, 0, &m->head_b)) != VIDI_OK)
        return st;
    return VIDI_OK;
}
