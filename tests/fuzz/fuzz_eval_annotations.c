/* libFuzzer target: any byte string as `vidi eval` annotations (Kinetics
 * CSV, SSv2 JSON, list) and as a results.jsonl must load or fail with a
 * message, never crash: the readers split CSV quotes and scan JSON arrays
 * by hand to report bad rows with their lines. The bytes go through a file
 * because the readers take paths, as the CLI does.
 * Seeds: tests/fuzz/corpus/fuzz_eval_annotations/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(const char *name, const void *data, size_t size) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fwrite(data, 1, size, f);
    fclose(f);
}

static const char *at(const char *name) {
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void cleanup(void) {
    static const char *const names[] = {"labels.json", "l.txt", "7.webm", "abc_000001_000002.mp4", "a.in"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unlink(at(names[i]));
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) { /* one directory for the whole run: labels and a video to find */
        snprintf(dir, sizeof dir, "/tmp/vidi_fuzz_eval_XXXXXX");
        if (!mkdtemp(dir)) abort();
        atexit(cleanup);
        const char *labels = "{\"Moving something up\": \"0\", \"b c\": \"1\"}";
        put("labels.json", labels, strlen(labels));
        put("l.txt", "b c\nx\n", 6);
        put("7.webm", "x", 1);
        put("abc_000001_000002.mp4", "x", 1);
    }
    put("a.in", data, size);
    char input[128], text_labels[128];
    snprintf(input, sizeof input, "%s", at("a.in"));
    snprintf(text_labels, sizeof text_labels, "%s", at("l.txt"));
    char *model[2] = {"b", "c"};
    for (int fmt = 0; fmt < 3; fmt++) {
        vidi_eval_dataset ds;
        vidi_status s = vidi_eval_dataset_load((vidi_eval_format)fmt, input, fmt == 0 && size % 2 ? text_labels : NULL,
                                               dir, model, 2, &ds);
        if (s) {
            if (vidi_last_error()[0] == '\0') abort();
            continue;
        }
        if (ds.n_items < 1 || ds.n_classes < 1) abort();
        for (int i = 0; i < ds.n_items; i++)
            if (ds.items[i].label < 0 || ds.items[i].label >= ds.n_classes || (!ds.items[i].path && !ds.items[i].error))
                abort();
        vidi_eval_results r;
        if (vidi_eval_results_init(&r, ds.n_items) == VIDI_OK) {
            vidi_eval_results_parse(&r, &ds, (const char *)data, size, "fuzz.jsonl");
            vidi_eval_results_free(&r);
        }
        vidi_eval_dataset_free(&ds);
    }
    return 0;
}
