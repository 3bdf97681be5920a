/* vidi inpaint — fill masked boxes or frames of a video clip with a
 * diffusion model (docs/diffusion.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/diffusion_cli.h"
#include "vidi/backend.h"
#include "vidi/decode.h"
#include "vidi/image.h"

static const char help_head[] =
    "usage: vidi inpaint [--model D] --mask SPEC [--method conditioned|repaint] IN -o OUT\n"
    "\n"
    "Read the model's clip length of frames from IN (from --start), scaled so the\n"
    "shorter side is the model's size and centre-cropped (as the model was trained),\n"
    "fill the masked pixels with the diffusion model and write the clip. Known\n"
    "pixels are kept exactly.\n"
    "\n"
    "      --mask SPEC       pixels to fill, parts joined by '+':\n"
    "                          box:X,Y,W,H[@F0-F1]  a box on all (or frames F0..F1)\n"
    "                          frames:LIST          whole frames (N or N-M, comma-separated)\n"
    "                          predict:K            every frame after the first K\n"
    "                          interpolate:K        all but the first and last K frames\n"
    "                          image:PATH           bright pixels of a mask image, every frame\n"
    "                          video:PATH           bright pixels of a mask video, per frame\n"
    "      --method NAME     conditioned (default: the model sees the known pixels and\n"
    "                        the mask) or repaint (replacement, training-free; DDPM)\n"
    "      --resample R      repaint: resample each step R times (default 1)\n"
    "      --known-guidance S  conditioned: guide on the known pixels, eps = eps(nothing\n"
    "                        known) + S (eps(known) - eps(nothing known)); 2 model calls\n"
    "                        a step (default 1: none; not with --guidance)\n"
    "      --start F         first frame of IN to use (default 0)\n";
static const char help_tail[] =
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 done, 1 failure (video, mask, model, output), 2 bad usage.\n"
    "\n"
    "example: vidi inpaint --mask predict:8 samples/clips/ssv2-vp9/1.webm -o future.mp4\n";

static const struct option long_opts[] = {
    {"model", required_argument, 0, 'm'},   {"label", required_argument, 0, 'l'},
    {"steps", required_argument, 0, 0},     {"sampler", required_argument, 0, 0},
    {"eta", required_argument, 0, 0},       {"guidance", required_argument, 0, 0},
    {"seed", required_argument, 0, 's'},    {"output", required_argument, 0, 'o'},
    {"fps", required_argument, 0, 0},       {"backend", required_argument, 0, 0},
    {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
    {"json", no_argument, 0, 0},            {"mask", required_argument, 0, 0},
    {"method", required_argument, 0, 0},    {"resample", required_argument, 0, 0},
    {"start", required_argument, 0, 0},     {"help", no_argument, 0, 'h'},
    {"known-guidance", required_argument, 0, 0},
    {0, 0, 0, 0}};

typedef struct inpaint_opts {
    const char *mask;
    vidi_inpaint_method method;
    int resample, start;
} inpaint_opts;

static int parse_extra(void *user, const char *name, const char *arg) {
    inpaint_opts *io = user;
    if (!strcmp(name, "mask")) return io->mask = arg, 1;
    if (!strcmp(name, "method")) {
        if (vidi_inpaint_method_parse(arg, &io->method) == VIDI_OK) return 1;
        cli_library_error("inpaint");
        return -1;
    }
    if (!strcmp(name, "resample")) return cli_parse_int("inpaint", "--resample", arg, 1, 100, &io->resample) ? -1 : 1;
    if (!strcmp(name, "start")) return cli_parse_int("inpaint", "--start", arg, 0, 1 << 30, &io->start) ? -1 : 1;
    return 0;
}

/* frames [start, start+T) of path, shorter side to size, centre crop, [-1, 1]. */
static int read_clip(const char *cmd, const char *path, int start, const vidi_denoiser_config *c, float *clip) {
    vidi_decoder_params dp = vidi_decoder_default_params();
    dp.shorter_side = c->image_size;
    dp.resample = VIDI_RESAMPLE_BILINEAR;
    vidi_decoder *dec = NULL;
    int64_t count = 0;
    if (vidi_decoder_open(path, &dp, &dec) != VIDI_OK || vidi_decoder_count_frames(dec, &count) != VIDI_OK) {
        cli_library_error(cmd);
        vidi_decoder_close(dec);
        return -1;
    }
    if (count < (int64_t)start + c->frames) {
        cli_error(cmd, "%s: the video has %lld frames; the model's clip needs %d from frame %d", path, (long long)count,
                  c->frames, start);
        vidi_decoder_close(dec);
        return -1;
    }
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)c->frames);
    vidi_frame *frames = calloc((size_t)c->frames, sizeof *frames);
    int rc = idx && frames ? 0 : -1;
    if (rc) cli_error(cmd, "out of memory");
    for (int i = 0; !rc && i < c->frames; i++) idx[i] = start + i;
    if (!rc && vidi_decoder_read_indices(dec, idx, c->frames, frames) != VIDI_OK) {
        cli_library_error(cmd);
        rc = -1;
    }
    static const float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.5f, 0.5f, 0.5f};
    int64_t plane = (int64_t)c->channels * c->image_size * c->image_size;
    for (int i = 0; !rc && i < c->frames; i++) {
        vidi_image img = {frames[i].width, frames[i].height, frames[i].rgb}, crop = {0};
        if (c->channels != 3 || vidi_image_center_crop(&img, c->image_size, c->image_size, &crop) != VIDI_OK) {
            if (c->channels != 3) cli_error(cmd, "%s: the model has %d channels; videos are RGB", path, c->channels);
            else cli_library_error(cmd);
            rc = -1;
            break;
        }
        vidi_image_normalize(&crop, 1.0f / 255.0f, mean, std, clip + i * plane);
        vidi_image_free(&crop);
    }
    if (frames)
        for (int i = 0; i < c->frames; i++) vidi_frame_free(&frames[i]);
    free(frames);
    free(idx);
    vidi_decoder_close(dec);
    return rc;
}

