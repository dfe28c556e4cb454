// Backups (storage/backup.h, ChildStore::CreateBackup): two backups, list, verify, a
// corrupted file named, a restore equal to the state backed up, and the key's role.
#include "storage/backup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/check.h"
#include "storage/crypto.h"
#include "storage/file_encryption.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using testing_util::MakeChild;
using testing_util::MakeHidden;
using testing_util::RawDb;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

std::set<std::string> FilesUnder(const std::string& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), dir).string());
  }
  return files;
}

class BackupTest : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    backup_dir_ = dir_ + "/backups";
  }

  void Insert(int from, int to) {
    std::vector<NewChild> children;
    for (int i = from; i < to; ++i) {
      children.push_back(MakeChild("Ada" + std::to_string(i), "Lovelace", Date{2013, 4, static_cast<uint8_t>(1 + i % 28)},
                                   "k" + std::to_string(i)));
      children.back().hidden = MakeHidden(std::to_string(i) + " Mill Lane", "LS2 7DP");
    }
    ASSERT_TRUE(store_->InsertChildren(children).ok());
  }

  // Every family's entries of the (closed) database at `db_dir`.
  static std::map<std::string, std::map<std::string, std::string>> Dump(const std::string& db_dir) {
    RawDb raw(db_dir);
    return raw.Dump();
  }

  std::string backup_dir_;
};

