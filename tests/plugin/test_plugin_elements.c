/* GstHarness / GstCheck tests of the vidi plugin's elements (registered in
 * tests/plugin.cmake; run from the source root with GST_PLUGIN_PATH set to
 * the build's plugins/ folder).
 *
 * Models: tests/golden/vivit_fe (a tiny factorised-encoder ViViT, 8 frames
 * of 32x32, tubelet 2) for window / stride / async / EOS behaviour, whose
 * results are checked against libvidi run directly on the same frames;
 * samples/models/vit-shapes for vitclassify on the sample images (expected
 * labels from samples/images/expected.json); the default video model
 * (samples/models/vivit-synth.safetensors) for the expected label of a
 * sample clip. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/gstvidimeta.h"
#include "pipeline/classify.h"
#include "vidi/decode.h"
#include "vidi/preprocess.h"
#include "vidi/vit.h"
#include "vidi/vivit.h"

#define FE_MODEL "tests/golden/vivit_fe/model.safetensors"
#define VIT_MODEL "samples/models/vit-shapes"
#define W 64
#define H 48
#define FPS 30

/* A frame that changes over time (so windows differ): gradients plus a
 * square moving right. */
static void
fill_rgb (guint8 * rgb, gint stride, gint t)
{
  for (gint y = 0; y < H; y++)
    for (gint x = 0; x < W; x++) {
      guint8 *p = rgb + y * stride + x * 3;
      gboolean sq = x >= 4 + 3 * t % (W - 16) && x < 16 + 3 * t % (W - 16) && y >= 16 && y < 28;
      p[0] = sq ? 250 : (guint8) (x * 4);
      p[1] = sq ? 30 : (guint8) (y * 5);
      p[2] = (guint8) ((x + y + 7 * t) & 0xff);
    }
}

/* Frame t in `format`, converted from fill_rgb by GstVideoConverter. */
static GstBuffer *
make_frame (GstVideoFormat format, gint t)
{
  GstVideoInfo rgb_info, out_info;
  GstVideoFrame in, out;
  GstBuffer *rgb, *buf;
  GstVideoConverter *conv;

  gst_video_info_set_format (&rgb_info, GST_VIDEO_FORMAT_RGB, W, H);
  gst_video_info_set_format (&out_info, format, W, H);
  rgb = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&rgb_info), NULL);
  gst_video_frame_map (&in, &rgb_info, rgb, GST_MAP_WRITE);
  fill_rgb (GST_VIDEO_FRAME_PLANE_DATA (&in, 0), GST_VIDEO_FRAME_PLANE_STRIDE (&in, 0), t);
  gst_video_frame_unmap (&in);
  if (format == GST_VIDEO_FORMAT_RGB) {
    buf = rgb;
  } else {
    buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&out_info), NULL);
    conv = gst_video_converter_new (&rgb_info, &out_info, NULL);
    gst_video_frame_map (&in, &rgb_info, rgb, GST_MAP_READ);
    gst_video_frame_map (&out, &out_info, buf, GST_MAP_WRITE);
    gst_video_converter_frame (conv, &in, &out);
    gst_video_frame_unmap (&in);
    gst_video_frame_unmap (&out);
    gst_video_converter_free (conv);
    gst_buffer_unref (rgb);
  }
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (t, GST_SECOND, FPS);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (1, GST_SECOND, FPS);
  return buf;
}

static gchar *
caps_string (GstVideoFormat format)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,framerate=%d/1",
      gst_video_format_to_string (format), W, H, FPS);
}

typedef struct {
  guint buffers_out, metas, messages, finals;
  gdouble top_score[64];        /* per window index: best score */
  gchar *top_label[64];
  guint64 skipped;              /* from the last message */
  guint64 windows_seen;
  GstClockTime final_end;
} RunResult;

static void
run_result_clear (RunResult * r)
{
  for (gint i = 0; i < 64; i++)
    g_free (r->top_label[i]);
  memset (r, 0, sizeof *r);
}

static void
collect_messages (GstBus * bus, RunResult * r)
{
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "vidi-classification")) {
      gboolean final = FALSE;
      guint64 window = 0, end = 0;
      gchar **labels = NULL;
      const GValue *scores = gst_structure_get_value (s, "scores");

      fail_unless (gst_structure_get (s, "final", G_TYPE_BOOLEAN, &final, "window", G_TYPE_UINT64, &window,
              "skipped-windows", G_TYPE_UINT64, &r->skipped, "end-pts", G_TYPE_UINT64, &end,
              "labels", G_TYPE_STRV, &labels, NULL));
      fail_unless (gst_structure_has_field_typed (s, "latency", G_TYPE_UINT64));
      fail_unless (gst_structure_has_field_typed (s, "start-pts", G_TYPE_UINT64));
      fail_unless (labels != NULL && g_strv_length (labels) == gst_value_array_get_size (scores));
      r->messages++;
      if (final) {
        r->finals++;
        r->final_end = end;
      }
      if (window < 64 && labels[0]) {
        g_free (r->top_label[window]);
        r->top_label[window] = g_strdup (labels[0]);
        r->top_score[window] = g_value_get_double (gst_value_array_get_value (scores, 0));
      }
      g_strfreev (labels);
    }
    gst_message_unref (m);
  }
}

