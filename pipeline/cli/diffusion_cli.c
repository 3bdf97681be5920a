/* Shared pieces of `vidi generate` and `vidi inpaint` (diffusion_cli.h). */
#include <errno.h>
#include <libavcodec/avcodec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/cli/diffusion_cli.h"
#include "vidi/backend.h"
#include "vidi/video_writer.h"

#ifndef VIDI_DEFAULT_MODEL_DIR
#define VIDI_DEFAULT_MODEL_DIR "samples/models"
#endif
#define DEFAULT_MODEL_NAME "diffusion-synth.safetensors"

const char diffusion_cli_sampling_help[] =
    "  -m, --model PATH      diffusion model (vidi-diffusion .safetensors); default\n"
    "                        $VIDI_MODEL_DIR/" DEFAULT_MODEL_NAME ", else\n"
    "                        samples/models/" DEFAULT_MODEL_NAME "\n"
    "  -l, --label L         class name or index (default: unconditional)\n"
    "      --steps N         sampling steps, 1..the model's diffusion steps (default 50)\n"
    "      --sampler NAME    ddpm (ancestral, learned variance; default), ddim or dpm++\n"
    "      --eta E           DDIM noise, 0 (default, deterministic) .. 1\n"
    "      --guidance S      classifier-free guidance scale (default 1: none; for\n"
    "                        generate with --label, the model's recommended scale)\n"
    "  -s, --seed N          noise seed, 0..2^64-1 (default 0); same seed, same bytes\n"
    "  -o, --output OUT      OUT.mp4 (h264), .webm (vp9), .avi (mjpeg), .gif, or a\n"
    "                        directory for DIR/frame_NNNNNN.png\n"
    "      --fps R           frame rate of the written video (default 12)\n"
    "      --backend NAME    ref, cpu (default), cuda, cuda-emu or auto\n"
    "  -t, --threads N       CPU threads (default: all)\n"
    "  -q, --quiet           no progress bar\n"
    "      --json            print a summary object on stdout\n";

void diffusion_opts_init(diffusion_opts *o) {
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    o->fps = 12;
    o->sample = vidi_sample_default_params();
}

int diffusion_opts_parse(const char *cmd, diffusion_opts *o, const char *name, const char *arg) {
    vidi_sample_params *p = &o->sample;
    if (!strcmp(name, "model")) return o->model = arg, 1;
    if (!strcmp(name, "label")) return o->label = arg, 1;
    if (!strcmp(name, "output")) return o->out = arg, 1;
    if (!strcmp(name, "backend")) return o->backend = arg, 1;
    if (!strcmp(name, "quiet")) return o->quiet = 1, 1;
    if (!strcmp(name, "json")) return o->json = 1, 1;
    if (!strcmp(name, "steps")) return cli_parse_int(cmd, "--steps", arg, 0, 100000, &p->steps) ? -1 : 1;
    if (!strcmp(name, "threads")) return cli_parse_int(cmd, "--threads", arg, 0, 1024, &o->threads) ? -1 : 1;
    if (!strcmp(name, "fps")) return cli_parse_int(cmd, "--fps", arg, 1, 240, &o->fps) ? -1 : 1;
    if (!strcmp(name, "sampler")) {
        if (vidi_sampler_parse(arg, &p->sampler) == VIDI_OK) return 1;
        cli_library_error(cmd);
        return -1;
    }
    if (!strcmp(name, "eta") || !strcmp(name, "guidance") || !strcmp(name, "known-guidance")) {
        char *end;
        errno = 0;
        double v = strtod(arg, &end);
        int eta = !strcmp(name, "eta");
        if (!*arg || *end || errno || !(v >= 0) || v > (eta ? 1.0 : 100.0)) {
            cli_error(cmd, "--%s: '%s' is not a number in [0, %s]", name, arg, eta ? "1" : "100");
            return -1;
        }
        if (eta) p->eta = (float)v;
        else if (!strcmp(name, "guidance")) p->guidance = (float)v, o->guidance_given = 1;
        else p->known_guidance = (float)v;
        return 1;
    }
    if (!strcmp(name, "seed")) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        if (!*arg || *end || errno || arg[0] == '-') {
            cli_error(cmd, "--seed: '%s' is not an integer in [0, 2^64-1]", arg);
            return -1;
        }
        p->seed = v;
        return 1;
    }
    return 0;
}