TEST_F(BackupTest, TwoBackupsListVerifyCorruptionAndRestoreOfTheFirst) {
  CreateStore();
  Insert(0, 20);
  auto first = store_->CreateBackup(backup_dir_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 1u);
  store_.reset();
  const auto state_at_first = Dump(db_dir_);
  ASSERT_EQ(state_at_first.at("children").size(), 20u);
  const auto files_of_first = FilesUnder(backup_dir_);

  OpenStore();
  Insert(20, 35);
  auto second = store_->CreateBackup(backup_dir_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, 2u);

  auto list = ListBackups(backup_dir_, key_file_);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, 1u);
  EXPECT_EQ((*list)[1].id, 2u);
  EXPECT_GT((*list)[1].bytes, 0u);
  EXPECT_GT((*list)[1].files, 0u);
  EXPECT_GT((*list)[0].unix_seconds, 1700000000);
  ASSERT_TRUE(VerifyBackup(backup_dir_, key_file_, 1).ok());
  ASSERT_TRUE(VerifyBackup(backup_dir_, key_file_, 2).ok());

  // Every backup file is encrypted, and the key file is not among them.
  const std::string key_bytes = [&] {
    std::ifstream in(key_file_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  for (const auto& name : FilesUnder(backup_dir_)) {
    auto prefix = ReadFilePrefix(backup_dir_ + "/" + name);
    ASSERT_TRUE(prefix.ok());
    EXPECT_TRUE(prefix->encrypted) << name;
    std::ifstream in(backup_dir_ + "/" + name, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("Lovelace"), std::string::npos) << name;
    EXPECT_EQ(bytes.find(key_bytes.substr(20, 64)), std::string::npos) << name;
  }

  // Damage one table file that only the second backup holds.
  std::string damaged;
  for (const auto& name : FilesUnder(backup_dir_)) {
    if (!files_of_first.count(name) && name.ends_with(".sst")) damaged = name;
  }
  ASSERT_FALSE(damaged.empty());
  {
    std::fstream f(backup_dir_ + "/" + damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(kFilePrefixBytes + 100);
    char c = 0;
    f.read(&c, 1);
    f.seekp(kFilePrefixBytes + 100);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  Status bad = VerifyBackup(backup_dir_, key_file_, 2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Status::Code::kCorruption) << bad.ToString();
  EXPECT_THAT(bad.message(), HasSubstr(fs::path(damaged).filename().string()));
  EXPECT_TRUE(VerifyBackup(backup_dir_, key_file_, 1).ok());

  // The first backup restores to exactly the state it was taken in.
  const std::string restored = dir_ + "/restored";
  ASSERT_TRUE(RestoreBackup(backup_dir_, key_file_, 1, restored).ok());
  EXPECT_EQ(Dump(restored), state_at_first);
  {
    auto options = StoreOptions(/*create=*/false);
    options.db_dir = restored;
    auto store = ChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_TRUE((*store)->files_encrypted());
    EXPECT_EQ(*(*store)->CountChildren(), 20u);
    ConsistencyReport report;
    ASSERT_TRUE((*store)->CheckConsistency(&report).ok());
    EXPECT_TRUE(report.ok()) << report.problems.size();
  }
  // A restored directory's files are encrypted too.
  for (const auto& name : FilesUnder(restored)) {
    if (name == "LOCK") continue;
    auto prefix = ReadFilePrefix(restored + "/" + name);
    ASSERT_TRUE(prefix.ok());
    EXPECT_TRUE(prefix->encrypted) << name;
  }
}

TEST_F(BackupTest, WithoutTheRightKeyNothingIsListedVerifiedOrRestored) {
  CreateStore();
  Insert(0, 5);
  ASSERT_TRUE(store_->CreateBackup(backup_dir_).ok());
  const std::string other = dir_ + "/other.key";
  ASSERT_TRUE(Crypto::CreateKeyFile(other).ok());
  const std::string restored = dir_ + "/restored";

  Status s = RestoreBackup(backup_dir_, other, 1, restored);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("is not the key the backups"));
  EXPECT_FALSE(fs::exists(restored));
  EXPECT_EQ(ListBackups(backup_dir_, other).status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(VerifyBackup(backup_dir_, other, 1).code(), Status::Code::kPermissionDenied);
  // No key file at all.
  s = RestoreBackup(backup_dir_, dir_ + "/missing.key", 1, restored);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("missing.key"));
  EXPECT_FALSE(fs::exists(restored));
  // Nor does another database's store add its backups to this directory.
  store_.reset();
  auto options = StoreOptions(/*create=*/true);
  options.db_dir = dir_ + "/db2";
  options.key_file = dir_ + "/db2.key";
  auto store2 = ChildStore::Open(options);
  ASSERT_TRUE(store2.ok());
  auto refused = (*store2)->CreateBackup(backup_dir_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied);
}

TEST_F(BackupTest, BadRequestsAreRefusedAndChangeNothing) {
  CreateStore();
  Insert(0, 3);
  EXPECT_EQ(ListBackups(backup_dir_, key_file_).status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(store_->CreateBackup(backup_dir_).ok());
  EXPECT_EQ(VerifyBackup(backup_dir_, key_file_, 7).code(), Status::Code::kNotFound);
  // A restore never overwrites: the live database's directory is refused.
  Status s = RestoreBackup(backup_dir_, key_file_, 1, db_dir_);
  EXPECT_EQ(s.code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(*store_->CountChildren(), 3u);
  s = RestoreBackup(backup_dir_, key_file_, 9, dir_ + "/r");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(fs::exists(dir_ + "/r"));
  // Restore of the latest (id 0).
  ASSERT_TRUE(RestoreBackup(backup_dir_, key_file_, 0, dir_ + "/latest").ok());
}

// Online: a backup taken while another thread writes is a consistent point in time.
TEST_F(BackupTest, ABackupTakenDuringWritesRestoresConsistent) {
  CreateStore();
  Insert(0, 10);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 10; !stop && i < 2000; i += 5) Insert(i, i + 5);
  });
  auto id = store_->CreateBackup(backup_dir_);
  stop = true;
  writer.join();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const std::string restored = dir_ + "/restored";
  ASSERT_TRUE(RestoreBackup(backup_dir_, key_file_, *id, restored).ok());
  auto options = StoreOptions(/*create=*/false);
  options.db_dir = restored;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto count = (*store)->CountChildren();
  ASSERT_TRUE(count.ok());
  EXPECT_GE(*count, 10u);
  EXPECT_EQ(*count % 5, 0u);  // whole batches only
  ConsistencyReport report;
  ASSERT_TRUE((*store)->CheckConsistency(&report).ok());
  EXPECT_TRUE(report.ok());
}

// A database written without file encryption backs up encrypted, and restores encrypted:
// the way to encrypt an existing database (docs/operations.md).
TEST_F(BackupTest, AnUnencryptedDatabaseRestoresEncrypted) {
  auto options = StoreOptions(/*create=*/true);
  options.encrypt_files = false;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok());
  store_ = std::move(*store);
  Insert(0, 7);
  ASSERT_TRUE(store_->CreateBackup(backup_dir_).ok());
  store_.reset();
  const std::string restored = dir_ + "/restored";
  ASSERT_TRUE(RestoreBackup(backup_dir_, key_file_, 1, restored).ok());
  auto reopened = StoreOptions(/*create=*/false);
  reopened.db_dir = restored;
  auto back = ChildStore::Open(reopened);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE((*back)->files_encrypted());
  EXPECT_EQ(*(*back)->CountChildren(), 7u);
}

}  // namespace
}  // namespace cp
