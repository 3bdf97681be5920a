/* Live measurement for docs/perf.md (a tool, not a test: timings do not go
 * in tests). Runs
 *   videotestsrc is-live=true pattern=ball num-buffers=SECONDS*30
 *     ! video/x-raw,WxH,30/1 ! vivitclassify model=M async=A window-stride=S
 *     ! vidioverlay ! fakesink sync=true
 * and reports: frames produced by the source and rendered by the sink (a
 * pad probe on each), frames the sink dropped as late (its stats), windows
 * classified and skipped, and per-result latency (frame entering the
 * element -> result) and capture latency (pipeline clock at the result minus
 * the frame's capture running time): mean, median, p95, max.
 *   vidi_live_measure MODEL [SECONDS=10] [WINDOW_STRIDE=4] [ASYNC=1] [THREADS=0] [W=320] [H=240] */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static guint64 produced, rendered;

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  (void) pad;
  (void) info;
  g_atomic_pointer_add ((gsize *) data, 1);
  return GST_PAD_PROBE_OK;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
report (const char *what, double *v, int n)
{
  double sum = 0;

  if (n == 0) {
    printf ("%s: no results\n", what);
    return;
  }
  qsort (v, n, sizeof *v, cmp_double);
  for (int i = 0; i < n; i++)
    sum += v[i];
  printf ("%s ms: mean %.1f, median %.1f, p95 %.1f, max %.1f (n=%d)\n", what, sum / n, v[n / 2],
      v[(int) (0.95 * (n - 1))], v[n - 1], n);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 2) {
    fprintf (stderr, "usage: vidi_live_measure MODEL [SECONDS] [WINDOW_STRIDE] [ASYNC] [THREADS] [W] [H]\n");
    return 2;
  }
  const char *model = argv[1];
  int seconds = argc > 2 ? atoi (argv[2]) : 10, stride = argc > 3 ? atoi (argv[3]) : 4;
  int async = argc > 4 ? atoi (argv[4]) : 1, threads = argc > 5 ? atoi (argv[5]) : 0;
  int w = argc > 6 ? atoi (argv[6]) : 320, h = argc > 7 ? atoi (argv[7]) : 240;
  gchar *desc = g_strdup_printf ("videotestsrc name=src is-live=true pattern=ball num-buffers=%d ! "
      "video/x-raw,width=%d,height=%d,framerate=30/1 ! vivitclassify name=c model=\"%s\" async=%s window-stride=%d "
      "threads=%d ! vidioverlay ! fakesink name=sink sync=true", seconds * 30, w, h, model,
      async ? "true" : "false", stride, threads);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  if (!p) {
    fprintf (stderr, "%s\n", err->message);
    return 1;
  }
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src"), *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstPad *sp = gst_element_get_static_pad (src, "src"), *kp = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sp, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &produced, NULL);
  gst_pad_add_probe (kp, GST_PAD_PROBE_TYPE_BUFFER, count_probe, &rendered, NULL);
  GstBus *bus = gst_element_get_bus (p);
  int cap = seconds * 30 + 16, n = 0, rc = 0;
  double *lat = g_new (double, cap), *cap_lat = g_new (double, cap);
  guint64 skipped = 0;
  gboolean done = FALSE;

  printf ("pipeline: %s\n", desc);
  gst_element_set_state (p, GST_STATE_PLAYING);
  while (!done) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, (seconds + 120) * GST_SECOND,
        GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!m) {
      fprintf (stderr, "timed out\n");
      rc = 1;
      break;
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure (m);
      guint64 l = 0;
      gint64 c = 0;
      gboolean final = FALSE;
      if (gst_structure_has_name (s, "vidi-classification") && n < cap) {
        gst_structure_get (s, "latency", G_TYPE_UINT64, &l, "skipped-windows", G_TYPE_UINT64, &skipped,
            "final", G_TYPE_BOOLEAN, &final, NULL);
        if (!final) {           /* the EOS tail is not a live result */
          lat[n] = l / 1e6;
          cap_lat[n] = gst_structure_get_int64 (s, "capture-latency", &c) ? c / 1e6 : 0;
          n++;
        }
      }
    } else {
      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gst_message_parse_error (m, &e, NULL);
        fprintf (stderr, "error: %s\n", e->message);
        g_error_free (e);
        rc = 1;
      }
      done = TRUE;
    }
    gst_message_unref (m);
  }
  GstStructure *stats = NULL;
  guint64 dropped = 0;
  g_object_get (sink, "stats", &stats, NULL);
  if (stats) {
    gst_structure_get_uint64 (stats, "dropped", &dropped);
    gst_structure_free (stats);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  printf ("frames: produced %" G_GUINT64_FORMAT ", rendered %" G_GUINT64_FORMAT ", dropped by the sink (late) %"
      G_GUINT64_FORMAT ", lost in between %" G_GUINT64_FORMAT "\n", produced, rendered, dropped, produced - rendered);
  printf ("windows: classified %d, skipped %" G_GUINT64_FORMAT "\n", n, skipped);
  report ("latency (frame in -> result)", lat, n);
  report ("capture latency (capture -> result)", cap_lat, n);
  g_free (lat);
  g_free (cap_lat);
  gst_object_unref (sp);
  gst_object_unref (kp);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
  return rc;
}
