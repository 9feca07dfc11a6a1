# stopgap: the two quick-start commands are `make run` and `make test`.
#   make build        release build in build/ (RelWithDebInfo, g++)
#   make run          install deps, build, start `stopgap serve` on examples/stopgap.yaml
#   make test         format check, unit + integration tests (real services),
#                     ASan/UBSan unit tests and fuzz smoke runs (clang, build-asan/)
#   make bench        benchmarks against peers (long; see docs/benchmarks.md)
#   make soak         long-running soak tests and every fuzz target for 10 M runs
#                     (build-fuzz/: clang -O2, ASan+UBSan; scripts/fuzz-soak)
#   make format       clang-format the tree
#   make deb          the Debian packages (stopgap, libstopgap-guru0, -dev) in build-deb/,
#                     built from a copy of the tracked files (the tree stays clean), lintian-checked
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build build-asan build-fuzz deps deps-services run test test-unit test-integration test-asan format format-check bench soak clean deb

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

# The soak fuzz build: clang, -O2, ASan+UBSan, every library coverage-instrumented
# (fuzz targets only; scripts/fuzz-soak runs them).
build-fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSTOPGAP_SANITIZE=ON -DSTOPGAP_FUZZ=ON -DSTOPGAP_FUZZ_COVERAGE=ON -DSTOPGAP_BENCH=OFF \
	  -DSTOPGAP_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_all

run: build
	@scripts/run-example

format:
	@git ls-files '*.cc' '*.h' '*.c' | xargs clang-format -i

format-check:
	@git ls-files '*.cc' '*.h' '*.c' | xargs clang-format --dry-run -Werror

test-unit: build
	@ctest --test-dir build -L unit --output-on-failure -j $(JOBS)

# Also the install test (label "install": debootstrap, dpkg -i, upgrade, purge; slow).
test-integration: deps-services build
	@ctest --test-dir build -L 'integration|install' --output-on-failure

test-asan: build-asan
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir build-asan -L 'unit|fuzz' --output-on-failure -j $(JOBS)

test: format-check deps-services build
	@ctest --test-dir build -LE 'soak|install' --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

bench: deps-services build
	@scripts/bench-all

soak: deps-services build build-fuzz
	@ctest --test-dir build -L soak --output-on-failure
	@scripts/fuzz-soak

# The tracked files (committed or not) are copied to build-deb/src with a VERSION
# file and the version in debian/changelog; dpkg-buildpackage writes the .debs
# next to it, in build-deb/. Nothing is written in the source tree.
DEB_DIR ?= build-deb
deb: deps
	@rm -rf $(DEB_DIR)/src && mkdir -p $(DEB_DIR)/src
	@git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - --no-recursion | \
	  tar -xf - -C $(DEB_DIR)/src
	@v=$$(scripts/version) && echo "$$v" > $(DEB_DIR)/src/VERSION && \
	  sed -i "1s/^stopgap ([^)]*)/stopgap ($$v)/" $(DEB_DIR)/src/debian/changelog && \
	  rm -f $(DEB_DIR)/*.deb $(DEB_DIR)/*.changes $(DEB_DIR)/*.buildinfo && echo "make deb: stopgap $$v"
	@cd $(DEB_DIR)/src && STOPGAP_CCACHE=$$(command -v ccache >/dev/null && echo 1) \
	  CCACHE_DIR=$${CCACHE_DIR:-$$HOME/.cache/ccache} CCACHE_BASEDIR=$(CURDIR) \
	  DEB_BUILD_OPTIONS="parallel=$(JOBS) $${DEB_BUILD_OPTIONS:-}" \
	  dpkg-buildpackage -us -uc -b >../build.log 2>&1 || { tail -40 ../build.log; exit 1; }
	@cd $(DEB_DIR) && ls -1 *.deb && lintian --fail-on error,warning *.changes && echo "make deb: lintian clean"

clean:
	rm -rf build build-asan build-deb
