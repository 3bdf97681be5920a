/* vidi — per-frame preprocessing for streams (the GStreamer elements,
 * `vidi classify --stream`): one RGB frame -> one normalised [3][H][W] float
 * tensor, the same spatial steps the clip sampler applies to a decoded
 * frame (include/vidi/sampler.h):
 *   resize  the shorter side to resize_shorter (aspect kept, torchvision
 *           rounding) or exactly resize_w x resize_h; with the scaler the
 *           sampler's decoder-side path uses (swscale, same filter flags),
 *           or PIL's algorithm when params->exact_resize is set;
 *   crop    centre crop to crop_w x crop_h (VIDI_CROP_THREE's middle crop is
 *           the centre crop, so a stream takes that one view);
 *   norm    out = (rgb * rescale - mean) / std per channel.
 *
 * Exactness: with exact_resize the output equals vidi_sampler_run() on the
 * same decoded frames bit for bit. On the fast path the sampler scales while
 * converting from the decoder's YUV; given frames already in RGB, the two
 * differ by the scaler's rounding of chroma (about one 8-bit level on
 * average; tests/test_frame_preprocess.c measures it). A caller holding the
 * YUV frame (the GStreamer elements) scales it with the decoders' conversion
 * first; the resize here is then the identity and the result exact.
 *
 * Typical use (one handle per stream; it caches the scaler):
 *   vidi_frame_preprocessor *pp;
 *   vidi_frame_preprocessor_create(&params, &pp);
 *   vidi_frame_preprocessor_run(pp, rgb, w, h, stride, out);  // per frame
 *   vidi_frame_preprocessor_free(pp);
 * A handle is used by one thread at a time. */
#ifndef VIDI_PREPROCESS_H
#define VIDI_PREPROCESS_H

#include <stdint.h>
#include "vidi/sampler.h"
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vidi_frame_preprocessor vidi_frame_preprocessor;

/* Copies params (only the spatial and normalisation fields matter).
 * VIDI_ERR_ARG for a resize / crop / std the sampler would refuse too. */
vidi_status vidi_frame_preprocessor_create(const vidi_sampler_params *params, vidi_frame_preprocessor **out);
void vidi_frame_preprocessor_free(vidi_frame_preprocessor *pp);

/* rgb: packed RGB u8, rows `stride` bytes apart (>= w * 3). out: floats
 * [3][out_h][out_w] per vidi_preprocess_output_size. VIDI_ERR_ARG for a
 * zero / negative size, a short stride, or a crop larger than the resized
 * frame; nothing is written to out then. */
vidi_status vidi_frame_preprocessor_run(vidi_frame_preprocessor *pp, const uint8_t *rgb, int w, int h, int stride,
                                        float *out);

/* Output size for a w x h input (crop size, or the resized size without a crop). */
vidi_status vidi_preprocess_output_size(const vidi_sampler_params *params, int w, int h, int *out_w, int *out_h);

/* One-shot form of create + run + free. */
vidi_status vidi_preprocess_frame(const vidi_sampler_params *params, const uint8_t *rgb, int w, int h, int stride,
                                  float *out);

#ifdef __cplusplus
}
#endif
#endif
