// The server's ports (server/ports.h) over the storage layer's accounts store
// (storage/accounts.h) and audit log (storage/audit_log.h).
//
// Administration (CreateOrganisation, ...) is serialised by one mutex, so that its checks
// ("does it exist?") and its writes are one step for concurrent administrators.
//
// Mapping notes:
// - AuditEvent.action and .outcome are the protocol's names ("search", "get",
//   "not_authorised", ...); they map onto AuditAction, AuditOutcome and AuditRefusal.
// - AuditEntry has no investigation flag: the break-glass itself is its own entry
//   (AuditAction::kBreakGlass); searches and views made in a break-glass session carry
//   "[break-glass session] " at the front of their criteria so that an investigator
//   querying a child or a user sees them marked.
//
// Thread safety: as the wrapped objects (both may be shared by many threads). The wrapped
// objects must outlive the adapters.
#pragma once

#include <memory>
#include <mutex>

#include "server/ports.h"
#include "storage/audit_log.h"

namespace cp {
class Accounts;  // storage/accounts.h
class ChildStore;
}  // namespace cp

namespace cp::server {

class StoreAccounts : public AccountsPort {
 public:
  explicit StoreAccounts(Accounts* accounts) : accounts_(accounts) {}
  StoreAccounts(const StoreAccounts&) = delete;
  StoreAccounts& operator=(const StoreAccounts&) = delete;
  Result<CredentialCheck> CheckPassword(const std::string& user, const std::string& password,
                                        const std::string& address) override;
  Result<CredentialCheck> CheckSecondFactor(const std::string& user, const std::string& code,
                                            int64_t unix_seconds) override;
  Result<UserProfile> Profile(const std::string& user) override;
  Result<bool> ChargeSearch(const std::string& user, int64_t unix_seconds) override;
  Result<bool> AddressRegistered(const std::string& address) override;
  Result<OrganisationInfo> CreateOrganisation(const std::string& id,
                                              const std::string& display_name,
                                              const std::vector<std::string>& ranges) override;
  Result<OrganisationInfo> AddRange(const std::string& organisation,
                                    const std::string& cidr) override;
  Result<std::string> CreateUser(const std::string& user, const std::string& organisation,
                                 const std::string& role, const std::string& password) override;
  Result<UserInfo> SetRole(const std::string& user, const std::string& role) override;
  Result<UserInfo> Unlock(const std::string& user) override;
  Result<UserInfo> Lock(const std::string& user) override;

 private:
  Result<UserInfo> Info(const std::string& user);

  Accounts* accounts_;
  std::mutex admin_mu_;
};

// Load tests only (config `[bench] unmetered_daily_quota`, which a non-loopback listener
// refuses): every call goes to `inner`, and a search is charged there as usual, but one
// beyond the role's daily quota is let through instead of refused. Lockout, rate limits,
// sessions and the audit trail are unchanged.
class UnmeteredQuotaAccounts : public AccountsPort {
 public:
  explicit UnmeteredQuotaAccounts(AccountsPort* inner) : inner_(inner) {}
  Result<CredentialCheck> CheckPassword(const std::string& user, const std::string& password,
                                        const std::string& address) override {
    return inner_->CheckPassword(user, password, address);
  }
  Result<CredentialCheck> CheckSecondFactor(const std::string& user, const std::string& code,
                                            int64_t unix_seconds) override {
    return inner_->CheckSecondFactor(user, code, unix_seconds);
  }
  Result<UserProfile> Profile(const std::string& user) override { return inner_->Profile(user); }
  Result<bool> ChargeSearch(const std::string& user, int64_t unix_seconds) override;
  Result<bool> AddressRegistered(const std::string& address) override {
    return inner_->AddressRegistered(address);
  }
  Result<OrganisationInfo> CreateOrganisation(const std::string& id, const std::string& display_name,
                                              const std::vector<std::string>& ranges) override {
    return inner_->CreateOrganisation(id, display_name, ranges);
  }
  Result<OrganisationInfo> AddRange(const std::string& organisation, const std::string& cidr) override {
    return inner_->AddRange(organisation, cidr);
  }
  Result<std::string> CreateUser(const std::string& user, const std::string& organisation,
                                 const std::string& role, const std::string& password) override {
    return inner_->CreateUser(user, organisation, role, password);
  }
  Result<UserInfo> SetRole(const std::string& user, const std::string& role) override {
    return inner_->SetRole(user, role);
  }
  Result<UserInfo> Unlock(const std::string& user) override { return inner_->Unlock(user); }
  Result<UserInfo> Lock(const std::string& user) override { return inner_->Lock(user); }

 private:
  AccountsPort* inner_;
};

class StoreAudit : public AuditPort {
 public:
  explicit StoreAudit(AuditLog* log) : log_(log) {}
  Status Append(const AuditEvent& event) override;
  void AppendAsync(const AuditEvent& event, std::function<void(Status)> done) override;
  void Flush() override;

 private:
  AuditLog* log_;
};

// The accounts store and audit log of an open ChildStore, and the ports over them.
//
// Thread safety: the ports may be used from many threads. The store must outlive this.
class AccountServices {
 public:
  struct Options {
    // 0: storage/accounts.h's defaults. Tests lower the Argon2 cost.
    uint32_t argon2_memory_kib = 0;
    uint32_t argon2_passes = 0;
    uint32_t lockout_after = 0;
  };
  // Opens both (Accounts::Open, AuditLog::Open); their errors pass through, e.g.
  // Corruption when the audit log's head and last entry disagree. Search quotas are
  // written with the audit batches (Accounts::WriteQuotasWithAudit).
  static Result<std::unique_ptr<AccountServices>> Open(ChildStore* store, const Options& options);
  ~AccountServices();
  AccountServices(const AccountServices&) = delete;
  AccountServices& operator=(const AccountServices&) = delete;

  AccountsPort* accounts_port() { return accounts_port_.get(); }
  AuditPort* audit_port() { return audit_port_.get(); }
  Accounts* accounts() { return accounts_.get(); }
  AuditLog* audit_log() { return audit_log_.get(); }

 private:
  AccountServices() = default;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<AuditLog> audit_log_;
  std::unique_ptr<StoreAccounts> accounts_port_;
  std::unique_ptr<StoreAudit> audit_port_;
};

// The entry an event is recorded as (exposed for tests).
AuditEntry ToAuditEntry(const AuditEvent& event);

}  // namespace cp::server