int diffusion_cli_check_usage(const char *cmd, const diffusion_opts *o) {
    if (!o->out) {
        cli_error(cmd, "-o OUT is required (a .mp4, .webm, .avi or .gif file, or a directory)");
        return -1;
    }
    if (o->sample.steps < 1) {
        cli_error(cmd, "--steps %d: must be at least 1", o->sample.steps);
        return -1;
    }
    return 0;
}

vidi_denoiser *diffusion_cli_load(const char *cmd, diffusion_opts *o, vidi_backend **be) {
    static char path[4096]; /* o->model may point here for the rest of the command */
    if (!o->model) {
        const char *env = getenv("VIDI_MODEL_DIR");
        snprintf(path, sizeof path, "%s/%s", env && *env ? env : VIDI_DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME);
        if (access(path, R_OK) != 0) {
            cli_error(cmd, "no default diffusion model: %s does not exist (pass --model PATH, or set VIDI_MODEL_DIR)", path);
            return NULL;
        }
        o->model = path;
    }
    if (!(*be = cli_backend(cmd, o->backend, o->threads))) return NULL;
    vidi_denoiser *m = NULL;
    if (vidi_denoiser_load(o->model, *be, &m) != VIDI_OK) {
        cli_library_error(cmd);
        vidi_backend_destroy(*be);
        *be = NULL;
        return NULL;
    }
    return m;
}

int diffusion_cli_label(const char *cmd, diffusion_opts *o, const vidi_denoiser *m) {
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    o->sample.label = -1;
    if (o->label) {
        if (c->num_classes == 0) {
            cli_error(cmd, "--label '%s': %s is unconditional (no classes)", o->label, o->model);
            return -1;
        }
        if ((o->sample.label = vidi_denoiser_find_label(m, o->label)) < 0) {
            cli_error(cmd, "--label '%s': unknown label (the model has %d classes, 0..%d%s%s%s)", o->label,
                      c->num_classes, c->num_classes - 1, vidi_denoiser_label(m, 0) ? ", e.g. '" : "",
                      vidi_denoiser_label(m, 0) ? vidi_denoiser_label(m, 0) : "", vidi_denoiser_label(m, 0) ? "'" : "");
            return -1;
        }
    }
    if (o->sample.guidance != 1.0f && c->num_classes == 0) {
        cli_error(cmd, "--guidance %g: %s is unconditional (no classes to guide towards)", (double)o->sample.guidance,
                  o->model);
        return -1;
    }
    if (o->sample.guidance != 1.0f && o->sample.label < 0) {
        cli_error(cmd, "--guidance %g needs --label (guidance pushes the unconditional model towards a class)",
                  (double)o->sample.guidance);
        return -1;
    }
    if (o->sample.steps < 1 || o->sample.steps > c->diffusion_steps) {
        cli_error(cmd, "--steps %d: must be 1..%d (the model's diffusion steps)", o->sample.steps, c->diffusion_steps);
        return -1;
    }
    return 0;
}

static const char *extension(const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : NULL;
}

/* Video codec for an output file extension, NULL when it is not a video. */
static const char *codec_for(const char *path) {
    const char *ext = extension(path);
    if (!ext) return NULL;
    if (!strcmp(ext, "mp4") || !strcmp(ext, "mkv") || !strcmp(ext, "mov")) return "h264";
    if (!strcmp(ext, "webm")) return "vp9";
    if (!strcmp(ext, "avi")) return "mjpeg";
    if (!strcmp(ext, "gif")) return "gif";
    return NULL;
}

static int is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int diffusion_cli_check_output(const char *cmd, const diffusion_opts *o, int width, int height) {
    if (!o->out) {
        cli_error(cmd, "-o OUT is required (a .mp4, .webm, .avi or .gif file, or a directory)");
        return -1;
    }
    const char *codec = codec_for(o->out);
    if (!codec && (is_dir(o->out) || o->out[strlen(o->out) - 1] == '/' || !extension(o->out))) return 0;
    if (!codec) {
        cli_error(cmd, "-o %s: unknown extension (use .mp4, .webm, .avi, .gif or a directory)", o->out);
        return -1;
    }
    if (vidi_video_codec_check(codec) != VIDI_OK) {
        cli_library_error(cmd);
        return -1;
    }
    if (strcmp(codec, "gif") && strcmp(codec, "mjpeg") && ((width | height) & 1)) {
        cli_error(cmd, "-o %s: %s needs an even frame size, the model's is %dx%d (use .gif or a directory)", o->out,
                  codec, width, height);
        return -1;
    }
    return 0;
}

