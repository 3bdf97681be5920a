#include "pipeline/classify.h"

#include <math.h>
#include <stdlib.h>

vidi_status vidi_classify_image(vidi_vit *model, const char *path, float *logits) {
    const vidi_vit_config *c = vidi_vit_get_config(model);
    vidi_image image = {0};
    vidi_status s = vidi_image_load(path, &image);
    if (s) return s;
    float *pixels = malloc(sizeof(float) * (size_t)c->channels * c->image_size * c->image_size);
    if (!pixels) {
        vidi_image_free(&image);
        return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", path);
    }
    s = vidi_vit_preprocess(model, &image, pixels);
    if (s) vidi_wrap_error(s, "%s", path);
    else s = vidi_vit_forward(model, pixels, logits, NULL, NULL);
    free(pixels);
    vidi_image_free(&image);
    return s;
}

typedef struct ranked {
    float logit;
    int index;
} ranked;

static int by_logit_desc(const void *pa, const void *pb) {
    const ranked *a = pa, *b = pb;
    if (a->logit != b->logit) return a->logit > b->logit ? -1 : 1;
    return a->index - b->index;
}

void vidi_softmax_topk(const float *logits, int n, vidi_topk *top, int k) {
    double max = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; i++) max = logits[i] > max ? logits[i] : max;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - max);
    ranked *order = malloc(sizeof(ranked) * (size_t)n);
    if (!order) { /* degrade to the first k rather than fail a finished forward */
        for (int j = 0; j < k; j++) top[j].index = j, top[j].score = (float)(exp((double)logits[j] - max) / sum);
        return;
    }
    for (int i = 0; i < n; i++) order[i] = (ranked){logits[i], i};
    qsort(order, (size_t)n, sizeof *order, by_logit_desc);
    for (int j = 0; j < k; j++) {
        top[j].index = order[j].index;
        top[j].score = (float)(exp((double)order[j].logit - max) / sum);
    }
    free(order);
}
