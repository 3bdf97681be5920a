/* JSON config files (config.json, preprocessor_config.json) over cJSON, with
 * errors that name the file and the key, so a user with a broken checkpoint
 * directory knows which field to fix. Internal to libvidi (not public API).
 *
 * Getters: a key that is absent or JSON null takes `default_value` when
 * `required` is 0, and fails with VIDI_ERR_FORMAT "FILE: missing key 'K'"
 * when it is 1. A key of the wrong type fails with VIDI_ERR_FORMAT
 * "FILE: key 'K' must be ...". `*out` is written only on success. */
#ifndef VIDI_IO_JSON_FILE_H
#define VIDI_IO_JSON_FILE_H

#include <cjson/cJSON.h>

#include "vidi/status.h"

/* Reads and parses a whole file; *out must be freed with cJSON_Delete.
 * Missing/unreadable -> VIDI_ERR_IO "PATH: cannot open: <reason>";
 * bad JSON -> VIDI_ERR_FORMAT "PATH: invalid JSON near byte N". */
vidi_status vidi_json_load_file(const char *path, cJSON **out);

/* An integral number within int range (768 and 768.0 both pass, 1.5 fails). */
vidi_status vidi_json_get_int(const cJSON *obj, const char *key, const char *file, int *out,
                              int default_value, int required);
vidi_status vidi_json_get_float(const cJSON *obj, const char *key, const char *file, double *out,
                                double default_value, int required);
/* *out points into `obj` (valid until it is deleted) or is default_value. */
vidi_status vidi_json_get_string(const cJSON *obj, const char *key, const char *file,
                                 const char **out, const char *default_value, int required);
/* true/false only; 0 and 1 are not booleans. *out is 0 or 1. */
vidi_status vidi_json_get_bool(const cJSON *obj, const char *key, const char *file, int *out,
                               int default_value, int required);
/* Exactly n numbers. When absent and not required, out[0..n) is copied from
 * default_value (left untouched when default_value is NULL). */
vidi_status vidi_json_get_float_array(const cJSON *obj, const char *key, const char *file,
                                      double *out, int n, const double *default_value,
                                      int required);

#endif
