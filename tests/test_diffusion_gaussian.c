/* Samplers against a case with a known answer. Data x0 ~ N(mu, s^2), iid
 * per element. Then x_t ~ N(sqrt(abar) mu, V_t), V_t = abar s^2 + 1 - abar,
 * and the exact denoiser is
 *     eps(x_t, t) = sqrt(1 - abar) (x_t - sqrt(abar) mu) / V_t.
 * The exact reverse step is Gaussian too: Var(x_{t-1} | x_t) =
 * V_{t-1} - alpha_t V_{t-1}^2 / V_t, which lies in [beta~_t, beta_t] for
 * s < 1, so a learned-range v exists that makes ancestral DDPM exact at any
 * respacing. Every sampler must then reproduce mean mu and std s within
 * statistical bounds (plus, for the deterministic few-step solvers, a small
 * discretisation allowance stated per case). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/diffusion.h"

#define NS 40000 /* samples (elements) per run */

typedef struct gauss {
    double mu[2], s[2];            /* label 0 / 1; label -1 uses index 1 too */
    const vidi_diffusion *base;    /* the model's process (eps) */
    const vidi_diffusion *process; /* respaced process the sampler runs (for v) */
    int calls, cond_calls;
} gauss;

static vidi_status denoise(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    gauss *g = user;
    g->calls++;
    if (label >= 0) g->cond_calls++;
    int c = label == 0 ? 0 : 1;
    double mu = g->mu[c], s2 = g->s[c] * g->s[c];
    double ab = g->base->alphas_cumprod[t], V = ab * s2 + 1.0 - ab;
    double k = sqrt(1.0 - ab) / V, m = sqrt(ab) * mu;
    for (int64_t j = 0; j < n; j++) eps[j] = (float)(k * (xt[j] - m));
    if (v) { /* v is relative to the process being sampled (as in improved-diffusion) */
        const vidi_diffusion *d = g->process;
        int i = 0;
        while (i < d->num_timesteps && d->timestep_map[i] != t) i++;
        if (i == d->num_timesteps) return vidi_set_error(VIDI_ERR_ARG, "timestep %d not in the process", t);
        double abp = d->alphas_cumprod_prev[i], alpha = 1.0 - d->betas[i];
        double Vp = abp * s2 + 1.0 - abp;
        double var = Vp - alpha * Vp * Vp / V;
        double lo = d->posterior_log_variance_clipped[i], hi = log(d->betas[i]);
        double frac = i == 0 ? 0.0 : (log(var) - lo) / (hi - lo);
        for (int64_t j = 0; j < n; j++) v[j] = (float)(2.0 * frac - 1.0);
    }
    return VIDI_OK;
}

static void moments(const float *x, int n, double *mean, double *sd) {
    double m = 0, q = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) q += (x[i] - m) * (x[i] - m);
    *mean = m;
    *sd = sqrt(q / (n - 1));
}

/* mean within 5 standard errors (+ bias), std within 5 of its standard
 * errors s/sqrt(2n) (+ bias). Returns the sample. */
static void run_as(const char *name, const vidi_diffusion *base, vidi_sample_params p, gauss *g, double bias_mean,
                   double bias_sd, float *x, int c) {
    vidi_diffusion *proc = NULL;
    CHECK(vidi_sampler_process(base, &p, &proc) == VIDI_OK);
    if (!proc) return;
    g->process = proc;
    g->calls = g->cond_calls = 0;
    vidi_status st = vidi_diffusion_sample(base, &p, denoise, g, x, NS);
    CHECK_MSG(st == VIDI_OK, "%s: %s", name, vidi_last_error());
    double mean, sd, mu = g->mu[c], s = g->s[c];
    moments(x, NS, &mean, &sd);
    double se = s / sqrt((double)NS), se_sd = s / sqrt(2.0 * NS);
    CHECK_MSG(fabs(mean - mu) <= 5 * se + bias_mean, "%s: mean %.5f, want %.5f +- %.5f", name, mean, mu, 5 * se + bias_mean);
    CHECK_MSG(fabs(sd - s) <= 5 * se_sd + bias_sd, "%s: std %.5f, want %.5f +- %.5f", name, sd, s, 5 * se_sd + bias_sd);
    printf("%-34s mean %.5f (want %.3f)  std %.5f (want %.3f)  model calls %d\n", name, mean, mu, sd, s, g->calls);
    vidi_diffusion_free(proc);
}

