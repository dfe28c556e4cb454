#include "tests/server/test_accounts.h"

#include "storage/accounts.h"

namespace cp::server::testing {

Status AddTestOrganisations(AccountServices* services) {
  Accounts* a = services->accounts();
  Status s = a->AddOrganisation("la_leeds", "Leeds City Council");
  if (s.ok()) s = a->AddRange("la_leeds", "127.0.0.0/8");
  if (s.ok()) s = a->AddOrganisation("la_elsewhere", "Elsewhere Council");
  if (s.ok()) s = a->AddRange("la_elsewhere", "10.9.0.0/16");
  return s;
}

Result<std::string> AddTestUser(AccountServices* services, const std::string& name,
                                const std::string& organisation, const std::string& role_name,
                                const std::string& password) {
  auto role = ParseRole(role_name);
  if (!role) return Status::InvalidArgument("no role " + role_name);
  return services->accounts()->AddUser(name, organisation, *role, password);
}

Status AddTestOrganisation(AccountServices* services, const std::string& id,
                           const std::string& cidr) {
  Status s = services->accounts()->AddOrganisation(id, id);
  if (s.ok()) s = services->accounts()->AddRange(id, cidr);
  return s;
}

Status LockUser(AccountServices* services, const std::string& name) {
  return services->accounts()->Lock(name);
}

std::string RoleOf(AccountServices* services, const std::string& name) {
  auto u = services->accounts()->GetUser(name);
  return u.ok() ? std::string(PolicyFor(u->role).name) : "";
}

std::optional<std::vector<std::string>> RangesOf(AccountServices* services,
                                                 const std::string& organisation) {
  auto org = services->accounts()->GetOrganisation(organisation);
  if (!org.ok()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& r : org->ranges) out.push_back(r.ToString());
  return out;
}

bool IsLocked(AccountServices* services, const std::string& name) {
  auto u = services->accounts()->GetUser(name);
  return u.ok() && u->locked;
}

uint32_t FailedAttempts(AccountServices* services, const std::string& name) {
  auto u = services->accounts()->GetUser(name);
  return u.ok() ? u->failed_attempts : 9999;
}

}  // namespace cp::server::testing
