/* GstVidiClassify (see gstvidiclassify.h).
 *
 * Frames: every frame-stride-th buffer is converted to RGB and scaled by
 * the same swscale conversion the decoders use (decode/convert.c, with the
 * sampler's decoder-side resize), cropped and normalised
 * (vidi_frame_preprocessor), so an I420 frame from decodebin becomes what
 * `vidi classify` makes of the same decoded frame; then it is written into a
 * ring of window_frames frames. A window ends when the
 * ring is full and window-stride sampled frames have arrived since the last
 * window; the buffer that brought its last frame "ends" it.
 *
 * Sync mode runs the model on the streaming thread, so that buffer carries
 * the result as meta. Async mode hands the window to one worker thread and
 * returns at once; when the worker is still busy with an earlier window the
 * new window is skipped and counted, never queued, so a live source never
 * waits. Its result goes on the first buffer after it is ready.
 *
 * EOS (classify_tail): frames after the last window are not lost; the
 * last window_frames frames are classified once more (a message and a
 * custom downstream event, no buffer left to carry meta) before EOS goes on;
 * so does an async result that became ready after the last buffer.
 * A stream shorter than one window gives no result and a warning. Flushes
 * empty the ring and discard results still in flight. */
#include "gstvidiclassify.h"

#include <string.h>

#include "decode/convert.h"
#include "gstvidimeta.h"
#include "pipeline/classify.h"

GST_DEBUG_CATEGORY_STATIC (vidi_classify_debug);
#define GST_CAT_DEFAULT vidi_classify_debug

enum {
  PROP_0,
  PROP_MODEL,
  PROP_LABELS,
  PROP_BACKEND,
  PROP_THREADS,
  PROP_FRAME_STRIDE,
  PROP_WINDOW_STRIDE,
  PROP_TOP_K,
  PROP_THRESHOLD,
  PROP_ASYNC,
  PROP_SILENT,
};

#define DEFAULT_MODEL NULL
#define DEFAULT_LABELS NULL
#define DEFAULT_BACKEND "cpu"
#define DEFAULT_THREADS 0
#define DEFAULT_FRAME_STRIDE 1
#define DEFAULT_WINDOW_STRIDE 0
#define DEFAULT_TOP_K 5
#define DEFAULT_THRESHOLD 0.0
#define DEFAULT_ASYNC FALSE
#define DEFAULT_SILENT FALSE

#define VIDI_CLASSIFY_CAPS GST_VIDEO_CAPS_MAKE ("{ RGB, RGBA, RGBx, BGRx, I420, NV12 }")

/* One window handed to the model. */
typedef struct {
  guint64 end_n;              /* sampled frames up to and including the window's last */
  guint64 window;             /* window index */
  GstClockTime start_pts, end_pts;
  GstClockTime end_running;   /* running time of the last frame (capture latency) */
  gint64 arrival_us;          /* monotonic time the last frame entered the element */
  guint gen;                  /* flush generation */
  gboolean tail;              /* EOS tail window: full restart, not meta */
} VidiJob;

typedef struct {
  /* properties (object lock) */
  gchar *model_path, *labels_path, *backend_name;
  gint threads, frame_stride, window_stride, top_k;
  gdouble threshold;
  gboolean async, silent;

  /* model, from start() to stop() */
  vidi_backend *be;
  gboolean opened;
  vidi_frame_preprocessor *pre;
  vidi_sampler_params pre_params;
  gint window_frames, num_labels, frame_w, frame_h;
  gsize frame_floats;
  gchar **file_labels;        /* labels property: one per line */
  gint n_file_labels;
  GstClockTime infer_estimate; /* one inference, measured at start */

  /* caps */
  GstVideoInfo info;
  vidi_converter convert;     /* the decoders' YUV/RGB -> RGB scaler (decode/convert.c) */
  vidi_decoder_params convert_params; /* the sampler's decoder-side resize */
  enum AVPixelFormat av_format;
  enum AVColorSpace colorspace;
  gboolean full_range;

  /* streaming state (lock) */
  GMutex lock;
  GCond cond;
  gfloat *ring;               /* [window_frames][frame_floats], slot = n % window_frames */
  GstClockTime *ring_pts;
  guint64 n_buffers, n_sampled, last_window_n, windows, skipped;
  guint gen;
  gfloat *job_frames;         /* the window, oldest first (worker's copy) */
  gfloat *logits;
  VidiJob job;
  gboolean job_ready, busy, stopping;
  GThread *worker;
  guint model_gen;            /* worker side: generation the model state belongs to */
  guint64 model_n;            /* worker side: sampled frames the model state has seen */
  /* the latest result not yet attached as meta */
  gboolean have_pending;
  VidiJob pending_job;
  guint pending_n;
  gchar **pending_labels;
  gdouble *pending_scores;
  guint64 pending_latency, pending_skipped;
} GstVidiClassifyPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (GstVidiClassify, gst_vidi_classify, GST_TYPE_BASE_TRANSFORM);

