/* Emulated kernel launch: blocks run one after another; inside a block every
 * CUDA thread is a fiber with its own stack. A fiber runs until it reaches a
 * synchronisation point (__syncthreads, __syncwarp, a shuffle) or finishes,
 * then the scheduler runs the next one. Why this is sound (docs/cuda.md):
 * a barrier releases only when every thread of the block waits at it (the
 * same source line), a warp sync only when all 32 lanes of the warp wait at
 * the same one, so each thread observes exactly the shared-memory and shuffle
 * values the CUDA memory model guarantees after that sync, and nothing more:
 * - between syncs threads run in a fixed order (forward on every other
 *   block, backward on the rest), so code that relies on an order the
 *   hardware does not give (a missing barrier) reads the other threads' data
 *   too early or too late on one of the two orders; blocks run last to
 *   first, so a kernel depending on block order sees unwritten data;
 * - shared memory is filled with NaN at block start (a GPU leaves it holding
 *   whatever the previous block wrote), so reads before writes show up;
 * - a barrier or shuffle reached by part of a block / warp (divergence),
 *   or with a partial mask, is a fault (sticky cudaErrorLaunchFailure).
 * Context switches are a few instructions of assembly on x86-64 (ucontext
 * elsewhere), annotated for AddressSanitizer. */
#include "nn/cuda/emu/emu_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#define STACK_BYTES (512 * 1024)
#else
#define STACK_BYTES (128 * 1024)
#endif

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

_Thread_local vidi_emu_thread_state *vidi_emu_self;

enum { RUNNABLE, AT_BARRIER, AT_WARP, DONE };

typedef struct fiber {
    vidi_emu_thread_state pub; /* first: vidi_emu_self points here */
#if defined(__x86_64__)
    void *sp;
#else
    ucontext_t ctx;
#endif
    unsigned char *stack;
    int state, site;
    unsigned linear, shfl_phase;
    size_t shared_cursor;
#ifdef EMU_ASAN
    void *fake_stack;
#endif
} fiber;

typedef struct block_run {
    fiber *threads;
    unsigned n, capacity;
    vidi_emu_kernel_fn fn;
    const void *args;
    const char *name;
    unsigned char *static_smem, *dyn_smem;
    size_t dyn_bytes;
    float *shfl[2];
    int faulted;
#if defined(__x86_64__)
    void *sched_sp;
#else
    ucontext_t sched_ctx;
#endif
#ifdef EMU_ASAN
    const void *sched_bottom;
    size_t sched_size;
#endif
} block_run;

static _Thread_local block_run run;
static _Thread_local fiber *current;

#if defined(__x86_64__)
/* void emu_switch(void **save_sp, void *new_sp): saves the callee-saved
 * registers on the current stack, swaps stacks, restores the other side's. */
void vidi_emu_switch(void **save_sp, void *new_sp);
__asm__(".text\n"
        ".globl vidi_emu_switch\n"
        ".type vidi_emu_switch,@function\n"
        "vidi_emu_switch:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  subq $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  addq $8, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n"
        ".size vidi_emu_switch, .-vidi_emu_switch\n"
        ".section .note.GNU-stack,\"\",@progbits\n"
        ".text\n");
#endif

static void to_scheduler(fiber *f) {
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(f->state == DONE ? NULL : &f->fake_stack, run.sched_bottom, run.sched_size);
#endif
#if defined(__x86_64__)
    vidi_emu_switch(&f->sp, run.sched_sp);
#else
    swapcontext(&f->ctx, &run.sched_ctx);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(f->fake_stack, &run.sched_bottom, &run.sched_size);
#endif
}

static void fiber_main(void) {
    fiber *f = current;
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(NULL, &run.sched_bottom, &run.sched_size);
#endif
    run.fn(run.args);
    f->state = DONE;
    to_scheduler(f);
    __builtin_unreachable(); /* a finished fiber is never resumed */
}

static void to_fiber(fiber *f) {
    current = f;
    vidi_emu_self = &f->pub;
#ifdef EMU_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, f->stack, STACK_BYTES);
#endif
#if defined(__x86_64__)
    vidi_emu_switch(&run.sched_sp, f->sp);
#else
    swapcontext(&run.sched_ctx, &f->ctx);
#endif
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    current = NULL;
    vidi_emu_self = NULL;
}

