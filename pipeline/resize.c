/* PIL-compatible image resizing and normalisation.
 *
 * Checkpoints are trained with Python image processors that resize through
 * PIL, so this follows PIL's Resample.c: a separable convolution whose
 * support widens with the downscale factor (antialiasing), coefficients
 * normalised then quantised to 22-bit fixed point, a horizontal pass rounded
 * to 8 bits, then a vertical pass. Matching it gives bit-identical pixels. */
#include "vidi/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

typedef struct resample_filter {
    double (*weight)(double x);
    double support;
} resample_filter;

static double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

static double bilinear_filter(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double hamming_filter(double x) {
    x = fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x *= M_PI;
    return sin(x) / x * (0.54 + 0.46 * cos(x));
}

static double bicubic_filter(double x) {
    const double a = -0.5; /* PIL's choice, not -0.75 */
    x = fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

static double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double lanczos_filter(double x) {
    return (x > -3.0 && x < 3.0) ? sinc(x) * sinc(x / 3.0) : 0.0;
}

/* Per output pixel: first input index, tap count, and fixed-point taps
 * (ksize of them, zero padded). */
typedef struct resample_coeffs {
    int ksize;
    int *bounds; /* [out_size][2] = {first, count} */
    int32_t *taps;
} resample_coeffs;

static int precompute_coeffs(int in_size, int out_size, const resample_filter *filter,
                             resample_coeffs *rc) {
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = filter->support * filterscale;
    int ksize = (int)ceil(support) * 2 + 1;
    double *k = malloc(sizeof(double) * (size_t)ksize);
    rc->ksize = ksize;
    rc->bounds = malloc(sizeof(int) * 2 * (size_t)out_size);
    rc->taps = calloc((size_t)out_size * (size_t)ksize, sizeof(int32_t));
    if (!k || !rc->bounds || !rc->taps) {
        free(k);
        return -1;
    }
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            double w = filter->weight((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; x++) {
            double w = ww != 0.0 ? k[x] / ww : k[x];
            rc->taps[(size_t)xx * ksize + x] =
                (int32_t)(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
        }
        rc->bounds[xx * 2] = xmin;
        rc->bounds[xx * 2 + 1] = xmax;
    }
    free(k);
    return 0;
}

static void free_coeffs(resample_coeffs *rc) {
    free(rc->bounds);
    free(rc->taps);
}

static uint8_t clip8(int64_t acc) {
    int64_t v = acc >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Convolves along x (step 3 bytes) or along y (step = row bytes). */
static void resample_pass(const uint8_t *in, int in_w, int in_h, uint8_t *out, int out_w, int out_h,
                          const resample_coeffs *rc, int horizontal) {
    for (int y = 0; y < out_h; y++) {
        for (int x = 0; x < out_w; x++) {
            int o = horizontal ? x : y;
            int first = rc->bounds[o * 2], count = rc->bounds[o * 2 + 1];
            const int32_t *taps = rc->taps + (size_t)o * rc->ksize;
            for (int c = 0; c < 3; c++) {
                int64_t acc = 1 << (PRECISION_BITS - 1);
                for (int i = 0; i < count; i++) {
                    size_t src = horizontal ? ((size_t)y * in_w + first + i) * 3 + c
                                            : ((size_t)(first + i) * in_w + x) * 3 + c;
                    acc += (int64_t)in[src] * taps[i];
                }
                out[((size_t)y * out_w + x) * 3 + c] = clip8(acc);
            }
        }
    }
    (void)in_h;
}

static vidi_status resize_nearest(const vidi_image *in, int width, int height, uint8_t *dst) {
    for (int y = 0; y < height; y++) {
        int sy = (int)((y + 0.5) * in->height / height);
        if (sy >= in->height) sy = in->height - 1;
        for (int x = 0; x < width; x++) {
            int sx = (int)((x + 0.5) * in->width / width);
            if (sx >= in->width) sx = in->width - 1;
            memcpy(dst + ((size_t)y * width + x) * 3, in->rgb + ((size_t)sy * in->width + sx) * 3, 3);
        }
    }
    return VIDI_OK;
}

vidi_status vidi_image_resize(const vidi_image *in, int width, int height, vidi_resample resample,
                              vidi_image *out) {
    memset(out, 0, sizeof *out);
    if (!in || !in->rgb || in->width <= 0 || in->height <= 0 || width <= 0 || height <= 0 ||
        (int64_t)width * height > (1 << 28))
        return vidi_set_error(VIDI_ERR_ARG, "image resize: bad size %dx%d", width, height);
    resample_filter filter;
    switch (resample) {
    case VIDI_RESAMPLE_NEAREST: filter = (resample_filter){NULL, 0}; break;
    case VIDI_RESAMPLE_BOX: filter = (resample_filter){box_filter, 0.5}; break;
    case VIDI_RESAMPLE_BILINEAR: filter = (resample_filter){bilinear_filter, 1.0}; break;
    case VIDI_RESAMPLE_HAMMING: filter = (resample_filter){hamming_filter, 1.0}; break;
    case VIDI_RESAMPLE_BICUBIC: filter = (resample_filter){bicubic_filter, 2.0}; break;
    case VIDI_RESAMPLE_LANCZOS: filter = (resample_filter){lanczos_filter, 3.0}; break;
    default: return vidi_set_error(VIDI_ERR_ARG, "image resize: unknown resample filter %d", (int)resample);
    }
    uint8_t *dst = malloc((size_t)width * height * 3);
    if (!dst) return vidi_set_error(VIDI_ERR_NOMEM, "image resize: out of memory");
    out->width = width;
    out->height = height;
    out->rgb = dst;
    if (resample == VIDI_RESAMPLE_NEAREST) return resize_nearest(in, width, height, dst);

    /* Like PIL, skip a pass whose size does not change. */
    int need_h = width != in->width, need_v = height != in->height;
    if (!need_h && !need_v) {
        memcpy(dst, in->rgb, (size_t)width * height * 3);
        return VIDI_OK;
    }
    resample_coeffs hc = {0}, vc = {0};
    uint8_t *mid = NULL;
    vidi_status st = VIDI_OK;
    if ((need_h && precompute_coeffs(in->width, width, &filter, &hc) != 0) ||
        (need_v && precompute_coeffs(in->height, height, &filter, &vc) != 0)) {
        st = vidi_set_error(VIDI_ERR_NOMEM, "image resize: out of memory");
        goto done;
    }
    if (need_h && need_v) {
        mid = malloc((size_t)width * in->height * 3);
        if (!mid) {
            st = vidi_set_error(VIDI_ERR_NOMEM, "image resize: out of memory");
            goto done;
        }
        resample_pass(in->rgb, in->width, in->height, mid, width, in->height, &hc, 1);
        resample_pass(mid, width, in->height, dst, width, height, &vc, 0);
    } else if (need_h) {
        resample_pass(in->rgb, in->width, in->height, dst, width, height, &hc, 1);
    } else {
        resample_pass(in->rgb, in->width, in->height, dst, width, height, &vc, 0);
    }
done:
    free(mid);
    free_coeffs(&hc);
    free_coeffs(&vc);
    if (st != VIDI_OK) vidi_image_free(out);
    return st;
}

void vidi_image_normalize(const vidi_image *in, float rescale, const float mean[3],
                          const float std[3], float *out) {
    size_t plane = (size_t)in->width * in->height;
    for (int c = 0; c < 3; c++) {
        /* Same operations in the same order as the HF processors: rescale,
         * subtract, divide; so float rounding matches too. */
        for (size_t i = 0; i < plane; i++)
            out[c * plane + i] = ((float)in->rgb[i * 3 + c] * rescale - mean[c]) / std[c];
    }
}

vidi_status vidi_image_center_crop(const vidi_image *in, int width, int height, vidi_image *out) {
    memset(out, 0, sizeof *out);
    if (width <= 0 || height <= 0 || width > in->width || height > in->height)
        return vidi_set_error(VIDI_ERR_ARG, "centre crop %dx%d does not fit a %dx%d image", width, height,
                              in->width, in->height);
    /* torchvision's CenterCrop: Python round(), i.e. ties to even. */
    int left = (int)nearbyint((in->width - width) / 2.0);
    int top = (int)nearbyint((in->height - height) / 2.0);
    out->rgb = malloc((size_t)width * height * 3);
    if (!out->rgb) return vidi_set_error(VIDI_ERR_NOMEM, "centre crop: out of memory");
    out->width = width;
    out->height = height;
    for (int y = 0; y < height; y++)
        memcpy(out->rgb + (size_t)y * width * 3, in->rgb + ((size_t)(top + y) * in->width + left) * 3,
               (size_t)width * 3);
    return VIDI_OK;
}
