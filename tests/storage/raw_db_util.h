// A store's RocksDB opened directly, with every column family on disk: for tests that
// damage a database on purpose or look at every byte it holds. Open it only while no
// ChildStore has the directory open.
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/crypto.h"
#include "storage/file_encryption.h"

namespace cp::testing_util {

// The key file of a test database: beside its directory, as TempDirTest lays them out
// (<dir>/db and <dir>/master.key).
inline std::string KeyBeside(const std::string& db_dir) {
  return (std::filesystem::path(db_dir).parent_path() / "master.key").string();
}

// The Env that reads files encrypted under `key_file`'s key; one per key, kept for the
// process (a DB or reader must not outlive its Env). Found by the file's bytes, not its
// path: a test that creates a database again at the same path has a new key there.
inline rocksdb::Env* FilesEnv(const std::string& key_file) {
  static std::map<std::string, std::unique_ptr<rocksdb::Env>> envs;
  std::ifstream in(key_file, std::ios::binary);
  const std::string key_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto& env = envs[key_bytes];
  if (env == nullptr) {
    auto crypto = Crypto::LoadKeyFile(key_file);
    EXPECT_TRUE(crypto.ok()) << crypto.status().ToString();
    if (!crypto.ok()) return rocksdb::Env::Default();
    env = NewEncryptedFilesEnv(**crypto);
  }
  return env.get();
}

// Options for opening a test database directly: its files are encrypted (under
// `key_file`, by default the key beside the directory) unless CURRENT says otherwise.
inline rocksdb::DBOptions RawDbOptions(const std::string& db_dir, const std::string& key_file = "") {
  rocksdb::DBOptions options;
  auto prefix = ReadFilePrefix(db_dir + "/CURRENT");
  if (prefix.ok() && prefix->encrypted) {
    options.env = FilesEnv(key_file.empty() ? KeyBeside(db_dir) : key_file);
    auto log = NewEncryptedInfoLog(options.env, db_dir);  // RocksDB's own LOG is in clear
    if (log.ok()) options.info_log = *log;
  }
  return options;
}

// A file's contents as RocksDB wrote them: decrypted when the file is encrypted (under the
// key beside its database directory), as they are otherwise. The tests that look for data
// in clear read files this way, so that what they prove (hidden fields sealed, no
// password stored) holds beneath file encryption too, not only because of it; their
// controls (data stored unsealed on purpose) are then visible again.
inline std::string ReadFileBytes(const std::string& path) {
  auto prefix = ReadFilePrefix(path);
  std::string bytes;
  if (prefix.ok() && prefix->encrypted) {
    auto s = rocksdb::ReadFileToString(
        FilesEnv(KeyBeside(std::filesystem::path(path).parent_path().string())), path, &bytes);
    if (!s.ok() && std::filesystem::exists(path)) ADD_FAILURE() << path << ": " << s.ToString();
    return bytes;
  }
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Options for an SstFileReader of `sst_path`: encrypted files under the key beside their
// database directory, other files as they are.
inline rocksdb::Options SstReaderOptions(const std::string& sst_path) {
  rocksdb::Options options;
  auto prefix = ReadFilePrefix(sst_path);
  if (prefix.ok() && prefix->encrypted) {
    options.env = FilesEnv(KeyBeside(std::filesystem::path(sst_path).parent_path().string()));
  }
  return options;
}

class RawDb {
 public:
  explicit RawDb(const std::string& db_dir, const std::string& key_file = "") {
    std::vector<std::string> names;
    const rocksdb::DBOptions options = RawDbOptions(db_dir, key_file);
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(options, db_dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    auto s = rocksdb::DB::Open(options, db_dir, descriptors, &handles_, &db_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (size_t i = 0; s.ok() && i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    if (db_ == nullptr) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
    delete db_;
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  rocksdb::ColumnFamilyHandle* cf(const std::string& name) { return by_name_.at(name); }
  void Put(const std::string& family, const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), cf(family), key, value).ok());
  }
  void Delete(const std::string& family, const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), cf(family), key).ok());
  }
  std::string Get(const std::string& family, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), cf(family), key, &v).ok());
    return v;
  }

  // Every family's entries: family -> key -> value.
  std::map<std::string, std::map<std::string, std::string>> Dump() {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const auto& [name, handle] : by_name_) {
      auto& family = out[name];
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handle));
      for (it->SeekToFirst(); it->Valid(); it->Next())
        family[it->key().ToString()] = it->value().ToString();
    }
    return out;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

}  // namespace cp::testing_util
