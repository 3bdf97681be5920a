/* Sampler spatial/normalisation settings from a Hugging Face
 * preprocessor_config.json, as the video processors (VivitImageProcessor,
 * VideoMAEImageProcessor) and image processors write it. */
#include <cjson/cJSON.h>

#include "nn/io/json_file.h"
#include "vidi/sampler.h"

static vidi_status read_size(const cJSON *root, const char *key, const char *file, int *shorter, int *w, int *h) {
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(root, key);
    vidi_status s;
    *shorter = *w = *h = 0;
    if (!size || cJSON_IsNull(size)) return VIDI_OK;
    if (cJSON_IsNumber(size)) {
        *w = *h = size->valueint;
    } else if (cJSON_IsObject(size)) {
        if (cJSON_GetObjectItemCaseSensitive(size, "shortest_edge")) {
            if ((s = vidi_json_get_int(size, "shortest_edge", file, shorter, 0, 1))) return s;
        } else if ((s = vidi_json_get_int(size, "height", file, h, 0, 1)) ||
                   (s = vidi_json_get_int(size, "width", file, w, 0, 1))) {
            return s;
        }
    } else {
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: key '%s' must be a number or an object", file, key);
    }
    if (*shorter < 0 || *w < 0 || *h < 0 || *shorter > 16384 || *w > 16384 || *h > 16384)
        return vidi_set_error(VIDI_ERR_FORMAT, "%s: key '%s' is out of range", file, key);
    return VIDI_OK;
}

vidi_status vidi_sampler_params_from_preprocessor(const char *path, vidi_sampler_params *p) {
    cJSON *root = NULL;
    vidi_status s = vidi_json_load_file(path, &root);
    if (s) return s;
    int do_resize, do_crop, do_rescale, do_norm, offset, resample, shorter, w, h, cw, ch, unused;
    double rescale, mean[3] = {0, 0, 0}, stdv[3] = {1, 1, 1};
    if ((s = vidi_json_get_bool(root, "do_resize", path, &do_resize, 1, 0)) ||
        (s = vidi_json_get_bool(root, "do_center_crop", path, &do_crop, 0, 0)) ||
        (s = vidi_json_get_bool(root, "do_rescale", path, &do_rescale, 1, 0)) ||
        (s = vidi_json_get_bool(root, "do_normalize", path, &do_norm, 1, 0)) ||
        (s = vidi_json_get_bool(root, "offset", path, &offset, 0, 0)) ||
        (s = vidi_json_get_int(root, "resample", path, &resample, 2, 0)) ||
        (s = vidi_json_get_float(root, "rescale_factor", path, &rescale, 1.0 / 255.0, 0)) ||
        (s = read_size(root, "size", path, &shorter, &w, &h)) ||
        (s = read_size(root, "crop_size", path, &unused, &cw, &ch)))
        goto done;
    if (do_norm && ((s = vidi_json_get_float_array(root, "image_mean", path, mean, 3, mean, 0)) ||
                    (s = vidi_json_get_float_array(root, "image_std", path, stdv, 3, stdv, 0))))
        goto done;
    if (resample < 0 || resample > 5) {
        s = vidi_set_error(VIDI_ERR_FORMAT, "%s: resample %d is not a PIL filter (0-5)", path, resample);
        goto done;
    }
    for (int c = 0; c < 3; c++)
        if (!(stdv[c] > 0)) {
            s = vidi_set_error(VIDI_ERR_FORMAT, "%s: image_std must be positive", path);
            goto done;
        }
    p->resample = (vidi_resample)resample;
    p->resize_shorter = do_resize ? shorter : 0;
    p->resize_w = do_resize && !shorter ? w : 0;
    p->resize_h = do_resize && !shorter ? h : 0;
    p->crop = do_crop && cw > 0 && ch > 0 ? VIDI_CROP_CENTER : VIDI_CROP_NONE;
    p->crop_w = p->crop == VIDI_CROP_CENTER ? cw : 0;
    p->crop_h = p->crop == VIDI_CROP_CENTER ? ch : 0;
    p->rescale = do_rescale ? (float)rescale : 1.0f;
    /* VivitImageProcessor's offset: x * rescale - 1 (to [-1, 1]), then
     * (x - mean) / std; folded into the mean. */
    for (int c = 0; c < 3; c++) {
        p->mean[c] = (float)((do_norm ? mean[c] : 0.0) + (do_rescale && offset ? 1.0 : 0.0));
        p->std[c] = do_norm ? (float)stdv[c] : 1.0f;
    }
done:
    cJSON_Delete(root);
    return s;
}
