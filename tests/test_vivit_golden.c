/* ViViT golden parity: model 1 written and run by HF transformers
 * (VivitForVideoClassification), models 1-4 in the vidi single-file format
 * run by the PyTorch reference (tools/oracle/gen_vivit_golden.py), and model 2
 * converted from a Scenic Flax checkpoint by tools/convert_scenic.py. Every
 * stage must match to 1e-4 relative on every backend; on failure the first
 * diverging stage is named. Also checks labels and sampler settings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/safetensors.h"
#include "vidi/vivit.h"

#define REL_TOL 1e-4

typedef struct compare_state {
    vidi_safetensors *golden;
    const char *where;
    char first_bad[96];
    double worst;
    int stages;
} compare_state;

/* max |a - b| / max |b|: relative to the stage's scale. */
static double rel_error(const float *got, const float *want, int64_t n) {
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= diff)) diff = d; /* NaN sticks */
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    }
    return diff / (scale > 0 ? scale : 1);
}

static void on_layer(void *user, const char *name, const float *data, int64_t rows, int64_t cols) {
    compare_state *cs = user;
    const vidi_st_tensor *t = vidi_safetensors_find(cs->golden, name);
    CHECK_MSG(t != NULL, "%s: golden file lacks stage '%s'", cs->where, name);
    if (!t) return;
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    CHECK_MSG(n == rows * cols, "%s: stage '%s' has %lld values, golden %lld", cs->where, name, (long long)(rows * cols),
              (long long)n);
    if (n != rows * cols) return;
    float *want = malloc(sizeof(float) * (size_t)n);
    if (!want || vidi_st_tensor_to_f32(t, want) != VIDI_OK) {
        free(want);
        CHECK_MSG(0, "%s: cannot read golden '%s'", cs->where, name);
        return;
    }
    double err = rel_error(data, want, n);
    cs->stages++;
    if (!(err <= cs->worst)) cs->worst = err;
    if (!(err <= REL_TOL) && !cs->first_bad[0])
        snprintf(cs->first_bad, sizeof cs->first_bad, "%s (rel err %.3g)", name, err);
    free(want);
}

static int expected_stages(const vidi_vivit_config *c) {
    if (c->variant == VIDI_VIVIT_FACTORISED_ENCODER) return c->layers + c->temporal_layers + 5;
    return c->layers + 3;
}

static void run_case(const char *model_path, const char *golden_dir, const char *backend_name, int variant) {
    char where[512], golden_path[512];
    snprintf(where, sizeof where, "%s [%s]", model_path, backend_name);
    snprintf(golden_path, sizeof golden_path, "%s/golden.safetensors", golden_dir);
    vidi_backend *be = NULL;
    vidi_vivit *model = NULL;
    compare_state cs = {.where = where};
    CHECK_MSG(vidi_backend_create(backend_name, 2, &be) == VIDI_OK, "%s: backend: %s", where, vidi_last_error());
    CHECK_MSG(vidi_safetensors_open(golden_path, &cs.golden) == VIDI_OK, "%s: %s", where, vidi_last_error());
    CHECK_MSG(vidi_vivit_load(model_path, be, &model) == VIDI_OK, "%s: load: %s", where, vidi_last_error());
    if (!be || !cs.golden || !model) goto done;

    const vidi_vivit_config *c = vidi_vivit_get_config(model);
    CHECK_MSG((int)c->variant == variant, "%s: variant %d, expected %d", where, (int)c->variant, variant);
    const char *label1 = strstr(model_path, "scenic") ? "LABEL_1" : "action_1";
    CHECK_MSG(!strcmp(vidi_vivit_label(model, 1), label1), "%s: label 1 is '%s'", where, vidi_vivit_label(model, 1));
    int64_t in_shape[4] = {c->num_frames, c->channels, c->image_size, c->image_size};
    const float *input = NULL;
    float *logits = malloc(sizeof(float) * (size_t)c->num_labels);
    CHECK_MSG(vidi_safetensors_get_f32(cs.golden, "input", 4, in_shape, &input) == VIDI_OK, "%s: %s", where,
              vidi_last_error());
    if (input && logits) {
        CHECK_MSG(vidi_vivit_forward(model, input, logits, on_layer, &cs) == VIDI_OK, "%s: forward: %s", where,
                  vidi_last_error());
        CHECK_MSG(cs.stages == expected_stages(c), "%s: compared %d stages, expected %d", where, cs.stages,
                  expected_stages(c));
        CHECK_MSG(!cs.first_bad[0], "%s: first diverging stage: %s", where, cs.first_bad);
        printf("%-40s %-4s worst rel err %.2e over %d stages, %.1f MFLOP\n", model_path, backend_name, cs.worst,
               cs.stages, vidi_vivit_flops(model) / 1e6);
        /* A second forward reuses the arena and must give the same logits. */
        float *again = malloc(sizeof(float) * (size_t)c->num_labels);
        CHECK(again && vidi_vivit_forward(model, input, again, NULL, NULL) == VIDI_OK);
        CHECK_MSG(again && !memcmp(again, logits, sizeof(float) * (size_t)c->num_labels), "%s: forward not repeatable",
                  where);
        free(again);
    }
    free(logits);
done:
    vidi_vivit_free(model);
    vidi_safetensors_close(cs.golden);
    vidi_backend_destroy(be);
}

