// A contactpointd in the test process: a small database with the real accounts store and
// audit log (storage/accounts.h, storage/audit_log.h, through server/accounts_adapter.h),
// TLS with a certificate made by the `openssl` command, listening on an ephemeral
// loopback port. The server's clock is the system's plus an offset that each login moves
// on by one TOTP step, so that every login has a fresh code.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "index/index_policy.h"
#include "server/accounts_adapter.h"
#include "server/client.h"
#include "server/handler.h"
#include "server/server.h"

namespace cp::server::testing {

// The real audit log, plus a copy of every event for the tests to read, and a switch that
// makes appends fail.
class RecordingAudit : public AuditPort {
 public:
  explicit RecordingAudit(AuditPort* real) : real_(real) {}
  Status Append(const AuditEvent& e) override {
    if (hook_) hook_(e);
    std::lock_guard lock(mu_);
    if (fail_) return Status::IOError("audit disk full");
    Status s = real_->Append(e);
    if (s.ok()) events_.push_back(e);
    return s;
  }
  // As Append, through the real log's committer (the path the server's searches take).
  void AppendAsync(const AuditEvent& e, std::function<void(Status)> done) override {
    if (hook_) hook_(e);
    {
      std::lock_guard lock(mu_);
      if (fail_) {
        done(Status::IOError("audit disk full"));
        return;
      }
    }
    real_->AppendAsync(e, [this, e, done = std::move(done)](Status s) {
      if (s.ok()) {
        std::lock_guard lock(mu_);
        events_.push_back(e);
      }
      done(s);
    });
  }
  void Flush() override { real_->Flush(); }
  // Called before each append, outside the lock (a test may block in it). Set it only
  // while no request is in flight.
  void set_hook(std::function<void(const AuditEvent&)> hook) { hook_ = std::move(hook); }
  void set_fail(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
  }
  std::vector<AuditEvent> All() {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<AuditEvent> For(const std::string& user) {
    std::lock_guard lock(mu_);
    std::vector<AuditEvent> out;
    for (const auto& e : events_) {
      if (e.user == user) out.push_back(e);
    }
    return out;
  }

 private:
  AuditPort* real_;
  std::function<void(const AuditEvent&)> hook_;
  std::mutex mu_;
  bool fail_ = false;
  std::vector<AuditEvent> events_;
};

// One server per test suite; tests use their own users so that rate limits and audit
// entries do not mix.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // A running server over the shared store, handler and accounts.
  struct Running {
    std::unique_ptr<RequestHandler> handler;
    std::unique_ptr<Server> server;
    std::thread thread;
    Status result;
    ~Running();
  };
  static std::unique_ptr<Running> StartServer(ServerConfig config);
  static ServerConfig BaseConfig();

  // A user of `role` in organisation "la_leeds" (registered: 127.0.0.0/8), or with
  // registered = false in "la_elsewhere" (10.9.0.0/16 only).
  // `role` is a storage/roles.h name: "la_social_care", "voluntary", ...
  static void AddUser(const std::string& name, const std::string& role, bool registered = true);
  // A user of `role` in organisation `organisation`, which must exist.
  static void AddUserIn(const std::string& name, const std::string& role,
                        const std::string& organisation);
  // Remembers a secret handed out by the server (CreateUser), so that Code works.
  static void KeepSecret(const std::string& name, const std::string& secret) {
    (*secrets_)[name] = secret;
  }
  static std::string Password(const std::string& name) { return "correct horse " + name; }
  // Moves the server's clock on by one TOTP step and returns the user's code for it.
  static std::string Code(const std::string& name);
  static std::unique_ptr<Client> Connect(uint16_t port = 0, bool plain = false);
  // A client logged in as `name` (AddUser first).
  static std::unique_ptr<Client> LoggedIn(const std::string& name);

  static ChildId olivia_, lily_;  // lily is shielded
  static std::string dir_, cert_, key_;
  static ChildStore* store_;
  static AccountServices* services_;
  static RecordingAudit* audit_;
  static std::map<std::string, std::string>* secrets_;
  static std::atomic<int64_t> clock_offset_ms_;
  static Running* main_;
};

// The error code of a response, None when it is not an Error.
protocol::ErrorCode CodeOf(const Result<Response>& r);

}  // namespace cp::server::testing