/* Pushes n frames through `desc` (a vivitclassify / vitclassify line), then
 * EOS; counts buffers, meta and messages. */
static void
run_frames (const gchar * desc, GstVideoFormat format, gint n, RunResult * r)
{
  GstHarness *h = gst_harness_new_parse (desc);
  GstBus *bus = gst_bus_new ();
  gchar *caps = caps_string (format);
  GstBuffer *out;

  memset (r, 0, sizeof *r);
  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, caps);
  for (gint t = 0; t < n; t++) {
    fail_unless_equals_int (gst_harness_push (h, make_frame (format, t)), GST_FLOW_OK);
    while ((out = gst_harness_try_pull (h))) {
      if (gst_buffer_get_vidi_classification_meta (out))
        r->metas++;
      r->buffers_out++;
      gst_buffer_unref (out);
    }
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while ((out = gst_harness_try_pull (h))) {
    if (gst_buffer_get_vidi_classification_meta (out))
      r->metas++;
    r->buffers_out++;
    gst_buffer_unref (out);
  }
  collect_messages (bus, r);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_free (caps);
}

/* Every accepted format negotiates and classifies; scores agree with the
 * RGB run to within the YUV round trip. */
GST_START_TEST (test_caps_every_format)
{
  static const GstVideoFormat formats[] = { GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_RGBx,
    GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12
  };
  RunResult rgb, r;

  run_frames ("vivitclassify model=" FE_MODEL " threads=1", GST_VIDEO_FORMAT_RGB, 16, &rgb);
  fail_unless_equals_int (rgb.buffers_out, 16);
  fail_unless_equals_int (rgb.metas, 2);
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++) {
    run_frames ("vivitclassify model=" FE_MODEL " threads=1", formats[i], 16, &r);
    GST_INFO ("%s: top %s %.4f (RGB %s %.4f)", gst_video_format_to_string (formats[i]), r.top_label[0],
        r.top_score[0], rgb.top_label[0], rgb.top_score[0]);
    fail_unless_equals_int (r.buffers_out, 16);
    fail_unless_equals_int (r.metas, 2);
    fail_unless_equals_int (r.messages, 2);
    fail_unless (r.top_label[0] && !strcmp (r.top_label[0], rgb.top_label[0]), "%s: label %s vs RGB %s",
        gst_video_format_to_string (formats[i]), r.top_label[0], rgb.top_label[0]);
    fail_unless (fabs (r.top_score[0] - rgb.top_score[0]) < 0.02, "%s: score %f vs RGB %f",
        gst_video_format_to_string (formats[i]), r.top_score[0], rgb.top_score[0]);
    run_result_clear (&r);
  }
  run_result_clear (&rgb);
}

GST_END_TEST;

GST_START_TEST (test_caps_unsupported)
{
  GstHarness *h = gst_harness_new_parse ("vivitclassify model=" FE_MODEL " threads=1");
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H * 2, NULL);

  gst_harness_set_src_caps_str (h, "video/x-raw,format=YUY2,width=64,height=48,framerate=30/1");
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Window counts: S sampled frames of a window of 8 give
 * 1 + (S - 8) / stride windows with meta, plus one final (tail) message when
 * frames are left after the last window. */
