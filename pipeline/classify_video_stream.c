/* Sliding-window classification of a whole video with the streaming
 * factorised encoder (see classify_video.h): every frame decoded in order,
 * the centre view preprocessed as the sampler would, pushed once; spatial
 * encodings of tubelets already seen are reused by vidi_vivit_stream. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/classify_video.h"
#include "vidi/preprocess.h"

typedef struct stream_run {
    vidi_vivit_stream *stream;
    vidi_frame_preprocessor *pp;
    float *frame;      /* [3][H][W], one preprocessed frame */
    float *logits;     /* [num_labels] */
    int64_t *index;    /* [num_frames] ring: frame index of each kept frame in the window */
    double *pts;       /* [num_frames] ring: its timestamp */
} stream_run;

static void run_free(stream_run *r) {
    vidi_vivit_stream_free(r->stream);
    vidi_frame_preprocessor_free(r->pp);
    free(r->frame);
    free(r->logits);
    free(r->index);
    free(r->pts);
}

vidi_status vidi_classify_video_stream_check(vidi_video_classifier *vc, const char *label, int window_stride,
                                             int frame_stride) {
    const vidi_vivit_config *c = vidi_vivit_get_config(vidi_video_classifier_model(vc));
    if (c->variant != VIDI_VIVIT_FACTORISED_ENCODER)
        return vidi_set_error(VIDI_ERR_UNSUPPORTED,
                              "%s: streaming needs a factorised-encoder (model 2) ViViT; this model is variant %d",
                              label, (int)c->variant);
    if (window_stride < 1 || window_stride > 1 << 20 || window_stride % c->tubelet_t)
        return vidi_set_error(VIDI_ERR_ARG,
                              "%s: window stride %d must be a positive multiple of the model's tubelet depth %d "
                              "(windows start at tubelet boundaries)",
                              label, window_stride, c->tubelet_t);
    if (frame_stride < 1 || frame_stride > 1 << 20)
        return vidi_set_error(VIDI_ERR_ARG, "%s: frame stride %d must be positive", label, frame_stride);
    return VIDI_OK;
}

static vidi_status run_init(vidi_video_classifier *vc, const char *label, stream_run *r) {
    vidi_vivit *m = vidi_video_classifier_model(vc);
    const vidi_vivit_config *c = vidi_vivit_get_config(m);
    /* A stream takes one view: the centre crop (the middle of three). */
    vidi_sampler_params p = *vidi_video_classifier_sampler_params(vc);
    if (p.crop == VIDI_CROP_THREE) p.crop = VIDI_CROP_CENTER;
    vidi_status s;
    if ((s = vidi_vivit_stream_create(m, &r->stream)) || (s = vidi_frame_preprocessor_create(&p, &r->pp)))
        return vidi_wrap_error(s, "%s", label);
    r->frame = malloc(sizeof(float) * (size_t)c->channels * c->image_size * c->image_size);
    r->logits = malloc(sizeof(float) * (size_t)c->num_labels);
    r->index = malloc(sizeof(int64_t) * (size_t)c->num_frames);
    r->pts = malloc(sizeof(double) * (size_t)c->num_frames);
    if (!r->frame || !r->logits || !r->index || !r->pts) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", label);
    return VIDI_OK;
}

/* Preprocess one decoded frame into r->frame; its size must give the model's. */
static vidi_status prepare(stream_run *r, const vidi_vivit_config *c, const vidi_sampler_params *p, const char *label,
                           const vidi_frame *f) {
    int ow = 0, oh = 0;
    vidi_status s = vidi_preprocess_output_size(p, f->width, f->height, &ow, &oh);
    if (!s && (ow != c->image_size || oh != c->image_size))
        s = vidi_set_error(VIDI_ERR_SHAPE, "%s: frame %lld preprocesses to %dx%d but the model takes %dx%d", label,
                           (long long)f->index, ow, oh, c->image_size, c->image_size);
    if (!s) s = vidi_frame_preprocessor_run(r->pp, f->rgb, f->width, f->height, f->width * 3, r->frame);
    if (s) return vidi_wrap_error(s, "%s: frame %lld", label, (long long)f->index);
    return VIDI_OK;
}

vidi_status vidi_classify_video_stream(vidi_video_classifier *vc, vidi_decoder *dec, int window_stride,
                                       int frame_stride, vidi_stream_window_fn fn, void *user) {
    if (!vc || !dec || !fn) return vidi_set_error(VIDI_ERR_ARG, "vidi_classify_video_stream: arguments are required");
    const char *label = vidi_decoder_input(dec);
    const vidi_vivit_config *c = vidi_vivit_get_config(vidi_video_classifier_model(vc));
    vidi_status s = vidi_classify_video_stream_check(vc, label, window_stride, frame_stride);
    if (s) return s;
    stream_run r;
    memset(&r, 0, sizeof r);
    if ((s = run_init(vc, label, &r))) {
        run_free(&r);
        return s;
    }
    vidi_sampler_params p = *vidi_video_classifier_sampler_params(vc);
    if (p.crop == VIDI_CROP_THREE) p.crop = VIDI_CROP_CENTER;
    int T = c->num_frames, windows = 0;
    int64_t decoded = 0, kept = 0;
    for (;;) {
        vidi_frame f;
        int got = 0;
        if ((s = vidi_decoder_next(dec, &f, &got)) || !got) break;
        int keep = decoded++ % frame_stride == 0;
        if (keep) s = prepare(&r, c, &p, label, &f);
        if (keep && !s) {
            r.index[kept % T] = f.index;
            r.pts[kept % T] = f.pts;
            kept++;
            s = vidi_vivit_stream_push(r.stream, r.frame, 1);
        }
        vidi_frame_free(&f);
        if (s) break;
        if (!keep || kept < T || (kept - T) % window_stride) continue;
        if ((s = vidi_vivit_stream_classify(r.stream, r.logits))) break;
        vidi_stream_window w = {windows++, r.index[kept % T], r.index[(kept - 1) % T], r.pts[kept % T],
                                r.pts[(kept - 1) % T]};
        if ((s = fn(user, &w, r.logits))) break;
    }
    if (!s && windows == 0)
        s = vidi_set_error(VIDI_ERR_ARG,
                           "%s: %lld frames (%lld kept with frame stride %d) are fewer than one window of %d frames",
                           label, (long long)decoded, (long long)kept, frame_stride, T);
    run_free(&r);
    return s;
}
