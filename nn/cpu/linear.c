/* Fast linear: BLAS sgemm, then bias + activation on the tile just written.
 *
 * vidi's pool owns the cores: each worker runs a single-threaded sgemm on its
 * own slice of output columns (a slice of the weight rows) and applies the
 * epilogue to that slice while it is still in cache. BLAS is told to use one
 * thread (vidi_cpu_blas_set_threads(1) at backend creation), so the two
 * thread teams never nest or compete. At ViT shapes (197 rows) this beats
 * OpenBLAS's own threading, whose per-call fork/join and spin-waits cost
 * 10-15% on a 2-core machine (docs/perf.md). */
#include "nn/cpu/cpu.h"
#include "nn/cpu/gemm_narrow.h"
#include "nn/cpu/simd.h"
#include "nn/ref/ops_check.h"

#ifdef VIDI_USE_BLIS
#include <blis.h>
#else
#include <cblas.h>
#endif

void vidi_cpu_blas_set_threads(int n_threads) {
    if (n_threads < 1) n_threads = 1;
#ifdef VIDI_USE_BLIS
    bli_thread_set_num_threads(n_threads);
#else
    openblas_set_num_threads(n_threads);
#endif
}

const char *vidi_cpu_blas_name(void) {
#ifdef VIDI_USE_BLIS
    return "blis";
#else
    return "openblas";
#endif
}

void vidi_cpu_sgemm_nt(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                       int64_t ldb, float *c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
                (int)ldb, 0.0f, c, (int)ldc);
}

/* Columns per task are a multiple of this so slices keep BLAS's N blocking
 * aligned and stay cache-line aligned in the output. */
#define GEMM_COLUMN_ALIGN 16
/* Below this many multiply-adds a single call is cheaper than a fork/join. */
#define GEMM_PARALLEL_MIN_MACS (1 << 21)
/* Tall GEMMs (many tokens, a narrow layer: the diffusion denoiser's 1024 x 96)
 * are split by rows instead, into blocks of at least this many rows and up to
 * GEMM_TASKS_PER_THREAD blocks per thread: column slices of a narrow layer
 * would be a few BLAS panels each, and more tasks than threads let the atomic
 * task counter move work off a core that runs slower than the other. */
#define GEMM_ROW_BLOCK_MIN 128
#define GEMM_TASKS_PER_THREAD 4

typedef struct gemm_job {
    vidi_be *be;
    const float *a, *b, *bias;
    float *c;
    int64_t m, n, k, lda, ldb, ldc, step;
    vidi_act act;
    const float *packed; /* b packed for a narrow-layer kernel, or NULL: OpenBLAS */
    int panel;           /* the packing's panel: VIDI_GEMM_AVX512_PANEL or VIDI_GEMM_AVX2_PANEL */
} gemm_job;

/* Rows m0..m1 and columns n0..n1 of c, epilogue included. */
static void gemm_block(const gemm_job *j, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
#ifdef VIDI_HAVE_X86
    if (j->packed) {
        if (j->panel == VIDI_GEMM_AVX512_PANEL)
            vidi_cpu_gemm_avx512_block(m0, m1, n0, n1, j->k, j->a, j->lda, j->packed, j->c, j->ldc, j->bias, j->act);
        else
            vidi_cpu_gemm_avx2_block(m0, m1, n0, n1, j->k, j->a, j->lda, j->packed, j->c, j->ldc, j->bias, j->act);
        return;
    }
#endif
    float *c = j->c + m0 * j->ldc + n0;
    vidi_cpu_sgemm_nt(m1 - m0, n1 - n0, j->k, j->a + m0 * j->lda, j->lda, j->b + n0 * j->ldb, j->ldb, c, j->ldc);
    /* Inside a pool task this runs inline, on the block just computed. */
    vidi_cpu_bias_act(j->be, c, m1 - m0, n1 - n0, j->ldc, j->bias ? j->bias + n0 : NULL, j->act);
}

static void gemm_rows_task(void *arg, int task, int n_tasks, int thread) {
    (void)n_tasks;
    (void)thread;
    const gemm_job *j = arg;
    int64_t m0 = (int64_t)task * j->step, m1 = m0 + j->step < j->m ? m0 + j->step : j->m;
    if (m0 >= m1) return;
    gemm_block(j, m0, m1, 0, j->n);
}

static void gemm_task(void *arg, int task, int n_tasks, int thread) {
    (void)n_tasks;
    (void)thread;
    const gemm_job *j = arg;
    int64_t n0 = (int64_t)task * j->step, n1 = n0 + j->step < j->n ? n0 + j->step : j->n;
    if (n0 >= n1) return;
    gemm_block(j, 0, j->m, n0, n1);
}

