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

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
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
