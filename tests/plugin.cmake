# GStreamer plugin tests (plugins/): GstCheck / GstHarness programs in
# tests/plugin/test_plugin_*.c and gst-launch-1.0 runs in tests/plugin/*.sh.
# Each runs from the source root with this build's plugin first on
# GST_PLUGIN_PATH and a registry of its own (tests may run in parallel).
#
# Sanitizer build: the C tests are ASan executables that load the ASan
# plugin in-process (GST_REGISTRY_FORK=no keeps the registry scan out of
# gst-plugin-scanner, which has no ASan runtime). The gst-launch-1.0
# scripts run only in the release build: gst-launch-1.0 itself is not
# instrumented and cannot dlopen an ASan plugin without LD_PRELOAD tricks.
# plugins/ is added after tests/, so test for what makes it build.
if(NOT GST_FOUND OR NOT EXISTS ${CMAKE_SOURCE_DIR}/plugins/CMakeLists.txt)
  return()
endif()
pkg_check_modules(GST_CHECK REQUIRED IMPORTED_TARGET gstreamer-check-1.0 gstreamer-video-1.0)

set(VIDI_PLUGIN_TEST_ENV
  "GST_PLUGIN_PATH=${CMAKE_BINARY_DIR}/plugins"
  "VIDI_PLUGIN_DIR=${CMAKE_BINARY_DIR}/plugins"
  "GST_DEBUG=*:1")
if(VIDI_SANITIZE)
  list(APPEND VIDI_PLUGIN_TEST_ENV "GST_REGISTRY_FORK=no"
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/plugin/lsan.supp:print_suppressions=0")
endif()

file(GLOB VIDI_PLUGIN_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/plugin/test_plugin_*.c)
foreach(src ${VIDI_PLUGIN_TESTS})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${CMAKE_SOURCE_DIR}/plugins/gstvidimeta.c)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE vidi PkgConfig::GST_CHECK)
  add_dependencies(${name} gstvidi)
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES TIMEOUT 600
    ENVIRONMENT "${VIDI_PLUGIN_TEST_ENV};GST_REGISTRY=${CMAKE_BINARY_DIR}/plugins/registry-${name}.bin")
endforeach()

if(NOT VIDI_SANITIZE)
  file(GLOB VIDI_PLUGIN_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/plugin/plugin_*.sh)
  foreach(script ${VIDI_PLUGIN_SCRIPTS})
    get_filename_component(name ${script} NAME_WE)
    add_test(NAME ${name} COMMAND bash ${script} ${CMAKE_BINARY_DIR}/plugins WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
    set_tests_properties(${name} PROPERTIES TIMEOUT 300
      ENVIRONMENT "${VIDI_PLUGIN_TEST_ENV};GST_REGISTRY=${CMAKE_BINARY_DIR}/plugins/registry-${name}.bin")
  endforeach()
endif()

# The live measurement of docs/perf.md (a tool, not a test).
add_executable(vidi_live_measure ${CMAKE_CURRENT_SOURCE_DIR}/plugin/live_measure.c)
target_link_libraries(vidi_live_measure PRIVATE PkgConfig::GST_CHECK)
set_target_properties(vidi_live_measure PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
