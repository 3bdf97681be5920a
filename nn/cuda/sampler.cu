/* The diffusion sampler step (vidi_sampler_step, ops.h) as one elementwise
 * kernel: guidance, the data prediction and the DDPM / DDIM / DPM++ update in
 * double, one thread per value (grid-stride), so x stays on the device
 * between denoiser forwards. The formulas are nn/ref/sampler_step.c's,
 * written again here (the ref tier is the test oracle). Double because the
 * host loops they replace were double: the CPU and the emulator then give
 * the same bytes, and a GPU differs only by fused multiply-adds. A step is
 * memory-bound, so double arithmetic costs little even on GPUs with slow
 * FP64. */
#include "nn/cuda/kernel.h"
#include "nn/cuda/kernels.h"

#define STEP_THREADS 256

typedef struct step_args {
    vidi_sampler_step s;
    int64_t n;
} step_args;

VIDI_DEVICE double step_clamp1(double x) { return x < -1.0 ? -1.0 : x > 1.0 ? 1.0 : x; }

VIDI_KERNEL(sampler_step_kernel, step_args, a) {
    int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += stride) {
        const double x = a.s.xt[i];
        float e = 0.0f, x0f = 0.0f;
        double x0 = 0.0;
        if (a.s.eps) {
            e = a.s.eps[i];
            if (a.s.eps_uncond) e = (float)(a.s.eps_uncond[i] + a.s.guidance * ((double)e - a.s.eps_uncond[i]));
            x0 = a.s.ra * x - a.s.rm1 * e;
            if (a.s.clip) x0 = step_clamp1(x0);
        }
        double r;
        if (a.s.kind == VIDI_STEP_DDPM) {
            r = a.s.c1 * x0 + a.s.c2 * x;
            if (a.s.noise) {
                double frac = a.s.v ? (a.s.v[i] + 1.0) / 2.0 : 0.0;
                r += exp(0.5 * (frac * a.s.max_log + (1.0 - frac) * a.s.min_log)) * a.s.noise[i];
            }
        } else if (a.s.kind == VIDI_STEP_DDIM) {
            r = x0 * a.s.sab + a.s.dir * ((a.s.ra * x - x0) / a.s.rm1);
            if (a.s.noise) r += a.s.sigma * a.s.noise[i];
        } else {
            x0f = a.s.eps ? (float)x0 : a.s.x0_in[i];
            if (a.s.eps && a.s.x0_out) a.s.x0_out[i] = x0f;
            if (a.s.to_data) r = x0f;
            else if (!a.s.x0_prev) r = a.s.ratio * x - a.s.c_x0 * x0f;
            else r = a.s.ratio * x - a.s.c_x0 * x0f - a.s.c_d1 * ((x0f - (double)a.s.x0_prev[i]) / a.s.r0);
        }
        if (a.s.known && a.s.known_mask[i] > 0.5f) /* in-painting: the forward process at the new level */
            r = a.s.known_a * a.s.known[i] + (a.s.known_noise ? a.s.known_s * a.s.known_noise[i] : 0.0);
        a.s.out[i] = (float)r;
    }
}

VIDI_CU_EXTERN cudaError_t VIDI_CU(launch_sampler_step)(cudaStream_t stream, const vidi_sampler_step *s, int64_t n) {
    if (n <= 0) return cudaSuccess;
    size_t bytes = (size_t)n * sizeof(float);
    VIDI_DEV_RANGE(s->out, bytes);
    VIDI_DEV_RANGE(s->xt, bytes);
    if (s->eps) VIDI_DEV_RANGE(s->eps, bytes);
    if (s->eps_uncond) VIDI_DEV_RANGE(s->eps_uncond, bytes);
    if (s->noise) VIDI_DEV_RANGE(s->noise, bytes);
    if (s->v) VIDI_DEV_RANGE(s->v, bytes);
    if (s->x0_in) VIDI_DEV_RANGE(s->x0_in, bytes);
    if (s->x0_out) VIDI_DEV_RANGE(s->x0_out, bytes);
    if (s->x0_prev) VIDI_DEV_RANGE(s->x0_prev, bytes);
    if (s->known) VIDI_DEV_RANGE(s->known, bytes);
    if (s->known_mask) VIDI_DEV_RANGE(s->known_mask, bytes);
    if (s->known_noise) VIDI_DEV_RANGE(s->known_noise, bytes);
    step_args args;
    args.s = *s;
    args.n = n;
    int64_t blocks = (n + STEP_THREADS - 1) / STEP_THREADS;
    if (blocks > 8192) blocks = 8192;
    VIDI_LAUNCH(sampler_step_kernel, VIDI_DIM3((unsigned)blocks, 1, 1), VIDI_DIM3(STEP_THREADS, 1, 1), 0, stream, args);
    return cudaGetLastError();
}
