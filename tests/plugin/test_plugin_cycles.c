/* 200 NULL -> PLAYING -> NULL cycles of a pipeline with every vidi element
 * (sync and async inference alternating, stopped mid-stream), under the
 * GStreamer leaks tracer: the GstObjects and GstMiniObjects alive after the
 * cycles (pipeline freed) are exactly those alive before them. The sanitizer
 * build's LeakSanitizer covers plain allocations on top.
 *
 * A plain GStreamer program; criticals and warnings are fatal. */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;
#define fail_unless(cond, ...) \
  do { if (!(cond)) { failures++; fprintf (stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define fail_if(cond, ...) fail_unless (!(cond))
#define fail_unless_equals_int(a, b) fail_unless ((a) == (b))

#define FE_MODEL "tests/golden/vivit_fe/model.safetensors"
#define CYCLES 200

static GstTracer *
leaks_tracer (void)
{
  GList *tracers = gst_tracing_get_active_tracers (), *l;
  GstTracer *found = NULL;

  for (l = tracers; l; l = l->next)
    if (!found && g_str_has_prefix (G_OBJECT_TYPE_NAME (l->data), "GstLeaksTracer"))
      found = l->data;
  /* GStreamer 1.22 hands out the list without refs on its tracers
   * (unreffing them frees the live tracer): free the list only. */
  g_list_free (tracers);
  return found;
}

static guint
live_objects (GstTracer * tracer)
{
  GstStructure *s = NULL;
  const GValue *list;
  guint n;

  /* Streaming threads drop their last refs after the pipeline is gone;
   * let them finish first. (In 1.22 the snapshot's structure unrefs what it
   * lists without having reffed it, so a leaked object also shows up as a
   * fatal refcount critical: either way the test fails.) */
  gst_task_cleanup_all ();
  g_signal_emit_by_name (tracer, "get-live-objects", &s);
  fail_unless (s != NULL);
  list = gst_structure_get_value (s, "live-objects-list");
  n = list ? gst_value_list_get_size (list) : 0;
  gst_structure_free (s);
  return n;
}

static void
cycles (gint n)
{
  for (gint i = 0; i < n; i++) {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%d ! video/x-raw,width=64,height=48,format=I420 ! "
        "vivitclassify model=" FE_MODEL " threads=1 window-stride=2 async=%s ! vidioverlay ! "
        "vidijsonsink location=/dev/null", 4 + i % 13, i % 2 ? "true" : "false");
    GstElement *p = gst_parse_launch (desc, NULL);
    GstBus *bus;
    GstMessage *msg;

    fail_unless (p != NULL);
    fail_if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE, "cycle %d", i);
    fail_unless_equals_int (gst_element_get_state (p, NULL, NULL, 10 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    /* Every third cycle runs to EOS; the others stop wherever they are. */
    bus = gst_element_get_bus (p);
    if (i % 3 == 0) {
      msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS, "cycle %d did not reach EOS", i);
      gst_message_unref (msg);
    }
    fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (bus);
    gst_object_unref (p);
    g_free (desc);
  }
}

int
main (int argc, char **argv)
{
  GstTracer *tracer;
  guint before, after;

  /* Before gst_init: tracers are set up there. */
  g_setenv ("GST_TRACERS", "leaks", TRUE);
  gst_init (&argc, &argv);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  tracer = leaks_tracer ();
  if (!tracer) {
    fprintf (stderr, "leaks tracer not active\n");
    return 1;
  }
  cycles (3);                   /* types, caps caches, pools: created once */
  before = live_objects (tracer);
  cycles (CYCLES);
  after = live_objects (tracer);
  printf ("%d cycles: %u live objects before, %u after\n", CYCLES, before, after);
  if (after != before)
    g_signal_emit_by_name (tracer, "log-live-objects");
  fail_unless_equals_int (after, before);
  printf ("cycles: %s\n", failures ? "FAILED" : "passed");
  return failures ? 1 : 0;
}
