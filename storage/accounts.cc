// Accounts: opening, administration and reads. The login checks are in accounts_login.cc.
#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <set>

#include "storage/accounts_internal.h"
#include "storage/child_store_internal.h"
#include "util/totp.h"

namespace cp {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
constexpr size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
constexpr size_t kMaxPasswordBytes = 1024;

// Stores with an open Accounts object: a second one would race the first's
// read-modify-write of the same users.
std::mutex accounts_open_mu;
std::set<const ChildStore*>& StoresWithAccounts() {
  static std::set<const ChildStore*> stores;
  return stores;
}

bool ValidOrgId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool ValidUserName(std::string_view user) {
  if (user.empty() || user.size() > 64) return false;
  for (char c : user) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '@' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool ValidDisplayName(std::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

Status BadUserName() {
  return Status::InvalidArgument(
      "a user name is 1..64 characters of A-Z, a-z, 0-9, '.', '_', '@', '-'");
}

}  // namespace

const char* AuthErrorName(AuthError error) {
  switch (error) {
    case AuthError::kNone:
      return "accepted";
    case AuthError::kUnregisteredAddress:
      return "unregistered address";
    case AuthError::kBadCredentials:
      return "bad credentials";
    case AuthError::kLocked:
      return "account locked";
    case AuthError::kBadCode:
      return "bad code";
    case AuthError::kStorage:
      return "storage error";
  }
  return "unknown";
}

Accounts::Impl::~Impl() {
  rocksdb::WriteBatch wb;
  AddQuotaWrites(&wb);
  if (wb.Count() > 0) db_->Write(rocksdb::WriteOptions(), &wb).PermitUncheckedError();
  std::lock_guard<std::mutex> lock(accounts_open_mu);
  StoresWithAccounts().erase(store_);
}

Result<std::unique_ptr<Accounts>> Accounts::Open(ChildStore* store, const Options& options) {
  if (store == nullptr) return Status::InvalidArgument("Accounts needs an open store");
  if (options.lockout_after < 1) return Status::InvalidArgument("lockout_after must be >= 1");
  if (options.argon2_memory_kib < 8 || options.argon2_passes < 1) {
    return Status::InvalidArgument("Argon2 needs at least 8 KiB and one pass");
  }
  {
    std::lock_guard<std::mutex> lock(accounts_open_mu);
    if (!StoresWithAccounts().insert(store).second) {
      return Status::FailedPrecondition("an Accounts object is already open on " + store->db_dir());
    }
  }
  auto impl = std::make_unique<Impl>(store, store->h_->db, store->h_->accounts,
                                     store->crypto_.get(), options);
  // Unknown users are verified against this hash so that they cost what a real user does.
  auto dummy = impl->HashPassword("contactpoint: no such user");
  if (!dummy.ok()) return dummy.status();
  impl->dummy_hash_ = std::move(*dummy);
  return std::unique_ptr<Accounts>(new Accounts(std::move(impl)));
}

Accounts::Accounts(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Accounts::~Accounts() = default;

// ---- Impl helpers ----------------------------------------------------------------------

Result<UserRecord> Accounts::Impl::ReadUser(std::string_view user) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), cf_, account_keys::User(user), &value);
  if (s.IsNotFound()) return Status::NotFound("no user '" + std::string(user) + "'");
  if (!s.ok()) return FromRocks(s, "reading a user");
  return DecodeUser(user, value);
}

Result<Organisation> Accounts::Impl::ReadOrganisation(std::string_view id) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), cf_, account_keys::Organisation(id), &value);
  if (s.IsNotFound()) return Status::NotFound("no organisation '" + std::string(id) + "'");
  if (!s.ok()) return FromRocks(s, "reading an organisation");
  return DecodeOrganisation(id, value);
}

Status Accounts::Impl::Put(const std::string& key, const std::string& value, bool sync) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Put(wo, cf_, key, value), "writing an account");
}

Status Accounts::Impl::UpdateUser(std::string_view user,
                                  const std::function<Status(UserRecord*)>& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto u = ReadUser(user);
  if (!u.ok()) return u.status();
  Status s = change(&*u);
  if (s.ok()) s = Put(account_keys::User(user), EncodeUser(*u));
  return s;
}