static uint8_t to_u8(float v) {
    float x = (v + 1.0f) * 127.5f + 0.5f;
    return (uint8_t)(x < 0.0f ? 0.0f : x > 255.0f ? 255.0f : x);
}

/* [C, H, W] in [-1, 1] -> packed RGB (grey models repeat their channel). */
static void frame_rgb(const float *clip, int f, int channels, int size, uint8_t *rgb) {
    int64_t hw = (int64_t)size * size;
    const float *src = clip + (int64_t)f * channels * hw;
    for (int64_t i = 0; i < hw; i++)
        for (int c = 0; c < 3; c++) rgb[i * 3 + c] = to_u8(src[(channels == 3 ? c : 0) * hw + i]);
}

static int write_png(const char *path, const uint8_t *rgb, int w, int h) {
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int ok = 0;
    if (!ctx || !frame || !pkt) goto done;
    ctx->width = w, ctx->height = h, ctx->pix_fmt = AV_PIX_FMT_RGB24, ctx->time_base = (AVRational){1, 25};
    if (avcodec_open2(ctx, codec, NULL) < 0) goto done;
    frame->format = AV_PIX_FMT_RGB24, frame->width = w, frame->height = h;
    frame->data[0] = (uint8_t *)rgb, frame->linesize[0] = w * 3;
    if (avcodec_send_frame(ctx, frame) < 0 || avcodec_receive_packet(ctx, pkt) < 0) goto done;
    /* Atomic like the video writer: a temporary name, renamed when complete. */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen(tmp, "wb");
    if (!out) goto done;
    ok = fwrite(pkt->data, 1, (size_t)pkt->size, out) == (size_t)pkt->size;
    ok = (fclose(out) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
done:
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    return ok ? 0 : -1;
}

int diffusion_cli_write(const char *cmd, const diffusion_opts *o, const float *clip, int frames, int channels, int size) {
    uint8_t *rgb = malloc((size_t)size * size * 3);
    if (!rgb) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    const char *codec = codec_for(o->out);
    int rc = 0;
    if (!codec) {
        /* Like mkdir -p: parents too. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", o->out);
        for (char *q = dir + 1; *q; q++)
            if (*q == '/') {
                *q = '\0';
                if (!is_dir(dir)) mkdir(dir, 0777);
                *q = '/';
            }
        if (!is_dir(o->out) && mkdir(o->out, 0777) != 0) {
            cli_error(cmd, "%s: cannot create directory: %s", o->out, strerror(errno));
            free(rgb);
            return -1;
        }
        char path[4096];
        for (int f = 0; f < frames && rc == 0; f++) {
            frame_rgb(clip, f, channels, size, rgb);
            snprintf(path, sizeof path, "%s/frame_%06d.png", o->out, f);
            if (write_png(path, rgb, size, size) != 0) {
                cli_error(cmd, "%s: cannot write PNG: %s", path, strerror(errno ? errno : EIO));
                /* Nothing half-written: remove the frames already there. */
                for (int g = 0; g < f; g++) {
                    snprintf(path, sizeof path, "%s/frame_%06d.png", o->out, g);
                    unlink(path);
                }
                rc = -1;
            }
        }
        free(rgb);
        return rc;
    }
    vidi_video_writer_params wp = vidi_video_writer_default_params();
    wp.codec = codec, wp.width = size, wp.height = size, wp.fps_num = o->fps, wp.fps_den = 1;
    if (!strcmp(codec, "h264")) wp.crf = 10; /* tiny frames: keep them sharp */
    vidi_video_writer *w = NULL;
    if (vidi_video_writer_open(o->out, &wp, &w) != VIDI_OK) {
        cli_library_error(cmd);
        free(rgb);
        return -1;
    }
    for (int f = 0; f < frames; f++) {
        frame_rgb(clip, f, channels, size, rgb);
        if (vidi_video_writer_write_rgb(w, rgb, 0) != VIDI_OK) {
            cli_library_error(cmd);
            vidi_video_writer_abort(w);
            free(rgb);
            return -1;
        }
    }
    free(rgb);
    if (vidi_video_writer_close(w) != VIDI_OK) {
        cli_library_error(cmd);
        return -1;
    }
    return 0;
}

void diffusion_cli_progress(void *user, int done, int total) {
    cli_progress *p = user;
    (void)total;
    cli_progress_update(p, done);
}
