// Pieces shared by the account and audit subcommands (tools/cli_accounts.cc,
// tools/cli_audit.cc): opening the database named by --db/--key-file, and turning a
// Status into an exit code. cli.cc has its own copies in an anonymous namespace; the
// next change to cli.cc can switch it to these.
#pragma once

#include <memory>
#include <string>

#include "storage/child_store.h"
#include "util/status.h"

namespace CLI {
class App;
}

namespace cp::cli {

inline constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

struct DbFlags {
  std::string db;
  std::string key_file;  // default: <db>.key
};

// Adds the required --db and the optional --key-file to `cmd`.
void AddDbFlags(CLI::App* cmd, DbFlags* flags);
// Opens an existing database.
Result<std::unique_ptr<ChildStore>> OpenExistingStore(const DbFlags& flags);
// Prints "contactpoint: <status>" to stderr; returns 2 for InvalidArgument, else 1.
int Fail(const Status& s);

}  // namespace cp::cli
