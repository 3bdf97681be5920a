/* vidioverlay: draws the latest vidi classification (labels and scores
 * from GstVidiClassificationMeta) onto the video. */
#ifndef __GST_VIDI_OVERLAY_H__
#define __GST_VIDI_OVERLAY_H__

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_VIDI_OVERLAY (gst_vidi_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstVidiOverlay, gst_vidi_overlay, GST, VIDI_OVERLAY, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (vidioverlay);

G_END_DECLS

#endif
