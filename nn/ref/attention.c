/* Reference attention: the full score row in double, then softmax, then V. */
#include <math.h>
#include <stdlib.h>

#include "nn/ref/ops_check.h"

vidi_status vidi_ref_attention(vidi_be *be, float *out, const float *q, const float *k, const float *v,
                               const vidi_attn_layout *l, float scale) {
    (void)be;
    vidi_status st = vidi_check_attention(out, q, k, v, l, scale);
    if (st != VIDI_OK) return st;
    double *p = malloc((size_t)l->kv_len * sizeof *p);
    double *acc = malloc((size_t)l->head_dim * sizeof *acc);
    if (!p || !acc) {
        free(p);
        free(acc);
        return vidi_set_error(VIDI_ERR_NOMEM, "attention: out of memory for %d scores", l->kv_len);
    }
    for (int b = 0; b < l->batch; b++) {
        for (int h = 0; h < l->heads; h++) {
            for (int i = 0; i < l->q_len; i++) {
                const float *qi = q + b * l->q_batch + h * l->q_head + i * l->q_tok;
                double max = -INFINITY;
                for (int j = 0; j < l->kv_len; j++) {
                    const float *kj = k + b * l->k_batch + h * l->k_head + j * l->k_tok;
                    double dot = 0.0;
                    for (int d = 0; d < l->head_dim; d++) dot += (double)qi[d] * (double)kj[d];
                    p[j] = dot * (double)scale;
                    max = fmax(max, p[j]);
                }
                double sum = 0.0;
                for (int j = 0; j < l->kv_len; j++) {
                    p[j] = exp(p[j] - max);
                    sum += p[j];
                }
                for (int d = 0; d < l->head_dim; d++) acc[d] = 0.0;
                for (int j = 0; j < l->kv_len; j++) {
                    const float *vj = v + b * l->v_batch + h * l->v_head + j * l->v_tok;
                    for (int d = 0; d < l->head_dim; d++) acc[d] += p[j] * (double)vj[d];
                }
                float *oi = out + b * l->o_batch + h * l->o_head + i * l->o_tok;
                for (int d = 0; d < l->head_dim; d++) oi[d] = (float)(acc[d] / sum);
            }
        }
    }
    free(p);
    free(acc);
    return VIDI_OK;
}
