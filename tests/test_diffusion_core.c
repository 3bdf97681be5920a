/* Diffusion core vs tests/golden/diffusion/core.json (tools/oracle/
 * gen_diffusion_golden.py): schedule tables, spacing and respaced tables
 * against improved-diffusion's formulas in float64; q_sample, posterior,
 * learned-range p_mean_variance, DDPM / DDIM steps against the same; and one
 * step of diffusers' DDPMScheduler (learned_range, squaredcos_cap_v2),
 * DDIMScheduler and DPMSolverMultistepScheduler (dpmsolver++, 2M). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/diffusion.h"

#define N 48
#define GOLDEN "tests/golden/diffusion/core.json"

static const cJSON *get(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v) fprintf(stderr, "golden: missing key %s\n", k);
    return v;
}

static int vec(const cJSON *o, const char *k, double *out, int cap) {
    const cJSON *a = get(o, k);
    int n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (n < cap) out[n] = e->valuedouble;
        n++;
    }
    return n;
}

static void vecf(const cJSON *o, const char *k, float *out) {
    double d[N];
    CHECK(vec(o, k, d, N) == N);
    for (int i = 0; i < N; i++) out[i] = (float)d[i];
}

/* Worst |got - want| / (atol + rtol |want|) must be <= 1. */
static void close_d(const char *what, const double *got, const double *want, int n, double atol, double rtol) {
    double worst = 0;
    int wi = 0;
    for (int i = 0; i < n; i++) {
        double r = fabs(got[i] - want[i]) / (atol + rtol * fabs(want[i]));
        if (!(r <= worst)) worst = r, wi = i;
    }
    CHECK_MSG(worst <= 1.0, "%s: [%d] got %.17g want %.17g (%.3g of tolerance)", what, wi, got[wi], want[wi], worst);
}

static void close_f(const char *what, const float *got, const cJSON *o, const char *k, double atol, double rtol) {
    double want[N], g[N];
    CHECK(vec(o, k, want, N) == N);
    for (int i = 0; i < N; i++) g[i] = got[i];
    close_d(what, g, want, N, atol, rtol);
}

static const double *table(const vidi_diffusion *d, const char *name) {
    static const char *names[] = {"betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
                                  "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod",
                                  "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
                                  "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2"};
    const double *tabs[] = {d->betas, d->alphas_cumprod, d->alphas_cumprod_prev, d->sqrt_alphas_cumprod,
                            d->sqrt_one_minus_alphas_cumprod, d->log_one_minus_alphas_cumprod,
                            d->sqrt_recip_alphas_cumprod, d->sqrt_recipm1_alphas_cumprod, d->posterior_variance,
                            d->posterior_log_variance_clipped, d->posterior_mean_coef1, d->posterior_mean_coef2};
    for (int i = 0; i < 12; i++)
        if (!strcmp(names[i], name)) return tabs[i];
    return NULL;
}

/* Every table of d at the golden's indices (or all of them when index is NULL). */
static void compare_tables(const char *label, const vidi_diffusion *d, const cJSON *tabs, const int *index, int n) {
    const cJSON *t;
    int seen = 0;
    cJSON_ArrayForEach(t, tabs) {
        const double *mine = table(d, t->string);
        CHECK_MSG(mine != NULL, "%s: unknown table %s", label, t->string);
        if (!mine) continue;
        double want[1100], got[1100];
        int m = vec(tabs, t->string, want, 1100);
        CHECK(m == n);
        for (int i = 0; i < n && i < 1100; i++) got[i] = mine[index ? index[i] : i];
        char what[128];
        snprintf(what, sizeof what, "%s %s", label, t->string);
        /* Same formulas in double; only libm rounding differs. */
        close_d(what, got, want, n, 1e-15, 1e-11);
        seen++;
    }
    CHECK(seen == 12);
}

static void test_schedules(const cJSON *root) {
    const cJSON *s;
    cJSON_ArrayForEach(s, get(root, "schedules")) {
        vidi_beta_schedule kind;
        CHECK(vidi_beta_schedule_parse(get(s, "schedule")->valuestring, &kind) == VIDI_OK);
        int T = get(s, "T")->valueint;
        vidi_diffusion *d = NULL;
        CHECK(vidi_diffusion_create_named(kind, T, &d) == VIDI_OK);
        if (!d) continue;
        double idx_d[1100];
        int idx[1100], n = vec(s, "index", idx_d, 1100);
        for (int i = 0; i < n; i++) idx[i] = (int)idx_d[i];
        char label[64];
        snprintf(label, sizeof label, "%s T=%d", vidi_beta_schedule_name(kind), T);
        compare_tables(label, d, get(s, "tables"), idx, n);
        vidi_diffusion_free(d);
    }
}

