/* vidi — video file writer: packed RGB frames in, an encoded file out
 * (libavcodec encoders, libavformat containers).
 *
 *   vidi_video_writer_params p = vidi_video_writer_default_params();
 *   p.codec = "h264"; p.width = 160; p.height = 120; p.fps_num = 12;
 *   vidi_video_writer *w;
 *   if (vidi_video_writer_open("out.mp4", &p, &w) != VIDI_OK) ...
 *   for each frame: vidi_video_writer_write_rgb(w, rgb, 0);
 *   vidi_video_writer_close(w);          // flush, trailer, rename into place
 *
 * Files appear atomically: frames go to "<path>.tmp", renamed to <path> by a
 * successful close, so a reader never sees a half-written video. On any error
 * (and on vidi_video_writer_abort) the temporary file is removed.
 *
 * Output is deterministic by default: bit-exact muxer and encoder flags and a
 * single encoder thread, so the same frames give byte-identical files. */
#ifndef VIDI_VIDEO_WRITER_H
#define VIDI_VIDEO_WRITER_H

#include <stdint.h>
#include "vidi/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vidi_video_writer vidi_video_writer;

typedef struct vidi_video_writer_params {
    /* "h264" (libx264), "vp9" (libvpx-vp9), "mjpeg", "mpeg4" or "gif". */
    const char *codec;
    /* Container short name ("mp4", "webm", "avi", "matroska", "gif"); NULL:
     * guessed from the path's extension. */
    const char *format;
    int width, height;          /* 4:2:0 codecs need both even */
    int fps_num, fps_den;       /* frame rate fps_num / fps_den */
    /* Constant quality in the codec's own scale: crf for h264 (0-51) and vp9
     * (0-63), qscale for mjpeg and mpeg4 (2-31). -1: the codec's default
     * (h264 23, vp9 32, mjpeg/mpeg4 4). Ignored for gif. */
    int crf;
    int64_t bit_rate;           /* > 0: target bits/s instead of crf */
    int gop;                    /* keyframe interval; 0: codec default */
    /* Encoder threads. 1 (default) keeps the output byte-identical run to run;
     * more is faster but libx264 and libvpx then vary the bitstream. */
    int threads;
} vidi_video_writer_params;

/* codec "h264", 25 fps, crf -1, 1 thread, size 0x0: the caller sets the size. */
vidi_video_writer_params vidi_video_writer_default_params(void);

/* VIDI_OK when `codec` is a name this writer knows and libavcodec here has
 * its encoder; otherwise VIDI_ERR_UNSUPPORTED naming the codec and encoder. */
vidi_status vidi_video_codec_check(const char *codec);

/* The usual file extension for a codec ("mp4", "webm", "avi", "gif"), NULL
 * for an unknown codec. */
const char *vidi_video_codec_extension(const char *codec);

vidi_status vidi_video_writer_open(const char *path, const vidi_video_writer_params *params,
                                   vidi_video_writer **out);

/* One frame of packed RGB24, width x height; stride in bytes between rows
 * (0: width * 3). Frames are timestamped 0, 1, 2, ... in frame periods. */
vidi_status vidi_video_writer_write_rgb(vidi_video_writer *w, const uint8_t *rgb, int stride);

int64_t vidi_video_writer_frames(const vidi_video_writer *w);

/* Flushes the encoder, writes the trailer and moves the file into place.
 * Always frees the writer; on failure the partial file is removed. */
vidi_status vidi_video_writer_close(vidi_video_writer *w);

/* Frees the writer and removes the partial file (NULL is fine). */
void vidi_video_writer_abort(vidi_video_writer *w);

#ifdef __cplusplus
}
#endif
#endif
