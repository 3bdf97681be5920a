/* Times vidi's cpu ops at ViT-B/16 shapes (197 tokens, 12 heads x 64):
 * attention, and linear with its bias+GELU epilogue next to the bare sgemm
 * it is built on, so the epilogue's cost (and any thread contention between
 * our pool and BLAS's threads) shows up as the difference.
 *
 *   bench_ops [--threads N] [--min-time SECONDS] [--scalar]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/cpu/cpu.h"
#include "vidi/backend.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *random_floats(size_t n, float amp) {
    float *p = malloc(n * sizeof *p);
    unsigned s = 777;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = amp * ((float)((s >> 8) & 0xffff) / 32768.0f - 1.0f);
    }
    return p;
}

typedef void (*bench_fn)(void *ctx);
enum { MAX_RUNS = 2000 };

/* Median seconds per call. */
static double time_it(bench_fn fn, void *ctx, double min_time) {
    static double runs[MAX_RUNS];
    fn(ctx);
    int n = 0;
    double start = now_s();
    while (n < MAX_RUNS && (n < 5 || now_s() - start < min_time)) {
        double t0 = now_s();
        fn(ctx);
        runs[n++] = now_s() - t0;
    }
    qsort(runs, (size_t)n, sizeof runs[0], cmp_double);
    return runs[n / 2];
}

typedef struct {
    vidi_backend *be;
    float *out, *qkv;
    vidi_attn_layout l;
} attn_ctx;

static void run_attention(void *p) {
    attn_ctx *c = p;
    int64_t D = (int64_t)c->l.heads * c->l.head_dim;
    c->be->attention(c->be, c->out, c->qkv, c->qkv + D, c->qkv + 2 * D, &c->l, 0.125f);
}

typedef struct {
    vidi_backend *be;
    float *out, *in, *w, *b;
    int64_t m, k, n;
    vidi_act act;
    int bare;
} linear_ctx;

static void run_linear(void *p) {
    linear_ctx *c = p;
    if (c->bare) vidi_cpu_sgemm_nt(c->m, c->n, c->k, c->in, c->k, c->w, c->k, c->out, c->n);
    else c->be->linear(c->be, c->out, c->in, c->w, c->b, c->m, c->k, c->n, c->act);
}

int main(int argc, char **argv) {
    int threads = 0;
    double min_time = 0.5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc) min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--scalar")) vidi_cpu_force_scalar(1);
        else {
            fprintf(stderr, "usage: %s [--threads N] [--min-time SECONDS] [--scalar]\n", argv[0]);
            return 2;
        }
    }
    vidi_backend *be = NULL;
    if (vidi_backend_create("cpu", threads, &be) != VIDI_OK) {
        fprintf(stderr, "%s\n", vidi_last_error());
        return 1;
    }
    printf("# vidi cpu ops, %d threads, %s kernels, blas %s\n", be->n_threads,
           vidi_cpu_simd_enabled() ? "avx2" : "scalar", vidi_cpu_blas_name());

    static const int lens[] = {197, 785, 1569};
    for (int i = 0; i < 3; i++) {
        attn_ctx a = {be, NULL, NULL, vidi_attn_layout_fused_qkv(1, 12, lens[i], 64)};
        a.qkv = random_floats((size_t)lens[i] * 3 * 768, 1.0f);
        a.out = random_floats((size_t)lens[i] * 768, 1.0f);
        double sec = time_it(run_attention, &a, min_time);
        /* Q.K^T and P.V: 2 * 2 * len^2 * head_dim flops per head. */
        double flops = 4.0 * lens[i] * (double)lens[i] * 64 * 12;
        printf("attention  1x12x%-5dx64        %9.3f ms %8.1f GFLOP/s\n", lens[i], sec * 1e3, flops / sec * 1e-9);
        free(a.qkv);
        free(a.out);
    }

    static const int shapes[][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}};
    for (int i = 0; i < 4; i++) {
        linear_ctx c = {be, NULL, NULL, NULL, NULL, 197, shapes[i][0], shapes[i][1], VIDI_ACT_GELU_ERF, 0};
        c.in = random_floats((size_t)c.m * c.k, 1.0f);
        c.w = random_floats((size_t)c.n * c.k, 0.03f);
        c.b = random_floats((size_t)c.n, 0.1f);
        c.out = malloc((size_t)c.m * c.n * sizeof *c.out);
        double flops = 2.0 * c.m * c.k * c.n;
        c.bare = 1;
        double bare = time_it(run_linear, &c, min_time);
        c.bare = 0;
        c.act = VIDI_ACT_NONE;
        double with_bias = time_it(run_linear, &c, min_time);
        c.act = VIDI_ACT_GELU_ERF;
        double with_gelu = time_it(run_linear, &c, min_time);
        printf("linear 197x%-4dx%-4d sgemm %7.3f ms (%5.1f GFLOP/s)  +bias %7.3f ms  +bias+gelu %7.3f ms\n",
               (int)c.k, (int)c.n, bare * 1e3, flops / bare * 1e-9, with_bias * 1e3, with_gelu * 1e3);
        free(c.in); free(c.w); free(c.b); free(c.out);
    }
    vidi_backend_destroy(be);
    return 0;
}
