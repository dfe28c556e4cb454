// The accounts-store calls the server tests need, in a translation unit of their own:
// storage/accounts.h cannot be included beside query/criteria.h (see server/ports.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/accounts_adapter.h"

namespace cp::server::testing {

// Organisations "la_leeds" (127.0.0.0/8) and "la_elsewhere" (10.9.0.0/16).
Status AddTestOrganisations(AccountServices* services);
// A user with role `role_name` (storage/roles.h spelling); returns the TOTP secret.
Result<std::string> AddTestUser(AccountServices* services, const std::string& name,
                                const std::string& organisation, const std::string& role_name,
                                const std::string& password);
// An organisation `id` with one range.
Status AddTestOrganisation(AccountServices* services, const std::string& id,
                           const std::string& cidr);
bool IsLocked(AccountServices* services, const std::string& name);
Status LockUser(AccountServices* services, const std::string& name);
// The user's role name; "" for an unknown user.
std::string RoleOf(AccountServices* services, const std::string& name);
// The organisation's ranges as text; nullopt when there is no such organisation.
std::optional<std::vector<std::string>> RangesOf(AccountServices* services,
                                                 const std::string& organisation);
uint32_t FailedAttempts(AccountServices* services, const std::string& name);

}  // namespace cp::server::testing
