/* Fast sampler step: the reference formula (nn/ref/sampler_step.c) on slices
 * of the span, one per pool task. A step is a few dozen double operations per
 * value and memory-bound, so there is nothing to vectorise that would not
 * change the rounding; running the reference code itself keeps the CPU's
 * sampling the same bytes as the host loops it replaced. */
#include "nn/cpu/cpu.h"
#include "nn/ref/ops_check.h"

/* Below this many values per task, waking a worker costs more than it saves. */
#define MIN_VALUES_PER_TASK 16384

typedef struct {
    const vidi_sampler_step *step;
    int64_t n;
} step_job;

static const float *at(const float *p, int64_t off) { return p ? p + off : p; }

static void step_task(void *arg, int task, int n_tasks, int thread) {
    (void)thread;
    const step_job *j = arg;
    int64_t b = j->n * task / n_tasks, e = j->n * (task + 1) / n_tasks;
    vidi_sampler_step s = *j->step;
    s.out += b;
    s.xt = at(s.xt, b), s.eps = at(s.eps, b), s.eps_uncond = at(s.eps_uncond, b), s.noise = at(s.noise, b);
    s.v = at(s.v, b), s.x0_in = at(s.x0_in, b), s.x0_prev = at(s.x0_prev, b);
    s.known = at(s.known, b), s.known_mask = at(s.known_mask, b), s.known_noise = at(s.known_noise, b);
    if (s.x0_out) s.x0_out += b;
    vidi_ref_sampler_step(NULL, &s, e - b); /* checked as a whole by the caller: cannot fail */
}

vidi_status vidi_cpu_sampler_step(vidi_be *be, const vidi_sampler_step *step, int64_t n) {
    vidi_status st = vidi_check_sampler_step(step, n);
    if (st != VIDI_OK || n == 0) return st;
    int64_t by_work = n / MIN_VALUES_PER_TASK, cap = (int64_t)vidi_cpu_threads(be) * 4;
    int n_tasks = (int)(by_work < 1 ? 1 : by_work < cap ? by_work : cap);
    step_job j = {step, n};
    vidi_threadpool_run(vidi_cpu_pool(be), n_tasks, step_task, &j);
    return VIDI_OK;
}
