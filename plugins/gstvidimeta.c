/* GstVidiClassificationMeta (see gstvidimeta.h). Copied with the buffer
 * (so it survives make_writable), dropped by transformations that change
 * nothing about it: it carries no geometry, so scaling keeps it too. */
#include "gstvidimeta.h"

#include <string.h>

GType
gst_vidi_classification_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    /* Applications that compile this file in (to read the meta) and the
     * plugin share one registration: whoever comes second finds it. */
    GType t = g_type_from_name ("GstVidiClassificationMetaAPI");
    if (!t)
      t = gst_meta_api_type_register ("GstVidiClassificationMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
vidi_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstVidiClassificationMeta *m = (GstVidiClassificationMeta *) meta;

  (void) params;
  (void) buffer;
  m->n = 0;
  m->labels = NULL;
  m->scores = NULL;
  m->start_pts = m->end_pts = GST_CLOCK_TIME_NONE;
  m->latency = 0;
  m->window = 0;
  m->skipped_windows = 0;
  return TRUE;
}

static void
vidi_meta_free (GstMeta * meta, GstBuffer * buffer)
{
  GstVidiClassificationMeta *m = (GstVidiClassificationMeta *) meta;

  (void) buffer;
  g_strfreev (m->labels);
  g_free (m->scores);
}

static void
vidi_meta_set (GstVidiClassificationMeta * m, guint n,
    const gchar * const *labels, const gdouble * scores)
{
  m->n = n;
  m->labels = g_new0 (gchar *, n + 1);
  for (guint i = 0; i < n; i++)
    m->labels[i] = g_strdup (labels[i]);
  m->scores = n ? g_memdup2 (scores, sizeof (gdouble) * n) : NULL;
}

static gboolean
vidi_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer,
    GQuark type, gpointer data)
{
  GstVidiClassificationMeta *src = (GstVidiClassificationMeta *) meta, *dst;

  (void) buffer;
  (void) type;
  (void) data;
  dst = (GstVidiClassificationMeta *) gst_buffer_add_meta (dest,
      GST_VIDI_CLASSIFICATION_META_INFO, NULL);
  if (!dst)
    return FALSE;
  vidi_meta_set (dst, src->n, (const gchar * const *) src->labels,
      src->scores);
  dst->start_pts = src->start_pts;
  dst->end_pts = src->end_pts;
  dst->latency = src->latency;
  dst->window = src->window;
  dst->skipped_windows = src->skipped_windows;
  return TRUE;
}

const GstMetaInfo *
gst_vidi_classification_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter ((GstMetaInfo **) & info)) {
    const GstMetaInfo *mi = gst_meta_get_info ("GstVidiClassificationMeta");
    if (!mi)
      mi = gst_meta_register (GST_VIDI_CLASSIFICATION_META_API_TYPE,
        "GstVidiClassificationMeta", sizeof (GstVidiClassificationMeta),
        vidi_meta_init, vidi_meta_free, vidi_meta_transform);
    g_once_init_leave ((GstMetaInfo **) & info, (GstMetaInfo *) mi);
  }
  return info;
}

GstVidiClassificationMeta *
gst_buffer_add_vidi_classification_meta (GstBuffer * buffer, guint n,
    const gchar * const *labels, const gdouble * scores)
{
  GstVidiClassificationMeta *m = (GstVidiClassificationMeta *)
      gst_buffer_add_meta (buffer, GST_VIDI_CLASSIFICATION_META_INFO, NULL);

  if (m)
    vidi_meta_set (m, n, labels, scores);
  return m;
}
