/* Flash attention with the tile products done by BLAS.
 *
 * Same algorithm as attention.c (tiles of keys, running max / sum /
 * unnormalised accumulator per query, nothing of size q_len x kv_len), but
 * S = Q_blk K_tile^T and acc += P V_tile are single-threaded sgemm calls
 * inside each pool task. OpenBLAS's packed micro-kernels run these
 * 64 x 256 x head_dim products at 2-3x the speed of the hand-written 4x16
 * kernel, and because BLAS takes leading dimensions, Q, K and V are read in
 * place through the layout descriptor's token strides: no packing copies.
 * Used for head_dim >= 16 on AVX2 machines; attention.c covers the rest. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn/cpu/attention_gemm.h"
#include "nn/cpu/simd.h"

#define GQ 64  /* queries per block */
#define GK 256 /* keys per tile */

size_t vidi_cpu_attention_gemm_scratch(int head_dim) {
    /* S tile + accumulator + running max and sum, per thread. */
    return (size_t)GQ * GK + (size_t)GQ * head_dim + 2 * GQ + 16;
}

#ifdef VIDI_HAVE_X86
/* Row-wise online-softmax update of one S tile (rows x cols, ld GK):
 * turns scores into exp(score*scale - m_new), folds the tile into l, and
 * rescales the accumulator rows by exp(m_old - m_new). */
VIDI_AVX2 static void softmax_tile(float *s, int rows, int cols, float scale, float *m, float *l, float *acc, int d) {
    const __m256 vscale = _mm256_set1_ps(scale);
    for (int r = 0; r < rows; r++) {
        float *p = s + (size_t)r * GK;
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        int c = 0;
        for (; c + 8 <= cols; c += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(p + c));
        float tile_max = vidi_hmax8(vmax);
        for (; c < cols; c++) tile_max = fmaxf(tile_max, p[c]);
        /* scale > 0, so max(scale*s) = scale*max(s). */
        const float m_new = fmaxf(m[r], tile_max * scale);
        const __m256 vm = _mm256_set1_ps(m_new);
        __m256 vsum = _mm256_setzero_ps();
        for (c = 0; c + 8 <= cols; c += 8) {
            __m256 e = vidi_exp8(_mm256_fmsub_ps(_mm256_loadu_ps(p + c), vscale, vm));
            _mm256_storeu_ps(p + c, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        float sum = vidi_hsum8(vsum);
        for (; c < cols; c++) {
            p[c] = expf(p[c] * scale - m_new);
            sum += p[c];
        }
        const float corr = expf(m[r] - m_new); /* 0 on the first tile: m starts at -inf */
        l[r] = l[r] * corr + sum;
        m[r] = m_new;
        float *a = acc + (size_t)r * d;
        for (int dd = 0; dd < d; dd++) a[dd] *= corr;
    }
}
#endif

typedef struct gemm_attn_job {
    float *out;
    const float *q, *k, *v;
    const vidi_attn_layout *lay;
    float scale;
    int chunk, n_chunks;
    float *scratch;
    size_t per_thread;
} gemm_attn_job;

static void gemm_attention_task(void *arg, int task, int n_tasks, int thread) {
    (void)n_tasks;
    const gemm_attn_job *j = arg;
    const vidi_attn_layout *L = j->lay;
    const int d = L->head_dim;
    const int bh = task / j->n_chunks, chunk = task % j->n_chunks;
    const int b = bh / L->heads, h = bh % L->heads;
    const int i_begin = chunk * j->chunk;
    const int i_end = i_begin + j->chunk < L->q_len ? i_begin + j->chunk : L->q_len;
    float *s = j->scratch + (size_t)thread * j->per_thread;
    float *acc = s + (size_t)GQ * GK, *m = acc + (size_t)GQ * d, *l = m + GQ;
    const float *kbase = j->k + b * L->k_batch + h * L->k_head;
    const float *vbase = j->v + b * L->v_batch + h * L->v_head;

    for (int i0 = i_begin; i0 < i_end; i0 += GQ) {
        const int rows = i_end - i0 < GQ ? i_end - i0 : GQ;
        const float *qblk = j->q + b * L->q_batch + h * L->q_head + (int64_t)i0 * L->q_tok;
        for (int r = 0; r < rows; r++) m[r] = -INFINITY, l[r] = 0.0f;
        memset(acc, 0, sizeof(float) * (size_t)rows * d);
        for (int c0 = 0; c0 < L->kv_len; c0 += GK) {
            const int cols = L->kv_len - c0 < GK ? L->kv_len - c0 : GK;
            vidi_cpu_sgemm(0, rows, cols, d, qblk, L->q_tok, kbase + (int64_t)c0 * L->k_tok, L->k_tok, 0.0f, s, GK);
#ifdef VIDI_HAVE_X86
            softmax_tile(s, rows, cols, j->scale, m, l, acc, d);
#endif
            vidi_cpu_sgemm(1, rows, d, cols, s, GK, vbase + (int64_t)c0 * L->v_tok, L->v_tok, 1.0f, acc, d);
        }
        float *oblk = j->out + b * L->o_batch + h * L->o_head + (int64_t)i0 * L->o_tok;
        for (int r = 0; r < rows; r++) {
            const float inv = 1.0f / l[r];
            float *o = oblk + (int64_t)r * L->o_tok;
            const float *a = acc + (size_t)r * d;
            for (int dd = 0; dd < d; dd++) o[dd] = a[dd] * inv;
        }
    }
}

int vidi_cpu_attention_gemm_applies(const vidi_attn_layout *layout, int simd) {
    /* BLAS needs unit stride within a row (ops.h guarantees it) and int
     * leading dimensions; tiny heads are faster in the register kernel. */
    return simd && layout->head_dim >= 16 && layout->q_tok <= INT32_MAX && layout->k_tok <= INT32_MAX &&
           layout->v_tok <= INT32_MAX && layout->q_tok >= layout->head_dim && layout->k_tok >= layout->head_dim &&
           layout->v_tok >= layout->head_dim;
}

vidi_status vidi_cpu_attention_gemm(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                                    const vidi_attn_layout *layout, float scale) {
    const int threads = vidi_cpu_threads(be);
    const int64_t heads_total = (int64_t)layout->batch * layout->heads;
    /* Split a head's queries into GQ-aligned chunks only as far as needed
     * to give every thread work. */
    int64_t splits = (2 * (int64_t)threads + heads_total - 1) / heads_total;
    int64_t max_splits = (layout->q_len + GQ - 1) / GQ;
    if (splits > max_splits) splits = max_splits;
    if (splits < 1) splits = 1;
    int chunk = (int)((layout->q_len + splits - 1) / splits);
    chunk = (chunk + GQ - 1) / GQ * GQ;
    int n_chunks = (layout->q_len + chunk - 1) / chunk;
    if (heads_total * n_chunks > INT32_MAX)
        return vidi_set_error(VIDI_ERR_ARG, "attention: %lld (batch, head) pairs is too many", (long long)heads_total);
    gemm_attn_job j = {out, q, k, v, layout, scale, chunk, n_chunks, NULL,
                       vidi_cpu_attention_gemm_scratch(layout->head_dim)};
    j.scratch = vidi_cpu_scratch(be, VIDI_CPU_SCRATCH_ATTENTION, (size_t)threads * j.per_thread);
    if (!j.scratch)
        return vidi_set_error(VIDI_ERR_NOMEM, "attention: out of memory for scratch (head_dim %d)", layout->head_dim);
    vidi_threadpool_run(vidi_cpu_pool(be), (int)(heads_total * n_chunks), gemm_attention_task, &j);
    return VIDI_OK;
}
