/* vidiinpaint: fills a masked region or listed frames of the incoming video
 * with a vidi diffusion model, one window of the model's frame count at a time. */
#ifndef __GST_VIDI_INPAINT_H__
#define __GST_VIDI_INPAINT_H__

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_VIDI_INPAINT (gst_vidi_inpaint_get_type ())
G_DECLARE_FINAL_TYPE (GstVidiInpaint, gst_vidi_inpaint, GST, VIDI_INPAINT, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE (vidiinpaint);

G_END_DECLS

#endif
