// A RequestHandler over a small temporary database, for fuzzing request handling: the
// request fuzz target (request_fuzzer.cc, clang + libFuzzer) and its bounded replay in CI
// (tests/server/request_fuzz_test.cc, GCC, also under ASan/UBSan) share it.
//
// The database holds a few children (one shielded), organisations on 127.0.0.0/8 and one
// logged-in session for each role in kFuzzRoles. A frame is judged as the server judges
// it (server/frame_check.h); a verified request is handed to the handler from 127.0.0.1,
// with a placeholder session token (seed_frames.h) replaced in place by the live session
// of its role (a 64-byte token that starts "fuzz-session-<role>": its padding may be
// mutated); a live token given verbatim (libFuzzer learns them from the handler's
// comparisons) speaks for its role too. A session that the handler no longer knows (a
// fuzzed Logout, an idle timeout) is opened again before the next input, its user's role
// restored and lock lifted first (fuzzed administration and logins may have changed
// both). The handler's clock is the harness's own: it starts at a fixed time and moves one
// TOTP step on for each login, so that every login has a fresh code.
//
// Every response is checked (CheckResponse): it must be one frame that verifies, answer
// the request's id, and never carry a shielded child's hidden fields to a session that
// cannot have broken glass (judged by the role its user has now).
//
// The database lives under /dev/shm when there is one (the audit trail syncs every
// append) and is removed by the destructor; one left by a process that crashed is removed
// by the next harness made (its directory names its process id).
//
// Thread safety: not thread safe; one harness per thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "server/accounts_adapter.h"
#include "server/frame_check.h"
#include "server/handler.h"
#include "storage/child_store.h"

namespace cp::server::fuzz {

class RequestHarness {
 public:
  // Makes the database, accounts and sessions. An error names the step that failed.
  static Result<std::unique_ptr<RequestHarness>> Create();
  ~RequestHarness();
  RequestHarness(const RequestHarness&) = delete;
  RequestHarness& operator=(const RequestHarness&) = delete;

  struct Outcome {
    FrameCheck check;      // the frame's verdict (server/frame_check.h)
    std::string role;      // the role whose session the request carried; "" for none
    std::string response;  // kRequest: the handler's response frame; otherwise empty
    std::string problem;   // empty, or what CheckResponse found wrong
  };
  // Judges `bytes` and, for a verified request, handles it and checks the response.
  Outcome Run(std::span<const uint8_t> bytes);

  // What is wrong with `response` to request `request_id`, made with a session of `role`;
  // empty when nothing is.
  static std::string CheckResponse(const std::string& response, uint64_t request_id,
                                   const std::string& role);

  ChildId shielded_child() const { return shielded_; }
  uint64_t logins() const { return logins_; }
  // The live session token of `role` (one of kFuzzRoles), as the handler knows it.
  const std::string& token(const std::string& role) const { return tokens_.at(role); }

 private:
  RequestHarness() = default;
  Status Populate();
  // Logs `role`'s user in through the handler and keeps the session token.
  Status LogIn(const std::string& role);
  std::string Handle(const std::string& frame);
  // The role `role`'s user has now (a fuzzed SetUserRole changes it, for the open session
  // too): the role a response to that session is judged as.
  std::string RoleNow(const std::string& role) const;

  std::string dir_;
  std::unique_ptr<ChildStore> store_;
  std::unique_ptr<AccountServices> services_;
  std::unique_ptr<UnmeteredQuotaAccounts> accounts_;
  std::unique_ptr<RequestHandler> handler_;
  std::atomic<int64_t> now_ms_{0};
  std::map<std::string, std::string> secrets_;  // role -> base32 TOTP secret
  std::map<std::string, std::string> tokens_;   // role -> live session token
  ChildId shielded_ = 0;
  uint64_t logins_ = 0;
  uint64_t next_id_ = 1u << 30;  // the harness's own requests
};

}  // namespace cp::server::fuzz
