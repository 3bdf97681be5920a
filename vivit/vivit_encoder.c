/* ViViT encoder blocks, written once against the backend interface.
 *
 * Every attention reads the fused QKV activation [rows, 3D] in place through
 * the engine's attention layout descriptor; no token is ever gathered:
 *   sequence  `batch` runs of `len` consecutive rows (model 1 joint, model 2
 *             spatial per time index and temporal, model 3/4 spatial)
 *   time      one sequence per spatial position s: rows s, s+S, s+2S, ...
 *             (q_tok = S*3D row stride, batch stride one row)
 *   split     model 4: the same two layouts on disjoint head ranges of one
 *             QKV, writing disjoint column ranges of one output. */
#include <math.h>
#include <stdio.h>

#include "vivit/vivit_internal.h"

#define TRY(call)                                 \
    do {                                          \
        vidi_status s_ = (call);                  \
        if (s_ != VIDI_OK) return s_;             \
    } while (0)

vidi_status vivit_report(vidi_vivit *m, vidi_layer_hook hook, void *user, const char *name, const float *data,
                         int64_t rows, int64_t cols) {
    if (!hook) return VIDI_OK;
    /* Hooks see host memory: on a device backend the activation is downloaded. */
    const float *host =
        vidi_device_store_host_view(m->be, data, (size_t)(rows * cols), &m->hook_scratch, &m->hook_scratch_n);
    if (!host) return VIDI_ERR_NOMEM;
    hook(user, name, host, rows, cols);
    return VIDI_OK;
}

/* Heads [h0, h0+nh) of the fused qkv: `batch` groups `bstride` rows apart,
 * each `len` tokens `tok` rows apart. */
typedef struct attn_call {
    int batch, len, h0, nh;
    int64_t bstride, tok;
} attn_call;

static vidi_status run_attention(vidi_vivit *m, const attn_call *a) {
    const vidi_backend *be = m->be;
    int64_t d = m->cfg.hidden, hd = d / m->cfg.heads, off = a->h0 * hd;
    vidi_attn_layout l = {.batch = a->batch, .heads = a->nh, .q_len = a->len, .kv_len = a->len, .head_dim = (int)hd};
    l.q_batch = l.k_batch = l.v_batch = a->bstride * 3 * d;
    l.q_head = l.k_head = l.v_head = l.o_head = hd;
    l.q_tok = l.k_tok = l.v_tok = a->tok * 3 * d;
    l.o_batch = a->bstride * d;
    l.o_tok = a->tok * d;
    return be->attention(be, m->attn + off, m->qkv + off, m->qkv + d + off, m->qkv + 2 * d + off, &l,
                         1.0f / sqrtf((float)hd));
}

/* x += proj(attention(ln(x))) over `rows` rows, attention by `calls`. */
static vidi_status attn_sublayer(vidi_vivit *m, const vivit_attn_w *w, float *x, int64_t rows, const attn_call *calls,
                                 int ncalls) {
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int64_t d = c->hidden;
    TRY(be->layernorm(be, m->h, x, w->ln_w, w->ln_b, rows, d, c->ln_eps));
    TRY(be->linear(be, m->qkv, m->h, w->qkv_w, w->qkv_b, rows, d, 3 * d, VIDI_ACT_NONE));
    for (int i = 0; i < ncalls; i++) TRY(run_attention(m, &calls[i]));
    TRY(be->linear(be, m->h, m->attn, w->proj_w, w->proj_b, rows, d, d, VIDI_ACT_NONE));
    return be->add(be, x, x, m->h, rows * d);
}

static vidi_status mlp_sublayer(vidi_vivit *m, const vivit_block *l, float *x, int64_t rows) {
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int64_t d = c->hidden;
    TRY(be->layernorm(be, m->h, x, l->ln2_w, l->ln2_b, rows, d, c->ln_eps));
    TRY(be->linear(be, m->mlp, m->h, l->fc1_w, l->fc1_b, rows, d, c->mlp_dim, c->act));
    TRY(be->linear(be, m->h, m->mlp, l->fc2_w, l->fc2_b, rows, c->mlp_dim, d, VIDI_ACT_NONE));
    return be->add(be, x, x, m->h, rows * d);
}

/* Blocks of `st` over x, `batch` sequences of `len` rows; final norm -> m->h.
 * Hook names "<prefix>layer.i" and (when norm_name) norm_name. */
