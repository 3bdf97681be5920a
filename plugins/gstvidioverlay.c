/**
 * SECTION:element-vidioverlay
 *
 * Draws the top labels and scores of the latest vidi classification onto
 * every frame, from the GstVidiClassificationMeta that vivitclassify /
 * vitclassify attach (a result stays on screen until the next one). Text is
 * white on a darkened box, so it reads on any background. Built-in 5x7
 * font, upper case; no font library needed.
 *
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     vivitclassify ! vidioverlay ! videoconvert ! autovideosink
 * ]|
 */
#include "gstvidioverlay.h"

#include <stdio.h>
#include <string.h>

#include "gstvidimeta.h"
#include "vidifont.h"

GST_DEBUG_CATEGORY_STATIC (vidi_overlay_debug);
#define GST_CAT_DEFAULT vidi_overlay_debug

enum {
  PROP_0,
  PROP_LINES,
  PROP_SCALE,
  PROP_SHOW_SCORES,
};

#define DEFAULT_LINES 3
#define DEFAULT_SCALE 0
#define DEFAULT_SHOW_SCORES TRUE

#define OVERLAY_CAPS GST_VIDEO_CAPS_MAKE ("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, I420, NV12 }")

struct _GstVidiOverlay {
  GstVideoFilter parent;
  gint lines, scale;
  gboolean show_scores;
  /* the result on screen */
  gchar **labels;
  gdouble *scores;
  guint n;
};

