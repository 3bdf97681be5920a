# The README's two commands. Each does the whole set-up on a fresh Debian 12
# machine: install missing packages, configure, build into build/, run.
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-san
CMAKE_FLAGS ?=

.PHONY: all deps build build-san demo test test-fast clean

all: build

deps:
	@bash scripts/deps.sh

# The release build also compiles the real CUDA backend when nvcc is there
# (sm_80/86/89/90, warnings as errors); it needs no GPU to build or to run
# its tests (docs/cuda.md). CUDA_FLAGS= turns it off.
NVCC ?= $(firstword $(wildcard /usr/local/cuda/bin/nvcc) $(shell command -v nvcc 2>/dev/null))
CUDA_FLAGS ?= $(if $(NVCC),-DVIDI_CUDA=ON -DCMAKE_CUDA_COMPILER=$(NVCC),)

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CUDA_FLAGS) $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@if [ -n "$(CUDA_FLAGS)" ] && ! grep -q '^VIDI_CUDA:BOOL=ON' $(BUILD)/CMakeCache.txt; then \
		cmake -S . -B $(BUILD) $(CUDA_FLAGS) >/dev/null; fi
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory >/dev/null || cmake --build $(BUILD) -j1

# ASan + UBSan build of everything, compiled with clang so it also carries
# the libFuzzer targets.
$(SAN_BUILD)/CMakeCache.txt: | deps
	@CC=clang cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DVIDI_SANITIZE=ON -DVIDI_FUZZ=ON $(CMAKE_FLAGS) >/dev/null

build-san: deps $(SAN_BUILD)/CMakeCache.txt
	@cmake --build $(SAN_BUILD) -j $(JOBS) -- --no-print-directory >/dev/null || cmake --build $(SAN_BUILD) -j1

demo: build
	@bash scripts/demo.sh $(BUILD)/vidi

test: build build-san
	@echo "== tests (release build)"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@echo "== tests (ASan + UBSan build, fuzzers)"
	@cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
