// Accounts: organisations with their registered IP ranges, users with their role, password
// hash and second factor, and the login checks the server runs. Stored in the `accounts`
// column family of a ChildStore (byte layout in docs/key_format.md).
//
// Credentials at rest: passwords as Argon2id hashes (libargon2, PHC string form, so the
// parameters travel with each hash); TOTP secrets sealed with the store's Crypto
// (AES-256-GCM, associated data binding the user name), never in clear.
//
// A login is two calls, in this order, for the same user:
//   1. CheckPassword(user, password, remote address). Checks, in order: the address lies
//      in a registered range of the user's organisation (refused before any credential is
//      looked at), the account is not locked, the password verifies.
//   2. CheckCode(user, code, now). The account is not locked, and the code is the TOTP
//      code of the current 30-second step or of one step either side (clock skew), and
//      its step is later than the last code accepted (a code is accepted once).
// The server must not call CheckCode for a user whose CheckPassword it has not just seen
// succeed on the same connection; the store does not track sessions.
//
// Lockout: every failed password or code adds one to the user's consecutive failures; at
// Options::lockout_after the account is locked until an administrator unlocks it.
// Only an accepted code resets the count (an accepted password does not: otherwise a
// thief who holds the password could guess codes forever). A refused address does not
// count (it checks no credential) and neither does a locked account's refusal.
//
// Errors are typed (AuthError), so that the server can map each to its protocol error.
// Unknown users get exactly the answers a known user with a wrong password gets, after
// the same Argon2 work, so a caller cannot tell whether a name exists — with two
// residuals: an unknown user is "unregistered address" only when the address is in no
// organisation's range at all, so someone inside one organisation's range can learn that
// a name exists in another organisation; and a locked account answers kLocked (the server
// may answer "bad credentials" instead if it prefers). No message carries a password,
// code, secret or hash.
//
// Thread safety: an Accounts object may be shared by many threads. Reads run
// concurrently; updates (including the failure count of a check) are serialised
// internally. At most one Accounts object may be open per ChildStore (Open refuses a
// second); the store must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/roles.h"
#include "util/cidr.h"
#include "util/status.h"

namespace cp {

class AuditLog;

class ChildStore;

struct Organisation {
  std::string id;            // [a-z0-9_-], 1..64 characters: "la_leeds"
  std::string display_name;  // 1..200 bytes of UTF-8 text: "Leeds City Council"
  std::vector<Cidr> ranges;  // registered ranges, in the order added
};

// A user as anyone but the login checks may see one: never a hash or a secret.
struct Account {
  std::string user;          // [A-Za-z0-9._@-], 1..64 characters
  std::string organisation;  // an Organisation id
  Role role = Role::kLocalAuthoritySocialCare;
  uint32_t failed_attempts = 0;  // consecutive failed passwords and codes
  bool locked = false;
};

enum class AuthError : uint8_t {
  kNone = 0,             // accepted
  kUnregisteredAddress,  // the address is outside every range of the user's organisation
  kBadCredentials,       // wrong password, or no such user (indistinguishable)
  kLocked,               // too many failures; an administrator must unlock
  kBadCode,              // wrong, expired, malformed or already used TOTP code
  kStorage,              // the store failed; `status` says how
};
const char* AuthErrorName(AuthError error);

// The answer to a login check.
struct [[nodiscard]] AuthDecision {
  AuthError error = AuthError::kNone;
  Status status;    // OK unless error == kStorage
  Account account;  // filled when accepted
  bool ok() const { return error == AuthError::kNone; }
};

// A search charged against the user's daily quota.
struct [[nodiscard]] QuotaCharge {
  bool allowed =
      false;           // false: over quota (the search was not counted) or the role may not search
  uint32_t used = 0;   // searches counted today, including this one when allowed
  uint32_t limit = 0;  // the role's daily quota
};

class Accounts {
 public:
  struct Options {
    // Argon2id cost. The defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane), about
    // 30 ms a verify here; tests lower them. Existing hashes keep the parameters they
    // were made with.
    uint32_t argon2_memory_kib = 19456;
    uint32_t argon2_passes = 2;
    uint32_t lockout_after = 5;  // consecutive failures that lock an account; >= 1
    size_t min_password_bytes = 12;
  };

