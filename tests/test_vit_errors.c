/* Bad checkpoints and bad images: each fails with a one-line message naming
 * the file or tensor and the reason; nothing crashes (this also runs under
 * ASan/UBSan). Broken checkpoints are made from the golden timm and HF
 * fixtures in a temporary directory. */
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/image.h"
#include "vidi/safetensors.h"
#include "vidi/vit.h"

static char tmpdir[64];
static vidi_backend *be;

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void copy_file(const char *from, const char *to) {
    size_t n = 0;
    char *buf = vidi_test_read_file(from, &n);
    if (buf) write_file(to, buf, n);
    free(buf);
}

/* Expect load(path) to fail with `status` and a message containing both needles. */
static void expect_load_error(const char *what, const char *path, vidi_status status, const char *needle1,
                              const char *needle2) {
    vidi_vit *m = NULL;
    vidi_status s = vidi_vit_load(path, be, 0, &m);
    const char *msg = vidi_last_error();
    CHECK_MSG(s == status, "%s: status %s, expected %s (%s)", what, vidi_status_name(s), vidi_status_name(status), msg);
    CHECK_MSG(m == NULL, "%s: model handle returned on failure", what);
    CHECK_MSG(strchr(msg, '\n') == NULL, "%s: message is not one line: %s", what, msg);
    CHECK_MSG(!needle1 || strstr(msg, needle1), "%s: message lacks '%s': %s", what, needle1, msg);
    CHECK_MSG(!needle2 || strstr(msg, needle2), "%s: message lacks '%s': %s", what, needle2, msg);
    vidi_vit_free(m);
}

/* Rewrites the timm golden checkpoint with one tensor dropped or reshaped. */
static void write_variant(const char *out_dir, const char *drop, const char *reshape) {
    vidi_safetensors *src = NULL;
    if (vidi_safetensors_open("tests/golden/timm_vit/model.safetensors", &src) != VIDI_OK) {
        CHECK_MSG(0, "cannot open timm golden: %s", vidi_last_error());
        return;
    }
    int n = vidi_safetensors_count(src), k = 0;
    vidi_st_write_entry *e = calloc((size_t)n, sizeof *e);
    float **bufs = calloc((size_t)n, sizeof *bufs);
    for (int i = 0; i < n; i++) {
        const vidi_st_tensor *t = vidi_safetensors_at(src, i);
        if (drop && !strcmp(t->name, drop)) continue;
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        bufs[k] = malloc(sizeof(float) * (size_t)(numel ? numel : 1));
        vidi_st_tensor_to_f32(t, bufs[k]);
        e[k].name = t->name;
        e[k].ndim = t->ndim;
        memcpy(e[k].shape, t->shape, sizeof t->shape);
        e[k].data = bufs[k];
        if (reshape && !strcmp(t->name, reshape) && t->ndim == 2) { /* same numel, transposed shape */
            e[k].shape[0] = t->shape[1];
            e[k].shape[1] = t->shape[0];
        }
        k++;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    CHECK_MSG(vidi_safetensors_write_f32(path, e, k, NULL) == VIDI_OK, "write variant: %s", vidi_last_error());
    snprintf(path, sizeof path, "%s/config.json", out_dir);
    copy_file("tests/golden/timm_vit/config.json", path);
    for (int i = 0; i < k; i++) free(bufs[i]);
    free(bufs);
    free(e);
    vidi_safetensors_close(src);
}

static void make_dir(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", tmpdir, name);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", out);
    CHECK(system(cmd) == 0);
}