G_DEFINE_TYPE (GstVidiOverlay, gst_vidi_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (vidioverlay, "vidioverlay", GST_RANK_NONE, GST_TYPE_VIDI_OVERLAY);

static void
gst_vidi_overlay_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstVidiOverlay *self = GST_VIDI_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LINES:
      self->lines = g_value_get_int (value);
      break;
    case PROP_SCALE:
      self->scale = g_value_get_int (value);
      break;
    case PROP_SHOW_SCORES:
      self->show_scores = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_vidi_overlay_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstVidiOverlay *self = GST_VIDI_OVERLAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LINES:
      g_value_set_int (value, self->lines);
      break;
    case PROP_SCALE:
      g_value_set_int (value, self->scale);
      break;
    case PROP_SHOW_SCORES:
      g_value_set_boolean (value, self->show_scores);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Pixel (x, y) of component c, for any of the caps' formats. */
static guint8 *
comp_ptr (GstVideoFrame * f, gint c, gint x, gint y)
{
  const GstVideoFormatInfo *fi = f->info.finfo;
  gint cx = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH (fi, c, x), cy = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (fi, c, y);

  return (guint8 *) GST_VIDEO_FRAME_COMP_DATA (f, c) + cy * GST_VIDEO_FRAME_COMP_STRIDE (f, c)
      + cx * GST_VIDEO_FRAME_COMP_PSTRIDE (f, c);
}

/* Darkens a rectangle to 40% (YUV: luma toward black, chroma toward grey). */
static void
darken (GstVideoFrame * f, gint x0, gint y0, gint w, gint h)
{
  gboolean yuv = GST_VIDEO_INFO_IS_YUV (&f->info);
  gint W = GST_VIDEO_FRAME_WIDTH (f), H = GST_VIDEO_FRAME_HEIGHT (f);

  for (gint y = MAX (y0, 0); y < MIN (y0 + h, H); y++)
    for (gint x = MAX (x0, 0); x < MIN (x0 + w, W); x++) {
      if (yuv) {
        guint8 *py = comp_ptr (f, 0, x, y);
        *py = (guint8) (16 + (*py - 16 > 0 ? (*py - 16) * 2 / 5 : 0));
        if (x % 2 == 0 && y % 2 == 0)   /* chroma once per 2x2 block */
          for (gint c = 1; c < 3; c++) {
            guint8 *pc = comp_ptr (f, c, x, y);
            *pc = (guint8) (128 + (*pc - 128) * 2 / 5);
          }
      } else {
        for (gint c = 0; c < 3; c++) {
          guint8 *pc = comp_ptr (f, c, x, y);
          *pc = (guint8) (*pc * 2 / 5);
        }
      }
    }
}

static void
white (GstVideoFrame * f, gint x0, gint y0, gint s)
{
  gboolean yuv = GST_VIDEO_INFO_IS_YUV (&f->info);
  gint W = GST_VIDEO_FRAME_WIDTH (f), H = GST_VIDEO_FRAME_HEIGHT (f);

  for (gint y = MAX (y0, 0); y < MIN (y0 + s, H); y++)
    for (gint x = MAX (x0, 0); x < MIN (x0 + s, W); x++) {
      if (yuv)
        *comp_ptr (f, 0, x, y) = 235;
      else
        for (gint c = 0; c < 3; c++)
          *comp_ptr (f, c, x, y) = 255;
    }
}

static void
draw_text (GstVideoFrame * f, const gchar * text, gint x0, gint y0, gint s)
{
  for (gint i = 0; text[i]; i++) {
    const guint8 *g = vidi_font_glyph (text[i]);
    for (gint r = 0; r < VIDI_FONT_H; r++)
      for (gint col = 0; col < VIDI_FONT_W; col++)
        if (g[r] & (0x10 >> col))
          white (f, x0 + (i * (VIDI_FONT_W + 1) + col) * s, y0 + r * s, s);
  }
}

static GstFlowReturn
gst_vidi_overlay_transform_frame_ip (GstVideoFilter * filter, GstVideoFrame * frame)
{
  GstVidiOverlay *self = GST_VIDI_OVERLAY (filter);
  GstVidiClassificationMeta *m = gst_buffer_get_vidi_classification_meta (frame->buffer);
  gint lines, s, W = GST_VIDEO_FRAME_WIDTH (frame), H = GST_VIDEO_FRAME_HEIGHT (frame);
  gboolean show_scores;

  if (m) {                      /* a new result replaces the one on screen */
    g_strfreev (self->labels);
    g_free (self->scores);
    self->n = m->n;
    self->labels = g_strdupv (m->labels);
    self->scores = g_memdup2 (m->scores, sizeof (gdouble) * MAX (m->n, 1));
  }
  GST_OBJECT_LOCK (self);
  lines = MIN ((guint) self->lines, self->n);
  s = self->scale > 0 ? self->scale : MAX (1, H / 160);
  show_scores = self->show_scores;
  GST_OBJECT_UNLOCK (self);
  /* One box per line, stacked without gaps; text centred in it. */
  for (gint i = 0; i < lines; i++) {
    gchar text[96];
    gint len, pad = s, line_h = (VIDI_FONT_H + 3) * s, y = i * line_h;

    if (show_scores)
      g_snprintf (text, sizeof text, "%.2f %s", self->scores[i], self->labels[i]);
    else
      g_snprintf (text, sizeof text, "%s", self->labels[i]);
    /* Clip to the frame width. */
    len = (gint) strlen (text);
    while (len > 0 && pad + len * (VIDI_FONT_W + 1) * s + pad > W)
      text[--len] = '\0';
    if (len == 0 || y + line_h > H)
      break;
    darken (frame, 0, y, 2 * pad + len * (VIDI_FONT_W + 1) * s, line_h);
    draw_text (frame, text, pad, y + (line_h - VIDI_FONT_H * s) / 2, s);
  }
  return GST_FLOW_OK;
}

static gboolean
gst_vidi_overlay_stop (GstBaseTransform * trans)
{
  GstVidiOverlay *self = GST_VIDI_OVERLAY (trans);

  g_strfreev (self->labels);
  g_free (self->scores);
  self->labels = NULL;
  self->scores = NULL;
  self->n = 0;
  return TRUE;
}

static void
gst_vidi_overlay_finalize (GObject * object)
{
  gst_vidi_overlay_stop (GST_BASE_TRANSFORM (object));
  G_OBJECT_CLASS (gst_vidi_overlay_parent_class)->finalize (object);
}

static void
gst_vidi_overlay_init (GstVidiOverlay * self)
{
  self->lines = DEFAULT_LINES;
  self->scale = DEFAULT_SCALE;
  self->show_scores = DEFAULT_SHOW_SCORES;
}

static void
gst_vidi_overlay_class_init (GstVidiOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (vidi_overlay_debug, "vidioverlay", 0, "vidi overlay");
  gobject_class->set_property = gst_vidi_overlay_set_property;
  gobject_class->get_property = gst_vidi_overlay_get_property;
  gobject_class->finalize = gst_vidi_overlay_finalize;
  g_object_class_install_property (gobject_class, PROP_LINES,
      g_param_spec_int ("lines", "Lines", "Number of top labels drawn", 0, 100, DEFAULT_LINES, rw));
  g_object_class_install_property (gobject_class, PROP_SCALE,
      g_param_spec_int ("scale", "Scale", "Font pixel size multiplier (0: frame height / 160)", 0, 64,
          DEFAULT_SCALE, rw));
  g_object_class_install_property (gobject_class, PROP_SHOW_SCORES,
      g_param_spec_boolean ("show-scores", "Show scores", "Draw the softmax score before each label",
          DEFAULT_SHOW_SCORES, rw));

  gst_element_class_set_static_metadata (element_class, "vidi classification overlay", "Filter/Effect/Video",
      "Draws the latest vidi classification labels and scores onto the video", "vidi developers");
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, gst_caps_from_string (OVERLAY_CAPS)));
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("src", GST_PAD_SRC, GST_PAD_ALWAYS, gst_caps_from_string (OVERLAY_CAPS)));
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_vidi_overlay_stop);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR (gst_vidi_overlay_transform_frame_ip);
}
