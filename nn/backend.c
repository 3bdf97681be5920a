/* Backend construction: the vtables for "ref" and "cpu". */
#include "vidi/backend.h"

#include <stdlib.h>
#include <string.h>

#include "nn/cpu/cpu.h"
#include "nn/cuda/cuda_backend.h"

const char *vidi_op_name(vidi_op op) {
    switch (op) {
    case VIDI_OP_LINEAR: return "linear";
    case VIDI_OP_LAYERNORM: return "layernorm";
    case VIDI_OP_ATTENTION: return "attention";
    case VIDI_OP_SOFTMAX: return "softmax";
    case VIDI_OP_ADD: return "add";
    case VIDI_OP_GELU: return "gelu";
    case VIDI_OP_PATCH_EMBED: return "patch_embed";
    case VIDI_OP_MODULATE: return "modulate";
    case VIDI_OP_UNPATCHIFY: return "unpatchify";
    case VIDI_OP_SAMPLER_STEP: return "sampler_step";
    case VIDI_OP_COUNT: break;
    }
    return "unknown";
}

vidi_attn_layout vidi_attn_layout_fused_qkv(int batch, int heads, int len, int head_dim) {
    vidi_attn_layout l;
    const int64_t d = (int64_t)heads * head_dim;
    l.batch = batch;
    l.heads = heads;
    l.q_len = len;
    l.kv_len = len;
    l.head_dim = head_dim;
    l.q_batch = l.k_batch = l.v_batch = (int64_t)len * 3 * d;
    l.q_head = l.k_head = l.v_head = head_dim;
    l.q_tok = l.k_tok = l.v_tok = 3 * d;
    l.o_batch = (int64_t)len * d;
    l.o_head = head_dim;
    l.o_tok = d;
    return l;
}

static int host_supports_op(const vidi_backend *be, vidi_op op) {
    (void)be;
    return op >= 0 && op < VIDI_OP_COUNT;
}

