/* Reference linear and GELU: plain loops, double accumulation. */
#include <math.h>

#include "nn/ref/ops_check.h"
#include "nn/ref/ref.h"

double vidi_ref_act(double x, vidi_act act) {
    switch (act) {
    case VIDI_ACT_GELU_ERF: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case VIDI_ACT_GELU_TANH: {
        const double c = sqrt(2.0 / 3.14159265358979323846);
        return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * x * x * x)));
    }
    case VIDI_ACT_NONE: break;
    }
    return x;
}

vidi_status vidi_ref_linear(vidi_be *be, float *out, const float *in, const float *weight,
                            const float *bias, int64_t rows, int64_t in_f, int64_t out_f, vidi_act act) {
    (void)be;
    vidi_status st = vidi_check_linear(out, in, weight, rows, in_f, out_f, act);
    if (st != VIDI_OK) return st;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t o = 0; o < out_f; o++) {
            double acc = bias ? (double)bias[o] : 0.0;
            for (int64_t i = 0; i < in_f; i++) acc += (double)in[r * in_f + i] * (double)weight[o * in_f + i];
            out[r * out_f + o] = (float)vidi_ref_act(acc, act);
        }
    }
    return VIDI_OK;
}

vidi_status vidi_ref_gelu(vidi_be *be, float *out, const float *in, int64_t n, vidi_act act) {
    (void)be;
    vidi_status st = vidi_check_gelu(out, in, n, act);
    if (st != VIDI_OK) return st;
    for (int64_t i = 0; i < n; i++) out[i] = (float)vidi_ref_act((double)in[i], act);
    return VIDI_OK;
}
