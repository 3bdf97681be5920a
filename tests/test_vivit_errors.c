/* Bad ViViT checkpoints: each load fails with a one-line message naming what
 * disagrees (config key, tensor, file); nothing crashes (also runs under
 * ASan/UBSan). Broken files are rewritten from the golden fixtures in a
 * temporary directory: config edited, tensor dropped, file truncated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/safetensors.h"
#include "vidi/vit.h"
#include "vidi/vivit.h"

static char tmpdir[64];
static vidi_backend *be;

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void expect_error(const char *what, const char *path, vidi_status status, const char *needle1, const char *needle2) {
    vidi_vivit *m = NULL;
    vidi_status s = vidi_vivit_load(path, be, &m);
    const char *msg = vidi_last_error();
    if (getenv("VIDI_TEST_VERBOSE")) printf("%-20s %s\n", what, msg);
    CHECK_MSG(s == status, "%s: status %s, expected %s (%s)", what, vidi_status_name(s), vidi_status_name(status), msg);
    CHECK_MSG(m == NULL, "%s: model handle returned on failure", what);
    CHECK_MSG(strchr(msg, '\n') == NULL, "%s: message is not one line: %s", what, msg);
    CHECK_MSG(!needle1 || strstr(msg, needle1), "%s: message lacks '%s': %s", what, needle1, msg);
    CHECK_MSG(!needle2 || strstr(msg, needle2), "%s: message lacks '%s': %s", what, needle2, msg);
    vidi_vivit_free(m);
}

/* Returns a malloc'd copy of s with the first `from` replaced by `to`. */
static char *replace(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    CHECK_MSG(at != NULL, "config lacks '%s'", from);
    size_t n = strlen(s) + strlen(to) + 1;
    char *out = malloc(n);
    if (!at) {
        snprintf(out, n, "%s", s);
        return out;
    }
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

/* Rewrites `src` to tmpdir/name with its config edited (from -> to) and one
 * tensor dropped (either may be NULL). Returns the path (static buffer). */
static const char *variant(const char *src, const char *name, const char *from, const char *to, const char *drop) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    vidi_safetensors *st = NULL;
    if (vidi_safetensors_open(src, &st) != VIDI_OK) {
        CHECK_MSG(0, "open %s: %s", src, vidi_last_error());
        return path;
    }
    int n = vidi_safetensors_count(st), k = 0;
    vidi_st_write_entry *e = calloc((size_t)n, sizeof *e);
    float **bufs = calloc((size_t)n, sizeof *bufs);
    for (int i = 0; i < n; i++) {
        const vidi_st_tensor *t = vidi_safetensors_at(st, i);
        if (drop && !strcmp(t->name, drop)) continue;
        bufs[k] = malloc(t->nbytes ? t->nbytes : 4);
        vidi_st_tensor_to_f32(t, bufs[k]);
        e[k].name = t->name;
        e[k].ndim = t->ndim;
        memcpy(e[k].shape, t->shape, sizeof t->shape);
        e[k].data = bufs[k];
        k++;
    }
    const char *cfg = vidi_safetensors_metadata(st, "config");
    char *edited = from ? replace(cfg, from, to) : strdup(cfg);
    const char *meta[] = {"format", "vidi-vivit", "config", edited, NULL};
    CHECK_MSG(vidi_safetensors_write_f32(path, e, k, meta) == VIDI_OK, "write %s: %s", path, vidi_last_error());
    free(edited);
    for (int i = 0; i < k; i++) free(bufs[i]);
    free(bufs);
    free(e);
    vidi_safetensors_close(st);
    return path;
}

static void hf_config_variant(const char *from, const char *to) {
    char path[128], cmd[1024];
    snprintf(path, sizeof path, "%s/hf", tmpdir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp tests/golden/vivit_hf/model.safetensors '%s/'", path, path,
             path);
    CHECK(system(cmd) == 0);
    size_t n = 0;
    char *cfg = vidi_test_read_file("tests/golden/vivit_hf/config.json", &n);
    if (!cfg) return;
    char *edited = replace(cfg, from, to);
    snprintf(path, sizeof path, "%s/hf/config.json", tmpdir);
    write_file(path, edited, strlen(edited));
    free(edited);
    free(cfg);
}

