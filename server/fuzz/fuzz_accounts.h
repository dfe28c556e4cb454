// The request harness's organisations and users, in a translation unit of its own:
// storage/accounts.h cannot be included beside query/criteria.h (see server/ports.h).
#pragma once

#include <map>
#include <string>

#include "server/accounts_adapter.h"

namespace cp::server::fuzz {

// Organisations "fuzz_la" and "fuzz_feed" (the feed supplier's source), both on
// 127.0.0.0/8; user "fuzz_<role>" of every role in kFuzzRoles (in fuzz_feed for the feed
// supplier) and "fuzz_login" (police), each with password FuzzPassword(user). Fills
// `secrets` with role -> base32 TOTP secret.
Status AddFuzzAccounts(AccountServices* services, std::map<std::string, std::string>* secrets);

// Gives user "fuzz_<role>" its role back and unlocks it: fuzzed administration
// (SetUserRole) and fuzzed logins (wrong passwords, then a lock) may have changed either.
Status RestoreFuzzUser(AccountServices* services, const std::string& role);

inline std::string FuzzPassword(const std::string& user) { return "fuzz password " + user; }

}  // namespace cp::server::fuzz
