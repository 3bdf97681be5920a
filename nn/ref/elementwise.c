/* Reference softmax, add and layernorm: plain loops, double accumulation. */
#include <math.h>

#include "nn/ref/ops_check.h"

vidi_status vidi_ref_softmax(vidi_be *be, float *out, const float *in, int64_t rows, int64_t cols) {
    (void)be;
    vidi_status st = vidi_check_softmax(out, in, rows, cols);
    if (st != VIDI_OK) return st;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * cols;
        float *y = out + r * cols;
        double max = x[0];
        for (int64_t c = 1; c < cols; c++) max = fmax(max, (double)x[c]);
        double sum = 0.0;
        for (int64_t c = 0; c < cols; c++) sum += exp((double)x[c] - max);
        /* Read x[c] again before writing y[c]: in-place (out == in) is allowed. */
        for (int64_t c = 0; c < cols; c++) y[c] = (float)(exp((double)x[c] - max) / sum);
    }
    return VIDI_OK;
}

vidi_status vidi_ref_add(vidi_be *be, float *out, const float *a, const float *b, int64_t n) {
    (void)be;
    vidi_status st = vidi_check_add(out, a, b, n);
    if (st != VIDI_OK) return st;
    for (int64_t i = 0; i < n; i++) out[i] = (float)((double)a[i] + (double)b[i]);
    return VIDI_OK;
}

vidi_status vidi_ref_layernorm(vidi_be *be, float *out, const float *in, const float *gamma,
                               const float *beta, int64_t rows, int64_t dim, float eps) {
    (void)be;
    vidi_status st = vidi_check_layernorm(out, in, rows, dim, eps);
    if (st != VIDI_OK) return st;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * dim;
        float *y = out + r * dim;
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < dim; i++) mean += x[i];
        mean /= (double)dim;
        for (int64_t i = 0; i < dim; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
        var /= (double)dim;
        double inv = 1.0 / sqrt(var + (double)eps);
        for (int64_t i = 0; i < dim; i++) {
            double v = ((double)x[i] - mean) * inv;
            if (gamma) v *= gamma[i];
            if (beta) v += beta[i];
            y[i] = (float)v;
        }
    }
    return VIDI_OK;
}

vidi_status vidi_ref_modulate(vidi_be *be, float *out, const float *in, const float *scale, float scale_bias,
                              const float *shift, const float *res, int64_t rows, int64_t dim) {
    (void)be;
    vidi_status st = vidi_check_modulate(out, in, scale, rows, dim, scale_bias);
    if (st != VIDI_OK) return st;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < dim; c++) {
            int64_t i = r * dim + c;
            double v = (double)in[i] * ((double)scale_bias + scale[c]);
            if (shift) v += shift[c];
            if (res) v += res[i];
            out[i] = (float)v;
        }
    return VIDI_OK;
}

