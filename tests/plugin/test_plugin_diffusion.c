/* vidigen and vidiinpaint under GstHarness with the tiny golden diffusion
 * models (tests/golden/diffusion): vidigen's frames equal
 * vidi_diffusion_generate's with the same settings and it ends after one clip;
 * vidiinpaint holds frames until a window is complete, changes only pixels in
 * the mask, passes an incomplete last window and flushes cleanly. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <math.h>
#include <string.h>

#include "vidi/backend.h"
#include "vidi/diffusion.h"

#define INPAINT_MODEL "tests/golden/diffusion/den_inpaint/model.safetensors"
#define W 16
#define H 12

/* The clip vidi_diffusion_generate makes for these settings, as RGB bytes. */
static void
library_clip (int label, guint64 seed, int steps, guint8 * rgb)
{
  vidi_backend *be = NULL;
  vidi_denoiser *m = NULL;
  float clip[4 * 3 * 64];
  vidi_sample_params p = vidi_sample_default_params ();

  fail_unless (vidi_backend_create ("cpu", 0, &be) == VIDI_OK);
  fail_unless (vidi_denoiser_load (INPAINT_MODEL, be, &m) == VIDI_OK);
  p.label = label, p.seed = seed, p.steps = steps;
  fail_unless (vidi_diffusion_generate (m, &p, NULL, NULL, VIDI_INPAINT_CONDITIONED, 1, clip) == VIDI_OK);
  for (int f = 0; f < 4; f++)
    for (int i = 0; i < 64; i++)
      for (int c = 0; c < 3; c++) {
        float v = (clip[(f * 3 + c) * 64 + i] + 1.0f) * 127.5f + 0.5f;
        rgb[(f * 64 + i) * 3 + c] = (guint8) (v < 0 ? 0 : v > 255 ? 255 : v);
      }
  vidi_denoiser_free (m);
  vidi_backend_destroy (be);
}

GST_START_TEST (test_gen_equals_library)
{
  GstHarness *h = gst_harness_new_parse ("vidigen model=" INPAINT_MODEL " label=b seed=11 steps=4");
  guint8 want[4 * 64 * 3];
  GstVideoInfo info;
  GstCaps *caps;

  library_clip (1, 11, 4, want);
  gst_harness_play (h);
  for (int f = 0; f < 4; f++) {
    GstBuffer *buf = gst_harness_pull (h);
    GstVideoFrame vf;
    fail_unless (buf != NULL);
    if (f == 0) {
      caps = gst_pad_get_current_caps (h->sinkpad);
      fail_unless (gst_video_info_from_caps (&info, caps));
      fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&info), 8);
      fail_unless_equals_int (GST_VIDEO_INFO_FPS_N (&info), 12);
      gst_caps_unref (caps);
    }
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), gst_util_uint64_scale (f, GST_SECOND, 12));
    fail_unless (gst_video_frame_map (&vf, &info, buf, GST_MAP_READ));
    for (int y = 0; y < 8; y++)
      fail_unless (memcmp ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0),
              want + (f * 64 + y * 8) * 3, 24) == 0, "frame %d row %d differs from the library", f, y);
    gst_video_frame_unmap (&vf);
    gst_buffer_unref (buf);
  }
  /* One clip, then EOS. */
  {
    GstEvent *ev;
    while ((ev = gst_harness_pull_event (h)) && GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
      gst_event_unref (ev);
    fail_unless (ev != NULL);
    gst_event_unref (ev);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

static GstBuffer *
frame (int seed)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, W * H * 3, NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; i++)
    map.data[i] = (guint8) ((i * 7 + (gsize) seed * 31) % 251);
  gst_buffer_unmap (buf, &map);
  return buf;
}

