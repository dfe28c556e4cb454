// Encryption at rest of every database file (storage/file_encryption.h): nothing a child
// writes is in clear in any file — write-ahead log, SST, MANIFEST — the files reopen with
// the key and are refused without it, and the CTR stream reads any offset.
#include "storage/file_encryption.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rocksdb/env.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "storage/bulk_loader.h"
#include "storage/crypto.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using testing_util::MakeChild;
using testing_util::MakeHidden;
using ::testing::HasSubstr;

// A name that appears nowhere else: visible records (names, dates) are stored unsealed in
// the `children` family, so only file encryption keeps it out of the files.
constexpr char kGiven[] = "Zebedinqua";
constexpr char kFamily[] = "Quorrowitz";

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Files under `dir` whose raw bytes contain `needle`, and how many files were read.
std::vector<std::string> FilesContaining(const std::string& dir, const std::string& needle,
                                         int* files_read) {
  std::vector<std::string> hits;
  *files_read = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++*files_read;
    if (ReadAll(entry.path()).find(needle) != std::string::npos) hits.push_back(entry.path());
  }
  return hits;
}

Clearance Elevated() {
  return Clearance::Elevated(Clearance::Level::kShieldingManager, "Leeds City Council", "test");
}

class FileEncryptionTest : public testing_util::TempDirTest {
 protected:
  ChildId InsertMarked(const std::string& key = "marked") {
    std::vector<NewChild> children{MakeChild(kGiven, kFamily, Date{2014, 3, 9}, key)};
    children[0].hidden = MakeHidden("12 Larch Row", "LS6 2AB");
    auto ids = store_->InsertChildren(children);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? ids->front() : 0;
  }
};

TEST_F(FileEncryptionTest, NoNameInClearInAnyFileBeforeOrAfterFlush) {
  CreateStore();
  EXPECT_TRUE(store_->files_encrypted());
  ChildId id = InsertMarked();
  int files = 0;
  // Before any flush the record is only in the memtable and the write-ahead log.
  EXPECT_THAT(FilesContaining(db_dir_, kGiven, &files), ::testing::IsEmpty());
  EXPECT_GT(files, 3);  // CURRENT, IDENTITY, MANIFEST, OPTIONS, the WAL at least
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_GT(store_->LiveDataBytes(), 0u);  // the record is in SST files now
  EXPECT_THAT(FilesContaining(db_dir_, kGiven, &files), ::testing::IsEmpty());
  EXPECT_THAT(FilesContaining(db_dir_, kFamily, &files), ::testing::IsEmpty());
  // Every file RocksDB wrote carries the encryption prefix, under this key.
  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok());
  for (const auto& entry : std::filesystem::directory_iterator(db_dir_)) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK") continue;  // empty: RocksDB only locks it
    auto prefix = ReadFilePrefix(entry.path().string());
    ASSERT_TRUE(prefix.ok());
    EXPECT_TRUE(prefix->encrypted) << name;
    EXPECT_EQ(prefix->key_fingerprint, (*crypto)->KeyFingerprint()) << name;
  }
  // And the store reads it back, before and after a reopen.
  auto view = store_->Get(id, Elevated());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.given_name, kGiven);
  Reopen();
  view = store_->Get(id, Elevated());
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->record.family_name, kFamily);
  ASSERT_TRUE(view->hidden.has_value());
  EXPECT_EQ(view->hidden->postcode, "LS6 2AB");
}

// The scan above can fail: without file encryption the same record is in clear in the WAL.
TEST_F(FileEncryptionTest, WithoutFileEncryptionTheNameIsInClear) {
  auto options = StoreOptions(/*create=*/true);
  options.encrypt_files = false;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(*store);
  EXPECT_FALSE(store_->files_encrypted());
  InsertMarked();
  int files = 0;
  EXPECT_THAT(FilesContaining(db_dir_, kGiven, &files), ::testing::Not(::testing::IsEmpty()));
}

TEST_F(FileEncryptionTest, AnotherKeyIsRefusedBeforeAnyFileIsRead) {
  CreateStore();
  InsertMarked();
  store_.reset();
  const std::string other = dir_ + "/other.key";
  ASSERT_TRUE(Crypto::CreateKeyFile(other).ok());
  auto options = StoreOptions(/*create=*/false);
  options.key_file = other;
  auto store = ChildStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kPermissionDenied);
  EXPECT_THAT(store.status().message(), HasSubstr("is not the key database"));
  EXPECT_THAT(store.status().message(), HasSubstr("encrypted under key"));
  // The right key still opens it: the refusal changed nothing.
  OpenStore();
  EXPECT_EQ(*store_->CountChildren(), 1u);
}

