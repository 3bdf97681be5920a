/* Denoiser forward vs the PyTorch model it is trained as
 * (tools/diffusion_reference.py), layer by layer, on the ref and cpu
 * backends: tests/golden/diffusion/den_{inpaint,plain}/ (written by
 * tools/oracle/gen_diffusion_golden.py). Plus bad checkpoints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vidi/backend.h"
#include "vidi/diffusion.h"
#include "vidi/safetensors.h"

#define TOL 1e-4

typedef struct capture {
    vidi_safetensors *gold;
    const char *label;
    int seen;
} capture;

/* Worst |got - want| over max(1, |want|) must stay within TOL. */
static void compare(const char *what, const char *label, const float *got, const float *want, int64_t n) {
    double worst = 0;
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(1.0, fabs((double)want[i]));
        if (!(e <= worst)) worst = e, wi = i;
    }
    CHECK_MSG(worst <= TOL, "%s %s: [%lld] got %.7g want %.7g (rel err %.3g)", label, what, (long long)wi,
              (double)got[wi], (double)want[wi], worst);
}

static void hook(void *user, const char *name, const float *data, int64_t rows, int64_t cols) {
    capture *c = user;
    const vidi_st_tensor *t = vidi_safetensors_find(c->gold, name);
    CHECK_MSG(t != NULL, "%s: golden has no %s", c->label, name);
    if (!t) return;
    const float *want = NULL;
    int64_t shape[2] = {rows, cols};
    CHECK_MSG(vidi_safetensors_get_f32(c->gold, name, 2, shape, &want) == VIDI_OK, "%s: %s", c->label, vidi_last_error());
    if (!want) return;
    compare(name, c->label, data, want, rows * cols);
    c->seen++;
}

static const float *golden(vidi_safetensors *g, const char *name, int64_t n) {
    const vidi_st_tensor *t = vidi_safetensors_find(g, name);
    if (!t) return NULL;
    int64_t numel = 1;
    for (int i = 0; i < t->ndim; i++) numel *= t->shape[i];
    const float *p = NULL;
    if (numel != n || vidi_safetensors_get_f32(g, name, t->ndim, t->shape, &p) != VIDI_OK) return NULL;
    return p;
}

static void run_case(const char *dir, const char *backend_name) {
    char path[256], label[96];
    snprintf(label, sizeof label, "%s [%s]", dir, backend_name);
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create(backend_name, 2, &be) == VIDI_OK);
    snprintf(path, sizeof path, "tests/golden/diffusion/%s/model.safetensors", dir);
    vidi_denoiser *m = NULL;
    vidi_status st = vidi_denoiser_load(path, be, &m);
    CHECK_MSG(st == VIDI_OK, "%s: load: %s", label, vidi_last_error());
    snprintf(path, sizeof path, "tests/golden/diffusion/%s/golden.safetensors", dir);
    vidi_safetensors *g = NULL;
    CHECK(vidi_safetensors_open(path, &g) == VIDI_OK);
    if (!m || !g) goto out;
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    int64_t n = (int64_t)c->frames * c->channels * c->image_size * c->image_size;
    int64_t hw = (int64_t)c->frames * c->image_size * c->image_size;
    const float *xt = golden(g, "input.xt", n), *known = golden(g, "input.known", n), *mask = golden(g, "input.mask", hw);
    CHECK(xt && known && mask);
    if (!xt || !known || !mask) goto out;
    int t = atoi(vidi_safetensors_metadata(g, "t")), lab = atoi(vidi_safetensors_metadata(g, "label"));
    float *eps = calloc((size_t)n, sizeof(float)), *v = calloc((size_t)n, sizeof(float));
    capture cap = {.gold = g, .label = label};
    st = vidi_denoiser_forward(m, xt, t, lab, c->inpaint ? known : NULL, c->inpaint ? mask : NULL, eps, v, hook, &cap);
    CHECK_MSG(st == VIDI_OK, "%s: forward: %s", label, vidi_last_error());
    /* embed, t_emb, cond, every block, final */
    CHECK_MSG(cap.seen == 4 + c->depth, "%s: %d layers compared", label, cap.seen);
    compare("eps", label, eps, golden(g, "eps", n), n);
    if (c->learn_sigma) compare("v", label, v, golden(g, "v", n), n);
    /* The null label (-1) and nothing known. */
    st = vidi_denoiser_forward(m, xt, t, -1, NULL, NULL, eps, v, NULL, NULL);
    CHECK(st == VIDI_OK);
    compare("eps (null label)", label, eps, golden(g, "eps_null", n), n);
    if (c->learn_sigma) compare("v (null label)", label, v, golden(g, "v_null", n), n);
    /* Argument errors. */
    CHECK(vidi_denoiser_forward(m, xt, c->diffusion_steps, 0, NULL, NULL, eps, v, NULL, NULL) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "timestep") != NULL);
    CHECK(vidi_denoiser_forward(m, xt, 0, c->num_classes + 1, NULL, NULL, eps, v, NULL, NULL) == VIDI_ERR_ARG);
    free(eps);
    free(v);