GST_START_TEST (test_window_counts)
{
  static const struct {
    gint frame_stride, window_stride, frames;
  } cases[] = { {1, 0, 16}, {1, 0, 20}, {2, 4, 40}, {3, 2, 40}, {1, 1, 12}, {1, 8, 7}, {1, 6, 8} };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    gint fs = cases[i].frame_stride, ws = cases[i].window_stride ? cases[i].window_stride : 8;
    gint s = (cases[i].frames + fs - 1) / fs;
    gint windows = s >= 8 ? 1 + (s - 8) / ws : 0;
    gint tail = s >= 8 && s > 8 + (windows - 1) * ws;
    gchar *desc = g_strdup_printf ("vivitclassify model=" FE_MODEL " threads=1 frame-stride=%d window-stride=%d",
        fs, cases[i].window_stride);
    RunResult r;

    run_frames (desc, GST_VIDEO_FORMAT_RGB, cases[i].frames, &r);
    fail_unless_equals_int (r.buffers_out, cases[i].frames);
    fail_unless (r.metas == (guint) windows, "%s, %d frames: %u windows with meta, want %d", desc,
        cases[i].frames, r.metas, windows);
    fail_unless (r.finals == (guint) tail, "%s: %u final results, want %d", desc, r.finals, tail);
    fail_unless_equals_int (r.messages, windows + tail);
    if (tail) {                 /* the tail ends at the last sampled frame */
      fail_unless_equals_uint64 (r.final_end, gst_util_uint64_scale ((s - 1) * fs, GST_SECOND, FPS));
    }
    run_result_clear (&r);
    g_free (desc);
  }
  /* vitclassify: a window is one frame, so 1 + (S - 1) / stride results, no tail. */
  for (gint fs = 1; fs <= 5; fs += 2)
    for (gint ws = 1; ws <= 3; ws++) {
      gint s = (20 + fs - 1) / fs, windows = 1 + (s - 1) / ws;
      gchar *desc = g_strdup_printf ("vitclassify model=" VIT_MODEL " threads=1 frame-stride=%d window-stride=%d", fs,
          ws);
      RunResult r;

      run_frames (desc, GST_VIDEO_FORMAT_RGB, 20, &r);
      fail_unless_equals_int (r.buffers_out, 20);
      fail_unless (r.metas == (guint) windows && r.messages == (guint) windows && r.finals == 0,
          "%s: %u metas, %u messages, want %d", desc, r.metas, r.messages, windows);
      run_result_clear (&r);
      g_free (desc);
    }
}

GST_END_TEST;

/* The meta's results equal libvidi run directly on the same frames (full
 * forward per window), so the ring, the strides and the model-2 streaming
 * cache hand the model the right frames. window-stride 2 = one tubelet
 * (streamed), 3 = not a whole tubelet (restarts). */
static void
check_against_library (gint window_stride)
{
  vidi_backend *be = NULL;
  vidi_vivit *m = NULL;
  vidi_sampler_params sp;
  const gint n = 20;
  gfloat *frames, logits[16];
  gsize ff;
  gchar *desc = g_strdup_printf ("vivitclassify model=" FE_MODEL " threads=1 top-k=3 window-stride=%d",
      window_stride);
  GstHarness *h = gst_harness_new_parse (desc);
  gint window = 0;

  fail_unless (vidi_backend_create ("cpu", 1, &be) == VIDI_OK);
  fail_unless (vidi_vivit_load (FE_MODEL, be, &m) == VIDI_OK, "%s", vidi_last_error ());
  fail_unless (vidi_vivit_sampler_params (m, &sp) == VIDI_OK);
  ff = (gsize) 3 * sp.crop_w * sp.crop_h;
  frames = g_new (gfloat, ff * n);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  for (gint t = 0; t < n; t++) {
    GstBuffer *in = make_frame (GST_VIDEO_FORMAT_RGB, t), *out;
    GstMapInfo map;
    GstVidiClassificationMeta *meta;

    gst_buffer_map (in, &map, GST_MAP_READ);
    fail_unless (vidi_preprocess_frame (&sp, map.data, W, H, W * 3, frames + ff * t) == VIDI_OK);
    gst_buffer_unmap (in, &map);
    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    meta = gst_buffer_get_vidi_classification_meta (out);
    if (t + 1 >= 8 && (t + 1 - 8) % window_stride == 0) {
      vidi_topk top[3];

      fail_unless (meta != NULL, "frame %d should end window %d", t, window);
      fail_unless (vidi_vivit_forward (m, frames + ff * (t + 1 - 8), logits, NULL, NULL) == VIDI_OK);
      vidi_softmax_topk (logits, vidi_vivit_get_config (m)->num_labels, top, 3);
      fail_unless_equals_int (meta->n, 3);
      fail_unless_equals_uint64 (meta->window, window);
      fail_unless_equals_uint64 (meta->end_pts, GST_BUFFER_PTS (out));
      fail_unless_equals_uint64 (meta->start_pts, gst_util_uint64_scale (t + 1 - 8, GST_SECOND, FPS));
      for (gint k = 0; k < 3; k++) {
        fail_unless_equals_string (meta->labels[k], vidi_vivit_label (m, top[k].index));
        fail_unless (fabs (meta->scores[k] - top[k].score) < 1e-5, "window %d rank %d: %f vs %f", window, k,
            meta->scores[k], top[k].score);
      }
      window++;
    } else {
      fail_unless (meta == NULL, "frame %d has meta", t);
    }
    gst_buffer_unref (out);
  }
  fail_unless (window >= 4);
  gst_harness_teardown (h);
  g_free (frames);
  g_free (desc);
  vidi_vivit_free (m);
  vidi_backend_destroy (be);
}

