/* vidi — still images: decode (FFmpeg), resize (PIL-exact), normalise. */
#ifndef VIDI_IMAGE_H
#define VIDI_IMAGE_H

#include <stdint.h>
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Packed RGB, 8 bits per channel, rows of width*3 bytes. */
typedef struct vidi_image {
    int width, height;
    uint8_t *rgb;
} vidi_image;

/* Resampling filters, numbered as PIL (and so HF preprocessor configs) number them. */
typedef enum vidi_resample {
    VIDI_RESAMPLE_NEAREST = 0,
    VIDI_RESAMPLE_LANCZOS = 1,
    VIDI_RESAMPLE_BILINEAR = 2,
    VIDI_RESAMPLE_BICUBIC = 3,
    VIDI_RESAMPLE_BOX = 4,
    VIDI_RESAMPLE_HAMMING = 5,
} vidi_resample;

/* Decode the first frame of an image file (PNG, JPEG, BMP, ... anything
 * libavformat's image demuxers read) to RGB. Alpha is dropped, grey expanded. */
vidi_status vidi_image_load(const char *path, vidi_image *out);
void vidi_image_free(vidi_image *image);

/* Resize with PIL's algorithm (separable convolution with support scaled on
 * downsampling, 8-bit fixed point between passes) so preprocessing matches
 * the Python image processors the checkpoints were trained with. */
vidi_status vidi_image_resize(const vidi_image *in, int width, int height, vidi_resample resample,
                              vidi_image *out);

/* out[c, y, x] = (rgb * rescale - mean[c]) / std[c]; out is [3, H, W].
 * rescale is the processor's rescale_factor (1/255 almost always). */
void vidi_image_normalize(const vidi_image *in, float rescale, const float mean[3],
                          const float std[3], float *out);

/* Centre crop to width x height (which must fit inside the image). */
vidi_status vidi_image_center_crop(const vidi_image *in, int width, int height, vidi_image *out);

#ifdef __cplusplus
}
#endif
#endif