out:
    vidi_safetensors_close(g);
    vidi_denoiser_free(m);
    vidi_backend_destroy(be);
}

#define DEN_PLAIN "tests/golden/diffusion/den_plain/model.safetensors"
#define DEN_INPAINT "tests/golden/diffusion/den_inpaint/model.safetensors"

/* A copy of golden model `src` with `drop` left out or `reshape` given a
 * wrong shape, and metadata `format` / `config` as given. */
static void write_variant_of(const char *src, const char *dst, const char *drop, const char *reshape,
                             const char *format, const char *config) {
    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_open(src, &st) == VIDI_OK);
    if (!st) return;
    int n = vidi_safetensors_count(st), k = 0;
    vidi_st_write_entry *e = calloc((size_t)n, sizeof *e);
    for (int i = 0; i < n; i++) {
        const vidi_st_tensor *t = vidi_safetensors_at(st, i);
        if (drop && !strcmp(t->name, drop)) continue;
        e[k].name = t->name, e[k].ndim = t->ndim;
        memcpy(e[k].shape, t->shape, sizeof t->shape);
        e[k].data = t->data;
        if (reshape && !strcmp(t->name, reshape)) e[k].shape[0] -= 1; /* fewer rows: still in bounds */
        k++;
    }
    const char *meta[] = {"format", format, "config", config, NULL};
    CHECK(vidi_safetensors_write_f32(dst, e, k, config ? meta : meta + 4) == VIDI_OK);
    free(e);
    vidi_safetensors_close(st);
}

static void write_variant(const char *dst, const char *drop, const char *reshape, const char *format,
                          const char *config) {
    write_variant_of(DEN_PLAIN, dst, drop, reshape, format, config);
}

/* `config` with `field` (e.g. "\"guidance\": 6, ") inserted before "ln_eps";
 * malloc'd. */
static char *config_with(const char *config, const char *field) {
    const char *q = strstr(config, "\"ln_eps\"");
    size_t n = strlen(config) + strlen(field) + 1;
    char *out = malloc(n);
    CHECK(q != NULL && out != NULL);
    if (!q || !out) {
        free(out);
        return NULL;
    }
    snprintf(out, n, "%.*s%s%s", (int)(q - config), config, field, q);
    return out;
}

static char *golden_config(const char *src) {
    vidi_safetensors *st = NULL;
    CHECK(vidi_safetensors_open(src, &st) == VIDI_OK);
    char *config = strdup(st ? vidi_safetensors_metadata(st, "config") : "{}");
    vidi_safetensors_close(st);
    return config;
}

