# vidi eval: cli_eval_mpi.sh exits 77 when the binary has no MPI (the
# sanitizer build, VIDI_MPI=OFF), which ctest reports as skipped.
if(TEST cli_eval_mpi)
  set_tests_properties(cli_eval_mpi PROPERTIES SKIP_RETURN_CODE 77)
endif()
# The annotation-reader fuzzer includes pipeline/eval.h (internal to libvidi).
if(TARGET fuzz_eval_annotations)
  target_include_directories(fuzz_eval_annotations PRIVATE ${CMAKE_SOURCE_DIR})
endif()
