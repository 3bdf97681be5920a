/* Fast add, gelu, softmax and the bias+activation epilogue shared by linear
 * and patch_embed. Vectorised with AVX2 when the CPU has it; split over the
 * pool only when there is enough work to pay for waking the workers. */
#include <math.h>
#include <string.h>

#include "nn/cpu/cpu.h"
#include "nn/cpu/simd.h"
#include "nn/ref/ops_check.h"

/* Below this many elements per task, waking a worker costs more than it saves. */
#define MIN_ELEMS_PER_TASK 16384

static int force_scalar, force_no_avx512;

int vidi_cpu_simd_enabled(void) {
#ifdef VIDI_HAVE_X86
    return !force_scalar && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int vidi_cpu_avx512_enabled(void) {
#ifdef VIDI_HAVE_X86
    return vidi_cpu_simd_enabled() && !force_no_avx512 && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

void vidi_cpu_force_scalar(int force) { force_scalar = force; }

void vidi_cpu_force_no_avx512(int force) { force_no_avx512 = force; }

static int n_tasks_for(vidi_be *be, int64_t work, int64_t min_per_task) {
    int64_t by_work = work / min_per_task;
    int threads = vidi_cpu_threads(be);
    if (by_work < 1) return 1;
    /* A few tasks per thread so a core that got descheduled does not hold up the rest. */
    int64_t cap = (int64_t)threads * 4;
    return (int)(by_work < cap ? by_work : cap);
}

static void split(int64_t n, int task, int n_tasks, int64_t *begin, int64_t *end) {
    *begin = n * task / n_tasks;
    *end = n * (task + 1) / n_tasks;
}

static float act_scalar(float x, vidi_act act) {
    switch (act) {
    case VIDI_ACT_GELU_ERF: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case VIDI_ACT_GELU_TANH: {
        float z = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return x / (1.0f + expf(-2.0f * z));
    }
    case VIDI_ACT_NONE: break;
    }
    return x;
}

/* ---- act over a span (with optional bias), the one elementwise kernel ---- */

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void bias_act_avx2(float *y, const float *x, const float *bias, int64_t n, vidi_act act) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
        if (act == VIDI_ACT_GELU_ERF) v = vidi_gelu_erf8(v);
        else if (act == VIDI_ACT_GELU_TANH) v = vidi_gelu_tanh8(v);
        _mm256_storeu_ps(y + i, v);
    }
    if (i < n) {
        /* Masked tail, so the row ends get the same arithmetic as the rest. */
        __m256i m = vidi_tail_mask((int)(n - i));
        __m256 v = _mm256_maskload_ps(x + i, m);
        if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias + i, m));
        if (act == VIDI_ACT_GELU_ERF) v = vidi_gelu_erf8(v);
        else if (act == VIDI_ACT_GELU_TANH) v = vidi_gelu_tanh8(v);
        _mm256_maskstore_ps(y + i, m, v);
    }
}
#endif

#ifdef VIDI_HAVE_X86
VIDI_AVX512 static void bias_act_avx512(float *y, const float *x, const float *bias, int64_t n, vidi_act act) {
    for (int64_t i = 0; i < n; i += 16) {
        /* The tail is a masked load/store, so every element gets the same arithmetic. */
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i);
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + i));
        if (act == VIDI_ACT_GELU_ERF) v = vidi_gelu_erf16(v);
        else if (act == VIDI_ACT_GELU_TANH) v = vidi_gelu_tanh16(v);
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}
#endif

static void bias_act_span(float *y, const float *x, const float *bias, int64_t n, vidi_act act) {
#ifdef VIDI_HAVE_X86
    if (vidi_cpu_avx512_enabled()) {
        bias_act_avx512(y, x, bias, n, act);
        return;
    }
    if (vidi_cpu_simd_enabled()) {
        bias_act_avx2(y, x, bias, n, act);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) y[i] = act_scalar(x[i] + (bias ? bias[i] : 0.0f), act);
}

typedef struct {
    float *out;
    const float *in;
    const float *bias;
    int64_t rows, cols, ld;
    vidi_act act;
} bias_act_job;