// ReadInfoLog's pieces joined, or its refusal.
Result<std::string> InfoLogText(const std::string& db_dir, const std::string& key_file,
                                bool previous) {
  std::string text;
  Status s = ReadInfoLog(db_dir, key_file, previous,
                         [&text](std::string_view part) { text.append(part); });
  if (!s.ok()) return s;
  return text;
}

TEST_F(FileEncryptionTest, InfoLogReadsBackWithTheKeyAndIsRefusedWithAnother) {
  CreateStore();
  InsertMarked();
  store_.reset();
  const std::string key_file = StoreOptions(false).key_file;
  auto text = InfoLogText(dir_ + "/db", key_file, false);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_THAT(*text, HasSubstr("RocksDB version"));
  EXPECT_THAT(ReadAll(dir_ + "/db/LOG"), Not(HasSubstr("RocksDB version")));

  const std::string other = dir_ + "/other.key";
  ASSERT_TRUE(Crypto::CreateKeyFile(other).ok());
  auto refused = InfoLogText(dir_ + "/db", other, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied);

  // Opened once more: the earlier log is LOG.old, and reads the same.
  OpenStore();
  store_.reset();
  auto previous = InfoLogText(dir_ + "/db", key_file, true);
  ASSERT_TRUE(previous.ok()) << previous.status().ToString();
  EXPECT_EQ(previous->substr(0, text->size()), *text);
  EXPECT_EQ(InfoLogText(dir_ + "/nowhere", key_file, false).status().code(),
            Status::Code::kNotFound);
}

TEST_F(FileEncryptionTest, InfoLogOfAnUnencryptedDatabaseNeedsNoKey) {
  auto options = StoreOptions(/*create=*/true);
  options.encrypt_files = false;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store->reset();
  auto text = InfoLogText(options.db_dir, dir_ + "/no-such.key", false);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_THAT(*text, HasSubstr("RocksDB version"));
}

// Without the provider RocksDB cannot even read the file list: an error, never garbage.
TEST_F(FileEncryptionTest, PlainRocksDbCannotReadAnEncryptedDatabase) {
  CreateStore();
  InsertMarked();
  store_.reset();
  std::vector<std::string> families;
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_dir_, &families);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(families.empty());
}

TEST_F(FileEncryptionTest, AnUnencryptedDatabaseIsRefusedUnlessAskedFor) {
  auto options = StoreOptions(/*create=*/true);
  options.encrypt_files = false;
  {
    auto store = ChildStore::Open(options);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    InsertMarked();
    store_.reset();
  }
  auto refused = ChildStore::Open(StoreOptions(/*create=*/false));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("not encrypted at rest"));
  options.create = false;
  auto opened = ChildStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_FALSE((*opened)->files_encrypted());
  EXPECT_EQ(*(*opened)->CountChildren(), 1u);
}

// An encrypted database opens encrypted whatever encrypt_files says: the files decide.
TEST_F(FileEncryptionTest, AnEncryptedDatabaseOpensEncryptedEvenWhenNotAsked) {
  CreateStore();
  InsertMarked();
  store_.reset();
  auto options = StoreOptions(/*create=*/false);
  options.encrypt_files = false;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->files_encrypted());
  EXPECT_EQ(*(*store)->CountChildren(), 1u);
}

TEST_F(FileEncryptionTest, BulkLoadedSstFilesAreEncrypted) {
  CreateStore();
  std::vector<NewChild> children;
  for (int i = 0; i < 50; ++i) {
    children.push_back(MakeChild(kGiven, kFamily + std::to_string(i), Date{2012, 1, static_cast<uint8_t>(1 + i % 28)},
                                 "bulk" + std::to_string(i)));
    children.back().hidden = MakeHidden("1 Elm Street", "LS1 1AA");
  }
  {
    BulkLoader loader(store_.get(), BulkLoader::Options());
    ASSERT_TRUE(loader.Add(children).ok());
    ASSERT_TRUE(loader.Finish().ok());
  }
  int files = 0, ssts = 0;
  EXPECT_THAT(FilesContaining(db_dir_, kGiven, &files), ::testing::IsEmpty());
  for (const auto& entry : std::filesystem::directory_iterator(db_dir_)) {
    if (entry.path().extension() != ".sst") continue;
    ++ssts;
    auto prefix = ReadFilePrefix(entry.path().string());
    ASSERT_TRUE(prefix.ok());
    EXPECT_TRUE(prefix->encrypted) << entry.path();
  }
  EXPECT_GT(ssts, 0);
  Reopen();
  EXPECT_EQ(*store_->CountChildren(), 50u);
}

