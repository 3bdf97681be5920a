/* The denoiser's forward pass, written once against the backend interface
 * (tools/diffusion_reference.py is the same model in PyTorch).
 *
 * Tokens are [T, S] frame-major rows. Spatial attention is T sequences of S
 * consecutive rows; temporal attention S sequences of T rows S rows apart;
 * both read the fused QKV in place through the layout descriptor.
 * TMSA's time term t_emb W_qkv_t is the same for every token, so it is
 * computed once per block and handed to the QKV GEMM as its bias. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diffusion/denoiser_internal.h"

#define TRY(call)                                 \
    do {                                          \
        vidi_status s_ = (call);                  \
        if (s_ != VIDI_OK) return s_;             \
    } while (0)

/* Hooks see host memory: on a device backend the activation is downloaded. */
static vidi_status report(vidi_denoiser *m, vidi_denoiser_hook hook, void *user, const char *name, const float *data,
                          int64_t rows, int64_t cols) {
    if (!hook) return VIDI_OK;
    const float *host =
        vidi_device_store_host_view(m->be, data, (size_t)(rows * cols), &m->hook_scratch, &m->hook_scratch_n);
    if (!host) return VIDI_ERR_NOMEM;
    hook(user, name, host, rows, cols);
    return VIDI_OK;
}

static vidi_status attention(vidi_denoiser *m, int temporal) {
    const vidi_backend *be = m->be;
    int64_t d = m->cfg.hidden, hd = d / m->cfg.heads, s = (int64_t)m->grid * m->grid, t = m->cfg.frames;
    vidi_attn_layout l = {.heads = m->cfg.heads, .head_dim = (int)hd};
    l.q_head = l.k_head = l.v_head = l.o_head = hd;
    if (temporal) { /* one sequence per spatial position: rows s, s+S, ... */
        l.batch = (int)s, l.q_len = l.kv_len = (int)t;
        l.q_batch = l.k_batch = l.v_batch = 3 * d, l.o_batch = d;
        l.q_tok = l.k_tok = l.v_tok = s * 3 * d, l.o_tok = s * d;
    } else { /* one sequence per frame */
        l.batch = (int)t, l.q_len = l.kv_len = (int)s;
        l.q_batch = l.k_batch = l.v_batch = s * 3 * d, l.o_batch = s * d;
        l.q_tok = l.k_tok = l.v_tok = 3 * d, l.o_tok = d;
    }
    return be->attention(be, m->attn, m->qkv, m->qkv + d, m->qkv + 2 * d, &l, 1.0f / sqrtf((float)hd));
}

/* m->h = LN(x)(1 + scale) + shift (DiT's modulate), as the layernorm's affine. */
static vidi_status ada_layernorm(vidi_denoiser *m, const float *x, const float *scale, const float *shift) {
    const vidi_backend *be = m->be;
    int64_t d = m->cfg.hidden;
    TRY(be->add(be, m->gamma, m->ones, scale, d));
    return be->layernorm(be, m->h, x, m->gamma, shift, m->tokens, d, m->cfg.ln_eps);
}

/* Block i: reads x_in, leaves its output in x_out (x_out may equal x_in). */
static vidi_status block(vidi_denoiser *m, int i, const float *x_in, float *x_out) {
    const vidi_backend *be = m->be;
    const vidi_denoiser_config *c = &m->cfg;
    const denoiser_block *l = &m->block[i];
    int64_t n = m->tokens, d = c->hidden;
    float *ada = m->ada;
    TRY(be->linear(be, ada, m->gcond, l->ada_w, l->ada_b, 1, d, 6 * d, VIDI_ACT_NONE));
    /* attention: h = LN(x)(1 + scale) + shift; x += gate * proj(attn(qkv)) */
    TRY(ada_layernorm(m, x_in, ada + d, ada));
    TRY(be->linear(be, m->tq, m->temb, l->qkv_t_w, l->qkv_b, 1, d, 3 * d, VIDI_ACT_NONE));
    TRY(be->linear(be, m->qkv, m->h, l->qkv_w, m->tq, n, d, 3 * d, VIDI_ACT_NONE));
    TRY(attention(m, l->temporal));
    TRY(be->linear(be, m->h, m->attn, l->proj_w, l->proj_b, n, d, d, VIDI_ACT_NONE));
    TRY(be->modulate(be, x_out, m->h, ada + 2 * d, 0.0f, NULL, x_in, n, d));
    /* MLP, same pattern */
    TRY(ada_layernorm(m, x_out, ada + 4 * d, ada + 3 * d));
    TRY(be->linear(be, m->mlp, m->h, l->fc1_w, l->fc1_b, n, d, c->mlp_dim, VIDI_ACT_GELU_TANH));
    TRY(be->linear(be, m->h, m->mlp, l->fc2_w, l->fc2_b, n, c->mlp_dim, d, VIDI_ACT_NONE));
    return be->modulate(be, x_out, m->h, ada + 5 * d, 0.0f, NULL, x_out, n, d);
}