static void bias_act_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const bias_act_job *j = arg;
    int64_t r0, r1;
    split(j->rows, task, n_tasks, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) bias_act_span(j->out + r * j->ld, j->out + r * j->ld, j->bias, j->cols, j->act);
}

void vidi_cpu_bias_act(vidi_be *be, float *out, int64_t rows, int64_t cols, int64_t ld,
                       const float *bias, vidi_act act) {
    if (!bias && act == VIDI_ACT_NONE) return;
    bias_act_job j = {out, out, bias, rows, cols, ld, act};
    int n_tasks = n_tasks_for(be, rows * cols, MIN_ELEMS_PER_TASK);
    if (n_tasks > rows) n_tasks = (int)rows;
    vidi_threadpool_run(vidi_cpu_pool(be), n_tasks, bias_act_task, &j);
}

/* gelu: a flat span, split by elements. */
static void gelu_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const bias_act_job *j = arg;
    int64_t b, e;
    split(j->cols, task, n_tasks, &b, &e);
    bias_act_span(j->out + b, j->in + b, NULL, e - b, j->act);
}

vidi_status vidi_cpu_gelu(vidi_be *be, float *out, const float *in, int64_t n, vidi_act act) {
    vidi_status st = vidi_check_gelu(out, in, n, act);
    if (st != VIDI_OK || n == 0) return st;
    if (act == VIDI_ACT_NONE) {
        if (out != in) memmove(out, in, (size_t)n * sizeof *out);
        return VIDI_OK;
    }
    bias_act_job j = {out, in, NULL, 1, n, n, act};
    vidi_threadpool_run(vidi_cpu_pool(be), n_tasks_for(be, n, MIN_ELEMS_PER_TASK), gelu_task, &j);
    return VIDI_OK;
}

/* ---- add ---- */

typedef struct {
    float *out;
    const float *a, *b;
    int64_t n;
} add_job;

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void add_avx2(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] + b[i];
}
#endif

static void add_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const add_job *j = arg;
    int64_t b, e;
    split(j->n, task, n_tasks, &b, &e);
#ifdef VIDI_HAVE_X86
    if (vidi_cpu_simd_enabled()) {
        add_avx2(j->out + b, j->a + b, j->b + b, e - b);
        return;
    }
#endif
    for (int64_t i = b; i < e; i++) j->out[i] = j->a[i] + j->b[i];
}

vidi_status vidi_cpu_add(vidi_be *be, float *out, const float *a, const float *b, int64_t n) {
    vidi_status st = vidi_check_add(out, a, b, n);
    if (st != VIDI_OK || n == 0) return st;
    add_job j = {out, a, b, n};
    /* add is pure bandwidth: only very large spans gain from a second core. */
    vidi_threadpool_run(vidi_cpu_pool(be), n_tasks_for(be, n, 4 * MIN_ELEMS_PER_TASK), add_task, &j);
    return VIDI_OK;
}

/* ---- softmax ---- */

typedef struct {
    float *out;
    const float *in;
    int64_t rows, cols;
} softmax_job;

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void softmax_row_avx2(float *y, const float *x, int64_t n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float max = vidi_hmax8(vmax);
    for (; i < n; i++) max = fmaxf(max, x[i]);
    const __m256 m = _mm256_set1_ps(max);
    __m256 vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = vidi_exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(y + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = vidi_hsum8(vsum);
    if (i < n) {
        __m256i mask = vidi_tail_mask((int)(n - i));
        __m256 e = vidi_exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, mask), m));
        e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
        _mm256_maskstore_ps(y + i, mask, e);
        sum += vidi_hsum8(e);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    for (; i < n; i++) y[i] *= 1.0f / sum;
}
#endif

static void softmax_row_scalar(float *y, const float *x, int64_t n) {
    float max = x[0];
    for (int64_t i = 1; i < n; i++) max = fmaxf(max, x[i]);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        y[i] = expf(x[i] - max);
        sum += y[i];
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

static void softmax_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const softmax_job *j = arg;
    int64_t r0, r1;
    split(j->rows, task, n_tasks, &r0, &r1);
    int simd = vidi_cpu_simd_enabled();
    for (int64_t r = r0; r < r1; r++) {
#ifdef VIDI_HAVE_X86
        if (simd) {
            softmax_row_avx2(j->out + r * j->cols, j->in + r * j->cols, j->cols);
            continue;
        }
#endif
        (void)simd;
        softmax_row_scalar(j->out + r * j->cols, j->in + r * j->cols, j->cols);
    }
}

