/* Streaming factorised encoder (model 2). The spatial encoder sees one
 * tubelet at a time and nothing else, so its output for a tubelet never
 * changes: a ring of the last T' normed spatial cls rows is all a sliding
 * window needs. A window that moved by s frames costs s/t spatial encodings
 * (batch 1) plus the temporal encoder over 1 + T' tokens, instead of T'
 * spatial encodings.
 *
 * Frames that do not yet complete a tubelet are held back; the window is the
 * most recent num_frames frames that form complete tubelets, which equals a
 * full forward over those frames (tests/test_vivit_stream.c).
 * The stream reuses the model's activation arena between calls (its own
 * state is the pending tubelet and the ring), so forwards and streams on one
 * model may alternate but not run concurrently. */
#include <stdlib.h>
#include <string.h>

#include "vivit/vivit_internal.h"

struct vidi_vivit_stream {
    vidi_vivit *model;
    float *pending; /* [num_frames, C, H, W] on the backend: frames not yet encoded */
    int n_pending;  /* < tubelet_t between pushes */
    float *ring;    /* [T', D] on the backend: normed spatial cls of each cached tubelet */
    float *zeros;   /* [D]: the vtable has no copy op; x + 0 is one */
    int next;       /* ring slot the next tubelet goes to (= the oldest once full) */
    int filled;     /* tubelets cached, <= T' */
};

vidi_status vidi_vivit_stream_create(vidi_vivit *m, vidi_vivit_stream **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_stream_create: out is required");
    *out = NULL;
    if (!m) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_stream_create: model is required");
    const vidi_vivit_config *c = &m->cfg;
    if (c->variant != VIDI_VIVIT_FACTORISED_ENCODER)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "vidi_vivit_stream_create: streaming needs a factorised_encoder (model 2) ViViT, this is model %d",
                              (int)c->variant);
    const vidi_backend *be = m->be;
    vidi_vivit_stream *st = calloc(1, sizeof *st);
    if (!st) return vidi_set_error(VIDI_ERR_NOMEM, "out of memory");
    size_t frame = (size_t)c->channels * c->image_size * c->image_size, d = (size_t)c->hidden;
    st->model = m;
    st->pending = be->alloc(be, sizeof(float) * frame * (size_t)m->nt * (size_t)c->tubelet_t);
    st->ring = be->alloc(be, sizeof(float) * d * (size_t)m->nt);
    st->zeros = be->alloc(be, sizeof(float) * d);
    float *host_zeros = calloc(d, sizeof(float));
    vidi_status s = VIDI_OK;
    if (!st->pending || !st->ring || !st->zeros || !host_zeros)
        s = vidi_set_error(VIDI_ERR_NOMEM, "vidi_vivit_stream_create: out of memory");
    else
        s = be->upload(be, st->zeros, host_zeros, sizeof(float) * d);
    free(host_zeros);
    if (s) {
        vidi_vivit_stream_free(st);
        return s;
    }
    *out = st;
    return VIDI_OK;
}

void vidi_vivit_stream_free(vidi_vivit_stream *st) {
    if (!st) return;
    const vidi_backend *be = st->model->be;
    if (st->pending) be->release(be, st->pending);
    if (st->ring) be->release(be, st->ring);
    if (st->zeros) be->release(be, st->zeros);
    free(st);
}

vidi_status vidi_vivit_stream_push(vidi_vivit_stream *st, const float *frames, int n) {
    if (!st || (n > 0 && !frames) || n < 0)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_stream_push: stream, frames and n >= 0 are required");
    vidi_vivit *m = st->model;
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    size_t frame = (size_t)c->channels * c->image_size * c->image_size;
    int64_t d = c->hidden;
    const int cap = m->nt * c->tubelet_t; /* frames the activation arena encodes in one batch */
    vidi_status s;
    for (int i = 0; i < n;) {
        int take = n - i < cap - st->n_pending ? n - i : cap - st->n_pending;
        if ((s = be->upload(be, st->pending + st->n_pending * frame, frames + i * frame,
                            sizeof(float) * frame * (size_t)take)))
            return s;
        st->n_pending += take;
        i += take;
        int k = st->n_pending / c->tubelet_t;
        if (k == 0) continue; /* only when the input ran out */
        if ((s = vivit_spatial_encode(m, st->pending, k, NULL, NULL))) return s;
        for (int j = 0; j < k; j++) {
            if ((s = be->add(be, st->ring + st->next * d, m->h + j * (1 + m->ns) * d, st->zeros, d))) return s;
            st->next = (st->next + 1) % m->nt;
            if (st->filled < m->nt) st->filled++;
        }
        /* The r < tubelet_t frames left over all came from this push (the
         * pending frames before it were fewer than one tubelet), so they are
         * re-uploaded from the caller's buffer to the front. */
        int r = st->n_pending - k * c->tubelet_t;
        if (r && (s = be->upload(be, st->pending, frames + (i - r) * frame, sizeof(float) * frame * (size_t)r)))
            return s;
        st->n_pending = r;
    }
    return VIDI_OK;
}

vidi_status vidi_vivit_stream_classify(vidi_vivit_stream *st, float *logits) {
    if (!st || !logits) return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_stream_classify: stream and logits are required");
    vidi_vivit *m = st->model;
    const vidi_backend *be = m->be;
    const vidi_vivit_config *c = &m->cfg;
    int64_t d = c->hidden;
    if (st->filled < m->nt)
        return vidi_set_error(VIDI_ERR_ARG, "vidi_vivit_stream_classify: %d of %d frames (complete tubelets) so far",
                              st->filled * c->tubelet_t, c->num_frames);
    /* Oldest tubelet first: ring slot `next` once the ring is full. */
    vidi_status s;
    if ((s = be->add(be, m->tx, m->temporal.cls, m->temporal.pos, d))) return s;
    for (int i = 0; i < m->nt; i++) {
        int slot = (st->next + i) % m->nt;
        if ((s = be->add(be, m->tx + (1 + i) * d, st->ring + slot * d, m->temporal.pos + (1 + i) * d, d))) return s;
    }
    if ((s = vivit_temporal_encode(m, NULL, NULL)) || (s = be->synchronize(be)))
        return s;
    return be->download(be, logits, m->logits, sizeof(float) * (size_t)c->num_labels);
}
