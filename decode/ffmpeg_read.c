/* FFmpeg backend, reading: the decode loop, keyframe seeks with decode-forward
 * to the exact target, lost-frame accounting, and conversion to upright RGB
 * at the requested size. */
#include <stdlib.h>
#include <string.h>

#include "decode/ffmpeg.h"

/* A decoder that keeps failing without producing anything is a broken
 * stream, not a slow one: give up rather than spin. */
#define MAX_CONSECUTIVE_ERRORS 10000
/* Seek retries (each one keyframe earlier) when a seek lands after the target. */
#define MAX_SEEK_RETRIES 3

int ff_decode_frame(ff_decoder *ff, AVFrame *out) {
    if (ff->has_pending) {
        av_frame_unref(out);
        av_frame_move_ref(out, ff->pending);
        ff->has_pending = 0;
        return 1;
    }
    int errors = 0;
    for (;;) {
        int err = avcodec_receive_frame(ff->codec, out);
        if (err == 0) return 1;
        if (err == AVERROR_EOF) return 0;
        if (err != AVERROR(EAGAIN)) {
            ff->decode_errors++;
            if (++errors > MAX_CONSECUTIVE_ERRORS) return 0;
            continue;
        }
        if (ff->draining) return 0; /* EAGAIN after a flush request: nothing more */
        ff_arm(ff);
        err = av_read_frame(ff->fmt, ff->pkt);
        if (err == AVERROR_EXIT) {
            ff_fail(ff, VIDI_ERR_IO, "cannot read", err);
            return -1;
        }
        if (err < 0) {
            /* End of file, or a read error from truncation: drain what the
             * decoder holds and stop there. */
            ff->draining = 1;
            avcodec_send_packet(ff->codec, NULL);
            continue;
        }
        if (ff->pkt->stream_index == ff->stream) {
            if (ff->skip_before != AV_NOPTS_VALUE) {
                int64_t ts = ff->pkt->pts != AV_NOPTS_VALUE ? ff->pkt->pts : ff->pkt->dts;
                ff->codec->skip_frame = ts != AV_NOPTS_VALUE && ts < ff->skip_before ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
            }
            err = avcodec_send_packet(ff->codec, ff->pkt);
            if (err < 0 && err != AVERROR(EAGAIN)) {
                ff->decode_errors++;
                if (++errors > MAX_CONSECUTIVE_ERRORS) {
                    av_packet_unref(ff->pkt);
                    return 0;
                }
            }
        }
        av_packet_unref(ff->pkt);
    }
}

vidi_status ff_seek(ff_decoder *ff, int64_t ts) {
    ff_arm(ff);
    int err = av_seek_frame(ff->fmt, ff->stream, ts, AVSEEK_FLAG_BACKWARD);
    if (err < 0 && ts != INT64_MIN) err = av_seek_frame(ff->fmt, ff->stream, INT64_MIN, AVSEEK_FLAG_BACKWARD);
    if (err < 0) err = av_seek_frame(ff->fmt, -1, 0, AVSEEK_FLAG_BYTE);
    if (err < 0) return ff_fail(ff, VIDI_ERR_DECODE, "cannot seek", err);
    avcodec_flush_buffers(ff->codec);
    if (ff->has_pending) av_frame_unref(ff->pending);
    ff->has_pending = 0;
    ff->draining = 0;
    ff->contiguous = 0;
    ff->last_out = -1;
    ff->seq_count = 0;
    return VIDI_OK;
}

static int64_t frame_ts(const AVFrame *f) {
    return f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
}