static void expect_load_error(vidi_backend *be, const char *path, vidi_status want, const char *needle) {
    vidi_denoiser *m = NULL;
    vidi_status st = vidi_denoiser_load(path, be, &m);
    CHECK_MSG(st == want && m == NULL, "%s: status %d, want %d", path, (int)st, (int)want);
    CHECK_MSG(strstr(vidi_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", path, vidi_last_error(), needle);
    vidi_denoiser_free(m);
}

/* Config "guidance": the recommended scale, 1 when absent; out of range, not a
 * number, or on a model without classes: a format error naming it. */
static void test_config_guidance(void) {
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cpu", 1, &be) == VIDI_OK);
    char dir[] = "/tmp/vidi_guid_XXXXXX", path[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    char *inpaint = golden_config(DEN_INPAINT), *plain = golden_config(DEN_PLAIN);
    vidi_denoiser *m = NULL;
    CHECK(vidi_denoiser_load(DEN_INPAINT, be, &m) == VIDI_OK);
    CHECK(m && vidi_denoiser_get_config(m)->guidance == 1.0f);
    vidi_denoiser_free(m);
    char *c = config_with(inpaint, "\"guidance\": 6.5, ");
    if (c) {
        write_variant_of(DEN_INPAINT, path, NULL, NULL, "vidi-diffusion", c);
        m = NULL;
        CHECK(vidi_denoiser_load(path, be, &m) == VIDI_OK);
        CHECK_MSG(m && vidi_denoiser_get_config(m)->guidance == 6.5f, "guidance %g",
                  m ? (double)vidi_denoiser_get_config(m)->guidance : -1.0);
        vidi_denoiser_free(m);
    }
    free(c);
    struct { const char *src, *config, *field, *needle; } bad[] = {
        {DEN_INPAINT, inpaint, "\"guidance\": 101, ", "config guidance 101"},
        {DEN_INPAINT, inpaint, "\"guidance\": -2, ", "config guidance -2"},
        {DEN_INPAINT, inpaint, "\"guidance\": \"high\", ", "guidance"},
        {DEN_PLAIN, plain, "\"guidance\": 3, ", "without classes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!(c = config_with(bad[i].config, bad[i].field))) continue;
        write_variant_of(bad[i].src, path, NULL, NULL, "vidi-diffusion", c);
        expect_load_error(be, path, VIDI_ERR_FORMAT, bad[i].needle);
        free(c);
    }
    free(inpaint);
    free(plain);
    unlink(path);
    rmdir(dir);
    vidi_backend_destroy(be);
}

static void test_bad_checkpoints(void) {
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cpu", 1, &be) == VIDI_OK);
    char *config = golden_config(DEN_PLAIN);
    char dir[] = "/tmp/vidi_den_XXXXXX", path[128];
    CHECK(mkdtemp(dir) != NULL);

    expect_load_error(be, "tests/golden/diffusion/nope.safetensors", VIDI_ERR_IO, "nope.safetensors");
    expect_load_error(be, "tests/golden/diffusion", VIDI_ERR_FORMAT, "is a directory");
    expect_load_error(be, "tests/golden/vivit_fe/model.safetensors", VIDI_ERR_FORMAT, "ViViT classifier");
    snprintf(path, sizeof path, "%s/drop.safetensors", dir);
    write_variant(path, "blocks.1.qkv_t.weight", NULL, "vidi-diffusion", config);
    expect_load_error(be, path, VIDI_ERR_SHAPE, "blocks.1.qkv_t.weight");
    snprintf(path, sizeof path, "%s/shape.safetensors", dir);
    write_variant(path, NULL, "final.linear.weight", "vidi-diffusion", config);
    expect_load_error(be, path, VIDI_ERR_SHAPE, "final.linear.weight");
    snprintf(path, sizeof path, "%s/nometa.safetensors", dir);
    write_variant(path, NULL, NULL, NULL, NULL);
    expect_load_error(be, path, VIDI_ERR_FORMAT, "vidi-diffusion");
    /* Config that disagrees with the weights: a different hidden size. */
    char *bad = strdup(config), *p = strstr(bad, "\"hidden\": 24");
    CHECK(p != NULL);
    if (p) {
        memcpy(p, "\"hidden\": 32", 12);
        snprintf(path, sizeof path, "%s/hidden.safetensors", dir);
        write_variant(path, NULL, NULL, "vidi-diffusion", bad);
        expect_load_error(be, path, VIDI_ERR_SHAPE, "patch.weight");
    }
    free(bad);
    bad = strdup(config);
    if ((p = strstr(bad, "\"depth\": 2"))) {
        memcpy(p, "\"depth\": 3", 10);
        snprintf(path, sizeof path, "%s/depth.safetensors", dir);
        write_variant(path, NULL, NULL, "vidi-diffusion", bad);
        expect_load_error(be, path, VIDI_ERR_FORMAT, "even depth");
    }
    free(bad);
    /* An unknown prediction target. */
    char *pred = config_with(config, "\"prediction\": \"x0\", ");
    if (pred) {
        snprintf(path, sizeof path, "%s/prediction.safetensors", dir);
        write_variant(path, NULL, NULL, "vidi-diffusion", pred);
        expect_load_error(be, path, VIDI_ERR_FORMAT, "prediction 'x0'");
    }
    free(pred);
    free(config);
    const char *names[] = {"drop", "shape", "nometa", "hidden", "depth", "prediction"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    vidi_backend_destroy(be);
}

int main(void) {
    run_case("den_inpaint", "ref");
    run_case("den_inpaint", "cpu");
    run_case("den_inpaint", "cuda-emu"); /* the CUDA backend on its emulator */
    run_case("den_plain", "ref");
    run_case("den_plain", "cpu");
    run_case("den_plain", "cuda-emu");
    /* A velocity model: the forward returns eps = sqrt(abar) u + sqrt(1 - abar) x_t. */
    run_case("den_velocity", "ref");
    run_case("den_velocity", "cpu");
    run_case("den_velocity", "cuda-emu");
    test_bad_checkpoints();
    test_config_guidance();
    return vidi_test_summary("diffusion_denoiser");
}