// The stream itself: a file written in appends of odd sizes reads back at any offset and
// length, and its bytes on disk are the plaintext XOR AES-256-CTR's keystream from the
// prefix's IV under the file key, counted from the start of the file: the layout
// docs/key_format.md states, checked here against an independent AES-256-CTR.
TEST_F(FileEncryptionTest, CtrStreamReadsAnyOffsetAndIsAes256Ctr) {
  auto crypto = Crypto::CreateKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok());
  std::unique_ptr<rocksdb::Env> env = NewEncryptedFilesEnv(**crypto);
  std::mt19937_64 rng(42);
  std::string plain(100003, '\0');
  for (char& c : plain) c = static_cast<char>(rng());
  const std::string path = dir_ + "/stream";
  {
    std::unique_ptr<rocksdb::WritableFile> file;
    ASSERT_TRUE(env->NewWritableFile(path, &file, rocksdb::EnvOptions()).ok());
    size_t at = 0, step = 1;
    while (at < plain.size()) {
      size_t n = std::min(plain.size() - at, step);
      ASSERT_TRUE(file->Append(rocksdb::Slice(plain.data() + at, n)).ok());
      at += n;
      step = step * 3 % 4099 + 1;
    }
    ASSERT_TRUE(file->Close().ok());
  }
  uint64_t size = 0;
  ASSERT_TRUE(env->GetFileSize(path, &size).ok());
  EXPECT_EQ(size, plain.size());
  const std::string raw = ReadAll(path);
  ASSERT_EQ(raw.size(), kFilePrefixBytes + plain.size());

  std::unique_ptr<rocksdb::RandomAccessFile> file;
  ASSERT_TRUE(env->NewRandomAccessFile(path, &file, rocksdb::EnvOptions()).ok());
  std::string scratch(plain.size(), '\0');
  for (int i = 0; i < 300; ++i) {
    const size_t offset = rng() % plain.size();
    const size_t n = 1 + rng() % std::min<size_t>(5000, plain.size() - offset);
    rocksdb::Slice got;
    ASSERT_TRUE(file->Read(offset, n, &got, scratch.data()).ok());
    ASSERT_EQ(got.ToString(), plain.substr(offset, n)) << "offset " << offset << " n " << n;
  }

  // Independent AES-256-CTR over the whole file from the stored IV: the keystream for data
  // byte i is keystream byte (prefix length + i).
  const auto& key = (*crypto)->FileKey();
  const unsigned char* iv = reinterpret_cast<const unsigned char*>(raw.data()) + 32;
  std::string keystream(raw.size(), '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), nullptr, key.data(), iv), 1);
  auto* ks = reinterpret_cast<unsigned char*>(keystream.data());
  ASSERT_EQ(EVP_EncryptUpdate(ctx, ks, &len, ks, static_cast<int>(keystream.size())), 1);
  EVP_CIPHER_CTX_free(ctx);
  size_t mismatches = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    const char expected = static_cast<char>(plain[i] ^ keystream[kFilePrefixBytes + i]);
    mismatches += raw[kFilePrefixBytes + i] != expected ? 1 : 0;
  }
  EXPECT_EQ(mismatches, 0u);
  // Two files never share a keystream: a fresh IV each.
  {
    std::unique_ptr<rocksdb::WritableFile> second;
    ASSERT_TRUE(env->NewWritableFile(path + "2", &second, rocksdb::EnvOptions()).ok());
    ASSERT_TRUE(second->Append(plain).ok());
    ASSERT_TRUE(second->Close().ok());
  }
  const std::string raw2 = ReadAll(path + "2");
  EXPECT_NE(raw.substr(32, 16), raw2.substr(32, 16));
  EXPECT_NE(raw.substr(kFilePrefixBytes, 64), raw2.substr(kFilePrefixBytes, 64));
}

TEST_F(FileEncryptionTest, AFileUnderAnotherKeyIsRefusedNotDecryptedToGarbage) {
  auto crypto = Crypto::CreateKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok());
  auto other = Crypto::CreateKeyFile(dir_ + "/other.key");
  ASSERT_TRUE(other.ok());
  auto env = NewEncryptedFilesEnv(**crypto);
  auto other_env = NewEncryptedFilesEnv(**other);
  const std::string path = dir_ + "/f";
  ASSERT_TRUE(rocksdb::WriteStringToFile(env.get(), "hello", path).ok());
  std::string back;
  ASSERT_TRUE(rocksdb::ReadFileToString(env.get(), path, &back).ok());
  EXPECT_EQ(back, "hello");
  auto s = rocksdb::ReadFileToString(other_env.get(), path, &back);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.ToString(), HasSubstr("encrypted under another key"));
  // A plain file is refused too.
  ASSERT_TRUE(rocksdb::WriteStringToFile(rocksdb::Env::Default(), "plain", path + "p").ok());
  s = rocksdb::ReadFileToString(env.get(), path + "p", &back);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.ToString(), HasSubstr("not encrypted by contactpoint"));
}

}  // namespace
}  // namespace cp
