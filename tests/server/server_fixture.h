// A contactpointd in the test process: a small database, TLS with a certificate made by
// the `openssl` command, accounts and audit trail held in memory (FakeAccounts,
// FakeAudit), listening on an ephemeral loopback port.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "index/index_policy.h"
#include "server/client.h"
#include "server/handler.h"
#include "server/server.h"

namespace cp::server::testing {

inline constexpr uint32_t kAllRecordOps =
    static_cast<uint32_t>(Operation::kSearch) | static_cast<uint32_t>(Operation::kGetRecord);

// Users, passwords, a fixed TOTP code per user, registered addresses per user, and a
// lockout after three failures. Counts password checks so tests can show the address is
// checked first.
class FakeAccounts : public AccountsPort {
 public:
  struct User {
    std::string password;
    std::string code;
    std::set<std::string> addresses;
    UserProfile profile;
    int failures = 0;
  };
  void Add(const std::string& name, User u) {
    std::lock_guard lock(mu_);
    u.profile.user = name;
    users_[name] = std::move(u);
  }
  int password_checks(const std::string& name) {
    std::lock_guard lock(mu_);
    return checks_[name];
  }

  Result<bool> AddressRegistered(const std::string& user, const std::string& address) override {
    std::lock_guard lock(mu_);
    auto it = users_.find(user);
    if (it == users_.end()) return Status::NotFound("no user");
    return it->second.addresses.count(address) > 0;
  }
  Result<CredentialCheck> CheckPassword(const std::string& user, const std::string& password) override {
    std::lock_guard lock(mu_);
    ++checks_[user];
    return Check(user, [&](const User& u) { return u.password == password; });
  }
  Result<CredentialCheck> CheckSecondFactor(const std::string& user, const std::string& code,
                                            int64_t) override {
    std::lock_guard lock(mu_);
    return Check(user, [&](const User& u) { return u.code == code; });
  }
  Result<UserProfile> Profile(const std::string& user) override {
    std::lock_guard lock(mu_);
    auto it = users_.find(user);
    if (it == users_.end()) return Status::NotFound("no user");
    return it->second.profile;
  }

 private:
  template <typename F>
  CredentialCheck Check(const std::string& user, F right) {
    auto it = users_.find(user);
    if (it == users_.end()) return CredentialCheck::kBad;
    User& u = it->second;
    if (u.failures >= 3) return CredentialCheck::kLocked;
    if (right(u)) {
      u.failures = 0;
      return CredentialCheck::kOk;
    }
    return ++u.failures >= 3 ? CredentialCheck::kLocked : CredentialCheck::kBad;
  }
  std::mutex mu_;
  std::map<std::string, User> users_;
  std::map<std::string, int> checks_;
};

class FakeAudit : public AuditPort {
 public:
  Status Append(const AuditEvent& e) override {
    std::lock_guard lock(mu_);
    if (fail_) return Status::IOError("audit disk full");
    events_.push_back(e);
    return Status::OK();
  }
  void set_fail(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
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

  // A running server over the shared store, handler and fakes.
  struct Running {
    std::unique_ptr<RequestHandler> handler;
    std::unique_ptr<Server> server;
    std::thread thread;
    Status result;
    ~Running();
  };
  static std::unique_ptr<Running> StartServer(ServerConfig config);
  static ServerConfig BaseConfig();

  // A user of `role` allowed from 127.0.0.1, password "pw-<name>", code "123456".
  static void AddUser(const std::string& name, uint32_t operations, uint32_t quota = 1000,
                      bool registered = true, size_t cap = 20);
  static std::unique_ptr<Client> Connect(uint16_t port = 0, bool plain = false);
  // A client logged in as `name` (AddUser first).
  static std::unique_ptr<Client> LoggedIn(const std::string& name);

  static ChildId olivia_, lily_;  // lily is shielded
  static std::string dir_, cert_, key_;
  static ChildStore* store_;
  static FakeAccounts* accounts_;
  static FakeAudit* audit_;
  static Running* main_;
};

// The error code of a response, None when it is not an Error.
protocol::ErrorCode CodeOf(const Result<Response>& r);

}  // namespace cp::server::testing