GST_START_TEST (test_results_equal_library)
{
  check_against_library (2);
  check_against_library (3);
  check_against_library (1);
}

GST_END_TEST;

/* async: a slow backend (the scalar reference, one thread) and frames
 * pushed as fast as they come: windows are skipped, never queued, every
 * buffer passes, and classified + skipped = all windows. */
GST_START_TEST (test_async_skips)
{
  RunResult r;
  const gint n = 200, windows = 200 - 8 + 1;

  run_frames ("vivitclassify model=" FE_MODEL " backend=ref threads=1 window-stride=1 async=true",
      GST_VIDEO_FORMAT_RGB, n, &r);
  GST_INFO ("async: %u classified, %" G_GUINT64_FORMAT " skipped", r.messages, r.skipped);
  fail_unless_equals_int (r.buffers_out, n);
  fail_unless (r.skipped > 0, "no window skipped");
  fail_unless (r.messages >= 1);
  /* metas: every classified window but possibly the last (no buffer after
   * it: that one goes downstream as an event) */
  fail_unless (r.metas == r.messages || r.metas + 1 == r.messages, "%u metas, %u messages", r.metas, r.messages);
  /* The last message's skipped count is final: EOS waited for the worker. */
  fail_unless_equals_int (r.messages + r.skipped, windows);
  fail_unless_equals_int (r.finals, 0);
  run_result_clear (&r);
}

GST_END_TEST;

