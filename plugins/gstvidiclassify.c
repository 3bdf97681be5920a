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
#include "gstvidiclassify_priv.h"
#include "gstvidilatency.h"

#include <string.h>

GST_DEBUG_CATEGORY (vidi_classify_debug);

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

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (GstVidiClassify, gst_vidi_classify, GST_TYPE_BASE_TRANSFORM);

GstVidiClassifyPrivate *
gst_vidi_classify_priv (GstVidiClassify * self)
{
  return gst_vidi_classify_get_instance_private (self);
}

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
    p->worker = g_thread_new ("vidi-infer", gst_vidi_classify_worker_main, self);
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
  gst_vidi_classify_clear_pending (p);
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

static gboolean
gst_vidi_classify_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstVidiClassify *self = GST_VIDI_CLASSIFY (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      if (PRIV (self)->opened)
        gst_vidi_classify_finish_stream (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      gst_vidi_classify_reset_stream (self);
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
    gboolean async;
    GstClockTime add;

    GST_OBJECT_LOCK (trans);
    async = p->async;
    add = async ? 0 : p->infer_estimate;
    GST_OBJECT_UNLOCK (trans);
    gst_vidi_latency_query_add (query, add);
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
