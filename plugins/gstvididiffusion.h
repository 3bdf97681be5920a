/* The settings the vidi diffusion elements (vidigen, vidiinpaint) share: the
 * model file, the class to sample, the steps, the seed and the CPU threads,
 * as GObject properties with one set of names, ranges and defaults, and the
 * loading of the model they name. Each element keeps its own properties
 * (vidigen: sampler, guidance, loop, fps; vidiinpaint: mask, method,
 * resample) and posts its own errors, so they keep its debug category and
 * name its start(). Not installed; plugin-internal. */
#ifndef __GST_VIDI_DIFFUSION_H__
#define __GST_VIDI_DIFFUSION_H__

#include <gst/gst.h>

#include "vidi/backend.h"
#include "vidi/diffusion.h"

G_BEGIN_DECLS

/* Property ids of the shared settings; an element numbers its own from
 * GST_VIDI_DIFFUSION_PROP_LAST on. */
enum {
  GST_VIDI_DIFFUSION_PROP_MODEL = 1,
  GST_VIDI_DIFFUSION_PROP_LABEL,
  GST_VIDI_DIFFUSION_PROP_STEPS,
  GST_VIDI_DIFFUSION_PROP_SEED,
  GST_VIDI_DIFFUSION_PROP_THREADS,
  GST_VIDI_DIFFUSION_PROP_LAST,
};

typedef struct {
  gchar *model_path;            /* NULL: the default model (see _load) */
  gchar *label;                 /* NULL or "": unconditional */
  guint steps;
  guint64 seed;                 /* of the first clip / window; the i-th uses seed + i */
  gint threads;                 /* 0: all */
} GstVidiDiffusionSettings;

void gst_vidi_diffusion_settings_init (GstVidiDiffusionSettings * s);
void gst_vidi_diffusion_settings_clear (GstVidiDiffusionSettings * s);
/* A copy start() can read without the object lock; call with it held. */
void gst_vidi_diffusion_settings_copy_locked (const GstVidiDiffusionSettings * s, GstVidiDiffusionSettings * copy);

/* Installs model, label, steps, seed and threads. The label, steps and seed
 * blurbs say what the element samples (a clip, a window), so it passes them;
 * they must be static strings (G_PARAM_STATIC_STRINGS). */
void gst_vidi_diffusion_install_properties (GObjectClass * gobject_class, const gchar * label_blurb,
    const gchar * steps_blurb, const gchar * seed_blurb);
/* From set_property / get_property with the object lock held: FALSE when
 * prop_id is not a shared setting (the element's own, or invalid). */
gboolean gst_vidi_diffusion_set_property (GstVidiDiffusionSettings * s, guint prop_id, const GValue * value);
gboolean gst_vidi_diffusion_get_property (const GstVidiDiffusionSettings * s, guint prop_id, GValue * value);

/* vidi_sample_default_params () with the settings' steps and seed, no label. */
vidi_sample_params gst_vidi_diffusion_sample_params (const GstVidiDiffusionSettings * s);
/* Creates the CPU backend with the settings' threads and loads the model
 * into it; an unset model_path becomes the default model's path first, so
 * the caller's error message names the file it tried. FALSE: see
 * vidi_last_error (); *be and *model may be set and are the caller's to free. */
gboolean gst_vidi_diffusion_load (GstVidiDiffusionSettings * s, vidi_backend ** be, vidi_denoiser ** model);
/* The model's index of the settings' label into *label (-1 when unset);
 * FALSE when the model has no such class. */
gboolean gst_vidi_diffusion_find_label (const GstVidiDiffusionSettings * s, const vidi_denoiser * model, int *label);

G_END_DECLS

#endif
