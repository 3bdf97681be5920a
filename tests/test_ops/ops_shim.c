/* The device shim: op tests on backends whose ops take device memory. */
#include "test_ops/ops.h"

/* ---- device backends (cuda, cuda-emu) ----
 * The tests below pass host buffers. For a backend whose ops take device
 * memory, this shim is a host-memory backend in front of it: it uploads
 * every input, uploads each output region with GUARD floats on both sides
 * (so the guard and untouched-cell checks still see what the device wrote),
 * runs the device op, downloads the region back. In-place calls (out == in)
 * stay in place on the device. */

static vidi_backend *dev;      /* the device backend behind the shim */
static void *dev_bufs[16];
static int n_dev_bufs;

static float *dev_copy(const float *host, int64_t n) {
    if (!host || n <= 0 || n_dev_bufs == 16) return NULL;
    float *d = dev->alloc(dev, (size_t)n * sizeof *d);
    if (!d) return NULL;
    dev_bufs[n_dev_bufs++] = d;
    CHECK_MSG(dev->upload(dev, d, host, (size_t)n * sizeof *d) == VIDI_OK, "%s upload: %s", dev->name,
              vidi_last_error());
    return d;
}

/* The device image of output region [host, host + n) with its guards. */
static float *dev_out(float *host, int64_t n) {
    float *d = dev_copy(host - GUARD, n + 2 * GUARD);
    return d ? d + GUARD : NULL;
}

static vidi_status dev_finish(vidi_status st, float *host, const float *d, int64_t n) {
    if (st == VIDI_OK && d) st = dev->download(dev, host - GUARD, d - GUARD, (size_t)(n + 2 * GUARD) * sizeof *d);
    for (int i = 0; i < n_dev_bufs; i++) dev->release(dev, dev_bufs[i]);
    n_dev_bufs = 0;
    return st;
}

static vidi_status shim_linear(vidi_be *be, float *out, const float *in, const float *w, const float *bias,
                               int64_t rows, int64_t in_f, int64_t out_f, vidi_act act) {
    (void)be;
    float *o = dev_out(out, rows * out_f);
    vidi_status st = dev->linear(dev, o, dev_copy(in, rows * in_f), dev_copy(w, out_f * in_f),
                                 dev_copy(bias, out_f), rows, in_f, out_f, act);
    return dev_finish(st, out, o, rows * out_f);
}

static vidi_status shim_layernorm(vidi_be *be, float *out, const float *in, const float *g, const float *b,
                                  int64_t rows, int64_t dim, float eps) {
    (void)be;
    float *o = dev_out(out, rows * dim);
    vidi_status st = dev->layernorm(dev, o, in == out ? o : dev_copy(in, rows * dim), dev_copy(g, dim),
                                    dev_copy(b, dim), rows, dim, eps);
    return dev_finish(st, out, o, rows * dim);
}

/* Elements an operand spans under the layout: the largest offset + head_dim. */
static int64_t attn_span(const vidi_attn_layout *l, int64_t sb, int64_t sh, int64_t st, int len) {
    return (int64_t)(l->batch - 1) * sb + (int64_t)(l->heads - 1) * sh + (int64_t)(len - 1) * st + l->head_dim;
}

static vidi_status shim_attention(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                                  const vidi_attn_layout *l, float scale) {
    (void)be;
    int64_t no = attn_span(l, l->o_batch, l->o_head, l->o_tok, l->q_len);
    float *o = dev_out(out, no);
    vidi_status st = dev->attention(dev, o, dev_copy(q, attn_span(l, l->q_batch, l->q_head, l->q_tok, l->q_len)),
                                    dev_copy(k, attn_span(l, l->k_batch, l->k_head, l->k_tok, l->kv_len)),
                                    dev_copy(v, attn_span(l, l->v_batch, l->v_head, l->v_tok, l->kv_len)), l, scale);
    return dev_finish(st, out, o, no);
}

static vidi_status shim_softmax(vidi_be *be, float *out, const float *in, int64_t rows, int64_t cols) {
    (void)be;
    float *o = dev_out(out, rows * cols);
    vidi_status st = dev->softmax(dev, o, in == out ? o : dev_copy(in, rows * cols), rows, cols);
    return dev_finish(st, out, o, rows * cols);
}

static vidi_status shim_add(vidi_be *be, float *out, const float *a, const float *b, int64_t n) {
    (void)be;
    float *o = dev_out(out, n);
    vidi_status st = dev->add(dev, o, a == out ? o : dev_copy(a, n), b == out ? o : dev_copy(b, n), n);
    return dev_finish(st, out, o, n);
}

