// libFuzzer target for request handling: each input is a frame, judged as the server
// judges it and, when it is a verified request, handled by a RequestHandler over a small
// temporary database with live sessions of five roles (request_harness.h; a seed's
// placeholder session token becomes a live one). Every response must verify, answer the
// request's id and keep shielded children's hidden fields out; anything else aborts, as
// does a crash or a sanitizer report. CI replays the harness with GCC under ASan/UBSan
// (tests/server/request_fuzz_test.cc). Built with clang and run for a bounded time by
// `make fuzz` (which `make test` runs); by hand:
//
//   cd build/fuzz
//   server/fuzz/request_fuzzer -max_total_time=60 corpus/request_fuzzer ../../server/fuzz_corpus
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "server/fuzz/request_harness.h"

namespace {

std::unique_ptr<cp::server::fuzz::RequestHarness>& Harness() {
  static std::unique_ptr<cp::server::fuzz::RequestHarness> harness;
  return harness;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto h = cp::server::fuzz::RequestHarness::Create();
  if (!h.ok()) {
    std::fprintf(stderr, "request_fuzzer: %s\n", h.status().ToString().c_str());
    std::abort();
  }
  Harness() = std::move(*h);
  std::atexit([] { Harness().reset(); });  // removes the temporary database
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto outcome = Harness()->Run(std::span<const uint8_t>(data, size));
  if (!outcome.problem.empty()) {
    std::fprintf(stderr, "request_fuzzer: %s (role '%s')\n", outcome.problem.c_str(),
                 outcome.role.c_str());
    std::abort();
  }
  return 0;
}
