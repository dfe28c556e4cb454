#include "tools/cli_common.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "index/index_policy.h"

namespace cp::cli {

void AddDbFlags(CLI::App* cmd, DbFlags* flags) {
  cmd->add_option("--db", flags->db, "database directory")->required();
  cmd->add_option("--key-file", flags->key_file,
                  "master key file (default: <db>.key, beside the database directory)");
}

Result<std::unique_ptr<ChildStore>> OpenExistingStore(const DbFlags& flags) {
  ChildStore::Options options;
  options.db_dir = flags.db;
  while (options.db_dir.size() > 1 && options.db_dir.back() == '/') options.db_dir.pop_back();
  options.key_file = flags.key_file.empty() ? options.db_dir + ".key" : flags.key_file;
  options.policy = &NameIndexPolicy::Instance();
  return ChildStore::Open(options);
}

int Fail(const Status& s) {
  std::cerr << "contactpoint: " << s.ToString() << "\n";
  return s.IsInvalidArgument() ? kExitUsage : kExitFailure;
}

}  // namespace cp::cli