/* EOS with fewer frames than a window: a warning, no result. */
GST_START_TEST (test_eos_short_stream)
{
  GstHarness *h = gst_harness_new_parse ("vivitclassify model=" FE_MODEL " threads=1");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  RunResult r = { 0 };

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  for (gint t = 0; t < 5; t++)
    fail_unless_equals_int (gst_harness_push (h, make_frame (GST_VIDEO_FORMAT_RGB, t)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for a stream shorter than a window");
  gst_message_unref (msg);
  collect_messages (bus, &r);
  fail_unless_equals_int (r.messages, 0);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* A flush empties the window: 6 frames, flush, 6 frames -> nothing; two
 * more -> the first window, starting at the first frame after the flush. */
GST_START_TEST (test_flush)
{
  GstHarness *h = gst_harness_new_parse ("vivitclassify model=" FE_MODEL " threads=1");
  GstSegment seg;
  GstBuffer *out;
  guint metas = 0;
  GstClockTime start = GST_CLOCK_TIME_NONE;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
  for (gint t = 0; t < 6; t++)
    gst_harness_push (h, make_frame (GST_VIDEO_FORMAT_RGB, t));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  for (gint t = 100; t < 108; t++) {
    fail_unless_equals_int (gst_harness_push (h, make_frame (GST_VIDEO_FORMAT_RGB, t)), GST_FLOW_OK);
  }
  while ((out = gst_harness_try_pull (h))) {
    GstVidiClassificationMeta *m = gst_buffer_get_vidi_classification_meta (out);
    if (m) {
      metas++;
      start = m->start_pts;
      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), gst_util_uint64_scale (107, GST_SECOND, FPS));
    }
    gst_buffer_unref (out);
  }
  fail_unless_equals_int (metas, 1);
  fail_unless_equals_uint64 (start, gst_util_uint64_scale (100, GST_SECOND, FPS));
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Bad input: each is an element error on the bus naming the cause; the
 * pipeline does not start (or stops), nothing hangs. */
static gchar *
pipeline_error (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  gchar *text = NULL, *dbg = NULL;

  fail_unless (p != NULL, "%s", err ? err->message : desc);
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
  fail_unless (msg != NULL, "%s: no error and no EOS within 20 s", desc);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e = NULL;
    gst_message_parse_error (msg, &e, &dbg);
    text = g_strdup_printf ("%s | %s", e->message, dbg ? dbg : "");
    g_error_free (e);
    g_free (dbg);
  }
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return text;
}

GST_START_TEST (test_bad_input)
{
  gchar *e;

  e = pipeline_error ("videotestsrc num-buffers=5 ! vivitclassify model=tests/no/such/model.safetensors ! fakesink");
  fail_unless (e && strstr (e, "tests/no/such/model.safetensors"), "missing model: %s", e);
  g_free (e);
  /* No model property and no default model where VIDI_MODEL_DIR points. */
  g_setenv ("VIDI_MODEL_DIR", "tests/no/such/dir", TRUE);
  e = pipeline_error ("videotestsrc num-buffers=5 ! vivitclassify ! fakesink");
  g_unsetenv ("VIDI_MODEL_DIR");
  fail_unless (e && strstr (e, "no default video model") && strstr (e, "tests/no/such/dir"), "no default: %s", e);
  g_free (e);
  e = pipeline_error ("videotestsrc num-buffers=5 ! vivitclassify model=" VIT_MODEL " ! fakesink");
  fail_unless (e && strstr (e, "Cannot load model") && strstr (e, "ViT"), "ViT given to vivitclassify: %s", e);
  g_free (e);
  e = pipeline_error ("videotestsrc num-buffers=5 ! vitclassify model=" FE_MODEL " ! fakesink");
  fail_unless (e && strstr (e, "Cannot load model") && strstr (e, "ViViT"), "ViViT given to vitclassify: %s", e);
  g_free (e);
  e = pipeline_error ("videotestsrc num-buffers=5 ! video/x-raw,format=YUY2 ! vivitclassify model=" FE_MODEL
      " ! fakesink");
  /* parse_launch leaves the caps filter unlinked, so the source says so. */
  fail_unless (e && (strstr (e, "not-negotiated") || strstr (e, "not-linked")), "YUY2: %s", e);
  g_free (e);
  e = pipeline_error ("videotestsrc num-buffers=5 ! vivitclassify model=" FE_MODEL " labels=tests/no/labels.txt"
      " ! fakesink");
  fail_unless (e && strstr (e, "tests/no/labels.txt"), "missing labels: %s", e);
  g_free (e);
}

GST_END_TEST;

/* A zero-size buffer (or one too small for its caps): error, no crash. */
GST_START_TEST (test_zero_size_frame)
{
  GstHarness *h = gst_harness_new_parse ("vivitclassify model=" FE_MODEL " threads=1");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=64,height=48,framerate=30/1");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new ()), GST_FLOW_ERROR);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* vitclassify on the sample images: the expected label, and the score of
 * `vidi classify` on the same pixels (the image path, run here). */
GST_START_TEST (test_vit_images)
{
  static const struct {
    const gchar *file, *label;
  } images[] = { {"square_1.png", "square"}, {"triangle_1.png", "triangle"}, {"ring_2.png", "ring"},
    {"cross_1.png", "cross"} };
  vidi_backend *be = NULL;
  vidi_vit *m = NULL;

  fail_unless (vidi_backend_create ("cpu", 1, &be) == VIDI_OK);
  fail_unless (vidi_vit_load (VIT_MODEL, be, 0, &m) == VIDI_OK, "%s", vidi_last_error ());
  for (gsize i = 0; i < G_N_ELEMENTS (images); i++) {
    gchar *path = g_strdup_printf ("samples/images/%s", images[i].file), *caps;
    vidi_image img = { 0 };
    GstHarness *h = gst_harness_new_parse ("vitclassify model=" VIT_MODEL " threads=1 top-k=1");
    GstBuffer *buf, *out;
    GstVidiClassificationMeta *meta;
    gfloat logits[16];
    vidi_topk top;

    fail_unless (vidi_image_load (path, &img) == VIDI_OK, "%s", vidi_last_error ());
    fail_unless (vidi_classify_image (m, path, logits) == VIDI_OK);
    vidi_softmax_topk (logits, vidi_vit_get_config (m)->num_labels, &top, 1);
    caps = g_strdup_printf ("video/x-raw,format=RGB,width=%d,height=%d,framerate=1/1", img.width, img.height);
    gst_harness_set_src_caps_str (h, caps);
    /* GStreamer RGB rows are 4-byte aligned. */
    {
      GstVideoInfo info;
      GstVideoFrame f;
      gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, img.width, img.height);
      buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
      gst_video_frame_map (&f, &info, buf, GST_MAP_WRITE);
      for (gint y = 0; y < img.height; y++)
        memcpy ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0),
            img.rgb + (gsize) y * img.width * 3, (gsize) img.width * 3);
      gst_video_frame_unmap (&f);
    }
    GST_BUFFER_PTS (buf) = 0;
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    out = gst_harness_pull (h);
    meta = gst_buffer_get_vidi_classification_meta (out);
    fail_unless (meta && meta->n == 1);
    fail_unless_equals_string (meta->labels[0], images[i].label);
    fail_unless (fabs (meta->scores[0] - top.score) < 1e-5, "%s: %f vs vidi classify %f", path, meta->scores[0],
        top.score);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
    vidi_image_free (&img);
    g_free (caps);
    g_free (path);
  }
  vidi_vit_free (m);
  vidi_backend_destroy (be);
}

GST_END_TEST;