static void test_spacing(const cJSON *root) {
    const cJSON *s;
    cJSON_ArrayForEach(s, get(root, "spacing")) {
        int T = get(s, "T")->valueint, keep[1000], n = -1;
        const char *spec = get(s, "spec")->valuestring;
        double want[1000];
        int m = vec(s, "keep", want, 1000);
        vidi_status st = vidi_space_timesteps(T, spec, keep, &n);
        CHECK_MSG(st == VIDI_OK && n == m, "spacing %d '%s': %d steps, want %d (%s)", T, spec, n, m, vidi_last_error());
        int same = st == VIDI_OK && n == m;
        for (int i = 0; same && i < n; i++) same = keep[i] == (int)want[i];
        CHECK_MSG(same, "spacing %d '%s': kept steps differ", T, spec);
    }
    const cJSON *r = get(root, "respaced");
    vidi_diffusion *base = NULL, *d = NULL;
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_COSINE, 1000, &base) == VIDI_OK);
    CHECK(vidi_diffusion_respace(base, get(r, "spec")->valuestring, &d) == VIDI_OK);
    if (d) {
        CHECK(d->num_timesteps == 50 && d->timestep_map[0] == 0 && d->timestep_map[49] == 980);
        compare_tables("respaced cosine ddim50", d, get(r, "tables"), NULL, 50);
        /* The respaced abar are the base ones at the kept steps. */
        CHECK(fabs(d->alphas_cumprod[24] - base->alphas_cumprod[480]) < 1e-15);
    }
    /* Bad specs: named, non-zero status. */
    int keep[100], n;
    CHECK(vidi_space_timesteps(100, "ddim0", keep, &n) == VIDI_ERR_ARG);
    CHECK(vidi_space_timesteps(100, "ddim200", keep, &n) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "ddim200") != NULL);
    CHECK(vidi_space_timesteps(100, "101", keep, &n) == VIDI_ERR_ARG);
    CHECK(vidi_space_timesteps(100, "0", keep, &n) == VIDI_ERR_ARG);
    CHECK(vidi_space_timesteps(100, "1x", keep, &n) == VIDI_ERR_ARG);
    vidi_diffusion_free(d);
    vidi_diffusion_free(base);
}

/* Outputs are float32 roundings of float64 values: 1 ulp plus headroom. */
#define F32_ATOL 1e-6
#define F32_RTOL 1e-6

static void test_steps(const cJSON *root) {
    const cJSON *v = get(root, "vectors");
    float x0[N], noise[N], xt[N], eps[N], vv[N], sn[N], out[N], out2[N], out3[N];
    vecf(v, "x0", x0), vecf(v, "noise", noise), vecf(v, "xt", xt), vecf(v, "eps", eps), vecf(v, "v", vv);
    vecf(v, "step_noise", sn);
    vidi_diffusion *d = NULL;
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_COSINE, 1000, &d) == VIDI_OK);
    if (!d) return;
    const cJSON *c;
    cJSON_ArrayForEach(c, get(root, "cosine1000_cases")) {
        int t = get(c, "t")->valueint;
        char what[64];
#define NAME(s) (snprintf(what, sizeof what, "t=%d %s", t, s), what)
        CHECK(vidi_diffusion_q_sample(d, t, x0, noise, out, N) == VIDI_OK);
        close_f(NAME("q_sample"), out, c, "q_sample", F32_ATOL, F32_RTOL);
        double var, logv;
        CHECK(vidi_diffusion_q_posterior(d, t, x0, xt, out, N, &var, &logv) == VIDI_OK);
        close_f(NAME("posterior mean"), out, c, "posterior_mean", F32_ATOL, F32_RTOL);
        double wv = get(c, "posterior_variance")->valuedouble, wl = get(c, "posterior_log_variance_clipped")->valuedouble;
        close_d(NAME("posterior variance"), &var, &wv, 1, 1e-300, 1e-11);
        close_d(NAME("posterior log variance"), &logv, &wl, 1, 1e-15, 1e-11);
        CHECK(vidi_diffusion_p_mean_variance(d, t, xt, eps, vv, 1, out, out2, out3, N) == VIDI_OK);
        close_f(NAME("p mean"), out, c, "p_mean", F32_ATOL, F32_RTOL);
        close_f(NAME("p log variance"), out2, c, "p_log_variance", F32_ATOL, F32_RTOL);
        close_f(NAME("pred_x0"), out3, c, "pred_x0", F32_ATOL, F32_RTOL);
        CHECK(vidi_diffusion_p_mean_variance(d, t, xt, eps, vv, 0, out, NULL, out3, N) == VIDI_OK);
        close_f(NAME("p mean (no clip)"), out, c, "p_mean_noclip", F32_ATOL, F32_RTOL);
        close_f(NAME("pred_x0 (no clip)"), out3, c, "pred_x0_noclip", F32_ATOL, F32_RTOL);
        CHECK(vidi_diffusion_ddpm_step(d, t, xt, eps, vv, 1, sn, out, N) == VIDI_OK);
        close_f(NAME("ddpm step"), out, c, "ddpm", F32_ATOL, F32_RTOL);
        CHECK(vidi_diffusion_ddim_step(d, t, xt, eps, 0.0f, 1, NULL, out, N) == VIDI_OK);
        close_f(NAME("ddim eta=0"), out, c, "ddim_eta0", F32_ATOL, F32_RTOL);
        CHECK(vidi_diffusion_ddim_step(d, t, xt, eps, 0.5f, 1, sn, out, N) == VIDI_OK);
        close_f(NAME("ddim eta=0.5"), out, c, "ddim_eta05", F32_ATOL, F32_RTOL);
#undef NAME
    }
    CHECK(vidi_diffusion_q_sample(d, 1000, x0, noise, out, N) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "1000") != NULL);
    CHECK(vidi_diffusion_ddpm_step(d, 5, xt, eps, vv, 1, NULL, out, N) == VIDI_ERR_ARG);
    vidi_diffusion_free(d);
}

