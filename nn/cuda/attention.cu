/* vidi's fused attention (flash-attention style, FP32 on CUDA cores):
 * a block owns ATT_BQ query rows of one (batch, head); it walks the keys in
 * tiles of ATT_BK held in shared memory, keeping per row a running max m,
 * running sum l and unnormalised output o (online softmax), so no score
 * matrix larger than ATT_BQ x ATT_BK ever exists. Operands are read through
 * the layout descriptor's strides: fused QKV, spatial, temporal and
 * split-head attention run on the activations as they are, no copies.
 *
 * Work split (4 warps x 8 rows): in each tile lane j of a warp scores key j
 * against the warp's 8 rows; lanes 0-7 then each own one row's softmax
 * update (max, exp, sum over the 32 scores); finally every lane updates the
 * output dims lane, lane+32, lane+64, lane+96 of the 8 rows. K rows are
 * padded to head_dim+1 floats so the 32 lanes hit 32 different banks. */
#include "nn/cuda/kernel.h"
#include "nn/cuda/kernels.h"

#define ATT_WARPS 4
#define ATT_ROWS 8 /* query rows per warp */
#define ATT_BQ (ATT_WARPS * ATT_ROWS)
#define ATT_BK 32 /* keys per tile: one per lane */
#define ATT_DPL (VIDI_CUDA_ATTN_MAX_HEAD_DIM / 32)

#if defined(__CUDACC__)
#define VIDI_UNROLL _Pragma("unroll")
#else
#define VIDI_UNROLL
#endif

typedef struct attn_args {
    float *o;
    const float *q, *k, *v;
    vidi_attn_layout l;
    float scale;
} attn_args;

static size_t attn_smem_floats(int hd) {
    return (size_t)ATT_BQ * hd + (size_t)ATT_BK * (hd + 1) + (size_t)ATT_BK * hd + ATT_WARPS * ATT_ROWS * ATT_BK +
           2 * ATT_WARPS * ATT_ROWS;
}

