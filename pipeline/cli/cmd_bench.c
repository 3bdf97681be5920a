/* vidi bench — in-process forward latency of a model (ViT or ViViT) on a fixed
 * random input; for a factorised-encoder ViViT also the per-window cost of the
 * streaming encoder. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/classify_video.h"
#include "pipeline/cli/cli.h"
#include "vidi/vit.h"
#include "vidi/vivit.h"

static const char help[] =
    "usage: vidi bench --model PATH [options]\n"
    "\n"
    "Time the forward pass of a model on a fixed pseudo-random input (no decode,\n"
    "no preprocessing) and report latency and achieved GFLOP/s. ViT: one image;\n"
    "ViViT: one clip [frames, 3, size, size] as the checkpoint's config says.\n"
    "\n"
    "  -m, --model PATH     model (as for vidi classify)\n"
    "  -n, --iters N        timed iterations (default 20)\n"
    "  -w, --warmup N       untimed iterations first (default 2)\n"
    "  -t, --threads N      worker threads (default: all cores)\n"
    "      --backend NAME   cpu (default), cuda, auto (cuda if there is a GPU, else cpu), ref, cuda-emu\n"
    "      --heads N        attention heads, for ViT checkpoints whose config lacks them\n"
    "      --window-stride S  factorised-encoder ViViT: also time the streaming\n"
    "                       encoder's step for a window moved by S frames (push S\n"
    "                       frames, classify), in the steady state\n"
    "      --logits         add the logits for the fixed input to --json (parity checks)\n"
    "      --json           one JSON object: model, kind, backend, threads, iters,\n"
    "                       median_ms, min_ms, max_ms, mean_ms, gflop (per forward),\n"
    "                       gflops (achieved at the median); with --window-stride\n"
    "                       \"stream\": {window_stride, median_ms, min_ms, max_ms,\n"
    "                       mean_ms, full_over_step}\n"
    "  -h, --help           show this help\n"
    "\n"
    "The input is x[i] = 2 * (s_i >> 8) / 2^24 - 1 with s_0 = 12345,\n"
    "s_{i+1} = 1664525 s_i + 1013904223 (mod 2^32), in the model's layout.\n"
    "\n"
    "examples:\n"
    "  vidi bench --model samples/models/vit-shapes --iters 50 --json\n"
    "  vidi bench --model tests/golden/vivit_fe/model.safetensors --window-stride 4\n";

typedef struct bench_model {
    vidi_vit *vit;
    vidi_vivit *vivit;
    size_t n_in;     /* floats per input */
    size_t n_frame;  /* ViViT: floats per frame */
    int n_out;
} bench_model;

typedef struct stats {
    double median, min, max, mean;
} stats;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static stats summarise(double *times, int n) {
    qsort(times, (size_t)n, sizeof(double), cmp_double);
    stats s = {n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]), times[0], times[n - 1], 0};
    for (int i = 0; i < n; i++) s.mean += times[i] / n;
    return s;
}

static vidi_status load(const char *path, vidi_backend *be, int heads, bench_model *m) {
    vidi_model_kind kind;
    vidi_status s = vidi_model_probe(path, &kind);
    if (s) return s;
    if (kind == VIDI_MODEL_VIDEO) {
        if ((s = vidi_vivit_load(path, be, &m->vivit))) return s;
        const vidi_vivit_config *c = vidi_vivit_get_config(m->vivit);
        m->n_frame = (size_t)c->channels * c->image_size * c->image_size;
        m->n_in = m->n_frame * (size_t)c->num_frames;
        m->n_out = c->num_labels;
        return VIDI_OK;
    }
    if ((s = vidi_vit_load(path, be, heads, &m->vit))) return s;
    const vidi_vit_config *c = vidi_vit_get_config(m->vit);
    m->n_in = (size_t)c->channels * c->image_size * c->image_size;
    m->n_out = c->num_labels;
    return VIDI_OK;
}

static vidi_status forward(bench_model *m, const float *in, float *out) {
    return m->vivit ? vidi_vivit_forward(m->vivit, in, out, NULL, NULL) : vidi_vit_forward(m->vit, in, out, NULL, NULL);
}

/* Steady-state stream steps: the window is full before timing starts; each
 * step pushes `stride` frames (cycling through the clip) and classifies. */
static int time_stream(bench_model *m, const float *clip, float *logits, int stride, int warmup, int iters,
                       double *times) {
    const vidi_vivit_config *c = vidi_vivit_get_config(m->vivit);
    vidi_vivit_stream *st = NULL;
    int rc = -1;
    if (vidi_vivit_stream_create(m->vivit, &st) || vidi_vivit_stream_push(st, clip, c->num_frames)) goto done;
    int next = 0;
    for (int i = 0; i < warmup + iters; i++) {
        double t0 = now_ms();
        for (int k = 0; k < stride; k++, next = (next + 1) % c->num_frames)
            if (vidi_vivit_stream_push(st, clip + (size_t)next * m->n_frame, 1)) goto done;
        if (vidi_vivit_stream_classify(st, logits)) goto done;
        if (i >= warmup) times[i - warmup] = now_ms() - t0;
    }
    rc = 0;
done:
    vidi_vivit_stream_free(st);
    return rc;
}

static void add_stats(cJSON *o, const stats *s) {
    cJSON_AddNumberToObject(o, "median_ms", s->median);
    cJSON_AddNumberToObject(o, "min_ms", s->min);
    cJSON_AddNumberToObject(o, "max_ms", s->max);
    cJSON_AddNumberToObject(o, "mean_ms", s->mean);
}

