/* A reimplementation of libjpeg's h2v2_fancy_upsample (jdsample.c) and
 * ycc_rgb_convert (jdcolor.c). swscale's chroma filters differ from these
 * by several levels at colour edges, which shifts model inputs measurably
 * on JPEG photos; this matches PIL to within the IDCT's last bit. */
#include "decode/jpeg_color.h"

#include <stdlib.h>

#define SCALEBITS 16
#define ONE_HALF ((int32_t)1 << (SCALEBITS - 1))
#define FIX(x) ((int32_t)((x) * (1L << SCALEBITS) + 0.5))

static uint8_t clamp8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* One full-width chroma row from chroma rows `near` (weight 3) and `far`
 * (weight 1), horizontally interpolated 3:1 as libjpeg does; out has
 * 2 * cw entries. */
static void fancy_row(const uint8_t *near, const uint8_t *far, int cw, uint8_t *out) {
    if (cw == 1) {
        int sum = near[0] * 3 + far[0];
        out[0] = (uint8_t)((sum * 4 + 8) >> 4);
        out[1] = (uint8_t)((sum * 4 + 7) >> 4);
        return;
    }
    int this_sum = near[0] * 3 + far[0];
    int next_sum = near[1] * 3 + far[1];
    out[0] = (uint8_t)((this_sum * 4 + 8) >> 4);
    out[1] = (uint8_t)((this_sum * 3 + next_sum + 7) >> 4);
    int last_sum = this_sum;
    this_sum = next_sum;
    for (int col = 2; col < cw; col++) {
        next_sum = near[col] * 3 + far[col];
        out[2 * (col - 1)] = (uint8_t)((this_sum * 3 + last_sum + 8) >> 4);
        out[2 * (col - 1) + 1] = (uint8_t)((this_sum * 3 + next_sum + 7) >> 4);
        last_sum = this_sum;
        this_sum = next_sum;
    }
    out[2 * (cw - 1)] = (uint8_t)((this_sum * 3 + last_sum + 8) >> 4);
    out[2 * (cw - 1) + 1] = (uint8_t)((this_sum * 4 + 7) >> 4);
}

int vidi_yuvj420_to_rgb(const uint8_t *y, int y_stride, const uint8_t *cb, const uint8_t *cr, int c_stride,
                         int width, int height, uint8_t *rgb) {
    int cw = (width + 1) / 2, ch = (height + 1) / 2;
    int cr_r[256], cb_b[256];
    int32_t cr_g[256], cb_g[256];
    for (int i = 0; i < 256; i++) {
        int x = i - 128;
        cr_r[i] = (int)((FIX(1.40200) * x + ONE_HALF) >> SCALEBITS);
        cb_b[i] = (int)((FIX(1.77200) * x + ONE_HALF) >> SCALEBITS);
        cr_g[i] = -FIX(0.71414) * x;
        cb_g[i] = -FIX(0.34414) * x + ONE_HALF;
    }
    uint8_t *row_cb = malloc((size_t)cw * 2), *row_cr = malloc((size_t)cw * 2);
    if (!row_cb || !row_cr) {
        free(row_cb);
        free(row_cr);
        return -1;
    }
    for (int yy = 0; yy < height; yy++) {
        int c = yy / 2;
        /* Even output rows lean on the chroma row above, odd on the one
         * below; the image edges replicate their row, as libjpeg does. */
        int other = (yy % 2 == 0) ? (c > 0 ? c - 1 : 0) : (c + 1 < ch ? c + 1 : ch - 1);
        fancy_row(cb + (size_t)c * c_stride, cb + (size_t)other * c_stride, cw, row_cb);
        fancy_row(cr + (size_t)c * c_stride, cr + (size_t)other * c_stride, cw, row_cr);
        const uint8_t *yrow = y + (size_t)yy * y_stride;
        uint8_t *out = rgb + (size_t)yy * width * 3;
        for (int x = 0; x < width; x++) {
            int lum = yrow[x], b = row_cb[x], r = row_cr[x];
            out[3 * x] = clamp8(lum + cr_r[r]);
            out[3 * x + 1] = clamp8(lum + (int)((cb_g[b] + cr_g[r]) >> SCALEBITS));
            out[3 * x + 2] = clamp8(lum + cb_b[b]);
        }
    }
    free(row_cb);
    free(row_cr);
    return 0;
}
