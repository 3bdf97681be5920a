/* ViT golden parity: tiny random checkpoints written by HF transformers,
 * timm and torchvision (tools/oracle/gen_vit_golden.py) are run on the same
 * input; every stage ("embeddings", "layer.i", "final_norm", "logits") must
 * match the reference to 1e-4 relative, on every backend. On failure the
 * first diverging stage is named. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/safetensors.h"
#include "vidi/vit.h"

#define REL_TOL 1e-4

typedef struct compare_state {
    vidi_safetensors *golden;
    const char *where;
    char first_bad[64];
    double worst;
    int stages;
} compare_state;

/* max |a - b| / max |b|: relative to the layer's scale, so near-zero
 * elements do not make the criterion meaningless. */
static double rel_error(const float *got, const float *want, int64_t n) {
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= diff)) diff = d; /* NaN-safe: NaN sticks */
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
    CHECK_MSG(n == rows * cols, "%s: stage '%s' has %lld values, golden %lld", cs->where, name,
              (long long)(rows * cols), (long long)n);
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
    if (!(err <= REL_TOL) && !cs->first_bad[0]) snprintf(cs->first_bad, sizeof cs->first_bad, "%s (rel err %.3g)", name, err);
    free(want);
}

static void run_case(const char *model_path, const char *golden_dir, const char *backend_name) {
    char where[512], golden_path[512];
    snprintf(where, sizeof where, "%s [%s]", model_path, backend_name);
    snprintf(golden_path, sizeof golden_path, "%s/golden.safetensors", golden_dir);
    vidi_backend *be = NULL;
    vidi_vit *model = NULL;
    compare_state cs = {.where = where};
    CHECK_MSG(vidi_backend_create(backend_name, 2, &be) == VIDI_OK, "%s: backend: %s", where, vidi_last_error());
    CHECK_MSG(vidi_safetensors_open(golden_path, &cs.golden) == VIDI_OK, "%s: %s", where, vidi_last_error());
    CHECK_MSG(vidi_vit_load(model_path, be, 0, &model) == VIDI_OK, "%s: load: %s", where, vidi_last_error());
    if (!be || !cs.golden || !model) goto done;

    const vidi_vit_config *c = vidi_vit_get_config(model);
    int64_t npix = (int64_t)c->channels * c->image_size * c->image_size;
    int64_t in_shape[3] = {c->channels, c->image_size, c->image_size};
    const float *input = NULL;
    float *logits = malloc(sizeof(float) * (size_t)c->num_labels);
    CHECK_MSG(vidi_safetensors_get_f32(cs.golden, "input", 3, in_shape, &input) == VIDI_OK, "%s: %s", where,
              vidi_last_error());
    if (input && logits) {
        CHECK_MSG(vidi_vit_forward(model, input, logits, on_layer, &cs) == VIDI_OK, "%s: forward: %s", where,
                  vidi_last_error());
        CHECK_MSG(cs.stages == c->layers + 3, "%s: compared %d stages, expected %d", where, cs.stages, c->layers + 3);
        CHECK_MSG(!cs.first_bad[0], "%s: first diverging stage: %s", where, cs.first_bad);
        printf("%-40s %-4s worst rel err %.2e over %d stages\n", model_path, backend_name, cs.worst, cs.stages);
        (void)npix;
    }
    free(logits);
done:
    vidi_vit_free(model);
    vidi_safetensors_close(cs.golden);
    vidi_backend_destroy(be);
}

int main(void) {
    static const char *const cases[] = {"hf_vit_gelu", "hf_vit_tanh", "timm_vit", "tv_vit"};
    static const char *const backends[] = {"ref", "cpu", "cuda-emu"}; /* cuda-emu: the CUDA backend on its emulator */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[256], file[300];
        snprintf(dir, sizeof dir, "tests/golden/%s", cases[i]);
        snprintf(file, sizeof file, "%s/model.safetensors", dir);
        for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++) {
            run_case(dir, dir, backends[b]);
            /* A bare .safetensors finds its config.json beside it. */
            if (b == 1) run_case(file, dir, backends[b]);
        }
    }
    return vidi_test_summary("vit_golden");
}