static void check_sampler(const char *path, int shorter, float rescale, float mean, float stdv) {
    vidi_backend *be = NULL;
    vidi_vivit *m = NULL;
    vidi_sampler_params p;
    CHECK(vidi_backend_create("cpu", 1, &be) == VIDI_OK);
    CHECK_MSG(vidi_vivit_load(path, be, &m) == VIDI_OK, "%s: %s", path, vidi_last_error());
    if (m && vidi_vivit_sampler_params(m, &p) == VIDI_OK) {
        CHECK_MSG(p.mode == VIDI_SAMPLE_UNIFORM && p.num_frames == 8 && p.tubelet_t == 2, "%s: temporal %d %d %d", path,
                  (int)p.mode, p.num_frames, p.tubelet_t);
        CHECK_MSG(p.resize_shorter == shorter && p.crop == VIDI_CROP_CENTER && p.crop_w == 32 && p.crop_h == 32,
                  "%s: spatial %d crop %d %dx%d", path, p.resize_shorter, (int)p.crop, p.crop_w, p.crop_h);
        CHECK_MSG(fabsf(p.rescale - rescale) < 1e-7f && fabsf(p.mean[0] - mean) < 1e-6f && fabsf(p.std[2] - stdv) < 1e-6f,
                  "%s: rescale %g mean %g std %g", path, (double)p.rescale, (double)p.mean[0], (double)p.std[2]);
    }
    vidi_vivit_free(m);
    vidi_backend_destroy(be);
}

int main(void) {
    static const struct { const char *dir; int variant; } cases[] = {
        {"vivit_hf", 1}, {"vivit_st", 1}, {"vivit_fe", 2}, {"vivit_fsa", 3}, {"vivit_fsa_tf", 3}, {"vivit_fdp", 4},
        /* tools/convert_scenic.py output from a Scenic-layout Flax msgpack */
        {"vivit_scenic", 2}};
    static const char *const backends[] = {"ref", "cpu", "cuda-emu"}; /* cuda-emu: the CUDA backend on its emulator */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256], file[300];
        snprintf(dir, sizeof dir, "tests/golden/%s", cases[i].dir);
        snprintf(file, sizeof file, "%s/model.safetensors", dir);
        for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++)
            run_case(i == 0 ? dir : file, dir, backends[b], cases[i].variant);
        /* HF: a bare model.safetensors finds its config.json beside it. */
        if (i == 0) run_case(file, dir, "cpu", cases[i].variant);
    }
    /* HF preprocessor_config.json: shortest_edge 36, crop 32, 1/127.5 with
     * offset (folded into the mean: 1 + 0.5), std 0.5. */
    check_sampler("tests/golden/vivit_hf", 36, 1.0f / 127.5f, 1.5f, 0.5f);
    /* vidi "preprocessor": shortest_edge 36, crop 32, 1/127.5, mean 1, std 1. */
    check_sampler("tests/golden/vivit_st/model.safetensors", 36, 1.0f / 127.5f, 1.0f, 1.0f);
    return vidi_test_summary("vivit_golden");
}
