/* vidi — the engine's op set.
 *
 * Every op exists in three tiers with the same name and argument order:
 *   vidi_ref_<op>   plain loops, double accumulation: the oracle (nn/ref/)
 *   vidi_cpu_<op>   fast CPU path: BLAS GEMM, AVX2/FMA, thread pool (nn/cpu/)
 *   vidi_cuda_<op>  CUDA (nn/cuda/, later)
 * and is reached by model code only through the backend vtable (backend.h).
 *
 * Conventions: float32, row-major, element (not byte) counts and strides.
 * Pointers belong to the backend that runs the op (host memory for ref/cpu).
 * In-place (out == in) is allowed for softmax, add, gelu, layernorm. */
#ifndef VIDI_OPS_H
#define VIDI_OPS_H

#include <stdint.h>
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_act {
    VIDI_ACT_NONE = 0,
    VIDI_ACT_GELU_ERF,  /* 0.5 x (1 + erf(x / sqrt 2))               HF "gelu", timm, torchvision */
    VIDI_ACT_GELU_TANH, /* 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) "gelu_new", "gelu_fast", "gelu_pytorch_tanh" */
} vidi_act;

typedef enum vidi_op {
    VIDI_OP_LINEAR = 0,
    VIDI_OP_LAYERNORM,
    VIDI_OP_ATTENTION,
    VIDI_OP_SOFTMAX,
    VIDI_OP_ADD,
    VIDI_OP_GELU,
    VIDI_OP_PATCH_EMBED,
    VIDI_OP_MODULATE,
    VIDI_OP_UNPATCHIFY,
    VIDI_OP_SAMPLER_STEP,
    VIDI_OP_COUNT
} vidi_op;

const char *vidi_op_name(vidi_op op);

/* Attention layout descriptor: `batch` independent groups x `heads` heads,
 * each a sequence of q_len queries attending over kv_len keys of head_dim.
 * Element (b, h, i, d) of Q lives at q[b*q_batch + h*q_head + i*q_tok + d]
 * (likewise K, V, O); the innermost head_dim elements are contiguous.
 * With strides a single fused-QKV activation [tokens, 3*heads*head_dim]
 * serves joint attention, spatial attention (batch = frames), temporal
 * attention (batch = spatial positions, q_tok = tokens-per-frame row stride)
 * and split-head attention (two calls on head ranges) without copies. */
typedef struct vidi_attn_layout {
    int batch, heads, q_len, kv_len, head_dim;
    int64_t q_batch, q_head, q_tok;
    int64_t k_batch, k_head, k_tok;
    int64_t v_batch, v_head, v_tok;
    int64_t o_batch, o_head, o_tok;
} vidi_attn_layout;

/* Layout for a fused QKV buffer [batch, len, 3*heads*head_dim] (q, k, v at
 * column offsets 0, D, 2D with D = heads*head_dim; pass q = qkv, k = qkv + D,
 * v = qkv + 2D) and an output [batch, len, D]. */
vidi_attn_layout vidi_attn_layout_fused_qkv(int batch, int heads, int len, int head_dim);

/* Patch / tubelet embedding: input video [frames, channels, height, width],
 * weight [hidden, channels, patch_t, patch_h, patch_w] (PyTorch Conv3d; a
 * Conv2d weight is the same memory with patch_t = 1), bias [hidden] or NULL.
 * Output token (ti, hi, wi) -> row (ti*(H/ph) + hi)*(W/pw) + wi, written at
 * out + row*out_row_stride. frames, height, width must be multiples of the
 * patch sizes. */
typedef struct vidi_patch_layout {
    int frames, channels, height, width;
    int patch_t, patch_h, patch_w;
    int hidden;
    int64_t out_row_stride;
} vidi_patch_layout;

/* One step of a diffusion sampler (diffusion/sampler.c), elementwise over n
 * values. The per-step scalars are computed on the host in double from the
 * diffusion tables; the op evaluates the per-element formula in double and
 * stores float (the ref and cpu tiers in the same order of operations, so
 * they give the same bytes; a GPU may fuse multiply-adds). Every step first
 * forms the model's eps (guided when eps_uncond is given, rounded to float)
 * and the data prediction x0 = ra x_t - rm1 eps, clamped to [-1, 1] when
 * clip, then:
 *   DDPM:   out = c1 x0 + c2 x_t [+ exp(log_var / 2) noise],
 *           log_var = f max_log + (1 - f) min_log, f = (v + 1) / 2 (0 without v)
 *   DDIM:   out = x0 sab + dir e' [+ sigma noise], e' = (ra x_t - x0) / rm1
 *   DPM++:  x0 rounded to float (written to x0_out, the next step's x0_prev);
 *           out = ratio x_t - c_x0 x0 [- c_d1 (x0 - x0_prev) / r0]; to_data: out = x0
 * Bracketed terms only with their operand (noise, x0_prev) non-NULL. out may
 * alias xt; x0_out aliases nothing. */
