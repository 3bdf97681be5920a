/* Fast attention, flash style.
 *
 * One task per (batch, head, chunk of <= QCHUNK queries); a head is split
 * into several chunks only when there are too few heads to feed the threads.
 * A task walks the keys in tiles of KB and keeps, per query, a running max m,
 * running sum l and an unnormalised accumulator; when a tile raises the max,
 * the old sum and accumulator are rescaled by exp(m_old - m_new). So memory
 * is O(QCHUNK*head_dim), never O(q_len*kv_len), and it stays in L1/L2.
 *
 * Each key tile is packed once per task, transposed (Kt[d][j]) so Q.K^T
 * becomes broadcast-q x vector-of-keys FMAs in a 4x16 register block with no
 * horizontal sums, and the V tile with rows padded to a multiple of 8 so P.V
 * needs no tail handling; then every block of QB queries of the chunk
 * consumes the tile. Q is copied once per task, pre-scaled. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cpu/attention_gemm.h"
#include "nn/cpu/cpu.h"
#include "nn/cpu/simd.h"
#include "nn/ref/ops_check.h"

#define QB 32      /* queries per S block: a multiple of 4 (the S kernel's rows) */
#define KB 64      /* keys per tile: a multiple of 16 (the S kernel's columns) */
#define QCHUNK 256 /* most queries per task: their state stays in L2 */

typedef struct {
    float *qs;  /* [QCHUNK][d]  scaled queries, padded rows zero */
    float *kt;  /* [d][KB]      transposed key tile, padded columns zero */
    float *vp;  /* [KB][dp]     value tile, padded to dp = round8(d) */
    float *s;   /* [QB][KB]     scores, then probabilities */
    float *acc; /* [QCHUNK][dp] unnormalised output */
    float *m, *l;
} attn_scratch;

/* One QB block of queries as the tile kernels see it. */
typedef struct {
    const float *qs;
    float *acc, *m, *l;
    float *s;
    const float *kt, *vp;
} attn_block;

typedef struct {
    float *out;
    const float *q, *k, *v;
    const vidi_attn_layout *lay;
    float scale;
    int n_chunks, chunk, dp;
    int simd;
    float *scratch;
    size_t scratch_per_thread;
} attn_job;

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static attn_scratch scratch_for(const attn_job *j, int thread) {
    const size_t d = (size_t)j->lay->head_dim, dp = (size_t)j->dp;
    float *p = j->scratch + (size_t)thread * j->scratch_per_thread;
    attn_scratch s;
    s.qs = p; p += round16(QCHUNK * d);
    s.kt = p; p += round16(d * KB);
    s.vp = p; p += round16(KB * dp);
    s.s = p; p += round16(QB * KB);
    s.acc = p; p += round16(QCHUNK * dp);
    s.m = p; p += round16(QCHUNK);
    s.l = p;
    return s;
}

static size_t scratch_floats(int d, int dp) {
    return round16((size_t)QCHUNK * d) + round16((size_t)d * KB) + round16((size_t)KB * dp) + round16(QB * KB) +
           round16((size_t)QCHUNK * dp) + 2 * round16(QCHUNK);
}

/* ---- S = Q K^T over a tile: rows [0, nqp), columns [0, nkp) ---- */

