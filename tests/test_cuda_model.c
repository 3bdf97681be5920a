/* Models on the CUDA backend, watched through the emulator's counters
 * (vidi_emu_get_stats): weights are uploaded once at load, and a steady-state
 * forward allocates no device memory, copies the input to the device once,
 * the result back once, and waits for the device only at its end — no host
 * sync inside a forward. Logits equal the CPU's (1e-4 relative; the golden
 * tests check every layer). ViT, ViViT (full forward and the streaming
 * encoder) and the diffusion denoiser; and a whole diffusion sampling run,
 * where the sample stays on the device from the first noise to the last
 * step: one download, one wait. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/cuda/emu/cuda_emu.h"
#include "vidi/backend.h"
#include "vidi/diffusion.h"
#include "vidi/vit.h"
#include "vidi/vivit.h"

static vidi_emu_stats before;

static void mark(void) { vidi_emu_get_stats(&before); }

/* A forward's traffic: no allocation, `up` uploads, `down` downloads, at most
 * two waits (synchronize + the download's), some kernel launches. */
static void check_traffic(const char *what, long long up, long long down) {
    vidi_emu_stats now;
    vidi_emu_get_stats(&now);
    long long mallocs = now.mallocs - before.mallocs, frees = now.frees - before.frees;
    long long to_dev = now.copies_to_device - before.copies_to_device, to_host = now.copies_to_host - before.copies_to_host;
    long long syncs = now.syncs - before.syncs, launches = now.launches - before.launches;
    printf("%-34s allocations %lld, uploads %lld, downloads %lld, waits %lld, kernel launches %lld\n", what, mallocs, to_dev,
           to_host, syncs, launches);
    CHECK_MSG(mallocs == 0 && frees == 0, "%s: %lld device allocations, %lld frees", what, mallocs, frees);
    CHECK_MSG(to_dev == up && to_host == down, "%s: %lld uploads (want %lld), %lld downloads (want %lld)", what, to_dev, up,
              to_host, down);
    CHECK_MSG(syncs <= 2, "%s: %lld waits for the device", what, syncs);
    CHECK(launches > 0);
}

static void check_close(const char *what, const float *a, const float *b, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= 1e-4 * (fabs((double)b[i]) + 1e-2))) bad++;
    CHECK_MSG(bad == 0, "%s: %d of %d logits differ from the CPU's", what, bad, n);
}

static float *random_floats(size_t n, unsigned seed) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    return p;
}

static void test_vit(vidi_backend *cpu, vidi_backend *be) {
    vidi_vit *m = NULL, *ref = NULL;
    vidi_emu_stats s0, s1;
    vidi_emu_get_stats(&s0);
    CHECK(vidi_vit_load("tests/golden/hf_vit_gelu", be, 0, &m) == VIDI_OK);
    vidi_emu_get_stats(&s1);
    CHECK(vidi_vit_load("tests/golden/hf_vit_gelu", cpu, 0, &ref) == VIDI_OK);
    if (!m || !ref) goto out;
    printf("ViT load: %lld weight uploads\n", s1.copies_to_device - s0.copies_to_device);
    CHECK(s1.copies_to_device - s0.copies_to_device > 10);
    const vidi_vit_config *c = vidi_vit_get_config(m);
    float *px = random_floats((size_t)c->channels * c->image_size * c->image_size, 1);
    float *a = calloc((size_t)c->num_labels, sizeof(float)), *b = calloc((size_t)c->num_labels, sizeof(float));
    CHECK(vidi_vit_forward(m, px, a, NULL, NULL) == VIDI_OK); /* the first forward may grow scratch */
    mark();
    CHECK(vidi_vit_forward(m, px, a, NULL, NULL) == VIDI_OK);
    check_traffic("ViT forward", 1, 1);
    CHECK(vidi_vit_forward(ref, px, b, NULL, NULL) == VIDI_OK);
    check_close("ViT", a, b, c->num_labels);
    free(px), free(a), free(b);
out:
    vidi_vit_free(m);
    vidi_vit_free(ref);
}