static vidi_status run_stage(vidi_vivit *m, const vivit_stage *st, float *x, int batch, int len, const char *prefix,
                             const char *norm_name, vidi_layer_hook hook, void *user) {
    const vidi_vivit_config *c = &m->cfg;
    int64_t rows = (int64_t)batch * len, d = c->hidden;
    attn_call seq = {.batch = batch, .len = len, .h0 = 0, .nh = c->heads, .bstride = len, .tok = 1};
    for (int i = 0; i < st->depth; i++) {
        TRY(attn_sublayer(m, &st->layer[i].attn, x, rows, &seq, 1));
        TRY(mlp_sublayer(m, &st->layer[i], x, rows));
        if (hook) {
            char name[48];
            snprintf(name, sizeof name, "%slayer.%d", prefix, i);
            TRY(vivit_report(m, hook, user, name, x, rows, d));
        }
    }
    TRY(m->be->layernorm(m->be, m->h, x, st->norm_w, st->norm_b, rows, d, c->ln_eps));
    if (norm_name) TRY(vivit_report(m, hook, user, norm_name, m->h, rows, d));
    return VIDI_OK;
}

static vidi_patch_layout tubelets(const vidi_vivit *m, int frames, int64_t row_stride) {
    const vidi_vivit_config *c = &m->cfg;
    vidi_patch_layout p = {.frames = frames, .channels = c->channels, .height = c->image_size, .width = c->image_size,
                           .patch_t = c->tubelet_t, .patch_h = c->tubelet_h, .patch_w = c->tubelet_w,
                           .hidden = c->hidden, .out_row_stride = row_stride};
    return p;
}

vidi_status vivit_spatial_encode(vidi_vivit *m, const float *video, int count, vidi_layer_hook hook, void *user) {
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int64_t d = c->hidden, ns = m->ns, len = 1 + ns;
    int64_t tubelet_floats = (int64_t)c->tubelet_t * c->channels * c->image_size * c->image_size;
    /* Each time index is its own sequence [cls; S patches]: one patch_embed
     * per tubelet leaves the cls row free (a single call would pack rows). */
    vidi_patch_layout p = tubelets(m, c->tubelet_t, d);
    for (int i = 0; i < count; i++) {
        float *row0 = m->x + i * len * d;
        TRY(be->patch_embed(be, row0 + d, video + i * tubelet_floats, m->patch_w, m->patch_b, &p));
        TRY(be->add(be, row0, m->enc.cls, m->enc.pos, d));
        TRY(be->add(be, row0 + d, row0 + d, m->enc.pos + d, ns * d));
    }
    TRY(vivit_report(m, hook, user, "embeddings", m->x, count * len, d));
    return run_stage(m, &m->enc, m->x, count, (int)len, "spatial.", "spatial.norm", hook, user);
}

vidi_status vivit_temporal_encode(vidi_vivit *m, vidi_layer_hook hook, void *user) {
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int64_t d = c->hidden, len = 1 + m->nt;
    TRY(vivit_report(m, hook, user, "temporal.embeddings", m->tx, len, d));
    TRY(run_stage(m, &m->temporal, m->tx, 1, (int)len, "temporal.", "final_norm", hook, user));
    return be->linear(be, m->logits, m->h, m->head_w, m->head_b, 1, d, c->num_labels, VIDI_ACT_NONE);
}

/* Model 2: the temporal sequence is the only gather in ViViT — T' cls rows
 * (T'·D floats, e.g. 16x768 for ViViT-B) — done as the position add. */
static vidi_status factorised_encoder(vidi_vivit *m, vidi_layer_hook hook, void *user) {
    const vidi_backend *be = m->be;
    int64_t d = m->cfg.hidden, len = 1 + m->ns;
    TRY(vivit_spatial_encode(m, m->video, m->nt, hook, user));
    TRY(be->add(be, m->tx, m->temporal.cls, m->temporal.pos, d));
    for (int i = 0; i < m->nt; i++) TRY(be->add(be, m->tx + (1 + i) * d, m->h + i * len * d, m->temporal.pos + (1 + i) * d, d));
    return vivit_temporal_encode(m, hook, user);
}

static vidi_status spatiotemporal(vidi_vivit *m, vidi_layer_hook hook, void *user) {
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int64_t d = c->hidden, n = (int64_t)m->nt * m->ns;
    vidi_patch_layout p = tubelets(m, c->num_frames, d);
    TRY(be->add(be, m->x, m->enc.cls, m->enc.pos, d));
    TRY(be->patch_embed(be, m->x + d, m->video, m->patch_w, m->patch_b, &p));
    TRY(be->add(be, m->x + d, m->x + d, m->enc.pos + d, n * d));
    TRY(vivit_report(m, hook, user, "embeddings", m->x, n + 1, d));
    TRY(run_stage(m, &m->enc, m->x, 1, (int)(n + 1), "", "final_norm", hook, user));
    /* The classifier reads the cls token only (row 0). */
    return be->linear(be, m->logits, m->h, m->head_w, m->head_b, 1, d, c->num_labels, VIDI_ACT_NONE);
}

