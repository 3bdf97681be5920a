/* vitclassify: image classification of every Nth frame with a ViT. */
#ifndef __GST_VIT_CLASSIFY_H__
#define __GST_VIT_CLASSIFY_H__

#include "gstvidiclassify.h"

G_BEGIN_DECLS

#define GST_TYPE_VIT_CLASSIFY (gst_vit_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstVitClassify, gst_vit_classify, GST, VIT_CLASSIFY, GstVidiClassify)

GST_ELEMENT_REGISTER_DECLARE (vitclassify);

G_END_DECLS

#endif
