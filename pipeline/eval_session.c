/* `vidi eval` from options to summary (see eval_session.h).
 *
 * Output directory:
 *   run.json       what is being evaluated; --resume refuses a different run
 *   results.jsonl  one record per video (the only input of the summary)
 *   results.rank-R-of-W.jsonl  rank R's records while W ranks run; merged
 *                  into results.jsonl (sorted by item index) and removed at
 *                  the end; a killed multi-rank run resumes from them
 *   summary.json, report.html  written by rank 0 at the end */
#include "pipeline/eval_session.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/eval_internal.h"
#include "vidi/vivit.h"

static vidi_status single_gather(void *ctx, const char *data, size_t len, char **all, size_t *all_len) {
    (void)ctx;
    *all = malloc(len + 1);
    if (!*all) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    memcpy(*all, data, len);
    (*all)[len] = '\0';
    *all_len = len;
    return VIDI_OK;
}

static int single_all_ok(void *ctx, int ok) {
    (void)ctx;
    return ok;
}

vidi_eval_comm vidi_eval_comm_single(void) { return (vidi_eval_comm){0, 1, NULL, single_gather, single_all_ok}; }

vidi_eval_options vidi_eval_default_options(void) {
    vidi_eval_options o;
    memset(&o, 0, sizeof o);
    o.views_t = o.views_s = 1;
    o.out = "vidi-eval-out";
    o.backend = "cpu";
    o.run = vidi_eval_run_default_params();
    return o;
}

