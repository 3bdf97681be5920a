/* sgemm throughput of the linked BLAS at the shapes vidi runs.
 *
 * vidi's linear op is out = in * W^T with W stored [out_f, in_f] (PyTorch
 * layout), so every shape here is timed as sgemm(RowMajor, NoTrans, Trans):
 * exactly the call nn/cpu/linear.c makes. Square 1024/2048 are there to
 * compare against published peak numbers; the M=197 rows are ViT-B/16 at
 * 224x224 (196 patches + cls): qkv, proj, fc1, fc2.
 *
 *   bench_sgemm [--threads N] [--json] [--min-time SECONDS]
 */
#ifdef VIDI_USE_BLIS
#include <blis.h> /* declares BLIS's cblas_* too */
#else
#include <cblas.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef VIDI_USE_BLIS
static void blas_set_threads(int n) { bli_thread_set_num_threads(n); }
static const char *blas_name(void) { return "blis"; }
static const char *blas_config(void) { return bli_info_get_version_str(); }
#else
static void blas_set_threads(int n) { openblas_set_num_threads(n); }
static const char *blas_name(void) { return "openblas"; }
static const char *blas_config(void) { return openblas_get_config(); }
#endif

typedef struct { int m, k, n; const char *what; } gemm_shape;

static const gemm_shape shapes[] = {
    {1024, 1024, 1024, "square"},
    {2048, 2048, 2048, "square"},
    {197, 768, 2304, "vit-b qkv"},
    {197, 768, 768, "vit-b attn proj"},
    {197, 768, 3072, "vit-b mlp fc1"},
    {197, 3072, 768, "vit-b mlp fc2"},
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float *random_floats(size_t n, unsigned *seed) {
    float *p = malloc(n * sizeof *p);
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        p[i] = (float)((*seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

/* Median seconds per call: the median shrugs off the odd scheduler hiccup
 * on a small shared machine, where the mean would not. */
static double time_sgemm(const gemm_shape *s, double min_time) {
    unsigned seed = 12345;
    float *a = random_floats((size_t)s->m * s->k, &seed);
    float *w = random_floats((size_t)s->n * s->k, &seed);
    float *c = calloc((size_t)s->m * s->n, sizeof *c);
    if (!a || !w || !c) { free(a); free(w); free(c); return -1.0; }
    enum { MAX_RUNS = 1000 };
    static double runs[MAX_RUNS];
    for (int warm = 0; warm < 2; warm++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->m, s->n, s->k, 1.0f, a, s->k, w,
                    s->k, 0.0f, c, s->n);
    int n_runs = 0;
    double start = now_s();
    while (n_runs < MAX_RUNS && (n_runs < 5 || now_s() - start < min_time)) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->m, s->n, s->k, 1.0f, a, s->k, w,
                    s->k, 0.0f, c, s->n);
        runs[n_runs++] = now_s() - t0;
    }
    qsort(runs, (size_t)n_runs, sizeof runs[0], cmp_double);
    free(a); free(w); free(c);
    return runs[n_runs / 2];
}

int main(int argc, char **argv) {
    int threads = 0, json = 0;
    double min_time = 0.5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc) min_time = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--threads N] [--json] [--min-time SECONDS]\n", argv[0]);
            return 2;
        }
    }
    if (threads > 0) blas_set_threads(threads);

    int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);
    if (json) printf("{\"library\": \"%s\", \"config\": \"%s\", \"threads\": %d, \"results\": [",
                     blas_name(), blas_config(), threads);
    else printf("# %s (%s), threads %d\n%-16s %5s %5s %5s %10s %9s\n", blas_name(), blas_config(),
                threads, "shape", "M", "K", "N", "ms", "GFLOP/s");
    for (int i = 0; i < n_shapes; i++) {
        const gemm_shape *s = &shapes[i];
        double sec = time_sgemm(s, min_time);
        if (sec < 0) { fprintf(stderr, "out of memory\n"); return 1; }
        double gflops = 2.0 * s->m * s->k * s->n / sec * 1e-9;
        if (json)
            printf("%s{\"shape\": \"%s\", \"m\": %d, \"k\": %d, \"n\": %d, \"ms\": %.4f, \"gflops\": %.2f}",
                   i ? ", " : "", s->what, s->m, s->k, s->n, sec * 1e3, gflops);
        else
            printf("%-16s %5d %5d %5d %10.3f %9.1f\n", s->what, s->m, s->k, s->n, sec * 1e3, gflops);
    }
    if (json) printf("]}\n");
    return 0;
}
