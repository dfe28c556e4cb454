// What the server needs from the accounts store and the audit trail, stated as two small
// interfaces so that request handling does not depend on how accounts are stored.
// server/accounts_adapter.h implements them over storage/accounts.h and
// storage/audit_log.h; tests may implement them in memory.
//
// Thread safety: implementations must be safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "storage/record.h"
#include "storage/roles.h"
#include "util/status.h"

namespace cp::server {

// Operations a role may be permitted: cp::Operation, storage/roles.h.
using cp::Operation;

struct UserProfile {
  std::string user;
  std::string organisation;
  std::string role;
  uint32_t operations = 0;  // a set of Operation bits
  size_t result_cap = 20;   // 1..50

  bool May(Operation op) const { return (operations & static_cast<uint32_t>(op)) != 0; }
};

// An organisation as administration reports it.
struct OrganisationInfo {
  std::string id;
  std::string display_name;
  std::vector<std::string> ranges;  // CIDR text, in the order added
};

// A user as administration reports it: never a hash or a secret.
struct UserInfo {
  std::string user;
  std::string organisation;
  std::string role;  // storage/roles.h spelling: "police", "system_admin", ...
  bool locked = false;
};

enum class CredentialCheck {
  kOk,
  kUnregisteredAddress,  // the address is outside every range of the user's organisation
  kBad,                  // unknown user, wrong password, wrong or reused code
  kLocked,               // the account is locked (now, or by this failure)
};

class AccountsPort {
 public:
  virtual ~AccountsPort() = default;
  // Login step 1, checked in this order: `address` (an IPv4 or IPv6 literal) lies in a
  // registered range of the user's organisation — before any credential is looked at —,
  // the account is not locked, the password verifies (a failure counts towards lockout).
  // Errors are storage failures.
  virtual Result<CredentialCheck> CheckPassword(const std::string& user,
                                                const std::string& password,
                                                const std::string& address) = 0;
  // Verifies a TOTP code at `unix_seconds` (a failure counts towards lockout).
  virtual Result<CredentialCheck> CheckSecondFactor(const std::string& user,
                                                    const std::string& code,
                                                    int64_t unix_seconds) = 0;
  // The user's organisation and role. NotFound for an unknown user.
  virtual Result<UserProfile> Profile(const std::string& user) = 0;
  // Counts one search against the user's daily quota (UTC day of `unix_seconds`); false
  // when the quota is used up (and nothing was counted).
  virtual Result<bool> ChargeSearch(const std::string& user, int64_t unix_seconds) = 0;

  // Whether `address` (an IP literal) lies in a registered range of any organisation.
  virtual Result<bool> AddressRegistered(const std::string& address) = 0;

  // ---- Administration ----------------------------------------------------------------
  // Each either changes nothing and fails, or makes its whole change. Errors:
  // InvalidArgument (a malformed id, name, CIDR or password, an unknown role: the message
  // names the field, never a password), AlreadyExists, NotFound (an unknown organisation
  // or user); anything else is a storage failure.

  // A new organisation with its ranges (validated before anything is written).
  virtual Result<OrganisationInfo> CreateOrganisation(const std::string& id,
                                                      const std::string& display_name,
                                                      const std::vector<std::string>& ranges) = 0;
  // Registers one more range; the organisation as it is afterwards.
  virtual Result<OrganisationInfo> AddRange(const std::string& organisation,
                                            const std::string& cidr) = 0;
  // A new user; returns its TOTP secret (base32), which nothing stores in clear.
  virtual Result<std::string> CreateUser(const std::string& user, const std::string& organisation,
                                         const std::string& role, const std::string& password) = 0;
  virtual Result<UserInfo> SetRole(const std::string& user, const std::string& role) = 0;
  // Clears the lock and the failure count.
  virtual Result<UserInfo> Unlock(const std::string& user) = 0;
  // Sets the lock: no login until Unlock.
  virtual Result<UserInfo> Lock(const std::string& user) = 0;
};

// One entry of the audit trail as the server states it.
struct AuditEvent {
  int64_t unix_ms = 0;
  std::string user;  // empty before login succeeded
  std::string organisation;
  std::string address;   // the client's IP address
  std::string action;    // "search", "get", "shield", "unshield", "break_glass", "login", ...
  std::string outcome;   // "ok", "too_many_matches", "rate_limited", "not_authorised", ...
  std::string reason;    // the stated reason
  std::string criteria;  // canonical text of the criteria (searches only)
  std::vector<ChildId> children;  // returned or touched
  bool investigation = false;     // break-glass: flagged for review
};

class AuditPort {
 public:
  virtual ~AuditPort() = default;
  // Appends durably. The server sends no data for the event unless this returned OK.
  virtual Status Append(const AuditEvent& event) = 0;
  // Appends without blocking the caller: `done` gets what Append would have returned,
  // once the event is durable, on whatever thread finished it (so it must be quick). This
  // default appends synchronously and calls `done` before returning.
  virtual void AppendAsync(const AuditEvent& event, std::function<void(Status)> done) {
    done(Append(event));
  }
  // Waits until every event appended before the call has been written and reported.
  virtual void Flush() {}
};

}  // namespace cp::server
