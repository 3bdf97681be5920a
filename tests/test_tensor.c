/* Tensor views, half-precision conversion and the arena. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "vidi/tensor.h"

static uint32_t bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_views(void) {
    CHECK(vidi_dtype_size(VIDI_F32) == 4 && vidi_dtype_size(VIDI_F16) == 2 && vidi_dtype_size(VIDI_BF16) == 2);
    CHECK(strcmp(vidi_dtype_name(VIDI_BF16), "BF16") == 0);
    float data[24];
    int64_t shape[3] = {2, 3, 4};
    vidi_tensor t = vidi_tensor_view(VIDI_F32, data, 3, shape);
    CHECK(t.ndim == 3 && t.stride[2] == 4 && t.stride[1] == 16 && t.stride[0] == 48);
    CHECK(vidi_tensor_numel(&t) == 24);
    CHECK(vidi_tensor_is_contiguous(&t));
    t.stride[0] = 96; /* a view on every other block */
    CHECK(!vidi_tensor_is_contiguous(&t));
    vidi_tensor h = vidi_tensor_view(VIDI_F16, data, 2, shape);
    CHECK(h.stride[1] == 2 && h.stride[0] == 6 && vidi_tensor_numel(&h) == 6);
}

static void test_f16(void) {
    /* Every f16 value survives f16 -> f32 -> f16 (nan stays nan). */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = vidi_f16_to_f32((uint16_t)h);
        uint16_t back = vidi_f32_to_f16(f);
        if (isnan(f) ? !((back & 0x7c00u) == 0x7c00u && (back & 0x3ffu)) : back != h) bad++;
    }
    CHECK_MSG(bad == 0, "%d f16 values do not round-trip", bad);
    CHECK(vidi_f16_to_f32(0x3c00) == 1.0f && vidi_f16_to_f32(0xc000) == -2.0f);
    CHECK(vidi_f16_to_f32(0x7bff) == 65504.0f && vidi_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    CHECK(vidi_f32_to_f16(65520.0f) == 0x7c00);      /* halfway past max rounds to inf */
    CHECK(vidi_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(vidi_f32_to_f16(1.0f + ldexpf(1.0f, -11)) == 0x3c00); /* tie -> even */
    CHECK(vidi_f32_to_f16(1.0f + 3 * ldexpf(1.0f, -11)) == 0x3c02);
    CHECK(vidi_f32_to_f16(ldexpf(1.0f, -25)) == 0x0000);        /* tie at half the smallest subnormal -> 0 */
    CHECK(vidi_f32_to_f16(ldexpf(1.5f, -25)) == 0x0001);
    CHECK(vidi_f32_to_f16(ldexpf(3.0f, -25)) == 0x0002);        /* 1.5 subnormal ulps: tie -> even (2) */
    CHECK(vidi_f32_to_f16(-0.0f) == 0x8000 && vidi_f32_to_f16(-INFINITY) == 0xfc00);
    /* Against the compiler's own conversion where it has one. */
#if defined(__FLT16_MAX__) && !defined(__clang__)
    uint32_t seed = 1;
    int mism = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1664525u + 1013904223u;
        float f = from_bits(seed & 0x7fffffffu);
        if (isnan(f) || bits(f) > 0x47800000u) continue;
        _Float16 ref = (_Float16)f;
        uint16_t rb;
        memcpy(&rb, &ref, sizeof rb);
        if (vidi_f32_to_f16(f) != rb) mism++;
    }
    CHECK_MSG(mism == 0, "%d f32->f16 conversions differ from _Float16", mism);
#endif
}

static void test_bf16(void) {
    CHECK(bits(vidi_bf16_to_f32(0x3f80)) == 0x3f800000u);
    CHECK(vidi_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(vidi_f32_to_bf16(from_bits(0x3f808000u)) == 0x3f80); /* tie -> even */
    CHECK(vidi_f32_to_bf16(from_bits(0x3f818000u)) == 0x3f82);
    CHECK(vidi_f32_to_bf16(from_bits(0x3f808001u)) == 0x3f81);
    CHECK(vidi_f32_to_bf16(from_bits(0x7f7fffffu)) == 0x7f80); /* max float rounds to inf */
    CHECK(isnan(vidi_bf16_to_f32(vidi_f32_to_bf16(NAN))));
    CHECK(isnan(vidi_bf16_to_f32(vidi_f32_to_bf16(from_bits(0x7f800001u))))); /* low-bit nan stays nan */
    int bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = vidi_bf16_to_f32((uint16_t)h);
        if (!isnan(f) && vidi_f32_to_bf16(f) != h) bad++;
    }
    CHECK(bad == 0);
}

static void test_arena(void) {
    vidi_arena a;
    CHECK(vidi_arena_init(&a, 1000) == VIDI_OK);
    CHECK(a.capacity >= 1000 && a.used == 0);
    float *p = vidi_arena_floats(&a, 3);
    float *q = vidi_arena_floats(&a, 5);
    CHECK(p && q && ((uintptr_t)p & 63) == 0 && ((uintptr_t)q & 63) == 0 && q > p);
    CHECK(a.used == 64 + 20 && a.high_water == 84);
    vidi_clear_error();
    CHECK(vidi_arena_floats(&a, 1000) == NULL);
    CHECK(strstr(vidi_last_error(), "exhausted") != NULL);
    CHECK(a.used == 84); /* a failed request does not move the arena */
    vidi_arena_reset(&a);
    CHECK(a.used == 0 && a.high_water == 84);
    float *r = vidi_arena_floats(&a, 250); /* exactly the capacity */
    CHECK(r == p && a.high_water == 1000);
    CHECK(vidi_arena_floats(&a, 1) == NULL);
    CHECK(vidi_arena_floats(&a, SIZE_MAX / 2) == NULL);
    vidi_arena_free(&a);
    CHECK(a.base == NULL && a.capacity == 0);
    CHECK(vidi_arena_floats(&a, 1) == NULL);
}

int main(void) {
    test_views();
    test_f16();
    test_bf16();
    test_arena();
    return vidi_test_summary("tensor");
}
