#include "server/accounts_adapter.h"

#include <chrono>
#include <map>

#include "server/metrics.h"
#include "storage/accounts.h"

namespace cp::server {

namespace {

Result<CredentialCheck> FromDecision(const AuthDecision& d) {
  switch (d.error) {
    case AuthError::kNone:
      return CredentialCheck::kOk;
    case AuthError::kUnregisteredAddress:
      return CredentialCheck::kUnregisteredAddress;
    case AuthError::kBadCredentials:
      return CredentialCheck::kBad;
    case AuthError::kBadCode:
      return CredentialCheck::kBad;
    case AuthError::kLocked:
      return CredentialCheck::kLocked;
    case AuthError::kStorage:
      break;
  }
  return d.status.ok() ? Status::IOError("the accounts store failed") : d.status;
}

AuditAction ActionOf(const std::string& action) {
  static const std::map<std::string, AuditAction> kActions = {
      {"login", AuditAction::kLogin},
      {"connect", AuditAction::kLogin},  // a connection refused before any login step
      {"logout", AuditAction::kLogout},
      {"search", AuditAction::kSearch},
      {"get", AuditAction::kView},
      {"shield", AuditAction::kShield},
      {"unshield", AuditAction::kUnshield},
      {"break_glass", AuditAction::kBreakGlass},
      {"feed", AuditAction::kFeedBatch},
      {"review", AuditAction::kReview},
      {"admin", AuditAction::kAdmin},
      {"retention", AuditAction::kRetention},
      {"backup", AuditAction::kBackup},
  };
  auto it = kActions.find(action);
  return it == kActions.end() ? AuditAction::kAdmin : it->second;
}

AuditRefusal RefusalOf(const std::string& outcome) {
  static const std::map<std::string, AuditRefusal> kRefusals = {
      {"unregistered_address", AuditRefusal::kUnregisteredAddress},
      {"bad_credentials", AuditRefusal::kBadCredentials},
      {"locked", AuditRefusal::kLocked},
      {"bad_code", AuditRefusal::kBadCode},
      {"not_authorised", AuditRefusal::kNotPermitted},
      {"quota_exceeded", AuditRefusal::kQuotaExceeded},
      {"rate_limited", AuditRefusal::kRateLimited},
      {"missing_reason", AuditRefusal::kMissingReason},
      {"invalid_criteria", AuditRefusal::kInvalidCriteria},
      {"not_found", AuditRefusal::kNotFound},
      {"not_authenticated", AuditRefusal::kSessionExpired},
  };
  auto it = kRefusals.find(outcome);
  return it == kRefusals.end() ? AuditRefusal::kOther : it->second;
}

}  // namespace

Result<CredentialCheck> StoreAccounts::CheckPassword(const std::string& user,
                                                     const std::string& password,
                                                     const std::string& address) {
  auto ip = ParseIpAddress(address);
  // A peer address Asio printed always parses; if not, no range can contain it.
  if (!ip.ok()) return CredentialCheck::kUnregisteredAddress;
  return FromDecision(accounts_->CheckPassword(user, password, *ip));
}

Result<CredentialCheck> StoreAccounts::CheckSecondFactor(const std::string& user,
                                                         const std::string& code,
                                                         int64_t unix_seconds) {
  return FromDecision(accounts_->CheckCode(user, code, unix_seconds));
}

Result<UserProfile> StoreAccounts::Profile(const std::string& user) {
  auto account = accounts_->GetUser(user);
  if (!account.ok()) return account.status();
  const RolePolicy& policy = PolicyFor(account->role);
  UserProfile p;
  p.user = account->user;
  p.organisation = account->organisation;
  p.role = std::string(policy.name);
  p.operations = policy.operations;
  p.result_cap = policy.result_cap;
  return p;
}

Result<bool> StoreAccounts::ChargeSearch(const std::string& user, int64_t unix_seconds) {
  auto charge = accounts_->ChargeSearch(user, unix_seconds);
  if (!charge.ok()) return charge.status();
  return charge->allowed;
}

Result<bool> StoreAccounts::AddressRegistered(const std::string& address) {
  auto ip = ParseIpAddress(address);
  if (!ip.ok()) return false;
  std::vector<Organisation> orgs;
  Status s = accounts_->ListOrganisations(&orgs);
  if (!s.ok()) return s;
  for (const auto& org : orgs) {
    for (const auto& range : org.ranges) {
      if (range.Contains(*ip)) return true;
    }
  }
  return false;
}

namespace {

Result<OrganisationInfo> InfoOf(const Result<Organisation>& org) {
  if (!org.ok()) return org.status();
  OrganisationInfo info{org->id, org->display_name, {}};
  for (const auto& r : org->ranges) info.ranges.push_back(r.ToString());
  return info;
}

Result<Role> RoleNamed(const std::string& name) {
  auto role = ParseRole(name);
  if (!role) {
    std::string known;
    for (const auto& p : AllRolePolicies())
      known += (known.empty() ? "" : ", ") + std::string(p.name);
    return Status::InvalidArgument("unknown role '" + name + "'; the roles are " + known);
  }
  return *role;
}

}  // namespace

Result<OrganisationInfo> StoreAccounts::CreateOrganisation(const std::string& id,
                                                           const std::string& display_name,
                                                           const std::vector<std::string>& ranges) {
  // Every range is checked before anything is written: a bad one changes nothing.
  for (const auto& r : ranges) {
    auto cidr = ParseCidr(r);
    if (!cidr.ok()) return cidr.status();
  }
  std::lock_guard lock(admin_mu_);
  Status s = accounts_->AddOrganisation(id, display_name.empty() ? id : display_name);
  for (size_t i = 0; s.ok() && i < ranges.size(); ++i) s = accounts_->AddRange(id, ranges[i]);
  if (!s.ok()) return s;
  return InfoOf(accounts_->GetOrganisation(id));
}

Result<OrganisationInfo> StoreAccounts::AddRange(const std::string& organisation,
                                                 const std::string& cidr) {
  std::lock_guard lock(admin_mu_);
  Status s = accounts_->AddRange(organisation, cidr);
  if (!s.ok()) return s;
  return InfoOf(accounts_->GetOrganisation(organisation));
}

Result<std::string> StoreAccounts::CreateUser(const std::string& user,
                                              const std::string& organisation,
                                              const std::string& role,
                                              const std::string& password) {
  auto r = RoleNamed(role);
  if (!r.ok()) return r.status();
  std::lock_guard lock(admin_mu_);
  return accounts_->AddUser(user, organisation, *r, password);
}

Result<UserInfo> StoreAccounts::Info(const std::string& user) {
  auto account = accounts_->GetUser(user);
  if (!account.ok()) return account.status();
  return UserInfo{account->user, account->organisation, std::string(PolicyFor(account->role).name),
                  account->locked};
}

Result<UserInfo> StoreAccounts::SetRole(const std::string& user, const std::string& role) {
  auto r = RoleNamed(role);
  if (!r.ok()) return r.status();
  std::lock_guard lock(admin_mu_);
  Status s = accounts_->SetRole(user, *r);
  if (!s.ok()) return s;
  return Info(user);
}

Result<UserInfo> StoreAccounts::Unlock(const std::string& user) {
  std::lock_guard lock(admin_mu_);
  Status s = accounts_->Unlock(user);
  if (!s.ok()) return s;
  return Info(user);
}

Result<UserInfo> StoreAccounts::Lock(const std::string& user) {
  std::lock_guard lock(admin_mu_);
  Status s = accounts_->Lock(user);
  if (!s.ok()) return s;
  return Info(user);
}

Result<bool> UnmeteredQuotaAccounts::ChargeSearch(const std::string& user, int64_t unix_seconds) {
  auto charged = inner_->ChargeSearch(user, unix_seconds);
  if (!charged.ok()) return charged.status();
  return true;
}

AuditEntry ToAuditEntry(const AuditEvent& e) {
  AuditEntry entry;
  entry.time_micros = e.unix_ms * 1000;
  entry.user = e.user;
  entry.organisation = e.organisation;
  entry.source_address = e.address;
  entry.action = ActionOf(e.action);
  if (e.outcome == "ok") {
    entry.outcome = AuditOutcome::kOk;
  } else if (e.outcome == "too_many_matches") {
    entry.outcome = AuditOutcome::kTooManyMatches;
  } else if (e.outcome == "internal") {
    entry.outcome = AuditOutcome::kError;
  } else {
    entry.outcome = AuditOutcome::kRefused;
    entry.refusal = RefusalOf(e.outcome);
  }
  if (entry.outcome != AuditOutcome::kTooManyMatches) entry.children = e.children;
  entry.reason = e.reason;
  entry.criteria = e.criteria;
  if (e.investigation && e.action != "break_glass") {
    entry.criteria = "[break-glass session] " + entry.criteria;
  }
  return entry;
}

Status StoreAudit::Append(const AuditEvent& event) {
  AuditEntry entry = ToAuditEntry(event);
  const auto started = std::chrono::steady_clock::now();
  auto seq = log_->Append(entry);
  ServerMetrics::Global().ObserveAuditAppend(
      (std::chrono::steady_clock::now() - started) / std::chrono::nanoseconds(1), seq.ok());
  return seq.ok() ? Status::OK() : seq.status();
}

void StoreAudit::AppendAsync(const AuditEvent& event, std::function<void(Status)> done) {
  const auto started = std::chrono::steady_clock::now();
  log_->AppendAsync(ToAuditEntry(event), [started, done = std::move(done)](Result<uint64_t> seq) {
    ServerMetrics::Global().ObserveAuditAppend(
        (std::chrono::steady_clock::now() - started) / std::chrono::nanoseconds(1), seq.ok());
    done(seq.ok() ? Status::OK() : seq.status());
  });
}

void StoreAudit::Flush() { log_->Flush(); }

AccountServices::~AccountServices() = default;

Result<std::unique_ptr<AccountServices>> AccountServices::Open(ChildStore* store,
                                                               const Options& options) {
  Accounts::Options account_options;
  if (options.argon2_memory_kib) account_options.argon2_memory_kib = options.argon2_memory_kib;
  if (options.argon2_passes) account_options.argon2_passes = options.argon2_passes;
  if (options.lockout_after) account_options.lockout_after = options.lockout_after;
  auto accounts = Accounts::Open(store, account_options);
  if (!accounts.ok()) return accounts.status();
  auto audit = AuditLog::Open(store);
  if (!audit.ok()) return audit.status();
  std::unique_ptr<AccountServices> s(new AccountServices);
  s->accounts_ = std::move(*accounts);
  s->audit_log_ = std::move(*audit);
  s->accounts_->WriteQuotasWithAudit(s->audit_log_.get());
  s->accounts_port_ = std::make_unique<StoreAccounts>(s->accounts_.get());
  s->audit_port_ = std::make_unique<StoreAudit>(s->audit_log_.get());
  return s;
}

}  // namespace cp::server
