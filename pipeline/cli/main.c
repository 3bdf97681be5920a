/* vidi — command-line entry point: dispatches to the subcommands. */
#include <libavutil/log.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/cli.h"
#include "vidi/status.h"

static const char usage[] =
    "usage: vidi [--version] [--help] COMMAND [ARGS]\n"
    "\n"
    "vidi runs vision transformers on images and video: ViT, the four ViViT models\n"
    "and a video diffusion denoiser, on the CPU (a CUDA backend is built when nvcc\n"
    "is there; --backend cuda|auto).\n"
    "\n"
    "commands:\n"
    "  classify   classify images (ViT) or videos (ViViT: views, sliding windows)\n"
    "  bench      time the model's forward pass on a fixed random input\n"
    "  probe      show a video's metadata (duration, frames, fps, size, codec, rotation)\n"
    "  frames     write chosen or sampled frames of a video as PNGs\n"
    "  synth      render a synthetic action dataset (SSv2 or Kinetics layout)\n"
    "  sample     decode and sample videos into clip tensors (training data)\n"
    "  eval       evaluate a video model on Kinetics, SSv2 or a list (top-1/5, reports)\n"
    "  generate   generate a video clip with a diffusion model (label, sampler, seed)\n"
    "  inpaint    fill masked boxes or frames of a video with a diffusion model\n"
    "\n"
    "Run 'vidi COMMAND --help' for a command's options.\n";

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vidi %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_library_error(const char *cmd) { cli_error(cmd, "%s", vidi_last_error()); }

int cli_parse_int(const char *cmd, const char *option, const char *text, int lo, int hi, int *out) {
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < lo || v > hi) {
        cli_error(cmd, "%s: '%s' is not an integer in [%d, %d]", option, text, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_parse_views(const char *cmd, const char *text, int *t, int *s) {
    int a, b;
    char tail;
    if (sscanf(text, "%dx%d%c", &a, &b, &tail) != 2 || a < 1 || a > 64 || (b != 1 && b != 3)) {
        cli_error(cmd, "--views: '%s' is not TxS with T in [1, 64] and S 1 or 3 (e.g. 4x3)", text);
        return -1;
    }
    *t = a, *s = b;
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress_start(cli_progress *p, const char *cmd, const char *unit, int total) {
    *p = (cli_progress){cmd, unit, total, isatty(2), 0, 0, now_s(), 0, 0};
}

void cli_progress_update(cli_progress *p, int done) { cli_progress_update_note(p, done, NULL); }

void cli_progress_update_note(cli_progress *p, int done, const char *note) {
    if (p->quiet || p->total <= 0) return;
    double elapsed = now_s() - p->start, rate = elapsed > 0 ? done / elapsed : 0;
    double eta = rate > 0 ? (p->total - done) / rate : 0;
    if (!p->tty) {
        int step = (int)(10.0 * done / p->total);
        if (!p->plain || (step == p->plain_step && done != p->total)) return;
        p->plain_step = step;
        fprintf(stderr, "%s: %d/%d %s, %.2f/s, ETA %.0f s%s%s\n", p->cmd, done, p->total, p->unit, rate, eta,
                note ? ", " : "", note ? note : "");
        return;
    }
    char bar[31];
    int fill = (int)(30.0 * done / p->total);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r  [%s] %d/%d %s  %.1f/s  ETA %d:%02d %s%s", bar, done, p->total, p->unit, rate, (int)eta / 60,
            (int)eta % 60, note ? note : "", note ? " " : "");
    p->drawn = done != p->total;
    if (done == p->total) fputc('\n', stderr);
}

void cli_progress_break(cli_progress *p) {
    if (p->drawn) fputc('\n', stderr);
    p->drawn = 0;
}

double cli_progress_elapsed(const cli_progress *p) { return now_s() - p->start; }

/* --backend cpu|cuda|auto (and ref, cuda-emu for testing). "cuda" without a
 * device is an error; "auto" falls back to the CPU and says why, once per
 * process. */
vidi_backend *cli_backend(const char *cmd, const char *name, int threads) {
    static int told_fallback;
    vidi_backend *be = NULL;
    vidi_clear_error();
    if (vidi_backend_create(name, threads, &be) != VIDI_OK) {
        cli_library_error(cmd);
        return NULL;
    }
    if (!strcmp(name, "auto") && strcmp(be->name, "cuda") && !told_fallback) {
        fprintf(stderr, "vidi %s: --backend auto: %s; using the CPU\n", cmd,
                vidi_last_error()[0] ? vidi_last_error() : "no CUDA device");
        told_fallback = 1;
    }
    return be;
}

int main(int argc, char **argv) {
    /* FFmpeg would otherwise print its own diagnostics; vidi reports errors itself. */
    av_log_set_level(AV_LOG_QUIET);
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "--version")) {
        puts("vidi 0.1.0");
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "classify")) return cmd_classify(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "probe")) return cmd_probe(argc - 1, argv + 1);
    if (!strcmp(cmd, "frames")) return cmd_frames(argc - 1, argv + 1);
    if (!strcmp(cmd, "synth")) return cmd_synth(argc - 1, argv + 1);
    if (!strcmp(cmd, "sample")) return cmd_sample(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "generate")) return cmd_generate(argc - 1, argv + 1);
    if (!strcmp(cmd, "inpaint")) return cmd_inpaint(argc - 1, argv + 1);
    fprintf(stderr, "vidi: unknown command '%s' (see 'vidi --help')\n", cmd);
    return CLI_EXIT_USAGE;
}
