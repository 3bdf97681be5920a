/* vidi synth — render and encode the synthetic action dataset (docs/synth.md). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/cli/cli.h"
#include "vidi/synth.h"

static const char help[] =
    "usage: vidi synth --out DIR [options]\n"
    "\n"
    "Render and encode a deterministic synthetic action dataset: one moving\n"
    "object over a random background, twelve Something-Something-style classes\n"
    "(moving left/right/up/down, turning clockwise/counterclockwise, getting\n"
    "bigger/smaller, appearing, disappearing, holding still, back and forth),\n"
    "laid out as SSv2 or Kinetics. The same options give byte-identical files.\n"
    "\n"
    "  -o, --out DIR        output directory (created; must be empty unless --force)\n"
    "  -n, --clips N        number of clips (default 16), classes balanced\n"
    "  -s, --seed S         random seed, 0..2^64-1 (default 0)\n"
    "      --size WxH       frame size, even sides, 32..1920 (default 160x120)\n"
    "      --frames F       frames per clip, 8..1000 (default 16)\n"
    "      --fps R          frames per second, 1..240 (default 12)\n"
    "      --codec NAME     h264 (.mp4), vp9 (.webm) or mjpeg (.avi);\n"
    "                       default vp9 for ssv2, h264 for kinetics\n"
    "      --layout NAME    ssv2 (default): DIR/<id>.webm, labels.json, train.json,\n"
    "                       validation.json; kinetics: DIR/<split>/<label>/\n"
    "                       <youtube_id>_<start>_<end>.mp4, train.csv, val.csv\n"
    "      --force          write into a non-empty directory\n"
    "      --json           print a summary object on stdout\n"
    "  -h, --help           show this help\n"
    "\n"
    "Exit status: 0 done, 1 runtime failure (directory, encoder), 2 bad usage.\n"
    "\n"
    "example: vidi synth --out /tmp/ssv2-synth --clips 120 --seed 7\n";

typedef struct progress_state {
    int tty, last_step;
    double start;
} progress_state;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A bar on a terminal; on a pipe or log, one line per tenth of the run. */
static void on_progress(void *user, int done, int total) {
    progress_state *ps = user;
    double elapsed = now_s() - ps->start, rate = elapsed > 0 ? done / elapsed : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    if (ps->tty) {
        ps->last_step = 0;
        char bar[31];
        int fill = (int)(30.0 * done / total);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r  [%s] %d/%d clips  %.1f clips/s  ETA %d:%02d ", bar, done, total, rate,
                (int)eta / 60, (int)eta % 60);
        if (done == total) fputc('\n', stderr);
    } else {
        int step = (int)(10.0 * done / total);
        if (step == ps->last_step && done != total) return;
        ps->last_step = step;
        fprintf(stderr, "synth: %d/%d clips, %.1f clips/s, ETA %.0f s\n", done, total, rate, eta);
    }
}

static int parse_size(const char *text, int *w, int *h) {
    char *end = NULL;
    errno = 0;
    long a = strtol(text, &end, 10);
    if (end == text || (*end != 'x' && *end != 'X')) return -1;
    const char *second = end + 1;
    long b = strtol(second, &end, 10);
    if (end == second || *end || errno || a < 0 || b < 0 || a > 1000000 || b > 1000000) return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

static int parse_seed(const char *text, uint64_t *out) {
    char *end = NULL;
    errno = 0;
    if (!*text || *text == '-' || *text == '+') return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno) return -1;
    *out = v;
    return 0;
}

static void print_json(const char *dir, const vidi_synth_params *p, const vidi_synth_summary *s, double secs) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "out", dir);
    cJSON_AddStringToObject(o, "layout", vidi_synth_layout_name(p->layout));
    cJSON_AddStringToObject(o, "codec", s->codec);
    cJSON_AddStringToObject(o, "extension", s->extension);
    cJSON_AddNumberToObject(o, "clips", s->clips);
    cJSON_AddNumberToObject(o, "train", s->train);
    cJSON_AddNumberToObject(o, "validation", s->validation);
    cJSON_AddNumberToObject(o, "classes", VIDI_SYNTH_CLASSES);
    /* Seeds above 2^53 do not survive a JSON number: give the decimal text. */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "width", p->width);
    cJSON_AddNumberToObject(o, "height", p->height);
    cJSON_AddNumberToObject(o, "frames", p->frames);
    cJSON_AddNumberToObject(o, "fps", p->fps);
    cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
    cJSON_AddNumberToObject(o, "seconds", secs);
    char *text = cJSON_PrintUnformatted(o);
    if (text) puts(text);
    cJSON_free(text);
    cJSON_Delete(o);
}

