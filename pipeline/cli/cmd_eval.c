/* vidi eval — evaluate a video model on a dataset (pipeline/eval_session.c
 * does the work; this file parses options and prints). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli/cli.h"
#include "pipeline/eval_mpi.h"

static const char help[] =
    "usage: vidi eval --dataset kinetics|ssv2|list --annotations FILE [--labels FILE]\n"
    "                 [--videos DIR] [--model M] [--views TxS] [--frames F --stride K]\n"
    "                 [--out DIR] [--resume] [--threads N] [--limit N]\n"
    "\n"
    "Evaluate a ViViT on a labelled dataset: T x S views per video, logits averaged,\n"
    "top-1, top-5, mean class accuracy and the confusion matrix (docs/eval.md).\n"
    "\n"
    "dataset:\n"
    "      --dataset NAME     kinetics: CSV label,youtube_id,time_start,time_end,split;\n"
    "                         videos <youtube_id>_<start:06d>_<end:06d>.mp4 (or named by\n"
    "                         youtube_id) anywhere under --videos\n"
    "                         ssv2: validation.json entries, class = template without\n"
    "                         brackets, indexed by labels.json; videos <id>.webm\n"
    "                         list: 'PATH LABEL' lines, LABEL a class index or name\n"
    "      --annotations FILE the CSV, validation.json or list file\n"
    "      --labels FILE      class order: one name per line, JSON {name: index}, JSON\n"
    "                         [names] or a config.json with id2label. Default: kinetics\n"
    "                         alphabetical, ssv2 labels.json beside the annotations,\n"
    "                         list the model's labels\n"
    "      --videos DIR       where the videos are (default: the annotations' directory)\n"
    "      --limit N          only the first N rows\n"
    "model and views:\n"
    "  -m, --model M          ViViT: HF directory or vidi .safetensors (default:\n"
    "                         the default video model, vivit-synth.safetensors)\n"
    "      --views TxS        T temporal clips x S crops (1 centre, 3 along the longer\n"
    "                         side), logits averaged (default 1x1; Kinetics in ViViT: 4x3)\n"
    "      --frames F         frames per view (must be the model's)\n"
    "      --stride K         clips of F frames K apart (mmaction2 SampleFrames), T clips\n"
    "                         evenly spaced; default: F frames spread over the whole video\n"
    "      --backend NAME     cpu (default), ref or auto\n"
    "  -t, --threads N        model threads (default: all cores)\n"
    "      --decode-threads N videos decoded at once, ahead of the model (default 1)\n"
    "      --queue N          sampled videos that may wait for the model (default 2)\n"
    "      --decoder NAME     ffmpeg (default) or gst\n"
    "      --hwaccel NAME     none (default) or cuda: decode on the GPU (NVDEC) when\n"
    "                         FFmpeg, the driver and the codec allow it, else in\n"
    "                         software (said once on stderr); results are the same\n"
    "output:\n"
    "  -o, --out DIR          results.jsonl (one line per video, written as it goes),\n"
    "                         summary.json, report.html, run.json (default vidi-eval-out)\n"
    "      --resume           continue the run in DIR: videos with a result are skipped\n"
    "      --overwrite        start over in DIR (removes an earlier run's files there)\n"
    "  -q, --quiet            no progress\n"
    "  -h, --help             show this help\n"
    "\n"
    "Under mpirun / srun (a build with VIDI_MPI) each rank takes the videos whose\n"
    "row index modulo the rank count is its rank; rank 0 merges and writes the summary.\n"
    "\n"
    "Exit status: 0 when every row was evaluated, 1 when any row or video failed (each\n"
    "is reported; the others are still evaluated and the summary says which), 2 on bad\n"
    "usage.\n"
    "\n"
    "example: vidi eval --dataset ssv2 --annotations samples/clips/ssv2-vp9/validation.json --views 2x1 -o /tmp/ev\n";

typedef struct ui {
    cli_progress prog;
    int rank, world, quiet, started;
    const vidi_decoder_params *decoder;
} ui;

/* --hwaccel cuda that fell back to software: said once, like probe and frames. */
static void on_video(void *user, const vidi_video_info *info) {
    ui *u = user;
    cli_hwaccel_note("eval", u->decoder, info, &u->prog);
}