/* Model, sampler settings and the model's label names. */
static vidi_status open_model(const vidi_eval_options *o, const char *model, vidi_backend **be,
                              vidi_video_classifier **vc, char ***names, int *n) {
    vidi_status s = vidi_backend_create(o->backend ? o->backend : "cpu", o->threads, be);
    if (s || (s = vidi_video_classifier_open(model, *be, vc))) return s;
    vidi_vivit *m = vidi_video_classifier_model(*vc);
    const vidi_vivit_config *c = vidi_vivit_get_config(m);
    if (o->frames && o->frames != c->num_frames)
        return vidi_set_error(VIDI_ERR_ARG, "--frames %d: %s takes exactly %d frames per view", o->frames, model,
                              c->num_frames);
    if (o->stride > 0) { /* mmaction2 SampleFrames: clips of num_frames frames, stride apart */
        vidi_sampler_params *sp = vidi_video_classifier_sampler_params(*vc);
        sp->mode = VIDI_SAMPLE_CLIPS;
        sp->clip_len = c->num_frames;
        sp->frame_interval = o->stride;
    }
    *n = c->num_labels;
    if (!(*names = calloc((size_t)*n, sizeof **names))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    for (int i = 0; i < *n; i++)
        if (!((*names)[i] = strdup(vidi_vivit_label(m, i)))) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    return VIDI_OK;
}

static void set_path(char *buf, size_t n, const char *dir, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

/* What this rank has already: results.jsonl, its own shard file (an
 * incomplete last line cut off) and shard files of another rank count. */
static vidi_status load_done(const vidi_eval_options *o, const vidi_eval_comm *c, const vidi_eval_dataset *ds,
                             const name_list *left, vidi_eval_results *done, vidi_eval_outcome *out) {
    char path[4200];
    int dropped = 0;
    set_path(path, sizeof path, o->out, "results.jsonl");
    /* With several ranks nobody appends to results.jsonl: a torn tail is skipped
     * here and dropped when rank 0 rewrites the file. */
    vidi_status s = vidi_eval_results_load(done, ds, path, c->world == 1 ? 1 : 2, &dropped);
    out->dropped_partial_line |= dropped;
    if (!s && c->world > 1) {
        s = vidi_eval_results_load(done, ds, out->results_path, 1, &dropped);
        out->dropped_partial_line |= dropped;
    }
    for (int i = 0; !s && i < left->n; i++) s = vidi_eval_results_load(done, ds, left->v[i], 2, NULL);
    return s;
}

/* Rank 0 merges every rank's shard file (gathered) with what results.jsonl
 * and leftover shard files hold. */
static vidi_status merge(const vidi_eval_options *o, const vidi_eval_comm *c, const name_list *left,
                         vidi_eval_outcome *out) {
    char *mine = NULL, *all = NULL, path[4200];
    size_t mine_len = 0, all_len = 0;
    vidi_status s = vidi_eval_append_file(out->results_path, &mine, &mine_len);
    int ok = c->all_ok(c->ctx, !s);
    if (ok) s = c->gather(c->ctx, mine ? mine : "", mine_len, &all, &all_len);
    ok = c->all_ok(c->ctx, ok && !s);
    if (ok && c->rank == 0) {
        set_path(path, sizeof path, o->out, "results.jsonl");
        char *text = NULL;
        size_t len = 0;
        s = vidi_eval_append_file(path, &text, &len);
        for (int i = 0; !s && i < left->n; i++) s = vidi_eval_append_file(left->v[i], &text, &len);
        if (!s) {
            char *v = realloc(text, len + all_len + 1);
            if (!v) s = vidi_set_error(VIDI_ERR_NOMEM, "out of memory merging results");
            else text = v, memcpy(text + len, all ? all : "", all_len), len += all_len;
        }
        if (!s) s = vidi_eval_merge_write(path, text, len);
        free(text);
    }
    ok = c->all_ok(c->ctx, ok && !s);
    if (ok && c->world > 1) unlink(out->results_path);
    for (int i = 0; ok && c->rank == 0 && i < left->n; i++) unlink(left->v[i]);
    free(mine);
    free(all);
    if (!ok && !s) s = vidi_set_error(VIDI_ERR_IO, "merging results failed on another rank");
    return s;
}

/* Rank 0: summary.json and report.html from the final results.jsonl. */
static vidi_status finish(const vidi_eval_options *o, const char *model, const vidi_eval_dataset *ds,
                          vidi_eval_outcome *out) {
    char path[4200];
    vidi_eval_results res;
    vidi_status s = vidi_eval_results_init(&res, ds->n_items);
    set_path(path, sizeof path, o->out, "results.jsonl");
    if (!s) s = vidi_eval_results_load(&res, ds, path, 0, NULL);
    vidi_eval_run_info info = {vidi_eval_format_name(o->format), o->annotations, model, o->views_t, o->views_s,
                               o->frames, o->stride};
    memcpy(out->results_path, path, sizeof path);
    set_path(out->summary_path, sizeof out->summary_path, o->out, "summary.json");
    set_path(out->report_path, sizeof out->report_path, o->out, "report.html");
    if (!s) s = vidi_eval_summary_write(out->summary_path, &info, ds, &res, &out->metrics);
    if (!s) {
        out->have_metrics = 1;
        s = vidi_eval_report_write(out->report_path, &info, ds, &res, &out->metrics, out->stats.seconds);
    }
    if (!s) {
        for (int i = 0; i < ds->n_items; i++) out->failed += res.state[i] == 2, out->not_run += res.state[i] == 0;
        out->complete = !out->failed && !out->not_run && !ds->n_row_errors;
    }
    vidi_eval_results_free(&res);
    return s;
}

vidi_status vidi_eval_execute(const vidi_eval_options *o, const vidi_eval_comm *c, vidi_eval_outcome *out) {
    memset(out, 0, sizeof *out);
    char model_buf[4096];
    const char *model = o->model;
    vidi_status s = VIDI_OK;
    if (!model && !(s = vidi_default_video_model(model_buf, sizeof model_buf))) model = model_buf;
    if (s) return s;
    vidi_backend *be = NULL;
    vidi_video_classifier *vc = NULL;
    char **names = NULL;
    int n_names = 0;
    vidi_eval_dataset ds = {0};
    vidi_eval_results done = {0};
    name_list left = {0};
    FILE *jsonl = NULL;
    s = open_model(o, model, &be, &vc, &names, &n_names);
    if (!s) s = vidi_eval_dataset_load(o->format, o->annotations, o->labels, o->videos, names, n_names, &ds);
    if (!s && ds.n_classes != n_names)
        s = vidi_set_error(VIDI_ERR_ARG, "%s names %d classes but %s has %d outputs%s", o->labels ? o->labels : o->annotations,
                           ds.n_classes, model, n_names, o->labels ? "" : " (give the class order with --labels)");
    if (s) goto done;
    out->videos = ds.n_items, out->skipped_rows = ds.n_row_errors;
    for (int i = 0; c->rank == 0 && o->on_row_error && i < ds.n_row_errors; i++)
        o->on_row_error(o->run.user, ds.row_errors[i]);
    if (c->rank == 0) {
        s = vidi_eval_mkdir_p(o->out);
        if (!s && o->overwrite) s = vidi_eval_clear_outputs(o->out);
        if (!s) s = vidi_eval_check_run_file(o, model);
    }
    if (!c->all_ok(c->ctx, !s)) {
        if (!s) s = vidi_set_error(VIDI_ERR_ARG, "%s: rank 0 could not start the evaluation", o->out);
        goto done;
    }
    if (c->world == 1) set_path(out->results_path, sizeof out->results_path, o->out, "results.jsonl");
    else snprintf(out->results_path, sizeof out->results_path, "%s/results.rank-%d-of-%d.jsonl", o->out, c->rank, c->world);
    s = vidi_eval_leftover_parts(o->out, c->world, &left);
    if (!s) s = vidi_eval_results_init(&done, ds.n_items);
    if (!s) s = load_done(o, c, &ds, &left, &done, out);
    if (!s && !(jsonl = fopen(out->results_path, "a")))
        s = vidi_set_error(VIDI_ERR_IO, "%s: cannot open for appending: %s", out->results_path, strerror(errno));
    if (!c->all_ok(c->ctx, !s)) {
        if (!s) s = vidi_set_error(VIDI_ERR_IO, "%s: another rank could not start", o->out);
        goto done;
    }
    vidi_eval_run_params rp = o->run;
    rp.views_t = o->views_t, rp.views_s = o->views_s, rp.rank = c->rank, rp.world = c->world, rp.limit = o->limit;
    if (o->on_start) {
        int work = 0;
        for (int i = c->rank; i < ds.n_items && (o->limit <= 0 || i < o->limit); i += c->world) work += !done.state[i];
        o->on_start(o->run.user, ds.n_items, work, done.count);
    }
    s = vidi_eval_run(vc, &ds, &done, &rp, jsonl, &out->stats);
    if (fclose(jsonl) != 0 && !s) s = vidi_set_error(VIDI_ERR_IO, "%s: write error", out->results_path);
    jsonl = NULL;
    if (!c->all_ok(c->ctx, !s)) {
        if (!s) s = vidi_set_error(VIDI_ERR_IO, "evaluation failed on another rank");
        goto done;
    }
    if (c->world > 1 || left.n) s = merge(o, c, &left, out);
    if (!s && c->rank == 0) s = finish(o, model, &ds, out);
done:
    if (jsonl) fclose(jsonl);
    vidi_eval_names_free(left.v, left.n);
    vidi_eval_results_free(&done);
    vidi_eval_dataset_free(&ds);
    vidi_eval_names_free(names, n_names);
    vidi_video_classifier_free(vc);
    vidi_backend_destroy(be);
    return s;
}