#define PRIV(self) ((GstVidiClassifyPrivate *) gst_vidi_classify_get_instance_private (GST_VIDI_CLASSIFY (self)))

static void
gst_vidi_classify_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstVidiClassifyPrivate *p = PRIV (object);

  GST_OBJECT_LOCK (object);
  switch (prop_id) {
    case PROP_MODEL:
      g_free (p->model_path);
      p->model_path = g_value_dup_string (value);
      break;
    case PROP_LABELS:
      g_free (p->labels_path);
      p->labels_path = g_value_dup_string (value);
      break;
    case PROP_BACKEND:
      g_free (p->backend_name);
      p->backend_name = g_value_dup_string (value);
      if (!p->backend_name)
        p->backend_name = g_strdup (DEFAULT_BACKEND);
      break;
    case PROP_THREADS:
      p->threads = g_value_get_int (value);
      break;
    case PROP_FRAME_STRIDE:
      p->frame_stride = g_value_get_int (value);
      break;
    case PROP_WINDOW_STRIDE:
      p->window_stride = g_value_get_int (value);
      break;
    case PROP_TOP_K:
      p->top_k = g_value_get_int (value);
      break;
    case PROP_THRESHOLD:
      p->threshold = g_value_get_double (value);
      break;
    case PROP_ASYNC:
      p->async = g_value_get_boolean (value);
      break;
    case PROP_SILENT:
      p->silent = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (object);
}

static void
gst_vidi_classify_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstVidiClassifyPrivate *p = PRIV (object);

  GST_OBJECT_LOCK (object);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, p->model_path);
      break;
    case PROP_LABELS:
      g_value_set_string (value, p->labels_path);
      break;
    case PROP_BACKEND:
      g_value_set_string (value, p->backend_name);
      break;
    case PROP_THREADS:
      g_value_set_int (value, p->threads);
      break;
    case PROP_FRAME_STRIDE:
      g_value_set_int (value, p->frame_stride);
      break;
    case PROP_WINDOW_STRIDE:
      g_value_set_int (value, p->window_stride);
      break;
    case PROP_TOP_K:
      g_value_set_int (value, p->top_k);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, p->threshold);
      break;
    case PROP_ASYNC:
      g_value_set_boolean (value, p->async);
      break;
    case PROP_SILENT:
      g_value_set_boolean (value, p->silent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (object);
}

static const gchar *
result_label (GstVidiClassify * self, gint i)
{
  GstVidiClassifyPrivate *p = PRIV (self);

  if (p->file_labels && i < p->n_file_labels)
    return p->file_labels[i];
  return GST_VIDI_CLASSIFY_GET_CLASS (self)->label (self, i);
}

static void
clear_pending (GstVidiClassifyPrivate * p)
{
  g_strfreev (p->pending_labels);
  g_free (p->pending_scores);
  p->pending_labels = NULL;
  p->pending_scores = NULL;
  p->have_pending = FALSE;
}

/* The structure of the "vidi-classification" message and tail event. */
static GstStructure *
result_structure (GstVidiClassify * self, const VidiJob * job, guint n, gchar ** labels, const gdouble * scores,
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
static gboolean
run_job (GstVidiClassify * self, const VidiJob * job)
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
    clear_pending (p);
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
              result_structure (self, job, n, labels, scores, latency, skipped)));
    if (job->tail)
      gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (self),
          gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
              result_structure (self, job, n, labels, scores, latency, skipped)));
  }
  g_strfreev (labels);
  g_free (scores);
  return TRUE;
}