/* 64-byte alignment: a cache line, and what the AVX kernels like. */
static void *host_alloc(const vidi_backend *be, size_t bytes) {
    (void)be;
    return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

static void host_release(const vidi_backend *be, void *ptr) {
    (void)be;
    free(ptr);
}

static vidi_status host_copy(const vidi_backend *be, void *dst, const void *src, size_t bytes) {
    (void)be;
    if (bytes && (!dst || !src)) return vidi_set_error(VIDI_ERR_ARG, "%s: copy with NULL pointer", be->name);
    if (bytes && dst != src) memmove(dst, src, bytes);
    return VIDI_OK;
}

static vidi_status host_synchronize(const vidi_backend *be) {
    (void)be;
    return VIDI_OK;
}

static void host_destroy(vidi_backend *be) {
    if (!be) return;
    vidi_cpu_scratch_release(be);
    vidi_threadpool_destroy(be->pool);
    free(be);
}

static vidi_backend *host_backend(const char *name) {
    vidi_backend *be = calloc(1, sizeof *be);
    if (!be) return NULL;
    be->name = name;
    be->n_threads = 1;
    be->supports_op = host_supports_op;
    be->alloc = host_alloc;
    be->release = host_release;
    be->upload = host_copy;
    be->download = host_copy;
    be->synchronize = host_synchronize;
    be->destroy = host_destroy;
    return be;
}

#define SET_OPS(be, tier)                     \
    do {                                      \
        (be)->linear = vidi_##tier##_linear;   \
        (be)->layernorm = vidi_##tier##_layernorm; \
        (be)->attention = vidi_##tier##_attention; \
        (be)->softmax = vidi_##tier##_softmax; \
        (be)->add = vidi_##tier##_add;         \
        (be)->gelu = vidi_##tier##_gelu;       \
        (be)->patch_embed = vidi_##tier##_patch_embed; \
        (be)->modulate = vidi_##tier##_modulate; \
        (be)->unpatchify = vidi_##tier##_unpatchify; \
        (be)->sampler_step = vidi_##tier##_sampler_step; \
    } while (0)

/* VIDI_CPU_ISA caps the cpu backend's kernels at avx512 (the default: the
 * widest the CPU has), avx2 or scalar, for benchmarks against peers held to
 * the same instructions and for checking that the paths agree. */
static vidi_status apply_cpu_isa(void) {
    const char *isa = getenv("VIDI_CPU_ISA");
    if (!isa || !*isa) return VIDI_OK; /* unset: the kernels stay as they are */
    if (!strcmp(isa, "avx512")) return vidi_cpu_force_no_avx512(0), vidi_cpu_force_scalar(0), VIDI_OK;
    if (!strcmp(isa, "avx2")) return vidi_cpu_force_no_avx512(1), vidi_cpu_force_scalar(0), VIDI_OK;
    if (!strcmp(isa, "scalar")) return vidi_cpu_force_scalar(1), VIDI_OK;
    return vidi_set_error(VIDI_ERR_ARG, "VIDI_CPU_ISA '%s': unknown (expected avx512, avx2 or scalar)", isa);
}

vidi_status vidi_backend_create(const char *name, int n_threads, vidi_backend **out) {
    if (!out) return vidi_set_error(VIDI_ERR_ARG, "backend: NULL output pointer");
    *out = NULL;
    if (!name) return vidi_set_error(VIDI_ERR_ARG, "backend: NULL name");
    if (!strcmp(name, "cuda-emu")) return vidi_cuemu_backend_create("cuda-emu", out);
#ifdef VIDI_HAVE_CUDA
    if (!strcmp(name, "cuda")) return vidi_cuda_backend_create("cuda", out);
    /* auto: the GPU when there is one; the reason it is not used stays in
     * vidi_last_error() for callers that want to say so. */
    if (!strcmp(name, "auto") && vidi_cuda_backend_create("cuda", out) == VIDI_OK) return VIDI_OK;
#else
    if (!strcmp(name, "cuda"))
        return vidi_set_error(VIDI_ERR_UNSUPPORTED, "backend 'cuda': not built (configure with -DVIDI_CUDA=ON)");
    if (!strcmp(name, "auto"))
        vidi_set_error(VIDI_ERR_UNSUPPORTED, "backend 'cuda': not built (configure with -DVIDI_CUDA=ON)");
#endif
    int is_ref = !strcmp(name, "ref");
    if (!is_ref && strcmp(name, "cpu") && strcmp(name, "auto"))
        return vidi_set_error(VIDI_ERR_ARG, "backend '%s': unknown (expected ref, cpu, cuda, cuda-emu or auto)", name);

    vidi_backend *be = host_backend(is_ref ? "ref" : "cpu");
    if (!be) return vidi_set_error(VIDI_ERR_NOMEM, "backend '%s': out of memory", name);
    if (is_ref) {
        SET_OPS(be, ref);
        *out = be;
        return VIDI_OK;
    }
    SET_OPS(be, cpu);
    vidi_status st = apply_cpu_isa();
    if (st != VIDI_OK) {
        free(be);
        return st;
    }
    st = vidi_threadpool_create(n_threads, &be->pool);
    if (st != VIDI_OK) {
        free(be);
        return vidi_wrap_error(st, "backend 'cpu'");
    }
    be->n_threads = vidi_threadpool_size(be->pool);
    /* vidi's pool partitions every GEMM itself (nn/cpu/linear.c), so BLAS
     * runs single-threaded inside each worker: one thread team, never two. */
    vidi_cpu_blas_set_threads(1);
    *out = be;
    return VIDI_OK;
}

void vidi_backend_destroy(vidi_backend *be) {
    if (be && be->destroy) be->destroy(be);
}

/* cuda-emu is always there (it needs no GPU); cuda only with a device. */
const char *const *vidi_backend_available(void) {
    static const char *names[] = {"ref", "cpu", "cuda-emu", NULL, NULL};
#ifdef VIDI_HAVE_CUDA
    static int probed;
    if (!probed) {
        vidi_backend *be = NULL;
        if (vidi_cuda_backend_create("cuda", &be) == VIDI_OK) {
            names[3] = "cuda";
            vidi_backend_destroy(be);
        }
        probed = 1;
    }
#endif
    return (const char *const *)names;
}
