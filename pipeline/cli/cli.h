/* Shared pieces of the `vidi` command line: each subcommand is a function
 * `int cmd_NAME(int argc, char **argv)` returning the process exit code.
 * Exit codes: 0 ok, 1 failure (input, model, runtime), 2 usage error. */
#ifndef VIDI_CLI_H
#define VIDI_CLI_H

#include "vidi/backend.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

int cmd_classify(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_frames(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_inpaint(int argc, char **argv);

/* "vidi CMD: message" on stderr, one line. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints vidi_last_error() as above. */
void cli_library_error(const char *cmd);

/* Strict integer option parsing: the whole string, within [lo, hi]. */
int cli_parse_int(const char *cmd, const char *option, const char *text, int lo, int hi, int *out);

/* --decoder NAME and --timeout SEC of the video commands (probe, frames):
 * 0, or the exit code after printing the error. */
struct vidi_decoder_params;
int cli_decoder_option(const char *cmd, const char *name, struct vidi_decoder_params *p);
int cli_timeout_option(const char *cmd, const char *text, struct vidi_decoder_params *p);
/* --hwaccel none|cuda (cmd_probe.c; probe, frames, classify, sample, eval):
 * 0, or the exit code after printing the error. cli_hwaccel_note (below)
 * says when CUDA was asked for but the decoder runs in software. */
int cli_hwaccel_option(const char *cmd, const char *name, struct vidi_decoder_params *p);

/* --views TxS: T temporal clips (1..64) x S spatial crops (1 or 3);
 * 0, or -1 after printing the error. */
int cli_parse_views(const char *cmd, const char *text, int *t, int *s);

/* Progress on stderr for long loops: a bar with rate and ETA, only when
 * stderr is a terminal (logs and pipes stay clean for errors and JSON). */
typedef struct cli_progress {
    const char *cmd, *unit;
    int total, tty, drawn, quiet;
    double start;
    int plain;         /* 1: when stderr is not a terminal, a plain line every tenth of the run */
    int plain_step;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *cmd, const char *unit, int total);
void cli_progress_update(cli_progress *p, int done);
/* The same with a note after the rate and ETA (e.g. "top-1 71.2%"). */
void cli_progress_update_note(cli_progress *p, int done, const char *note);
/* Ends a half-drawn bar line so that an error message starts on its own line. */
void cli_progress_break(cli_progress *p);
double cli_progress_elapsed(const cli_progress *p);

/* After opening a decoder with p: when --hwaccel cuda was asked for but the
 * decoder runs in software, says so and why, once per process (one line;
 * it first ends bar's half-drawn line; bar may be NULL). */
struct vidi_video_info;
void cli_hwaccel_note(const char *cmd, const struct vidi_decoder_params *p, const struct vidi_video_info *info,
                      cli_progress *bar);

/* Creates the backend named by --backend with --threads; prints on failure. */
vidi_backend *cli_backend(const char *cmd, const char *name, int threads);

#endif
