/* vidi eval pieces without a model: top-k, metrics by hand, dataset readers
 * (CSV quoting and column order, video lookup by name, row errors with
 * lines), label files, results reading (torn lines, foreign records). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "pipeline/eval.h"

static char dir[256];

static void write_file(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) fputs(text, f), fclose(f);
}

static const char *at(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int has_error(const vidi_eval_dataset *ds, const char *text) {
    for (int i = 0; i < ds->n_row_errors; i++)
        if (strstr(ds->row_errors[i], text)) return 1;
    return 0;
}

static void test_topk(void) {
    float l[6] = {1, 3, 3, -1, 2, 3};
    int top[8];
    vidi_eval_topk(l, 6, top, 4);
    CHECK(top[0] == 1 && top[1] == 2 && top[2] == 5 && top[3] == 4); /* ties: lower index first */
    vidi_eval_topk(l, 3, top, 5);
    CHECK(top[0] == 1 && top[1] == 2 && top[2] == 0 && top[3] == -1 && top[4] == -1);
}

/* 3 classes, class 2 never occurs: mean class accuracy averages classes 0, 1. */
static void test_metrics(void) {
    vidi_eval_metrics m;
    CHECK(vidi_eval_metrics_init(&m, 3) == VIDI_OK);
    int a[2] = {0, 1}, b[2] = {1, 0}, c[2] = {2, 1};
    vidi_eval_metrics_add(&m, 0, a, 2); /* hit */
    vidi_eval_metrics_add(&m, 0, b, 2); /* top-2 only */
    vidi_eval_metrics_add(&m, 0, c, 2); /* miss */
    vidi_eval_metrics_add(&m, 1, b, 2); /* hit */
    vidi_eval_metrics_finish(&m);
    CHECK(m.evaluated == 4 && m.top1_hits == 2 && m.top5_hits == 3);
    CHECK(m.top1 == 0.5 && m.top5 == 0.75);
    CHECK(m.classes_present == 2);
    CHECK(m.mean_class_accuracy == (1.0 / 3 + 1.0) / 2);
    CHECK(m.confusion[0 * 3 + 0] == 1 && m.confusion[0 * 3 + 1] == 1 && m.confusion[0 * 3 + 2] == 1);
    CHECK(m.confusion[1 * 3 + 1] == 1 && m.support[1] == 1 && m.support[2] == 0);
    vidi_eval_metrics_free(&m);
}

static void test_kinetics(void) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s/videos/val/b c", dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", sub);
    CHECK(system(cmd) == 0);
    write_file("videos/val/b c/abc_000001_000002.mp4", "x");
    write_file("videos/xyz.webm", "x");
    write_file("videos/dup_000001_000002.mp4", "x");
    write_file("videos/dup_000003_000004.mp4", "x");
    write_file("videos/notes.txt", "x");
    /* Columns in another order, CRLF, quoted label with a comma and quotes. */
    write_file("k.csv", "youtube_id,split,label,time_start,time_end\r\n"
                        "abc,val,\"b c\",1,2\r\n"
                        "xyz,val,\"a, \"\"q\"\"\",10,20.0\r\n"
                        "dup,val,b c,7,8\r\n"
                        "abc,val,b c,1,2\r\n"
                        "bad,val,\"open,1,2\r\n"
                        "neg,val,b c,-1,2\r\n");
    vidi_eval_dataset ds;
    vidi_status s = vidi_eval_dataset_load(VIDI_EVAL_KINETICS, at("k.csv"), NULL, at("videos"), NULL, 0, &ds);
    CHECK_MSG(s == VIDI_OK, "%s", vidi_last_error());
    if (s) return;
    CHECK(ds.n_classes == 2 && !strcmp(ds.classes[0], "a, \"q\"") && !strcmp(ds.classes[1], "b c"));
    CHECK(ds.n_items == 3);
    CHECK(!strcmp(ds.items[0].id, "abc_000001_000002") && ds.items[0].label == 1 && ds.items[0].line == 2);
    CHECK(ds.items[0].path && strstr(ds.items[0].path, "videos/val/b c/abc_000001_000002.mp4"));
    CHECK(ds.items[1].path && strstr(ds.items[1].path, "videos/xyz.webm") && ds.items[1].label == 0); /* by youtube_id */
    CHECK(!ds.items[2].path && ds.items[2].error && strstr(ds.items[2].error, "k.csv:4: no video for 'dup_000007_000008'"));
    CHECK(ds.n_row_errors == 3);
    CHECK(has_error(&ds, "k.csv:5: duplicate id 'abc_000001_000002' (first on line 2)"));
    CHECK(has_error(&ds, "k.csv:6: unterminated quote"));
    CHECK(has_error(&ds, "k.csv:7: time_start/time_end"));
    vidi_eval_dataset_free(&ds);

    /* An explicit label file: a label outside it is a row error. */
    write_file("k.txt", "b c\nzzz\n");
    CHECK(vidi_eval_dataset_load(VIDI_EVAL_KINETICS, at("k.csv"), at("k.txt"), at("videos"), NULL, 0, &ds) == VIDI_OK);
    CHECK(ds.n_classes == 2 && ds.items[0].label == 0 && has_error(&ds, "k.csv:3: label 'a, \"q\"' is not in the labels file"));
    vidi_eval_dataset_free(&ds);

    /* Nothing usable at all is an error for the whole file. */
    write_file("empty.csv", "label,youtube_id,time_start,time_end,split\n");
    CHECK(vidi_eval_dataset_load(VIDI_EVAL_KINETICS, at("empty.csv"), NULL, at("videos"), NULL, 0, &ds) == VIDI_ERR_FORMAT);
    CHECK(strstr(vidi_last_error(), "no usable rows") != NULL);
    write_file("nocol.csv", "label,id,time_start,time_end\nb c,abc,1,2\n"); /* rows after a bad header are not read */
    CHECK(vidi_eval_dataset_load(VIDI_EVAL_KINETICS, at("nocol.csv"), NULL, at("videos"), NULL, 0, &ds) == VIDI_ERR_FORMAT);
    CHECK(strstr(vidi_last_error(), "nocol.csv:1: the header has no 'youtube_id' column") != NULL);
}