static void run(const char *name, const vidi_diffusion *base, vidi_sample_params p, gauss *g, double bias_mean,
                double bias_sd, float *x) {
    run_as(name, base, p, g, bias_mean, bias_sd, x, p.label == 0 ? 0 : 1);
}

/* In-painting with a known answer: x0 = c (1, ..., 1), c ~ N(mu, s^2). The
 * exact denoiser: c | x_t is Gaussian with precision 1/s^2 + n abar/(1-abar)
 * and mean (mu/s^2 + sqrt(abar) sum(x_t)/(1-abar)) / precision; eps_i =
 * (x_t,i - sqrt(abar) E[c|x_t]) / sqrt(1-abar). Given some elements known
 * (= c_true), the rest is c_true exactly: RePaint must get there. */
typedef struct constant_data {
    const vidi_diffusion *base;
    double mu, s;
} constant_data;

static vidi_status denoise_constant(void *user, const float *xt, int t, int label, float *eps, float *v, int64_t n) {
    constant_data *c = user;
    (void)label, (void)v;
    double ab = c->base->alphas_cumprod[t], sum = 0;
    for (int64_t j = 0; j < n; j++) sum += xt[j];
    double prec = 1.0 / (c->s * c->s) + n * ab / (1.0 - ab);
    double ec = (c->mu / (c->s * c->s) + sqrt(ab) * sum / (1.0 - ab)) / prec;
    for (int64_t j = 0; j < n; j++) eps[j] = (float)((xt[j] - sqrt(ab) * ec) / sqrt(1.0 - ab));
    return VIDI_OK;
}

/* Mean |x_unknown - c_true| over `trials` seeds. */
static double repaint_error(const vidi_diffusion *base, int resample, int steps, int trials, int known_elems) {
    enum { N = 64 };
    constant_data cd = {.base = base, .mu = 0.0, .s = 0.5};
    float known[N], mask[N], x[N];
    double err = 0;
    for (int tr = 0; tr < trials; tr++) {
        double c_true = 0.6 * sin(1.7 * tr + 0.3); /* within ~1.2 s of the prior mean */
        for (int j = 0; j < N; j++) known[j] = (float)c_true, mask[j] = j < known_elems ? 1.0f : 0.0f;
        vidi_sample_params p = vidi_sample_default_params();
        p.steps = steps, p.clip = 0, p.seed = 100 + (uint64_t)tr;
        vidi_status st = vidi_diffusion_repaint(base, &p, denoise_constant, &cd, known, mask, resample, x, N);
        CHECK_MSG(st == VIDI_OK, "repaint: %s", vidi_last_error());
        for (int j = 0; j < N; j++) {
            if (mask[j] > 0.5f) CHECK(x[j] == known[j]);
            else err += fabs(x[j] - c_true);
        }
    }
    return err / ((double)trials * (N - known_elems));
}

static void test_repaint(const vidi_diffusion *base) {
    /* Without the known part the sample is a fresh c ~ N(0, 0.5^2): the
     * unknown region then misses c_true by ~0.5 on average. */
    double none = repaint_error(base, 1, 50, 24, 0);
    double r1 = repaint_error(base, 1, 50, 24, 16), r4 = repaint_error(base, 4, 50, 24, 16);
    printf("repaint |x - c_true| on the unknown 48 of 64: no known %.4f, resample 1 %.4f, resample 4 %.4f\n", none,
           r1, r4);
    CHECK_MSG(none > 0.25, "nothing known: error %.4f should be the prior's spread (~0.6 here)", none);
    CHECK_MSG(r1 < 0.5 * none, "repaint: error %.4f not well below the unconditional %.4f", r1, none);
    CHECK_MSG(r4 < 0.05 && r4 < r1, "repaint with resampling: error %.4f (resample 1: %.4f)", r4, r1);
    float k[4] = {0}, m[4] = {1, 0, 0, 0}, x[4];
    vidi_sample_params p = vidi_sample_default_params();
    constant_data cd = {.base = base, .mu = 0.0, .s = 0.5};
    CHECK(vidi_diffusion_repaint(base, &p, denoise_constant, &cd, k, m, 0, x, 4) == VIDI_ERR_ARG);
    CHECK(vidi_diffusion_repaint(base, &p, denoise_constant, &cd, k, NULL, 1, x, 4) == VIDI_ERR_ARG);
}

