/* GstVidiClassify streaming side: each frame-stride-th buffer is converted,
 * preprocessed into the window ring, and a window is cut when it is full and
 * window-stride frames have arrived (run here in sync mode, handed to the
 * worker in async mode); pending results go on the next buffer as meta. EOS
 * classifies the tail; a flush empties the ring (see gstvidiclassify.c). */
#include "gstvidiclassify_priv.h"

#include "gstvidimeta.h"

/* Converts the mapped frame to RGB at the model's resize size (the
 * decoders' conversion, decode/convert.c), then crops and normalises. */
static gboolean
preprocess_into (GstVidiClassify * self, GstVideoFrame * frame, gfloat * dst)
{
  GstVidiClassifyPrivate *p = PRIV (self);
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  vidi_picture pic = { .width = w, .height = h, .format = p->av_format, .full_range = p->full_range,
    .colorspace = p->colorspace };
  vidi_frame rgb;
  vidi_status st;

  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES (frame); i++) {
    pic.data[i] = GST_VIDEO_FRAME_PLANE_DATA (frame, i);
    pic.linesize[i] = GST_VIDEO_FRAME_PLANE_STRIDE (frame, i);
  }
  st = vidi_convert_picture (&p->convert, &pic, 0, &p->convert_params, GST_ELEMENT_NAME (self), 0, &rgb);
  if (!st) {
    st = vidi_frame_preprocessor_run (p->pre, rgb.rgb, rgb.width, rgb.height, rgb.width * 3, dst);
    vidi_frame_free (&rgb);
  }
  if (st != VIDI_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot preprocess a %dx%d frame.", w, h), ("%s", vidi_last_error ()));
    return FALSE;
  }
  return TRUE;
}

static void
attach_pending (GstVidiClassify * self, GstBuffer * buf)
{
  GstVidiClassifyPrivate *p = PRIV (self);
  GstVidiClassificationMeta *m;

  g_mutex_lock (&p->lock);
  if (p->have_pending) {
    m = gst_buffer_add_vidi_classification_meta (buf, p->pending_n, (const gchar * const *) p->pending_labels,
        p->pending_scores);
    if (m) {
      m->start_pts = p->pending_job.start_pts;
      m->end_pts = p->pending_job.end_pts;
      m->latency = p->pending_latency;
      m->window = p->pending_job.window;
      m->skipped_windows = p->pending_skipped;
    }
    gst_vidi_classify_clear_pending (p);
  }
  g_mutex_unlock (&p->lock);
}

GstFlowReturn
gst_vidi_classify_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstVidiClassify *self = GST_VIDI_CLASSIFY (trans);
  GstVidiClassifyPrivate *p = PRIV (self);
  GstVideoFrame frame;
  gint frame_stride, window_stride;
  gboolean async, window_ends, ok;
  guint64 n;
  VidiJob job;

  GST_OBJECT_LOCK (self);
  frame_stride = p->frame_stride;
  window_stride = p->window_stride > 0 ? p->window_stride : p->window_frames;
  async = p->worker != NULL;
  GST_OBJECT_UNLOCK (self);

  if (p->n_buffers++ % frame_stride != 0)
    goto done;
  if (!gst_video_frame_map (&frame, &p->info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Invalid video buffer."),
        ("buffer of %" G_GSIZE_FORMAT " bytes does not hold a %dx%d %s frame (%" G_GSIZE_FORMAT " bytes)",
            gst_buffer_get_size (buf), p->info.width, p->info.height,
            gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&p->info)), GST_VIDEO_INFO_SIZE (&p->info)));
    return GST_FLOW_ERROR;
  }
  n = p->n_sampled;
  /* The ring slot is free: the worker only reads job_frames. */
  ok = preprocess_into (self, &frame, p->ring + (gsize) (n % p->window_frames) * p->frame_floats);
  gst_video_frame_unmap (&frame);
  if (!ok)
    return GST_FLOW_ERROR;

  g_mutex_lock (&p->lock);
  p->ring_pts[n % p->window_frames] = GST_BUFFER_PTS (buf);
  p->n_sampled = ++n;
  window_ends = n >= (guint64) p->window_frames
      && (p->last_window_n == 0 || n - p->last_window_n >= (guint64) window_stride);
  if (window_ends) {
    p->last_window_n = n;
    job.end_n = n;
    job.window = p->windows++;
    job.start_pts = p->ring_pts[(n - p->window_frames) % p->window_frames];
    job.end_pts = GST_BUFFER_PTS (buf);
    job.end_running = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
    job.arrival_us = g_get_monotonic_time ();
    job.gen = p->gen;
    job.tail = FALSE;
    if (async && p->busy) {
      p->skipped++;
      GST_LOG_OBJECT (self, "worker busy: window %" G_GUINT64_FORMAT " skipped", job.window);
      window_ends = FALSE;
    } else {
      gst_vidi_classify_copy_window_locked (p, n);
      if (async) {
        p->job = job;
        p->busy = p->job_ready = TRUE;
        g_cond_signal (&p->cond);
        window_ends = FALSE;
      }
    }
  }
  g_mutex_unlock (&p->lock);
  if (window_ends && !gst_vidi_classify_run_job (self, &job))
    return GST_FLOW_ERROR;