static vidi_status shim_gelu(vidi_be *be, float *out, const float *in, int64_t n, vidi_act act) {
    (void)be;
    float *o = dev_out(out, n);
    vidi_status st = dev->gelu(dev, o, in == out ? o : dev_copy(in, n), n, act);
    return dev_finish(st, out, o, n);
}

static vidi_status shim_patch_embed(vidi_be *be, float *out, const float *video, const float *w, const float *bias,
                                    const vidi_patch_layout *l) {
    (void)be;
    int64_t tokens = (int64_t)(l->frames / l->patch_t) * (l->height / l->patch_h) * (l->width / l->patch_w);
    int64_t k = (int64_t)l->channels * l->patch_t * l->patch_h * l->patch_w;
    int64_t no = (tokens - 1) * l->out_row_stride + l->hidden;
    float *o = dev_out(out, no);
    vidi_status st = dev->patch_embed(dev, o, dev_copy(video, (int64_t)l->frames * l->channels * l->height * l->width),
                                      dev_copy(w, (int64_t)l->hidden * k), dev_copy(bias, l->hidden), l);
    return dev_finish(st, out, o, no);
}

static vidi_status shim_modulate(vidi_be *be, float *out, const float *in, const float *scale, float scale_bias,
                                 const float *shift, const float *res, int64_t rows, int64_t dim) {
    (void)be;
    int64_t n = rows * dim;
    float *o = dev_out(out, n);
    vidi_status st = dev->modulate(dev, o, in == out ? o : dev_copy(in, n), dev_copy(scale, dim), scale_bias,
                                   dev_copy(shift, dim), res == out ? o : dev_copy(res, n), rows, dim);
    return dev_finish(st, out, o, n);
}

static vidi_status shim_unpatchify(vidi_be *be, float *video, const float *tokens, const vidi_patch_layout *l, int c0,
                                   int nc) {
    (void)be;
    int64_t no = (int64_t)l->frames * nc * l->height * l->width;
    int64_t nt = (int64_t)(l->frames / l->patch_t) * (l->height / l->patch_h) * (l->width / l->patch_w);
    float *o = dev_out(video, no);
    vidi_status st = dev->unpatchify(dev, o, dev_copy(tokens, (nt - 1) * l->out_row_stride + l->hidden), l, c0, nc);
    return dev_finish(st, video, o, no);
}

/* Every input to the device; out (in place: xt's copy) and x0_out as guarded regions. */
static vidi_status shim_sampler_step(vidi_be *be, const vidi_sampler_step *s, int64_t n) {
    (void)be;
    vidi_sampler_step d = *s;
    float *o = dev_out(s->out, n), *x0 = s->x0_out ? dev_out(s->x0_out, n) : NULL;
    d.out = o;
    d.xt = s->xt == s->out ? o : dev_copy(s->xt, n);
    d.eps = dev_copy(s->eps, n), d.eps_uncond = dev_copy(s->eps_uncond, n), d.noise = dev_copy(s->noise, n);
    d.v = dev_copy(s->v, n), d.x0_in = dev_copy(s->x0_in, n), d.x0_prev = dev_copy(s->x0_prev, n);
    d.known = dev_copy(s->known, n), d.known_mask = dev_copy(s->known_mask, n);
    d.known_noise = dev_copy(s->known_noise, n);
    d.x0_out = x0;
    vidi_status st = dev->sampler_step(dev, &d, n);
    if (st == VIDI_OK && x0)
        st = dev->download(dev, s->x0_out - GUARD, x0 - GUARD, (size_t)(n + 2 * GUARD) * sizeof *x0);
    return dev_finish(st, s->out, o, n);
}

static int shim_supports_op(vidi_be *be, vidi_op op) {
    (void)be;
    return dev->supports_op(dev, op);
}

vidi_backend *device_shim(vidi_backend *device) {
    static vidi_backend shim;
    dev = device;
    memset(&shim, 0, sizeof shim);
    shim.name = device->name;
    shim.n_threads = device->n_threads;
    shim.linear = shim_linear;
    shim.layernorm = shim_layernorm;
    shim.attention = shim_attention;
    shim.softmax = shim_softmax;
    shim.add = shim_add;
    shim.gelu = shim_gelu;
    shim.patch_embed = shim_patch_embed;
    shim.modulate = device->modulate ? shim_modulate : NULL;
    shim.unpatchify = shim_unpatchify;
    shim.sampler_step = shim_sampler_step;
    shim.supports_op = shim_supports_op;
    return &shim;
}