static void fiber_start(fiber *f) {
#if defined(__x86_64__)
    /* Stack top, 16-byte aligned: [fake return 0][fiber_main][6 regs][mxcsr/fcw]. */
    uintptr_t top = ((uintptr_t)f->stack + STACK_BYTES) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0;                              /* fiber_main's return address: never used */
    *--sp = (uint64_t)(uintptr_t)fiber_main; /* popped by ret */
    for (int i = 0; i < 6; i++) *--sp = 0;  /* rbp rbx r12-r15 */
    *--sp = 0;
    uint32_t mxcsr;
    uint16_t fcw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    memcpy(sp, &mxcsr, 4);
    memcpy((char *)sp + 4, &fcw, 2);
    f->sp = sp;
#else
    getcontext(&f->ctx);
    f->ctx.uc_stack.ss_sp = f->stack;
    f->ctx.uc_stack.ss_size = STACK_BYTES;
    f->ctx.uc_link = NULL;
    makecontext(&f->ctx, fiber_main, 0);
#endif
}

static int ensure_threads(unsigned n) {
    if (n <= run.capacity) return 1;
    fiber *grown = realloc(run.threads, n * sizeof *grown);
    if (!grown) return 0;
    run.threads = grown;
    for (unsigned i = run.capacity; i < n; i++) {
        memset(&grown[i], 0, sizeof grown[i]);
        if (!(grown[i].stack = malloc(STACK_BYTES))) {
            run.capacity = i;
            return 0;
        }
    }
    run.capacity = n;
    return 1;
}

static void fault(const char *what) {
    if (!run.faulted) vidi_emu_raise_fault("kernel %s: %s", run.name, what);
    run.faulted = 1;
}

/* A fault inside a kernel stops the calling fiber for good: the scheduler
 * releases nothing once the block has faulted, so it is never resumed (and
 * never runs on with values that no longer mean anything). */
static void fault_here(fiber *f, const char *what) {
    fault(what);
    f->state = AT_BARRIER;
    f->site = -1;
    to_scheduler(f);
    __builtin_unreachable(); /* a faulted fiber is never resumed */
}

static fiber *self_or_fault(void) {
    if (!current) {
        /* Host code calling __syncthreads() & co. does not compile with
         * nvcc; on the emulator it is a programming error with no way on. */
        vidi_emu_raise_fault("device built-in called outside a kernel");
        abort();
    }
    return current;
}

void *vidi_emu_static_shared(size_t bytes) {
    fiber *f = self_or_fault();
    size_t at = (f->shared_cursor + 15) & ~(size_t)15;
    if (at + bytes > VIDI_EMU_STATIC_SMEM) fault_here(f, "static shared memory over 48 KiB");
    f->shared_cursor = at + bytes;
    return run.static_smem + at;
}

void *vidi_emu_dynamic_shared(void) { return self_or_fault(), run.dyn_smem; }

static void wait_at(int state, int site) {
    fiber *f = self_or_fault();
    f->state = state;
    f->site = site;
    to_scheduler(f);
}

void vidi_emu_syncthreads(int site) { wait_at(AT_BARRIER, site); }

static void check_warp_mask(unsigned mask) {
    fiber *f = self_or_fault();
    unsigned base = f->linear & ~31u;
    if (mask != 0xffffffffu || base + 32 > run.n) fault_here(f, "warp sync or shuffle without a full warp and full mask");
}

void vidi_emu_syncwarp(unsigned mask, int site) {
    check_warp_mask(mask);
    wait_at(AT_WARP, site);
}

/* Two slot buffers used alternately: every lane writes its value, the warp
 * syncs, every lane reads. The next shuffle writes the other buffer, and the
 * one after can reuse this one only after the next sync, by which time every
 * lane has read (see the file comment in docs/cuda.md). */
static float shuffle(unsigned mask, float value, unsigned src, int site) {
    check_warp_mask(mask);
    fiber *f = current;
    float *slots = run.shfl[f->shfl_phase++ & 1];
    slots[f->linear] = value;
    wait_at(AT_WARP, site);
    return slots[(f->linear & ~31u) + (src & 31u)];
}

