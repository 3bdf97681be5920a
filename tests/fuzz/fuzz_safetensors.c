/* libFuzzer target: any byte string must parse or fail cleanly, and whatever
 * parses must be safe to walk, convert and query. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vidi/safetensors.h"

/* Keeps one input from allocating far more than the libFuzzer RSS limit. */
#define FUZZ_CONVERT_MAX_FLOATS (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vidi_safetensors *st = NULL;
    if (vidi_safetensors_parse(data, size, "fuzz.safetensors", &st) != VIDI_OK) {
        /* A failure must leave a message and no handle. */
        if (st != NULL || vidi_last_error()[0] == '\0') abort();
        return 0;
    }
    int n = vidi_safetensors_count(st);
    for (int i = 0; i < n; i++) {
        const vidi_st_tensor *t = vidi_safetensors_at(st, i);
        if (!t || vidi_safetensors_find(st, t->name) != t) abort();
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        if ((size_t)numel * vidi_dtype_size(t->dtype) != t->nbytes) abort();
        if (numel > (int64_t)FUZZ_CONVERT_MAX_FLOATS) continue;
        /* Touch every byte of the tensor: ASan catches a range outside `data`. */
        volatile uint8_t sink = 0;
        for (size_t b = 0; b < t->nbytes; b++) sink ^= ((const uint8_t *)t->data)[b];
        (void)sink;
        float *dst = malloc((size_t)(numel > 0 ? numel : 1) * sizeof *dst);
        if (dst && vidi_st_tensor_to_f32(t, dst) != VIDI_OK) abort();
        free(dst);
        const float *view = NULL;
        if (vidi_safetensors_get_f32(st, t->name, t->ndim, t->shape, &view) != VIDI_OK || !view)
            abort();
        /* Twice: the second call must reuse the cached conversion. */
        if (vidi_safetensors_get_f32(st, t->name, t->ndim, t->shape, &view) != VIDI_OK) abort();
        volatile float fsink = 0;
        for (int64_t k = 0; k < numel; k++) fsink += view[k];
        (void)fsink;
        int64_t wrong[VIDI_MAX_DIMS] = {-1};
        if (vidi_safetensors_get_f32(st, t->name, 1, wrong, &view) != VIDI_ERR_SHAPE) abort();
    }
    if (vidi_safetensors_at(st, n) != NULL || vidi_safetensors_at(st, -1) != NULL) abort();
    const float *none = NULL;
    (void)vidi_safetensors_get_f32(st, "no such tensor", 0, NULL, &none);
    (void)vidi_safetensors_metadata(st, "format");
    (void)vidi_safetensors_metadata(st, "");
    (void)vidi_safetensors_label(st);
    vidi_safetensors_close(st);
    return 0;
}
