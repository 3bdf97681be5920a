/* Emulated CUDA runtime: device memory, copies, streams, events, errors.
 * Device memory is malloc'd host memory recorded in a table, so copies,
 * cuBLASLt calls and kernel launchers can check that a pointer range lies in
 * one live allocation (a host pointer passed as a device pointer, or a range
 * running past its buffer, is an error here where a GPU would fault or
 * silently corrupt). All stream work runs when enqueued: in order, which is
 * all a single stream guarantees. Errors follow CUDA's two kinds: a bad call
 * returns its error (and is the "last error"); a kernel fault is sticky and
 * returned by every later synchronising call, as on a GPU. */
#include "nn/cuda/emu/cuda_emu.h"
#include "nn/cuda/emu/emu_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct allocation {
    uintptr_t base;
    size_t size;
} allocation;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static allocation *allocs; /* sorted by base */
static size_t n_allocs, cap_allocs;
static size_t bytes_in_use;
static size_t device_memory = (size_t)8 << 30;
static int device_count = 1;
static _Thread_local cudaError_t last_error = cudaSuccess;
static cudaError_t sticky_error = cudaSuccess;
static char fault[256];
vidi_emu_stats vidi_emu_counters;

void vidi_emu_get_stats(vidi_emu_stats *out) {
    pthread_mutex_lock(&lock);
    *out = vidi_emu_counters;
    pthread_mutex_unlock(&lock);
}

struct vidi_emu_stream {
    int magic;
};
struct vidi_emu_event {
    int magic;
    int recorded;
};
#define STREAM_MAGIC 0x5743
#define EVENT_MAGIC 0x4576

void vidi_emu_set_device_memory(size_t bytes) { device_memory = bytes ? bytes : (size_t)8 << 30; }
void vidi_emu_set_device_count(int count) { device_count = count < 0 ? 0 : count; }
const char *vidi_emu_fault(void) { return fault; }

static cudaError_t fail(cudaError_t err) {
    last_error = err;
    return err;
}

void vidi_emu_raise_fault(const char *fmt, ...) {
    pthread_mutex_lock(&lock);
    if (sticky_error == cudaSuccess) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fault, sizeof fault, fmt, ap);
        va_end(ap);
        sticky_error = cudaErrorLaunchFailure;
    }
    pthread_mutex_unlock(&lock);
}

cudaError_t vidi_emu_sticky(void) { return sticky_error; }

void vidi_emu_set_last_error(cudaError_t err) { last_error = err; }

/* Index of the allocation holding p, or -1. Caller holds the lock. */
static long find_alloc(uintptr_t p) {
    size_t lo = 0, hi = n_allocs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (allocs[mid].base <= p) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return -1;
    const allocation *a = &allocs[lo - 1];
    return (p >= a->base && p < a->base + (a->size ? a->size : 1)) ? (long)(lo - 1) : -1;
}

int vidi_emu_is_device_range(const void *ptr, size_t bytes) {
    if (!ptr) return 0;
    pthread_mutex_lock(&lock);
    long i = find_alloc((uintptr_t)ptr);
    int ok = i >= 0 && (uintptr_t)ptr - allocs[i].base + bytes <= allocs[i].size;
    pthread_mutex_unlock(&lock);
    return ok;
}

