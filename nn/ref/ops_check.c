#include "nn/ref/ops_check.h"

#include <math.h>
#include <stddef.h>

static int act_valid(vidi_act act) {
    return act == VIDI_ACT_NONE || act == VIDI_ACT_GELU_ERF || act == VIDI_ACT_GELU_TANH;
}

vidi_status vidi_check_linear(const float *out, const float *in, const float *weight, int64_t rows,
                              int64_t in_f, int64_t out_f, vidi_act act) {
    if (rows < 0 || in_f <= 0 || out_f <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "linear: bad dims rows=%lld in_f=%lld out_f=%lld",
                              (long long)rows, (long long)in_f, (long long)out_f);
    if (in_f > INT32_MAX || out_f > INT32_MAX || rows > INT32_MAX)
        return vidi_set_error(VIDI_ERR_ARG, "linear: dims exceed the BLAS int range");
    if (!act_valid(act)) return vidi_set_error(VIDI_ERR_ARG, "linear: unknown activation %d", (int)act);
    if (rows > 0 && (!out || !in || !weight))
        return vidi_set_error(VIDI_ERR_ARG, "linear: NULL out, input or weight");
    return VIDI_OK;
}

vidi_status vidi_check_layernorm(const float *out, const float *in, int64_t rows, int64_t dim, float eps) {
    if (rows < 0 || dim <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "layernorm: bad dims rows=%lld dim=%lld", (long long)rows,
                              (long long)dim);
    if (!(eps >= 0.0f) || isinf(eps)) return vidi_set_error(VIDI_ERR_ARG, "layernorm: bad eps %g", (double)eps);
    if (rows > 0 && (!out || !in)) return vidi_set_error(VIDI_ERR_ARG, "layernorm: NULL out or input");
    return VIDI_OK;
}

vidi_status vidi_check_attention(const float *out, const float *q, const float *k, const float *v,
                                 const vidi_attn_layout *l, float scale) {
    if (!l) return vidi_set_error(VIDI_ERR_ARG, "attention: NULL layout");
    if (l->batch < 0 || l->heads < 0 || l->q_len < 0 || l->kv_len <= 0 || l->head_dim <= 0)
        return vidi_set_error(VIDI_ERR_ARG,
                              "attention: bad dims batch=%d heads=%d q_len=%d kv_len=%d head_dim=%d",
                              l->batch, l->heads, l->q_len, l->kv_len, l->head_dim);
    if (!isfinite(scale)) return vidi_set_error(VIDI_ERR_ARG, "attention: scale is not finite");
    if (l->batch > 0 && l->heads > 0 && l->q_len > 0 && (!out || !q || !k || !v))
        return vidi_set_error(VIDI_ERR_ARG, "attention: NULL q, k, v or out");
    return VIDI_OK;
}

vidi_status vidi_check_softmax(const float *out, const float *in, int64_t rows, int64_t cols) {
    if (rows < 0 || cols <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "softmax: bad dims rows=%lld cols=%lld", (long long)rows,
                              (long long)cols);
    if (rows > 0 && (!out || !in)) return vidi_set_error(VIDI_ERR_ARG, "softmax: NULL out or input");
    return VIDI_OK;
}

vidi_status vidi_check_add(const float *out, const float *a, const float *b, int64_t n) {
    if (n < 0) return vidi_set_error(VIDI_ERR_ARG, "add: negative n=%lld", (long long)n);
    if (n > 0 && (!out || !a || !b)) return vidi_set_error(VIDI_ERR_ARG, "add: NULL operand");
    return VIDI_OK;
}

vidi_status vidi_check_gelu(const float *out, const float *in, int64_t n, vidi_act act) {
    if (n < 0) return vidi_set_error(VIDI_ERR_ARG, "gelu: negative n=%lld", (long long)n);
    if (!act_valid(act)) return vidi_set_error(VIDI_ERR_ARG, "gelu: unknown activation %d", (int)act);
    if (n > 0 && (!out || !in)) return vidi_set_error(VIDI_ERR_ARG, "gelu: NULL out or input");
    return VIDI_OK;
}

vidi_status vidi_check_patch_embed(const float *out, const float *video, const float *weight,
                                   const vidi_patch_layout *l) {
    if (!l) return vidi_set_error(VIDI_ERR_ARG, "patch_embed: NULL layout");
    if (l->frames <= 0 || l->channels <= 0 || l->height <= 0 || l->width <= 0 || l->patch_t <= 0 ||
        l->patch_h <= 0 || l->patch_w <= 0 || l->hidden <= 0)
        return vidi_set_error(VIDI_ERR_ARG,
                              "patch_embed: bad dims video %dx%dx%dx%d patch %dx%dx%d hidden %d",
                              l->frames, l->channels, l->height, l->width, l->patch_t, l->patch_h,
                              l->patch_w, l->hidden);
    if (l->frames % l->patch_t || l->height % l->patch_h || l->width % l->patch_w)
        return vidi_set_error(VIDI_ERR_ARG,
                              "patch_embed: patch %dx%dx%d does not divide video %dx%dx%d (T x H x W)",
                              l->patch_t, l->patch_h, l->patch_w, l->frames, l->height, l->width);
    if (l->out_row_stride < l->hidden)
        return vidi_set_error(VIDI_ERR_ARG, "patch_embed: out_row_stride %lld < hidden %d",
                              (long long)l->out_row_stride, l->hidden);
    if (!out || !video || !weight) return vidi_set_error(VIDI_ERR_ARG, "patch_embed: NULL out, video or weight");
    return VIDI_OK;
}

