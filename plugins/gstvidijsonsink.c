/**
 * SECTION:element-vidijsonsink
 *
 * Writes one JSON object per line for every vidi classification result
 * that reaches it: the GstVidiClassificationMeta on buffers, and the final
 * (EOS tail) result and a late async one, which vivitclassify sends as a
 * custom downstream event.
 * Fields: stream_time, start_pts, end_pts (seconds), window, labels,
 * scores, latency_ms, skipped_windows, final. Lines are flushed as written,
 * so a reader sees results live.
 *
 * |[
 * gst-launch-1.0 filesrc location=clip.mp4 ! decodebin ! videoconvert ! \
 *     vivitclassify ! vidijsonsink location=results.jsonl
 * ]|
 */
#include "gstvidijsonsink.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <string.h>

#include "gstvidimeta.h"

GST_DEBUG_CATEGORY_STATIC (vidi_json_sink_debug);
#define GST_CAT_DEFAULT vidi_json_sink_debug

enum {
  PROP_0,
  PROP_LOCATION,
};

#define DEFAULT_LOCATION NULL

struct _GstVidiJsonSink {
  GstBaseSink parent;
  gchar *location;
  FILE *file;
  gboolean own_file;
  guint64 written;
};

G_DEFINE_TYPE (GstVidiJsonSink, gst_vidi_json_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (vidijsonsink, "vidijsonsink", GST_RANK_NONE, GST_TYPE_VIDI_JSON_SINK);

static void
gst_vidi_json_sink_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_free (self->location);
      self->location = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_vidi_json_sink_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (object);

  switch (prop_id) {
    case PROP_LOCATION:
      GST_OBJECT_LOCK (self);
      g_value_set_string (value, self->location);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static gboolean
gst_vidi_json_sink_start (GstBaseSink * sink)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (sink);

  self->written = 0;
  if (!self->location || !*self->location || !strcmp (self->location, "-")) {
    self->file = stdout;
    self->own_file = FALSE;
    return TRUE;
  }
  self->file = fopen (self->location, "w");
  if (!self->file) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("Cannot open %s for writing.", self->location),
        ("%s", g_strerror (errno)));
    return FALSE;
  }
  self->own_file = TRUE;
  return TRUE;
}

static gboolean
gst_vidi_json_sink_stop (GstBaseSink * sink)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (sink);
  gboolean ok = TRUE;

  if (self->file && self->own_file && fclose (self->file) != 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, CLOSE, ("Cannot close %s.", self->location), ("%s", g_strerror (errno)));
    ok = FALSE;
  }
  self->file = NULL;
  return ok;
}

static double
seconds (GstClockTime t)
{
  return GST_CLOCK_TIME_IS_VALID (t) ? (double) t / GST_SECOND : -1.0;
}

static gboolean
write_result (GstVidiJsonSink * self, guint n, gchar ** labels, const gdouble * scores, GstClockTime start,
    GstClockTime end, guint64 window, guint64 latency, guint64 skipped, gboolean final)
{
  GstBaseSink *sink = GST_BASE_SINK (self);
  cJSON *o = cJSON_CreateObject (), *l, *s;
  GstClockTime st = GST_CLOCK_TIME_NONE;
  char *line;
  gboolean ok;

  if (GST_CLOCK_TIME_IS_VALID (end))
    st = gst_segment_to_stream_time (&sink->segment, GST_FORMAT_TIME, end);
  cJSON_AddNumberToObject (o, "stream_time", seconds (st));
  cJSON_AddNumberToObject (o, "start_pts", seconds (start));
  cJSON_AddNumberToObject (o, "end_pts", seconds (end));
  cJSON_AddNumberToObject (o, "window", (double) window);
  l = cJSON_AddArrayToObject (o, "labels");
  for (guint i = 0; i < n; i++)
    cJSON_AddItemToArray (l, cJSON_CreateString (labels[i]));
  s = cJSON_AddArrayToObject (o, "scores");
  for (guint i = 0; i < n; i++)
    cJSON_AddItemToArray (s, cJSON_CreateNumber (scores[i]));
  cJSON_AddNumberToObject (o, "latency_ms", latency / 1e6);
  cJSON_AddNumberToObject (o, "skipped_windows", (double) skipped);
  cJSON_AddBoolToObject (o, "final", final);
  line = cJSON_PrintUnformatted (o);
  cJSON_Delete (o);
  ok = line && fprintf (self->file, "%s\n", line) > 0 && fflush (self->file) == 0;
  cJSON_free (line);
  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("Cannot write to %s.", self->location ? self->location : "stdout"),
        ("%s", g_strerror (errno)));
    return FALSE;
  }
  self->written++;
  return TRUE;
}