/* Host-side input assembly: [T, Cin, H, W] with x_t (zeros when NULL),
 * known*mask, mask. */
static void build_input(vidi_denoiser *m, const float *xt, const float *known, const float *mask, float *video) {
    const vidi_denoiser_config *c = &m->cfg;
    int64_t hw = (int64_t)c->image_size * c->image_size, C = c->channels;
    for (int f = 0; f < c->frames; f++) {
        float *dst = video + (int64_t)f * m->in_channels * hw;
        if (xt) memcpy(dst, xt + f * C * hw, sizeof(float) * (size_t)(C * hw));
        else memset(dst, 0, sizeof(float) * (size_t)(C * hw));
        if (!c->inpaint) continue;
        const float *mk = mask ? mask + f * hw : NULL;
        for (int64_t ch = 0; ch < C; ch++)
            for (int64_t i = 0; i < hw; i++)
                dst[(C + ch) * hw + i] = mk && known ? known[(f * C + ch) * hw + i] * mk[i] : 0.0f;
        for (int64_t i = 0; i < hw; i++) dst[2 * C * hw + i] = mk ? mk[i] : 0.0f;
    }
}

/* DiT's sinusoid in double: cos then sin of t * 10000^(-i/half). */
static void sinusoid(int t, int dim, float *out) {
    int half = dim / 2;
    for (int i = 0; i < half; i++) {
        double arg = (double)t * exp(-log(10000.0) * i / half);
        out[i] = (float)cos(arg);
        out[half + i] = (float)sin(arg);
    }
}

/* [tokens, p*p*Cout] (channel, row, col per token) -> eps / v [T, C, H, W]. */
static void unpatchify(const vidi_denoiser *m, const float *tok, float *eps, float *v) {
    const vidi_denoiser_config *c = &m->cfg;
    int p = c->patch, g = m->grid, C = c->channels, H = c->image_size, P = p * p * m->out_channels;
    for (int f = 0; f < c->frames; f++)
        for (int gy = 0; gy < g; gy++)
            for (int gx = 0; gx < g; gx++) {
                const float *src = tok + ((int64_t)(f * g + gy) * g + gx) * P;
                for (int co = 0; co < m->out_channels; co++) {
                    float *dst = co < C ? eps : v;
                    if (!dst) continue;
                    int ch = co % C;
                    for (int i = 0; i < p; i++)
                        for (int j = 0; j < p; j++)
                            dst[(((int64_t)f * C + ch) * H + gy * p + i) * H + gx * p + j] = src[(co * p + i) * p + j];
                }
            }
}

/* The checks every forward starts with; *label becomes the embedding row. */
static vidi_status check_call(const vidi_denoiser *m, int t, int *label) {
    const vidi_denoiser_config *c = &m->cfg;
    if (t < 0 || t >= c->diffusion_steps)
        return vidi_set_error(VIDI_ERR_ARG, "denoiser: timestep %d outside 0..%d", t, c->diffusion_steps - 1);
    if (*label < -1 || *label > c->num_classes)
        return vidi_set_error(VIDI_ERR_ARG, "denoiser: label %d outside 0..%d (or -1 for none)", *label, c->num_classes - 1);
    if (*label < 0) *label = c->num_classes; /* the null label's row */
    return VIDI_OK;
}

/* From the input video (backend memory, [T, in_channels, H, W]) to the
 * output tokens in m->out; nothing waits for the device. */
