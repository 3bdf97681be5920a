/* vidi frames — write chosen frames of a video as PNGs: what the model sees. */
#include <errno.h>
#include <getopt.h>
#include <libavcodec/avcodec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/cli/cli.h"
#include "vidi/decode.h"
#include "vidi/sampler.h"

#define MAX_INDICES 100000

static const char help[] =
    "usage: vidi frames VIDEO (--indices LIST | --sample uniform:N) -o DIR [options]\n"
    "\n"
    "Decode the chosen frames of VIDEO (a file or URL) and write them as\n"
    "DIR/frame_NNNNNN.png (NNNNNN = frame index), one line per frame on stdout.\n"
    "Only those frames are decoded: the decoder seeks to the keyframe before each.\n"
    "\n"
    "      --indices LIST    comma-separated frame indices (presentation order, from 0)\n"
    "      --sample SPEC     uniform:N  N frames spread evenly over the whole video\n"
    "                        clips:LEN:INTERVAL:NUM  mmaction2 test-mode clips\n"
    "  -o, --output DIR      output directory (created if missing)\n"
    "      --size WxH        scale frames to exactly W x H\n"
    "      --shorter N       scale so the shorter side is N (aspect kept)\n"
    "      --decoder NAME    ffmpeg (default) or gst\n"
    "      --hwaccel NAME    none (default) or cuda: decode on the GPU (NVDEC) when\n"
    "                        possible, else in software (said once on stderr)\n"
    "  -t, --threads N       decoder threads (default: decoder's choice)\n"
    "      --timeout SEC     network deadline for connecting and each read (default 5)\n"
    "  -h, --help            show this help\n"
    "\n"
    "Frames are upright (rotation metadata applied). Frames that cannot be decoded\n"
    "are replaced by the nearest earlier one and counted in a warning on stderr.\n";

static int write_png(const char *path, const vidi_frame *f) {
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int ok = 0;
    if (!ctx || !frame || !pkt) goto done;
    ctx->width = f->width;
    ctx->height = f->height;
    ctx->pix_fmt = AV_PIX_FMT_RGB24;
    ctx->time_base = (AVRational){1, 25};
    if (avcodec_open2(ctx, codec, NULL) < 0) goto done;
    frame->format = AV_PIX_FMT_RGB24;
    frame->width = f->width;
    frame->height = f->height;
    frame->data[0] = f->rgb;
    frame->linesize[0] = f->width * 3;
    if (avcodec_send_frame(ctx, frame) < 0 || avcodec_receive_packet(ctx, pkt) < 0) goto done;
    FILE *out = fopen(path, "wb");
    if (!out) goto done;
    ok = fwrite(pkt->data, 1, (size_t)pkt->size, out) == (size_t)pkt->size;
    ok = (fclose(out) == 0) && ok;
done:
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    return ok ? 0 : -1;
}

static int parse_indices(const char *text, int64_t **out, int *n) {
    int count = 1;
    for (const char *q = text; *q; q++) count += *q == ',';
    if (count > MAX_INDICES) return -1;
    int64_t *idx = malloc(sizeof *idx * (size_t)count);
    if (!idx) return -1;
    const char *p = text;
    for (int i = 0; i < count; i++) {
        char *end = NULL;
        errno = 0;
        long long v = (*p >= '0' && *p <= '9') ? strtoll(p, &end, 10) : -1;
        if (v < 0 || errno || *end != (i + 1 < count ? ',' : '\0')) {
            free(idx);
            return -1;
        }
        idx[i] = v;
        p = end + 1;
    }
    *out = idx;
    *n = count;
    return 0;
}

static int parse_sample(const char *text, vidi_sampler_params *p) {
    int a, b, c;
    char tail;
    if (sscanf(text, "uniform:%d%c", &a, &tail) == 1 && a >= 1 && a <= MAX_INDICES) {
        p->mode = VIDI_SAMPLE_UNIFORM;
        p->num_frames = a;
        return 0;
    }
    if (sscanf(text, "clips:%d:%d:%d%c", &a, &b, &c, &tail) == 3 && a >= 1 && b >= 1 && c >= 1 && a <= 4096 &&
        c <= 1024) {
        p->mode = VIDI_SAMPLE_CLIPS;
        p->clip_len = a;
        p->frame_interval = b;
        p->num_clips = c;
        return 0;
    }
    return -1;
}

static int parse_size(const char *text, int *w, int *h) {
    char tail;
    return sscanf(text, "%dx%d%c", w, h, &tail) == 2 && *w >= 1 && *h >= 1 && *w <= 16384 && *h <= 16384 ? 0 : -1;
}

static int ensure_dir(const char *dir) {
    struct stat sb;
    if (stat(dir, &sb) == 0) return S_ISDIR(sb.st_mode) ? 0 : -1;
    return mkdir(dir, 0777);
}

