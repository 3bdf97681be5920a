/* Bad input to the CUDA backend, on the emulator ("cuda-emu"): every failure
 * is a vidi_status with a one-line message, nothing crashes, and the CPU
 * backend in the same process keeps working afterwards.
 *   - no device: "cuda-emu" with the emulated device count at 0;
 *   - out of device memory: the backend's cap and the device's own size;
 *   - shapes the kernels do not take (head_dim > 6144, batch > 65535);
 *   - host memory handed to a device op (caught by the emulator's range
 *     checks: a GPU would fault or corrupt memory);
 *   - a kernel fault is sticky for that context, like on a GPU. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/cuda/emu/cuda_emu.h"
#include "vidi/backend.h"
#include "vidi/cuda.h"

static int cpu_still_works(void) {
    vidi_backend *cpu = NULL;
    if (vidi_backend_create("cpu", 1, &cpu) != VIDI_OK) return 0;
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {10, 20, 30, 40, 50}, out[5];
    int ok = cpu->add(cpu, out, a, b, 5) == VIDI_OK && out[0] == 11.0f && out[4] == 55.0f;
    vidi_backend_destroy(cpu);
    return ok;
}

static void test_no_device(void) {
    vidi_emu_set_device_count(0);
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_ERR_UNSUPPORTED && be == NULL);
    CHECK_MSG(strstr(vidi_last_error(), "backend 'cuda-emu': no CUDA device") != NULL, "got '%s'", vidi_last_error());
    vidi_emu_set_device_count(1);
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK && be);
    vidi_backend_destroy(be);
    CHECK(cpu_still_works());
}

static void test_out_of_memory(void) {
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (!be) return;
    /* The backend's own cap (what a model arena would hit). */
    CHECK(vidi_cuda_set_memory_limit(be, 1 << 20) == VIDI_OK);
    void *a = be->alloc(be, 600 << 10);
    CHECK(a != NULL);
    void *b = be->alloc(be, 600 << 10);
    CHECK(b == NULL);
    CHECK_MSG(strstr(vidi_last_error(), "device memory cap reached") != NULL, "got '%s'", vidi_last_error());
    be->release(be, a);
    b = be->alloc(be, 600 << 10); /* freed memory is available again */
    CHECK(b != NULL);
    be->release(be, b);
    CHECK(vidi_cuda_set_memory_limit(be, 0) == VIDI_OK);
    /* The device's own memory: a 64 MiB emulated GPU. */
    vidi_emu_set_device_memory((size_t)64 << 20);
    void *big = be->alloc(be, (size_t)100 << 20);
    CHECK(big == NULL);
    CHECK_MSG(strstr(vidi_last_error(), "cannot allocate") && strstr(vidi_last_error(), "out of memory"), "got '%s'",
              vidi_last_error());
    vidi_emu_set_device_memory(0);
    /* The failure is not sticky: the backend still computes. */
    float h[4] = {1, 2, 3, 4}, r[4] = {0};
    float *d = be->alloc(be, sizeof h);
    CHECK(d && be->upload(be, d, h, sizeof h) == VIDI_OK && be->add(be, d, d, d, 4) == VIDI_OK &&
          be->download(be, r, d, sizeof r) == VIDI_OK && r[3] == 8.0f);
    be->release(be, d);
    CHECK(vidi_cuda_set_memory_limit(NULL, 1) == VIDI_ERR_ARG);
    vidi_backend *cpu = NULL;
    CHECK(vidi_backend_create("cpu", 1, &cpu) == VIDI_OK);
    CHECK(vidi_cuda_set_gemm_mode(cpu, VIDI_CUDA_GEMM_TF32) == VIDI_ERR_ARG);
    CHECK(strstr(vidi_last_error(), "'cpu' is not a CUDA backend") != NULL);
    vidi_backend_destroy(cpu);
    CHECK(vidi_cuda_set_gemm_mode(be, (vidi_cuda_gemm_mode)7) == VIDI_ERR_ARG);
    vidi_backend_destroy(be);
    CHECK(cpu_still_works());
}

static void test_unsupported_shapes(void) {
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (!be) return;
    vidi_attn_layout l = vidi_attn_layout_fused_qkv(1, 2, 4, 8000);
    size_t n = (size_t)4 * 3 * 2 * 8000;
    float *qkv = be->alloc(be, n * sizeof(float)), *o = be->alloc(be, n * sizeof(float));
    CHECK(be->attention(be, o, qkv, qkv + 16000, qkv + 32000, &l, 0.1f) == VIDI_ERR_UNSUPPORTED);
    CHECK_MSG(strstr(vidi_last_error(), "head_dim 8000 > 6144") != NULL, "got '%s'", vidi_last_error());
    l = vidi_attn_layout_fused_qkv(70000, 1, 1, 4);
    CHECK(be->attention(be, o, qkv, qkv + 4, qkv + 8, &l, 0.1f) == VIDI_ERR_UNSUPPORTED);
    be->release(be, qkv);
    be->release(be, o);
    CHECK(be->synchronize(be) == VIDI_OK); /* rejected before anything was enqueued */
    vidi_backend_destroy(be);
    CHECK(cpu_still_works());
}

static void test_host_pointer_and_sticky_fault(void) {
    vidi_backend *be = NULL;
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (!be) return;
    float host[8] = {0};
    float *d = be->alloc(be, sizeof host);
    /* A host pointer given to a device copy is refused at the call. */
    CHECK(be->upload(be, host, d, sizeof host) == VIDI_ERR_DEVICE);
    CHECK_MSG(strstr(vidi_last_error(), "upload: CUDA error") != NULL, "got '%s'", vidi_last_error());
    /* cuBLASLt refuses host matrices. */
    CHECK(be->linear(be, d, host, d, NULL, 2, 2, 2, VIDI_ACT_NONE) == VIDI_ERR_DEVICE);
    CHECK(strstr(vidi_last_error(), "cuBLASLt status 7") != NULL);
    /* A kernel given a host pointer faults (sticky, like a GPU context). */
    vidi_status st = be->add(be, d, d, host, 8);
    if (st == VIDI_OK) st = be->synchronize(be);
    CHECK(st == VIDI_ERR_DEVICE);
    CHECK_MSG(strstr(vidi_last_error(), "is not inside one device allocation") != NULL, "got '%s'", vidi_last_error());
    CHECK(be->synchronize(be) == VIDI_ERR_DEVICE); /* sticky */
    CHECK(be->add(be, d, d, d, 8) == VIDI_ERR_DEVICE);
    CHECK(cpu_still_works());
    be->release(be, d);
    vidi_backend_destroy(be);
    vidi_emu_reset_faults();
    CHECK(vidi_backend_create("cuda-emu", 1, &be) == VIDI_OK);
    if (be) {
        CHECK(be->synchronize(be) == VIDI_OK);
        vidi_backend_destroy(be);
    }
}

int main(void) {
    test_no_device();
    test_out_of_memory();
    test_unsupported_shapes();
    test_host_pointer_and_sticky_fault();
    return vidi_test_summary("cuda_errors");
}