/* vidioverlay: a frame without any result is untouched; with a result the
 * top-left box changes (darkened, white text) and the rest does not. */
static void
check_overlay (GstVideoFormat format)
{
  gchar *caps = caps_string (format);
  GstHarness *h = gst_harness_new_parse ("vidioverlay scale=1");
  GstBuffer *in, *out, *ref;
  const gchar *labels[] = { "circle", NULL };
  gdouble scores[] = { 0.9 };
  GstMapInfo a, b;
  gsize changed_box = 0, changed_rest = 0;
  GstVideoInfo info;

  gst_video_info_set_format (&info, format, W, H);
  gst_harness_set_src_caps_str (h, caps);
  ref = make_frame (format, 3);
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (ref));
  gst_buffer_map (out, &a, GST_MAP_READ);
  gst_buffer_map (ref, &b, GST_MAP_READ);
  fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0, "frame without result changed");
  gst_buffer_unmap (out, &a);
  gst_buffer_unmap (ref, &b);
  gst_buffer_unref (out);

  in = gst_buffer_copy_deep (ref);
  gst_buffer_add_vidi_classification_meta (in, 1, labels, scores);
  out = gst_harness_push_and_pull (h, in);
  gst_buffer_map (out, &a, GST_MAP_READ);
  gst_buffer_map (ref, &b, GST_MAP_READ);
  /* Compare the first plane row by row: the box is the top 10 rows. */
  for (gint y = 0; y < H; y++) {
    gsize off = GST_VIDEO_INFO_PLANE_OFFSET (&info, 0) + (gsize) y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0);
    gsize row = (gsize) W * GST_VIDEO_FORMAT_INFO_PSTRIDE (info.finfo, 0);
    for (gsize i = 0; i < row; i++)
      if (a.data[off + i] != b.data[off + i])
        (y < 12 ? changed_box++ : changed_rest++);
  }
  gst_buffer_unmap (out, &a);
  gst_buffer_unmap (ref, &b);
  gst_buffer_unref (out);
  fail_unless (changed_box > 100, "%s: only %zu bytes of the label box changed", caps, changed_box);
  fail_unless (changed_rest == 0, "%s: %zu bytes outside the box changed", caps, changed_rest);
  /* The next frame keeps the result on screen. */
  out = gst_harness_push_and_pull (h, gst_buffer_copy_deep (ref));
  gst_buffer_map (out, &a, GST_MAP_READ);
  gst_buffer_map (ref, &b, GST_MAP_READ);
  fail_unless (memcmp (a.data, b.data, a.size) != 0, "result not kept on the next frame");
  gst_buffer_unmap (out, &a);
  gst_buffer_unmap (ref, &b);
  gst_buffer_unref (out);
  gst_buffer_unref (ref);
  gst_harness_teardown (h);
  g_free (caps);
}

GST_START_TEST (test_overlay)
{
  check_overlay (GST_VIDEO_FORMAT_RGB);
  check_overlay (GST_VIDEO_FORMAT_BGRx);
  check_overlay (GST_VIDEO_FORMAT_I420);
  check_overlay (GST_VIDEO_FORMAT_NV12);
}

GST_END_TEST;

/* vidijsonsink: one line per window plus the final one, valid JSON with
 * the labels the messages had. */
