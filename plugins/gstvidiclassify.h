/* GstVidiClassify: abstract base of vivitclassify and vitclassify (in place,
 * passthrough video). It owns everything but the model: caps (RGB, RGBA,
 * RGBx, BGRx, I420, NV12 at any size), conversion to RGB, the model's
 * per-frame preprocessing (vidi_frame_preprocessor), frame / window strides,
 * the window ring, the optional inference thread that skips windows instead
 * of blocking, results as GstVidiClassificationMeta and "vidi-classification"
 * element messages, and the latency query. Subclasses load a model and run
 * it on a window of preprocessed frames. */
#ifndef __GST_VIDI_CLASSIFY_H__
#define __GST_VIDI_CLASSIFY_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

#include "vidi/backend.h"
#include "vidi/preprocess.h"

G_BEGIN_DECLS

#define GST_TYPE_VIDI_CLASSIFY (gst_vidi_classify_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstVidiClassify, gst_vidi_classify, GST, VIDI_CLASSIFY, GstBaseTransform)

struct _GstVidiClassifyClass {
  GstBaseTransformClass parent_class;

  /* Loads path on be (threads already set). Fills the model's per-frame
   * preprocessing, frames per window and label count. Errors: the vidi
   * status; vidi_last_error() holds the loader's message. */
  vidi_status (*open) (GstVidiClassify * self, const gchar * path, vidi_backend * be,
      vidi_sampler_params * pre, gint * window_frames, gint * num_labels);
  /* frames: window_frames preprocessed frames, oldest first. n_new: how many
   * of them (the newest) the model has not seen since the last call, or -1
   * when the model must start over (first window, flush, skipped windows). */
  vidi_status (*infer) (GstVidiClassify * self, const gfloat * frames, gint n_new, gfloat * logits);
  const gchar *(*label) (GstVidiClassify * self, gint index);
  void (*close) (GstVidiClassify * self);
  /* The path used when the model property is not set; NULL with error set. */
  gchar *(*default_model) (GError ** error);
  /* Classify the frames after the last window at EOS (video models). */
  gboolean classify_tail;
};

G_END_DECLS

#endif
