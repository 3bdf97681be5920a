/* vidijsonsink: one JSON line per vidi classification result. */
#ifndef __GST_VIDI_JSON_SINK_H__
#define __GST_VIDI_JSON_SINK_H__

#include <stdio.h>
#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_VIDI_JSON_SINK (gst_vidi_json_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstVidiJsonSink, gst_vidi_json_sink, GST, VIDI_JSON_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (vidijsonsink);

G_END_DECLS

#endif
