/* Image decode + preprocessing against the Hugging Face image processors
 * (tests/golden/preprocess, from tools/oracle/gen_vit_golden.py):
 *  "<file>:pil" is ViTImageProcessorPil (PIL resize), which vidi reimplements
 *  exactly: PNG inputs must match to float rounding; JPEG within the last
 *  bit of the IDCT (FFmpeg's and libjpeg's differ; the chroma upsampling and
 *  colour conversion follow libjpeg exactly, see decode/jpeg_color.c).
 *  "<file>" is transformers 5's default (torchvision) processor, which
 *  resizes in float, so it is only close. */
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/safetensors.h"
#include "vidi/vit.h"

static void compare(const char *what, const float *got, const vidi_st_tensor *t, double max_tol, double mean_tol) {
    int64_t n = t->shape[0] * t->shape[1] * t->shape[2];
    float *want = malloc(sizeof(float) * (size_t)n);
    if (!want || vidi_st_tensor_to_f32(t, want) != VIDI_OK) {
        CHECK_MSG(0, "%s: cannot read golden", what);
        free(want);
        return;
    }
    double max = 0, mean = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= max)) max = d;
        mean += d / (double)n;
    }
    printf("%-34s max |diff| %.3g, mean %.3g\n", what, max, mean);
    CHECK_MSG(max <= max_tol && mean <= mean_tol, "%s: max |diff| %.3g (tol %.3g), mean %.3g (tol %.3g)", what, max,
              max_tol, mean, mean_tol);
    free(want);
}

int main(void) {
    av_log_set_level(AV_LOG_QUIET);
    static const char *const files[] = {"img_37x29.png", "img_30x30_rgba.png", "img_30x30_gray.png", "img_64x48.jpg"};
    vidi_backend *be = NULL;
    vidi_vit *model = NULL;
    vidi_safetensors *golden = NULL;
    if (vidi_backend_create("cpu", 1, &be) || vidi_vit_load("tests/golden/hf_vit_gelu", be, 0, &model) ||
        vidi_safetensors_open("tests/golden/preprocess/golden.safetensors", &golden)) {
        fprintf(stderr, "setup: %s\n", vidi_last_error());
        return 1;
    }
    float pixels[3 * 32 * 32];
    /* One 8-bit level after normalising with std 0.5 is 2/255 = 0.0078. */
    const double level = 2.0 / 255.0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256], key[128];
        snprintf(path, sizeof path, "tests/golden/preprocess/%s", files[i]);
        vidi_image img = {0};
        vidi_status s = vidi_image_load(path, &img);
        CHECK_MSG(s == VIDI_OK, "%s: %s", path, vidi_last_error());
        if (s) continue;
        s = vidi_vit_preprocess(model, &img, pixels);
        CHECK_MSG(s == VIDI_OK, "%s: %s", path, vidi_last_error());
        int jpeg = strstr(files[i], ".jpg") != NULL;
        snprintf(key, sizeof key, "%s:pil", files[i]);
        const vidi_st_tensor *pil = vidi_safetensors_find(golden, key);
        const vidi_st_tensor *tv = vidi_safetensors_find(golden, files[i]);
        CHECK_MSG(pil && tv, "%s: golden entries missing", files[i]);
        if (!s && pil) compare(key, pixels, pil, jpeg ? 2.5 * level : 1e-6, jpeg ? 0.1 * level : 1e-7);
        if (!s && tv) compare(files[i], pixels, tv, 6 * level, 1.5 * level);
        vidi_image_free(&img);
    }
    vidi_safetensors_close(golden);
    vidi_vit_free(model);
    vidi_backend_destroy(be);
    return vidi_test_summary("preprocess");
}