int main(void) {
    vidi_diffusion *base = NULL;
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_COSINE, 1000, &base) == VIDI_OK);
    if (!base) return vidi_test_summary("diffusion_gaussian");
    gauss g = {.mu = {-0.4, 0.3}, .s = {0.1, 0.2}, .base = base};
    float *x = malloc(sizeof(float) * NS), *y = malloc(sizeof(float) * NS);
    vidi_sample_params p = vidi_sample_default_params();
    p.clip = 0; /* the Gaussian has tails past +-1 in x0-space at t ~ T */
    p.seed = 1234;

    /* Exact reverse process: any step count is exact, only sampling error remains. */
    p.sampler = VIDI_SAMPLER_DDPM, p.learned_sigma = 1;
    p.steps = 1000, run("ddpm 1000 learned sigma", base, p, &g, 0, 0, x);
    p.steps = 10, run("ddpm 10 learned sigma", base, p, &g, 0, 0, x);
    p.steps = 50, run("ddpm 50 learned sigma", base, p, &g, 0, 0, x);
    /* Fixed beta~ variance is not the exact one: too little noise per step,
     * the std comes out low by O(1/steps); 50 steps over-shrink noticeably. */
    p.learned_sigma = 0;
    p.steps = 1000, run("ddpm 1000 fixed small sigma", base, p, &g, 0, 0.01, x);
    /* DDIM eta=1 equals ancestral sampling with beta~ variance. */
    p.sampler = VIDI_SAMPLER_DDIM, p.eta = 1.0f, p.steps = 1000;
    run("ddim 1000 eta=1", base, p, &g, 0, 0.01, y);
    /* The probability-flow ODE maps N(0, I) onto the data exactly, but this
     * narrow Gaussian (s = 0.2 against unit noise) makes it stiff near t = 0:
     * first-order DDIM is ~7% low on the std at 50 steps (diffusers'
     * DDIMScheduler gives the same, 0.188) and converges with more steps;
     * DPM++ 2M is within 1% at 50 steps (diffusers: 0.198). */
    p.eta = 0.0f, p.steps = 50;
    run("ddim 50 eta=0", base, p, &g, 0.003, 0.016, x);
    p.steps = 250;
    run("ddim 250 eta=0", base, p, &g, 0.002, 0.004, x);
    p.sampler = VIDI_SAMPLER_DPMPP_2M, p.steps = 20;
    run("dpm++ 20", base, p, &g, 0.003, 0.02, x);
    p.steps = 50;
    run("dpm++ 50", base, p, &g, 0.002, 0.003, x);

    /* Guidance: scale 1 calls the conditional model once per step and equals
     * plain conditional sampling; scale 0 equals unconditional sampling. */
    p.sampler = VIDI_SAMPLER_DDIM, p.steps = 250, p.label = 0, p.guidance = 1.0f;
    run("ddim 250 label 0 guidance 1", base, p, &g, 0.002, 0.004, x);
    CHECK(g.calls == 250 && g.cond_calls == 250);
    p.guidance = 0.0f;
    run_as("ddim 250 label 0 guidance 0 (= null)", base, p, &g, 0.002, 0.004, x, 1);
    CHECK(g.calls == 500 && g.cond_calls == 250);
    /* Guidance 0 is the null model: with g.mu[1] as the null distribution the
     * result must equal the unconditional run bit for bit. */
    p.label = -1, p.guidance = 1.0f;
    run("ddim 250 unconditional", base, p, &g, 0.002, 0.004, y);
    CHECK(memcmp(x, y, sizeof(float) * NS) == 0);
    /* Same seed, same bytes; another seed, other bytes. */
    run("ddim 250 unconditional again", base, p, &g, 0.002, 0.004, x);
    CHECK(memcmp(x, y, sizeof(float) * NS) == 0);
    p.seed = 99;
    run("ddim 250 unconditional seed 99", base, p, &g, 0.002, 0.004, x);
    CHECK(memcmp(x, y, sizeof(float) * NS) != 0);

    test_repaint(base);

    /* Bad parameters. */
    p.steps = 0;
    CHECK(vidi_diffusion_sample(base, &p, denoise, &g, x, NS) == VIDI_ERR_ARG && strstr(vidi_last_error(), "steps 0"));
    p.steps = 1001;
    CHECK(vidi_diffusion_sample(base, &p, denoise, &g, x, NS) == VIDI_ERR_ARG);
    p.steps = 10, p.guidance = -1.0f;
    CHECK(vidi_diffusion_sample(base, &p, denoise, &g, x, NS) == VIDI_ERR_ARG && strstr(vidi_last_error(), "guidance"));
    free(x);
    free(y);
    vidi_diffusion_free(base);
    return vidi_test_summary("diffusion_gaussian");
}