static GstFlowReturn
gst_vidi_json_sink_render (GstBaseSink * sink, GstBuffer * buf)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (sink);
  GstVidiClassificationMeta *m = gst_buffer_get_vidi_classification_meta (buf);

  if (m && !write_result (self, m->n, m->labels, m->scores, m->start_pts, m->end_pts, m->window, m->latency,
          m->skipped_windows, FALSE))
    return GST_FLOW_ERROR;
  return GST_FLOW_OK;
}

/* vivitclassify's EOS tail result (and an async result that came after the
 * last buffer) arrive as custom events before EOS. */
static gboolean
gst_vidi_json_sink_event (GstBaseSink * sink, GstEvent * event)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (sink);
  const GstStructure *s = gst_event_get_structure (event);

  if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM && s
      && gst_structure_has_name (s, "vidi-classification")) {
    gchar **labels = NULL;
    const GValue *arr = gst_structure_get_value (s, "scores");
    guint64 start = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE, window = 0, latency = 0, skipped = 0;
    guint n;
    gdouble *scores;
    gboolean ok, final = FALSE;

    gst_structure_get (s, "final", G_TYPE_BOOLEAN, &final, "labels", G_TYPE_STRV, &labels, "start-pts", G_TYPE_UINT64, &start, "end-pts",
        G_TYPE_UINT64, &end, "window", G_TYPE_UINT64, &window, "latency", G_TYPE_UINT64, &latency,
        "skipped-windows", G_TYPE_UINT64, &skipped, NULL);
    n = labels ? g_strv_length (labels) : 0;
    scores = g_new0 (gdouble, MAX (n, 1));
    for (guint i = 0; arr && i < n && i < gst_value_array_get_size (arr); i++)
      scores[i] = g_value_get_double (gst_value_array_get_value (arr, i));
    ok = write_result (self, n, labels, scores, start, end, window, latency, skipped, final);
    g_strfreev (labels);
    g_free (scores);
    if (!ok) {
      gst_event_unref (event);
      return FALSE;
    }
  }
  return GST_BASE_SINK_CLASS (gst_vidi_json_sink_parent_class)->event (sink, event);
}

static void
gst_vidi_json_sink_finalize (GObject * object)
{
  GstVidiJsonSink *self = GST_VIDI_JSON_SINK (object);

  g_free (self->location);
  G_OBJECT_CLASS (gst_vidi_json_sink_parent_class)->finalize (object);
}

static void
gst_vidi_json_sink_init (GstVidiJsonSink * self)
{
  self->location = DEFAULT_LOCATION;
  /* Results are written as they come; there is nothing to sync to. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_vidi_json_sink_class_init (GstVidiJsonSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *sink_class = GST_BASE_SINK_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (vidi_json_sink_debug, "vidijsonsink", 0, "vidi JSON sink");
  gobject_class->set_property = gst_vidi_json_sink_set_property;
  gobject_class->get_property = gst_vidi_json_sink_get_property;
  gobject_class->finalize = gst_vidi_json_sink_finalize;
  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location", "File to write JSON lines to (unset or '-': stdout)",
          DEFAULT_LOCATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  gst_element_class_set_static_metadata (element_class, "vidi JSON result sink", "Sink/Metadata",
      "Writes one JSON line per vidi classification result (stream time, labels, scores)", "vidi developers");
  gst_element_class_add_pad_template (element_class,
      gst_pad_template_new ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, gst_caps_new_any ()));
  sink_class->start = GST_DEBUG_FUNCPTR (gst_vidi_json_sink_start);
  sink_class->stop = GST_DEBUG_FUNCPTR (gst_vidi_json_sink_stop);
  sink_class->render = GST_DEBUG_FUNCPTR (gst_vidi_json_sink_render);
  sink_class->event = GST_DEBUG_FUNCPTR (gst_vidi_json_sink_event);
}
