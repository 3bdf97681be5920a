/* report.html: one self-contained page (no scripts, no external files) with
 * the metrics, per-class accuracy and the confusion matrix as inline SVG.
 * Matrix cells are shaded by row-normalised counts (recall per true class),
 * so rare and common classes read the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval.h"

static void esc(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void matrix_svg(FILE *f, const vidi_eval_dataset *ds, const vidi_eval_metrics *m) {
    int n = ds->n_classes;
    int cell = n <= 20 ? 24 : n <= 60 ? 12 : n <= 200 ? 4 : 2, names = n <= 60;
    int margin = names ? 220 : 20, size = n * cell;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"11\" "
               "font-family=\"sans-serif\">\n", margin + size + 10, margin + size + 10);
    fprintf(f, "<g transform=\"translate(%d,%d)\">\n", margin, margin);
    for (int t = 0; t < n; t++) {
        int64_t row = m->support[t];
        for (int p = 0; p < n; p++) {
            int64_t v = m->confusion[(size_t)t * n + p];
            double x = row ? (double)v / row : 0;
            int shade = 255 - (int)(x * 235.0 + 0.5);
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,255)\"", p * cell, t * cell,
                    cell, cell, shade, shade);
            if (names) {
                fputs("><title>true ", f);
                esc(f, ds->classes[t]);
                fputs(", predicted ", f);
                esc(f, ds->classes[p]);
                fprintf(f, ": %lld</title></rect>\n", (long long)v);
            } else {
                fputs("/>\n", f);
            }
        }
    }
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n", size, size);
    for (int c = 0; names && c < n; c++) {
        fprintf(f, "<text x=\"-6\" y=\"%d\" text-anchor=\"end\" dominant-baseline=\"middle\">", c * cell + cell / 2);
        esc(f, ds->classes[c]);
        fprintf(f, "</text>\n<text transform=\"translate(%d,-6) rotate(-60)\">", c * cell + cell / 2);
        esc(f, ds->classes[c]);
        fputs("</text>\n", f);
    }
    fputs("</g>\n</svg>\n", f);
}

vidi_status vidi_eval_report_write(const char *path, const vidi_eval_run_info *info, const vidi_eval_dataset *ds,
                                   const vidi_eval_results *res, const vidi_eval_metrics *m, double seconds) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    int failed = 0;
    for (int i = 0; i < ds->n_items; i++) failed += res->state[i] == 2;
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>vidi eval</title>\n<style>body{font-family:"
          "sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
          "text-align:right}td.l,th.l{text-align:left}</style></head><body>\n<h1>vidi eval: ",
          f);
    esc(f, info->dataset);
    fputs("</h1>\n<table>\n<tr><th class=\"l\">model</th><td class=\"l\">", f);
    esc(f, info->model);
    fputs("</td></tr>\n<tr><th class=\"l\">annotations</th><td class=\"l\">", f);
    esc(f, info->annotations);
    fprintf(f, "</td></tr>\n<tr><th class=\"l\">views</th><td class=\"l\">%d x %d</td></tr>\n", info->views_t,
            info->views_s);
    fprintf(f, "<tr><th class=\"l\">videos</th><td>%d</td></tr>\n<tr><th class=\"l\">evaluated</th><td>%lld</td></tr>\n"
               "<tr><th class=\"l\">failed</th><td>%d</td></tr>\n<tr><th class=\"l\">rows skipped</th><td>%d</td></tr>\n",
            ds->n_items, (long long)m->evaluated, failed, ds->n_row_errors);
    fprintf(f, "<tr><th class=\"l\">top-1</th><td>%.2f %%</td></tr>\n<tr><th class=\"l\">top-5</th><td>%.2f %%</td></tr>\n"
               "<tr><th class=\"l\">mean class accuracy</th><td>%.2f %%</td></tr>\n",
            100 * m->top1, 100 * m->top5, 100 * m->mean_class_accuracy);
    if (seconds >= 0) fprintf(f, "<tr><th class=\"l\">this run</th><td>%.1f s</td></tr>\n", seconds);
    fputs("</table>\n<h2>Confusion matrix</h2>\n<p>Rows: true class; columns: predicted; shade: fraction of the "
          "row.</p>\n",
          f);
    matrix_svg(f, ds, m);
    fputs("<h2>Per-class accuracy</h2>\n<table>\n<tr><th>#</th><th class=\"l\">class</th><th>videos</th>"
          "<th>correct</th><th>accuracy</th></tr>\n",
          f);
    for (int c = 0; c < ds->n_classes; c++) {
        fprintf(f, "<tr><td>%d</td><td class=\"l\">", c);
        esc(f, ds->classes[c]);
        fprintf(f, "</td><td>%lld</td><td>%lld</td>", (long long)m->support[c], (long long)m->correct[c]);
        if (m->support[c]) fprintf(f, "<td>%.1f %%</td></tr>\n", 100.0 * m->correct[c] / m->support[c]);
        else fputs("<td>-</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    if (failed || ds->n_row_errors) {
        fputs("<h2>Not evaluated</h2>\n<ul>\n", f);
        for (int i = 0; i < ds->n_items; i++)
            if (res->state[i] == 2) {
                fputs("<li>", f);
                esc(f, res->errors[i]);
                fputs("</li>\n", f);
            }
        for (int i = 0; i < ds->n_row_errors; i++) {
            fputs("<li>", f);
            esc(f, ds->row_errors[i]);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    fputs("</body></html>\n", f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    }
    vidi_status s = vidi_eval_write_atomic(path, buf, len);
    free(buf);
    return s;
}