Status Accounts::Impl::RecordFailure(std::string_view user) {
  return UpdateUser(user, [this](UserRecord* u) {
    ++u->account.failed_attempts;
    if (u->account.failed_attempts >= options_.lockout_after) u->account.locked = true;
    return Status::OK();
  });
}

Status Accounts::Impl::CheckPasswordRules(std::string_view password) const {
  if (password.size() < options_.min_password_bytes) {
    return Status::InvalidArgument("a password needs at least " +
                                   std::to_string(options_.min_password_bytes) + " bytes");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument("a password may have at most " +
                                   std::to_string(kMaxPasswordBytes) + " bytes");
  }
  return Status::OK();
}

Result<std::string> Accounts::Impl::HashPassword(std::string_view password) const {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return Status::IOError("no random bytes for a salt");
  const uint32_t t = options_.argon2_passes, m = options_.argon2_memory_kib, p = 1;
  std::string encoded(argon2_encodedlen(t, m, p, kSaltBytes, kHashBytes, Argon2_id), '\0');
  int rc = argon2id_hash_encoded(t, m, p, password.data(), password.size(), salt, sizeof(salt),
                                 kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Status::IOError(std::string("hashing a password failed: ") + argon2_error_message(rc));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

Status Accounts::Impl::NewSecret(std::string_view user, std::string* secret_base32,
                                 std::string* sealed) const {
  std::string secret(kSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()), kSecretBytes) != 1) {
    return Status::IOError("no random bytes for a TOTP secret");
  }
  *secret_base32 = Base32Encode(secret, /*pad=*/false);
  *sealed = crypto_->Seal(secret, TotpAssociatedData(user));
  OPENSSL_cleanse(secret.data(), secret.size());
  return Status::OK();
}

// ---- Administration --------------------------------------------------------------------

Status Accounts::AddOrganisation(std::string_view id, std::string_view display_name) {
  if (!ValidOrgId(id)) {
    return Status::InvalidArgument("an organisation id is 1..64 characters of a-z, 0-9, '_', '-'");
  }
  if (!ValidDisplayName(display_name)) {
    return Status::InvalidArgument("a display name is 1..200 bytes without control characters");
  }
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto existing = impl_->ReadOrganisation(id);
  if (existing.ok()) return Status::AlreadyExists("organisation '" + std::string(id) + "' exists");
  if (!existing.status().IsNotFound()) return existing.status();
  Organisation org{std::string(id), std::string(display_name), {}};
  return impl_->Put(account_keys::Organisation(id), EncodeOrganisation(org));
}

Status Accounts::AddRange(std::string_view organisation, std::string_view cidr_text) {
  auto cidr = ParseCidr(cidr_text);
  if (!cidr.ok()) return cidr.status();
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto org = impl_->ReadOrganisation(organisation);
  if (!org.ok()) return org.status();
  for (const Cidr& r : org->ranges) {
    if (r == *cidr) return Status::OK();
  }
  if (org->ranges.size() >= 1000) {
    return Status::InvalidArgument("an organisation may register at most 1000 ranges");
  }
  org->ranges.push_back(*cidr);
  return impl_->Put(account_keys::Organisation(organisation), EncodeOrganisation(*org));
}

Status Accounts::RemoveRange(std::string_view organisation, std::string_view cidr_text) {
  auto cidr = ParseCidr(cidr_text);
  if (!cidr.ok()) return cidr.status();
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto org = impl_->ReadOrganisation(organisation);
  if (!org.ok()) return org.status();
  auto it = std::find(org->ranges.begin(), org->ranges.end(), *cidr);
  if (it == org->ranges.end()) {
    return Status::NotFound(cidr->ToString() + " is not registered for '" +
                            std::string(organisation) + "'");
  }
  org->ranges.erase(it);
  return impl_->Put(account_keys::Organisation(organisation), EncodeOrganisation(*org));
}