int cmd_frames(int argc, char **argv) {
    vidi_decoder_params params = vidi_decoder_default_params();
    const char *indices_text = NULL, *sample_text = NULL, *outdir = NULL;
    int rc;
    enum { OPT_INDICES = 256, OPT_SAMPLE, OPT_SIZE, OPT_SHORTER, OPT_DECODER, OPT_TIMEOUT, OPT_HWACCEL };
    static const struct option opts[] = {
        {"indices", required_argument, NULL, OPT_INDICES}, {"sample", required_argument, NULL, OPT_SAMPLE},
        {"output", required_argument, NULL, 'o'},          {"size", required_argument, NULL, OPT_SIZE},
        {"shorter", required_argument, NULL, OPT_SHORTER}, {"decoder", required_argument, NULL, OPT_DECODER},
        {"threads", required_argument, NULL, 't'},         {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"hwaccel", required_argument, NULL, OPT_HWACCEL},
        {"help", no_argument, NULL, 'h'},                  {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_INDICES: indices_text = optarg; break;
        case OPT_SAMPLE: sample_text = optarg; break;
        case 'o': outdir = optarg; break;
        case OPT_SIZE:
            if (parse_size(optarg, &params.out_width, &params.out_height)) {
                cli_error("frames", "--size: '%s' is not WxH (e.g. 224x224)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_SHORTER: if (cli_parse_int("frames", "--shorter", optarg, 1, 16384, &params.shorter_side)) return CLI_EXIT_USAGE; break;
        case 't': if (cli_parse_int("frames", "--threads", optarg, 0, 256, &params.threads)) return CLI_EXIT_USAGE; break;
        case OPT_DECODER: if ((rc = cli_decoder_option("frames", optarg, &params))) return rc; break;
        case OPT_TIMEOUT: if ((rc = cli_timeout_option("frames", optarg, &params))) return rc; break;
        case OPT_HWACCEL: if ((rc = cli_hwaccel_option("frames", optarg, &params))) return rc; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("frames", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("frames", "unknown option '%s' (see 'vidi frames --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("frames", "no input video (see 'vidi frames --help')");
        return CLI_EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        cli_error("frames", "one video at a time (got '%s' and '%s')", argv[optind], argv[optind + 1]);
        return CLI_EXIT_USAGE;
    }
    if (!outdir || (!indices_text == !sample_text)) {
        cli_error("frames", "%s (see 'vidi frames --help')",
                  !outdir ? "-o DIR is required" : "give exactly one of --indices and --sample");
        return CLI_EXIT_USAGE;
    }
    int64_t *indices = NULL;
    int n = 0;
    vidi_sampler_params sp = vidi_sampler_default_params();
    if (indices_text && parse_indices(indices_text, &indices, &n)) {
        cli_error("frames", "--indices: '%s' is not a comma-separated list of frame indices", indices_text);
        return CLI_EXIT_USAGE;
    }
    if (sample_text && parse_sample(sample_text, &sp)) {
        cli_error("frames", "--sample: '%s' is not uniform:N or clips:LEN:INTERVAL:NUM", sample_text);
        return CLI_EXIT_USAGE;
    }
    const char *input = argv[optind];
    vidi_decoder *dec = NULL;
    if (vidi_decoder_open(input, &params, &dec) != VIDI_OK) {
        cli_library_error("frames");
        free(indices);
        return CLI_EXIT_FAIL;
    }
    cli_hwaccel_note("frames", &params, vidi_decoder_info(dec), NULL);
    int status = CLI_EXIT_OK;
    vidi_frame *frames = NULL;
    if (sample_text) {
        int64_t total = 0;
        vidi_sample_plan plan = {0};
        if (vidi_decoder_count_frames(dec, &total) != VIDI_OK || vidi_sampler_plan(&sp, total, &plan) != VIDI_OK) {
            cli_library_error("frames");
            status = CLI_EXIT_FAIL;
            goto done;
        }
        indices = plan.indices; /* ownership moves */
        n = plan.n_clips * plan.frames_per_clip;
    }
    if (ensure_dir(outdir) != 0) {
        cli_error("frames", "%s: cannot create output directory: %s", outdir, strerror(errno ? errno : ENOTDIR));
        status = CLI_EXIT_FAIL;
        goto done;
    }
    frames = calloc((size_t)n, sizeof *frames);
    if (!frames || vidi_decoder_read_indices(dec, indices, n, frames) != VIDI_OK) {
        if (frames) cli_library_error("frames");
        else cli_error("frames", "out of memory");
        status = CLI_EXIT_FAIL;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/frame_%06lld.png", outdir, (long long)indices[i]);
        if (write_png(path, &frames[i]) != 0) {
            cli_error("frames", "%s: cannot write PNG: %s", path, strerror(errno ? errno : EIO));
            status = CLI_EXIT_FAIL;
            break;
        }
        printf("%s  index %lld  pts %.3f s  %dx%d\n", path, (long long)indices[i], frames[i].pts, frames[i].width,
               frames[i].height);
    }
    int64_t lost = vidi_decoder_frames_lost(dec);
    if (lost > 0)
        cli_error("frames", "%s: %lld frames lost (corrupt or missing data); nearest decodable frames used", input,
                  (long long)lost);
done:
    for (int i = 0; frames && i < n; i++) vidi_frame_free(&frames[i]);
    free(frames);
    free(indices);
    vidi_decoder_close(dec);
    return status;
}