static void bad_checkpoints(void) {
    const char *fe = "tests/golden/vivit_fe/model.safetensors", *st = "tests/golden/vivit_st/model.safetensors";
    expect_error("tubelet", variant(fe, "tubelet.safetensors", "\"tubelet_size\": [2, 8, 8]", "\"tubelet_size\": [4, 8, 8]", NULL),
                 VIDI_ERR_SHAPE, "tubelet_size is [4, 8, 8]", "embeddings.patch.weight");
    expect_error("frames", variant(fe, "frames.safetensors", "\"num_frames\": 8", "\"num_frames\": 16", NULL), VIDI_ERR_SHAPE,
                 "num_frames 16", "temporal.position_embeddings");
    expect_error("frames (model 1)", variant(st, "frames1.safetensors", "\"num_frames\": 8", "\"num_frames\": 4", NULL),
                 VIDI_ERR_SHAPE, "num_frames 4", "embeddings.position_embeddings");
    expect_error("hidden", variant(fe, "hidden.safetensors", "\"hidden_size\": 64", "\"hidden_size\": 32", NULL),
                 VIDI_ERR_SHAPE, "hidden_size is 32", "embeddings.patch.weight");
    expect_error("depth", variant(fe, "depth.safetensors", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1", NULL),
                 VIDI_ERR_SHAPE, "num_hidden_layers is 1", "spatial.layers.1.");
    expect_error("temporal depth", variant(fe, "tdepth.safetensors", "\"num_temporal_layers\": 1", "\"num_temporal_layers\": 2", NULL),
                 VIDI_ERR_SHAPE, "temporal.layers.1.", NULL);
    expect_error("variant", variant(fe, "variant.safetensors", "factorised_encoder", "factorized", NULL), VIDI_ERR_UNSUPPORTED,
                 "variant 'factorized'", "__metadata__.config");
    expect_error("variant vs weights", variant(fe, "variant2.safetensors", "factorised_encoder", "spatiotemporal", NULL),
                 VIDI_ERR_SHAPE, "embeddings.position_embeddings", NULL);
    expect_error("act", variant(fe, "act.safetensors", "\"hidden_act\": \"gelu\"", "\"hidden_act\": \"relu\"", NULL),
                 VIDI_ERR_UNSUPPORTED, "hidden_act 'relu'", NULL);
    expect_error("missing tensor", variant(fe, "missing.safetensors", NULL, NULL, "temporal.layers.0.fc2.bias"), VIDI_ERR_SHAPE,
                 "temporal.layers.0.fc2.bias", "missing.safetensors");
    expect_error("missing key", variant(fe, "nokey.safetensors", "\"num_temporal_layers\": 1, ", "", NULL), VIDI_ERR_FORMAT,
                 "num_temporal_layers", NULL);

    /* Truncated: the header promises more bytes than the file has. */
    size_t n = 0;
    char *buf = vidi_test_read_file(fe, &n);
    char path[256];
    snprintf(path, sizeof path, "%s/truncated.safetensors", tmpdir);
    if (buf) write_file(path, buf, n / 2);
    free(buf);
    expect_error("truncated", path, VIDI_ERR_FORMAT, "truncated.safetensors", NULL);

    /* HF directory whose config.json disagrees with its weights. */
    hf_config_variant("\"num_frames\": 8", "\"num_frames\": 16");
    snprintf(path, sizeof path, "%s/hf", tmpdir);
    expect_error("hf frames", path, VIDI_ERR_SHAPE, "config.json", "vivit.embeddings.position_embeddings");
    hf_config_variant("\"model_type\": \"vivit\"", "\"model_type\": \"vit\"");
    expect_error("hf model_type", path, VIDI_ERR_FORMAT, "model_type 'vit'", "ViT checkpoint");

    /* A ViT where a ViViT is expected, and the other way round. */
    expect_error("vit dir", "tests/golden/hf_vit_gelu", VIDI_ERR_FORMAT, "is a ViT checkpoint", NULL);
    expect_error("timm vit", "tests/golden/timm_vit/model.safetensors", VIDI_ERR_FORMAT, "is a ViT checkpoint", "pos_embed");
    expect_error("no such file", "tests/golden/nope.safetensors", VIDI_ERR_IO, "nope.safetensors", NULL);
    static const char *const vivits[] = {"tests/golden/vivit_fe/model.safetensors", "tests/golden/vivit_hf"};
    for (int i = 0; i < 2; i++) {
        vidi_vit *v = NULL;
        vidi_status s = vidi_vit_load(vivits[i], be, 0, &v);
        CHECK_MSG(s == VIDI_ERR_FORMAT && v == NULL, "vit_load(%s): %s", vivits[i], vidi_status_name(s));
        CHECK_MSG(strstr(vidi_last_error(), "is a ViViT checkpoint") != NULL, "vit_load(%s): %s", vivits[i], vidi_last_error());
        vidi_vit_free(v);
    }
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vidi-vivit-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    if (vidi_backend_create("ref", 1, &be) != VIDI_OK) return 1;
    bad_checkpoints();
    vidi_backend_destroy(be);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
    return vidi_test_summary("vivit_errors");
}