vidi_status vidi_check_modulate(const float *out, const float *in, const float *scale, int64_t rows, int64_t dim,
                                float scale_bias) {
    if (rows < 0 || dim < 1)
        return vidi_set_error(VIDI_ERR_ARG, "modulate: rows=%lld dim=%lld", (long long)rows, (long long)dim);
    if (!isfinite(scale_bias)) return vidi_set_error(VIDI_ERR_ARG, "modulate: scale_bias %g", (double)scale_bias);
    if (rows > 0 && (!out || !in || !scale)) return vidi_set_error(VIDI_ERR_ARG, "modulate: NULL operand");
    return VIDI_OK;
}

vidi_status vidi_check_unpatchify(const float *video, const float *tokens, const vidi_patch_layout *l, int c0, int nc) {
    if (!l) return vidi_set_error(VIDI_ERR_ARG, "unpatchify: NULL layout");
    if (l->frames <= 0 || l->channels <= 0 || l->height <= 0 || l->width <= 0 || l->patch_t <= 0 ||
        l->patch_h <= 0 || l->patch_w <= 0)
        return vidi_set_error(VIDI_ERR_ARG, "unpatchify: bad dims video %dx%dx%dx%d patch %dx%dx%d", l->frames,
                              l->channels, l->height, l->width, l->patch_t, l->patch_h, l->patch_w);
    if (l->frames % l->patch_t || l->height % l->patch_h || l->width % l->patch_w)
        return vidi_set_error(VIDI_ERR_ARG,
                              "unpatchify: patch %dx%dx%d does not divide video %dx%dx%d (T x H x W)",
                              l->patch_t, l->patch_h, l->patch_w, l->frames, l->height, l->width);
    if ((int64_t)l->hidden != (int64_t)l->channels * l->patch_t * l->patch_h * l->patch_w)
        return vidi_set_error(VIDI_ERR_ARG, "unpatchify: token width %d is not channels x patch = %lld", l->hidden,
                              (long long)l->channels * l->patch_t * l->patch_h * l->patch_w);
    if (l->out_row_stride < l->hidden)
        return vidi_set_error(VIDI_ERR_ARG, "unpatchify: token row stride %lld < token width %d",
                              (long long)l->out_row_stride, l->hidden);
    if (c0 < 0 || nc < 1 || c0 > l->channels - nc)
        return vidi_set_error(VIDI_ERR_ARG, "unpatchify: channels [%d, %d) outside the tokens' 0..%d", c0, c0 + nc,
                              l->channels);
    if (!video || !tokens) return vidi_set_error(VIDI_ERR_ARG, "unpatchify: NULL video or tokens");
    return VIDI_OK;
}

static int all_finite(const double *v, int n) {
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

/* The scalars a kind reads must be finite: a NaN coefficient (a host-side
 * table bug, an abar of 0 or 1 where it cannot be) would poison every value. */
vidi_status vidi_check_sampler_step(const vidi_sampler_step *s, int64_t n) {
    if (!s) return vidi_set_error(VIDI_ERR_ARG, "sampler_step: NULL step");
    if (n < 0) return vidi_set_error(VIDI_ERR_ARG, "sampler_step: negative n=%lld", (long long)n);
    if (s->kind != VIDI_STEP_DDPM && s->kind != VIDI_STEP_DDIM && s->kind != VIDI_STEP_DPMPP_2M)
        return vidi_set_error(VIDI_ERR_ARG, "sampler_step: unknown kind %d", (int)s->kind);
    int dpm = s->kind == VIDI_STEP_DPMPP_2M;
    if (n > 0 && (!s->out || !s->xt || (!s->eps && !(dpm && s->x0_in))))
        return vidi_set_error(VIDI_ERR_ARG, "sampler_step: NULL out, x_t or eps%s", dpm ? " (and no x0_in)" : "");
    double common[] = {s->ra, s->rm1, s->eps_uncond ? s->guidance : 0.0};
    double ddpm[] = {s->c1, s->c2, s->min_log, s->v ? s->max_log : 0.0};
    double ddim[] = {s->sab, s->dir, s->sigma};
    double dpmpp[] = {s->ratio, s->c_x0, s->x0_prev ? s->c_d1 : 0.0, s->x0_prev ? s->r0 : 1.0};
    int ok = all_finite(common, 3) && (s->kind == VIDI_STEP_DDPM   ? all_finite(ddpm, 4)
                                       : s->kind == VIDI_STEP_DDIM ? all_finite(ddim, 3)
                                                                   : all_finite(dpmpp, 4));
    if (!ok) return vidi_set_error(VIDI_ERR_ARG, "sampler_step: a coefficient is not finite");
    if (dpm && s->x0_prev && s->r0 == 0.0) return vidi_set_error(VIDI_ERR_ARG, "sampler_step: r0 is 0");
    if (!s->known) return VIDI_OK;
    double keep[] = {s->known_a, s->known_s};
    if (n > 0 && (!s->known_mask || (s->known_s != 0.0 && !s->known_noise)))
        return vidi_set_error(VIDI_ERR_ARG, "sampler_step: known pixels without their mask or noise");
    if (!all_finite(keep, 2)) return vidi_set_error(VIDI_ERR_ARG, "sampler_step: a known-pixel coefficient is not finite");
    return VIDI_OK;
}