vidi_status vidi_cpu_softmax(vidi_be *be, float *out, const float *in, int64_t rows, int64_t cols) {
    vidi_status st = vidi_check_softmax(out, in, rows, cols);
    if (st != VIDI_OK || rows == 0) return st;
    softmax_job j = {out, in, rows, cols};
    int n_tasks = n_tasks_for(be, rows * cols, MIN_ELEMS_PER_TASK / 4);
    if (n_tasks > rows) n_tasks = (int)rows;
    vidi_threadpool_run(vidi_cpu_pool(be), n_tasks, softmax_task, &j);
    return VIDI_OK;
}

/* ---- modulate (adaLN shift/scale, gated residual) ---- */

typedef struct {
    float *out;
    const float *in, *scale, *shift, *res;
    float scale_bias;
    int64_t rows, dim;
} modulate_job;

/* One row: y = x * (scale_bias + scale) [+ shift] [+ res], each operation
 * rounded on its own in both paths (mul, then adds; no FMA), so the AVX2 and
 * scalar paths give the same bits. The scalar loop reads everything through
 * locals: with y possibly aliasing the job, the compiler could not keep
 * j->... in registers, and the old loop did not vectorise (it was ~10% of a
 * diffusion forward). */
static void modulate_row(float *y, const float *x, const float *scale, float sb, const float *shift, const float *res,
                         int64_t dim) {
    for (int64_t c = 0; c < dim; c++) {
        float v = x[c] * (sb + scale[c]);
        if (shift) v += shift[c];
        if (res) v += res[c];
        y[c] = v;
    }
}

#ifdef VIDI_HAVE_X86
VIDI_AVX2 static void modulate_row_avx2(float *y, const float *x, const float *scale, float sb, const float *shift,
                                        const float *res, int64_t dim) {
    __m256 vsb = _mm256_set1_ps(sb);
    int64_t c = 0;
    for (; c + 8 <= dim; c += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + c), _mm256_add_ps(vsb, _mm256_loadu_ps(scale + c)));
        if (shift) v = _mm256_add_ps(v, _mm256_loadu_ps(shift + c));
        if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + c));
        _mm256_storeu_ps(y + c, v);
    }
    modulate_row(y + c, x + c, scale + c, sb, shift ? shift + c : NULL, res ? res + c : NULL, dim - c);
}
#endif

static void modulate_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const modulate_job *j = arg;
    const float *in = j->in, *scale = j->scale, *shift = j->shift, *res_all = j->res;
    float *out = j->out, sb = j->scale_bias;
    int64_t b, e, dim = j->dim;
    split(j->rows, task, n_tasks, &b, &e);
#ifdef VIDI_HAVE_X86
    int simd = vidi_cpu_simd_enabled();
#endif
    for (int64_t r = b; r < e; r++) {
        const float *x = in + r * dim, *res = res_all ? res_all + r * dim : NULL;
        float *y = out + r * dim;
#ifdef VIDI_HAVE_X86
        if (simd) {
            modulate_row_avx2(y, x, scale, sb, shift, res, dim);
            continue;
        }
#endif
        modulate_row(y, x, scale, sb, shift, res, dim);
    }
}

vidi_status vidi_cpu_modulate(vidi_be *be, float *out, const float *in, const float *scale, float scale_bias,
                              const float *shift, const float *res, int64_t rows, int64_t dim) {
    vidi_status st = vidi_check_modulate(out, in, scale, rows, dim, scale_bias);
    if (st != VIDI_OK || rows == 0) return st;
    modulate_job j = {out, in, scale, shift, res, scale_bias, rows, dim};
    int64_t min_rows = MIN_ELEMS_PER_TASK / dim + 1;
    vidi_threadpool_run(vidi_cpu_pool(be), n_tasks_for(be, rows, min_rows), modulate_task, &j);
    return VIDI_OK;
}
