/* 3D kernel inflation. (1) Op level: the average-inflated kernel embeds a
 * clip constant over time exactly like the 2D kernel embeds one frame; the
 * central-frame kernel embeds any clip like the 2D kernel on frame t/2.
 * (2) A ViT checkpoint seeds a ViViT: the timm golden ViT is written as a
 * vidi model-1 file (inflated kernel, position embeddings repeated over time,
 * blocks renamed) that loads and runs; on a constant clip its embeddings
 * equal the ViT's for every time index. (Its logits do not: joint attention
 * sees each patch T' times but the cls token once, which reweights them.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/safetensors.h"
#include "vidi/vit.h"
#include "vidi/vivit.h"

#define TIMM "tests/golden/timm_vit/model.safetensors"

static double rel_error(const float *got, const float *want, int64_t n) {
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= diff)) diff = d;
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    }
    return diff / (scale > 0 ? scale : 1);
}

static void fill(float *v, size_t n, unsigned seed) {
    unsigned x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        v[i] = (float)((x >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

enum { D = 64, C = 3, P = 8, IMG = 32, S = 16 };

static void op_level(vidi_backend *be, const float *k2, const float *bias) {
    const int t = 3; /* odd: the centre is frame 1, the average divides by 3 */
    size_t frame = (size_t)C * IMG * IMG;
    float *k3 = malloc(sizeof(float) * D * C * t * P * P), *clip = malloc(sizeof(float) * frame * t);
    float *got = malloc(sizeof(float) * S * D), *want = malloc(sizeof(float) * S * D);
    vidi_patch_layout l2 = {.frames = 1, .channels = C, .height = IMG, .width = IMG, .patch_t = 1, .patch_h = P,
                            .patch_w = P, .hidden = D, .out_row_stride = D};
    vidi_patch_layout l3 = l2;
    l3.frames = l3.patch_t = t;
    /* average, constant clip */
    fill(clip, frame, 11);
    for (int i = 1; i < t; i++) memcpy(clip + i * frame, clip, sizeof(float) * frame);
    CHECK(vidi_vivit_inflate_patch(k2, D, C, P, P, t, VIDI_INFLATE_AVERAGE, k3) == VIDI_OK);
    CHECK(be->patch_embed(be, got, clip, k3, bias, &l3) == VIDI_OK);
    CHECK(be->patch_embed(be, want, clip, k2, bias, &l2) == VIDI_OK);
    double err = rel_error(got, want, S * D);
    CHECK_MSG(err < 1e-5, "average inflation: rel err %.3g", err);
    printf("average-inflated tubelet on a constant clip vs 2D patch of one frame: rel err %.2e\n", err);
    /* central, varying clip */
    fill(clip, frame * t, 12);
    CHECK(vidi_vivit_inflate_patch(k2, D, C, P, P, t, VIDI_INFLATE_CENTRAL, k3) == VIDI_OK);
    CHECK(be->patch_embed(be, got, clip, k3, bias, &l3) == VIDI_OK);
    CHECK(be->patch_embed(be, want, clip + frame, k2, bias, &l2) == VIDI_OK);
    err = rel_error(got, want, S * D);
    CHECK_MSG(err < 1e-5, "central inflation: rel err %.3g", err);
    CHECK(vidi_vivit_inflate_patch(k2, D, C, P, P, 0, VIDI_INFLATE_CENTRAL, k3) == VIDI_ERR_ARG);
    free(k3);
    free(clip);
    free(got);
    free(want);
}

typedef struct capture {
    float *embeddings;
    int64_t rows;
} capture;

static void on_stage(void *user, const char *name, const float *data, int64_t rows, int64_t cols) {
    capture *c = user;
    if (strcmp(name, "embeddings") || c->embeddings) return;
    c->embeddings = malloc(sizeof(float) * (size_t)(rows * cols));
    if (c->embeddings) memcpy(c->embeddings, data, sizeof(float) * (size_t)(rows * cols));
    c->rows = rows;
}

/* timm block names -> vidi names. */
static const char *const renames[][2] = {{"norm1.", "ln1."}, {"attn.qkv.", "qkv."}, {"attn.proj.", "proj."},
                                         {"norm2.", "ln2."}, {"mlp.fc1.", "fc1."}, {"mlp.fc2.", "fc2."}};

