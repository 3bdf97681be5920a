/* Fast patch / tubelet embedding: gather every patch into a row (im2col,
 * in the weight's c, t, h, w order), then one sgemm against the Conv3d
 * weight viewed as [hidden, C*pt*ph*pw]. The sgemm writes straight into the
 * caller's rows via ldc = out_row_stride, so the cls row can sit in front.
 * Unpatchify (at the end) is the gather read backwards. */
#include <stdlib.h>
#include <string.h>

#include "nn/cpu/cpu.h"
#include "nn/ref/ops_check.h"

typedef struct {
    float *cols;
    const float *video;
    const vidi_patch_layout *l;
    int64_t n_tokens, k;
} im2col_job;

static void im2col_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const im2col_job *j = arg;
    const vidi_patch_layout *l = j->l;
    const int nh = l->height / l->patch_h, nw = l->width / l->patch_w;
    const int64_t plane = (int64_t)l->height * l->width;
    int64_t t0 = j->n_tokens * task / n_tasks, t1 = j->n_tokens * (task + 1) / n_tasks;
    for (int64_t tok = t0; tok < t1; tok++) {
        int64_t wi = tok % nw, hi = (tok / nw) % nh, ti = tok / ((int64_t)nw * nh);
        float *dst = j->cols + tok * j->k;
        for (int c = 0; c < l->channels; c++)
            for (int kt = 0; kt < l->patch_t; kt++) {
                const float *frame = j->video + ((ti * l->patch_t + kt) * l->channels + c) * plane;
                for (int kh = 0; kh < l->patch_h; kh++) {
                    memcpy(dst, frame + (hi * l->patch_h + kh) * l->width + wi * l->patch_w,
                           (size_t)l->patch_w * sizeof *dst);
                    dst += l->patch_w;
                }
            }
    }
}

vidi_status vidi_cpu_patch_embed(vidi_be *be, float *out, const float *video, const float *weight,
                                 const float *bias, const vidi_patch_layout *l) {
    vidi_status st = vidi_check_patch_embed(out, video, weight, l);
    if (st != VIDI_OK) return st;
    const int64_t n_tokens = (int64_t)(l->frames / l->patch_t) * (l->height / l->patch_h) * (l->width / l->patch_w);
    const int64_t k = (int64_t)l->channels * l->patch_t * l->patch_h * l->patch_w;
    /* The patch matrix is the size of the input itself; the backend keeps it
     * between calls. */
    float *cols = vidi_cpu_scratch(be, VIDI_CPU_SCRATCH_PATCH_EMBED, (size_t)(n_tokens * k));
    if (!cols)
        return vidi_set_error(VIDI_ERR_NOMEM, "patch_embed: out of memory for %lld x %lld patches",
                              (long long)n_tokens, (long long)k);
    im2col_job j = {cols, video, l, n_tokens, k};
    int64_t n_tasks = vidi_cpu_threads(be) * 2;
    if (n_tasks > n_tokens) n_tasks = n_tokens;
    vidi_threadpool_run(vidi_cpu_pool(be), (int)n_tasks, im2col_task, &j);
    vidi_cpu_gemm_bias_act(be, n_tokens, l->hidden, k, cols, k, weight, k, out, l->out_row_stride, bias,
                           VIDI_ACT_NONE);
    return VIDI_OK;
}

/* ---- unpatchify: every output row is W/pw runs of pw values, one per token ---- */

typedef struct {
    float *video;
    const float *tokens;
    const vidi_patch_layout *l;
    int c0, nc;
} unpatchify_job;

static void unpatchify_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const unpatchify_job *j = arg;
    const vidi_patch_layout *l = j->l;
    const int nh = l->height / l->patch_h, nw = l->width / l->patch_w;
    int64_t rows = (int64_t)l->frames * j->nc * l->height;
    for (int64_t r = rows * task / n_tasks; r < rows * (task + 1) / n_tasks; r++) {
        int64_t y = r % l->height, c = r / l->height % j->nc, t = r / ((int64_t)l->height * j->nc);
        const float *src = j->tokens + ((t / l->patch_t) * nh + y / l->patch_h) * nw * l->out_row_stride +
                           (((j->c0 + c) * l->patch_t + t % l->patch_t) * l->patch_h + y % l->patch_h) * l->patch_w;
        float *dst = j->video + r * l->width;
        for (int wi = 0; wi < nw; wi++)
            memcpy(dst + (int64_t)wi * l->patch_w, src + wi * l->out_row_stride, (size_t)l->patch_w * sizeof *dst);
    }
}

vidi_status vidi_cpu_unpatchify(vidi_be *be, float *video, const float *tokens, const vidi_patch_layout *l, int c0,
                                int nc) {
    vidi_status st = vidi_check_unpatchify(video, tokens, l, c0, nc);
    if (st != VIDI_OK) return st;
    int64_t rows = (int64_t)l->frames * nc * l->height, n_tasks = vidi_cpu_threads(be) * 2;
    /* A copy: worth the workers only for large videos. */
    if (rows * l->width < 65536) n_tasks = 1;
    if (n_tasks > rows) n_tasks = rows;
    unpatchify_job j = {video, tokens, l, c0, nc};
    vidi_threadpool_run(vidi_cpu_pool(be), (int)n_tasks, unpatchify_task, &j);
    return VIDI_OK;
}
