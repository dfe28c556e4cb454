# Quick start: `make run` (install, build, demo) and `make test` (build and run every test).
JOBS ?= 2
RELEASE_DIR := build/release
ASAN_DIR := build/asan

.PHONY: all deps build build-asan run test test-release test-asan bench clean format fuzz

all: build

deps:
	@bash scripts/install-deps.sh

$(RELEASE_DIR)/CMakeCache.txt:
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release

# -O1 -g1: ASan's usual optimisation, line tables for its stack traces; compiles in half
# the time of -O2 -g (18.0 s -> 8.5 s for one test file), which keeps `make test` in CI's
# time budget.
$(ASAN_DIR)/CMakeCache.txt:
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
	  -DCP_SANITIZE=ON -DCP_BUILD_BENCH=OFF

build: deps $(RELEASE_DIR)/CMakeCache.txt
	cmake --build $(RELEASE_DIR) -j$(JOBS)

build-asan: deps $(ASAN_DIR)/CMakeCache.txt
	cmake --build $(ASAN_DIR) -j$(JOBS)

run: build
	@bash scripts/demo.sh $(RELEASE_DIR)

# Every test runs twice: an optimised build, and an address+undefined sanitizer build;
# then each libFuzzer target runs for a bounded time (fuzz, below).
test: test-release test-asan fuzz

test-release: build
	cd $(RELEASE_DIR) && ctest --output-on-failure -j$(JOBS)

test-asan: build-asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

# The libFuzzer targets (clang from Debian, ASan + UBSan, asserts on), each run for
# FUZZ_SECONDS on server/fuzz_corpus; a crash, a sanitizer report or a failed response
# check fails the target. New inputs collect in build/fuzz/corpus/<target>, not among the
# seeds. CI runs this as part of `make test`; GCC replays both entry points in the test
# suites (tests/server/frame_fuzz_test.cc, tests/server/request_fuzz_test.cc).
FUZZ_DIR := build/fuzz
FUZZ_SECONDS ?= 30
FUZZERS := frame_fuzzer request_fuzzer

$(FUZZ_DIR)/CMakeCache.txt:
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
	  -DCP_SANITIZE=ON -DCP_BUILD_FUZZERS=ON -DCP_BUILD_TESTS=OFF -DCP_BUILD_BENCH=OFF

fuzz: deps $(FUZZ_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target $(FUZZERS)
	@for f in $(FUZZERS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$f; \
	  echo "== $$f for $(FUZZ_SECONDS) s"; \
	  $(FUZZ_DIR)/server/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    $(FUZZ_DIR)/corpus/$$f server/fuzz_corpus 2> $(FUZZ_DIR)/$$f.log \
	    || { tail -n 60 $(FUZZ_DIR)/$$f.log; echo "$$f failed: $(FUZZ_DIR)/$$f.log"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_DIR)/$$f.log; \
	done

bench: build
	@echo "benchmarks are in $(RELEASE_DIR)/bench; see bench/README.md"

format:
	find storage index query server tools tests bench util -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf build
