/* Class labels: index -> name, from a Hugging Face config.json "id2label"
 * object or from a text file with one label per line (Kinetics, SSv2 and
 * ImageNet lists ship that way). Internal to libvidi (not public API). */
#ifndef VIDI_IO_LABELS_H
#define VIDI_IO_LABELS_H

#include <cjson/cJSON.h>

#include "vidi/status.h"

typedef struct vidi_labels {
    int count;
    char **names; /* count strings, each owned; NULL when count is 0 */
} vidi_labels;

/* From config["id2label"]: keys "0".."N-1" in any order, each exactly once,
 * values strings. `file` names the config in errors. On failure *out is
 * empty. Duplicate label names are allowed (ImageNet has two "crane"s). */
vidi_status vidi_labels_from_id2label(const cJSON *config, const char *file, vidi_labels *out);
/* Loads `path` as JSON and reads its id2label. */
vidi_status vidi_labels_load_config(const char *path, vidi_labels *out);
/* One label per line; "\n" or "\r\n"; trailing spaces dropped; empty lines
 * at the end ignored, empty lines before the last label are an error (they
 * would shift every index after them). */
vidi_status vidi_labels_load_text(const char *path, vidi_labels *out);
/* By name: "*.json" -> vidi_labels_load_config, anything else -> text. */
vidi_status vidi_labels_load(const char *path, vidi_labels *out);

/* Name of class `index`, NULL when out of range. */
const char *vidi_labels_get(const vidi_labels *labels, int index);
/* Frees the names and empties *labels (safe on an empty or freed one). */
void vidi_labels_free(vidi_labels *labels);

#endif
