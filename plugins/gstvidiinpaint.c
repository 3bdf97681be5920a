/**
 * SECTION:element-vidiinpaint
 *
 * Fills a masked region or listed frames of the incoming video with a vidi
 * diffusion model (docs/diffusion.md). Frames are collected in windows of
 * the model's frame count; each window is scaled so the shorter side is the
 * model's size and centre-cropped (as `vidi inpaint` does), in-painted, and
 * the filled pixels are scaled back into the original frames; everything
 * outside the mask, and outside the centre crop, passes unchanged. The mask
 * is `vidi inpaint`'s spec, in the model frame's pixels and the window's
 * frame numbers. Frames of a last, incomplete window pass unchanged.
 * Latency: one window (T - 1 frame durations) plus the last window's
 * sampling time, reported to the latency query so live sinks wait for it.
 * With a live source, put a leaky queue in front: sampling runs in the
 * streaming thread, and the queue keeps the source's thread free.
 *
 * |[
 * gst-launch-1.0 filesrc location=in.mp4 ! decodebin ! videoconvert ! \
 *     vidiinpaint model=m.safetensors mask=box:8,8,16,16 ! videoconvert ! autovideosink
 * ]|
 */
#include "gstvidiinpaint.h"

#include <gst/video/video.h>
#include <string.h>

#include "gstvididiffusion.h"
#include "gstvidilatency.h"
#include "vidi/backend.h"
#include "vidi/diffusion.h"
#include "vidi/image.h"

GST_DEBUG_CATEGORY_STATIC (vidi_inpaint_debug);
#define GST_CAT_DEFAULT vidi_inpaint_debug

/* Numbered after the shared diffusion settings (model, label, steps, seed, threads). */
enum {
  PROP_MASK = GST_VIDI_DIFFUSION_PROP_LAST,
  PROP_METHOD,
  PROP_RESAMPLE,
  PROP_KNOWN_GUIDANCE,
};

#define DEFAULT_MASK NULL
#define DEFAULT_METHOD "conditioned"
#define DEFAULT_RESAMPLE 1
#define DEFAULT_KNOWN_GUIDANCE 1.0f

struct _GstVidiInpaint {
  GstBaseTransform parent;
  /* properties (object lock) */
  GstVidiDiffusionSettings diffusion;
  gchar *mask_spec, *method_name;
  guint resample;
  gfloat known_guidance;
  /* state (streaming thread, start to stop) */
  vidi_backend *be;
  vidi_denoiser *model;
  vidi_sample_params params;
  vidi_inpaint_method method;
  float *mask, *known, *clip; /* [T, S, S], [T, 3, S, S] x 2 */
  GQueue in, out;             /* buffers waiting for a full window / to be pushed */
  guint64 windows;
  GstVideoInfo info;
  /* latency (object lock: the latency query comes from the application thread) */
  guint window_frames;          /* the model's T once started, else 0 */
  GstClockTime frame_duration;  /* from the caps' framerate, else 0 */
  GstClockTime sample_time;     /* the last window's sampling, 0 before the first */
};

G_DEFINE_TYPE (GstVidiInpaint, gst_vidi_inpaint, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (vidiinpaint, "vidiinpaint", GST_RANK_NONE, GST_TYPE_VIDI_INPAINT);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("RGB")));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE ("RGB")));

static void
gst_vidi_inpaint_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MASK:
      g_free (self->mask_spec);
      self->mask_spec = g_value_dup_string (value);
      break;
    case PROP_METHOD:
      g_free (self->method_name);
      self->method_name = g_value_dup_string (value);
      break;
    case PROP_RESAMPLE:
      self->resample = g_value_get_uint (value);
      break;
    case PROP_KNOWN_GUIDANCE:
      self->known_guidance = g_value_get_float (value);
      break;
    default:
      /* the shared diffusion settings, or not a property */
      if (!gst_vidi_diffusion_set_property (&self->diffusion, prop_id, value))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vidi_inpaint_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MASK:
      g_value_set_string (value, self->mask_spec);
      break;
    case PROP_METHOD:
      g_value_set_string (value, self->method_name);
      break;
    case PROP_RESAMPLE:
      g_value_set_uint (value, self->resample);
      break;
    case PROP_KNOWN_GUIDANCE:
      g_value_set_float (value, self->known_guidance);
      break;
    default:
      /* the shared diffusion settings, or not a property */
      if (!gst_vidi_diffusion_get_property (&self->diffusion, prop_id, value))
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
clear_queues (GstVidiInpaint * self)
{
  g_queue_clear_full (&self->in, (GDestroyNotify) gst_buffer_unref);
  g_queue_clear_full (&self->out, (GDestroyNotify) gst_buffer_unref);
}

