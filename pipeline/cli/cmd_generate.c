/* vidi generate — sample a clip from a diffusion model (docs/diffusion.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/diffusion_cli.h"
#include "vidi/backend.h"

static const char help_head[] =
    "usage: vidi generate [--model D] [--label L] [--steps N] [--sampler ddpm|ddim|dpm++]\n"
    "                     [--guidance S] [--seed N] -o OUT\n"
    "\n"
    "Generate one clip with a video diffusion model (the model's frames and size)\n"
    "and write it as a video or as PNG frames. A progress bar (steps/s, ETA) is\n"
    "drawn on stderr on a terminal. The same options give the same bytes.\n"
    "\n";
static const char help_tail[] =
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 done, 1 failure (model, label, output), 2 bad usage.\n"
    "\n"
    "example: vidi generate --label 'Moving something up' --steps 50 --seed 3 -o up.mp4\n";

static const struct option long_opts[] = {
    {"model", required_argument, 0, 'm'},   {"label", required_argument, 0, 'l'},
    {"steps", required_argument, 0, 0},     {"sampler", required_argument, 0, 0},
    {"eta", required_argument, 0, 0},       {"guidance", required_argument, 0, 0},
    {"seed", required_argument, 0, 's'},    {"output", required_argument, 0, 'o'},
    {"fps", required_argument, 0, 0},       {"backend", required_argument, 0, 0},
    {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
    {"json", no_argument, 0, 0},            {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};

int diffusion_cli_getopt(const char *cmd, int argc, char **argv, const struct option *opts, const char *shorts,
                         diffusion_opts *o, int (*extra)(void *, const char *, const char *), void *extra_user,
                         const char *help_head_text, const char *help_tail_text) {
    optind = 1;
    opterr = 0;
    int c, idx;
    while ((c = getopt_long(argc, argv, shorts, opts, &idx)) != -1) {
        const char *name = NULL;
        if (c == 'h') {
            fputs(help_head_text, stdout);
            fputs(diffusion_cli_sampling_help, stdout);
            fputs(help_tail_text, stdout);
            return 1;
        }
        if (c == '?' || c == ':') {
            if (optopt) cli_error(cmd, "option -%c: unknown or missing its value (see --help)", optopt);
            else cli_error(cmd, "option '%s': unknown or missing its value (see --help)", argv[optind - 1]);
            return CLI_EXIT_USAGE + 10;
        }
        if (c == 0) name = opts[idx].name;
        else
            for (const struct option *p = opts; p->name; p++)
                if (p->val == c) name = p->name;
        if (!name) return CLI_EXIT_USAGE + 10;
        int r = diffusion_opts_parse(cmd, o, name, optarg);
        if (r == 0 && extra) r = extra(extra_user, name, optarg);
        if (r == 0) {
            cli_error(cmd, "option --%s is not handled", name);
            return CLI_EXIT_USAGE + 10;
        }
        if (r < 0) return CLI_EXIT_USAGE + 10;
    }
    return 0;
}

static void print_summary(const diffusion_opts *o, const vidi_denoiser *m, double seconds, const char *what) {
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    const char *label = o->sample.label >= 0 ? vidi_denoiser_label(m, o->sample.label) : NULL;
    char lab[256];
    if (o->sample.label < 0) snprintf(lab, sizeof lab, "unconditional");
    else snprintf(lab, sizeof lab, "label %d%s%s%s", o->sample.label, label ? " '" : "", label ? label : "", label ? "'" : "");
    if (o->json)
        printf("{\"output\": \"%s\", \"model\": \"%s\", \"frames\": %d, \"width\": %d, \"height\": %d, \"label\": %d, "
               "\"sampler\": \"%s\", \"steps\": %d, \"guidance\": %g, \"known_guidance\": %g, \"seed\": \"%llu\", "
               "\"seconds\": %.3f}\n",
               o->out, o->model, c->frames, c->image_size, c->image_size, o->sample.label,
               vidi_sampler_name(o->sample.sampler), o->sample.steps, (double)o->sample.guidance,
               (double)o->sample.known_guidance, (unsigned long long)o->sample.seed, seconds);
    else {
        char known[64] = "";
        if (o->sample.known_guidance != 1.0f)
            snprintf(known, sizeof known, ", known-pixel guidance %g", (double)o->sample.known_guidance);
        printf("%s %s: %d frames %dx%d, %s, %s %d steps, guidance %g%s, seed %llu, %.1f s\n", what, o->out, c->frames,
               c->image_size, c->image_size, lab, vidi_sampler_name(o->sample.sampler), o->sample.steps,
               (double)o->sample.guidance, known, (unsigned long long)o->sample.seed, seconds);
    }
}

/* Samples, writes, prints the summary: the common tail of both commands. */
int diffusion_cli_run(const char *cmd, diffusion_opts *o, vidi_denoiser *m, const float *known, const float *mask,
                      vidi_inpaint_method method, int resample) {
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    size_t n = (size_t)c->frames * c->channels * c->image_size * c->image_size;
    float *clip = malloc(sizeof(float) * n);
    if (!clip) {
        cli_error(cmd, "out of memory");
        return CLI_EXIT_FAIL;
    }
    cli_progress prog;
    int total = o->sample.steps;
    cli_progress_start(&prog, cmd, "steps", total);
    prog.quiet = o->quiet;
    o->sample.progress = diffusion_cli_progress;
    o->sample.progress_user = &prog;
    vidi_status st = vidi_diffusion_generate(m, &o->sample, known, mask, method, resample, clip);
    if (st != VIDI_OK) {
        cli_progress_break(&prog);
        cli_library_error(cmd);
        free(clip);
        return CLI_EXIT_FAIL;
    }
    double seconds = cli_progress_elapsed(&prog);
    int rc = diffusion_cli_write(cmd, o, clip, c->frames, c->channels, c->image_size) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    free(clip);
    if (rc == CLI_EXIT_OK) print_summary(o, m, seconds, mask ? "inpainted" : "generated");
    return rc;
}

int cmd_generate(int argc, char **argv) {
    const char *cmd = "generate";
    diffusion_opts o;
    diffusion_opts_init(&o);
    int r = diffusion_cli_getopt(cmd, argc, argv, long_opts, "m:l:s:o:t:qh", &o, NULL, NULL, help_head, help_tail);
    if (r == 1) return CLI_EXIT_OK;
    if (r) return CLI_EXIT_USAGE;
    if (optind < argc) {
        cli_error(cmd, "unexpected argument '%s' (generate takes no input file; see --help)", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (diffusion_cli_check_usage(cmd, &o)) return CLI_EXIT_USAGE;
    vidi_backend *be = NULL;
    vidi_denoiser *m = diffusion_cli_load(cmd, &o, &be);
    if (!m) return CLI_EXIT_FAIL;
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    int rc = CLI_EXIT_FAIL;
    int ok = diffusion_cli_label(cmd, &o, m) == 0;
    /* A labelled clip gets the model's recommended guidance unless one is asked for
     * (in-painting keeps 1: its figures were measured without label guidance). */
    if (ok && !o.guidance_given && o.sample.label >= 0) o.sample.guidance = c->guidance;
    if (ok && diffusion_cli_check_output(cmd, &o, c->image_size, c->image_size) == 0)
        rc = diffusion_cli_run(cmd, &o, m, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1);
    vidi_denoiser_free(m);
    vidi_backend_destroy(be);
    return rc;
}