int vidi_emu_check_range(const void *ptr, size_t bytes, const char *what, const char *where) {
    if (bytes == 0 || vidi_emu_is_device_range(ptr, bytes)) return 1;
    pthread_mutex_lock(&lock);
    if (sticky_error == cudaSuccess) {
        snprintf(fault, sizeof fault, "%s: %s = %p (+%zu bytes) is not inside one device allocation", where, what,
                 ptr, bytes);
        sticky_error = cudaErrorIllegalAddress;
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

cudaError_t vidi_emu_get_device_count(int *count) {
    if (!count) return fail(cudaErrorInvalidValue);
    *count = device_count;
    return device_count ? cudaSuccess : fail(cudaErrorNoDevice);
}

cudaError_t vidi_emu_set_device(int device) {
    return device >= 0 && device < device_count ? cudaSuccess : fail(cudaErrorInvalidValue);
}

cudaError_t vidi_emu_malloc(void **ptr, size_t bytes) {
    if (!ptr) return fail(cudaErrorInvalidValue);
    *ptr = NULL;
    if (device_count == 0) return fail(cudaErrorNoDevice);
    pthread_mutex_lock(&lock);
    cudaError_t err = cudaSuccess;
    /* cudaMalloc aligns to at least 256 bytes. */
    size_t rounded = (bytes + 255) & ~(size_t)255;
    void *p = NULL;
    if (rounded > device_memory - bytes_in_use || rounded < bytes) err = cudaErrorMemoryAllocation;
    else if (n_allocs == cap_allocs) {
        size_t cap = cap_allocs ? 2 * cap_allocs : 64;
        allocation *grown = realloc(allocs, cap * sizeof *grown);
        if (!grown) err = cudaErrorMemoryAllocation;
        else {
            allocs = grown;
            cap_allocs = cap;
        }
    }
    if (err == cudaSuccess && !(p = aligned_alloc(256, rounded ? rounded : 256))) err = cudaErrorMemoryAllocation;
    if (err == cudaSuccess) {
        /* Fresh device memory holds garbage: make reading it before writing visible. */
        memset(p, 0xff, rounded);
        size_t i = n_allocs;
        while (i > 0 && allocs[i - 1].base > (uintptr_t)p) {
            allocs[i] = allocs[i - 1];
            i--;
        }
        allocs[i] = (allocation){(uintptr_t)p, bytes};
        n_allocs++;
        bytes_in_use += rounded;
        vidi_emu_counters.mallocs++;
        *ptr = p;
    }
    pthread_mutex_unlock(&lock);
    return err == cudaSuccess ? cudaSuccess : fail(err);
}

cudaError_t vidi_emu_free(void *ptr) {
    if (!ptr) return cudaSuccess;
    pthread_mutex_lock(&lock);
    long i = find_alloc((uintptr_t)ptr);
    if (i < 0 || allocs[i].base != (uintptr_t)ptr) {
        pthread_mutex_unlock(&lock);
        return fail(cudaErrorInvalidValue);
    }
    bytes_in_use -= (allocs[i].size + 255) & ~(size_t)255;
    memmove(&allocs[i], &allocs[i + 1], (n_allocs - (size_t)i - 1) * sizeof *allocs);
    n_allocs--;
    vidi_emu_counters.frees++;
    if (n_allocs == 0) {
        free(allocs);
        allocs = NULL;
        cap_allocs = 0;
    }
    pthread_mutex_unlock(&lock);
    free(ptr);
    return cudaSuccess;
}

cudaError_t vidi_emu_mem_get_info(size_t *free_bytes, size_t *total_bytes) {
    if (!free_bytes || !total_bytes) return fail(cudaErrorInvalidValue);
    *total_bytes = device_memory;
    *free_bytes = device_memory - bytes_in_use;
    return cudaSuccess;
}

static int stream_ok(cudaStream_t s) { return !s || s->magic == STREAM_MAGIC; }

cudaError_t vidi_emu_memcpy_async(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                                  cudaStream_t stream) {
    if (!stream_ok(stream)) return fail(cudaErrorInvalidResourceHandle);
    if (sticky_error) return sticky_error;
    if (bytes == 0) return cudaSuccess;
    int dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
    int src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
    if (!dst || !src || (int)kind < 0 || kind > cudaMemcpyDeviceToDevice) return fail(cudaErrorInvalidValue);
    /* The direction must match the pointers, as cudaMemcpy checks with UVA. */
    if (dst_dev != vidi_emu_is_device_range(dst, bytes) || src_dev != vidi_emu_is_device_range(src, bytes))
        return fail(cudaErrorInvalidValue);
    memmove(dst, src, bytes);
    pthread_mutex_lock(&lock);
    if (dst_dev && src_dev) vidi_emu_counters.copies_on_device++;
    else if (dst_dev) vidi_emu_counters.copies_to_device++;
    else if (src_dev) vidi_emu_counters.copies_to_host++;
    pthread_mutex_unlock(&lock);
    return cudaSuccess;
}

cudaError_t vidi_emu_memcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
    return vidi_emu_memcpy_async(dst, src, bytes, kind, NULL);
}

cudaError_t vidi_emu_memset_async(void *dst, int value, size_t bytes, cudaStream_t stream) {
    if (!stream_ok(stream)) return fail(cudaErrorInvalidResourceHandle);
    if (sticky_error) return sticky_error;
    if (bytes == 0) return cudaSuccess;
    if (!vidi_emu_is_device_range(dst, bytes)) return fail(cudaErrorInvalidValue);
    memset(dst, value, bytes);
    return cudaSuccess;
}

cudaError_t vidi_emu_stream_create(cudaStream_t *stream, unsigned flags) {
    (void)flags;
    if (!stream) return fail(cudaErrorInvalidValue);
    *stream = calloc(1, sizeof **stream);
    if (!*stream) return fail(cudaErrorMemoryAllocation);
    (*stream)->magic = STREAM_MAGIC;
    return cudaSuccess;
}

cudaError_t vidi_emu_stream_destroy(cudaStream_t stream) {
    if (!stream || stream->magic != STREAM_MAGIC) return fail(cudaErrorInvalidResourceHandle);
    stream->magic = 0;
    free(stream);
    return cudaSuccess;
}

static void count_sync(void) {
    pthread_mutex_lock(&lock);
    vidi_emu_counters.syncs++;
    pthread_mutex_unlock(&lock);
}

cudaError_t vidi_emu_stream_synchronize(cudaStream_t stream) {
    if (!stream_ok(stream)) return fail(cudaErrorInvalidResourceHandle);
    count_sync();
    return sticky_error;
}

cudaError_t vidi_emu_device_synchronize(void) {
    count_sync();
    return sticky_error;
}

cudaError_t vidi_emu_event_create(cudaEvent_t *event) {
    if (!event) return fail(cudaErrorInvalidValue);
    *event = calloc(1, sizeof **event);
    if (!*event) return fail(cudaErrorMemoryAllocation);
    (*event)->magic = EVENT_MAGIC;
    return cudaSuccess;
}

cudaError_t vidi_emu_event_destroy(cudaEvent_t event) {
    if (!event || event->magic != EVENT_MAGIC) return fail(cudaErrorInvalidResourceHandle);
    event->magic = 0;
    free(event);
    return cudaSuccess;
}

cudaError_t vidi_emu_event_record(cudaEvent_t event, cudaStream_t stream) {
    if (!event || event->magic != EVENT_MAGIC || !stream_ok(stream)) return fail(cudaErrorInvalidResourceHandle);
    event->recorded = 1;
    return cudaSuccess;
}

cudaError_t vidi_emu_event_synchronize(cudaEvent_t event) {
    if (!event || event->magic != EVENT_MAGIC) return fail(cudaErrorInvalidResourceHandle);
    count_sync();
    return sticky_error;
}

/* The emulator has no device clock: events report 0 ms (timings are never
 * taken from the emulator). */
cudaError_t vidi_emu_event_elapsed(float *ms, cudaEvent_t start, cudaEvent_t stop) {
    if (!ms || !start || !stop || !start->recorded || !stop->recorded) return fail(cudaErrorInvalidValue);
    *ms = 0.0f;
    return cudaSuccess;
}

cudaError_t vidi_emu_get_last_error(void) {
    cudaError_t err = sticky_error ? sticky_error : last_error;
    last_error = cudaSuccess;
    return err;
}

cudaError_t vidi_emu_peek_at_last_error(void) { return sticky_error ? sticky_error : last_error; }

const char *vidi_emu_error_string(cudaError_t err) {
    switch (err) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    }
    return "unknown error";
}

/* Test hook: forget a sticky fault (a real process would need a new context). */
void vidi_emu_reset_faults(void) {
    pthread_mutex_lock(&lock);
    sticky_error = cudaSuccess;
    fault[0] = '\0';
    pthread_mutex_unlock(&lock);
    last_error = cudaSuccess;
}
