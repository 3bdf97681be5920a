/* Private to decode/: the backend vtable behind vidi_decoder and the helpers
 * every backend shares (output size, rotation, lost-frame bookkeeping). */
#ifndef VIDI_DECODE_DECODER_H
#define VIDI_DECODE_DECODER_H

#include "vidi/decode.h"

typedef struct vidi_decoder_ops {
    void (*close)(vidi_decoder *dec);
    vidi_status (*count_frames)(vidi_decoder *dec, int64_t *count);
    vidi_status (*next)(vidi_decoder *dec, vidi_frame *frame, int *got);
    /* indices: ascending, unique, each < the frame count when it is known. */
    vidi_status (*read_sorted)(vidi_decoder *dec, const int64_t *indices, int n, vidi_frame *frames);
    vidi_status (*read_time)(vidi_decoder *dec, double seconds, vidi_frame *frame);
} vidi_decoder_ops;

struct vidi_decoder {
    const vidi_decoder_ops *ops;
    void *impl;
    char *label;               /* the url or memory label, for messages */
    vidi_decoder_params params;
    vidi_video_info info;
    int64_t lost;              /* frames known undecodable, see vidi_decoder_frames_lost */
};

/* Allocates the shared part; the backend fills ops, impl and info. */
vidi_status vidi_decoder_alloc(const char *label, const vidi_decoder_params *params, vidi_decoder **out);
/* Frees the shared part only (after ops->close freed impl). */
void vidi_decoder_free_shell(vidi_decoder *dec);

/* Output size (upright orientation) for a displayed size per the params. */
void vidi_decoder_out_size(const vidi_decoder_params *p, int disp_w, int disp_h, int *out_w, int *out_h);

/* Rotates packed RGB clockwise by 0/90/180/270 degrees; dst is w x h when
 * rotation is 0/180, h x w otherwise. */
void vidi_rgb_rotate(const uint8_t *src, int w, int h, int rotation, uint8_t *dst);

/* Maximum pixels per frame for these params. */
int64_t vidi_decoder_max_pixels(const vidi_decoder_params *p);

#ifdef VIDI_HAVE_GST
vidi_status vidi_gst_open(vidi_decoder *dec, const char *url);
#endif
vidi_status vidi_ffmpeg_open(vidi_decoder *dec, const char *url);
vidi_status vidi_ffmpeg_open_memory(vidi_decoder *dec, const void *data, size_t size);

#endif