static void seed_from_vit(vidi_backend *be, vidi_safetensors *vit_st, const char *out_path) {
    enum { T = 4, TT = 2, NT = T / TT };
    vidi_vit *vit = NULL;
    CHECK_MSG(vidi_vit_load(TIMM, be, 0, &vit) == VIDI_OK, "vit: %s", vidi_last_error());
    if (!vit) return;
    const vidi_vit_config *vc = vidi_vit_get_config(vit);
    int n = vidi_safetensors_count(vit_st), k = 0;
    vidi_st_write_entry *e = calloc((size_t)n, sizeof *e);
    char (*names)[96] = calloc((size_t)n, sizeof *names);
    float **bufs = calloc((size_t)n, sizeof *bufs);
    for (int i = 0; i < n; i++) {
        const vidi_st_tensor *t = vidi_safetensors_at(vit_st, i);
        int64_t numel = 1;
        for (int dd = 0; dd < t->ndim; dd++) numel *= t->shape[dd];
        float *src = malloc(sizeof(float) * (size_t)numel);
        vidi_st_tensor_to_f32(t, src);
        e[k].ndim = t->ndim;
        memcpy(e[k].shape, t->shape, sizeof t->shape);
        int layer;
        char rest[64];
        if (!strcmp(t->name, "patch_embed.proj.weight")) {
            bufs[k] = malloc(sizeof(float) * (size_t)numel * TT);
            vidi_vivit_inflate_patch(src, D, C, P, P, TT, VIDI_INFLATE_AVERAGE, bufs[k]);
            free(src);
            snprintf(names[k], sizeof names[k], "embeddings.patch.weight");
            e[k].ndim = 5;
            int64_t sh[5] = {D, C, TT, P, P};
            memcpy(e[k].shape, sh, sizeof sh);
        } else if (!strcmp(t->name, "pos_embed")) { /* [1, 1+S, D] -> [1, 1+T'S, D]: cls, then S repeated T' times */
            bufs[k] = malloc(sizeof(float) * D * (1 + NT * S));
            memcpy(bufs[k], src, sizeof(float) * D);
            for (int ti = 0; ti < NT; ti++) memcpy(bufs[k] + D * (1 + ti * S), src + D, sizeof(float) * D * S);
            free(src);
            snprintf(names[k], sizeof names[k], "embeddings.position_embeddings");
            e[k].shape[1] = 1 + NT * S;
        } else {
            bufs[k] = src;
            if (!strcmp(t->name, "patch_embed.proj.bias")) snprintf(names[k], sizeof names[k], "embeddings.patch.bias");
            else if (!strcmp(t->name, "cls_token")) snprintf(names[k], sizeof names[k], "embeddings.cls_token");
            else if (sscanf(t->name, "blocks.%d.%63s", &layer, rest) == 2) {
                for (size_t r = 0; r < sizeof renames / sizeof renames[0]; r++)
                    if (!strncmp(rest, renames[r][0], strlen(renames[r][0])))
                        snprintf(names[k], sizeof names[k], "layers.%d.%s%s", layer, renames[r][1], rest + strlen(renames[r][0]));
            } else {
                snprintf(names[k], sizeof names[k], "%s", t->name); /* norm.*, head.* */
            }
        }
        e[k].name = names[k];
        e[k].data = bufs[k];
        k++;
    }
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"model_type\": \"vivit\", \"variant\": \"spatiotemporal\", \"num_frames\": %d, \"image_size\": %d, "
             "\"num_channels\": 3, \"tubelet_size\": [%d, %d, %d], \"hidden_size\": %d, \"num_attention_heads\": %d, "
             "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"hidden_act\": \"gelu\", \"layer_norm_eps\": %g, "
             "\"qkv_bias\": true}",
             T, vc->image_size, TT, P, P, vc->hidden, vc->heads, vc->mlp_dim, vc->layers, (double)vc->ln_eps);
    const char *meta[] = {"format", "vidi-vivit", "config", cfg, NULL};
    CHECK_MSG(vidi_safetensors_write_f32(out_path, e, k, meta) == VIDI_OK, "write: %s", vidi_last_error());
    for (int i = 0; i < k; i++) free(bufs[i]);
    free(bufs);
    free(names);
    free(e);

    vidi_vivit *vv = NULL;
    CHECK_MSG(vidi_vivit_load(out_path, be, &vv) == VIDI_OK, "seeded vivit: %s", vidi_last_error());
    if (vv) {
        size_t frame = (size_t)C * IMG * IMG;
        float *clip = malloc(sizeof(float) * frame * T), la[8], lb[8];
        fill(clip, frame, 21);
        for (int i = 1; i < T; i++) memcpy(clip + i * frame, clip, sizeof(float) * frame);
        capture ca = {0}, cb = {0};
        int nl = vc->num_labels < 8 ? vc->num_labels : 8;
        CHECK(vidi_vit_forward(vit, clip, la, on_stage, &ca) == VIDI_OK);
        CHECK(vidi_vivit_forward(vv, clip, lb, on_stage, &cb) == VIDI_OK);
        CHECK(ca.rows == 1 + S && cb.rows == 1 + NT * S);
        if (ca.embeddings && cb.embeddings && cb.rows == 1 + NT * S) {
            double worst = rel_error(cb.embeddings, ca.embeddings, D);
            for (int ti = 0; ti < NT; ti++) {
                double err = rel_error(cb.embeddings + D * (1 + ti * S), ca.embeddings + D, (int64_t)S * D);
                if (err > worst) worst = err;
            }
            CHECK_MSG(worst < 1e-5, "seeded ViViT embeddings vs ViT: rel err %.3g", worst);
            CHECK(isfinite(lb[0]) && nl > 0);
            printf("ViT-seeded ViViT (average inflation) on a constant clip: embeddings rel err %.2e\n", worst);
        }
        free(ca.embeddings);
        free(cb.embeddings);
        free(clip);
    }
    vidi_vivit_free(vv);
    vidi_vit_free(vit);
}

int main(void) {
    vidi_backend *be = NULL;
    vidi_safetensors *st = NULL;
    CHECK(vidi_backend_create("cpu", 1, &be) == VIDI_OK);
    CHECK_MSG(vidi_safetensors_open(TIMM, &st) == VIDI_OK, "%s", vidi_last_error());
    int64_t kshape[4] = {D, C, P, P}, bshape[1] = {D};
    const float *k2 = NULL, *bias = NULL;
    CHECK(st && vidi_safetensors_get_f32(st, "patch_embed.proj.weight", 4, kshape, &k2) == VIDI_OK);
    CHECK(st && vidi_safetensors_get_f32(st, "patch_embed.proj.bias", 1, bshape, &bias) == VIDI_OK);
    if (be && k2 && bias) {
        op_level(be, k2, bias);
        char path[64];
        snprintf(path, sizeof path, "/tmp/vidi-inflate-%d.safetensors", (int)getpid());
        seed_from_vit(be, st, path);
        unlink(path);
    }
    vidi_safetensors_close(st);
    vidi_backend_destroy(be);
    return vidi_test_summary("vivit_inflate");
}