static void
release (GstVidiInpaint * self)
{
  clear_queues (self);
  vidi_denoiser_free (self->model);
  vidi_backend_destroy (self->be);
  g_free (self->mask);
  g_free (self->known);
  g_free (self->clip);
  self->model = NULL;
  self->be = NULL;
  self->mask = self->known = self->clip = NULL;
  GST_OBJECT_LOCK (self);
  self->window_frames = 0;
  self->sample_time = 0;
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_vidi_inpaint_start (GstBaseTransform * trans)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (trans);
  GstVidiDiffusionSettings settings;
  gchar *spec, *method;
  const vidi_denoiser_config *c;
  gsize px;
  gboolean ok = FALSE;

  GST_OBJECT_LOCK (self);
  gst_vidi_diffusion_settings_copy_locked (&self->diffusion, &settings);
  spec = g_strdup (self->mask_spec);
  method = g_strdup (self->method_name);
  self->params = gst_vidi_diffusion_sample_params (&settings);
  self->params.known_guidance = self->known_guidance;
  GST_OBJECT_UNLOCK (self);
  if (!spec || !*spec) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("mask: a mask spec is required (e.g. box:8,8,16,16 or predict:8)"),
        (NULL));
    goto out;
  }
  if (vidi_inpaint_method_parse (method, &self->method) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("method: %s", vidi_last_error ()), (NULL));
    goto out;
  }
  if (self->params.known_guidance != 1.0f && self->method != VIDI_INPAINT_CONDITIONED) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("known-guidance: needs method=conditioned (repaint's model sees "
            "no known pixels)"), (NULL));
    goto out;
  }
  if (!gst_vidi_diffusion_load (&settings, &self->be, &self->model)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", vidi_last_error ()), ("model: %s", settings.model_path));
    goto out;
  }
  c = vidi_denoiser_get_config (self->model);
  if (c->channels != 3) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s: the model has %d channels; video is RGB", settings.model_path,
            c->channels), (NULL));
    goto out;
  }
  if (!gst_vidi_diffusion_find_label (&settings, self->model, &self->params.label)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("label '%s': unknown (the model has %d classes)", settings.label,
            c->num_classes), (NULL));
    goto out;
  }
  if (self->method == VIDI_INPAINT_CONDITIONED && !c->inpaint) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s was trained without in-painting masks; use method=repaint",
            settings.model_path), (NULL));
    goto out;
  }
  px = (gsize) c->frames * c->image_size * c->image_size;
  self->mask = g_new (float, px);
  self->known = g_new (float, px * 3);
  self->clip = g_new (float, px * 3);
  if (vidi_inpaint_mask_parse (spec, c->frames, c->image_size, c->image_size, self->mask) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", vidi_last_error ()), (NULL));
    goto out;
  }
  self->windows = 0;
  GST_OBJECT_LOCK (self);
  self->window_frames = (guint) c->frames;
  self->sample_time = 0;
  GST_OBJECT_UNLOCK (self);
  ok = TRUE;
out:
  if (!ok)
    release (self);
  gst_vidi_diffusion_settings_clear (&settings);
  g_free (spec);
  g_free (method);
  return ok;
}

static gboolean
gst_vidi_inpaint_stop (GstBaseTransform * trans)
{
  release (GST_VIDI_INPAINT (trans));
  return TRUE;
}

