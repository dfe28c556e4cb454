// The fuzz targets' seed corpus (server/fuzz_corpus): one valid request frame of every
// message type a client may send, and one Error frame (a response sent back). The corpus
// files are exactly these frames; tests/server/request_fuzz_test.cc checks that they are
// and rewrites them when run with CP_WRITE_FUZZ_CORPUS=1:
//
//   CP_WRITE_FUZZ_CORPUS=1 build/release/tests/server_tests --gtest_filter='RequestFuzz*Corpus*'
//
// A request that needs a session carries a placeholder token (SessionPlaceholder) for the
// role that may make it; the request harness (request_harness.h) puts a live session of
// that role in its place, so that mutations of a seed reach past the session check.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cp::server::fuzz {

// The roles the request harness logs in, one session each (storage/roles.h names).
inline constexpr std::string_view kFuzzRoles[] = {"police", "shielding_manager", "child_protection",
                                                  "feed_supplier", "system_admin"};

// "fuzz-session-<role>" padded with '.' to 64 characters: a real token's length (64 hex
// digits, server/sessions.h), so that the harness can replace it in place.
std::string SessionPlaceholder(std::string_view role);

struct SeedFrame {
  std::string name;   // the corpus file name: the message type in snake_case
  std::string frame;  // header and body
};

// In a fixed order; the same bytes every time (FlatBufferBuilder is deterministic).
std::vector<SeedFrame> SeedFrames();

}  // namespace cp::server::fuzz
