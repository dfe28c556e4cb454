// What the `contactpoint` subcommands share: database flags, opening a store, failing
// with the right exit code. Each group of subcommands lives in its own tools/cli_*.cc and
// registers itself from RunCli (tools/cli.cc).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "storage/child_store.h"
#include "tools/cli.h"  // exit codes

namespace cp {

struct DbFlags {
  std::string db;
  std::string key_file;
  bool unencrypted_files = false;
};

// --db (required), --key-file and --unencrypted-files.
void AddDbFlags(CLI::App* cmd, DbFlags* flags);
ChildStore::Options StoreOptions(const DbFlags& flags);
// Opens (or creates) the store with the name index policy; cache_mb 0 keeps the default.
Result<std::unique_ptr<ChildStore>> OpenStore(const DbFlags& flags, bool create, size_t cache_mb = 0);
// Prints "contactpoint: <status>" to stderr; exit 2 for InvalidArgument, else 1.
int Fail(const Status& s);
Result<ChildId> ParseChildId(const std::string& text);

// Subcommand groups defined outside tools/cli.cc.
void AddFeedCommands(CLI::App& app, std::function<int()>* run);  // tools/cli_feed.cc
void AddBackupCommands(CLI::App& app, std::function<int()>* run);  // tools/cli_backup.cc

}  // namespace cp
