/* The norm kernels compiled for the emulator (as C, see nn/cuda/kernel.h). */
#include "nn/cuda/norm.cu"