static void test_labels(void) {
    char **names;
    int n;
    write_file("l.json", "{\"b\": \"1\", \"a\": \"0\", \"c\": 2}");
    CHECK(vidi_eval_labels_load(at("l.json"), &names, &n) == VIDI_OK && n == 3 && !strcmp(names[0], "a") &&
          !strcmp(names[2], "c"));
    vidi_eval_names_free(names, n);
    write_file("a.json", "[\"x\", \"y\"]");
    CHECK(vidi_eval_labels_load(at("a.json"), &names, &n) == VIDI_OK && n == 2 && !strcmp(names[1], "y"));
    vidi_eval_names_free(names, n);
    write_file("gap.json", "{\"a\": \"0\", \"b\": \"2\"}");
    CHECK(vidi_eval_labels_load(at("gap.json"), &names, &n) == VIDI_ERR_FORMAT);
    write_file("dup.txt", "x\ny\nx\n");
    CHECK(vidi_eval_labels_load(at("dup.txt"), &names, &n) == VIDI_ERR_FORMAT);
    CHECK(strstr(vidi_last_error(), "'x' is listed twice (index 0 and 2)") != NULL);
}

static void test_ssv2_and_results(void) {
    write_file("videos/7.webm", "x");
    write_file("labels.json", "{\"Holding something\": \"0\", \"Moving something up\": \"1\"}");
    /* Entries on one line and over several: lines are where each starts. */
    write_file("v.json", "[{\"id\": \"7\", \"template\": \"Moving [something] up\"}, {\"id\": \"8\",\n"
                         "  \"template\": \"Holding [something]\"},\n  {\"id\": \"9\", \"template\": [1,2]}]\n");
    vidi_eval_dataset ds;
    vidi_status s = vidi_eval_dataset_load(VIDI_EVAL_SSV2, at("v.json"), NULL, at("videos"), NULL, 0, &ds);
    CHECK_MSG(s == VIDI_OK, "%s", vidi_last_error());
    if (s) return;
    CHECK(ds.n_items == 2 && ds.items[0].label == 1 && ds.items[0].path && ds.items[1].line == 1 && !ds.items[1].path);
    CHECK(ds.n_row_errors == 1 && has_error(&ds, "v.json:3: entry '9' has no string 'template'"));

    /* Results: one ok, one failed, then a torn line. */
    write_file("r.jsonl", "{\"index\":1,\"id\":\"8\",\"label\":0,\"status\":\"failed\",\"error\":\"gone\"}\n"
                          "{\"index\":0,\"id\":\"7\",\"label\":1,\"status\":\"ok\",\"top5\":[1,0],\"views\":1,\"logits\":[0,1]}\n"
                          "{\"index\":0,\"id\":\"7\",\"lab");
    vidi_eval_results r;
    CHECK(vidi_eval_results_init(&r, ds.n_items) == VIDI_OK);
    int dropped = 0;
    CHECK(vidi_eval_results_load(&r, &ds, at("r.jsonl"), 0, &dropped) == VIDI_ERR_FORMAT);
    CHECK(strstr(vidi_last_error(), "last line is incomplete") != NULL);
    CHECK(vidi_eval_results_load(&r, &ds, at("r.jsonl"), 1, &dropped) == VIDI_OK && dropped == 1);
    CHECK(r.count == 2 && r.state[0] == 1 && r.state[1] == 2 && r.top[0] == 1 && r.top[1] == 0 && r.top[2] == -1);
    CHECK(r.errors[1] && !strcmp(r.errors[1], "gone"));
    struct stat sb;
    CHECK(stat(at("r.jsonl"), &sb) == 0 && sb.st_size > 0);
    vidi_eval_results_free(&r);
    vidi_eval_results_init(&r, ds.n_items);
    CHECK(vidi_eval_results_load(&r, &ds, at("r.jsonl"), 0, &dropped) == VIDI_OK && dropped == 0); /* cut for good */
    vidi_eval_results_free(&r);
    /* A record of another dataset names the file and line. */
    write_file("o.jsonl", "{\"index\":0,\"id\":\"7\",\"label\":1,\"status\":\"ok\",\"top5\":[1]}\n"
                          "{\"index\":1,\"id\":\"99\",\"label\":0,\"status\":\"ok\",\"top5\":[0]}\n");
    vidi_eval_results_init(&r, ds.n_items);
    CHECK(vidi_eval_results_load(&r, &ds, at("o.jsonl"), 0, NULL) == VIDI_ERR_FORMAT);
    CHECK(strstr(vidi_last_error(), "o.jsonl:2: result for '99' does not match this dataset") != NULL);
    vidi_eval_results_free(&r);
    vidi_eval_dataset_free(&ds);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/vidi_test_eval_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/videos", dir);
    if (system(cmd) != 0) return 1;
    test_topk();
    test_metrics();
    test_kinetics();
    test_labels();
    test_ssv2_and_results();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return vidi_test_summary("eval");
}