static void scores_scalar(const attn_block *s, int d, int nqp, int nkp) {
    for (int r = 0; r < nqp; r++) {
        float *srow = s->s + r * KB;
        for (int c = 0; c < nkp; c++) srow[c] = 0.0f;
        for (int dd = 0; dd < d; dd++) {
            const float qv = s->qs[r * d + dd];
            const float *krow = s->kt + dd * KB;
            for (int c = 0; c < nkp; c++) srow[c] += qv * krow[c];
        }
    }
}

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void scores_avx2(const attn_block *s, int d, int nqp, int nkp) {
    for (int r = 0; r < nqp; r += 4) {
        const float *q0 = s->qs + r * d;
        for (int c = 0; c < nkp; c += 16) {
            __m256 a00 = _mm256_setzero_ps(), a01 = _mm256_setzero_ps();
            __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
            __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps();
            __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
            const float *kcol = s->kt + c;
            for (int dd = 0; dd < d; dd++) {
                const __m256 k0 = _mm256_load_ps(kcol + dd * KB);
                const __m256 k1 = _mm256_load_ps(kcol + dd * KB + 8);
                __m256 qv = _mm256_broadcast_ss(q0 + dd);
                a00 = _mm256_fmadd_ps(qv, k0, a00);
                a01 = _mm256_fmadd_ps(qv, k1, a01);
                qv = _mm256_broadcast_ss(q0 + d + dd);
                a10 = _mm256_fmadd_ps(qv, k0, a10);
                a11 = _mm256_fmadd_ps(qv, k1, a11);
                qv = _mm256_broadcast_ss(q0 + 2 * d + dd);
                a20 = _mm256_fmadd_ps(qv, k0, a20);
                a21 = _mm256_fmadd_ps(qv, k1, a21);
                qv = _mm256_broadcast_ss(q0 + 3 * d + dd);
                a30 = _mm256_fmadd_ps(qv, k0, a30);
                a31 = _mm256_fmadd_ps(qv, k1, a31);
            }
            float *out = s->s + r * KB + c;
            _mm256_store_ps(out, a00);
            _mm256_store_ps(out + 8, a01);
            _mm256_store_ps(out + KB, a10);
            _mm256_store_ps(out + KB + 8, a11);
            _mm256_store_ps(out + 2 * KB, a20);
            _mm256_store_ps(out + 2 * KB + 8, a21);
            _mm256_store_ps(out + 3 * KB, a30);
            _mm256_store_ps(out + 3 * KB + 8, a31);
        }
    }
}
#endif

/* ---- online softmax update of one tile: S -> P, rescale acc ---- */