static gboolean
gst_vidi_inpaint_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (trans);
  (void) outcaps;
  if (!gst_video_info_from_caps (&self->info, incaps))
    return FALSE;
  GST_OBJECT_LOCK (self);
  self->frame_duration = GST_VIDEO_INFO_FPS_N (&self->info) > 0 ?
      gst_util_uint64_scale (GST_SECOND, GST_VIDEO_INFO_FPS_D (&self->info), GST_VIDEO_INFO_FPS_N (&self->info)) : 0;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* A window's first frame leaves T - 1 frames after it arrived, plus the
 * sampling time: without it in the latency, a synchronised live sink would
 * drop every frame as late. The sampling time is the last window's (0 until
 * one has run), so the figure settles after the first window; the element
 * posts a latency message then, for the pipeline to query again. */
static gboolean
gst_vidi_inpaint_query (GstBaseTransform * trans, GstPadDirection dir, GstQuery * query)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (trans);
  gboolean ret = GST_BASE_TRANSFORM_CLASS (gst_vidi_inpaint_parent_class)->query (trans, dir, query);

  if (ret && dir == GST_PAD_SRC && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime add;

    GST_OBJECT_LOCK (self);
    add = self->window_frames > 0 ? (self->window_frames - 1) * self->frame_duration + self->sample_time : 0;
    GST_OBJECT_UNLOCK (self);
    gst_vidi_latency_query_add (query, add);
    GST_DEBUG_OBJECT (self, "latency: added %" GST_TIME_FORMAT, GST_TIME_ARGS (add));
  }
  return ret;
}

/* The centre crop of the resized frame, in original pixels. */
typedef struct crop_box {
  int rw, rh;                   /* frame resized so the shorter side is S */
  int x0, y0, w, h;             /* the S x S crop mapped back to the original */
} crop_box;

static crop_box
crop_for (int width, int height, int s)
{
  crop_box b;
  if (width <= height) {
    b.rw = s;
    b.rh = (int) ((gint64) height * s / width);
  } else {
    b.rh = s;
    b.rw = (int) ((gint64) width * s / height);
  }
  b.w = (int) ((gint64) s * width / b.rw);
  b.h = (int) ((gint64) s * height / b.rh);
  b.x0 = (width - b.w) / 2;
  b.y0 = (height - b.h) / 2;
  return b;
}

/* A packed copy of a mapped RGB frame (GStreamer pads rows to 4 bytes). */
static void
frame_to_image (GstVideoFrame * vf, vidi_image * img)
{
  int w = GST_VIDEO_FRAME_WIDTH (vf), h = GST_VIDEO_FRAME_HEIGHT (vf);
  const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (vf, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (vf, 0);
  img->width = w;
  img->height = h;
  img->rgb = g_malloc ((gsize) w * h * 3);
  for (int y = 0; y < h; y++)
    memcpy (img->rgb + (gsize) y * w * 3, src + (gsize) y * stride, (gsize) w * 3);
}

/* Drops a window: bufs[0..popped) and the rest of its frames still in `in`. */
static GstFlowReturn
drop_window (GstVidiInpaint * self, GstBuffer ** bufs, int popped, int T)
{
  for (int g = 0; g < popped; g++)
    gst_buffer_unref (bufs[g]);
  for (int g = popped; g < T; g++)
    gst_buffer_unref (g_queue_pop_head (&self->in));
  g_free (bufs);
  return GST_FLOW_ERROR;
}

/* The window's frames, model-framed and in [-1, 1], into self->known. */
static gboolean
read_window (GstVidiInpaint * self, GstBuffer ** bufs, int T, int s, const crop_box * b, int *popped)
{
  static const float mean[3] = { 0.5f, 0.5f, 0.5f }, stdv[3] = { 0.5f, 0.5f, 0.5f };
  for (int f = 0; f < T; f++) {
    GstVideoFrame vf;
    vidi_image img, sized = { 0 }, crop = { 0 };
    vidi_status st;
    bufs[f] = g_queue_pop_head (&self->in);
    *popped = f + 1;
    if (!gst_video_frame_map (&vf, &self->info, bufs[f], GST_MAP_READ)) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("cannot map an input frame"), (NULL));
      return FALSE;
    }
    frame_to_image (&vf, &img);
    gst_video_frame_unmap (&vf);
    st = vidi_image_resize (&img, b->rw, b->rh, VIDI_RESAMPLE_BILINEAR, &sized);
    if (st == VIDI_OK)
      st = vidi_image_center_crop (&sized, s, s, &crop);
    if (st == VIDI_OK)
      vidi_image_normalize (&crop, 1.0f / 255.0f, mean, stdv, self->known + (gsize) f * 3 * s * s);
    g_free (img.rgb);
    vidi_image_free (&sized);
    vidi_image_free (&crop);
    if (st != VIDI_OK) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", vidi_last_error ()), (NULL));
      return FALSE;
    }
  }
  return TRUE;
}