float vidi_emu_shfl(unsigned mask, float value, int src_lane, int site) {
    return shuffle(mask, value, (unsigned)src_lane, site);
}

float vidi_emu_shfl_xor(unsigned mask, float value, int lane_mask, int site) {
    fiber *f = self_or_fault();
    return shuffle(mask, value, (f->linear & 31u) ^ (unsigned)lane_mask, site);
}

/* After every runnable fiber has run: release a complete warp sync or a
 * complete barrier; 0 when nothing can move (a fault, or all done). */
static int release(void) {
    unsigned n = run.n, done = 0, at_barrier = 0;
    int released = 0;
    if (run.faulted) return 0;
    for (unsigned w = 0; w < n; w += 32) {
        unsigned end = w + 32 < n ? w + 32 : n, waiting = 0, finished = 0;
        int site = -1, same = 1;
        for (unsigned i = w; i < end; i++) {
            fiber *t = &run.threads[i];
            if (t->state == AT_WARP) {
                if (site >= 0 && t->site != site) same = 0;
                site = t->site;
                waiting++;
            } else if (t->state == DONE) {
                finished++;
            }
        }
        if (waiting && waiting == end - w && same) {
            for (unsigned i = w; i < end; i++) run.threads[i].state = RUNNABLE;
            released = 1;
        } else if (waiting && (waiting + finished == end - w || !same)) {
            fault(same ? "warp sync or shuffle after some lanes exited" : "lanes of a warp at different shuffles");
            return 0;
        }
    }
    if (released) return 1;
    int site = -1, same = 1;
    for (unsigned i = 0; i < n; i++) {
        fiber *t = &run.threads[i];
        if (t->state == DONE) done++;
        else if (t->state == AT_BARRIER) {
            if (site >= 0 && t->site != site) same = 0;
            site = t->site;
            at_barrier++;
        }
    }
    if (done == n) return 0;
    if (at_barrier == n && same) {
        for (unsigned i = 0; i < n; i++) run.threads[i].state = RUNNABLE;
        return 1;
    }
    fault(at_barrier + done == n && same ? "__syncthreads not reached by every thread of the block (some exited)"
          : at_barrier && same            ? "__syncthreads reached by part of the block while others wait at a warp sync"
                                          : "threads of a block wait at different __syncthreads");
    return 0;
}

static void run_block(dim3 grid, dim3 block, dim3 bidx, int reverse) {
    unsigned n = run.n;
    for (unsigned i = 0; i < n; i++) {
        fiber *f = &run.threads[i];
        f->pub.thread_idx = (dim3){i % block.x, (i / block.x) % block.y, i / (block.x * block.y)};
        f->pub.block_idx = bidx;
        f->pub.block_dim = block;
        f->pub.grid_dim = grid;
        f->state = RUNNABLE;
        f->linear = i;
        f->shfl_phase = 0;
        f->shared_cursor = 0;
#ifdef EMU_ASAN
        f->fake_stack = NULL;
#endif
        fiber_start(f);
    }
    /* NaN-filled shared memory: a read before any write is visible in outputs. */
    const uint32_t nan_bits = 0x7fc0bad0u;
    for (size_t i = 0; i < VIDI_EMU_STATIC_SMEM / 4; i++) memcpy(run.static_smem + 4 * i, &nan_bits, 4);
    for (size_t i = 0; i < run.dyn_bytes / 4; i++) memcpy(run.dyn_smem + 4 * i, &nan_bits, 4);
    for (;;) {
        for (unsigned k = 0; k < n; k++) {
            fiber *f = &run.threads[reverse ? n - 1 - k : k];
            if (f->state == RUNNABLE) to_fiber(f);
        }
        if (!release()) break;
    }
    /* A faulted block leaves fibers suspended mid-kernel: they are simply
     * dropped (their stacks are reused by the next launch). */
}