  // Binds to an open store. FailedPrecondition when another Accounts object is open on
  // the same store; InvalidArgument for unusable options.
  static Result<std::unique_ptr<Accounts>> Open(ChildStore* store, const Options& options);
  static Result<std::unique_ptr<Accounts>> Open(ChildStore* store) {
    return Open(store, Options());
  }

  Accounts(const Accounts&) = delete;
  Accounts& operator=(const Accounts&) = delete;
  ~Accounts();

  // ---- Administration ----------------------------------------------------------------

  // AlreadyExists for a known id; InvalidArgument for a malformed id or name.
  Status AddOrganisation(std::string_view id, std::string_view display_name);
  // Registers a CIDR range (util/cidr.h syntax). NotFound for an unknown organisation,
  // InvalidArgument for a malformed range; adding a range already registered is OK.
  Status AddRange(std::string_view organisation, std::string_view cidr);
  // Removes a range. NotFound when the organisation or the range is not registered.
  Status RemoveRange(std::string_view organisation, std::string_view cidr);

  // Creates a user and a fresh TOTP secret (160 random bits), and returns the secret in
  // base32 (no padding). This is the only time the secret leaves the store: show it to
  // the user once. AlreadyExists for a known user name (in any organisation), NotFound for
  // an unknown organisation, InvalidArgument for a malformed name or a password shorter
  // than Options::min_password_bytes (or over 1024 bytes).
  Result<std::string> AddUser(std::string_view user, std::string_view organisation, Role role,
                              std::string_view password);
  // Replaces the password (same rules). NotFound for an unknown user. Does not unlock.
  Status SetPassword(std::string_view user, std::string_view password);
  // Replaces the TOTP secret (a lost phone) and returns the new one, as AddUser does.
  Result<std::string> ResetSecondFactor(std::string_view user);
  // Gives the user another role; the password, second factor and lock stay. NotFound for
  // an unknown user. A session opened before keeps the role it was opened with.
  Status SetRole(std::string_view user, Role role);
  // Clears the lock and the failure count. NotFound for an unknown user.
  Status Unlock(std::string_view user);
  // Locks an account (a leaver, a suspected compromise). NotFound for an unknown user.
  Status Lock(std::string_view user);

  // NotFound when unknown.
  Result<Organisation> GetOrganisation(std::string_view id) const;
  Result<Account> GetUser(std::string_view user) const;
  // Every organisation (by id) / every user (by name).
  Status ListOrganisations(std::vector<Organisation>* out) const;
  Status ListUsers(std::vector<Account>* out) const;

  // ---- Login -------------------------------------------------------------------------

  // Step 1 of a login (see the top of this file for the order of checks).
  AuthDecision CheckPassword(std::string_view user, std::string_view password,
                             const IpAddress& remote);
  // Step 2: `code` is the 6 digits the user typed, `unix_seconds` the server's clock.
  AuthDecision CheckCode(std::string_view user, std::string_view code, int64_t unix_seconds);

  // ---- Quotas ------------------------------------------------------------------------

  // Counts one search against the user's quota for the UTC day of `unix_seconds` and says
  // whether it is allowed. Counts persist (unsynced: a crash may forget the last few).
  // NotFound for an unknown user. Counts are kept in memory once read: a charge takes
  // one short lock, and with WriteQuotasWithAudit no storage write at all.
  Result<QuotaCharge> ChargeSearch(std::string_view user, int64_t unix_seconds);

  // From now on the counts changed since the last audit batch are written in each batch
  // `log` commits (AuditLog::SetCommitHook), instead of one write per charge: a search
  // then costs the server no write of its own, and its count is as durable as the audit
  // entry that records it. Counts still unwritten when the Accounts object closes are
  // written then. `log` must be on the same store and closed before this object.
  void WriteQuotasWithAudit(AuditLog* log);

 private:
  class Impl;
  explicit Accounts(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cp
