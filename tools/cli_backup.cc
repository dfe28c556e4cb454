// `contactpoint backup create | list | verify | restore`: backups of a database through
// RocksDB's BackupEngine (storage/backup.h). Every command needs the key file: backups
// are encrypted under the database's key, and the key is never copied into them
// (docs/operations.md, "Backups").
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "storage/backup.h"
#include "tools/cli_common.h"

namespace cp {
namespace {

std::string FormatSeconds(int64_t seconds) {
  time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// Backup commands other than create take the backup directory and the key file, both
// required: there is no database beside them to find a default key from.
struct BackupFlags {
  std::string backup_dir;
  std::string key_file;
};

void AddBackupFlags(CLI::App* cmd, BackupFlags* flags) {
  cmd->add_option("--backup-dir", flags->backup_dir, "the backup directory")->required();
  cmd->add_option("--key,--key-file", flags->key_file,
                  "the database's key file (kept apart from the backups)")
      ->required();
}

void AddCreate(CLI::App* backup, std::function<int()>* run) {
  static DbFlags flags;
  static std::string to;
  auto* cmd = backup->add_subcommand(
      "create", "add a backup of the database to a backup directory (created when missing)");
  cmd->add_option("--db", flags.db, "database directory")->required();
  cmd->add_option("--key,--key-file", flags.key_file,
                  "master key file (default: <db>.key, beside the database directory)");
  cmd->add_flag("--unencrypted-files", flags.unencrypted_files,
                "the database was written without file encryption (its backup is encrypted)");
  cmd->add_option("--to", to, "the backup directory")->required();
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto id = (*store)->CreateBackup(to);
      if (!id.ok()) return Fail(id.status());
      std::cout << "backup " << *id << " of " << (*store)->db_dir() << " in " << to
                << " (encrypted under key file " << StoreOptions(flags).key_file
                << ", which is not in the backup: keep a copy of it apart)\n";
      return kExitOk;
    };
  });
}

void AddList(CLI::App* backup, std::function<int()>* run) {
  static BackupFlags flags;
  static bool json = false;
  auto* cmd = backup->add_subcommand("list", "the backups in a backup directory, oldest first");
  AddBackupFlags(cmd, &flags);
  cmd->add_flag("--json", json, "print one JSON object");
  cmd->callback([run] {
    *run = [] {
      auto list = ListBackups(flags.backup_dir, flags.key_file);
      if (!list.ok()) return Fail(list.status());
      if (json) {
        nlohmann::json out = {{"backups", nlohmann::json::array()}};
        for (const auto& b : *list) {
          out["backups"].push_back({{"id", b.id},
                                    {"time", FormatSeconds(b.unix_seconds)},
                                    {"bytes", b.bytes},
                                    {"files", b.files}});
        }
        std::cout << out.dump(2) << "\n";
        return kExitOk;
      }
      for (const auto& b : *list) {
        std::printf("%u  %s  %llu bytes  %u files\n", b.id, FormatSeconds(b.unix_seconds).c_str(),
                    static_cast<unsigned long long>(b.bytes), b.files);
      }
      std::printf("%zu backup%s\n", list->size(), list->size() == 1 ? "" : "s");
      return kExitOk;
    };
  });
}

void AddBackupVerify(CLI::App* backup, std::function<int()>* run) {
  static BackupFlags flags;
  static uint32_t id = 0;
  auto* cmd = backup->add_subcommand(
      "verify", "check every file of a backup (or of all) against its recorded size and checksum");
  AddBackupFlags(cmd, &flags);
  cmd->add_option("--id", id, "the backup to verify (default: every backup)")
      ->check(CLI::PositiveNumber);
  cmd->callback([run] {
    *run = [] {
      std::vector<uint32_t> ids;
      if (id != 0) {
        ids.push_back(id);
      } else {
        auto list = ListBackups(flags.backup_dir, flags.key_file);
        if (!list.ok()) return Fail(list.status());
        for (const auto& b : *list) ids.push_back(b.id);
      }
      int code = kExitOk;
      for (uint32_t each : ids) {
        Status s = VerifyBackup(flags.backup_dir, flags.key_file, each);
        if (s.ok()) {
          std::cout << "backup " << each << ": ok\n";
        } else {
          std::cout << "backup " << each << ": FAILED: " << s.ToString() << "\n";
          code = kExitFailure;
        }
      }
      if (ids.empty()) std::cout << "no backups in " << flags.backup_dir << "\n";
      return code;
    };
  });
}

void AddRestore(CLI::App* backup, std::function<int()>* run) {
  static BackupFlags flags;
  static uint32_t id = 0;
  static std::string to;
  auto* cmd = backup->add_subcommand(
      "restore", "restore a backup into a new database directory (never over an existing one)");
  AddBackupFlags(cmd, &flags);
  cmd->add_option("--id", id, "the backup to restore (default: the latest)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--to", to, "the new database directory (must not exist)")->required();
  cmd->callback([run] {
    *run = [] {
      Status s = RestoreBackup(flags.backup_dir, flags.key_file, id, to);
      if (!s.ok()) return Fail(s);
      std::cout << "restored " << (id == 0 ? std::string("the latest backup")
                                          : "backup " + std::to_string(id))
                << " to " << to << "; open it with --key-file " << flags.key_file
                << " (or put the key at " << to << ".key, outside the directory)\n";
      return kExitOk;
    };
  });
}

}  // namespace

void AddBackupCommands(CLI::App& app, std::function<int()>* run) {
  auto* backup = app.add_subcommand(
      "backup", "backups: create (online, from an open database), list, verify, restore");
  backup->require_subcommand(1);
  AddCreate(backup, run);
  AddList(backup, run);
  AddBackupVerify(backup, run);
  AddRestore(backup, run);
}

}  // namespace cp