static void test_checkpoints(void) {
    char dir[256], path[300];
    expect_load_error("missing dir", "/nonexistent/model", VIDI_ERR_IO, "/nonexistent/model", "cannot open");

    make_dir(dir, sizeof dir, "truncated");
    size_t n = 0;
    char *buf = vidi_test_read_file("tests/golden/timm_vit/model.safetensors", &n);
    CHECK(buf != NULL);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (buf) write_file(path, buf, n / 2);
    free(buf);
    expect_load_error("truncated file", path, VIDI_ERR_FORMAT, path, NULL);

    make_dir(dir, sizeof dir, "missing_tensor");
    write_variant(dir, "blocks.1.mlp.fc2.bias", NULL);
    expect_load_error("missing tensor", dir, VIDI_ERR_SHAPE, "blocks.1.mlp.fc2.bias", "missing");

    make_dir(dir, sizeof dir, "wrong_shape");
    write_variant(dir, NULL, "blocks.0.mlp.fc1.weight");
    expect_load_error("wrong shape", dir, VIDI_ERR_SHAPE, "blocks.0.mlp.fc1.weight", "expected");

    /* HF directory whose config disagrees with its weights. */
    make_dir(dir, sizeof dir, "hf_mismatch");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    copy_file("tests/golden/hf_vit_gelu/model.safetensors", path);
    char *cfg = vidi_test_read_file("tests/golden/hf_vit_gelu/config.json", &n);
    CHECK(cfg != NULL);
    if (cfg) {
        char *p = strstr(cfg, "\"num_hidden_layers\"");
        CHECK(p != NULL);
        if (p) { /* 2 layers -> 3: the third is missing from the weights */
            char *digit = strpbrk(p + 19, "0123456789");
            if (digit) *digit = '3';
        }
        snprintf(path, sizeof path, "%s/config.json", dir);
        write_file(path, cfg, n);
        expect_load_error("config/weights mismatch", dir, VIDI_ERR_SHAPE, "num_hidden_layers", "config.json");

        /* Unsupported activation. */
        char *act = strstr(cfg, "\"hidden_act\"");
        if (act) {
            char *q = strchr(act + 12, '"');
            if (q && !strncmp(q, "\"gelu\"", 6)) memcpy(q, "\"relu\"", 6);
        }
        if ((p = strstr(cfg, "\"num_hidden_layers\""))) {
            char *digit = strpbrk(p + 19, "0123456789");
            if (digit) *digit = '2';
        }
        write_file(path, cfg, n);
        expect_load_error("bad hidden_act", dir, VIDI_ERR_UNSUPPORTED, "hidden_act", "relu");
        free(cfg);
    }

    /* HF directory without config.json. */
    make_dir(dir, sizeof dir, "hf_noconfig");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    copy_file("tests/golden/hf_vit_gelu/model.safetensors", path);
    expect_load_error("no config.json", dir, VIDI_ERR_IO, "config.json", "missing");

    /* A valid safetensors file that is not a ViT. */
    float one = 1.0f;
    vidi_st_write_entry e = {.name = "decoder.weight", .ndim = 1, .shape = {1}, .data = &one};
    snprintf(path, sizeof path, "%s/other.safetensors", tmpdir);
    CHECK(vidi_safetensors_write_f32(path, &e, 1, NULL) == VIDI_OK);
    expect_load_error("not a ViT", path, VIDI_ERR_FORMAT, path, "not a ViT");

    /* Garbage bytes. */
    snprintf(path, sizeof path, "%s/garbage.safetensors", tmpdir);
    write_file(path, "\xff\xff\xff\xff\xff\xff\xff\x7fgarbage", 15);
    expect_load_error("garbage", path, VIDI_ERR_FORMAT, path, NULL);
}

static void test_images(void) {
    char path[300];
    vidi_image img = {0};
    vidi_status s = vidi_image_load("/nonexistent.png", &img);
    CHECK_MSG(s == VIDI_ERR_IO && strstr(vidi_last_error(), "/nonexistent.png"), "missing image: %s", vidi_last_error());

    snprintf(path, sizeof path, "%s/corrupt.png", tmpdir);
    write_file(path, "\x89PNG\r\n\x1a\nthis is not a png", 25);
    s = vidi_image_load(path, &img);
    CHECK_MSG(s == VIDI_ERR_DECODE && strstr(vidi_last_error(), path), "corrupt png: %s %s", vidi_status_name(s),
              vidi_last_error());
    CHECK(img.rgb == NULL);

    snprintf(path, sizeof path, "%s/empty.jpg", tmpdir);
    write_file(path, "", 0);
    s = vidi_image_load(path, &img);
    CHECK_MSG(s != VIDI_OK && strstr(vidi_last_error(), path), "empty jpg: %s", vidi_last_error());

    s = vidi_image_load(tmpdir, &img);
    CHECK_MSG(s == VIDI_ERR_IO, "directory as image: %s", vidi_last_error());
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vidi-test-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    if (vidi_backend_create("cpu", 1, &be) != VIDI_OK) {
        fprintf(stderr, "backend: %s\n", vidi_last_error());
        return 1;
    }
    test_checkpoints();
    test_images();
    vidi_backend_destroy(be);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return vidi_test_summary("vit_errors");
}
