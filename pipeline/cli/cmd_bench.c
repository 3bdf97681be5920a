/* vidi bench — in-process forward latency of a model on a fixed random input. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int isatty_stderr(void) { return isatty(2); }

#include "pipeline/cli/cli.h"
#include "vidi/vit.h"

static const char help[] =
    "usage: vidi bench --model PATH [options]\n"
    "\n"
    "Time the forward pass of a model on a fixed pseudo-random input (no decode,\n"
    "no preprocessing) and report latency and achieved GFLOP/s.\n"
    "\n"
    "  -m, --model PATH     model (as for vidi classify)\n"
    "  -n, --iters N        timed iterations (default 20)\n"
    "  -w, --warmup N       untimed iterations first (default 2)\n"
    "  -t, --threads N      worker threads (default: all cores)\n"
    "      --backend NAME   cpu (default), ref or auto\n"
    "      --heads N        attention heads, for checkpoints whose config lacks them\n"
    "      --json           one JSON object: model, backend, threads, iters, median_ms,\n"
    "                       min_ms, max_ms, mean_ms, gflop (per forward), gflops (achieved\n"
    "                       at the median)\n"
    "  -h, --help           show this help\n"
    "\n"
    "example: vidi bench --model samples/models/vit-shapes --iters 50 --json\n";

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *backend_name = "cpu";
    int iters = 20, warmup = 2, threads = 0, heads = 0, json = 0;
    enum { OPT_JSON = 256, OPT_BACKEND, OPT_HEADS };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"iters", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},  {"threads", required_argument, NULL, 't'},
        {"backend", required_argument, NULL, OPT_BACKEND}, {"heads", required_argument, NULL, OPT_HEADS},
        {"json", no_argument, NULL, OPT_JSON},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:n:w:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'n': if (cli_parse_int("bench", "--iters", optarg, 1, 1000000, &iters)) return CLI_EXIT_USAGE; break;
        case 'w': if (cli_parse_int("bench", "--warmup", optarg, 0, 1000000, &warmup)) return CLI_EXIT_USAGE; break;
        case 't': if (cli_parse_int("bench", "--threads", optarg, 0, 1024, &threads)) return CLI_EXIT_USAGE; break;
        case OPT_HEADS: if (cli_parse_int("bench", "--heads", optarg, 1, 4096, &heads)) return CLI_EXIT_USAGE; break;
        case OPT_BACKEND: backend_name = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("bench", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("bench", "unknown option '%s' (see 'vidi bench --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (!model_path) {
        cli_error("bench", "--model is required (see 'vidi bench --help')");
        return CLI_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("bench", "unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    vidi_backend *be = cli_backend("bench", backend_name, threads);
    if (!be) return CLI_EXIT_USAGE;
    vidi_vit *model = NULL;
    if (vidi_vit_load(model_path, be, heads, &model) != VIDI_OK) {
        cli_library_error("bench");
        vidi_backend_destroy(be);
        return CLI_EXIT_FAIL;
    }
    const vidi_vit_config *cfg = vidi_vit_get_config(model);
    size_t npix = (size_t)cfg->channels * cfg->image_size * cfg->image_size;
    float *pixels = malloc(sizeof(float) * npix);
    float *logits = malloc(sizeof(float) * (size_t)cfg->num_labels);
    double *times = malloc(sizeof(double) * (size_t)iters);
    int rc = CLI_EXIT_OK;
    if (!pixels || !logits || !times) {
        cli_error("bench", "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    /* A fixed LCG so every run times the same input. */
    uint32_t state = 12345u;
    for (size_t i = 0; i < npix; i++) {
        state = state * 1664525u + 1013904223u;
        pixels[i] = (float)(state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    for (int i = 0; i < warmup + iters; i++) {
        double t0 = now_ms();
        if (vidi_vit_forward(model, pixels, logits, NULL, NULL) != VIDI_OK) {
            cli_library_error("bench");
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        if (i >= warmup) times[i - warmup] = now_ms() - t0;
        if (!json && isatty_stderr()) fprintf(stderr, "\r  iteration %d/%d", i + 1, warmup + iters);
    }
    if (!json && isatty_stderr()) fputc('\n', stderr);
    qsort(times, (size_t)iters, sizeof(double), cmp_double);
    double mean = 0;
    for (int i = 0; i < iters; i++) mean += times[i] / iters;
    double median = iters % 2 ? times[iters / 2] : 0.5 * (times[iters / 2 - 1] + times[iters / 2]);
    double gflop = vidi_vit_flops(model) / 1e9;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", model_path);
        cJSON_AddStringToObject(o, "backend", be->name);
        cJSON_AddNumberToObject(o, "threads", be->n_threads);
        cJSON_AddNumberToObject(o, "iters", iters);
        cJSON_AddNumberToObject(o, "median_ms", median);
        cJSON_AddNumberToObject(o, "min_ms", times[0]);
        cJSON_AddNumberToObject(o, "max_ms", times[iters - 1]);
        cJSON_AddNumberToObject(o, "mean_ms", mean);
        cJSON_AddNumberToObject(o, "gflop", gflop);
        cJSON_AddNumberToObject(o, "gflops", gflop / (median / 1e3));
        char *text = cJSON_PrintUnformatted(o);
        if (text) puts(text);
        cJSON_free(text);
        cJSON_Delete(o);
    } else {
        printf("model      %s (%s backend, %d threads)\n", model_path, be->name, be->n_threads);
        printf("forward    median %.3f ms, min %.3f ms, max %.3f ms over %d iterations\n", median, times[0],
               times[iters - 1], iters);
        printf("compute    %.3f GFLOP per forward, %.1f GFLOP/s at the median\n", gflop, gflop / (median / 1e3));
    }
done:
    free(times);
    free(logits);
    free(pixels);
    vidi_vit_free(model);
    vidi_backend_destroy(be);
    return rc;
}