/* Models 3 and 4: no cls token; tokens [T', S] row-major. */
static vidi_status factorised(vidi_vivit *m, vidi_layer_hook hook, void *user) {
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int nt = m->nt, ns = m->ns, hs = c->heads / 2;
    int64_t d = c->hidden, n = (int64_t)nt * ns;
    vidi_patch_layout p = tubelets(m, c->num_frames, d);
    TRY(be->patch_embed(be, m->x, m->video, m->patch_w, m->patch_b, &p));
    TRY(be->add(be, m->x, m->x, m->enc.pos, n * d));
    TRY(vivit_report(m, hook, user, "embeddings", m->x, n, d));
    const attn_call space = {.batch = nt, .len = ns, .h0 = 0, .nh = c->heads, .bstride = ns, .tok = 1};
    const attn_call time = {.batch = ns, .len = nt, .h0 = 0, .nh = c->heads, .bstride = 1, .tok = ns};
    /* Model 4: heads [0, H/2) over space, [H/2, H) over time. */
    const attn_call split[2] = {{.batch = nt, .len = ns, .h0 = 0, .nh = hs, .bstride = ns, .tok = 1},
                                {.batch = ns, .len = nt, .h0 = hs, .nh = c->heads - hs, .bstride = 1, .tok = ns}};
    for (int i = 0; i < c->layers; i++) {
        const vivit_block *l = &m->enc.layer[i];
        if (c->variant == VIDI_VIVIT_FACTORISED_SELF_ATTENTION) {
            const vivit_attn_w *first = c->temporal_first ? &l->temporal : &l->attn;
            const vivit_attn_w *second = c->temporal_first ? &l->attn : &l->temporal;
            TRY(attn_sublayer(m, first, m->x, n, c->temporal_first ? &time : &space, 1));
            TRY(attn_sublayer(m, second, m->x, n, c->temporal_first ? &space : &time, 1));
        } else {
            TRY(attn_sublayer(m, &l->attn, m->x, n, split, 2));
        }
        TRY(mlp_sublayer(m, l, m->x, n));
        if (hook) {
            char name[32];
            snprintf(name, sizeof name, "layer.%d", i);
            TRY(vivit_report(m, hook, user, name, m->x, n, d));
        }
    }
    TRY(be->layernorm(be, m->h, m->x, m->enc.norm_w, m->enc.norm_b, n, d, c->ln_eps));
    TRY(vivit_report(m, hook, user, "final_norm", m->h, n, d));
    /* Global average pooling (Scenic 'gap': norm, then the mean over tokens).
     * The vtable has no reduction op; attention with scale 0 gives every key
     * the weight 1/N, so one query over all N rows of h is their mean. */
    vidi_attn_layout mean = {.batch = 1, .heads = 1, .q_len = 1, .kv_len = (int)n, .head_dim = (int)d,
                             .q_tok = d, .k_tok = d, .v_tok = d, .o_tok = d};
    TRY(be->attention(be, m->pooled, m->h, m->h, m->h, &mean, 0.0f));
    return be->linear(be, m->logits, m->pooled, m->head_w, m->head_b, 1, d, c->num_labels, VIDI_ACT_NONE);
}

vidi_status vidi_vivit_forward(vidi_vivit *m, const float *clip, float *logits, vidi_layer_hook hook, void *user) {
    if (!m || !clip || !logits) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_forward: model, clip and logits are required");
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    TRY(be->upload(be, m->video, clip,
                   sizeof(float) * (size_t)c->num_frames * c->channels * c->image_size * c->image_size));
    switch (c->variant) {
    case VIDI_VIVIT_SPATIOTEMPORAL: TRY(spatiotemporal(m, hook, user)); break;
    case VIDI_VIVIT_FACTORISED_ENCODER: TRY(factorised_encoder(m, hook, user)); break;
    default: TRY(factorised(m, hook, user)); break;
    }
    TRY(be->synchronize(be));
    TRY(be->download(be, logits, m->logits, sizeof(float) * (size_t)c->num_labels));
    if (hook) hook(user, "logits", logits, 1, c->num_labels);
    return VIDI_OK;
}