int64_t ff_frame_index(ff_decoder *ff, const AVFrame *f) {
    if (!ff->indexed) return ff->seq_count;
    int64_t ts = frame_ts(f);
    if (ts == AV_NOPTS_VALUE) return ff->last_out + 1;
    /* Last entry <= ts: exact for every frame the demuxer listed. */
    int64_t lo = 0, hi = ff->n_ts - 1;
    if (ff->n_ts == 0 || ts < ff->ts[0]) return 0;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (ff->ts[mid] <= ts) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

double ff_frame_seconds(const ff_decoder *ff, const AVFrame *f) {
    int64_t ts = frame_ts(f);
    if (ts == AV_NOPTS_VALUE) return 0.0;
    return (double)(ts - ff->origin_ts) * av_q2d(ff->tb);
}

vidi_status ff_convert(ff_decoder *ff, const AVFrame *hw_or_sw, int64_t index, vidi_frame *out) {
    const AVFrame *f = ff_hw_frame(ff, hw_or_sw);
    if (!f) return VIDI_ERR_DECODE;
    vidi_picture pic = {
        .width = f->width,
        .height = f->height,
        .format = (enum AVPixelFormat)f->format,
        .full_range = f->color_range == AVCOL_RANGE_JPEG,
        .colorspace = f->colorspace,
    };
    for (int i = 0; i < 4; i++) pic.data[i] = f->data[i], pic.linesize[i] = f->linesize[i];
    vidi_status st = vidi_convert_picture(&ff->conv, &pic, ff->rotation, &ff->dec->params, ff->dec->label, index, out);
    if (st == VIDI_OK) out->pts = ff_frame_seconds(ff, hw_or_sw);
    return st;
}

static void mark_lost(ff_decoder *ff, int64_t from, int64_t to) {
    if (!ff->indexed) return;
    for (int64_t i = from; i <= to && i < ff->n_ts; i++)
        if (i >= 0 && !ff->lost_mark[i]) ff->lost_mark[i] = 1, ff->dec->lost++;
}

/* The decode loop plus bookkeeping: index of the frame, gaps (frames the
 * decoder skipped while decoding contiguously) counted as lost. */
static int next_decoded(ff_decoder *ff, AVFrame *f, int64_t *index) {
    int got = ff_decode_frame(ff, f);
    if (got <= 0) {
        if (got == 0 && ff->contiguous && ff->indexed && ff->skip_before == AV_NOPTS_VALUE)
            mark_lost(ff, ff->last_out + 1, ff->n_ts - 1);
        if (got == 0 && !ff->indexed && ff->decode_errors > ff->dec->lost) ff->dec->lost = ff->decode_errors;
        return got;
    }
    int64_t i = ff_frame_index(ff, f);
    /* Gaps are lost frames, unless frames were skipped on purpose. */
    if (ff->indexed && ff->contiguous && i > ff->last_out + 1 && ff->skip_before == AV_NOPTS_VALUE)
        mark_lost(ff, ff->last_out + 1, i - 1);
    if (ff->indexed && ff->contiguous && i <= ff->last_out) i = ff->last_out + 1; /* duplicate timestamp */
    ff->last_out = i;
    ff->contiguous = 1;
    ff->seq_count++;
    *index = i;
    return 1;
}

static int64_t keyframe_at_or_before(const ff_decoder *ff, int64_t t) {
    while (t > 0 && !ff->key[t]) t--;
    return t > 0 ? t : 0;
}

/* Puts a decoded frame back so the next read starts with it. */
static void push_back(ff_decoder *ff, AVFrame *f, int64_t index) {
    av_frame_unref(ff->pending);
    av_frame_move_ref(ff->pending, f);
    ff->has_pending = 1;
    ff->last_out = index - 1;
    ff->seq_count--;
}

vidi_status ff_read_indexed(ff_decoder *ff, int64_t t, vidi_frame *out) {
    AVFrame *cand = av_frame_alloc();
    if (!cand) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", ff->dec->label);
    int64_t cand_index = -1, i = -1;
    vidi_status st = VIDI_OK;
    ff->resume_at = -1;
    int positioned = ff->contiguous && ff->last_out < t && ff->last_out + 1 >= keyframe_at_or_before(ff, t);
    if (!ff->contiguous && ff->has_pending && ff->last_out == -1) {
        /* Just opened: the pending first frame sits at the start. */
        positioned = keyframe_at_or_before(ff, t) == 0;
        ff->contiguous = positioned;
    }
    if (!positioned) {
        int64_t kf = keyframe_at_or_before(ff, t);
        for (int attempt = 0;; attempt++) {
            if ((st = ff_seek(ff, ff->ts[kf]))) goto done;
            int got = next_decoded(ff, ff->frame, &i);
            if (got < 0) { st = VIDI_ERR_IO; goto done; }
            if (got == 0) break;
            if (i <= t || kf == 0) {
                push_back(ff, ff->frame, i);
                ff->contiguous = 1;
                break;
            }
            /* Landed after the target (imprecise container index): go one
             * keyframe earlier, and after a few tries from the start. */
            kf = attempt >= MAX_SEEK_RETRIES ? 0 : keyframe_at_or_before(ff, kf - 1);
        }
    }
    ff->skip_before = ff->ts[t];
    for (;;) {
        int got = next_decoded(ff, ff->frame, &i);
        if (got < 0) { st = VIDI_ERR_IO; goto done; }
        if (got == 0) {
            if (cand_index < 0) {
                st = vidi_set_error(VIDI_ERR_DECODE, "%s: frame %lld could not be decoded", ff->dec->label,
                                    (long long)t);
                goto done;
            }
            mark_lost(ff, t, t);
            st = ff_convert(ff, cand, cand_index, out);
            goto done;
        }
        if (i == t) {
            st = ff_convert(ff, ff->frame, i, out);
            goto done;
        }
        if (i < t) {
            av_frame_unref(cand);
            av_frame_move_ref(cand, ff->frame);
            cand_index = i;
            continue;
        }
        mark_lost(ff, t, t);
        if (cand_index >= 0) {
            st = ff_convert(ff, cand, cand_index, out);
        } else {
            st = ff_convert(ff, ff->frame, i, out);
            av_frame_unref(ff->frame);
            goto done;
        }
        push_back(ff, ff->frame, i);
        goto done;
    }
done:
    ff->skip_before = AV_NOPTS_VALUE;
    ff->codec->skip_frame = AVDISCARD_DEFAULT;
    av_frame_free(&cand);
    return st;
}

/* Unindexed input (non-seekable, or no timestamps): frames are numbered by
 * counting from the start, so going back means starting over. */
static vidi_status read_counted(ff_decoder *ff, int64_t t, vidi_frame *out) {
    vidi_status st;
    if (t < ff->seq_count) {
        if (!ff->fmt->pb || !(ff->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL))
            return vidi_set_error(VIDI_ERR_UNSUPPORTED, "%s: cannot go back to frame %lld in a non-seekable stream",
                                  ff->dec->label, (long long)t);
        if ((st = ff_seek(ff, INT64_MIN))) return st;
    }
    AVFrame *cand = av_frame_alloc();
    if (!cand) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", ff->dec->label);
    int64_t cand_index = -1, i = -1;
    st = VIDI_OK;
    for (;;) {
        int got = next_decoded(ff, ff->frame, &i);
        if (got < 0) { st = VIDI_ERR_IO; break; }
        if (got == 0) {
            if (cand_index < 0) {
                st = vidi_set_error(VIDI_ERR_ARG, "%s: frame index %lld is past the end (%lld frames)",
                                    ff->dec->label, (long long)t, (long long)ff->seq_count);
            } else {
                ff->dec->lost++;
                st = ff_convert(ff, cand, cand_index, out);
            }
            break;
        }
        if (i == t) {
            st = ff_convert(ff, ff->frame, i, out);
            break;
        }
        av_frame_unref(cand);
        av_frame_move_ref(cand, ff->frame);
        cand_index = i;
    }
    av_frame_free(&cand);
    return st;
}

static vidi_status ff_read_sorted(vidi_decoder *dec, const int64_t *indices, int n, vidi_frame *frames) {
    ff_decoder *ff = dec->impl;
    if (ff->indexed && indices[n - 1] >= ff->n_ts)
        return vidi_set_error(VIDI_ERR_ARG, "%s: frame index %lld is past the end (%lld frames)", dec->label,
                              (long long)indices[n - 1], (long long)ff->n_ts);
    if (ff->indexed) {
        int done = 0;
        vidi_status st = ff_read_parallel(ff, indices, n, frames, &done);
        if (st || done) return st;
    }
    for (int k = 0; k < n; k++) {
        vidi_status st = ff->indexed ? ff_read_indexed(ff, indices[k], &frames[k]) : read_counted(ff, indices[k], &frames[k]);
        if (st) return st;
    }
    return VIDI_OK;
}

static vidi_status ff_next(vidi_decoder *dec, vidi_frame *frame, int *got) {
    ff_decoder *ff = dec->impl;
    int64_t i;
    if (ff->resume_at >= 0) {
        /* A parallel read left this decoder where it was: go to the frame
         * after the last one returned (at the end, stay there). */
        if (ff->resume_at >= ff->n_ts) return VIDI_OK;
        vidi_status st = ff_read_indexed(ff, ff->resume_at, frame);
        if (st == VIDI_OK) *got = 1;
        return st;
    }
    if (ff->has_pending && !ff->contiguous && ff->last_out == -1) ff->contiguous = 1;
    int r = next_decoded(ff, ff->frame, &i);
    if (r < 0) return VIDI_ERR_IO;
    if (r == 0) return VIDI_OK;
    vidi_status st = ff_convert(ff, ff->frame, i, frame);
    av_frame_unref(ff->frame);
    if (st == VIDI_OK) *got = 1;
    return st;
}

static vidi_status ff_read_time(vidi_decoder *dec, double seconds, vidi_frame *frame) {
    ff_decoder *ff = dec->impl;
    if (ff->indexed) {
        double target = seconds / av_q2d(ff->tb) + (double)ff->origin_ts;
        int64_t lo = 0, hi = ff->n_ts - 1;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo + 1) / 2;
            if ((double)ff->ts[mid] <= target + 0.5) lo = mid;
            else hi = mid - 1;
        }
        return ff_read_indexed(ff, lo, frame);
    }
    /* Counting mode: decode from the start, keep the last frame not after `seconds`. */
    vidi_status st = ff_seek(ff, INT64_MIN);
    if (st) return st;
    AVFrame *cand = av_frame_alloc();
    if (!cand) return vidi_set_error(VIDI_ERR_NOMEM, "%s: out of memory", dec->label);
    int64_t cand_index = -1, i;
    for (;;) {
        int got = next_decoded(ff, ff->frame, &i);
        if (got < 0) { st = VIDI_ERR_IO; break; }
        if (got == 0 || (cand_index >= 0 && ff_frame_seconds(ff, ff->frame) > seconds)) {
            st = cand_index >= 0 ? ff_convert(ff, cand, cand_index, frame)
                                 : vidi_set_error(VIDI_ERR_DECODE, "%s: no frame at %g s", dec->label, seconds);
            break;
        }
        av_frame_unref(cand);
        av_frame_move_ref(cand, ff->frame);
        cand_index = i;
    }
    av_frame_unref(ff->frame);
    av_frame_free(&cand);
    return st;
}

static vidi_status ff_count_frames(vidi_decoder *dec, int64_t *count) {
    ff_decoder *ff = dec->impl;
    if (ff->indexed) {
        *count = ff->n_ts;
        return VIDI_OK;
    }
    /* No index (non-seekable or no timestamps): the container's count or estimate. */
    *count = dec->info.frame_count;
    return VIDI_OK;
}

const vidi_decoder_ops vidi_ffmpeg_ops = {
    .close = ff_close,
    .count_frames = ff_count_frames,
    .next = ff_next,
    .read_sorted = ff_read_sorted,
    .read_time = ff_read_time,
};
