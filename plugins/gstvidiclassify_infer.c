/* GstVidiClassify: running one window through the model and publishing the
 * result (pending meta, "vidi-classification" message, tail event), and the
 * async worker thread (see gstvidiclassify.c for the overall flow). */
#include "gstvidiclassify_priv.h"

#include <string.h>

#include "pipeline/classify.h"

static const gchar *
result_label (GstVidiClassify * self, gint i)
{
  GstVidiClassifyPrivate *p = PRIV (self);

  if (p->file_labels && i < p->n_file_labels)
    return p->file_labels[i];
  return GST_VIDI_CLASSIFY_GET_CLASS (self)->label (self, i);
}

void
gst_vidi_classify_clear_pending (GstVidiClassifyPrivate * p)
{
  g_strfreev (p->pending_labels);
  g_free (p->pending_scores);
  p->pending_labels = NULL;
  p->pending_scores = NULL;
  p->have_pending = FALSE;
}

/* The structure of the "vidi-classification" message and tail event. */
GstStructure *
gst_vidi_classify_result_structure (GstVidiClassify * self, const VidiJob * job, guint n, gchar ** labels, const gdouble * scores,
    guint64 latency, guint64 skipped)
{
  GValue arr = G_VALUE_INIT, v = G_VALUE_INIT;
  GstStructure *s;
  GstClock *clock;

  g_value_init (&arr, GST_TYPE_ARRAY);
  for (guint i = 0; i < n; i++) {
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, scores[i]);
    gst_value_array_append_and_take_value (&arr, &v);
  }
  s = gst_structure_new ("vidi-classification",
      "labels", G_TYPE_STRV, labels,
      "start-pts", G_TYPE_UINT64, (guint64) job->start_pts,
      "end-pts", G_TYPE_UINT64, (guint64) job->end_pts,
      "latency", G_TYPE_UINT64, latency,
      "skipped-windows", G_TYPE_UINT64, skipped,
      "window", G_TYPE_UINT64, job->window, "final", G_TYPE_BOOLEAN, job->tail, NULL);
  gst_structure_take_value (s, "scores", &arr);
  /* Capture -> result on the pipeline clock: meaningful for live sources,
   * whose buffers are stamped with their capture running time. */
  clock = gst_element_get_clock (GST_ELEMENT (self));
  if (clock && GST_CLOCK_TIME_IS_VALID (job->end_running)) {
    GstClockTime now = gst_clock_get_time (clock), base = gst_element_get_base_time (GST_ELEMENT (self));
    gst_structure_set (s, "capture-latency", G_TYPE_INT64,
        (gint64) (now - base) - (gint64) job->end_running, NULL);
  }
  if (clock)
    gst_object_unref (clock);
  return s;
}

/* Runs one window (streaming thread in sync mode, worker in async mode,
 * never both at once) and publishes the result. */
gboolean
gst_vidi_classify_run_job (GstVidiClassify * self, const VidiJob * job)
{
  GstVidiClassifyPrivate *p = PRIV (self);
  GstVidiClassifyClass *klass = GST_VIDI_CLASSIFY_GET_CLASS (self);
  gint n_new, k;
  vidi_status st;
  vidi_topk *top;
  gchar **labels;
  gdouble *scores;
  guint n = 0;
  guint64 latency, skipped;
  gboolean silent, stale;
  gdouble threshold;

  if (job->tail || job->gen != p->model_gen || p->model_n == 0 || job->end_n - p->model_n >= (guint64) p->window_frames)
    n_new = -1;
  else
    n_new = (gint) (job->end_n - p->model_n);
  st = klass->infer (self, p->job_frames, n_new, p->logits);
  p->model_gen = job->gen;
  p->model_n = job->tail ? 0 : job->end_n;      /* a tail window is not the stream's next step */
  if (st != VIDI_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed."), ("%s", vidi_last_error ()));
    return FALSE;
  }
  latency = (guint64) (g_get_monotonic_time () - job->arrival_us) * 1000;

  GST_OBJECT_LOCK (self);
  k = MIN (p->top_k, p->num_labels);
  silent = p->silent;
  threshold = p->threshold;
  GST_OBJECT_UNLOCK (self);
  top = g_new (vidi_topk, k);
  vidi_softmax_topk (p->logits, p->num_labels, top, k);
  labels = g_new0 (gchar *, k + 1);
  scores = g_new (gdouble, k);
  for (gint i = 0; i < k; i++) {
    if (top[i].score < threshold)
      break;
    labels[n] = g_strdup (result_label (self, top[i].index));
    scores[n++] = top[i].score;
  }
  g_free (top);

  g_mutex_lock (&p->lock);
  stale = job->gen != p->gen;
  skipped = p->skipped;
  if (!stale && !job->tail) {
    gst_vidi_classify_clear_pending (p);
    p->have_pending = TRUE;
    p->pending_job = *job;
    p->pending_n = n;
    p->pending_labels = g_strdupv (labels);
    p->pending_scores = g_memdup2 (scores, sizeof (gdouble) * MAX (n, 1));
    p->pending_latency = latency;
    p->pending_skipped = skipped;
  }
  g_mutex_unlock (&p->lock);

  if (!stale) {
    GST_DEBUG_OBJECT (self, "window %" G_GUINT64_FORMAT ": %s %.3f, latency %" G_GUINT64_FORMAT " us",
        job->window, n ? labels[0] : "-", n ? scores[0] : 0.0, latency / 1000);
    if (!silent)
      gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self),
              gst_vidi_classify_result_structure (self, job, n, labels, scores, latency, skipped)));
    if (job->tail)
      gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
              gst_vidi_classify_result_structure (self, job, n, labels, scores, latency, skipped)));
  }
  g_strfreev (labels);
  g_free (scores);
  return TRUE;
}

gpointer
gst_vidi_classify_worker_main (gpointer data)
{
  GstVidiClassify *self = data;
  GstVidiClassifyPrivate *p = PRIV (self);

  g_mutex_lock (&p->lock);
  while (!p->stopping) {
    VidiJob job;

    if (!p->job_ready) {
      g_cond_wait (&p->cond, &p->lock);
      continue;
    }
    job = p->job;
    p->job_ready = FALSE;
    g_mutex_unlock (&p->lock);
    gst_vidi_classify_run_job (self, &job);
    g_mutex_lock (&p->lock);
    p->busy = FALSE;
    g_cond_broadcast (&p->cond);
  }
  g_mutex_unlock (&p->lock);
  return NULL;
}

/* Waits for the worker to finish what it has (lock held). */
void
gst_vidi_classify_wait_idle_locked (GstVidiClassifyPrivate * p)
{
  while (p->busy)
    g_cond_wait (&p->cond, &p->lock);
}

/* Copies the window ending at sampled frame n (exclusive) into job_frames,
 * oldest first (lock held). */
void
gst_vidi_classify_copy_window_locked (GstVidiClassifyPrivate * p, guint64 n)
{
  for (gint i = 0; i < p->window_frames; i++) {
    guint64 idx = n - p->window_frames + i;
    memcpy (p->job_frames + (gsize) i * p->frame_floats,
        p->ring + (gsize) (idx % p->window_frames) * p->frame_floats, sizeof (gfloat) * p->frame_floats);
  }
}