static void on_progress(void *user, const vidi_eval_progress *p) {
    ui *u = user;
    if (u->rank != 0 || u->quiet) return;
    char note[64];
    snprintf(note, sizeof note, "top-1 %.1f%%", p->evaluated ? 100.0 * p->top1_hits / p->evaluated : 0.0);
    cli_progress_update_note(&u->prog, p->done, note);
}

static void on_failure(void *user, const char *message) {
    ui *u = user;
    cli_progress_break(&u->prog);
    if (u->world > 1) cli_error("eval", "[rank %d] %s", u->rank, message);
    else cli_error("eval", "%s", message);
}

static void on_row_error(void *user, const char *message) {
    (void)user;
    cli_error("eval", "%s", message);
}

static void on_start(void *user, int videos, int work, int already) {
    ui *u = user;
    if (u->rank == 0 && !u->quiet && already)
        fprintf(stderr, "eval: %d videos, %d with results already, %d to do%s\n", videos, already, work,
                u->world > 1 ? " on rank 0" : "");
    cli_progress_start(&u->prog, "eval", "videos", work);
    u->prog.plain = 1;
    u->prog.quiet = u->quiet || u->rank != 0;
    u->started = 1;
}

static void report(const vidi_eval_outcome *o, int world) {
    const vidi_eval_metrics *m = &o->metrics;
    const vidi_eval_run_stats *s = &o->stats;
    printf("top-1 %.2f%%  top-5 %.2f%%  mean class accuracy %.2f%%\n", 100 * m->top1, 100 * m->top5,
           100 * m->mean_class_accuracy);
    printf("%d videos: %lld evaluated, %d failed, %d not run, %d rows skipped\n", o->videos, (long long)m->evaluated,
           o->failed, o->not_run, o->skipped_rows);
    if (s->work)
        printf("this run%s: %d videos in %.2f s (%.2f videos/s, %.1f clips/s; model %.1f s, waiting for decode %.1f s)\n",
               world > 1 ? " (rank 0)" : "", s->work, s->seconds, s->seconds > 0 ? s->work / s->seconds : 0,
               s->seconds > 0 ? s->views / s->seconds : 0, s->model_seconds, s->wait_seconds);
    printf("summary: %s\nreport:  %s\nresults: %s\n", o->summary_path, o->report_path, o->results_path);
}

