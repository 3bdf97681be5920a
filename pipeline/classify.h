/* Classification drivers shared by the CLI and (later) the plugin:
 * image -> preprocess -> forward -> logits, and softmax + top-k. */
#ifndef VIDI_PIPELINE_CLASSIFY_H
#define VIDI_PIPELINE_CLASSIFY_H

#include "vidi/vit.h"

typedef struct vidi_topk {
    int index;
    float score; /* softmax probability */
} vidi_topk;

/* Decode, preprocess and classify one image file; logits: num_labels floats. */
vidi_status vidi_classify_image(vidi_vit *model, const char *path, float *logits);

/* Softmax of logits, then the k largest (ties: lower index first). */
void vidi_softmax_topk(const float *logits, int n, vidi_topk *top, int k);

#endif
