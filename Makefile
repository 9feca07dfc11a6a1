# stopgap: the two quick-start commands are `make run` and `make test`.
#   make build        release build in build/ (RelWithDebInfo, g++)
#   make run          install deps, build, start `stopgap serve` on examples/stopgap.yaml
#   make test         format check, unit + integration tests (real services),
#                     ASan/UBSan unit tests and fuzz smoke runs (clang, build-asan/)
#   make bench        benchmarks against peers (long; see docs/benchmarks.md)
#   make soak         long-running soak tests and every fuzz target for 10 M runs
#   make format       clang-format the tree
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build deps deps-services run test test-unit test-integration test-asan format format-check bench soak clean

all: build

deps:
	@scripts/install-deps

deps-services:
	@scripts/install-deps --services

build: deps
	@cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

build-asan: deps
	@CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DSTOPGAP_SANITIZE=ON -DSTOPGAP_FUZZ=ON -DSTOPGAP_BENCH=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)

run: build
	@scripts/run-example

format:
	@git ls-files '*.cc' '*.h' '*.c' | xargs clang-format -i

format-check:
	@git ls-files '*.cc' '*.h' '*.c' | xargs clang-format --dry-run -Werror

test-unit: build
	@ctest --test-dir build -L unit --output-on-failure -j $(JOBS)

test-integration: deps-services build
	@ctest --test-dir build -L integration --output-on-failure

test-asan: build-asan
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan -L 'unit|fuzz' --output-on-failure -j $(JOBS)

test: format-check deps-services build
	@ctest --test-dir build -LE soak --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

bench: deps-services build
	@scripts/bench-all

soak: deps-services build build-asan
	@ctest --test-dir build -L soak --output-on-failure
	@scripts/fuzz-soak

clean:
	rm -rf build build-asan