Result<std::string> Accounts::AddUser(std::string_view user, std::string_view organisation,
                                      Role role, std::string_view password) {
  if (!ValidUserName(user)) return BadUserName();
  if (!RoleFromByte(static_cast<uint8_t>(role))) return Status::InvalidArgument("unknown role");
  Status s = impl_->CheckPasswordRules(password);
  if (!s.ok()) return s;
  // Hashing takes tens of milliseconds: outside the lock.
  auto hash = impl_->HashPassword(password);
  if (!hash.ok()) return hash.status();
  UserRecord u;
  u.account.user = user;
  u.account.organisation = organisation;
  u.account.role = role;
  u.password_hash = std::move(*hash);
  std::string secret;
  s = impl_->NewSecret(user, &secret, &u.sealed_secret);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto org = impl_->ReadOrganisation(organisation);
  if (!org.ok()) return org.status();
  auto existing = impl_->ReadUser(user);
  if (existing.ok()) return Status::AlreadyExists("user '" + std::string(user) + "' exists");
  if (!existing.status().IsNotFound()) return existing.status();
  s = impl_->Put(account_keys::User(user), EncodeUser(u));
  if (!s.ok()) return s;
  return secret;
}

Status Accounts::SetPassword(std::string_view user, std::string_view password) {
  Status s = impl_->CheckPasswordRules(password);
  if (!s.ok()) return s;
  auto hash = impl_->HashPassword(password);
  if (!hash.ok()) return hash.status();
  return impl_->UpdateUser(user, [&](UserRecord* u) {
    u->password_hash = *hash;
    return Status::OK();
  });
}

Result<std::string> Accounts::ResetSecondFactor(std::string_view user) {
  std::string secret, sealed;
  Status s = impl_->NewSecret(user, &secret, &sealed);
  if (s.ok()) {
    s = impl_->UpdateUser(user, [&](UserRecord* u) {
      u->sealed_secret = sealed;
      u->last_code_step = 0;
      return Status::OK();
    });
  }
  if (!s.ok()) return s;
  return secret;
}

Status Accounts::SetRole(std::string_view user, Role role) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  auto u = impl_->ReadUser(user);
  if (!u.ok()) return u.status();
  u->account.role = role;
  Status s = impl_->Put(account_keys::User(user), EncodeUser(*u));
  if (!s.ok()) return s;
  // Under mu_, which ChargeSearch holds while it reads a role into the cache: a cached
  // count takes the new role's limit at once.
  std::lock_guard<std::mutex> quota_lock(impl_->quota_mu_);
  if (auto it = impl_->quotas_.find(std::string(user)); it != impl_->quotas_.end()) {
    it->second.limit = PolicyFor(role).daily_searches;
  }
  return Status::OK();
}

Status Accounts::Unlock(std::string_view user) {
  return impl_->UpdateUser(user, [](UserRecord* u) {
    u->account.locked = false;
    u->account.failed_attempts = 0;
    return Status::OK();
  });
}

Status Accounts::Lock(std::string_view user) {
  return impl_->UpdateUser(user, [](UserRecord* u) {
    u->account.locked = true;
    return Status::OK();
  });
}

// ---- Reads -----------------------------------------------------------------------------

Result<Organisation> Accounts::GetOrganisation(std::string_view id) const {
  return impl_->ReadOrganisation(id);
}

Result<Account> Accounts::GetUser(std::string_view user) const {
  auto u = impl_->ReadUser(user);
  if (!u.ok()) return u.status();
  return u->account;
}

namespace {

// Visits every key of the accounts family that starts with `tag`.
Status ScanTag(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, char tag,
               const std::function<Status(std::string_view, std::string_view)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->Seek(std::string(1, tag)); it->Valid() && it->key()[0] == tag; it->Next()) {
    Status s = visit(std::string_view(it->key().data() + 1, it->key().size() - 1),
                     std::string_view(it->value().data(), it->value().size()));
    if (!s.ok()) return s;
  }
  return FromRocks(it->status(), "listing accounts");
}

}  // namespace

Status Accounts::ListOrganisations(std::vector<Organisation>* out) const {
  return ScanTag(impl_->db_, impl_->cf_, account_keys::kOrganisationTag,
                 [out](std::string_view id, std::string_view value) {
                   auto org = DecodeOrganisation(id, value);
                   if (!org.ok()) return org.status();
                   out->push_back(std::move(*org));
                   return Status::OK();
                 });
}

Status Accounts::ListUsers(std::vector<Account>* out) const {
  return ScanTag(impl_->db_, impl_->cf_, account_keys::kUserTag,
                 [out](std::string_view user, std::string_view value) {
                   auto u = DecodeUser(user, value);
                   if (!u.ok()) return u.status();
                   out->push_back(std::move(u->account));
                   return Status::OK();
                 });
}

}  // namespace cp
