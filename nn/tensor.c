/* Tensors, dtypes, half-precision conversion and the activation arena. */
#include "vidi/tensor.h"

#include <stdlib.h>
#include <string.h>

size_t vidi_dtype_size(vidi_dtype dtype) {
    switch (dtype) {
    case VIDI_F32: return 4;
    case VIDI_F16: return 2;
    case VIDI_BF16: return 2;
    }
    return 0;
}

const char *vidi_dtype_name(vidi_dtype dtype) {
    switch (dtype) {
    case VIDI_F32: return "F32";
    case VIDI_F16: return "F16";
    case VIDI_BF16: return "BF16";
    }
    return "unknown";
}

vidi_tensor vidi_tensor_view(vidi_dtype dtype, void *data, int ndim, const int64_t *shape) {
    vidi_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.data = data;
    if (ndim < 0) ndim = 0;
    if (ndim > VIDI_MAX_DIMS) ndim = VIDI_MAX_DIMS;
    t.ndim = ndim;
    int64_t stride = (int64_t)vidi_dtype_size(dtype);
    for (int i = ndim - 1; i >= 0; i--) {
        t.shape[i] = shape[i];
        t.stride[i] = stride;
        stride *= shape[i];
    }
    return t;
}

int64_t vidi_tensor_numel(const vidi_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

int vidi_tensor_is_contiguous(const vidi_tensor *t) {
    int64_t expect = (int64_t)vidi_dtype_size(t->dtype);
    for (int i = t->ndim - 1; i >= 0; i--) {
        /* A size-1 dimension never advances, so its stride is irrelevant. */
        if (t->shape[i] != 1 && t->stride[i] != expect) return 0;
        expect *= t->shape[i];
    }
    return 1;
}

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float vidi_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return bits_float(sign | 0x7f800000u | (mant << 13)); /* inf / nan */
    if (exp == 0) {
        /* Subnormal: value = mant * 2^-24, exact in float. */
        float v = (float)mant * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t vidi_f32_to_f16(float f) {
    uint32_t u = float_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) /* inf stays inf; nan stays a quiet nan */
        return (uint16_t)(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u | ((abs >> 13) & 0x3ffu) : 0u));
    if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504 */
    if (abs < 0x38800000u) {
        /* Result is subnormal (or zero): shift the full significand right and
         * round to nearest even on the bits that fall off. */
        if (abs < 0x33000000u) return sign; /* below half the smallest subnormal */
        uint32_t exp = abs >> 23;
        uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - exp; /* 14..24 */
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (half & 1u))) half++;
        return (uint16_t)(sign | half);
    }
    /* Normal: rebias and round; a carry out of the mantissa bumps the exponent,
     * which is exactly the right result. */
    uint32_t v = abs - 0x38000000u;
    uint32_t rem = v & 0x1fffu;
    v >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (v & 1u))) v++;
    return (uint16_t)(sign | v);
}

float vidi_bf16_to_f32(uint16_t h) { return bits_float((uint32_t)h << 16); }

uint16_t vidi_f32_to_bf16(float f) {
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* keep nan a nan */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

#define ARENA_ALIGN 64u

vidi_status vidi_arena_init(vidi_arena *arena, size_t capacity) {
    if (!arena) return vidi_set_error(VIDI_ERR_ARG, "arena: NULL arena");
    memset(arena, 0, sizeof *arena);
    capacity = (capacity + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (capacity == 0) return VIDI_OK;
    arena->base = aligned_alloc(ARENA_ALIGN, capacity);
    if (!arena->base)
        return vidi_set_error(VIDI_ERR_NOMEM, "arena: cannot allocate %zu bytes", capacity);
    arena->capacity = capacity;
    return VIDI_OK;
}

void vidi_arena_free(vidi_arena *arena) {
    if (!arena) return;
    free(arena->base);
    memset(arena, 0, sizeof *arena);
}

void vidi_arena_reset(vidi_arena *arena) {
    if (arena) arena->used = 0;
}

float *vidi_arena_floats(vidi_arena *arena, size_t count) {
    if (!arena) {
        vidi_set_error(VIDI_ERR_ARG, "arena: NULL arena");
        return NULL;
    }
    if (!arena->base) {
        vidi_set_error(VIDI_ERR_NOMEM, "arena: not initialised (capacity 0)");
        return NULL;
    }
    size_t start = (arena->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (count > (SIZE_MAX - ARENA_ALIGN) / sizeof(float) || start > arena->capacity ||
        count * sizeof(float) > arena->capacity - start) {
        vidi_set_error(VIDI_ERR_NOMEM, "arena: exhausted (%zu floats requested, %zu of %zu bytes used)",
                       count, arena->used, arena->capacity);
        return NULL;
    }
    /* Record the demand in whole aligned bytes so high_water is a capacity
     * that will fit the same sequence of requests next time. */
    arena->used = start + count * sizeof(float);
    if (arena->used > arena->high_water) arena->high_water = arena->used;
    return (float *)(void *)(arena->base + start);
}