/* diffusers computes its tables and steps in float32; the differences are
 * float32 rounding of O(1) values amplified by 1/sqrt(abar) (<= ~1e3 at
 * t = 999 of the cosine schedule, where pred_x0 is clipped anyway). */
static void test_diffusers(const cJSON *root) {
    const cJSON *v = get(root, "vectors"), *dif = get(root, "diffusers");
    float xt[N], eps[N], vv[N], sn[N], noise[N], out[N];
    vecf(v, "xt", xt), vecf(v, "eps", eps), vecf(v, "v", vv), vecf(v, "step_noise", sn);
    vidi_diffusion *base = NULL, *d50 = NULL;
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_COSINE, 1000, &base) == VIDI_OK);
    CHECK(vidi_diffusion_respace(base, "ddim50", &d50) == VIDI_OK);
    if (!base || !d50) return;
    double want[64];
    int n = vec(dif, "alphas_cumprod", want, 64);
    const cJSON *s0 = cJSON_GetArrayItem(get(root, "schedules"), 0);
    double idx[64], got[64];
    CHECK(vec(s0, "index", idx, 64) == n);
    for (int i = 0; i < n; i++) got[i] = base->alphas_cumprod[(int)idx[i]];
    close_d("diffusers alphas_cumprod (float32)", got, want, n, 1e-9, 2e-6);

    const cJSON *c;
    cJSON_ArrayForEach(c, get(dif, "ddpm_full")) {
        int t = get(c, "t")->valueint;
        vecf(c, "noise", noise);
        CHECK(vidi_diffusion_ddpm_step(base, t, xt, eps, vv, 1, noise, out, N) == VIDI_OK);
        char what[64];
        snprintf(what, sizeof what, "diffusers DDPM learned_range t=%d", t);
        close_f(what, out, c, "prev", 2e-5, 2e-5);
    }
    /* 50 of 1000 steps: diffusers' "leading" timesteps are ddim50's. */
    double ts[64];
    CHECK(vec(dif, "ddpm50_timesteps", ts, 64) == 50 && vec(dif, "ddim50_timesteps", ts, 64) == 50);
    for (int i = 0; i < 50; i++) CHECK(d50->timestep_map[49 - i] == (int)ts[i]);
    c = get(dif, "ddpm50_step");
    vecf(c, "noise", noise);
    CHECK(vidi_diffusion_ddpm_step(d50, get(c, "t")->valueint / 20, xt, eps, vv, 1, noise, out, N) == VIDI_OK);
    close_f("diffusers DDPM 50 steps, t=480", out, c, "prev", 2e-5, 2e-5);
    cJSON_ArrayForEach(c, get(dif, "ddim50_step")) {
        int t = get(c, "t")->valueint;
        float eta = (float)get(c, "eta")->valuedouble;
        CHECK(vidi_diffusion_ddim_step(d50, t / 20, xt, eps, eta, 1, sn, out, N) == VIDI_OK);
        char what[64];
        snprintf(what, sizeof what, "diffusers DDIM 50 steps t=%d eta=%g", t, (double)eta);
        /* DDIM re-derives eps by dividing by sqrt(1 - abar); diffusers' float32
         * 1 - abar carries a relative error of ~2^-24 / (1 - abar) (6e-5 at
         * t = 20), which the division passes on: two such ulps on O(1) values. */
        double tol = 2e-5 + 1.2e-7 / (1.0 - base->alphas_cumprod[t]);
        close_f(what, out, c, "prev", tol, tol);
    }

    /* DPM-Solver++(2M): diffusers' sigmas are sqrt((1-abar)/abar). */
    c = get(dif, "dpmpp");
    double sig[32];
    CHECK(vec(c, "sigmas", sig, 32) == 21);
    CHECK(vec(c, "timesteps", ts, 64) == 20);
    int myts[20];
    CHECK(vidi_dpmpp_timesteps(1000, 20, myts) == VIDI_OK);
    for (int i = 0; i < 20; i++) CHECK_MSG(myts[i] == (int)ts[i], "dpm++ timestep %d: %d, diffusers %d", i, myts[i], (int)ts[i]);
    double ab[3];
    for (int i = 0; i < 3; i++) ab[i] = 1.0 / (1.0 + sig[i] * sig[i]);
    /* Against our own table at the same timesteps: diffusers' float32 sigma. */
    double mine = base->alphas_cumprod[949];
    close_d("dpm++ abar(949)", &mine, &ab[1], 1, 1e-12, 2e-6);
    float x0[N], x0b[N], eps2[N], s1[N];
    vecf(c, "eps2", eps2);
    for (int i = 0; i < N; i++) x0[i] = (float)((xt[i] - sqrt(1 - ab[0]) * eps[i]) / sqrt(ab[0]));
    CHECK(vidi_dpmpp_2m_step(0, ab[0], ab[1], xt, x0, NULL, s1, N) == VIDI_OK);
    close_f("diffusers DPM++ first (first-order) step", s1, c, "after_step0", 2e-5, 2e-5);
    /* Continue from diffusers' own sample so the second step is tested alone. */
    float s1w[N];
    vecf(c, "after_step0", s1w);
    for (int i = 0; i < N; i++) x0b[i] = (float)((s1w[i] - sqrt(1 - ab[1]) * eps2[i]) / sqrt(ab[1]));
    CHECK(vidi_dpmpp_2m_step(ab[0], ab[1], ab[2], s1w, x0b, x0, out, N) == VIDI_OK);
    close_f("diffusers DPM++ second (2M) step", out, c, "after_step1", 2e-5, 2e-5);
    /* sigma_t = 0 lands on the data prediction. */
    CHECK(vidi_dpmpp_2m_step(ab[0], ab[1], 1.0, s1w, x0b, x0, out, N) == VIDI_OK);
    CHECK(memcmp(out, x0b, sizeof out) == 0);
    CHECK(vidi_dpmpp_2m_step(0, ab[1], ab[0], s1w, x0b, NULL, out, N) == VIDI_ERR_ARG);
    vidi_diffusion_free(d50);
    vidi_diffusion_free(base);
}

