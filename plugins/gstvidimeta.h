/* GstVidiClassificationMeta: one classification result (top-k labels and
 * softmax scores of a window) on the buffer it belongs to. vivitclassify /
 * vitclassify attach it; vidioverlay draws it; vidijsonsink writes it.
 * Applications read it with gst_buffer_get_vidi_classification_meta(). */
#ifndef __GST_VIDI_META_H__
#define __GST_VIDI_META_H__

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_VIDI_CLASSIFICATION_META_API_TYPE (gst_vidi_classification_meta_api_get_type ())
#define GST_VIDI_CLASSIFICATION_META_INFO (gst_vidi_classification_meta_get_info ())

typedef struct _GstVidiClassificationMeta {
  GstMeta meta;
  guint n;                  /* results kept (top-k above the threshold), best first */
  gchar **labels;           /* n labels, NULL-terminated */
  gdouble *scores;          /* n softmax probabilities */
  GstClockTime start_pts;   /* PTS of the first frame of the window */
  GstClockTime end_pts;     /* PTS of the frame that ends the window */
  guint64 latency;          /* ns from the window's last frame entering the element to the result */
  guint64 window;           /* 0-based index of the classified window */
  guint64 skipped_windows;  /* windows skipped so far (async, worker busy) */
} GstVidiClassificationMeta;

GType gst_vidi_classification_meta_api_get_type (void);
const GstMetaInfo *gst_vidi_classification_meta_get_info (void);

/* Copies labels and scores. */
GstVidiClassificationMeta *gst_buffer_add_vidi_classification_meta (GstBuffer * buffer,
    guint n, const gchar * const *labels, const gdouble * scores);

#define gst_buffer_get_vidi_classification_meta(b) \
  ((GstVidiClassificationMeta *) gst_buffer_get_meta ((b), GST_VIDI_CLASSIFICATION_META_API_TYPE))

G_END_DECLS

#endif
