/* vidi — video decoding: one frame type, one decoder API, two backends
 * (FFmpeg: libavformat/libavcodec; GStreamer: uridecodebin ! appsink in
 * the decoder's native format), one shared conversion to RGB (swscale).
 *
 * Frames are numbered in presentation order: index i is the i-th frame when
 * the stream is sorted by presentation timestamp, so variable-frame-rate
 * video is indexed by what a viewer sees, not by decode order or by
 * duration * fps. Timestamps are seconds from the start of the stream.
 *
 * Typical use:
 *   vidi_decoder_params p = vidi_decoder_default_params();
 *   p.shorter_side = 256;
 *   vidi_decoder *dec;
 *   if (vidi_decoder_open("clip.mp4", &p, &dec) != VIDI_OK) ... vidi_last_error()
 *   int64_t idx[] = {0, 40, 80};
 *   vidi_frame frames[3];
 *   vidi_decoder_read_indices(dec, idx, 3, frames);
 *   ... vidi_frame_free(&frames[i]); vidi_decoder_close(dec);
 *
 * A handle is used by one thread at a time. Errors name the input and the
 * reason (vidi_last_error()); the library never prints. */
#ifndef VIDI_DECODE_H
#define VIDI_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include "vidi/image.h"
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vidi_decoder_backend {
    VIDI_DECODER_FFMPEG = 0,
    VIDI_DECODER_GST,
} vidi_decoder_backend;

/* One decoded frame: packed RGB, 8 bits per channel, rows of width*3 bytes,
 * already rotated upright when the stream carries rotation metadata. */
typedef struct vidi_frame {
    int width, height;
    uint8_t *rgb;
    double pts;    /* seconds from the start of the stream */
    int64_t index; /* presentation-order frame number */
} vidi_frame;

/* Hardware decoding (FFmpeg backend). */
typedef enum vidi_hwaccel { VIDI_HWACCEL_NONE = 0, VIDI_HWACCEL_CUDA } vidi_hwaccel;

typedef struct vidi_decoder_params {
    vidi_decoder_backend backend;
    int threads;             /* decoder threads (frame threading); 0: FFmpeg/GStreamer decide */
    int out_width, out_height; /* both > 0: scale every frame to exactly this size */
    int shorter_side;        /* > 0 (and no out size): shorter side to this, aspect kept */
    vidi_resample resample;  /* scaling filter (nearest, bilinear, bicubic, lanczos, box/area) */
    double timeout_s;        /* network: deadline for opening and for each read (default 5) */
    int64_t max_pixels;      /* frames larger than this are refused (0: 1<<26) */
    int no_rotate;           /* 1: ignore rotation metadata, return coded orientation */
    vidi_hwaccel hwaccel;    /* FFmpeg: VIDI_HWACCEL_CUDA decodes on the GPU (NVDEC) when it can,
                              * else in software; info.hwaccel says which and why */
} vidi_decoder_params;

typedef struct vidi_video_info {
    double duration;         /* seconds; 0 when unknown */
    int64_t frame_count;     /* see frame_count_exact */
    int frame_count_exact;   /* 1: counted (or from the container's sample table); 0: duration * fps */
    double fps;              /* average frame rate; 0 when unknown */
    int width, height;       /* displayed size (after rotation) */
    int coded_width, coded_height;
    int rotation;            /* clockwise degrees applied to get upright frames: 0, 90, 180, 270 */
    int bit_depth;           /* bits per component of the decoded format (8, 10, ...) */
    char codec[32];          /* "h264", "hevc", "vp9", "mjpeg", ... */
    char pix_fmt[32];        /* decoder's pixel format, e.g. "yuv420p10le", "yuvj420p" */
    const char *backend;     /* "ffmpeg" or "gst" */
    char hwaccel[192];       /* "cuda" (NVDEC), "none", or "none (cuda: REASON)" when asked for but unavailable */
} vidi_video_info;

typedef struct vidi_decoder vidi_decoder;

vidi_decoder_params vidi_decoder_default_params(void);

/* Backend name <-> enum ("ffmpeg", "gst"). parse returns VIDI_ERR_ARG on an
 * unknown name; VIDI_ERR_UNSUPPORTED when naming gst in a build without it. */
vidi_status vidi_decoder_backend_parse(const char *name, vidi_decoder_backend *out);
const char *vidi_decoder_backend_name(vidi_decoder_backend backend);
int vidi_decoder_backend_available(vidi_decoder_backend backend);

/* url: a path, file:// or a network URL (http, https, rtsp, ... whatever the
 * backend reads). params may be NULL (defaults). Fails with VIDI_ERR_IO
 * (unreadable, connection refused, timed out), VIDI_ERR_FORMAT (not a
 * video container), VIDI_ERR_UNSUPPORTED (no video stream, unknown codec,
 * size out of range) or VIDI_ERR_DECODE. */
vidi_status vidi_decoder_open(const char *url, const vidi_decoder_params *params, vidi_decoder **out);

/* FFmpeg backend over an in-memory file (not copied: it must outlive the
 * handle). label names it in messages. Used by the fuzzer and by tests. */
vidi_status vidi_decoder_open_memory(const void *data, size_t size, const char *label,
                                     const vidi_decoder_params *params, vidi_decoder **out);

void vidi_decoder_close(vidi_decoder *dec);

const vidi_video_info *vidi_decoder_info(const vidi_decoder *dec);
/* The url or memory label the decoder was opened with (for messages). */
const char *vidi_decoder_input(const vidi_decoder *dec);

/* Exact number of frames. FFmpeg: reads the packet index once (demux only,
 * no decoding) and caches it; info->frame_count becomes exact. GStreamer:
 * decodes the whole stream once. */
vidi_status vidi_decoder_count_frames(vidi_decoder *dec, int64_t *count);

/* Next frame in presentation order. *got = 0 at the end of the stream
 * (frame untouched). After read_indices/read_time, continues after the
 * last frame returned. */
vidi_status vidi_decoder_next(vidi_decoder *dec, vidi_frame *frame, int *got);

/* Frames at the given indices (any order, repeats allowed), into frames[0..n).
 * FFmpeg seeks to the keyframe at or before each target and decodes forward,
 * so sparse indices do not decode the whole file; indices in several keyframe
 * intervals are decoded by up to `threads` parallel workers, with frames
 * identical to sequential decoding. An index past the end is
 * VIDI_ERR_ARG. A frame the decoder could not produce (corrupt data) is
 * replaced by the nearest earlier decoded frame and counted in
 * vidi_decoder_frames_lost(). On failure no frames are left allocated. */
vidi_status vidi_decoder_read_indices(vidi_decoder *dec, const int64_t *indices, int n, vidi_frame *frames);

/* The frame shown at `seconds` (the last frame with pts <= seconds). */
vidi_status vidi_decoder_read_time(vidi_decoder *dec, double seconds, vidi_frame *frame);

/* Frames that were in the stream but could not be decoded so far (corrupt or
 * missing data), including frames the container announced but the file
 * does not hold (truncation), once the end has been reached. */
int64_t vidi_decoder_frames_lost(const vidi_decoder *dec);

void vidi_frame_free(vidi_frame *frame);

#ifdef __cplusplus
}
#endif
#endif
