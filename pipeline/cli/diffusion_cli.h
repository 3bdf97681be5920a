/* Pieces shared by `vidi generate` and `vidi inpaint`: the sampling options,
 * the model, the progress bar and writing a clip (video file or PNGs). */
#ifndef VIDI_CLI_DIFFUSION_H
#define VIDI_CLI_DIFFUSION_H

#include <getopt.h>

#include "pipeline/cli/cli.h"
#include "vidi/diffusion.h"

typedef struct diffusion_opts {
    const char *model, *label, *out, *backend, *codec;
    int threads, fps, quiet, json;
    int guidance_given; /* --guidance was on the command line */
    vidi_sample_params sample;
} diffusion_opts;

/* Option help lines shared by both commands. */
extern const char diffusion_cli_sampling_help[];

void diffusion_opts_init(diffusion_opts *o);

/* Handles one of the shared long options (by name) with its argument;
 * 1 handled, 0 not a shared option, -1 bad value (printed). */
int diffusion_opts_parse(const char *cmd, diffusion_opts *o, const char *name, const char *arg);

/* Options both commands need, checked before loading anything: -o given,
 * --steps at least 1. 0, or -1 after printing (a usage error). */
int diffusion_cli_check_usage(const char *cmd, const diffusion_opts *o);

/* The model (--model or the default one) on the backend; NULL after printing. */
vidi_denoiser *diffusion_cli_load(const char *cmd, diffusion_opts *o, vidi_backend **be);

/* Resolves --label into o->sample.label (-1 without --label); -1 after printing. */
int diffusion_cli_label(const char *cmd, diffusion_opts *o, const vidi_denoiser *m);

/* Checks -o before any work: a known video extension or a directory. -1 after printing. */
int diffusion_cli_check_output(const char *cmd, const diffusion_opts *o, int width, int height);

/* Writes clip [T, C, H, W] in [-1, 1] to o->out: a video file written
 * atomically, or DIR/frame_NNNNNN.png. -1 after printing. */
int diffusion_cli_write(const char *cmd, const diffusion_opts *o, const float *clip, int frames, int channels, int size);

/* getopt over `opts`; shared options go to diffusion_opts_parse, the rest
 * to extra (same return convention). 0 parsed, 1 --help printed, else a
 * usage error was printed. Defined in cmd_generate.c. */
int diffusion_cli_getopt(const char *cmd, int argc, char **argv, const struct option *opts, const char *shorts,
                         diffusion_opts *o, int (*extra)(void *, const char *, const char *), void *extra_user,
                         const char *help_head_text, const char *help_tail_text);

/* Samples (generation when mask is NULL), writes o->out, prints the
 * summary; the process exit code. Defined in cmd_generate.c. */
int diffusion_cli_run(const char *cmd, diffusion_opts *o, vidi_denoiser *m, const float *known, const float *mask,
                      vidi_inpaint_method method, int resample);

/* Progress callback for vidi_sample_params (steps/s, ETA). */
void diffusion_cli_progress(void *user, int done, int total);

#endif
