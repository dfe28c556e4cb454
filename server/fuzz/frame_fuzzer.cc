// libFuzzer target for frame decoding: the length prefix, the verifier, and every field a
// request handler may read from a verified envelope (server/frame_check.h, which CI also
// replays with GCC under ASan/UBSan: tests/server/frame_fuzz_test.cc). Built with clang
// and run for a bounded time by `make fuzz`, which `make test` (CI) runs; by hand:
//
//   make fuzz FUZZ_SECONDS=300     # builds build/fuzz/server/fuzz/frame_fuzzer, runs it
//   cd build/fuzz
//   server/fuzz/frame_fuzzer -max_total_time=60 corpus/frame_fuzzer ../../server/fuzz_corpus
//
// New inputs go to the first directory, not to the seeds. A crash, a sanitizer report or
// a read outside the input is a bug in verification.
#include <cstddef>
#include <cstdint>
#include <span>

#include "server/frame_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const cp::server::FrameCheck check = cp::server::CheckRequestFrame(
      std::span<const uint8_t>(data, size), cp::server::kDefaultMaxRequestBytes);
  volatile size_t sink = check.touched;
  (void)sink;
  return 0;
}