static gpointer
worker_main (gpointer data)
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
    run_job (self, &job);
    g_mutex_lock (&p->lock);
    p->busy = FALSE;
    g_cond_broadcast (&p->cond);
  }
  g_mutex_unlock (&p->lock);
  return NULL;
}

/* Waits for the worker to finish what it has (lock held). */
static void
wait_idle_locked (GstVidiClassifyPrivate * p)
{
  while (p->busy)
    g_cond_wait (&p->cond, &p->lock);
}

/* Copies the window ending at sampled frame n (exclusive) into job_frames,
 * oldest first (lock held). */
static void
copy_window_locked (GstVidiClassifyPrivate * p, guint64 n)
{
  for (gint i = 0; i < p->window_frames; i++) {
    guint64 idx = n - p->window_frames + i;
    memcpy (p->job_frames + (gsize) i * p->frame_floats,
        p->ring + (gsize) (idx % p->window_frames) * p->frame_floats, sizeof (gfloat) * p->frame_floats);
  }
}

static gchar **
read_labels_file (const gchar * path, gint * n, GError ** error)
{
  gchar *text = NULL, **lines;
  gint count;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  g_free (text);
  count = g_strv_length (lines);
  while (count > 0 && lines[count - 1][0] == '\0') {   /* trailing newline(s) */
    g_free (lines[count - 1]);
    lines[--count] = NULL;
  }
  for (gint i = 0; i < count; i++)
    g_strchomp (lines[i]);
  *n = count;
  return lines;
}

static gboolean gst_vidi_classify_stop (GstBaseTransform * trans);

static gboolean
gst_vidi_classify_start (GstBaseTransform * trans)
{
  GstVidiClassify *self = GST_VIDI_CLASSIFY (trans);
  GstVidiClassifyPrivate *p = PRIV (self);
  GstVidiClassifyClass *klass = GST_VIDI_CLASSIFY_GET_CLASS (self);
  gchar *model, *labels, *backend;
  gint threads, wf = 0, nl = 0;
  GError *err = NULL;
  vidi_status st;
  gint64 t0;
  gboolean async;

  GST_OBJECT_LOCK (self);
  model = g_strdup (p->model_path);
  labels = g_strdup (p->labels_path);
  backend = g_strdup (p->backend_name);
  threads = p->threads;
  async = p->async;
  GST_OBJECT_UNLOCK (self);

  if (!model || !*model) {
    g_free (model);
    model = klass->default_model (&err);
    if (!model) {
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model given and no default model found."),
          ("%s", err->message));
      goto fail;
    }
  }
  if ((st = vidi_backend_create (backend, threads, &p->be)) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Cannot create backend '%s'.", backend), ("%s", vidi_last_error ()));
    goto fail;
  }
  if ((st = klass->open (self, model, p->be, &p->pre_params, &wf, &nl)) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Cannot load model %s.", model), ("%s", vidi_last_error ()));
    goto fail;
  }
  p->opened = TRUE;
  p->window_frames = wf;
  p->num_labels = nl;
  p->frame_w = p->pre_params.crop_w;
  p->frame_h = p->pre_params.crop_h;
  if (p->pre_params.crop == VIDI_CROP_NONE) {
    p->frame_w = p->pre_params.resize_w;
    p->frame_h = p->pre_params.resize_h;
  }
  if (p->frame_w <= 0 || p->frame_h <= 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Cannot load model %s.", model),
        ("%s: preprocessing does not give a fixed input size", model));
    goto fail;
  }
  p->frame_floats = (gsize) 3 * p->frame_w * p->frame_h;
  if ((st = vidi_frame_preprocessor_create (&p->pre_params, &p->pre)) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Bad preprocessing in model %s.", model),
        ("%s", vidi_last_error ()));
    goto fail;
  }
  if (labels && *labels) {
    p->file_labels = read_labels_file (labels, &p->n_file_labels, &err);
    if (!p->file_labels) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Cannot read labels file %s.", labels), ("%s", err->message));
      goto fail;
    }
    if (p->n_file_labels != nl) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Labels file does not fit the model."),
          ("%s has %d labels, model %s has %d classes", labels, p->n_file_labels, model, nl));
      goto fail;
    }
  }
  p->ring = g_try_malloc0 (sizeof (gfloat) * p->frame_floats * wf);
  p->job_frames = g_try_malloc0 (sizeof (gfloat) * p->frame_floats * wf);
  p->ring_pts = g_new0 (GstClockTime, wf);
  p->logits = g_new0 (gfloat, nl);
  if (!p->ring || !p->job_frames) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Out of memory."), ("window of %d frames", wf));
    goto fail;
  }
  /* One inference now: the model's pages are touched before the first
   * frame, and sync mode can report its latency. */
  t0 = g_get_monotonic_time ();
  if ((st = klass->infer (self, p->job_frames, -1, p->logits)) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed."), ("%s", vidi_last_error ()));
    goto fail;
  }
  p->infer_estimate = (GstClockTime) (g_get_monotonic_time () - t0) * 1000;
  GST_INFO_OBJECT (self, "model %s: window %d frames of %dx%d, %d labels, one inference %" GST_TIME_FORMAT,
      model, wf, p->frame_w, p->frame_h, nl, GST_TIME_ARGS (p->infer_estimate));
  p->n_buffers = p->n_sampled = p->last_window_n = p->windows = p->skipped = 0;
  p->model_n = 0;
  p->stopping = p->busy = p->job_ready = FALSE;
  if (async)
    p->worker = g_thread_new ("vidi-infer", worker_main, self);
  g_free (model);
  g_free (labels);
  g_free (backend);
  return TRUE;
