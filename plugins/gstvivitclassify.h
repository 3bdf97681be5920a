/* vivitclassify: action recognition over a sliding window of frames with a
 * ViViT (models 1-4); model 2 windows reuse cached spatial encodings. */
#ifndef __GST_VIVIT_CLASSIFY_H__
#define __GST_VIVIT_CLASSIFY_H__

#include "gstvidiclassify.h"

G_BEGIN_DECLS

#define GST_TYPE_VIVIT_CLASSIFY (gst_vivit_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstVivitClassify, gst_vivit_classify, GST, VIVIT_CLASSIFY, GstVidiClassify)

GST_ELEMENT_REGISTER_DECLARE (vivitclassify);

G_END_DECLS

#endif
