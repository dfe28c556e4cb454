#include "tools/cli_common.h"

#include <cstdlib>
#include <iostream>

#include "index/index_policy.h"

namespace cp {

void AddDbFlags(CLI::App* cmd, DbFlags* flags) {
  cmd->add_option("--db", flags->db, "database directory")->required();
  cmd->add_option("--key-file", flags->key_file,
                  "master key file (default: <db>.key, beside the database directory)");
  cmd->add_flag("--unencrypted-files", flags->unencrypted_files,
                "database files without encryption at rest: create one so, or open one so "
                "written (for measuring what encryption costs; docs/operations.md)");
}

ChildStore::Options StoreOptions(const DbFlags& flags) {
  ChildStore::Options options;
  options.db_dir = flags.db;
  while (options.db_dir.size() > 1 && options.db_dir.back() == '/') options.db_dir.pop_back();
  options.key_file = flags.key_file.empty() ? options.db_dir + ".key" : flags.key_file;
  options.encrypt_files = !flags.unencrypted_files;
  return options;
}

Result<std::unique_ptr<ChildStore>> OpenStore(const DbFlags& flags, bool create,
                                               size_t cache_mb) {
  ChildStore::Options options = StoreOptions(flags);
  options.create = create;
  if (cache_mb > 0) options.block_cache_bytes = cache_mb << 20;
  options.policy = &NameIndexPolicy::Instance();
  return ChildStore::Open(options);
}

int Fail(const Status& s) {
  std::cerr << "contactpoint: " << s.ToString() << "\n";
  return s.IsInvalidArgument() ? kExitUsage : kExitFailure;
}

Result<ChildId> ParseChildId(const std::string& text) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v == 0) {
    return Status::InvalidArgument("'" + text + "' is not a child id");
  }
  return static_cast<ChildId>(v);
}

}  // namespace cp