void vidi_cpu_gemm_pack(const float *b, int64_t ldb, int64_t n, int64_t k, int panel, float *bp) {
    for (int64_t p = 0; p * panel < n; p++) {
        float *dst = bp + p * k * panel;
        int64_t cols = n - p * panel < panel ? n - p * panel : panel;
        for (int64_t j = 0; j < panel; j++) {
            const float *src = b + (p * panel + j) * ldb;
            for (int64_t kk = 0; kk < k; kk++) dst[kk * panel + j] = j < cols ? src[kk] : 0.0f;
        }
    }
}

/* Packing B costs about as much as GEMM rows over it: below this many rows
 * (the denoiser's per-forward conditioning vectors are 1 row) OpenBLAS runs. */
#define GEMM_NARROW_MIN_ROWS 16

/* b packed for the widest narrow-layer kernel the CPU runs, in be's scratch
 * (j->panel says which), or NULL where OpenBLAS runs instead: no AVX2, a
 * layer too wide, too few rows, or no memory for the panels (OpenBLAS needs
 * none of ours, so that is not an error). */
static const float *pack_for_narrow(vidi_be *be, gemm_job *j) {
#ifdef VIDI_HAVE_X86
    if (!be || j->m < GEMM_NARROW_MIN_ROWS || j->k > VIDI_GEMM_NARROW_MAX_K || !vidi_cpu_simd_enabled()) return NULL;
    j->panel = vidi_cpu_avx512_enabled() ? VIDI_GEMM_AVX512_PANEL : VIDI_GEMM_AVX2_PANEL;
    float *bp = vidi_cpu_scratch(be, VIDI_CPU_SCRATCH_GEMM, (size_t)vidi_cpu_gemm_packed_floats(j->n, j->k, j->panel));
    if (bp) vidi_cpu_gemm_pack(j->b, j->ldb, j->n, j->k, j->panel, bp);
    /* The scratch's out-of-memory message would outlive a GEMM that succeeds through OpenBLAS. */
    else vidi_clear_error();
    return bp;
#else
    (void)be, (void)j;
    return NULL;
#endif
}

void vidi_cpu_gemm_bias_act(vidi_be *be, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                            const float *b, int64_t ldb, float *c, int64_t ldc, const float *bias, vidi_act act) {
    int threads = vidi_cpu_threads(be);
    gemm_job j = {be, a, b, bias, c, m, n, k, lda, ldb, ldc, 0, act, NULL, 0};
    j.packed = pack_for_narrow(be, &j);
    if (threads <= 1 || m * n * k < GEMM_PARALLEL_MIN_MACS || n < 2 * GEMM_COLUMN_ALIGN) {
        gemm_block(&j, 0, m, 0, n);
        return;
    }
    if (m >= 2 * GEMM_ROW_BLOCK_MIN * threads && n < 4 * m) {
        int64_t blocks = m / GEMM_ROW_BLOCK_MIN;
        if (blocks > GEMM_TASKS_PER_THREAD * threads) blocks = GEMM_TASKS_PER_THREAD * threads;
        j.step = (m + blocks - 1) / blocks;
        vidi_threadpool_run(vidi_cpu_pool(be), (int)((m + j.step - 1) / j.step), gemm_rows_task, &j);
        return;
    }
    /* Column slices start on multiples of GEMM_COLUMN_ALIGN (16): the packed panels' boundaries (16 or 8). */
    j.step = (n + threads - 1) / threads;
    j.step = (j.step + GEMM_COLUMN_ALIGN - 1) / GEMM_COLUMN_ALIGN * GEMM_COLUMN_ALIGN;
    vidi_threadpool_run(vidi_cpu_pool(be), (int)((n + j.step - 1) / j.step), gemm_task, &j);
}

void vidi_cpu_sgemm(int b_normal, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float beta, float *c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, b_normal ? CblasNoTrans : CblasTrans, (int)m, (int)n, (int)k, 1.0f, a,
                (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

vidi_status vidi_cpu_linear(vidi_be *be, float *out, const float *in, const float *weight,
                            const float *bias, int64_t rows, int64_t in_f, int64_t out_f, vidi_act act) {
    vidi_status st = vidi_check_linear(out, in, weight, rows, in_f, out_f, act);
    if (st != VIDI_OK || rows == 0) return st;
    /* weight is [out_f, in_f] (PyTorch layout), so B = weight^T is a Trans
     * operand and no copy is needed. */
    vidi_cpu_gemm_bias_act(be, rows, out_f, in_f, in, in_f, weight, in_f, out, out_f, bias, act);
    return VIDI_OK;
}
