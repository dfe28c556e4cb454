// Accounts: the login checks and the daily search quota.
#include <argon2.h>
#include <openssl/crypto.h>

#include "storage/accounts_internal.h"
#include "storage/audit_log.h"
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

std::string EncodeQuota(uint32_t day, uint32_t used) {
  return BigEndian64((uint64_t{day} << 32) | used);
}

Result<QuotaCharge> Accounts::ChargeSearch(std::string_view user, int64_t unix_seconds) {
  const uint32_t day = static_cast<uint32_t>(std::max<int64_t>(unix_seconds, 0) / kSecondsPerDay);
  const std::string name(user);
  std::unique_lock<std::mutex> quota_lock(impl_->quota_mu_);
  auto it = impl_->quotas_.find(name);
  if (it == impl_->quotas_.end()) {
    // First charge since opening: read the role and the stored count. mu_ orders this
    // read after any role change in progress (SetRole updates the cached limit under it).
    quota_lock.unlock();
    std::lock_guard<std::mutex> lock(impl_->mu_);
    auto u = impl_->ReadUser(user);
    if (!u.ok()) return u.status();
    std::string value;
    auto rs = impl_->db_->Get(rocksdb::ReadOptions(), impl_->cf_, account_keys::Quota(user), &value);
    if (!rs.ok() && !rs.IsNotFound()) return FromRocks(rs, "reading a search quota");
    Impl::Quota q;
    q.limit = PolicyFor(u->account.role).daily_searches;
    if (rs.ok() && value.size() == 8) {
      q.day = static_cast<uint32_t>(DecodeBigEndian64(value.data()) >> 32);
      q.used = static_cast<uint32_t>(DecodeBigEndian64(value.data()));
    }
    quota_lock.lock();
    it = impl_->quotas_.try_emplace(name, q).first;  // another charge may have won the race
  }
  Impl::Quota& q = it->second;
  if (q.day != day) {
    q.day = day;
    q.used = 0;
  }
  QuotaCharge charge;
  charge.limit = q.limit;
  charge.used = q.used;
  if (q.used >= q.limit) return charge;
  charge.allowed = true;
  charge.used = ++q.used;
  if (impl_->write_behind_) {
    q.dirty = true;
    return charge;
  }
  // Written under quota_mu_ so that two charges cannot store their counts out of order.
  Status s = impl_->Put(account_keys::Quota(user), EncodeQuota(q.day, q.used), /*sync=*/false);
  if (!s.ok()) return s;
  return charge;
}

void Accounts::Impl::AddQuotaWrites(rocksdb::WriteBatch* wb) {
  std::lock_guard<std::mutex> lock(quota_mu_);
  for (auto& [user, q] : quotas_) {
    if (!q.dirty) continue;
    if (!wb->Put(cf_, account_keys::Quota(user), EncodeQuota(q.day, q.used)).ok()) continue;
    q.dirty = false;
  }
}

void Accounts::WriteQuotasWithAudit(AuditLog* log) {
  {
    std::lock_guard<std::mutex> lock(impl_->quota_mu_);
    impl_->write_behind_ = true;
  }
  Impl* impl = impl_.get();
  log->SetCommitHook([impl](rocksdb::WriteBatch* wb) {
    impl->AddQuotaWrites(wb);
    return Status::OK();
  });
}

}  // namespace cp