int cmd_inpaint(int argc, char **argv) {
    const char *cmd = "inpaint";
    diffusion_opts o;
    diffusion_opts_init(&o);
    inpaint_opts io = {.method = VIDI_INPAINT_CONDITIONED, .resample = 1};
    int r = diffusion_cli_getopt(cmd, argc, argv, long_opts, "m:l:s:o:t:qh", &o, parse_extra, &io, help_head, help_tail);
    if (r == 1) return CLI_EXIT_OK;
    if (r) return CLI_EXIT_USAGE;
    if (optind != argc - 1) {
        cli_error(cmd, optind >= argc ? "an input video is required (see --help)" : "one input video, got %d",
                  argc - optind);
        return CLI_EXIT_USAGE;
    }
    const char *in = argv[optind];
    if (!io.mask) {
        cli_error(cmd, "--mask SPEC is required (e.g. box:8,8,16,16 or predict:8)");
        return CLI_EXIT_USAGE;
    }
    if (diffusion_cli_check_usage(cmd, &o)) return CLI_EXIT_USAGE;
    if (o.sample.known_guidance != 1.0f && io.method != VIDI_INPAINT_CONDITIONED) {
        cli_error(cmd, "--known-guidance needs --method conditioned (repaint's model sees no known pixels)");
        return CLI_EXIT_USAGE;
    }
    if (o.sample.known_guidance != 1.0f && o.sample.guidance != 1.0f) {
        cli_error(cmd, "--known-guidance and --guidance: give one of the two");
        return CLI_EXIT_USAGE;
    }
    vidi_backend *be = NULL;
    vidi_denoiser *m = diffusion_cli_load(cmd, &o, &be);
    if (!m) return CLI_EXIT_FAIL;
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    size_t px = (size_t)c->frames * c->image_size * c->image_size;
    float *known = malloc(sizeof(float) * px * (size_t)c->channels), *mask = malloc(sizeof(float) * px);
    int rc = CLI_EXIT_FAIL;
    if (!known || !mask) cli_error(cmd, "out of memory");
    else if (diffusion_cli_label(cmd, &o, m) || diffusion_cli_check_output(cmd, &o, c->image_size, c->image_size)) {
    } else if (vidi_inpaint_mask_parse(io.mask, c->frames, c->image_size, c->image_size, mask) != VIDI_OK) {
        cli_library_error(cmd);
    } else if (io.method == VIDI_INPAINT_CONDITIONED && !c->inpaint) {
        cli_error(cmd, "%s was trained without in-painting masks; use --method repaint", o.model);
    } else if (read_clip(cmd, in, io.start, c, known) == 0) {
        rc = diffusion_cli_run(cmd, &o, m, known, mask, io.method, io.resample);
    }
    free(known);
    free(mask);
    vidi_denoiser_free(m);
    vidi_backend_destroy(be);
    return rc;
}
