/* Accuracy metrics as the papers report them: top-1 and top-5 over the
 * evaluated videos, mean class accuracy = mean over classes present of the
 * per-class recall (mmaction2 mean_class_accuracy), confusion matrix
 * [true][predicted]. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/eval.h"

vidi_status vidi_eval_metrics_init(vidi_eval_metrics *m, int n_classes) {
    memset(m, 0, sizeof *m);
    if (n_classes < 1 || n_classes > 100000)
        return vidi_set_error(VIDI_ERR_ARG, "metrics: %d classes is out of range", n_classes);
    m->n_classes = n_classes;
    m->confusion = calloc((size_t)n_classes * n_classes, sizeof *m->confusion);
    m->support = calloc((size_t)n_classes, sizeof *m->support);
    m->correct = calloc((size_t)n_classes, sizeof *m->correct);
    if (!m->confusion || !m->support || !m->correct) {
        vidi_eval_metrics_free(m);
        return vidi_set_error(VIDI_ERR_NOMEM, "metrics: out of memory for %d classes", n_classes);
    }
    return VIDI_OK;
}

void vidi_eval_metrics_add(vidi_eval_metrics *m, int label, const int *top, int k) {
    if (label < 0 || label >= m->n_classes || k < 1) return;
    int pred = top[0];
    m->evaluated++;
    m->support[label]++;
    if (pred >= 0 && pred < m->n_classes) m->confusion[(size_t)label * m->n_classes + pred]++;
    if (pred == label) m->top1_hits++, m->correct[label]++;
    for (int i = 0; i < k && i < 5; i++)
        if (top[i] == label) {
            m->top5_hits++;
            break;
        }
}

void vidi_eval_metrics_finish(vidi_eval_metrics *m) {
    m->top1 = m->evaluated ? (double)m->top1_hits / m->evaluated : 0;
    m->top5 = m->evaluated ? (double)m->top5_hits / m->evaluated : 0;
    double sum = 0;
    m->classes_present = 0;
    for (int c = 0; c < m->n_classes; c++)
        if (m->support[c]) sum += (double)m->correct[c] / m->support[c], m->classes_present++;
    m->mean_class_accuracy = m->classes_present ? sum / m->classes_present : 0;
}

void vidi_eval_metrics_free(vidi_eval_metrics *m) {
    free(m->confusion);
    free(m->support);
    free(m->correct);
    memset(m, 0, sizeof *m);
}

/* Insertion into a k-long sorted list: O(n k), no allocation. A later index
 * only displaces an earlier one with a strictly larger logit. */
void vidi_eval_topk(const float *logits, int n, int *top, int k) {
    int have = 0;
    for (int i = 0; i < n; i++) {
        int pos = have;
        while (pos > 0 && logits[i] > logits[top[pos - 1]]) pos--;
        if (pos >= k) continue;
        int last = have < k ? have : k - 1;
        for (int j = last; j > pos; j--) top[j] = top[j - 1];
        top[pos] = i;
        if (have < k) have++;
    }
    for (int j = have; j < k; j++) top[j] = -1;
}