int cmd_eval(int argc, char **argv) {
    vidi_eval_options o = vidi_eval_default_options();
    const char *dataset = NULL;
    ui u = {0};
    enum { OPT_DATASET = 256, OPT_ANN, OPT_LABELS, OPT_VIDEOS, OPT_VIEWS, OPT_FRAMES, OPT_STRIDE, OPT_LIMIT,
           OPT_RESUME, OPT_OVERWRITE, OPT_BACKEND, OPT_DTHREADS, OPT_QUEUE, OPT_DECODER, OPT_HWACCEL };
    static const struct option opts[] = {
        {"dataset", required_argument, NULL, OPT_DATASET},  {"annotations", required_argument, NULL, OPT_ANN},
        {"labels", required_argument, NULL, OPT_LABELS},    {"videos", required_argument, NULL, OPT_VIDEOS},
        {"model", required_argument, NULL, 'm'},            {"views", required_argument, NULL, OPT_VIEWS},
        {"frames", required_argument, NULL, OPT_FRAMES},    {"stride", required_argument, NULL, OPT_STRIDE},
        {"out", required_argument, NULL, 'o'},              {"resume", no_argument, NULL, OPT_RESUME},
        {"overwrite", no_argument, NULL, OPT_OVERWRITE},
        {"threads", required_argument, NULL, 't'},          {"limit", required_argument, NULL, OPT_LIMIT},
        {"backend", required_argument, NULL, OPT_BACKEND},  {"decode-threads", required_argument, NULL, OPT_DTHREADS},
        {"queue", required_argument, NULL, OPT_QUEUE},      {"decoder", required_argument, NULL, OPT_DECODER},
        {"hwaccel", required_argument, NULL, OPT_HWACCEL},
        {"quiet", no_argument, NULL, 'q'},                  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":m:o:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DATASET: dataset = optarg; break;
        case OPT_ANN: o.annotations = optarg; break;
        case OPT_LABELS: o.labels = optarg; break;
        case OPT_VIDEOS: o.videos = optarg; break;
        case 'm': o.model = optarg; break;
        case OPT_VIEWS: if (cli_parse_views("eval", optarg, &o.views_t, &o.views_s)) return CLI_EXIT_USAGE; break;
        case OPT_FRAMES: if (cli_parse_int("eval", "--frames", optarg, 1, 4096, &o.frames)) return CLI_EXIT_USAGE; break;
        case OPT_STRIDE: if (cli_parse_int("eval", "--stride", optarg, 1, 1000, &o.stride)) return CLI_EXIT_USAGE; break;
        case 'o': o.out = optarg; break;
        case OPT_RESUME: o.resume = 1; break;
        case OPT_OVERWRITE: o.overwrite = 1; break;
        case 't': if (cli_parse_int("eval", "--threads", optarg, 0, 1024, &o.threads)) return CLI_EXIT_USAGE; break;
        case OPT_LIMIT: if (cli_parse_int("eval", "--limit", optarg, 1, 1 << 30, &o.limit)) return CLI_EXIT_USAGE; break;
        case OPT_BACKEND: o.backend = optarg; break;
        case OPT_DTHREADS:
            if (cli_parse_int("eval", "--decode-threads", optarg, 1, 64, &o.run.decode_threads)) return CLI_EXIT_USAGE;
            break;
        case OPT_QUEUE: if (cli_parse_int("eval", "--queue", optarg, 1, 1024, &o.run.queue_depth)) return CLI_EXIT_USAGE; break;
        case OPT_DECODER: {
            int rc = cli_decoder_option("eval", optarg, &o.run.decoder);
            if (rc) return rc;
            break;
        }
        case OPT_HWACCEL: {
            int rc = cli_hwaccel_option("eval", optarg, &o.run.decoder);
            if (rc) return rc;
            break;
        }
        case 'q': u.quiet = 1; break;
        case 'h':
            fputs(help, stdout);
            printf("This build: %s.\n", vidi_eval_mpi_built() ? "MPI scale-out enabled" : "without MPI");
            return CLI_EXIT_OK;
        case ':': cli_error("eval", "option '%s' needs a value", argv[optind - 1]); return CLI_EXIT_USAGE;
        default: cli_error("eval", "unknown option '%s' (see 'vidi eval --help')", argv[optind - 1]); return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("eval", "unexpected argument '%s' (see 'vidi eval --help')", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (!dataset || !o.annotations) {
        cli_error("eval", "--dataset and --annotations are required (see 'vidi eval --help')");
        return CLI_EXIT_USAGE;
    }
    if (vidi_eval_format_parse(dataset, &o.format) != VIDI_OK) {
        cli_library_error("eval");
        return CLI_EXIT_USAGE;
    }
    if (o.resume && o.overwrite) {
        cli_error("eval", "--resume and --overwrite contradict each other");
        return CLI_EXIT_USAGE;
    }
    if (!*o.out) {
        cli_error("eval", "--out: empty directory name");
        return CLI_EXIT_USAGE;
    }
    vidi_eval_comm comm;
    if (vidi_eval_mpi_start(NULL, NULL, &comm) != VIDI_OK) {
        cli_library_error("eval");
        return CLI_EXIT_FAIL;
    }
    u.rank = comm.rank, u.world = comm.world;
    o.run.on_progress = on_progress, o.run.on_failure = on_failure, o.run.on_video = on_video, o.run.user = &u;
    u.decoder = &o.run.decoder;
    o.on_row_error = on_row_error, o.on_start = on_start;
    vidi_eval_outcome out;
    vidi_status s = vidi_eval_execute(&o, &comm, &out);
    int rc = CLI_EXIT_OK;
    if (s) {
        cli_progress_break(&u.prog);
        if (comm.world > 1) cli_error("eval", "[rank %d] %s", comm.rank, vidi_last_error());
        else cli_library_error("eval");
        rc = CLI_EXIT_FAIL;
    } else if (comm.rank == 0) {
        if (out.dropped_partial_line) fprintf(stderr, "eval: cut an incomplete last line (a run killed while writing it)\n");
        report(&out, comm.world);
        rc = out.complete ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    if (out.have_metrics) vidi_eval_metrics_free(&out.metrics);
    vidi_eval_mpi_stop(&comm);
    return rc;
}