static void test_parse(void) {
    vidi_sampler_kind k;
    vidi_beta_schedule s;
    CHECK(vidi_sampler_parse("dpm++", &k) == VIDI_OK && k == VIDI_SAMPLER_DPMPP_2M);
    CHECK(vidi_sampler_parse("euler", &k) == VIDI_ERR_ARG && strstr(vidi_last_error(), "'euler'"));
    CHECK(vidi_beta_schedule_parse("cosine", &s) == VIDI_OK && s == VIDI_SCHEDULE_COSINE);
    CHECK(vidi_beta_schedule_parse("sigmoid", &s) == VIDI_ERR_ARG);
    vidi_diffusion *d = NULL;
    double bad[2] = {0.1, 1.5};
    CHECK(vidi_diffusion_create(bad, 2, &d) == VIDI_ERR_ARG && !d && strstr(vidi_last_error(), "beta[1]"));
    CHECK(vidi_diffusion_create_named(VIDI_SCHEDULE_LINEAR, 10, &d) == VIDI_ERR_ARG && !d);
    /* Deterministic noise: same (seed, stream) -> same values, others differ. */
    float a[101], b[101], c[101];
    vidi_randn(42, 3, a, 101), vidi_randn(42, 3, b, 101), vidi_randn(42, 4, c, 101);
    CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) != 0);
}

int main(void) {
    size_t len;
    char *text = vidi_test_read_file(GOLDEN, &len);
    CHECK_MSG(text != NULL, "cannot read %s", GOLDEN);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    if (root) {
        test_schedules(root);
        test_spacing(root);
        test_steps(root);
        test_diffusers(root);
    }
    test_parse();
    cJSON_Delete(root);
    free(text);
    return vidi_test_summary("diffusion_core");
}