static void test_vivit(vidi_backend *cpu, vidi_backend *be) {
    vidi_vivit *m = NULL, *ref = NULL;
    CHECK(vidi_vivit_load("tests/golden/vivit_fe/model.safetensors", be, &m) == VIDI_OK);
    CHECK(vidi_vivit_load("tests/golden/vivit_fe/model.safetensors", cpu, &ref) == VIDI_OK);
    if (!m || !ref) goto out;
    const vidi_vivit_config *c = vidi_vivit_get_config(m);
    size_t frame = (size_t)c->channels * c->image_size * c->image_size;
    float *clip = random_floats(frame * (size_t)c->num_frames, 2);
    float *a = calloc((size_t)c->num_labels, sizeof(float)), *b = calloc((size_t)c->num_labels, sizeof(float));
    CHECK(vidi_vivit_forward(m, clip, a, NULL, NULL) == VIDI_OK);
    mark();
    CHECK(vidi_vivit_forward(m, clip, a, NULL, NULL) == VIDI_OK);
    check_traffic("ViViT forward", 1, 1);
    CHECK(vidi_vivit_forward(ref, clip, b, NULL, NULL) == VIDI_OK);
    check_close("ViViT", a, b, c->num_labels);
    /* The streaming encoder: pushes upload frames, classify downloads logits. */
    vidi_vivit_stream *st = NULL;
    CHECK(vidi_vivit_stream_create(m, &st) == VIDI_OK);
    if (st) {
        CHECK(vidi_vivit_stream_push(st, clip, c->num_frames) == VIDI_OK);
        CHECK(vidi_vivit_stream_classify(st, a) == VIDI_OK);
        check_close("ViViT stream", a, b, c->num_labels);
        mark();
        CHECK(vidi_vivit_stream_classify(st, a) == VIDI_OK);
        check_traffic("ViViT stream classify", 0, 1);
        vidi_vivit_stream_free(st);
    }
    free(clip), free(a), free(b);
out:
    vidi_vivit_free(m);
    vidi_vivit_free(ref);
}

static void test_denoiser(vidi_backend *cpu, vidi_backend *be) {
    vidi_denoiser *m = NULL, *ref = NULL;
    CHECK(vidi_denoiser_load("tests/golden/diffusion/den_plain/model.safetensors", be, &m) == VIDI_OK);
    CHECK(vidi_denoiser_load("tests/golden/diffusion/den_plain/model.safetensors", cpu, &ref) == VIDI_OK);
    if (!m || !ref) goto out;
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    int n = c->frames * c->channels * c->image_size * c->image_size;
    float *xt = random_floats((size_t)n, 3), *a = calloc((size_t)n, sizeof(float)), *b = calloc((size_t)n, sizeof(float));
    float *va = calloc((size_t)n, sizeof(float)), *vb = calloc((size_t)n, sizeof(float));
    CHECK(vidi_denoiser_forward(m, xt, 5, 0, NULL, NULL, a, va, NULL, NULL) == VIDI_OK);
    mark();
    CHECK(vidi_denoiser_forward(m, xt, 5, 0, NULL, NULL, a, va, NULL, NULL) == VIDI_OK);
    check_traffic("denoiser forward", 2, 1); /* the noisy video and the timestep's sinusoid */
    CHECK(vidi_denoiser_forward(ref, xt, 5, 0, NULL, NULL, b, vb, NULL, NULL) == VIDI_OK);
    check_close("denoiser eps", a, b, n);
    free(xt), free(a), free(b), free(va), free(vb);
out:
    vidi_denoiser_free(m);
    vidi_denoiser_free(ref);
}

/* Generation (and conditioned in-painting) on the device: after the first
 * run (which allocates the sampler's state), a run allocates nothing,
 * uploads x_T, the known pixels (in-painting models), one timestep sinusoid per
 * forward and the noise of each step but the last (DDPM), downloads the
 * clip once and waits once. In-painting also uploads the known pixels and
 * their mask for the steps, x_T again with its known pixels set, and the
 * known pixels' noise of each step but the last; known-pixel guidance
 * switches the model's known inputs off and on again around each second call
 * (two uploads). The clip equals the CPU's (the eps differ by float GEMM
 * rounding, carried through the steps). */
