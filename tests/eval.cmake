# vidi eval: cli_eval_mpi.sh exits 77 when the binary has no MPI (the
# sanitizer build, VIDI_MPI=OFF), which ctest reports as skipped.
if(TEST cli_eval_mpi)
  set_tests_properties(cli_eval_mpi PROPERTIES SKIP_RETURN_CODE 77)
endif()