VIDI_KERNEL(flash_attention, attn_args, a) {
    VIDI_SHARED_DYNAMIC(float, smem);
    const int hd = a.l.head_dim, hdp = hd + 1, kv_len = a.l.kv_len;
    float *qs = smem;                          /* [ATT_BQ][hd], pre-scaled */
    float *ks = qs + ATT_BQ * hd;              /* [ATT_BK][hd + 1] */
    float *vs = ks + ATT_BK * hdp;             /* [ATT_BK][hd] */
    float *ps = vs + ATT_BK * hd;              /* [ATT_WARPS][ATT_ROWS][ATT_BK] scores, then probabilities */
    float *rescale = ps + ATT_WARPS * ATT_ROWS * ATT_BK; /* [ATT_WARPS][ATT_ROWS] */
    float *denom = rescale + ATT_WARPS * ATT_ROWS;       /* [ATT_WARPS][ATT_ROWS] */
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const int64_t b = blockIdx.z, h = blockIdx.y, q0 = (int64_t)blockIdx.x * ATT_BQ;
    const float *qb = a.q + b * a.l.q_batch + h * a.l.q_head;
    const float *kb = a.k + b * a.l.k_batch + h * a.l.k_head;
    const float *vb = a.v + b * a.l.v_batch + h * a.l.v_head;
    float *ob = a.o + b * a.l.o_batch + h * a.l.o_head;

    for (int e = tid; e < ATT_BQ * hd; e += blockDim.x) {
        int64_t r = q0 + e / hd;
        qs[e] = r < a.l.q_len ? qb[r * a.l.q_tok + e % hd] * a.scale : 0.0f;
    }
    float o[ATT_ROWS][ATT_DPL];
    VIDI_UNROLL for (int r = 0; r < ATT_ROWS; r++) VIDI_UNROLL for (int c = 0; c < ATT_DPL; c++) o[r][c] = 0.0f;
    float m_own = -INFINITY, l_own = 0.0f; /* row `lane` of this warp, lanes 0..ATT_ROWS-1 */
    float *pw = ps + warp * ATT_ROWS * ATT_BK;
    const float *qw = qs + warp * ATT_ROWS * hd;

    for (int kv0 = 0; kv0 < kv_len; kv0 += ATT_BK) {
        const int valid = kv_len - kv0 < ATT_BK ? kv_len - kv0 : ATT_BK;
        __syncthreads(); /* the previous tile is consumed (and Q is loaded) */
        for (int e = tid; e < ATT_BK * hd; e += blockDim.x) {
            int j = e / hd, d = e % hd;
            int in = j < valid;
            ks[j * hdp + d] = in ? kb[(int64_t)(kv0 + j) * a.l.k_tok + d] : 0.0f;
            vs[e] = in ? vb[(int64_t)(kv0 + j) * a.l.v_tok + d] : 0.0f;
        }
        __syncthreads();

        /* Scores: lane = key. */
        float s[ATT_ROWS];
        VIDI_UNROLL for (int r = 0; r < ATT_ROWS; r++) s[r] = 0.0f;
        const float *kj = ks + lane * hdp;
        for (int d = 0; d < hd; d++) {
            float kd = kj[d];
            VIDI_UNROLL for (int r = 0; r < ATT_ROWS; r++) s[r] += qw[r * hd + d] * kd;
        }
        VIDI_UNROLL for (int r = 0; r < ATT_ROWS; r++) pw[r * ATT_BK + lane] = s[r];
        __syncwarp(VIDI_FULL_MASK);

        /* Online softmax: lane r updates row r. */
        if (lane < ATT_ROWS) {
            float *row = pw + lane * ATT_BK;
            float mt = row[0];
            for (int j = 1; j < valid; j++) mt = fmaxf(mt, row[j]);
            float m_new = fmaxf(m_own, mt);
            float sum = 0.0f;
            for (int j = 0; j < valid; j++) {
                float p = expf(row[j] - m_new);
                row[j] = p;
                sum += p;
            }
            float alpha = expf(m_own - m_new); /* 0 on the first tile (m_own = -inf) */
            l_own = l_own * alpha + sum;
            m_own = m_new;
            rescale[warp * ATT_ROWS + lane] = alpha;
        }
        __syncwarp(VIDI_FULL_MASK);

        /* o = o * alpha + P V over this tile; lane owns dims lane + 32c. */
        VIDI_UNROLL for (int r = 0; r < ATT_ROWS; r++) {
            float alpha = rescale[warp * ATT_ROWS + r];
            const float *pr = pw + r * ATT_BK;
            VIDI_UNROLL for (int c = 0; c < ATT_DPL; c++) {
                int d = lane + 32 * c;
                if (d < hd) {
                    float acc = 0.0f;
                    for (int j = 0; j < valid; j++) acc += pr[j] * vs[j * hd + d];
                    o[r][c] = o[r][c] * alpha + acc;
                }
            }
        }
    }
    if (lane < ATT_ROWS) denom[warp * ATT_ROWS + lane] = l_own;
    __syncwarp(VIDI_FULL_MASK);
    VIDI_UNROLL for (int r = 0; r < ATT_ROWS; r++) {
        int64_t row = q0 + warp * ATT_ROWS + r;
        if (row < a.l.q_len) {
            float inv = 1.0f / denom[warp * ATT_ROWS + r];
            VIDI_UNROLL for (int c = 0; c < ATT_DPL; c++) {
                int d = lane + 32 * c;
                if (d < hd) ob[row * a.l.o_tok + d] = o[r][c] * inv;
            }
        }
    }
}

/* ---- head_dim > 128: one block per query row ----
 * For the rare wide heads (e.g. ViViT's mean pooling, which is attention
 * with scale 0 over the whole hidden width): the block splits head_dim,
 * reduces each score over the block, and keeps the online softmax in every
 * thread. Slow (two barriers per key), but any head_dim that fits shared
 * memory works and there is still no score matrix. */
#define WIDE_THREADS 128
#define WIDE_MAX_HEAD_DIM 6144 /* q row + o row in 48 KiB */

VIDI_DEVICE float wide_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(VIDI_FULL_MASK, v, o);
    return v;
}

