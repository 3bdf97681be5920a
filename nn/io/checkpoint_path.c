/* Where a checkpoint's weights are: the loaders of every model family take
 * either a Hugging Face-style directory (weights in model.safetensors next
 * to config.json) or a single .safetensors file. */
#include <stdio.h>
#include <sys/stat.h>

#include "vidi/safetensors.h"

vidi_status vidi_checkpoint_weights_path(const char *path, char *weights, size_t size, int *is_dir) {
    struct stat sb;
    if (stat(path, &sb) != 0) return vidi_set_error(VIDI_ERR_IO, "%s: cannot open: no such file or directory", path);
    int dir = S_ISDIR(sb.st_mode);
    int len = dir ? snprintf(weights, size, "%s/model.safetensors", path) : snprintf(weights, size, "%s", path);
    if (len < 0 || (size_t)len >= size) return vidi_set_error(VIDI_ERR_ARG, "%s: path too long", path);
    if (is_dir) *is_dir = dir;
    return VIDI_OK;
}