static void online_softmax_scalar(const attn_block *s, int dp, int nqp, int nk) {
    for (int r = 0; r < nqp; r++) {
        float *p = s->s + r * KB;
        float tile_max = p[0];
        for (int c = 1; c < nk; c++) tile_max = fmaxf(tile_max, p[c]);
        const float m_new = fmaxf(s->m[r], tile_max);
        const float corr = expf(s->m[r] - m_new);
        float sum = 0.0f;
        for (int c = 0; c < nk; c++) {
            p[c] = expf(p[c] - m_new);
            sum += p[c];
        }
        s->l[r] = s->l[r] * corr + sum;
        s->m[r] = m_new;
        float *acc = s->acc + r * dp;
        for (int dd = 0; dd < dp; dd++) acc[dd] *= corr;
    }
}

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void online_softmax_avx2(const attn_block *s, int dp, int nqp, int nk) {
    for (int r = 0; r < nqp; r++) {
        float *p = s->s + r * KB;
        __m256 vmax = _mm256_set1_ps(-INFINITY);
        int c = 0;
        for (; c + 8 <= nk; c += 8) vmax = _mm256_max_ps(vmax, _mm256_load_ps(p + c));
        float tile_max = vidi_hmax8(vmax);
        for (; c < nk; c++) tile_max = fmaxf(tile_max, p[c]);
        const float m_new = fmaxf(s->m[r], tile_max);
        const __m256 vm = _mm256_set1_ps(m_new);
        __m256 vsum = _mm256_setzero_ps();
        for (c = 0; c + 8 <= nk; c += 8) {
            __m256 e = vidi_exp8(_mm256_sub_ps(_mm256_load_ps(p + c), vm));
            _mm256_store_ps(p + c, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        float sum = vidi_hsum8(vsum);
        for (; c < nk; c++) {
            p[c] = expf(p[c] - m_new);
            sum += p[c];
        }
        /* m starts at -inf, so the first tile gets corr = 0 and acc (all
         * zeros anyway) is cleared rather than scaled by a nan. */
        const float corr = expf(s->m[r] - m_new);
        s->l[r] = s->l[r] * corr + sum;
        s->m[r] = m_new;
        const __m256 vc = _mm256_set1_ps(corr);
        float *acc = s->acc + r * dp;
        for (int dd = 0; dd < dp; dd += 8) _mm256_store_ps(acc + dd, _mm256_mul_ps(_mm256_load_ps(acc + dd), vc));
    }
}
#endif

/* ---- acc += P V over a tile ---- */

static void pv_scalar(const attn_block *s, int dp, int nqp, int nk) {
    for (int r = 0; r < nqp; r++) {
        const float *p = s->s + r * KB;
        float *acc = s->acc + r * dp;
        for (int c = 0; c < nk; c++) {
            const float pc = p[c];
            const float *vrow = s->vp + c * dp;
            for (int dd = 0; dd < dp; dd++) acc[dd] += pc * vrow[dd];
        }
    }
}

#ifdef VIDI_HAVE_X86
/* Two query rows x 32 dims = 8 accumulators, enough independent FMAs to
 * cover their latency; leftover 8-wide column chunks take a 2x8 block. */
VIDI_AVX2 static void pv_avx2(const attn_block *s, int dp, int nqp, int nk) {
    for (int r = 0; r < nqp; r += 2) {
        const float *p0 = s->s + r * KB, *p1 = p0 + KB;
        float *acc0 = s->acc + r * dp, *acc1 = acc0 + dp;
        int dd = 0;
        for (; dd + 32 <= dp; dd += 32) {
            __m256 a0 = _mm256_load_ps(acc0 + dd), a1 = _mm256_load_ps(acc0 + dd + 8);
            __m256 a2 = _mm256_load_ps(acc0 + dd + 16), a3 = _mm256_load_ps(acc0 + dd + 24);
            __m256 b0 = _mm256_load_ps(acc1 + dd), b1 = _mm256_load_ps(acc1 + dd + 8);
            __m256 b2 = _mm256_load_ps(acc1 + dd + 16), b3 = _mm256_load_ps(acc1 + dd + 24);
            const float *vcol = s->vp + dd;
            for (int c = 0; c < nk; c++) {
                const float *vrow = vcol + c * dp;
                const __m256 v0 = _mm256_load_ps(vrow), v1 = _mm256_load_ps(vrow + 8);
                const __m256 v2 = _mm256_load_ps(vrow + 16), v3 = _mm256_load_ps(vrow + 24);
                const __m256 x0 = _mm256_broadcast_ss(p0 + c), x1 = _mm256_broadcast_ss(p1 + c);
                a0 = _mm256_fmadd_ps(x0, v0, a0);
                a1 = _mm256_fmadd_ps(x0, v1, a1);
                a2 = _mm256_fmadd_ps(x0, v2, a2);
                a3 = _mm256_fmadd_ps(x0, v3, a3);
                b0 = _mm256_fmadd_ps(x1, v0, b0);
                b1 = _mm256_fmadd_ps(x1, v1, b1);
                b2 = _mm256_fmadd_ps(x1, v2, b2);
                b3 = _mm256_fmadd_ps(x1, v3, b3);
            }
            _mm256_store_ps(acc0 + dd, a0);
            _mm256_store_ps(acc0 + dd + 8, a1);
            _mm256_store_ps(acc0 + dd + 16, a2);
            _mm256_store_ps(acc0 + dd + 24, a3);
            _mm256_store_ps(acc1 + dd, b0);
            _mm256_store_ps(acc1 + dd + 8, b1);
            _mm256_store_ps(acc1 + dd + 16, b2);
            _mm256_store_ps(acc1 + dd + 24, b3);
        }
        for (; dd < dp; dd += 8) {
            __m256 a0 = _mm256_load_ps(acc0 + dd), b0 = _mm256_load_ps(acc1 + dd);
            for (int c = 0; c < nk; c++) {
                const __m256 v0 = _mm256_load_ps(s->vp + c * dp + dd);
                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p0 + c), v0, a0);
                b0 = _mm256_fmadd_ps(_mm256_broadcast_ss(p1 + c), v0, b0);
            }
            _mm256_store_ps(acc0 + dd, a0);
            _mm256_store_ps(acc1 + dd, b0);
        }
    }
}
#endif

