/* Private to decode/: state of the FFmpeg backend, shared by ffmpeg_open.c
 * (open, I/O, timeouts, metadata, packet index) and ffmpeg_read.c (decode,
 * seek, convert). */
#ifndef VIDI_DECODE_FFMPEG_H
#define VIDI_DECODE_FFMPEG_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "decode/convert.h"
#include "decode/decoder.h"

typedef struct ff_memory {
    const uint8_t *data;
    size_t size, pos;
} ff_memory;

typedef struct ff_decoder {
    vidi_decoder *dec; /* owner: label, params, info, lost */
    AVFormatContext *fmt;
    AVIOContext *avio; /* custom in-memory I/O, NULL for files and URLs */
    ff_memory mem;
    AVCodecContext *codec;
    AVPacket *pkt;
    AVFrame *frame;   /* scratch for the decode loop */
    AVFrame *pending; /* decoded but not handed out yet */
    int has_pending;
    int stream;
    AVRational tb;
    int64_t origin_ts; /* stream timestamp that is 0 s */
    int64_t deadline_us;
    int network;
    int draining;
    int64_t decode_errors;

    /* Packet index in presentation order (built once, demux only). */
    int indexed;       /* 1: ts/key valid; 0: frames numbered by counting from the start */
    int64_t *ts;
    uint8_t *key;
    uint8_t *lost_mark;
    int64_t n_ts;

    /* Position: index of the last frame the decode loop handed out, and
     * whether decoding is contiguous from a known position (no seek since). */
    int64_t last_out;
    int contiguous;
    int64_t seq_count; /* unindexed: frames handed out since the start */
    /* While decoding forward to a target: packets before this timestamp
     * are decoded only if other frames reference them (AVDISCARD_NONREF),
     * which is what makes sparse sampling cheaper than decoding everything.
     * AV_NOPTS_VALUE: off. */
    int64_t skip_before;
    /* >= 0: after a parallel read (ffmpeg_parallel.c) the next frame is this
     * index, wherever this decoder itself stands. -1: none. */
    int64_t resume_at;
    int index_borrowed; /* ts/key belong to another ff_decoder (a worker clone) */

    vidi_converter conv;
    int rotation;

    /* NVDEC (ffmpeg_hw.c): the CUDA device and the frame frames are
     * downloaded into; hw_pix_fmt is AV_PIX_FMT_NONE without it. */
    AVBufferRef *hw_device;
    int hw_pix_fmt;
    AVFrame *sw_frame;
} ff_decoder;

/* Before avcodec_open2: when params ask for CUDA and the codec, FFmpeg and
 * the machine allow it, decode on the GPU; otherwise stay in software and
 * say why in info.hwaccel. Never fails the open. */
void ff_hw_setup(ff_decoder *ff, const AVCodec *decoder);
/* A frame in GPU memory is downloaded (NULL with the error set on failure);
 * a software frame is returned as it is. */
const AVFrame *ff_hw_frame(ff_decoder *ff, const AVFrame *f);
void ff_hw_free(ff_decoder *ff);

/* Sets the interrupt deadline timeout_s from now (before each blocking call). */
void ff_arm(ff_decoder *ff);
/* "LABEL: what: <FFmpeg reason>" with a status chosen from the error code. */
vidi_status ff_fail(ff_decoder *ff, vidi_status status, const char *what, int averr);
/* Seeks so that decoding restarts at or before timestamp ts (stream tb). */
vidi_status ff_seek(ff_decoder *ff, int64_t ts);
/* 1: a frame in `out`; 0: end of stream; <0: fatal (vidi_last_error set). */
int ff_decode_frame(ff_decoder *ff, AVFrame *out);
/* Index of a decoded frame: from the packet index, or by counting. */
int64_t ff_frame_index(ff_decoder *ff, const AVFrame *f);
double ff_frame_seconds(const ff_decoder *ff, const AVFrame *f);
vidi_status ff_convert(ff_decoder *ff, const AVFrame *f, int64_t index, vidi_frame *out);

/* Decodes forward (seeking if needed) to frame t (indexed) and converts it.
 * A missing t is replaced by the nearest earlier decoded frame, or the next. */
vidi_status ff_read_indexed(ff_decoder *ff, int64_t t, vidi_frame *out);
/* Sparse targets spanning several keyframe intervals, decoded by parallel
 * workers (one interval each at a time). *done = 0: not worth it here, the
 * caller reads sequentially. indices ascending and unique. */
vidi_status ff_read_parallel(ff_decoder *ff, const int64_t *indices, int n, vidi_frame *frames, int *done);
/* A second, independent FFmpeg decoder on the same input for a worker:
 * shares src's packet index, decodes with `threads` threads. shell (params,
 * label) is owned by the caller; free with ff_close(shell). */
vidi_status ff_open_clone(const ff_decoder *src, vidi_decoder *shell, int threads);

void ff_close(vidi_decoder *dec);

extern const vidi_decoder_ops vidi_ffmpeg_ops;

#endif
