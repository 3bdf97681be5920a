/**
 * SECTION:element-vivitclassify
 *
 * Classifies the action in a sliding window of video frames with a ViViT
 * (all four variants). The window is the model's num_frames frames, taken
 * every frame-stride frames; a result comes every window-stride sampled
 * frames. Model 2 (factorised encoder) keeps the spatial encodings of the
 * frames still in the window, so a window that moved by s frames costs s
 * frames of spatial encoding plus the temporal encoder; its results equal a
 * full forward over the same frames.
 *
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     vivitclassify window-stride=4 ! vidioverlay ! autovideosink
 * ]|
 */
#include "gstvivitclassify.h"

#include "pipeline/classify_video.h"
#include "vidi/vivit.h"

#ifndef VIDI_PLUGIN_MODEL_DIR
#define VIDI_PLUGIN_MODEL_DIR "samples/models"
#endif

struct _GstVivitClassify {
  GstVidiClassify parent;
  vidi_vivit *model;
  vidi_vivit_stream *stream;    /* model 2 only */
  gint tubelet_t;
};

G_DEFINE_TYPE (GstVivitClassify, gst_vivit_classify, GST_TYPE_VIDI_CLASSIFY);
GST_ELEMENT_REGISTER_DEFINE (vivitclassify, "vivitclassify", GST_RANK_NONE, GST_TYPE_VIVIT_CLASSIFY);

static vidi_status
vivit_open (GstVidiClassify * base, const gchar * path, vidi_backend * be, vidi_sampler_params * pre,
    gint * window_frames, gint * num_labels)
{
  GstVivitClassify *self = GST_VIVIT_CLASSIFY (base);
  const vidi_vivit_config *c;
  vidi_status st = vidi_vivit_load (path, be, &self->model);

  if (st)
    return st;
  c = vidi_vivit_get_config (self->model);
  if ((st = vidi_vivit_sampler_params (self->model, pre)))
    return st;
  *window_frames = c->num_frames;
  *num_labels = c->num_labels;
  self->tubelet_t = c->tubelet_t;
  return VIDI_OK;
}

static vidi_status
vivit_infer (GstVidiClassify * base, const gfloat * frames, gint n_new, gfloat * logits)
{
  GstVivitClassify *self = GST_VIVIT_CLASSIFY (base);
  const vidi_vivit_config *c = vidi_vivit_get_config (self->model);
  gsize frame = (gsize) c->channels * c->image_size * c->image_size;
  vidi_status st;

  if (c->variant != VIDI_VIVIT_FACTORISED_ENCODER)
    return vidi_vivit_forward (self->model, frames, logits, NULL, NULL);
  /* The stream classifies whole tubelets: a step that is not a whole
   * number of them starts over, so the window is always exactly `frames`. */
  if (n_new < 0 || n_new % self->tubelet_t != 0 || !self->stream) {
    vidi_vivit_stream_free (self->stream);
    self->stream = NULL;
    if ((st = vidi_vivit_stream_create (self->model, &self->stream)))
      return st;
    n_new = c->num_frames;
  }
  if ((st = vidi_vivit_stream_push (self->stream, frames + (gsize) (c->num_frames - n_new) * frame, n_new)))
    return st;
  return vidi_vivit_stream_classify (self->stream, logits);
}

static const gchar *
vivit_label (GstVidiClassify * base, gint index)
{
  return vidi_vivit_label (GST_VIVIT_CLASSIFY (base)->model, index);
}

static void
vivit_close (GstVidiClassify * base)
{
  GstVivitClassify *self = GST_VIVIT_CLASSIFY (base);

  vidi_vivit_stream_free (self->stream);
  self->stream = NULL;
  vidi_vivit_free (self->model);
  self->model = NULL;
}

/* $VIDI_MODEL_DIR/vivit-synth.safetensors, else the source tree's. */
static gchar *
vivit_default_model (GError ** error)
{
  char buf[4096];
  const gchar *env = g_getenv ("VIDI_MODEL_DIR");
  gchar *built;

  if (vidi_default_video_model (buf, sizeof buf) == VIDI_OK)
    return g_strdup (buf);
  if (env && *env) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "%s", vidi_last_error ());
    return NULL;
  }
  built = g_build_filename (VIDI_PLUGIN_MODEL_DIR, VIDI_DEFAULT_VIDEO_MODEL_NAME, NULL);
  if (g_file_test (built, G_FILE_TEST_IS_REGULAR))
    return built;
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
      "no default video model: %s does not exist and VIDI_MODEL_DIR is not set (set model=PATH or VIDI_MODEL_DIR)",
      built);
  g_free (built);
  return NULL;
}

static void
gst_vivit_classify_init (GstVivitClassify * self)
{
  (void) self;
}

static void
gst_vivit_classify_class_init (GstVivitClassifyClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVidiClassifyClass *base_class = GST_VIDI_CLASSIFY_CLASS (klass);

  gst_element_class_set_static_metadata (element_class, "ViViT action recognition", "Filter/Analyzer/Video",
      "Classifies the action in a sliding window of frames with a ViViT video transformer; results as "
      "GstVidiClassificationMeta and vidi-classification element messages", "vidi developers");
  base_class->open = vivit_open;
  base_class->infer = vivit_infer;
  base_class->label = vivit_label;
  base_class->close = vivit_close;
  base_class->default_model = vivit_default_model;
  base_class->classify_tail = TRUE;
}
