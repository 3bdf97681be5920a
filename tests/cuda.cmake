# Deliberately broken CUDA kernels (docs/cuda.md, "Tests"). Each mutant is a
# copy of one kernel source with one edit — a missing barrier, a wrong
# index, a wrong shuffle, a divergent exit — built for the emulator under its
# own symbol names (VIDI_CU_NS=cumut) next to the real cuda-emu.
# test_cuda_mutant_<name> passes only when the same checks that pass on the
# unmodified cuda-emu fail on the mutant. The edit is applied to the current
# source at configure time; if the text it looks for is gone, configuring
# fails, so a mutant can never silently become the original.
function(vidi_cuda_mutant name file from to op)
  set(src_path ${CMAKE_SOURCE_DIR}/nn/cuda/${file}.cu)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src_path})
  file(READ ${src_path} src)
  string(FIND "${src}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "CUDA mutant ${name}: the text it edits is not in nn/cuda/${file}.cu; update tests/cuda.cmake")
  endif()
  string(REPLACE "${from}" "${to}" mutated "${src}")
  set(dir ${CMAKE_BINARY_DIR}/cuda_mutants/${name})
  set(sources ${CMAKE_CURRENT_SOURCE_DIR}/cuda_mutant.c ${CMAKE_CURRENT_SOURCE_DIR}/harness.c
              ${CMAKE_SOURCE_DIR}/nn/cuda/backend.c)
  foreach(k elementwise norm attention sampler)
    if(k STREQUAL file)
      file(CONFIGURE OUTPUT ${dir}/${k}.c CONTENT "${mutated}" @ONLY)
    else()
      file(CONFIGURE OUTPUT ${dir}/${k}.c CONTENT "#include \"nn/cuda/${k}.cu\"\n" @ONLY)
    endif()
    list(APPEND sources ${dir}/${k}.c)
  endforeach()
  add_executable(test_cuda_mutant_${name} ${sources})
  target_include_directories(test_cuda_mutant_${name} PRIVATE ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(test_cuda_mutant_${name} PRIVATE VIDI_CUDA_EMU=1 VIDI_CU_NS=cumut
                             VIDI_MUTANT_NAME="${name}" VIDI_MUTANT_OP="${op}")
  target_link_libraries(test_cuda_mutant_${name} PRIVATE vidi)
  add_test(NAME test_cuda_mutant_${name} COMMAND test_cuda_mutant_${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endfunction()

# The barrier between loading a K/V tile and reading it.
vidi_cuda_mutant(attention_no_barrier attention
  "        }\n        __syncthreads();\n\n        /* Scores: lane = key. */"
  "        }\n\n        /* Scores: lane = key. */" attention)
# K tile rows unpadded on store, padded on load: a wrong shared-memory index.
vidi_cuda_mutant(attention_wrong_index attention
  "ks[j * hdp + d] = in ?" "ks[j * hd + d] = in ?" attention)
# Reading the per-warp partial sums before every warp has written its own.
vidi_cuda_mutant(norm_no_barrier norm
  "    if (lane == 0) red[warp] = v;\n    __syncthreads();\n    v = warp_sum("
  "    if (lane == 0) red[warp] = v;\n    v = warp_sum(" layernorm)
# A broadcast shuffle where the butterfly (xor) reduction needs an exchange.
vidi_cuda_mutant(norm_wrong_shuffle norm
  "v += __shfl_xor_sync(VIDI_FULL_MASK, v, o);" "v += __shfl_sync(VIDI_FULL_MASK, v, o);" softmax)
# Some threads leave before the block's barriers (the emulator reports it).
vidi_cuda_mutant(norm_divergent_exit norm
  "    const float *x = a.in + (int64_t)blockIdx.x * a.dim;"
  "    if (threadIdx.x == 37) return;\n    const float *x = a.in + (int64_t)blockIdx.x * a.dim;" layernorm)

# The emulator's own test (tests/test_cuda_emu.c) defines kernels in the
# kernel dialect: it is compiled for the emulator.
if(TARGET test_cuda_emu)
  target_compile_definitions(test_cuda_emu PRIVATE VIDI_CUDA_EMU=1)
endif()
