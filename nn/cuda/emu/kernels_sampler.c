/* The sampler-step kernel compiled for the emulator (as C, see nn/cuda/kernel.h). */
#include "nn/cuda/sampler.cu"