static void print_json(const char *model_path, const bench_model *m, const vidi_backend *be, int iters,
                       const stats *full, double gflop, int stride, const stats *step, const float *logits) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "model", model_path);
    cJSON_AddStringToObject(o, "kind", m->vivit ? "vivit" : "vit");
    cJSON_AddStringToObject(o, "backend", be->name);
    cJSON_AddNumberToObject(o, "threads", be->n_threads);
    cJSON_AddNumberToObject(o, "iters", iters);
    add_stats(o, full);
    cJSON_AddNumberToObject(o, "gflop", gflop);
    cJSON_AddNumberToObject(o, "gflops", gflop / (full->median / 1e3));
    if (stride) {
        cJSON *s = cJSON_AddObjectToObject(o, "stream");
        if (s) {
            cJSON_AddNumberToObject(s, "window_stride", stride);
            add_stats(s, step);
            cJSON_AddNumberToObject(s, "full_over_step", full->median / step->median);
        }
    }
    if (logits) {
        cJSON *lg = cJSON_AddArrayToObject(o, "logits");
        for (int i = 0; lg && i < m->n_out; i++) cJSON_AddItemToArray(lg, cJSON_CreateNumber(logits[i]));
    }
    char *text = cJSON_PrintUnformatted(o);
    if (text) puts(text);
    cJSON_free(text);
    cJSON_Delete(o);
}

int cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *backend_name = "cpu";
    int iters = 20, warmup = 2, threads = 0, heads = 0, json = 0, stride = 0, want_logits = 0;
    enum { OPT_JSON = 256, OPT_BACKEND, OPT_HEADS, OPT_STRIDE, OPT_LOGITS };
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"iters", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},  {"threads", required_argument, NULL, 't'},
        {"backend", required_argument, NULL, OPT_BACKEND}, {"heads", required_argument, NULL, OPT_HEADS},
        {"window-stride", required_argument, NULL, OPT_STRIDE}, {"logits", no_argument, NULL, OPT_LOGITS},
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
        case OPT_STRIDE: if (cli_parse_int("bench", "--window-stride", optarg, 1, 4096, &stride)) return CLI_EXIT_USAGE; break;
        case OPT_BACKEND: backend_name = optarg; break;
        case OPT_LOGITS: want_logits = 1; break;
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
    bench_model m = {0};
    if (load(model_path, be, heads, &m) != VIDI_OK) {
        cli_library_error("bench");
        vidi_backend_destroy(be);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_OK;
    float *input = NULL, *logits = NULL;
    double *times = NULL, *step_times = NULL;
    if (stride) {
        const vidi_vivit_config *vc = m.vivit ? vidi_vivit_get_config(m.vivit) : NULL;
        if (!vc || vc->variant != VIDI_VIVIT_FACTORISED_ENCODER) {
            cli_error("bench", "%s: --window-stride needs a factorised-encoder (model 2) ViViT", model_path);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
        if (stride % vc->tubelet_t) {
            cli_error("bench", "--window-stride %d is not a multiple of the model's tubelet depth %d", stride,
                      vc->tubelet_t);
            rc = CLI_EXIT_USAGE;
            goto done;
        }
    }
    input = malloc(sizeof(float) * m.n_in);
    logits = malloc(sizeof(float) * (size_t)m.n_out);
    times = malloc(sizeof(double) * (size_t)iters);
    step_times = malloc(sizeof(double) * (size_t)iters);
    if (!input || !logits || !times || !step_times) {
        cli_error("bench", "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    /* A fixed LCG so every run (and a peer reproducing it) times the same input. */
    uint32_t state = 12345u;
    for (size_t i = 0; i < m.n_in; i++) {
        state = state * 1664525u + 1013904223u;
        input[i] = (float)(state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    int tty = !json && isatty(2);
    for (int i = 0; i < warmup + iters; i++) {
        double t0 = now_ms();
        if (forward(&m, input, logits) != VIDI_OK) {
            cli_library_error("bench");
            rc = CLI_EXIT_FAIL;
            goto done;
        }
        if (i >= warmup) times[i - warmup] = now_ms() - t0;
        if (tty) fprintf(stderr, "\r  iteration %d/%d", i + 1, warmup + iters);
    }
    if (tty) fputc('\n', stderr);
    /* The logits of the fixed input, before the stream reuses the model's buffers. */
    float *reported = want_logits ? logits : NULL;
    float *stream_logits = malloc(sizeof(float) * (size_t)m.n_out);
    if (stride && (!stream_logits || time_stream(&m, input, stream_logits, stride, warmup, iters, step_times))) {
        cli_library_error("bench");
        rc = CLI_EXIT_FAIL;
        free(stream_logits);
        goto done;
    }
    free(stream_logits);
    stats full = summarise(times, iters), step = {0, 0, 0, 0};
    if (stride) step = summarise(step_times, iters);
    double gflop = (m.vivit ? vidi_vivit_flops(m.vivit) : vidi_vit_flops(m.vit)) / 1e9;
    if (json) {
        print_json(model_path, &m, be, iters, &full, gflop, stride, &step, reported);
    } else {
        printf("model      %s (%s, %s backend, %d threads)\n", model_path, m.vivit ? "ViViT" : "ViT", be->name,
               be->n_threads);
        printf("forward    median %.3f ms, min %.3f ms, max %.3f ms over %d iterations\n", full.median, full.min,
               full.max, iters);
        printf("compute    %.3f GFLOP per forward, %.1f GFLOP/s at the median\n", gflop, gflop / (full.median / 1e3));
        if (stride)
            printf("stream     window moved by %d frames: median %.3f ms, min %.3f ms (%.2fx faster than a full "
                   "forward)\n", stride, step.median, step.min, full.median / step.median);
    }
done:
    free(step_times);
    free(times);
    free(logits);
    free(input);
    vidi_vit_free(m.vit);
    vidi_vivit_free(m.vivit);
    vidi_backend_destroy(be);
    return rc;
}