GST_START_TEST (test_inpaint_windows)
{
  GstHarness *h = gst_harness_new_parse ("vidiinpaint model=" INPAINT_MODEL " mask=box:2,2,4,4 steps=3");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=16,height=12,framerate=10/1");
  /* Nothing comes out before a window of 4 frames is complete. */
  for (int f = 0; f < 3; f++)
    fail_unless_equals_int (gst_harness_push (h, frame (f)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  fail_unless_equals_int (gst_harness_push (h, frame (3)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  for (int f = 0; f < 4; f++) {
    GstBuffer *out = gst_harness_pull (h), *in = frame (f);
    GstMapInfo a, b;
    int changed = 0, outside = 0;
    gst_buffer_map (out, &a, GST_MAP_READ);
    gst_buffer_map (in, &b, GST_MAP_READ);
    fail_unless_equals_int (a.size, W * H * 3);
    /* 16x12 -> 10x8, crop 8x8 = original x 2..13 (scale 1.5); box 2..5 -> x 5..10, y 3..8 */
    for (int i = 0; i < W * H * 3; i++)
      if (a.data[i] != b.data[i]) {
        int p = i / 3, x = p % W, y = p / W;
        changed++;
        outside += x < 5 || x > 10 || y < 3 || y > 8;
      }
    fail_unless (changed > 0, "frame %d: nothing filled", f);
    fail_unless_equals_int (outside, 0);
    gst_buffer_unmap (out, &a);
    gst_buffer_unmap (in, &b);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }
  /* Two more frames and EOS: they pass unchanged. */
  fail_unless_equals_int (gst_harness_push (h, frame (4)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (h, frame (5)), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless_equals_int (gst_harness_buffers_received (h), 6);
  for (int f = 4; f < 6; f++) {
    GstBuffer *out = gst_harness_pull (h), *in = frame (f);
    GstMapInfo a, b;
    gst_buffer_map (out, &a, GST_MAP_READ);
    gst_buffer_map (in, &b, GST_MAP_READ);
    fail_unless (a.size == b.size && memcmp (a.data, b.data, a.size) == 0, "frame %d changed", f);
    gst_buffer_unmap (out, &a);
    gst_buffer_unmap (in, &b);
    gst_buffer_unref (out);
    gst_buffer_unref (in);
  }
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_inpaint_flush)
{
  GstHarness *h = gst_harness_new_parse ("vidiinpaint model=" INPAINT_MODEL " mask=predict:1 steps=2");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=16,height=12,framerate=10/1");
  for (int f = 0; f < 2; f++)
    fail_unless_equals_int (gst_harness_push (h, frame (f)), GST_FLOW_OK);
  /* A flush drops the half window; the next four frames make a window of their own. */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=16,height=12,framerate=10/1");
  for (int f = 0; f < 4; f++)
    fail_unless_equals_int (gst_harness_push (h, frame (f)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The latency query adds a window (T - 1 = 3 frames at 10 fps) and, once a
 * window has run, its sampling time. */
GST_START_TEST (test_inpaint_latency)
{
  GstHarness *h = gst_harness_new_parse ("vidiinpaint model=" INPAINT_MODEL " mask=box:2,2,4,4 steps=3");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=16,height=12,framerate=10/1");
  gst_harness_set_upstream_latency (h, 5 * GST_MSECOND);
  fail_unless_equals_uint64 (gst_harness_query_latency (h), 305 * GST_MSECOND);
  for (int f = 0; f < 4; f++)
    fail_unless_equals_int (gst_harness_push (h, frame (f)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 4);
  fail_unless (gst_harness_query_latency (h) > 305 * GST_MSECOND);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
vidi_diffusion_suite (void)
{
  Suite *s = suite_create ("vidi_diffusion_elements");
  TCase *tc = tcase_create ("diffusion");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_gen_equals_library);
  tcase_add_test (tc, test_inpaint_windows);
  tcase_add_test (tc, test_inpaint_flush);
  tcase_add_test (tc, test_inpaint_latency);
  return s;
}

GST_CHECK_MAIN (vidi_diffusion);