fail:
  /* GstBaseTransform does not call stop() after a failed start(). */
  gst_vidi_classify_stop (trans);
  g_clear_error (&err);
  g_free (model);
  g_free (labels);
  g_free (backend);
  return FALSE;
}

static gboolean
gst_vidi_classify_stop (GstBaseTransform * trans)
{
  GstVidiClassify *self = GST_VIDI_CLASSIFY (trans);
  GstVidiClassifyPrivate *p = PRIV (self);

  if (p->worker) {
    g_mutex_lock (&p->lock);
    p->stopping = TRUE;
    g_cond_broadcast (&p->cond);
    g_mutex_unlock (&p->lock);
    g_thread_join (p->worker);
    p->worker = NULL;
  }
  if (p->opened)
    GST_VIDI_CLASSIFY_GET_CLASS (self)->close (self);
  p->opened = FALSE;
  vidi_backend_destroy (p->be);
  p->be = NULL;
  vidi_frame_preprocessor_free (p->pre);
  p->pre = NULL;
  g_strfreev (p->file_labels);
  p->file_labels = NULL;
  g_clear_pointer (&p->ring, g_free);
  g_clear_pointer (&p->job_frames, g_free);
  g_clear_pointer (&p->ring_pts, g_free);
  g_clear_pointer (&p->logits, g_free);
  vidi_converter_free (&p->convert);
  clear_pending (p);
  return TRUE;
}

