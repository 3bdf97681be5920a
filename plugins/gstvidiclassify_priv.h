/* GstVidiClassify's private state and the functions its three files share:
 *   gstvidiclassify.c         properties, model start/stop, caps, events, query;
 *   gstvidiclassify_stream.c  frames -> ring -> windows (transform_ip), EOS tail, flush;
 *   gstvidiclassify_infer.c   running a window, publishing results, the worker thread.
 * Not installed; plugin-internal (the module's symbols are hidden). */
#ifndef __GST_VIDI_CLASSIFY_PRIV_H__
#define __GST_VIDI_CLASSIFY_PRIV_H__

#include "gstvidiclassify.h"

#include "decode/convert.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (vidi_classify_debug);
#define GST_CAT_DEFAULT vidi_classify_debug

/* One window handed to the model. */
typedef struct {
  guint64 end_n;              /* sampled frames up to and including the window's last */
  guint64 window;             /* window index */
  GstClockTime start_pts, end_pts;
  GstClockTime end_running;   /* running time of the last frame (capture latency) */
  gint64 arrival_us;          /* monotonic time the last frame entered the element */
  guint gen;                  /* flush generation */
  gboolean tail;              /* EOS tail window: full restart, not meta */
} VidiJob;

typedef struct {
  /* properties (object lock) */
  gchar *model_path, *labels_path, *backend_name;
  gint threads, frame_stride, window_stride, top_k;
  gdouble threshold;
  gboolean async, silent;

  /* model, from start() to stop() */
  vidi_backend *be;
  gboolean opened;
  vidi_frame_preprocessor *pre;
  vidi_sampler_params pre_params;
  gint window_frames, num_labels, frame_w, frame_h;
  gsize frame_floats;
  gchar **file_labels;        /* labels property: one per line */
  gint n_file_labels;
  GstClockTime infer_estimate; /* one inference, measured at start */

  /* caps */
  GstVideoInfo info;
  vidi_converter convert;     /* the decoders' YUV/RGB -> RGB scaler (decode/convert.c) */
  vidi_decoder_params convert_params; /* the sampler's decoder-side resize */
  enum AVPixelFormat av_format;
  enum AVColorSpace colorspace;
  gboolean full_range;

  /* streaming state (lock) */
  GMutex lock;
  GCond cond;
  gfloat *ring;               /* [window_frames][frame_floats], slot = n % window_frames */
  GstClockTime *ring_pts;
  guint64 n_buffers, n_sampled, last_window_n, windows, skipped;
  guint gen;
  gfloat *job_frames;         /* the window, oldest first (worker's copy) */
  gfloat *logits;
  VidiJob job;
  gboolean job_ready, busy, stopping;
  GThread *worker;
  guint model_gen;            /* worker side: generation the model state belongs to */
  guint64 model_n;            /* worker side: sampled frames the model state has seen */
  /* the latest result not yet attached as meta */
  gboolean have_pending;
  VidiJob pending_job;
  guint pending_n;
  gchar **pending_labels;
  gdouble *pending_scores;
  guint64 pending_latency, pending_skipped;
} GstVidiClassifyPrivate;

GstVidiClassifyPrivate *gst_vidi_classify_priv (GstVidiClassify * self);
#define PRIV(self) gst_vidi_classify_priv (GST_VIDI_CLASSIFY (self))

/* gstvidiclassify_infer.c */
void gst_vidi_classify_clear_pending (GstVidiClassifyPrivate * p);
GstStructure *gst_vidi_classify_result_structure (GstVidiClassify * self, const VidiJob * job, guint n,
    gchar ** labels, const gdouble * scores, guint64 latency, guint64 skipped);
gboolean gst_vidi_classify_run_job (GstVidiClassify * self, const VidiJob * job);
gpointer gst_vidi_classify_worker_main (gpointer data);
void gst_vidi_classify_wait_idle_locked (GstVidiClassifyPrivate * p);
void gst_vidi_classify_copy_window_locked (GstVidiClassifyPrivate * p, guint64 n);

/* gstvidiclassify_stream.c */
GstFlowReturn gst_vidi_classify_transform_ip (GstBaseTransform * trans, GstBuffer * buf);
void gst_vidi_classify_finish_stream (GstVidiClassify * self);
void gst_vidi_classify_reset_stream (GstVidiClassify * self);

G_END_DECLS

#endif