done:
  attach_pending (self, buf);
  return GST_FLOW_OK;
}

/* EOS: wait for the window in flight, then classify the tail. */
void
gst_vidi_classify_finish_stream (GstVidiClassify * self)
{
  GstVidiClassifyPrivate *p = PRIV (self);
  VidiJob job;
  gboolean tail = FALSE;

  g_mutex_lock (&p->lock);
  gst_vidi_classify_wait_idle_locked (p);
  /* Async: a result that came after the last buffer goes down as an event. */
  if (p->have_pending) {
    GstStructure *s = gst_vidi_classify_result_structure (self, &p->pending_job, p->pending_n, p->pending_labels,
        p->pending_scores, p->pending_latency, p->pending_skipped);
    gst_vidi_classify_clear_pending (p);
    g_mutex_unlock (&p->lock);
    gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self), gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, s));
    g_mutex_lock (&p->lock);
  }
  if (p->n_sampled > 0 && p->n_sampled < (guint64) p->window_frames) {
    g_mutex_unlock (&p->lock);
    GST_ELEMENT_WARNING (self, STREAM, DECODE, ("Stream too short to classify."),
        ("stream ended after %" G_GUINT64_FORMAT " sampled frames; a window needs %d", p->n_sampled,
            p->window_frames));
    return;
  }
  if (GST_VIDI_CLASSIFY_GET_CLASS (self)->classify_tail && p->n_sampled > p->last_window_n) {
    guint64 n = p->n_sampled;

    tail = TRUE;
    job.end_n = n;
    job.window = p->windows++;
    job.start_pts = p->ring_pts[(n - p->window_frames) % p->window_frames];
    job.end_pts = p->ring_pts[(n - 1) % p->window_frames];
    job.end_running = GST_CLOCK_TIME_NONE;
    job.arrival_us = g_get_monotonic_time ();
    job.gen = p->gen;
    job.tail = TRUE;
    p->last_window_n = n;
    gst_vidi_classify_copy_window_locked (p, n);
  }
  g_mutex_unlock (&p->lock);
  if (tail)
    gst_vidi_classify_run_job (self, &job);
}

void
gst_vidi_classify_reset_stream (GstVidiClassify * self)
{
  GstVidiClassifyPrivate *p = PRIV (self);

  g_mutex_lock (&p->lock);
  p->gen++;                     /* results in flight are dropped */
  p->n_buffers = p->n_sampled = p->last_window_n = 0;
  gst_vidi_classify_clear_pending (p);
  g_mutex_unlock (&p->lock);
}
