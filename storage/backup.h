// Backups of a database with RocksDB's BackupEngine: list, verify and restore. A backup is
// made by whoever holds the database open (ChildStore::CreateBackup): the CLI, or the
// daemon (docs/operations.md, "Backups").
//
// A backup directory holds any number of numbered backups; table files shared between them
// are stored once. Every file in it — table files, logs, the engine's own metadata — is
// encrypted as the database's files are (storage/file_encryption.h) under the database's
// key, so reading one needs the key file, and the key file is never copied into it: keep
// it on another medium. Each file's size and CRC32C checksum are recorded at backup time.
//
// Thread safety: each call opens the backup directory on its own; do not run two that write
// it (create, restore's cleanup) at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace cp {

struct BackupSummary {
  uint32_t id = 0;
  int64_t unix_seconds = 0;  // when it was taken
  uint64_t bytes = 0;        // the files it names (shared files counted in each)
  uint32_t files = 0;
};

// The backups in `backup_dir`, oldest first. NotFound when the directory does not exist;
// PermissionDenied when its files are encrypted under a key other than `key_file`'s; key
// file faults as ChildStore::Open.
Result<std::vector<BackupSummary>> ListBackups(const std::string& backup_dir,
                                               const std::string& key_file);

// Reads every file of backup `id` and compares its size and CRC32C checksum with those
// recorded when it was taken. Corruption naming the file at fault; NotFound for an unknown id.
Status VerifyBackup(const std::string& backup_dir, const std::string& key_file, uint32_t id);

// Restores backup `id` (0: the latest) into `db_dir`, which must not exist (AlreadyExists
// otherwise: a restore never overwrites a database). The restored database's files are
// encrypted under the same key; open it with that key file. A failed restore removes what
// it wrote.
Status RestoreBackup(const std::string& backup_dir, const std::string& key_file, uint32_t id,
                     const std::string& db_dir);

}  // namespace cp
