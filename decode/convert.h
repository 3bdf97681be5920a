/* Private to decode/: the one conversion every backend's frames go through,
 * decoder-native picture (YUV of any depth, or RGB) -> upright packed RGB at
 * the requested size, by swscale with the same flags and colour details
 * whichever backend decoded it. So FFmpeg and GStreamer differ only where
 * their decoders do. */
#ifndef VIDI_DECODE_CONVERT_H
#define VIDI_DECODE_CONVERT_H

#include <libavutil/pixfmt.h>

#include "decode/decoder.h"

/* A decoded picture as planes (borrowed, not copied). */
typedef struct vidi_picture {
    const uint8_t *data[4];
    int linesize[4];
    int width, height;
    enum AVPixelFormat format; /* yuvj* is accepted and means full range */
    int full_range;            /* 1: 0-255 luma (JPEG); 0: 16-235 (video) */
    enum AVColorSpace colorspace; /* YUV matrix; unspecified: BT.601 */
} vidi_picture;

/* Scaler cache and rotation scratch; zero-initialise, free with
 * vidi_converter_free. */
typedef struct vidi_converter {
    struct SwsContext *sws;
    int key[7]; /* what c->sws was made for: sizes, formats, range/matrix, flags */
    uint8_t *tmp;
    size_t tmp_size;
} vidi_converter;

/* Converts pic to out (size per params, rotated clockwise by `rotation`
 * degrees after scaling); pts and index are left for the caller. */
vidi_status vidi_convert_picture(vidi_converter *c, const vidi_picture *pic, int rotation,
                                 const vidi_decoder_params *params, const char *label, int64_t index,
                                 vidi_frame *out);
void vidi_converter_free(vidi_converter *c);

#endif
