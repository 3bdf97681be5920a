/* Latency bookkeeping shared by the vidi filters that hold frames back. */
#ifndef GST_VIDI_LATENCY_H
#define GST_VIDI_LATENCY_H

#include <gst/gst.h>

/* Adds an element's own latency to a latency query its parent class has
 * answered: to the minimum, and to the maximum when that is bounded. */
static inline void
gst_vidi_latency_query_add (GstQuery * query, GstClockTime add)
{
  gboolean live;
  GstClockTime min, max;

  gst_query_parse_latency (query, &live, &min, &max);
  min += add;
  if (GST_CLOCK_TIME_IS_VALID (max))
    max += add;
  gst_query_set_latency (query, live, min, max);
}

#endif
