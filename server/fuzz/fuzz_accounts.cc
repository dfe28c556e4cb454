#include "server/fuzz/fuzz_accounts.h"

#include "server/fuzz/seed_frames.h"
#include "storage/accounts.h"

namespace cp::server::fuzz {

Status AddFuzzAccounts(AccountServices* services, std::map<std::string, std::string>* secrets) {
  Accounts* a = services->accounts();
  Status s = a->AddOrganisation("fuzz_la", "Fuzz council");
  if (s.ok()) s = a->AddRange("fuzz_la", "127.0.0.0/8");
  if (s.ok()) s = a->AddOrganisation("fuzz_feed", "Fuzz feed");
  if (s.ok()) s = a->AddRange("fuzz_feed", "127.0.0.0/8");
  if (!s.ok()) return s;
  for (std::string_view role_name : kFuzzRoles) {
    auto role = ParseRole(role_name);
    if (!role) return Status::InvalidArgument("no role " + std::string(role_name));
    const std::string user = "fuzz_" + std::string(role_name);
    auto secret = a->AddUser(user, role_name == "feed_supplier" ? "fuzz_feed" : "fuzz_la", *role,
                             FuzzPassword(user));
    if (!secret.ok()) return secret.status();
    (*secrets)[std::string(role_name)] = *secret;
  }
  auto login = a->AddUser("fuzz_login", "fuzz_la", Role::kPolice, FuzzPassword("fuzz_login"));
  return login.ok() ? Status::OK() : login.status();
}

Status RestoreFuzzUser(AccountServices* services, const std::string& role_name) {
  auto role = ParseRole(role_name);
  if (!role) return Status::InvalidArgument("no role " + role_name);
  const std::string user = "fuzz_" + role_name;
  Status s = services->accounts()->SetRole(user, *role);
  if (s.ok()) s = services->accounts()->Unlock(user);
  return s;
}

}  // namespace cp::server::fuzz
