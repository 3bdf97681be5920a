/* The settings vidigen and vidiinpaint share (gstvididiffusion.h). */
#include "gstvididiffusion.h"

#ifndef VIDI_PLUGIN_MODEL_DIR
#define VIDI_PLUGIN_MODEL_DIR "samples/models"
#endif

#define DEFAULT_MODEL NULL
#define DEFAULT_LABEL NULL
#define DEFAULT_STEPS 50
#define DEFAULT_SEED 0
#define DEFAULT_THREADS 0

void
gst_vidi_diffusion_settings_init (GstVidiDiffusionSettings * s)
{
  s->model_path = DEFAULT_MODEL;
  s->label = DEFAULT_LABEL;
  s->steps = DEFAULT_STEPS;
  s->seed = DEFAULT_SEED;
  s->threads = DEFAULT_THREADS;
}

void
gst_vidi_diffusion_settings_clear (GstVidiDiffusionSettings * s)
{
  g_clear_pointer (&s->model_path, g_free);
  g_clear_pointer (&s->label, g_free);
}

void
gst_vidi_diffusion_settings_copy_locked (const GstVidiDiffusionSettings * s, GstVidiDiffusionSettings * copy)
{
  *copy = *s;
  copy->model_path = g_strdup (s->model_path);
  copy->label = g_strdup (s->label);
}

void
gst_vidi_diffusion_install_properties (GObjectClass * gobject_class, const gchar * label_blurb,
    const gchar * steps_blurb, const gchar * seed_blurb)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  g_object_class_install_property (gobject_class, GST_VIDI_DIFFUSION_PROP_MODEL,
      g_param_spec_string ("model", "Model", "vidi-diffusion .safetensors (unset: $VIDI_MODEL_DIR or the built-in "
          "samples/models, diffusion-synth.safetensors)", DEFAULT_MODEL, rw));
  g_object_class_install_property (gobject_class, GST_VIDI_DIFFUSION_PROP_LABEL,
      g_param_spec_string ("label", "Label", label_blurb, DEFAULT_LABEL, rw));
  g_object_class_install_property (gobject_class, GST_VIDI_DIFFUSION_PROP_STEPS,
      g_param_spec_uint ("steps", "Steps", steps_blurb, 1, 100000, DEFAULT_STEPS, rw));
  g_object_class_install_property (gobject_class, GST_VIDI_DIFFUSION_PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed", seed_blurb, 0, G_MAXUINT64, DEFAULT_SEED, rw));
  g_object_class_install_property (gobject_class, GST_VIDI_DIFFUSION_PROP_THREADS,
      g_param_spec_int ("threads", "Threads", "CPU threads for the model (0: all)", 0, 1024, DEFAULT_THREADS, rw));
}

gboolean
gst_vidi_diffusion_set_property (GstVidiDiffusionSettings * s, guint prop_id, const GValue * value)
{
  switch (prop_id) {
    case GST_VIDI_DIFFUSION_PROP_MODEL:
      g_free (s->model_path);
      s->model_path = g_value_dup_string (value);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_LABEL:
      g_free (s->label);
      s->label = g_value_dup_string (value);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_STEPS:
      s->steps = g_value_get_uint (value);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_SEED:
      s->seed = g_value_get_uint64 (value);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_THREADS:
      s->threads = g_value_get_int (value);
      return TRUE;
    default:
      return FALSE;
  }
}

gboolean
gst_vidi_diffusion_get_property (const GstVidiDiffusionSettings * s, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case GST_VIDI_DIFFUSION_PROP_MODEL:
      g_value_set_string (value, s->model_path);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_LABEL:
      g_value_set_string (value, s->label);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_STEPS:
      g_value_set_uint (value, s->steps);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_SEED:
      g_value_set_uint64 (value, s->seed);
      return TRUE;
    case GST_VIDI_DIFFUSION_PROP_THREADS:
      g_value_set_int (value, s->threads);
      return TRUE;
    default:
      return FALSE;
  }
}

vidi_sample_params
gst_vidi_diffusion_sample_params (const GstVidiDiffusionSettings * s)
{
  vidi_sample_params p = vidi_sample_default_params ();

  p.steps = (int) s->steps;
  p.seed = s->seed;
  return p;
}

gboolean
gst_vidi_diffusion_load (GstVidiDiffusionSettings * s, vidi_backend ** be, vidi_denoiser ** model)
{
  if (!s->model_path) {
    const gchar *env = g_getenv ("VIDI_MODEL_DIR");
    s->model_path = g_build_filename (env && *env ? env : VIDI_PLUGIN_MODEL_DIR, "diffusion-synth.safetensors",
        NULL);
  }
  return vidi_backend_create ("cpu", s->threads, be) == VIDI_OK &&
      vidi_denoiser_load (s->model_path, *be, model) == VIDI_OK;
}

gboolean
gst_vidi_diffusion_find_label (const GstVidiDiffusionSettings * s, const vidi_denoiser * model, int *label)
{
  *label = -1;
  if (!s->label || !*s->label)
    return TRUE;
  *label = vidi_denoiser_find_label (model, s->label);
  return *label >= 0;
}
