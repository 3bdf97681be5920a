/* A 5x7 bitmap font for vidioverlay: digits, upper case (lower case is
 * drawn as upper case) and the punctuation labels and scores use. Drawn
 * for this project; no font library needed. */
#ifndef VIDI_PLUGIN_FONT_H
#define VIDI_PLUGIN_FONT_H

#include <glib.h>

#define VIDI_FONT_W 5
#define VIDI_FONT_H 7

/* Row bits of character c (bit 4 = leftmost column); unknown ones draw as '?'. */
const guint8 *vidi_font_glyph (gchar c);

#endif
