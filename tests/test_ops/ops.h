/* The op tests' shared pieces (tests/test_ops.c runs them; one file per
 * group of ops in tests/test_ops/): fixed-seed inputs, guarded output
 * buffers, the comparison against the ref tier, and the shim that puts a
 * device backend behind host buffers. */
#ifndef VIDI_TESTS_OPS_H
#define VIDI_TESTS_OPS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vidi/backend.h"

#define GUARD 64
#define GUARD_BITS 0x7fc0deadu /* a quiet NaN no op produces */

typedef struct {
    double atol, rtol;
} tolerance;

extern char config[64];  /* backend / simd / threads, for failure messages */
extern double tol_scale; /* VIDI_OPS_TOL_SCALE (ops_common.c) */

float frand(float lo, float hi);
float *rand_buf(int64_t n, float lo, float hi);
/* n floats with GUARD guard values on both sides; untouched cells hold the guard too. */
float *guarded_alloc(int64_t n);
void guarded_free(float *p);
int is_guard(float f);
int guards_intact(const float *p, int64_t n);
/* got vs want over n floats: untouched cells untouched in both, written cells within tol. */
void compare(const char *op, const char *shape, const float *got, const float *want, int64_t n, tolerance tol);

/* A host-memory backend in front of a device one (ops_shim.c). */
vidi_backend *device_shim(vidi_backend *device);

/* Each op group against the ref tier on one backend. */
void test_linear(vidi_backend *ref, vidi_backend *be);
void test_linear_tall(vidi_backend *ref, vidi_backend *be);
void test_linear_widths_agree(void);
void test_layernorm(vidi_backend *ref, vidi_backend *be);
void test_attention(vidi_backend *ref, vidi_backend *be);
void test_elementwise(vidi_backend *ref, vidi_backend *be);
void test_patch_embed(vidi_backend *ref, vidi_backend *be);
void test_modulate(vidi_backend *ref, vidi_backend *be);
void test_unpatchify(vidi_backend *ref, vidi_backend *be);
void test_sampler_step(vidi_backend *ref, vidi_backend *be);

#endif
