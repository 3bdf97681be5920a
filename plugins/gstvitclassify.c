/**
 * SECTION:element-vitclassify
 *
 * Classifies single frames with a ViT image model (Hugging Face, timm or
 * torchvision checkpoints): every frame-stride-th frame is sampled, every
 * window-stride-th sampled frame is classified (a window is one frame).
 * Preprocessing is the checkpoint's (resize with PIL's filter, centre crop,
 * normalise), so a frame gives what `vidi classify IMAGE` gives for it.
 *
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=30 ! vitclassify model=samples/models/vit-shapes \
 *     frame-stride=10 ! fakesink
 * ]|
 */
#include "gstvitclassify.h"

#include "vidi/vit.h"

struct _GstVitClassify {
  GstVidiClassify parent;
  vidi_vit *model;
};

G_DEFINE_TYPE (GstVitClassify, gst_vit_classify, GST_TYPE_VIDI_CLASSIFY);
GST_ELEMENT_REGISTER_DEFINE (vitclassify, "vitclassify", GST_RANK_NONE, GST_TYPE_VIT_CLASSIFY);

static vidi_status
vit_open (GstVidiClassify * base, const gchar * path, vidi_backend * be, vidi_sampler_params * pre,
    gint * window_frames, gint * num_labels)
{
  GstVitClassify *self = GST_VIT_CLASSIFY (base);
  const vidi_vit_config *c;
  const vidi_preprocess *vp;
  vidi_status st = vidi_vit_load (path, be, 0, &self->model);

  if (st)
    return st;
  c = vidi_vit_get_config (self->model);
  vp = &c->pre;
  /* The image path's preprocessing, through the per-frame preprocessor
   * (PIL filter: exact_resize). */
  *pre = vidi_sampler_default_params ();
  pre->resize_shorter = vp->resize_shorter;
  pre->resize_w = vp->resize_shorter > 0 ? 0 : vp->resize_w;
  pre->resize_h = vp->resize_shorter > 0 ? 0 : vp->resize_h;
  pre->crop = vp->crop_w > 0 ? VIDI_CROP_CENTER : VIDI_CROP_NONE;
  pre->crop_w = vp->crop_w;
  pre->crop_h = vp->crop_h;
  pre->resample = vp->resample;
  pre->exact_resize = 1;
  pre->rescale = vp->rescale;
  for (int i = 0; i < 3; i++)
    pre->mean[i] = vp->mean[i], pre->std[i] = vp->std[i];
  if (pre->crop == VIDI_CROP_NONE && pre->resize_w <= 0)
    pre->resize_w = pre->resize_h = c->image_size;
  if ((pre->crop == VIDI_CROP_CENTER ? pre->crop_w : pre->resize_w) != c->image_size
      || (pre->crop == VIDI_CROP_CENTER ? pre->crop_h : pre->resize_h) != c->image_size)
    return vidi_set_error (VIDI_ERR_FORMAT, "%s: preprocessing does not give the model's %dx%d input", path,
        c->image_size, c->image_size);
  *window_frames = 1;
  *num_labels = c->num_labels;
  return VIDI_OK;
}

static vidi_status
vit_infer (GstVidiClassify * base, const gfloat * frames, gint n_new, gfloat * logits)
{
  (void) n_new;
  return vidi_vit_forward (GST_VIT_CLASSIFY (base)->model, frames, logits, NULL, NULL);
}

static const gchar *
vit_label (GstVidiClassify * base, gint index)
{
  return vidi_vit_label (GST_VIT_CLASSIFY (base)->model, index);
}

static void
vit_close (GstVidiClassify * base)
{
  GstVitClassify *self = GST_VIT_CLASSIFY (base);

  vidi_vit_free (self->model);
  self->model = NULL;
}

static gchar *
vit_default_model (GError ** error)
{
  g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
      "vitclassify has no default model: set model=PATH (e.g. samples/models/vit-shapes)");
  return NULL;
}

static void
gst_vit_classify_init (GstVitClassify * self)
{
  (void) self;
}

static void
gst_vit_classify_class_init (GstVitClassifyClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVidiClassifyClass *base_class = GST_VIDI_CLASSIFY_CLASS (klass);

  gst_element_class_set_static_metadata (element_class, "ViT image classification", "Filter/Analyzer/Video",
      "Classifies every Nth frame with a ViT image transformer; results as GstVidiClassificationMeta and "
      "vidi-classification element messages", "vidi developers");
  base_class->open = vit_open;
  base_class->infer = vit_infer;
  base_class->label = vit_label;
  base_class->close = vit_close;
  base_class->default_model = vit_default_model;
  base_class->classify_tail = FALSE;
}