int cmd_synth(int argc, char **argv) {
    vidi_synth_params p = vidi_synth_default_params();
    const char *out = NULL;
    int json = 0;
    enum { OPT_SIZE = 256, OPT_FRAMES, OPT_FPS, OPT_CODEC, OPT_LAYOUT, OPT_FORCE, OPT_JSON };
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},         {"clips", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},        {"size", required_argument, NULL, OPT_SIZE},
        {"frames", required_argument, NULL, OPT_FRAMES}, {"fps", required_argument, NULL, OPT_FPS},
        {"codec", required_argument, NULL, OPT_CODEC}, {"layout", required_argument, NULL, OPT_LAYOUT},
        {"force", no_argument, NULL, OPT_FORCE},       {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:n:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'n':
            if (cli_parse_int("synth", "--clips", optarg, 1, VIDI_SYNTH_MAX_CLIPS, &p.clips)) return CLI_EXIT_USAGE;
            break;
        case 's':
            if (parse_seed(optarg, &p.seed)) {
                cli_error("synth", "--seed: '%s' is not an integer in [0, 2^64-1]", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_SIZE:
            if (parse_size(optarg, &p.width, &p.height)) {
                cli_error("synth", "--size: '%s' is not WIDTHxHEIGHT (e.g. 160x120)", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_FRAMES:
            if (cli_parse_int("synth", "--frames", optarg, VIDI_SYNTH_MIN_FRAMES, VIDI_SYNTH_MAX_FRAMES, &p.frames))
                return CLI_EXIT_USAGE;
            break;
        case OPT_FPS:
            if (cli_parse_int("synth", "--fps", optarg, 1, VIDI_SYNTH_MAX_FPS, &p.fps)) return CLI_EXIT_USAGE;
            break;
        case OPT_CODEC: p.codec = optarg; break;
        case OPT_LAYOUT:
            if (!strcmp(optarg, "ssv2")) p.layout = VIDI_SYNTH_SSV2;
            else if (!strcmp(optarg, "kinetics")) p.layout = VIDI_SYNTH_KINETICS;
            else {
                cli_error("synth", "--layout: '%s' is not ssv2 or kinetics", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_FORCE: p.force = 1; break;
        case OPT_JSON: json = 1; break;
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case ':': cli_error("synth", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("synth", "unknown option '%s' (see 'vidi synth --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (!out || !*out) {
        cli_error("synth", "--out is required (see 'vidi synth --help')");
        return CLI_EXIT_USAGE;
    }
    if (optind < argc) {
        cli_error("synth", "unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (vidi_synth_check_params(&p) != VIDI_OK) {
        cli_error("synth", "--%s", vidi_last_error());
        return CLI_EXIT_USAGE;
    }
    progress_state ps = {isatty(2), -1, now_s()};
    p.progress = on_progress;
    p.progress_user = &ps;
    vidi_synth_summary s;
    if (vidi_synth_generate(out, &p, &s) != VIDI_OK) {
        if (ps.tty && ps.last_step >= 0) fputc('\n', stderr);
        cli_library_error("synth");
        return CLI_EXIT_FAIL;
    }
    double secs = now_s() - ps.start;
    if (json) {
        print_json(out, &p, &s, secs);
    } else {
        printf("%s: %d clips (%d train, %d validation), %s layout, %s .%s, %dx%d, %d frames at %d fps, %.1f KiB, "
               "%.1f s\n",
               out, s.clips, s.train, s.validation, vidi_synth_layout_name(p.layout), s.codec, s.extension, p.width,
               p.height, p.frames, p.fps, s.bytes / 1024.0, secs);
    }
    return CLI_EXIT_OK;
}