static vidi_status forward_tokens(vidi_denoiser *m, const float *video, int t, int label, vidi_denoiser_hook hook,
                                  void *user) {
    const vidi_denoiser_config *c = &m->cfg;
    const vidi_backend *be = m->be;
    int64_t n = m->tokens, d = c->hidden, half = c->depth / 2, P = (int64_t)c->patch * c->patch * m->out_channels;
    vidi_patch_layout pl = {.frames = c->frames, .channels = m->in_channels, .height = c->image_size,
                            .width = c->image_size, .patch_t = 1, .patch_h = c->patch, .patch_w = c->patch,
                            .hidden = c->hidden, .out_row_stride = d};
    TRY(be->patch_embed(be, m->x, video, m->patch_w, m->patch_b, &pl));
    TRY(be->add(be, m->x, m->x, m->pos, n * d));
    TRY(report(m, hook, user, "embed", m->x, n, d));

    sinusoid(t, c->freq_dim, m->stage);
    TRY(be->upload(be, m->tsin, m->stage, sizeof(float) * (size_t)c->freq_dim));
    TRY(be->linear(be, m->thid, m->tsin, m->t_fc1_w, m->t_fc1_b, 1, c->freq_dim, d, VIDI_ACT_GELU_TANH));
    TRY(be->linear(be, m->temb, m->thid, m->t_fc2_w, m->t_fc2_b, 1, d, d, VIDI_ACT_NONE));
    TRY(be->add(be, m->cond, m->temb, m->y_embed + (int64_t)label * d, d));
    TRY(be->gelu(be, m->gcond, m->cond, d, VIDI_ACT_GELU_TANH));
    TRY(report(m, hook, user, "t_emb", m->temb, 1, d));
    TRY(report(m, hook, user, "cond", m->gcond, 1, d));

    /* First half: block i writes skips[i] (kept for the U-ViT skip); second
     * half: x = skip(x) + skip_s(skips[depth-1-i]), then the block in place. */
    const float *x = m->x;
    for (int i = 0; i < c->depth; i++) {
        float *dst;
        if (i < half) {
            dst = m->skips[i];
        } else {
            const denoiser_block *l = &m->block[i];
            TRY(be->linear(be, m->tmp, x, l->skip_w, l->skip_b, n, d, d, VIDI_ACT_NONE));
            TRY(be->linear(be, m->h, m->skips[c->depth - 1 - i], l->skip_s_w, NULL, n, d, d, VIDI_ACT_NONE));
            TRY(be->add(be, m->x, m->tmp, m->h, n * d));
            x = dst = m->x;
        }
        TRY(block(m, i, x, dst));
        x = dst;
        if (hook) {
            char name[32];
            snprintf(name, sizeof name, "block.%d", i);
            TRY(report(m, hook, user, name, x, n, d));
        }
    }
    TRY(be->linear(be, m->ada, m->gcond, m->final_ada_w, m->final_ada_b, 1, d, 2 * d, VIDI_ACT_NONE));
    TRY(ada_layernorm(m, x, m->ada + d, m->ada));
    return be->linear(be, m->out, m->h, m->final_w, m->final_b, n, d, P, VIDI_ACT_NONE);
}

vidi_status vidi_denoiser_forward(vidi_denoiser *m, const float *xt, int t, int label, const float *known,
                                  const float *mask, float *eps, float *v, vidi_denoiser_hook hook, void *user) {
    if (!m || !xt || !eps) return vidi_set_error(VIDI_ERR_ARG, "vidi_denoiser_forward: model, xt and eps are required");
    TRY(check_call(m, t, &label));
    const vidi_denoiser_config *c = &m->cfg;
    const vidi_backend *be = m->be;
    int64_t P = (int64_t)c->patch * c->patch * m->out_channels;
    int64_t video_floats = (int64_t)c->frames * m->in_channels * c->image_size * c->image_size;
    /* Inputs are assembled in host staging memory, then uploaded. */
    build_input(m, xt, known, mask, m->stage);
    TRY(be->upload(be, m->video, m->stage, sizeof(float) * (size_t)video_floats));
    TRY(forward_tokens(m, m->video, t, label, hook, user));
    TRY(be->synchronize(be));
    TRY(be->download(be, m->stage, m->out, sizeof(float) * (size_t)(m->tokens * P)));
    if (hook) hook(user, "final", m->stage, m->tokens, P); /* already on the host */
    unpatchify(m, m->stage, eps, c->learn_sigma ? v : NULL);
    if (c->velocity) { /* eps = sqrt(abar) u + sqrt(1 - abar) x_t */
        double sa = m->process->sqrt_alphas_cumprod[t], s1a = m->process->sqrt_one_minus_alphas_cumprod[t];
        int64_t n = (int64_t)c->frames * c->channels * c->image_size * c->image_size;
        for (int64_t i = 0; i < n; i++) eps[i] = (float)(sa * eps[i] + s1a * xt[i]);
    }
    if (v && !c->learn_sigma) memset(v, 0, sizeof(float) * (size_t)c->frames * c->channels * c->image_size * c->image_size);
    return VIDI_OK;
}