void vidi_emu_launch(vidi_emu_kernel_fn fn, const char *name, const void *args, size_t args_size, dim3 grid,
                     dim3 block, size_t dyn_smem, cudaStream_t stream) {
    (void)args_size;
    (void)stream;
    if (current) {
        vidi_emu_raise_fault("kernel %s launched from a kernel (no dynamic parallelism)", name);
        return;
    }
    uint64_t threads = (uint64_t)block.x * block.y * block.z;
    if (!fn || threads == 0 || threads > VIDI_EMU_MAX_THREADS || block.z > 64 || grid.x == 0 || grid.y == 0 ||
        grid.z == 0 || grid.y > 65535 || grid.z > 65535) {
        vidi_emu_set_last_error(cudaErrorInvalidConfiguration);
        return;
    }
    if (dyn_smem > vidi_emu_func_max_dyn_smem(fn)) {
        vidi_emu_set_last_error(cudaErrorInvalidValue);
        return;
    }
    if (vidi_emu_sticky()) return; /* a faulted context runs nothing more */
    if (!ensure_threads((unsigned)threads)) {
        vidi_emu_set_last_error(cudaErrorMemoryAllocation);
        return;
    }
    __atomic_fetch_add(&vidi_emu_counters.launches, 1, __ATOMIC_RELAXED);
    run.n = (unsigned)threads;
    run.fn = fn;
    run.args = args;
    run.name = name;
    run.faulted = 0;
    run.static_smem = malloc(VIDI_EMU_STATIC_SMEM);
    run.dyn_bytes = (dyn_smem + 3) & ~(size_t)3;
    run.dyn_smem = malloc(run.dyn_bytes ? run.dyn_bytes : 4);
    run.shfl[0] = malloc(threads * sizeof(float));
    run.shfl[1] = malloc(threads * sizeof(float));
    if (run.static_smem && run.dyn_smem && run.shfl[0] && run.shfl[1]) {
        /* Blocks from the last to the first: a kernel that (wrongly) reads
         * what an earlier block of the same launch wrote sees it unwritten. */
        uint64_t blocks = (uint64_t)grid.x * grid.y * grid.z;
        for (uint64_t k = 0; k < blocks && !run.faulted; k++) {
            uint64_t b = blocks - 1 - k;
            dim3 idx = {(unsigned)(b % grid.x), (unsigned)(b / grid.x % grid.y), (unsigned)(b / ((uint64_t)grid.x * grid.y))};
            run_block(grid, block, idx, (int)(k & 1));
        }
    } else {
        vidi_emu_set_last_error(cudaErrorMemoryAllocation);
    }
    free(run.static_smem);
    free(run.dyn_smem);
    free(run.shfl[0]);
    free(run.shfl[1]);
    run.static_smem = run.dyn_smem = NULL;
    run.shfl[0] = run.shfl[1] = NULL;
}

/* ---- per-kernel attributes (cudaFuncSetAttribute) ---- */

typedef struct func_attr {
    vidi_emu_kernel_fn fn;
    int max_dyn_smem;
} func_attr;
static func_attr attrs[64];
static int n_attrs;
static pthread_mutex_t attrs_lock = PTHREAD_MUTEX_INITIALIZER; /* backends may launch from several threads */

size_t vidi_emu_func_max_dyn_smem(vidi_emu_kernel_fn fn) {
    size_t max = VIDI_EMU_STATIC_SMEM; /* without the opt-in, 48 KiB as on the GPU */
    pthread_mutex_lock(&attrs_lock);
    for (int i = 0; i < n_attrs; i++)
        if (attrs[i].fn == fn) max = (size_t)attrs[i].max_dyn_smem;
    pthread_mutex_unlock(&attrs_lock);
    return max;
}

cudaError_t vidi_emu_func_set_attribute(void (*func)(const void *), cudaFuncAttribute attr, int value) {
    if (!func || attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || value > VIDI_EMU_MAX_DYN_SMEM) {
        vidi_emu_set_last_error(cudaErrorInvalidValue);
        return cudaErrorInvalidValue;
    }
    cudaError_t err = cudaSuccess;
    pthread_mutex_lock(&attrs_lock);
    int i = 0;
    while (i < n_attrs && attrs[i].fn != func) i++;
    if (i < n_attrs) attrs[i].max_dyn_smem = value;
    else if (n_attrs < (int)(sizeof attrs / sizeof attrs[0])) attrs[n_attrs++] = (func_attr){func, value};
    else err = cudaErrorInvalidValue;
    pthread_mutex_unlock(&attrs_lock);
    return err;
}