GST_START_TEST (test_json_sink)
{
  gchar *dir = g_dir_make_tmp ("vidi-json-XXXXXX", NULL);
  gchar *file = g_build_filename (dir, "out.jsonl", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=21 ! video/x-raw,width=64,height=48 ! vivitclassify "
      "model=" FE_MODEL " threads=1 window-stride=4 top-k=2 ! vidijsonsink location=%s", file);
  gchar *err = pipeline_error (desc), *text = NULL, **lines;
  guint n = 0, finals = 0;

  fail_unless (err == NULL, "%s", err);
  fail_unless (g_file_get_contents (file, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (gint i = 0; lines[i] && lines[i][0]; i++) {
    n++;
    fail_unless (g_str_has_prefix (lines[i], "{\"stream_time\":"), "line %d: %s", i, lines[i]);
    fail_unless (strstr (lines[i], "\"labels\":[\"action_") && strstr (lines[i], "\"scores\":["), "%s", lines[i]);
    if (strstr (lines[i], "\"final\":true"))
      finals++;
  }
  /* 21 frames, window 8, stride 4: windows at 8, 12, 16, 20; tail at 21. */
  fail_unless_equals_int (n, 5);
  fail_unless_equals_int (finals, 1);
  g_strfreev (lines);
  g_free (text);
  g_unlink (file);
  g_rmdir (dir);
  g_free (file);
  g_free (dir);
  g_free (desc);
}

GST_END_TEST;

/* A sample clip through filesrc ! decodebin ! vivitclassify (I420 from
 * GStreamer's libav decoder) gives, window for window, the logits of
 * libvidi's own decoder + sampler preprocessing (decoder-side resize, crop,
 * normalise) on the same frames: the element preprocesses a stream frame
 * exactly as `vidi classify` preprocesses a decoded file frame. */
GST_START_TEST (test_stream_equals_decoder)
{
  const gchar *clip = "samples/clips/kinetics-h264/val/turning something clockwise/UykOurxn_tD_000178_000180.mp4";
  vidi_backend *be = NULL;
  vidi_vivit *m = NULL;
  vidi_sampler_params sp;
  vidi_decoder_params dp;
  vidi_decoder *dec = NULL;
  vidi_frame f;
  gint got = 1, n = 0, nl, windows = 0;
  gsize ff;
  gfloat *frames, logits[16];
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! vivitclassify model=" FE_MODEL
      " threads=1 top-k=5 window-stride=4 ! fakesink", clip);
  GstElement *p;
  GstBus *bus;
  GstMessage *msg;
  gboolean done = FALSE;

  fail_unless (vidi_backend_create ("cpu", 1, &be) == VIDI_OK);
  fail_unless (vidi_vivit_load (FE_MODEL, be, &m) == VIDI_OK);
  fail_unless (vidi_vivit_sampler_params (m, &sp) == VIDI_OK);
  nl = vidi_vivit_get_config (m)->num_labels;
  ff = (gsize) 3 * sp.crop_w * sp.crop_h;
  frames = g_new (gfloat, ff * 64);
  dp = vidi_sampler_decoder_params (&sp, NULL);
  fail_unless (vidi_decoder_open (clip, &dp, &dec) == VIDI_OK, "%s", vidi_last_error ());
  while (n < 64 && vidi_decoder_next (dec, &f, &got) == VIDI_OK && got) {
    fail_unless (vidi_preprocess_frame (&sp, f.rgb, f.width, f.height, f.width * 3, frames + ff * n) == VIDI_OK);
    vidi_frame_free (&f);
    n++;
  }
  vidi_decoder_close (dec);
  fail_unless (n >= 12, "%d frames", n);

  p = gst_parse_launch (desc, NULL);
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  while (!done && (msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
              GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, "vidi-classification")) {
      gboolean final = FALSE;
      gchar **labels = NULL;
      const GValue *scores = gst_structure_get_value (s, "scores");
      vidi_topk top[5];

      gst_structure_get (s, "final", G_TYPE_BOOLEAN, &final, "labels", G_TYPE_STRV, &labels, NULL);
      if (!final) {
        gint end = 8 + 4 * windows;   /* frames [end - 8, end) */
        fail_unless (end <= n);
        fail_unless (vidi_vivit_forward (m, frames + ff * (end - 8), logits, NULL, NULL) == VIDI_OK);
        vidi_softmax_topk (logits, nl, top, 5);
        for (gint k = 0; k < 5; k++) {
          gdouble got_score = g_value_get_double (gst_value_array_get_value (scores, k));
          fail_unless_equals_string (labels[k], vidi_vivit_label (m, top[k].index));
          fail_unless (fabs (got_score - top[k].score) < 1e-5, "window %d rank %d: stream %f, decoder %f", windows,
              k, got_score, top[k].score);
        }
        windows++;
      }
      g_strfreev (labels);
    } else if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT) {
      fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "pipeline error");
      done = TRUE;
    }
    gst_message_unref (msg);
  }
  fail_unless (done && windows == 1 + (n - 8) / 4, "%d windows for %d frames", windows, n);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (frames);
  g_free (desc);
  vidi_vivit_free (m);
  vidi_backend_destroy (be);
}

GST_END_TEST;

/* labels=FILE replaces the checkpoint's names, index for index; a file
 * with the wrong count is refused. */