static void generate_case(vidi_backend *cpu, vidi_backend *be, const char *model, vidi_sampler_kind kind, int label,
                          float guidance, int inpaint, float known_guidance) {
    vidi_denoiser *m = NULL, *ref = NULL;
    CHECK(vidi_denoiser_load(model, be, &m) == VIDI_OK);
    CHECK(vidi_denoiser_load(model, cpu, &ref) == VIDI_OK);
    if (!m || !ref) goto out;
    const vidi_denoiser_config *c = vidi_denoiser_get_config(m);
    int hw = c->image_size * c->image_size, n = c->frames * c->channels * hw, steps = 6;
    float *known = random_floats((size_t)n, 5), *mask = calloc((size_t)(c->frames * hw), sizeof(float));
    float *a = calloc((size_t)n, sizeof(float)), *b = calloc((size_t)n, sizeof(float));
    if (inpaint) CHECK(vidi_inpaint_mask_parse("box:2,2,4,4+frames:3", c->frames, c->image_size, c->image_size, mask) == VIDI_OK);
    vidi_sample_params p = vidi_sample_default_params();
    p.sampler = kind, p.steps = steps, p.label = label, p.guidance = guidance, p.seed = 11;
    p.known_guidance = known_guidance;
    const float *kn = inpaint ? known : NULL, *mk = inpaint ? mask : NULL;
    CHECK(vidi_diffusion_generate(m, &p, kn, mk, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_OK);
    mark();
    CHECK(vidi_diffusion_generate(m, &p, kn, mk, VIDI_INPAINT_CONDITIONED, 1, a) == VIDI_OK);
    int known_guided = known_guidance != 1.0f;
    int forwards = steps * ((label >= 0 && guidance != 1.0f) || known_guided ? 2 : 1);
    char what[96];
    snprintf(what, sizeof what, "generate %s %s%s%s", vidi_sampler_name(kind), inpaint ? "in-painting " : "",
             guidance != 1.0f ? "guided" : "", known_guided ? "known-guided" : "");
    check_traffic(what, 1 + c->inpaint + forwards + (kind == VIDI_SAMPLER_DDPM ? steps - 1 : 0) +
                            (inpaint ? 3 + steps - 1 : 0) + (known_guided ? 2 * steps : 0), 1);
    CHECK(vidi_diffusion_generate(ref, &p, kn, mk, VIDI_INPAINT_CONDITIONED, 1, b) == VIDI_OK);
    check_close(what, a, b, n);
    free(known), free(mask), free(a), free(b);
out:
    vidi_denoiser_free(m);
    vidi_denoiser_free(ref);
}

static void test_generate(vidi_backend *cpu, vidi_backend *be) {
    const char *plain = "tests/golden/diffusion/den_plain/model.safetensors";
    const char *inpaint = "tests/golden/diffusion/den_inpaint/model.safetensors"; /* learned variance, classes */
    generate_case(cpu, be, plain, VIDI_SAMPLER_DDPM, -1, 1.0f, 0, 1.0f);
    generate_case(cpu, be, inpaint, VIDI_SAMPLER_DDPM, 2, 2.5f, 0, 1.0f);
    generate_case(cpu, be, inpaint, VIDI_SAMPLER_DDIM, 1, 1.0f, 1, 1.0f);
    generate_case(cpu, be, inpaint, VIDI_SAMPLER_DPMPP_2M, 3, 3.0f, 1, 1.0f);
    generate_case(cpu, be, inpaint, VIDI_SAMPLER_DDPM, -1, 1.0f, 1, 2.0f);
}

int main(void) {
    vidi_backend *cpu = NULL, *be = NULL;
    CHECK(vidi_backend_create("cpu", 1, &cpu) == VIDI_OK);
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (cpu && be) {
        test_vit(cpu, be);
        test_vivit(cpu, be);
        test_denoiser(cpu, be);
        test_generate(cpu, be);
    }
    vidi_backend_destroy(be);
    vidi_backend_destroy(cpu);
    return vidi_test_summary("cuda_model");
}
