// Accounts: the login checks and the daily search quota.
#include <argon2.h>
#include <openssl/crypto.h>

#include "storage/accounts_internal.h"
#include "storage/child_store_internal.h"
#include "util/coding.h"
#include "util/totp.h"

namespace cp {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

AuthDecision Refuse(AuthError error) {
  AuthDecision d;
  d.error = error;
  return d;
}

AuthDecision StorageFailure(Status s) {
  AuthDecision d;
  d.error = AuthError::kStorage;
  d.status = std::move(s);
  return d;
}

AuthDecision Accept(Account account) {
  AuthDecision d;
  d.account = std::move(account);
  return d;
}

bool InAnyRange(const std::vector<Cidr>& ranges, const IpAddress& remote) {
  for (const Cidr& r : ranges) {
    if (r.Contains(remote)) return true;
  }
  return false;
}

bool SixDigits(std::string_view code) {
  if (code.size() != static_cast<size_t>(kTotpDigits)) return false;
  for (char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

AuthDecision Accounts::CheckPassword(std::string_view user, std::string_view password,
                                     const IpAddress& remote) {
  auto u = impl_->ReadUser(user);
  if (!u.ok() && !u.status().IsNotFound()) return StorageFailure(u.status());
  if (!u.ok()) {
    // Unknown user: "unregistered" only when no organisation registers the address, so an
    // outsider learns nothing about names; otherwise the same Argon2 work as a real user.
    std::vector<Organisation> orgs;
    Status s = ListOrganisations(&orgs);
    if (!s.ok()) return StorageFailure(s);
    bool registered = false;
    for (const auto& org : orgs) registered = registered || InAnyRange(org.ranges, remote);
    if (!registered) return Refuse(AuthError::kUnregisteredAddress);
    argon2id_verify(impl_->dummy_hash_.c_str(), password.data(), password.size());
    return Refuse(AuthError::kBadCredentials);
  }
  auto org = impl_->ReadOrganisation(u->account.organisation);
  if (!org.ok()) return StorageFailure(org.status());
  if (!InAnyRange(org->ranges, remote)) return Refuse(AuthError::kUnregisteredAddress);
  if (u->account.locked) return Refuse(AuthError::kLocked);
  // argon2id_verify compares the hashes in constant time.
  int rc = argon2id_verify(u->password_hash.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return Accept(u->account);
  if (rc != ARGON2_VERIFY_MISMATCH) {
    return StorageFailure(Status::Corruption("the stored password hash of '" + std::string(user) +
                                             "' is unusable: " + argon2_error_message(rc)));
  }
  Status s = impl_->RecordFailure(user);
  if (!s.ok()) return StorageFailure(s);
  return Refuse(AuthError::kBadCredentials);
}

AuthDecision Accounts::CheckCode(std::string_view user, std::string_view code,
                                 int64_t unix_seconds) {
  auto u = impl_->ReadUser(user);
  if (!u.ok() && u.status().IsNotFound()) return Refuse(AuthError::kBadCode);
  if (!u.ok()) return StorageFailure(u.status());
  if (u->account.locked) return Refuse(AuthError::kLocked);
  auto secret = impl_->crypto_->Open(u->sealed_secret, TotpAssociatedData(user));
  if (!secret.ok()) return StorageFailure(secret.status());
  // Every candidate step is computed and compared, whatever the input, so the time taken
  // does not depend on which step (if any) matched.
  const uint64_t now = TotpStep(unix_seconds);
  uint64_t matched = 0;
  const bool well_formed = SixDigits(code);
  const std::string typed = well_formed ? std::string(code) : std::string(kTotpDigits, 'x');
  for (uint64_t step = now == 0 ? 0 : now - 1; step <= now + 1; ++step) {
    std::string expected = TotpCodeAt(*secret, step);
    bool equal = CRYPTO_memcmp(expected.data(), typed.data(), kTotpDigits) == 0;
    if (equal && step > u->last_code_step && step > matched) matched = step;
  }
  OPENSSL_cleanse(secret->data(), secret->size());
  if (matched == 0) {
    Status s = impl_->RecordFailure(user);
    if (!s.ok()) return StorageFailure(s);
    return Refuse(AuthError::kBadCode);
  }
  // Under the lock, so that the same code presented twice at once is accepted once.
  bool reused = false;
  Status s = impl_->UpdateUser(user, [&](UserRecord* fresh) {
    if (fresh->last_code_step >= matched || fresh->account.locked) {
      reused = true;
      return Status::OK();
    }
    fresh->last_code_step = matched;
    fresh->account.failed_attempts = 0;
    return Status::OK();
  });
  if (!s.ok()) return StorageFailure(s);
  if (reused) return Refuse(AuthError::kBadCode);
  u->account.failed_attempts = 0;
  return Accept(u->account);
}

Result<QuotaCharge> Accounts::ChargeSearch(std::string_view user, int64_t unix_seconds) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto u = impl_->ReadUser(user);
  if (!u.ok()) return u.status();
  QuotaCharge charge;
  charge.limit = PolicyFor(u->account.role).daily_searches;
  const uint32_t day = static_cast<uint32_t>(std::max<int64_t>(unix_seconds, 0) / kSecondsPerDay);
  std::string key = account_keys::Quota(user), value;
  auto rs = impl_->db_->Get(rocksdb::ReadOptions(), impl_->cf_, key, &value);
  if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs, "reading a search quota");
  uint32_t stored_day = 0, used = 0;
  if (rs.ok() && value.size() == 8) {
    stored_day = static_cast<uint32_t>(DecodeBigEndian64(value.data()) >> 32);
    used = static_cast<uint32_t>(DecodeBigEndian64(value.data()));
  }
  if (stored_day != day) used = 0;
  charge.used = used;
  if (used >= charge.limit) return charge;
  charge.allowed = true;
  charge.used = used + 1;
  Status s = impl_->Put(key, BigEndian64((uint64_t{day} << 32) | charge.used), /*sync=*/false);
  if (!s.ok()) return s;
  return charge;
}

}  // namespace cp
