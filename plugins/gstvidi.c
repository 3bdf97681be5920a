/* The vidi GStreamer plugin: vivitclassify, vitclassify, vidioverlay,
 * vidijsonsink (docs/elements.md). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/gst.h>

#include "gstvidimeta.h"
#include "gstvidigen.h"
#include "gstvidiinpaint.h"
#include "gstvidijsonsink.h"
#include "gstvidioverlay.h"
#include "gstvitclassify.h"
#include "gstvivitclassify.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  gst_vidi_classification_meta_get_info ();
  ret |= GST_ELEMENT_REGISTER (vivitclassify, plugin);
  ret |= GST_ELEMENT_REGISTER (vitclassify, plugin);
  ret |= GST_ELEMENT_REGISTER (vidioverlay, plugin);
  ret |= GST_ELEMENT_REGISTER (vidijsonsink, plugin);
  ret |= GST_ELEMENT_REGISTER (vidigen, plugin);
  ret |= GST_ELEMENT_REGISTER (vidiinpaint, plugin);
  return ret;
}

#define PACKAGE "vidi"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, vidi,
    "vidi video transformers: ViViT / ViT classification, overlay, JSON results",
    plugin_init, VIDI_VERSION, "MIT", "vidi", "https://github.com/vidi")