static gboolean
gst_vidi_classify_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstVidiClassify *self = GST_VIDI_CLASSIFY (trans);
  GstVidiClassifyPrivate *p = PRIV (self);
  GstVideoInfo info;

  (void) outcaps;
  if (!gst_video_info_from_caps (&info, incaps) || GST_VIDEO_INFO_WIDTH (&info) <= 0
      || GST_VIDEO_INFO_HEIGHT (&info) <= 0) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Unsupported video caps."), ("%" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
  p->info = info;
  switch (GST_VIDEO_INFO_FORMAT (&info)) {
    case GST_VIDEO_FORMAT_RGB: p->av_format = AV_PIX_FMT_RGB24; break;
    case GST_VIDEO_FORMAT_RGBA: p->av_format = AV_PIX_FMT_RGBA; break;
    case GST_VIDEO_FORMAT_RGBx: p->av_format = AV_PIX_FMT_RGB0; break;
    case GST_VIDEO_FORMAT_BGRx: p->av_format = AV_PIX_FMT_BGR0; break;
    case GST_VIDEO_FORMAT_I420: p->av_format = AV_PIX_FMT_YUV420P; break;
    case GST_VIDEO_FORMAT_NV12: p->av_format = AV_PIX_FMT_NV12; break;
    default:
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Unsupported video format %s.",
              gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info))), ("%" GST_PTR_FORMAT, incaps));
      return FALSE;
  }
  /* The caps' colorimetry, as the decoder reads it from the codec. */
  switch (info.colorimetry.matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT709: p->colorspace = AVCOL_SPC_BT709; break;
    case GST_VIDEO_COLOR_MATRIX_BT2020: p->colorspace = AVCOL_SPC_BT2020_NCL; break;
    case GST_VIDEO_COLOR_MATRIX_SMPTE240M: p->colorspace = AVCOL_SPC_SMPTE240M; break;
    case GST_VIDEO_COLOR_MATRIX_FCC: p->colorspace = AVCOL_SPC_FCC; break;
    default: p->colorspace = AVCOL_SPC_SMPTE170M; break;
  }
  p->full_range = info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  vidi_converter_free (&p->convert);
  /* Scale as the clip sampler's decoder does (same filter, same shorter
   * side), so a stream frame is preprocessed like a decoded file frame. */
  p->convert_params = vidi_sampler_decoder_params (&p->pre_params, NULL);
  return TRUE;
}

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
    clear_pending (p);
  }
  g_mutex_unlock (&p->lock);
}

static GstFlowReturn
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
      copy_window_locked (p, n);
      if (async) {
        p->job = job;
        p->busy = p->job_ready = TRUE;
        g_cond_signal (&p->cond);
        window_ends = FALSE;
      }
    }
  }
  g_mutex_unlock (&p->lock);
  if (window_ends && !run_job (self, &job))
    return GST_FLOW_ERROR;
done:
  attach_pending (self, buf);
  return GST_FLOW_OK;
}

/* EOS: wait for the window in flight, then classify the tail. */
static void
finish_stream (GstVidiClassify * self)
{
  GstVidiClassifyPrivate *p = PRIV (self);
  VidiJob job;
  gboolean tail = FALSE;

  g_mutex_lock (&p->lock);
  wait_idle_locked (p);
  /* Async: a result that came after the last buffer goes down as an event. */
  if (p->have_pending) {
    GstStructure *s = result_structure (self, &p->pending_job, p->pending_n, p->pending_labels,
        p->pending_scores, p->pending_latency, p->pending_skipped);
    clear_pending (p);
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
    copy_window_locked (p, n);
  }
  g_mutex_unlock (&p->lock);
  if (tail)
    run_job (self, &job);
}

static void
reset_stream (GstVidiClassify * self)
{
  GstVidiClassifyPrivate *p = PRIV (self);

  g_mutex_lock (&p->lock);
  p->gen++;                     /* results in flight are dropped */
  p->n_buffers = p->n_sampled = p->last_window_n = 0;
  clear_pending (p);
  g_mutex_unlock (&p->lock);
}

