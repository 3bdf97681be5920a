/* JPEG 4:2:0 to RGB the way libjpeg(-turbo) does it, so images decoded by
 * FFmpeg match what PIL (and so every Python preprocessing pipeline) sees. */
#ifndef VIDI_DECODE_JPEG_COLOR_H
#define VIDI_DECODE_JPEG_COLOR_H

#include <stdint.h>

/* Full-range planar Y (w x h) and Cb/Cr ((w+1)/2 x (h+1)/2) to packed RGB,
 * with libjpeg's "fancy" (triangular, centre-sited) chroma upsampling and its
 * fixed-point YCbCr -> RGB tables. Returns 0, or -1 when out of memory. */
int vidi_yuvj420_to_rgb(const uint8_t *y, int y_stride, const uint8_t *cb, const uint8_t *cr, int c_stride,
                         int width, int height, uint8_t *rgb);

#endif