/* Frame f of self->clip, scaled back, into the to-fill pixels of buf. */
static gboolean
write_frame (GstVidiInpaint * self, GstBuffer * buf, int f, int s, const crop_box * b)
{
  const float *src = self->clip + (gsize) f * 3 * s * s, *m = self->mask + (gsize) f * s * s;
  vidi_image gen = { s, s, g_malloc ((gsize) s * s * 3) }, big = { 0 };
  GstVideoFrame vf;
  gboolean ok = FALSE;
  for (int i = 0; i < s * s; i++)
    for (int ch = 0; ch < 3; ch++) {
      float v = (src[ch * s * s + i] + 1.0f) * 127.5f + 0.5f;
      gen.rgb[i * 3 + ch] = (guint8) (v < 0 ? 0 : v > 255 ? 255 : v);
    }
  if (vidi_image_resize (&gen, b->w, b->h, VIDI_RESAMPLE_BILINEAR, &big) == VIDI_OK &&
      gst_video_frame_map (&vf, &self->info, buf, GST_MAP_READWRITE)) {
    guint8 *dst = GST_VIDEO_FRAME_PLANE_DATA (&vf, 0);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
    /* Only pixels whose model pixel was to be filled change. */
    for (int y = 0; y < b->h; y++)
      for (int x = 0; x < b->w; x++) {
        int my = (int) ((gint64) y * s / b->h), mx = (int) ((gint64) x * s / b->w);
        if (m[my * s + mx] < 0.5f)
          memcpy (dst + (gsize) (b->y0 + y) * stride + (gsize) (b->x0 + x) * 3, big.rgb + ((gsize) y * b->w + x) * 3,
              3);
      }
    gst_video_frame_unmap (&vf);
    ok = TRUE;
  }
  g_free (gen.rgb);
  vidi_image_free (&big);
  if (!ok)
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("cannot write the in-painted frame"), (NULL));
  return ok;
}

/* In-paints the T buffers at the head of `in` and moves them to `out`. */
static GstFlowReturn
process_window (GstVidiInpaint * self)
{
  const vidi_denoiser_config *c = vidi_denoiser_get_config (self->model);
  int s = c->image_size, T = c->frames, popped = 0;
  crop_box b = crop_for (GST_VIDEO_INFO_WIDTH (&self->info), GST_VIDEO_INFO_HEIGHT (&self->info), s);
  vidi_sample_params p = self->params;
  GstBuffer **bufs = g_new0 (GstBuffer *, T);

  if (!read_window (self, bufs, T, s, &b, &popped))
    return drop_window (self, bufs, popped, T);
  p.seed = self->params.seed + self->windows++;
  gint64 t0 = g_get_monotonic_time ();
  if (vidi_diffusion_generate (self->model, &p, self->known, self->mask, self->method, (int) self->resample,
          self->clip) != VIDI_OK) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", vidi_last_error ()), (NULL));
    return drop_window (self, bufs, T, T);
  }
  GstClockTime took = (GstClockTime) (g_get_monotonic_time () - t0) * GST_USECOND;
  GST_OBJECT_LOCK (self);
  /* Re-announce only when the figure grows by more than a tenth, not on every window's jitter. */
  gboolean grew = took > self->sample_time + self->sample_time / 10;
  self->sample_time = took;
  GST_OBJECT_UNLOCK (self);
  if (grew)
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  for (int f = 0; f < T; f++) {
    bufs[f] = gst_buffer_make_writable (bufs[f]);
    if (!write_frame (self, bufs[f], f, s, &b)) {
      for (int g = 0; g < f; g++)
        g_queue_pop_tail (&self->out);  /* still referenced by bufs[] */
      return drop_window (self, bufs, T, T);
    }
    g_queue_push_tail (&self->out, bufs[f]);
  }
  g_free (bufs);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_vidi_inpaint_submit_input_buffer (GstBaseTransform * trans, gboolean is_discont, GstBuffer * input)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (trans);
  (void) is_discont;
  g_queue_push_tail (&self->in, input);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_vidi_inpaint_generate_output (GstBaseTransform * trans, GstBuffer ** outbuf)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (trans);
  const vidi_denoiser_config *c = vidi_denoiser_get_config (self->model);
  *outbuf = NULL;
  if (g_queue_is_empty (&self->out) && g_queue_get_length (&self->in) >= (guint) c->frames) {
    GstFlowReturn ret = process_window (self);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  *outbuf = g_queue_pop_head (&self->out);
  /* generate_output is called again while it returns buffers. */
  return GST_FLOW_OK;
}

