/* Fast layernorm: rows in parallel; per row a two-pass mean/variance in
 * float. Two passes (not sum and sum of squares) because activations with a
 * large mean would cancel catastrophically in E[x^2] - E[x]^2; a row of 768
 * floats stays in L1, so the second pass is nearly free. */
#include <math.h>

#include "nn/cpu/cpu.h"
#include "nn/cpu/simd.h"
#include "nn/ref/ops_check.h"

typedef struct {
    float *out;
    const float *in, *gamma, *beta;
    int64_t rows, dim;
    float eps;
} layernorm_job;

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void layernorm_row_avx2(float *y, const float *x, const float *gamma, const float *beta,
                                         int64_t n, float eps) {
    /* Two accumulators per pass hide the add latency. */
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
    float sum = vidi_hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) sum += x[i];
    const float mean = sum / (float)n;

    const __m256 m = _mm256_set1_ps(mean);
    s0 = _mm256_setzero_ps();
    s1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), m);
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), m);
        s0 = _mm256_fmadd_ps(d0, d0, s0);
    }
    float ss = vidi_hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
    const float inv = 1.0f / sqrtf(ss / (float)n + eps);

    const __m256 vinv = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m), vinv);
        if (gamma) v = _mm256_mul_ps(v, _mm256_loadu_ps(gamma + i));
        if (beta) v = _mm256_add_ps(v, _mm256_loadu_ps(beta + i));
        _mm256_storeu_ps(y + i, v);
    }
    for (; i < n; i++) {
        float v = (x[i] - mean) * inv;
        if (gamma) v *= gamma[i];
        if (beta) v += beta[i];
        y[i] = v;
    }
}
#endif

/* The fallback sums in double: a sequential float sum over a row loses
 * ~sqrt(dim) ulps where the AVX2 path's 16 partial sums lose far fewer, and
 * the fallback should not be the less accurate of the two. */
static void layernorm_row_scalar(float *y, const float *x, const float *gamma, const float *beta,
                                 int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    const float mean = (float)(sum / (double)n);
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)(x[i] - mean) * (double)(x[i] - mean);
    const float inv = (float)(1.0 / sqrt(ss / (double)n + (double)eps));
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - mean) * inv;
        if (gamma) v *= gamma[i];
        if (beta) v += beta[i];
        y[i] = v;
    }
}

static void layernorm_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const layernorm_job *j = arg;
    int64_t r0 = j->rows * task / n_tasks, r1 = j->rows * (task + 1) / n_tasks;
    int simd = vidi_cpu_simd_enabled();
    for (int64_t r = r0; r < r1; r++) {
        float *y = j->out + r * j->dim;
        const float *x = j->in + r * j->dim;
#ifdef VIDI_HAVE_X86
        if (simd) {
            layernorm_row_avx2(y, x, j->gamma, j->beta, j->dim, j->eps);
            continue;
        }
#endif
        (void)simd;
        layernorm_row_scalar(y, x, j->gamma, j->beta, j->dim, j->eps);
    }
}

vidi_status vidi_cpu_layernorm(vidi_be *be, float *out, const float *in, const float *gamma,
                               const float *beta, int64_t rows, int64_t dim, float eps) {
    vidi_status st = vidi_check_layernorm(out, in, rows, dim, eps);
    if (st != VIDI_OK || rows == 0) return st;
    layernorm_job j = {out, in, gamma, beta, rows, dim, eps};
    int64_t n_tasks = rows * dim / 8192 + 1;
    int64_t cap = (int64_t)vidi_cpu_threads(be) * 4;
    if (n_tasks > cap) n_tasks = cap;
    if (n_tasks > rows) n_tasks = rows;
    vidi_threadpool_run(vidi_cpu_pool(be), (int)n_tasks, layernorm_task, &j);
    return VIDI_OK;
}