typedef enum vidi_step_kind {
    VIDI_STEP_DDPM = 0, /* ancestral (improved-diffusion p_sample) */
    VIDI_STEP_DDIM,     /* improved-diffusion ddim_sample */
    VIDI_STEP_DPMPP_2M, /* DPM-Solver++(2M), diffusers' midpoint form */
} vidi_step_kind;

typedef struct vidi_sampler_step {
    vidi_step_kind kind;
    float *out;
    const float *xt;
    const float *eps;        /* DPM++ may pass NULL and give x0_in instead */
    const float *eps_uncond; /* guidance: eps <- eps_uncond + guidance (eps - eps_uncond); NULL: none */
    double guidance;
    double ra, rm1;
    int clip;
    const float *noise;      /* DDPM, DDIM */
    const float *v;          /* DDPM: learned variance range, or NULL */
    double c1, c2, min_log, max_log;    /* DDPM */
    double sab, dir, sigma;             /* DDIM */
    const float *x0_in;      /* DPM++ without eps: the data prediction */
    float *x0_out;           /* DPM++ with eps: receives x0, or NULL */
    const float *x0_prev;    /* DPM++: the previous step's x0, NULL for first order */
    double ratio, c_x0, c_d1, r0; /* DPM++ */
    int to_data;             /* DPM++: the last step, to sigma = 0 */
    /* In-painting: after the update, the elements with known_mask > 0.5 are
     * set to known_a known + known_s known_noise, the forward process at the
     * level the step lands on (known_noise may be NULL when known_s is 0).
     * known NULL: none. */
    const float *known, *known_mask, *known_noise;
    double known_a, known_s;
} vidi_sampler_step;

struct vidi_backend;
typedef const struct vidi_backend vidi_be;

#define VIDI_DECLARE_OPS(tier)                                                                   \
    /* out[r, o] = act(sum_i in[r, i] * weight[o, i] + bias[o]); weight [out_f, in_f]; bias may be NULL */ \
    vidi_status vidi_##tier##_linear(vidi_be *be, float *out, const float *in, const float *weight,     \
                                     const float *bias, int64_t rows, int64_t in_f, int64_t out_f,      \
                                     vidi_act act);                                                     \
    /* per row: (x - mean) / sqrt(var + eps) * gamma + beta (biased variance) */                        \
    vidi_status vidi_##tier##_layernorm(vidi_be *be, float *out, const float *in, const float *gamma,   \
                                        const float *beta, int64_t rows, int64_t dim, float eps);       \
    /* O = softmax(scale * Q K^T) V, per (batch, head), laid out by `layout` */                         \
    vidi_status vidi_##tier##_attention(vidi_be *be, float *out, const float *q, const float *k,        \
                                        const float *v, const vidi_attn_layout *layout, float scale);   \
    /* row-wise softmax over `cols` */                                                                  \
    vidi_status vidi_##tier##_softmax(vidi_be *be, float *out, const float *in, int64_t rows,           \
                                      int64_t cols);                                                    \
    vidi_status vidi_##tier##_add(vidi_be *be, float *out, const float *a, const float *b, int64_t n);  \
    vidi_status vidi_##tier##_gelu(vidi_be *be, float *out, const float *in, int64_t n, vidi_act act);  \
    vidi_status vidi_##tier##_patch_embed(vidi_be *be, float *out, const float *video,                  \
                                          const float *weight, const float *bias,                       \
                                          const vidi_patch_layout *layout);                             \
    /* adaLN modulation (DiT): out[r, c] = res[r, c] + in[r, c] * (scale_bias + scale[c]) + shift[c]   \
     * with res and shift optional (NULL: 0) and scale [dim] required. Modulate: (h, h, scale, 1,      \
     * shift, NULL); gated residual: (x, y, gate, 0, NULL, x). out may alias in or res. */              \
    vidi_status vidi_##tier##_modulate(vidi_be *be, float *out, const float *in, const float *scale,    \
                                       float scale_bias, const float *shift, const float *res,          \
                                       int64_t rows, int64_t dim);                                      \
    /* patch_embed's gather read backwards (DiT's output tokens to pixels): token rows in patch_embed's \
     * order at row stride layout->out_row_stride, each layout->hidden = channels*pt*ph*pw values in    \
     * the weight's (c, kt, kh, kw) order; writes channels [c0, c0+nc) to video [frames, nc, H, W]. */  \
    vidi_status vidi_##tier##_unpatchify(vidi_be *be, float *video, const float *tokens,                \
                                         const vidi_patch_layout *layout, int c0, int nc);              \
    /* one diffusion sampler step over n values (vidi_sampler_step above) */                            \
    vidi_status vidi_##tier##_sampler_step(vidi_be *be, const vidi_sampler_step *step, int64_t n);

VIDI_DECLARE_OPS(ref)
VIDI_DECLARE_OPS(cpu)

#ifdef __cplusplus
}
#endif
#endif
