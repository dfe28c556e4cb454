// Backups: ChildStore::CreateBackup and storage/backup.h, over RocksDB's BackupEngine.
#include <rocksdb/utilities/backup_engine.h>

#include <filesystem>

#include "storage/backup.h"
#include "storage/child_store_internal.h"
#include "storage/file_encryption.h"

namespace cp {
namespace {

namespace fs = std::filesystem;

// A backup's files are encrypted under the database's key: one with another key is
// refused before RocksDB reads bytes it cannot decrypt. The engine's metadata files
// (meta/<id>) are the ones every backup directory has.
Status CheckBackupKey(const std::string& backup_dir, const Crypto& crypto,
                      const std::string& key_file) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(backup_dir + "/meta", ec)) {
    if (!entry.is_regular_file()) continue;
    auto prefix = ReadFilePrefix(entry.path().string());
    if (!prefix.ok()) return prefix.status();
    if (!prefix->encrypted) {
      return Status::Corruption(entry.path().string() +
                                " is not encrypted: not a contactpoint backup directory");
    }
    if (prefix->key_fingerprint != crypto.KeyFingerprint()) {
      return Status::PermissionDenied("key file " + key_file + " is not the key the backups in " +
                                      backup_dir + " were made with (their files need key " +
                                      prefix->key_fingerprint + ", this key file holds " +
                                      crypto.KeyFingerprint() + ")");
    }
  }
  return Status::OK();  // no backup yet (or no meta directory): nothing to check
}

// A read-only engine over an existing backup directory, with the Env it needs (declared
// first: it must outlive the engine).
struct ReadOnlyEngine {
  std::unique_ptr<rocksdb::Env> env;
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine;
};

Result<ReadOnlyEngine> OpenReadOnly(const std::string& backup_dir, const std::string& key_file) {
  auto crypto = Crypto::LoadKeyFile(key_file);
  if (!crypto.ok()) return crypto.status();
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec)) return Status::NotFound("no backup directory at " + backup_dir);
  if (!fs::is_directory(backup_dir + "/meta", ec)) {
    return Status::NotFound(backup_dir + " is not a backup directory (no meta/)");
  }
  Status s = CheckBackupKey(backup_dir, **crypto, key_file);
  if (!s.ok()) return s;
  ReadOnlyEngine out;
  out.env = NewEncryptedFilesEnv(**crypto);
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  auto rs = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::BackupEngineOptions(backup_dir, out.env.get()), out.env.get(), &raw);
  out.engine.reset(raw);
  if (!rs.ok()) return FromRocks(rs, "opening backups in " + backup_dir);
  return out;
}

}  // namespace

Result<uint32_t> ChildStore::CreateBackup(const std::string& backup_dir, uint32_t keep) {
  std::error_code ec;
  if (fs::exists(backup_dir, ec)) {
    Status s = CheckBackupKey(backup_dir, *crypto_, options_.key_file);
    if (!s.ok()) return s;
  }
  // The backup is always encrypted, even from a database written without file encryption:
  // restoring it then gives an encrypted database (docs/operations.md).
  std::unique_ptr<rocksdb::Env> backup_env = NewEncryptedFilesEnv(*crypto_);
  rocksdb::Env* db_env = h_->env != nullptr ? h_->env.get() : rocksdb::Env::Default();
  rocksdb::BackupEngine* raw = nullptr;
  auto rs = rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(backup_dir, backup_env.get()),
                                        db_env, &raw);
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  if (!rs.ok()) return FromRocks(rs, "opening backups in " + backup_dir);
  rocksdb::CreateBackupOptions create;
  // Flushed first: the backup's state is in table files, its write-ahead log nearly empty.
  create.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  rs = engine->CreateNewBackup(create, h_->db, &id);
  if (!rs.ok()) return FromRocks(rs, "backing up " + options_.db_dir + " to " + backup_dir);
  if (keep > 0) {
    rs = engine->PurgeOldBackups(keep);
    if (!rs.ok()) {
      return FromRocks(rs, "backup " + std::to_string(id) + " was made, but purging those older " +
                               "than the last " + std::to_string(keep) + " failed");
    }
  }
  return static_cast<uint32_t>(id);
}

Result<std::vector<BackupSummary>> ListBackups(const std::string& backup_dir,
                                               const std::string& key_file) {
  auto ro = OpenReadOnly(backup_dir, key_file);
  if (!ro.ok()) return ro.status();
  std::vector<rocksdb::BackupInfo> infos;
  ro->engine->GetBackupInfo(&infos);
  std::vector<BackupSummary> out;
  for (const auto& info : infos) {
    out.push_back({info.backup_id, info.timestamp, info.size, info.number_files});
  }
  return out;
}

Status VerifyBackup(const std::string& backup_dir, const std::string& key_file, uint32_t id) {
  auto ro = OpenReadOnly(backup_dir, key_file);
  if (!ro.ok()) return ro.status();
  return FromRocks(ro->engine->VerifyBackup(id, /*verify_with_checksum=*/true),
                   "verifying backup " + std::to_string(id) + " in " + backup_dir);
}

Status RestoreBackup(const std::string& backup_dir, const std::string& key_file, uint32_t id,
                     const std::string& db_dir) {
  std::error_code ec;
  if (fs::exists(db_dir, ec)) {
    return Status::AlreadyExists(db_dir + " exists: a restore goes to a new directory");
  }
  auto ro = OpenReadOnly(backup_dir, key_file);
  if (!ro.ok()) return ro.status();
  rocksdb::IOStatus rs = id == 0 ? ro->engine->RestoreDBFromLatestBackup(db_dir, db_dir)
                                 : ro->engine->RestoreDBFromBackup(id, db_dir, db_dir);
  if (!rs.ok()) {
    fs::remove_all(db_dir, ec);
    return FromRocks(rs, "restoring " + (id == 0 ? std::string("the latest backup")
                                                 : "backup " + std::to_string(id)) +
                             " from " + backup_dir + " to " + db_dir);
  }
  return Status::OK();
}

}  // namespace cp