GST_START_TEST (test_labels_file)
{
  gchar *dir = g_dir_make_tmp ("vidi-labels-XXXXXX", NULL);
  gchar *good = g_build_filename (dir, "good.txt", NULL), *bad = g_build_filename (dir, "bad.txt", NULL);
  gchar *desc, *e;
  RunResult plain, named;

  fail_unless (g_file_set_contents (good, "zero\none\ntwo\nthree\nfour\n", -1, NULL));
  fail_unless (g_file_set_contents (bad, "zero\none\n", -1, NULL));
  run_frames ("vivitclassify model=" FE_MODEL " threads=1", GST_VIDEO_FORMAT_RGB, 8, &plain);
  desc = g_strdup_printf ("vivitclassify model=" FE_MODEL " threads=1 labels=%s", good);
  run_frames (desc, GST_VIDEO_FORMAT_RGB, 8, &named);
  fail_unless (plain.top_label[0] && named.top_label[0]);
  {
    static const gchar *names[] = { "zero", "one", "two", "three", "four" };
    gint idx = atoi (plain.top_label[0] + strlen ("action_"));
    fail_unless_equals_string (named.top_label[0], names[idx]);
  }
  fail_unless (named.top_score[0] == plain.top_score[0]);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=5 ! vivitclassify model=" FE_MODEL " labels=%s ! fakesink", bad);
  e = pipeline_error (desc);
  fail_unless (e && strstr (e, "has 2 labels") && strstr (e, "has 5 classes"), "%s", e);
  g_free (e);
  g_free (desc);
  run_result_clear (&plain);
  run_result_clear (&named);
  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
  g_free (good);
  g_free (bad);
  g_free (dir);
}

GST_END_TEST;

/* Latency query: sync mode adds one inference, async adds nothing. */
GST_START_TEST (test_latency_query)
{
  for (gint async = 0; async < 2; async++) {
    gchar *desc = g_strdup_printf ("vivitclassify model=" FE_MODEL " threads=1 async=%s", async ? "true" : "false");
    GstHarness *h = gst_harness_new_parse (desc);
    GstQuery *q = gst_query_new_latency ();
    gboolean live;
    GstClockTime min, max;

    gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=64,height=48,framerate=30/1");
    gst_harness_set_upstream_latency (h, 10 * GST_MSECOND);
    fail_unless (gst_pad_peer_query (h->sinkpad, q));
    gst_query_parse_latency (q, &live, &min, &max);
    if (async) {
      fail_unless_equals_uint64 (min, 10 * GST_MSECOND);
    } else {
      fail_unless (min > 10 * GST_MSECOND, "sync mode adds no latency");
    }
    gst_query_unref (q);
    gst_harness_teardown (h);
    g_free (desc);
  }
}

GST_END_TEST;

/* The default model on a sample clip: the clip's true label. */
GST_START_TEST (test_default_model_label)
{
  static const struct {
    const gchar *clip, *label;
  } clips[] = {
    {"samples/clips/kinetics-h264/val/something disappearing/T_Ar2gTquJc_000063_000065.mp4",
        "Something disappearing"},
    {"samples/clips/kinetics-h264/val/turning something clockwise/UykOurxn_tD_000178_000180.mp4",
        "Turning something clockwise"},
  };

  fail_unless (g_file_test ("samples/models/vivit-synth.safetensors", G_FILE_TEST_IS_REGULAR),
      "samples/models/vivit-synth.safetensors (the shipped default model) is missing");
  for (gsize i = 0; i < G_N_ELEMENTS (clips); i++) {
    gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! vivitclassify top-k=1 ! "
        "fakesink", clips[i].clip);
    GstElement *p = gst_parse_launch (desc, NULL);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;
    gchar *top_label = NULL;
    gboolean done = FALSE;

    gst_element_set_state (p, GST_STATE_PLAYING);
    while (!done && (msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
                GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
          && gst_structure_has_name (gst_message_get_structure (msg), "vidi-classification") && !top_label) {
        gchar **labels = NULL;
        gst_structure_get (gst_message_get_structure (msg), "labels", G_TYPE_STRV, &labels, NULL);
        top_label = labels && labels[0] ? g_strdup (labels[0]) : g_strdup ("");
        g_strfreev (labels);
      }
      fail_if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR, "%s: error", clips[i].clip);
      done = GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT;
      gst_message_unref (msg);
    }
    fail_unless (top_label != NULL, "%s: no result", clips[i].clip);
    fail_unless_equals_string (top_label, clips[i].label);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (p);
    g_free (top_label);
    g_free (desc);
  }
}

GST_END_TEST;

static Suite *
vidi_plugin_suite (void)
{
  Suite *s = suite_create ("vidi_plugin");
  TCase *tc = tcase_create ("elements");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_caps_every_format);
  tcase_add_test (tc, test_caps_unsupported);
  tcase_add_test (tc, test_window_counts);
  tcase_add_test (tc, test_results_equal_library);
  tcase_add_test (tc, test_async_skips);
  tcase_add_test (tc, test_eos_short_stream);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_zero_size_frame);
  tcase_add_test (tc, test_vit_images);
  tcase_add_test (tc, test_overlay);
  tcase_add_test (tc, test_json_sink);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_labels_file);
  tcase_add_test (tc, test_stream_equals_decoder);
  tcase_add_test (tc, test_default_model_label);
  return s;
}

GST_CHECK_MAIN (vidi_plugin);
