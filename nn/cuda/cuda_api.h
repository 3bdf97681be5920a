/* The CUDA API as vidi's CUDA code sees it. One set of sources, two builds:
 *   real (VIDI_CUDA=ON): cuda_runtime.h + cublasLt.h, kernels by nvcc;
 *   emulated (always):   nn/cuda/emu/ — the same names implemented on the
 *                        host (docs/cuda.md), kernels by the C compiler.
 * Both builds link into one libvidi, so every symbol of nn/cuda/ is named
 * through VIDI_CU(name): vidi_cuda_<name> (real) or vidi_cuemu_<name>. */
#ifndef VIDI_NN_CUDA_API_H
#define VIDI_NN_CUDA_API_H

#if defined(VIDI_CUDA_EMU)
#include "nn/cuda/emu/cuda_emu.h"
#include "nn/cuda/emu/cublaslt_emu.h"
#ifndef VIDI_CU_NS
#define VIDI_CU_NS cuemu
#endif
#else
#include <cublasLt.h>
#include <cuda_runtime.h>
#define VIDI_CU_NS cuda
#endif

#define VIDI_CU_CAT2(ns, name) vidi_##ns##_##name
#define VIDI_CU_CAT(ns, name) VIDI_CU_CAT2(ns, name)
#define VIDI_CU(name) VIDI_CU_CAT(VIDI_CU_NS, name)

#ifdef __cplusplus
#define VIDI_CU_EXTERN extern "C"
#else
#define VIDI_CU_EXTERN
#endif

#endif
