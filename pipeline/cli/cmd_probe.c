/* vidi probe — a video's metadata as the decoder sees it, text or JSON. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/cli.h"
#include "vidi/decode.h"

static const char help[] =
    "usage: vidi probe [options] VIDEO...\n"
    "\n"
    "Print a video's metadata: duration, frame count, frame rate, size, codec,\n"
    "pixel format, rotation. VIDEO is a file or a URL (http, rtsp, ...).\n"
    "\n"
    "      --json            one JSON object per video on stdout: {\"input\", \"decoder\",\n"
    "                        \"duration\", \"frames\", \"frames_exact\", \"fps\", \"width\",\n"
    "                        \"height\", \"coded_width\", \"coded_height\", \"rotation\",\n"
    "                        \"codec\", \"pix_fmt\", \"bit_depth\", \"frames_lost\", \"hwaccel\"}\n"
    "      --decoder NAME    ffmpeg (default) or gst\n"
    "      --hwaccel NAME    none (default) or cuda: decode on the GPU (NVDEC) when\n"
    "                        FFmpeg, the driver and the codec allow it, else in\n"
    "                        software (said once on stderr); \"hwaccel\" in the output\n"
    "      --timeout SEC     network deadline for connecting and each read (default 5)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Frame counts are exact for local files (FFmpeg reads the packet index); for\n"
    "network input they come from the container or are estimated (duration x fps).\n"
    "width x height is the displayed size, after rotation.\n";

static void print_text(const char *input, const vidi_video_info *in, int64_t lost) {
    printf("%s\n", input);
    printf("  decoder    %s\n", in->backend);
    printf("  codec      %s (%s, %d-bit)\n", in->codec, in->pix_fmt, in->bit_depth);
    printf("  size       %dx%d", in->width, in->height);
    if (in->rotation) printf(" (coded %dx%d, rotated %d)", in->coded_width, in->coded_height, in->rotation);
    printf("\n  fps        %.3f\n  duration   %.3f s\n", in->fps, in->duration);
    printf("  frames     %lld%s\n", (long long)in->frame_count, in->frame_count_exact ? "" : " (estimated)");
    if (lost) printf("  lost       %lld (announced by the container but missing or undecodable)\n", (long long)lost);
    if (in->hwaccel[0]) printf("  hwaccel    %s\n", in->hwaccel);
}

static int print_json(const char *input, const vidi_video_info *in, int64_t lost) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return -1;
    cJSON_AddStringToObject(o, "input", input);
    cJSON_AddStringToObject(o, "decoder", in->backend);
    cJSON_AddNumberToObject(o, "duration", in->duration);
    cJSON_AddNumberToObject(o, "frames", (double)in->frame_count);
    cJSON_AddBoolToObject(o, "frames_exact", in->frame_count_exact);
    cJSON_AddNumberToObject(o, "fps", in->fps);
    cJSON_AddNumberToObject(o, "width", in->width);
    cJSON_AddNumberToObject(o, "height", in->height);
    cJSON_AddNumberToObject(o, "coded_width", in->coded_width);
    cJSON_AddNumberToObject(o, "coded_height", in->coded_height);
    cJSON_AddNumberToObject(o, "rotation", in->rotation);
    cJSON_AddStringToObject(o, "codec", in->codec);
    cJSON_AddStringToObject(o, "pix_fmt", in->pix_fmt);
    cJSON_AddNumberToObject(o, "bit_depth", in->bit_depth);
    cJSON_AddNumberToObject(o, "frames_lost", (double)lost);
    cJSON_AddStringToObject(o, "hwaccel", in->hwaccel[0] ? in->hwaccel : "none");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text) return -1;
    puts(text);
    cJSON_free(text);
    return 0;
}

/* --hwaccel none|cuda. 0 ok, else exit code. */
int cli_hwaccel_option(const char *cmd, const char *name, vidi_decoder_params *p) {
    if (!strcmp(name, "none")) p->hwaccel = VIDI_HWACCEL_NONE;
    else if (!strcmp(name, "cuda")) p->hwaccel = VIDI_HWACCEL_CUDA;
    else {
        cli_error(cmd, "--hwaccel '%s': expected none or cuda", name);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* After opening with --hwaccel cuda: says once per process when the GPU is
 * not decoding, and why. */
void cli_hwaccel_note(const char *cmd, const vidi_decoder_params *p, const vidi_video_info *info, cli_progress *bar) {
    static int told;
    if (told || p->hwaccel != VIDI_HWACCEL_CUDA || !strcmp(info->hwaccel, "cuda")) return;
    if (bar) cli_progress_break(bar);
    const char *why = "not available with this decoder";
    int len = (int)strlen(why);
    if (!strncmp(info->hwaccel, "none (cuda: ", 12)) why = info->hwaccel + 12, len = (int)strlen(why) - 1;
    fprintf(stderr, "vidi %s: --hwaccel cuda: %.*s; decoding in software\n", cmd, len, why);
    told = 1;
}

/* --decoder and --timeout, shared with `vidi frames`. 0 ok, else exit code. */
int cli_decoder_option(const char *cmd, const char *name, vidi_decoder_params *p) {
    if (vidi_decoder_backend_parse(name, &p->backend) != VIDI_OK) {
        cli_library_error(cmd);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_timeout_option(const char *cmd, const char *text, vidi_decoder_params *p) {
    char *end = NULL;
    double v = strtod(text, &end);
    if (!*text || *end || !(v > 0) || v > 86400) {
        cli_error(cmd, "--timeout: '%s' is not a number of seconds in (0, 86400]", text);
        return CLI_EXIT_USAGE;
    }
    p->timeout_s = v;
    return 0;
}

int cmd_probe(int argc, char **argv) {
    vidi_decoder_params params = vidi_decoder_default_params();
    int json = 0, rc;
    enum { OPT_JSON = 256, OPT_DECODER, OPT_TIMEOUT, OPT_HWACCEL };
    static const struct option opts[] = {{"json", no_argument, NULL, OPT_JSON},
                                         {"decoder", required_argument, NULL, OPT_DECODER},
                                         {"hwaccel", required_argument, NULL, OPT_HWACCEL},
                                         {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case OPT_DECODER: if ((rc = cli_decoder_option("probe", optarg, &params))) return rc; break;
        case OPT_TIMEOUT: if ((rc = cli_timeout_option("probe", optarg, &params))) return rc; break;
        case OPT_HWACCEL: if ((rc = cli_hwaccel_option("probe", optarg, &params))) return rc; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("probe", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("probe", "unknown option '%s' (see 'vidi probe --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("probe", "no input video (see 'vidi probe --help')");
        return CLI_EXIT_USAGE;
    }
    int failures = 0;
    for (int i = optind; i < argc; i++) {
        vidi_decoder *dec = NULL;
        if (vidi_decoder_open(argv[i], &params, &dec) != VIDI_OK) {
            cli_library_error("probe");
            failures++;
            continue;
        }
        const vidi_video_info *info = vidi_decoder_info(dec);
        cli_hwaccel_note("probe", &params, info, NULL);
        int64_t lost = vidi_decoder_frames_lost(dec);
        if (json) {
            if (print_json(argv[i], info, lost)) {
                cli_error("probe", "out of memory formatting JSON");
                failures++;
            }
        } else {
            print_text(argv[i], info, lost);
        }
        fflush(stdout);
        vidi_decoder_close(dec);
    }
    return failures ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