static gboolean
gst_vidi_classify_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstVidiClassify *self = GST_VIDI_CLASSIFY (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      if (PRIV (self)->opened)
        finish_stream (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      reset_stream (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_vidi_classify_parent_class)->sink_event (trans, event);
}

/* Sync mode holds the window's last buffer for one inference: add it. */
static gboolean
gst_vidi_classify_src_query (GstBaseTransform * trans, GstPadDirection dir, GstQuery * query)
{
  GstVidiClassifyPrivate *p = PRIV (trans);
  gboolean ret = GST_BASE_TRANSFORM_CLASS (gst_vidi_classify_parent_class)->query (trans, dir, query);

  if (ret && dir == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gboolean live, async;
    GstClockTime min, max, add;

    GST_OBJECT_LOCK (trans);
    async = p->async;
    add = async ? 0 : p->infer_estimate;
    GST_OBJECT_UNLOCK (trans);
    gst_query_parse_latency (query, &live, &min, &max);
    min += add;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += add;
    gst_query_set_latency (query, live, min, max);
    GST_DEBUG_OBJECT (trans, "latency: added %" GST_TIME_FORMAT, GST_TIME_ARGS (add));
  }
  return ret;
}

static void
gst_vidi_classify_finalize (GObject * object)
{
  GstVidiClassifyPrivate *p = PRIV (object);

  g_free (p->model_path);
  g_free (p->labels_path);
  g_free (p->backend_name);
  g_mutex_clear (&p->lock);
  g_cond_clear (&p->cond);
  G_OBJECT_CLASS (gst_vidi_classify_parent_class)->finalize (object);
}

static void
gst_vidi_classify_init (GstVidiClassify * self)
{
  GstVidiClassifyPrivate *p = PRIV (self);

  p->backend_name = g_strdup (DEFAULT_BACKEND);
  p->threads = DEFAULT_THREADS;
  p->frame_stride = DEFAULT_FRAME_STRIDE;
  p->window_stride = DEFAULT_WINDOW_STRIDE;
  p->top_k = DEFAULT_TOP_K;
  p->threshold = DEFAULT_THRESHOLD;
  p->async = DEFAULT_ASYNC;
  p->silent = DEFAULT_SILENT;
  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_vidi_classify_class_init (GstVidiClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  GParamFlags rw_ready = rw | GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (vidi_classify_debug, "vidiclassify", 0, "vidi classification elements");
  gobject_class->set_property = gst_vidi_classify_set_property;
  gobject_class->get_property = gst_vidi_classify_get_property;
  gobject_class->finalize = gst_vidi_classify_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Checkpoint: a vidi .safetensors file or a Hugging Face model directory "
          "(unset: the default model, see docs/elements.md)", DEFAULT_MODEL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_LABELS,
      g_param_spec_string ("labels", "Labels",
          "Text file with one class name per line, replacing the checkpoint's names (unset: the checkpoint's)",
          DEFAULT_LABELS, rw_ready));
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_string ("backend", "Backend", "Compute backend: cpu, ref (scalar reference), cuda, cuda-emu or auto (names as vidi_backend_create takes them)", DEFAULT_BACKEND,
          rw_ready));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads", "Inference threads (0: all online CPUs)", 0, 1024, DEFAULT_THREADS,
          rw_ready));
  g_object_class_install_property (gobject_class, PROP_FRAME_STRIDE,
      g_param_spec_int ("frame-stride", "Frame stride", "Take every Nth frame into the window", 1, G_MAXINT,
          DEFAULT_FRAME_STRIDE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_WINDOW_STRIDE,
      g_param_spec_int ("window-stride", "Window stride",
          "Classify every N sampled frames (0: once per window, windows do not overlap)", 0, G_MAXINT,
          DEFAULT_WINDOW_STRIDE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TOP_K,
      g_param_spec_int ("top-k", "Top k", "Number of best labels reported", 1, 1000, DEFAULT_TOP_K,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "Threshold", "Report only labels with at least this softmax score", 0.0,
          1.0, DEFAULT_THRESHOLD, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ASYNC,
      g_param_spec_boolean ("async", "Async",
          "Infer on a worker thread; while it is busy, windows are skipped (and counted), never queued",
          DEFAULT_ASYNC, rw_ready));
  g_object_class_install_property (gobject_class, PROP_SILENT,
      g_param_spec_boolean ("silent", "Silent", "Post no vidi-classification messages (meta is still attached)",
          DEFAULT_SILENT, rw | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, gst_caps_from_string (VIDI_CLASSIFY_CAPS)));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, gst_caps_from_string (VIDI_CLASSIFY_CAPS)));

  trans_class->start = GST_DEBUG_FUNCPTR (gst_vidi_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_vidi_classify_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_vidi_classify_set_caps);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_vidi_classify_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_vidi_classify_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_vidi_classify_src_query);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
  klass->classify_tail = FALSE;
  gst_type_mark_as_plugin_api (GST_TYPE_VIDI_CLASSIFY, 0);
}
