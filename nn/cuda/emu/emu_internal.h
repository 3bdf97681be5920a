/* Shared between the emulator's runtime, launcher and cuBLASLt reference. */
#ifndef VIDI_NN_CUDA_EMU_INTERNAL_H
#define VIDI_NN_CUDA_EMU_INTERNAL_H

#include <stdarg.h>

#include "nn/cuda/emu/cuda_emu.h"

/* Records a sticky kernel fault (first one wins) with its description. */
void vidi_emu_raise_fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
cudaError_t vidi_emu_sticky(void);
void vidi_emu_set_last_error(cudaError_t err);
int vidi_emu_is_device_range(const void *ptr, size_t bytes);
size_t vidi_emu_func_max_dyn_smem(vidi_emu_kernel_fn fn);
/* Counters behind vidi_emu_get_stats (runtime.c); launch.c counts launches. */
extern vidi_emu_stats vidi_emu_counters;

#endif