static void attention_task(void *arg, int task, int n_tasks, int thread) {
    (void)n_tasks;
    const attn_job *j = arg;
    const vidi_attn_layout *L = j->lay;
    const int d = L->head_dim, dp = j->dp;
    const int chunk = task % j->n_chunks;
    const int bh = task / j->n_chunks;
    const int b = bh / L->heads, h = bh % L->heads;
    const int i0 = chunk * j->chunk;
    const int nq = L->q_len - i0 < j->chunk ? L->q_len - i0 : j->chunk;
    const int nqp = (nq + 3) & ~3;
    attn_scratch s = scratch_for(j, thread);

    const float *qbase = j->q + b * L->q_batch + h * L->q_head + (int64_t)i0 * L->q_tok;
    for (int r = 0; r < nqp; r++)
        for (int dd = 0; dd < d; dd++)
            s.qs[r * d + dd] = r < nq ? qbase[r * L->q_tok + dd] * j->scale : 0.0f;
    for (int r = 0; r < nqp; r++) {
        s.m[r] = -INFINITY;
        s.l[r] = 0.0f;
    }
    memset(s.acc, 0, (size_t)nqp * dp * sizeof *s.acc);

    const float *kbase = j->k + b * L->k_batch + h * L->k_head;
    const float *vbase = j->v + b * L->v_batch + h * L->v_head;
    for (int c0 = 0; c0 < L->kv_len; c0 += KB) {
        const int nk = L->kv_len - c0 < KB ? L->kv_len - c0 : KB;
        const int nkp = (nk + 15) & ~15;
        for (int c = 0; c < nk; c++) {
            const float *krow = kbase + (int64_t)(c0 + c) * L->k_tok;
            const float *vrow = vbase + (int64_t)(c0 + c) * L->v_tok;
            for (int dd = 0; dd < d; dd++) s.kt[dd * KB + c] = krow[dd];
            memcpy(s.vp + c * dp, vrow, (size_t)d * sizeof *s.vp);
            for (int dd = d; dd < dp; dd++) s.vp[c * dp + dd] = 0.0f;
        }
        for (int dd = 0; dd < d; dd++)
            for (int c = nk; c < nkp; c++) s.kt[dd * KB + c] = 0.0f;
        for (int r0 = 0; r0 < nqp; r0 += QB) {
            const int rows = nqp - r0 < QB ? nqp - r0 : QB;
            const attn_block blk = {s.qs + r0 * d, s.acc + r0 * dp, s.m + r0, s.l + r0, s.s, s.kt, s.vp};
#ifdef VIDI_HAVE_X86
            if (j->simd) {
                scores_avx2(&blk, d, rows, nkp);
                online_softmax_avx2(&blk, dp, rows, nk);
                pv_avx2(&blk, dp, rows, nk);
                continue;
            }
#endif
            scores_scalar(&blk, d, rows, nkp);
            online_softmax_scalar(&blk, dp, rows, nk);
            pv_scalar(&blk, dp, rows, nk);
        }
    }

    float *obase = j->out + b * L->o_batch + h * L->o_head + (int64_t)i0 * L->o_tok;
    for (int r = 0; r < nq; r++) {
        const float inv = 1.0f / s.l[r];
        float *o = obase + (int64_t)r * L->o_tok;
        const float *acc = s.acc + r * dp;
        for (int dd = 0; dd < d; dd++) o[dd] = acc[dd] * inv;
    }
}

vidi_status vidi_cpu_attention(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                               const vidi_attn_layout *layout, float scale) {
    vidi_status st = vidi_check_attention(out, q, k, v, layout, scale);
    if (st != VIDI_OK) return st;
    if (layout->batch == 0 || layout->heads == 0 || layout->q_len == 0) return VIDI_OK;
    if (vidi_cpu_attention_gemm_applies(layout, vidi_cpu_simd_enabled()))
        return vidi_cpu_attention_gemm(be, out, q, k, v, layout, scale);
    attn_job j;
    j.out = out;
    j.q = q;
    j.k = k;
    j.v = v;
    j.lay = layout;
    j.scale = scale;
    j.dp = (layout->head_dim + 7) & ~7;
    j.simd = vidi_cpu_simd_enabled();
    const int threads = vidi_cpu_threads(be);
    /* Split a head's queries only as far as needed for ~2 tasks per thread:
     * every split packs the same K and V tiles again. */
    const int64_t heads_total = (int64_t)layout->batch * layout->heads;
    int64_t splits = (2 * (int64_t)threads + heads_total - 1) / heads_total;
    const int64_t min_splits = (layout->q_len + QCHUNK - 1) / QCHUNK;
    if (splits < min_splits) splits = min_splits;
    if (splits > layout->q_len) splits = layout->q_len;
    j.chunk = (int)((layout->q_len + splits - 1) / splits);
    j.n_chunks = (layout->q_len + j.chunk - 1) / j.chunk;
    int64_t n_tasks = heads_total * j.n_chunks;
    if (n_tasks > INT32_MAX)
        return vidi_set_error(VIDI_ERR_ARG, "attention: %lld (batch, head, query-chunk) tasks is too many",
                              (long long)n_tasks);
    j.scratch_per_thread = scratch_floats(layout->head_dim, j.dp);
    /* 64-byte aligned so the packed tiles take aligned loads. */
    j.scratch = vidi_cpu_scratch(be, VIDI_CPU_SCRATCH_ATTENTION, (size_t)threads * j.scratch_per_thread);
    if (!j.scratch)
        return vidi_set_error(VIDI_ERR_NOMEM, "attention: out of memory for scratch (head_dim %d)",
                              layout->head_dim);
    vidi_threadpool_run(vidi_cpu_pool(be), (int)n_tasks, attention_task, &j);
    return VIDI_OK;
}