static gboolean
gst_vidi_inpaint_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (trans);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      /* The last, incomplete window passes unchanged. */
      while (!g_queue_is_empty (&self->out))
        gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (trans), g_queue_pop_head (&self->out));
      while (!g_queue_is_empty (&self->in))
        gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (trans), g_queue_pop_head (&self->in));
      break;
    case GST_EVENT_FLUSH_STOP:
      clear_queues (self);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_vidi_inpaint_parent_class)->sink_event (trans, event);
}

static void
gst_vidi_inpaint_finalize (GObject * object)
{
  GstVidiInpaint *self = GST_VIDI_INPAINT (object);
  release (self);
  gst_vidi_diffusion_settings_clear (&self->diffusion);
  g_free (self->mask_spec);
  g_free (self->method_name);
  G_OBJECT_CLASS (gst_vidi_inpaint_parent_class)->finalize (object);
}

static void
gst_vidi_inpaint_init (GstVidiInpaint * self)
{
  gst_vidi_diffusion_settings_init (&self->diffusion);
  self->mask_spec = DEFAULT_MASK;
  self->method_name = g_strdup (DEFAULT_METHOD);
  self->resample = DEFAULT_RESAMPLE;
  self->known_guidance = DEFAULT_KNOWN_GUIDANCE;
  g_queue_init (&self->in);
  g_queue_init (&self->out);
}

static void
gst_vidi_inpaint_class_init (GstVidiInpaintClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  GST_DEBUG_CATEGORY_INIT (vidi_inpaint_debug, "vidiinpaint", 0, "vidi diffusion in-painting");
  gobject_class->set_property = gst_vidi_inpaint_set_property;
  gobject_class->get_property = gst_vidi_inpaint_get_property;
  gobject_class->finalize = gst_vidi_inpaint_finalize;
  gst_vidi_diffusion_install_properties (gobject_class, "Class name or index (unset: unconditional)",
      "Sampling steps per window", "Noise seed of the first window (window i uses seed + i)");
  g_object_class_install_property (gobject_class, PROP_MASK,
      g_param_spec_string ("mask", "Mask", "Pixels to fill, as vidi inpaint --mask (box:X,Y,W,H[@F0-F1], "
          "frames:LIST, predict:K, interpolate:K, image:PATH, video:PATH; joined by '+'), in the model frame's "
          "pixels and each window's frames", DEFAULT_MASK, rw));
  g_object_class_install_property (gobject_class, PROP_METHOD,
      g_param_spec_string ("method", "Method", "conditioned (the model sees the known pixels) or repaint",
          DEFAULT_METHOD, rw));
  g_object_class_install_property (gobject_class, PROP_RESAMPLE,
      g_param_spec_uint ("resample", "Resample", "RePaint resampling per step", 1, 100, DEFAULT_RESAMPLE, rw));
  g_object_class_install_property (gobject_class, PROP_KNOWN_GUIDANCE,
      g_param_spec_float ("known-guidance", "Known-pixel guidance", "conditioned: guidance on the known pixels, "
          "as vidi inpaint --known-guidance (1: none; two model calls a step otherwise)", 0.0f, 100.0f,
          DEFAULT_KNOWN_GUIDANCE, rw));
  gst_element_class_set_static_metadata (element_class, "vidi diffusion in-painting", "Filter/Effect/Video",
      "Fills a masked region or listed frames of the video with a vidi diffusion model, window by window",
      "vidi developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_set_caps);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_vidi_inpaint_query);
  trans_class->passthrough_on_same_caps = FALSE;
}