VIDI_KERNEL(attention_wide, attn_args, a) {
    VIDI_SHARED(float, red, 32);
    VIDI_SHARED_DYNAMIC(float, smem);
    const int hd = a.l.head_dim, tid = threadIdx.x, lane = tid % 32, warp = tid / 32, warps = blockDim.x / 32;
    const int64_t b = blockIdx.z, h = blockIdx.y, i = blockIdx.x;
    float *qrow = smem, *orow = smem + hd; /* each thread only touches its own dims d = tid + k*blockDim */
    const float *qi = a.q + b * a.l.q_batch + h * a.l.q_head + i * a.l.q_tok;
    const float *kb = a.k + b * a.l.k_batch + h * a.l.k_head;
    const float *vb = a.v + b * a.l.v_batch + h * a.l.v_head;
    for (int d = tid; d < hd; d += blockDim.x) {
        qrow[d] = qi[d] * a.scale;
        orow[d] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    for (int j = 0; j < a.l.kv_len; j++) {
        const float *kj = kb + (int64_t)j * a.l.k_tok, *vj = vb + (int64_t)j * a.l.v_tok;
        float part = 0.0f;
        for (int d = tid; d < hd; d += blockDim.x) part += qrow[d] * kj[d];
        part = wide_warp_sum(part);
        if (lane == 0) red[warp] = part;
        __syncthreads();
        float s = wide_warp_sum(lane < warps ? red[lane] : 0.0f);
        __syncthreads(); /* red is rewritten for the next key */
        float m_new = fmaxf(m, s), alpha = expf(m - m_new), p = expf(s - m_new);
        l = l * alpha + p;
        m = m_new;
        for (int d = tid; d < hd; d += blockDim.x) orow[d] = orow[d] * alpha + p * vj[d];
    }
    float *oi = a.o + b * a.l.o_batch + h * a.l.o_head + i * a.l.o_tok;
    for (int d = tid; d < hd; d += blockDim.x) oi[d] = orow[d] / l;
}

/* Elements spanned by one operand: the largest offset + head_dim. */
static size_t span(int batch, int heads, int len, int hd, int64_t sb, int64_t sh, int64_t st) {
    return (size_t)((int64_t)(batch - 1) * sb + (int64_t)(heads - 1) * sh + (int64_t)(len - 1) * st + hd);
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_attention)(cudaStream_t s, float *out, const float *q, const float *k,
                                                     const float *v, const vidi_attn_layout *l, float scale) {
    if (l->batch == 0 || l->heads == 0 || l->q_len == 0) return cudaSuccess;
    const int hd = l->head_dim;
    VIDI_DEV_RANGE(q, span(l->batch, l->heads, l->q_len, hd, l->q_batch, l->q_head, l->q_tok) * sizeof(float));
    VIDI_DEV_RANGE(k, span(l->batch, l->heads, l->kv_len, hd, l->k_batch, l->k_head, l->k_tok) * sizeof(float));
    VIDI_DEV_RANGE(v, span(l->batch, l->heads, l->kv_len, hd, l->v_batch, l->v_head, l->v_tok) * sizeof(float));
    VIDI_DEV_RANGE(out, span(l->batch, l->heads, l->q_len, hd, l->o_batch, l->o_head, l->o_tok) * sizeof(float));
    attn_args args;
    args.o = out;
    args.q = q;
    args.k = k;
    args.v = v;
    args.l = *l;
    args.scale = scale;
    if (hd > VIDI_CUDA_ATTN_MAX_HEAD_DIM) {
        if (hd > WIDE_MAX_HEAD_DIM) return cudaErrorInvalidValue; /* the caller checks first */
        VIDI_LAUNCH(attention_wide, VIDI_DIM3(l->q_len, l->heads, l->batch), VIDI_DIM3(WIDE_THREADS, 1, 1),
                    2 * (size_t)hd * sizeof(float), s, args);
        return cudaGetLastError();
    }
    size_t smem = attn_smem_floats(hd) * sizeof(float);
    if (smem > 48 * 1024) {
        cudaError_t err = cudaFuncSetAttribute(flash_attention, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
        if (err != cudaSuccess) return err;
    }
    unsigned tiles = (unsigned)((l->q_len + ATT_BQ - 1) / ATT_BQ);
    VIDI_LAUNCH(flash_attention, VIDI_DIM3(tiles, l->heads, l->batch), VIDI_DIM3(ATT_WARPS * 32, 1, 1), smem, s, args);
    return cudaGetLastError();
}
