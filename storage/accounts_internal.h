// Internals shared by accounts.cc and accounts_login.cc: the stored forms of organisations
// and users (docs/key_format.md, "accounts") and the state behind an Accounts object.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/accounts.h"
#include "storage/crypto.h"

namespace cp {

// A user as stored: the public Account plus the credentials.
struct UserRecord {
  Account account;
  uint64_t last_code_step = 0;  // the step of the last accepted TOTP code; 0: none yet
  std::string password_hash;    // Argon2id, PHC string form
  std::string sealed_secret;    // the TOTP secret sealed under TotpAssociatedData(user)
};

namespace account_keys {
std::string Organisation(std::string_view id);
std::string User(std::string_view user);
std::string Quota(std::string_view user);
inline constexpr char kOrganisationTag = 'o';
inline constexpr char kUserTag = 'u';
inline constexpr char kQuotaTag = 'q';
}  // namespace account_keys

std::string EncodeOrganisation(const Organisation& org);
// `id` comes from the key. Corruption for bytes that do not decode.
Result<Organisation> DecodeOrganisation(std::string_view id, std::string_view value);
std::string EncodeUser(const UserRecord& user);
Result<UserRecord> DecodeUser(std::string_view user, std::string_view value);

std::string TotpAssociatedData(std::string_view user);

class Accounts::Impl {
 public:
  Impl(ChildStore* store, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const Crypto* crypto,
       const Options& options)
      : store_(store), db_(db), cf_(cf), crypto_(crypto), options_(options) {}
  ~Impl();

  // Reads a user or organisation; NotFound when absent.
  Result<UserRecord> ReadUser(std::string_view user) const;
  Result<Organisation> ReadOrganisation(std::string_view id) const;
  // Writes one key, synced. Callers hold mu_ for read-modify-write.
  Status Put(const std::string& key, const std::string& value, bool sync = true);
  // Applies `change` to the stored user under mu_ and writes it back.
  Status UpdateUser(std::string_view user, const std::function<Status(UserRecord*)>& change);
  // Records one failed password or code; locks the account at the threshold.
  Status RecordFailure(std::string_view user);
  // An Argon2id hash of `password` with a fresh salt under the configured cost.
  Result<std::string> HashPassword(std::string_view password) const;
  Status CheckPasswordRules(std::string_view password) const;
  // A fresh TOTP secret: *secret_base32 to show once, *sealed to store.
  Status NewSecret(std::string_view user, std::string* secret_base32, std::string* sealed) const;

  ChildStore* store_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const Crypto* crypto_;
  Options options_;
  std::string dummy_hash_;  // verified against for unknown users: same cost as a real one
  std::mutex mu_;

  // Search quotas in memory, by user: read from storage at a user's first charge.
  struct Quota {
    uint32_t day = 0;  // days since the epoch (UTC) that `used` counts
    uint32_t used = 0;
    uint32_t limit = 0;  // the role's daily quota
    bool dirty = false;  // changed since last written
  };
  // Adds a Put of every changed count to `wb` and marks them written.
  void AddQuotaWrites(rocksdb::WriteBatch* wb);
  std::mutex quota_mu_;  // guards quotas_ and write_behind_; taken after mu_, never before
  std::unordered_map<std::string, Quota> quotas_;
  bool write_behind_ = false;
};

std::string EncodeQuota(uint32_t day, uint32_t used);

}  // namespace cp