/* ---- the forward on backend memory, for the sampling loop ---- */

vidi_status denoiser_set_known(vidi_denoiser *m, const float *known, const float *mask) {
    if (!m->cfg.inpaint) return VIDI_OK;
    const vidi_denoiser_config *c = &m->cfg;
    int64_t video_floats = (int64_t)c->frames * m->in_channels * c->image_size * c->image_size;
    build_input(m, NULL, known, mask, m->stage); /* x_t: each forward copies it in */
    return m->be->upload(m->be, m->video, m->stage, sizeof(float) * (size_t)video_floats);
}

/* eps = sqrt(abar) u + sqrt(1 - abar) x_t in place, in the backend's memory.
 * The backend interface has no scaled add, but a DDPM sampler step without
 * noise, clipping or guidance is one: with ra = 0 and rm1 = -sqrt(abar) its
 * x0 is sqrt(abar) u, and out = c1 x0 + c2 x_t (c1 = 1, c2 = sqrt(1 - abar)),
 * computed in double on every tier. */
static vidi_status velocity_to_eps(vidi_denoiser *m, const float *xt, int t, float *eps) {
    const vidi_denoiser_config *c = &m->cfg;
    vidi_sampler_step s = {.kind = VIDI_STEP_DDPM, .out = eps, .xt = xt, .eps = eps, .ra = 0.0,
                           .rm1 = -m->process->sqrt_alphas_cumprod[t], .c1 = 1.0,
                           .c2 = m->process->sqrt_one_minus_alphas_cumprod[t]};
    return m->be->sampler_step(m->be, &s, (int64_t)c->frames * c->channels * c->image_size * c->image_size);
}

vidi_status denoiser_forward_on(vidi_denoiser *m, const float *xt, int t, int label, float *eps, float *v) {
    TRY(check_call(m, t, &label));
    const vidi_denoiser_config *c = &m->cfg;
    const vidi_backend *be = m->be;
    if (v && !c->learn_sigma) return vidi_set_error(VIDI_ERR_ARG, "denoiser: v asked of a model without learned variance");
    int64_t hw = (int64_t)c->image_size * c->image_size, C = c->channels;
    const float *video = xt; /* a plain model's input is x_t itself */
    if (c->inpaint) {
        /* x_t into channels [0, C) of each frame; the known pixels and the mask
         * are there from denoiser_set_known. gelu without an activation is the
         * backend interface's copy. */
        for (int f = 0; f < c->frames; f++)
            TRY(be->gelu(be, m->video + f * m->in_channels * hw, xt + f * C * hw, C * hw, VIDI_ACT_NONE));
        video = m->video;
    }
    TRY(forward_tokens(m, video, t, label, NULL, NULL));
    vidi_patch_layout ul = {.frames = c->frames, .channels = m->out_channels, .height = c->image_size,
                            .width = c->image_size, .patch_t = 1, .patch_h = c->patch, .patch_w = c->patch,
                            .hidden = c->patch * c->patch * m->out_channels,
                            .out_row_stride = (int64_t)c->patch * c->patch * m->out_channels};
    TRY(be->unpatchify(be, eps, m->out, &ul, 0, (int)C));
    if (c->velocity) TRY(velocity_to_eps(m, xt, t, eps));
    return v ? be->unpatchify(be, v, m->out, &ul, (int)C, (int)C) : VIDI_OK;
}
