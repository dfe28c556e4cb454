// AES-256-CTR file encryption for RocksDB's EncryptedFileSystem (storage/file_encryption.h).
#include "storage/file_encryption.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rocksdb/env.h>
#include <rocksdb/env_encryption.h>
#include <rocksdb/file_system.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <system_error>

#include "storage/crypto.h"

namespace cp {
namespace {

constexpr char kMagic[] = "cp-aes256ctr-v1\n";
constexpr size_t kMagicBytes = sizeof(kMagic) - 1;  // 16
constexpr size_t kFingerprintChars = 16;
constexpr size_t kIvBytes = 16;
constexpr size_t kFingerprintAt = kMagicBytes;
constexpr size_t kIvAt = kFingerprintAt + kFingerprintChars;
constexpr size_t kHeaderBytes = kIvAt + kIvBytes;  // 48; the rest of the prefix is zeros
constexpr size_t kAesBlock = 16;
static_assert(kMagicBytes == 16);

// One fetch for the process: an implicit fetch (EVP_aes_256_ctr) costs a lookup per init.
const EVP_CIPHER* AesCtr() {
  static const EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
  return cipher;
}

// The counter block for byte `offset`: IV + offset / 16 as a 128-bit big-endian sum.
std::array<uint8_t, kIvBytes> CounterBlock(const std::array<uint8_t, kIvBytes>& iv,
                                           uint64_t offset) {
  std::array<uint8_t, kIvBytes> block = iv;
  uint64_t add = offset / kAesBlock;
  unsigned carry = 0;
  for (int i = kIvBytes - 1; i >= 0; --i) {
    unsigned sum = block[i] + static_cast<unsigned>(add & 0xff) + carry;
    block[i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
    add >>= 8;
  }
  return block;
}

// XORs `data` with the keystream from byte `offset` of the file. Encryption and decryption
// are the same operation in CTR mode. A context per call, as in Crypto: no key schedule
// outlives the call and no state is shared between the threads RocksDB reads with.
rocksdb::Status ApplyKeystream(const std::array<uint8_t, Crypto::kKeyBytes>& key,
                               const std::array<uint8_t, kIvBytes>& iv, uint64_t offset,
                               char* data, size_t size) {
  if (size == 0) return rocksdb::Status::OK();
  const EVP_CIPHER* cipher = AesCtr();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (cipher == nullptr || ctx == nullptr) {
    EVP_CIPHER_CTX_free(ctx);
    return rocksdb::Status::IOError("file encryption: AES-256-CTR is unavailable in OpenSSL");
  }
  const auto counter = CounterBlock(iv, offset);
  bool ok = EVP_EncryptInit_ex2(ctx, cipher, key.data(), counter.data(), nullptr) == 1;
  int out_len = 0;
  // Discard the keystream before `offset` within its block.
  if (ok && offset % kAesBlock != 0) {
    uint8_t skip[kAesBlock] = {};
    ok = EVP_EncryptUpdate(ctx, skip, &out_len, skip, static_cast<int>(offset % kAesBlock)) == 1;
  }
  auto* p = reinterpret_cast<unsigned char*>(data);
  while (ok && size > 0) {
    const size_t n = std::min<size_t>(size, INT_MAX / 2);
    ok = EVP_EncryptUpdate(ctx, p, &out_len, p, static_cast<int>(n)) == 1;
    p += n;
    size -= n;
  }
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return rocksdb::Status::IOError("file encryption: AES-256-CTR failed in OpenSSL");
  return rocksdb::Status::OK();
}

class AesCtrStream : public rocksdb::BlockAccessCipherStream {
 public:
  AesCtrStream(const std::array<uint8_t, Crypto::kKeyBytes>& key,
               const std::array<uint8_t, kIvBytes>& iv)
      : key_(key), iv_(iv) {}
  ~AesCtrStream() override { OPENSSL_cleanse(key_.data(), key_.size()); }

  size_t BlockSize() override { return kAesBlock; }
  // Whole ranges at once: the base class would call EncryptBlock per 16 bytes.
  rocksdb::Status Encrypt(uint64_t offset, char* data, size_t size) override {
    return ApplyKeystream(key_, iv_, offset, data, size);
  }
  rocksdb::Status Decrypt(uint64_t offset, char* data, size_t size) override {
    return ApplyKeystream(key_, iv_, offset, data, size);
  }

 protected:
  void AllocateScratch(std::string&) override {}
  rocksdb::Status EncryptBlock(uint64_t index, char* data, char*) override {
    return ApplyKeystream(key_, iv_, index * kAesBlock, data, kAesBlock);
  }
  rocksdb::Status DecryptBlock(uint64_t index, char* data, char*) override {
    return ApplyKeystream(key_, iv_, index * kAesBlock, data, kAesBlock);
  }

 private:
  std::array<uint8_t, Crypto::kKeyBytes> key_;
  std::array<uint8_t, kIvBytes> iv_;
};

class AesCtrProvider : public rocksdb::EncryptionProvider {
 public:
  explicit AesCtrProvider(const Crypto& crypto)
      : key_(crypto.FileKey()), fingerprint_(crypto.KeyFingerprint()) {}
  ~AesCtrProvider() override { OPENSSL_cleanse(key_.data(), key_.size()); }

  const char* Name() const override { return "cp.AesCtrProvider.v1"; }
  size_t GetPrefixLength() const override { return kFilePrefixBytes; }

  rocksdb::Status CreateNewPrefix(const std::string& /*fname*/, char* prefix,
                                  size_t length) const override {
    if (length < kHeaderBytes) return rocksdb::Status::InvalidArgument("file prefix too short");
    std::memset(prefix, 0, length);
    std::memcpy(prefix, kMagic, kMagicBytes);
    if (fingerprint_.size() != kFingerprintChars) {
      return rocksdb::Status::InvalidArgument("unexpected key fingerprint length");
    }
    std::memcpy(prefix + kFingerprintAt, fingerprint_.data(), kFingerprintChars);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(prefix + kIvAt), kIvBytes) != 1) {
      return rocksdb::Status::IOError("file encryption: no random bytes for an IV");
    }
    return rocksdb::Status::OK();
  }

  rocksdb::Status AddCipher(const std::string&, const char*, size_t, bool) override {
    return rocksdb::Status::NotSupported("the file key comes from the key file");
  }

  rocksdb::Status CreateCipherStream(
      const std::string& fname, const rocksdb::EnvOptions& /*options*/, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override {
    if (prefix.size() < kHeaderBytes || std::memcmp(prefix.data(), kMagic, kMagicBytes) != 0) {
      return rocksdb::Status::Corruption(fname + " is not encrypted by contactpoint (no " +
                                         "encryption prefix): written without encryption, or "
                                         "not a contactpoint file");
    }
    std::string_view fingerprint(prefix.data() + kFingerprintAt, kFingerprintChars);
    if (fingerprint != fingerprint_) {
      return rocksdb::Status::Corruption(fname + " is encrypted under another key (key " +
                                         std::string(fingerprint) + ", this key " +
                                         fingerprint_ + ")");
    }
    std::array<uint8_t, kIvBytes> iv;
    std::memcpy(iv.data(), prefix.data() + kIvAt, kIvBytes);
    result->reset(new AesCtrStream(key_, iv));
    return rocksdb::Status::OK();
  }

 private:
  std::array<uint8_t, Crypto::kKeyBytes> key_;
  std::string fingerprint_;
};

// RocksDB 7.8's encrypted file system reopens an existing file for writing by appending a
// fresh prefix at its end, as if the file were new. An ingest with move_files (the bulk
// loader) reopens each linked SST file only to sync it, and so left a second prefix on it:
// the file's size no longer matched the MANIFEST and the next open failed. Reopening is
// refused instead; the ingest skips its sync on NotSupported, which is safe because
// SstFileWriter::Finish has synced the file already. Nothing else in the store reopens a
// file for writing (no WAL recycling).
class EncryptedFilesFs : public rocksdb::FileSystemWrapper {
 public:
  explicit EncryptedFilesFs(const std::shared_ptr<rocksdb::FileSystem>& encrypted)
      : FileSystemWrapper(encrypted) {}
  const char* Name() const override { return "cp.EncryptedFiles"; }
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions&,
                                       std::unique_ptr<rocksdb::FSWritableFile>*,
                                       rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::NotSupported("reopening encrypted file " + fname);
  }
};

// RocksDB's info log, written through the encrypted Env: RocksDB opens its own LOG with
// the base Env's logger, in clear, and a LOG names compaction ranges (keys, and keys hold
// name tokens). One line per call, flushed, under a mutex (RocksDB logs from many threads).
class EncryptedInfoLog : public rocksdb::Logger {
 public:
  explicit EncryptedInfoLog(std::unique_ptr<rocksdb::WritableFile> file)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(std::move(file)) {}
  ~EncryptedInfoLog() override {
    if (!closed_) CloseImpl().PermitUncheckedError();
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[4096];
    timeval now{};
    gettimeofday(&now, nullptr);
    tm t{};
    time_t seconds = now.tv_sec;
    localtime_r(&seconds, &t);
    int n = std::snprintf(line, sizeof(line), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                          t.tm_sec, static_cast<long>(now.tv_usec));
    va_list copy;
    va_copy(copy, ap);
    int body = std::vsnprintf(line + n, sizeof(line) - n - 1, format, copy);
    va_end(copy);
    size_t len = std::min(sizeof(line) - 2, static_cast<size_t>(n + std::max(body, 0)));
    line[len++] = '\n';
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    file_->Append(rocksdb::Slice(line, len)).PermitUncheckedError();
    file_->Flush().PermitUncheckedError();
  }
  void Flush() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) file_->Flush().PermitUncheckedError();
  }

 protected:
  rocksdb::Status CloseImpl() override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    return file_->Close();
  }

 private:
  std::mutex mu_;
  std::unique_ptr<rocksdb::WritableFile> file_;
};

}  // namespace

Result<std::shared_ptr<rocksdb::Logger>> NewEncryptedInfoLog(rocksdb::Env* env,
                                                             const std::string& db_dir) {
  const std::string log = db_dir + "/LOG";
  auto s = env->CreateDirIfMissing(db_dir);
  if (s.ok() && env->FileExists(log).ok()) s = env->RenameFile(log, db_dir + "/LOG.old");
  std::unique_ptr<rocksdb::WritableFile> file;
  if (s.ok()) s = env->NewWritableFile(log, &file, rocksdb::EnvOptions());
  if (!s.ok()) return Status::IOError("creating the info log " + log + ": " + s.ToString());
  return std::shared_ptr<rocksdb::Logger>(std::make_shared<EncryptedInfoLog>(std::move(file)));
}

std::unique_ptr<rocksdb::Env> NewEncryptedFilesEnv(const Crypto& crypto) {
  auto provider = std::make_shared<AesCtrProvider>(crypto);
  return rocksdb::NewCompositeEnv(std::make_shared<EncryptedFilesFs>(
      rocksdb::NewEncryptedFS(rocksdb::FileSystem::Default(), provider)));
}

Result<FilePrefix> ReadFilePrefix(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return Status::IOError("cannot read " + path + ": " +
                           std::error_code(errno, std::generic_category()).message());
  }
  char header[kHeaderBytes];
  size_t got = 0;
  while (got < kHeaderBytes) {
    ssize_t r = ::read(fd, header + got, kHeaderBytes - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  FilePrefix out;
  if (got == kHeaderBytes && std::memcmp(header, kMagic, kMagicBytes) == 0) {
    out.encrypted = true;
    out.key_fingerprint.assign(header + kFingerprintAt, kFingerprintChars);
  }
  return out;
}

namespace {

// PermissionDenied when `prefix` (of `path`) says its file is encrypted under a key other
// than `crypto`'s; `what` names the file for the message.
Status CheckFileKey(const FilePrefix& prefix, const Crypto& crypto, const std::string& key_file,
                    const std::string& what) {
  if (!prefix.encrypted || prefix.key_fingerprint == crypto.KeyFingerprint()) return Status::OK();
  return Status::PermissionDenied("key file " + key_file + " is not the key " + what +
                                  " (its files are encrypted under key " + prefix.key_fingerprint +
                                  ", this key file holds " + crypto.KeyFingerprint() + ")");
}

}  // namespace

Status ReadInfoLog(const std::string& db_dir, const std::string& key_file, bool previous,
                   const std::function<void(std::string_view)>& chunk) {
  const std::string path = db_dir + (previous ? "/LOG.old" : "/LOG");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return Status::NotFound("no info log " + path);
  auto prefix = ReadFilePrefix(path);
  if (!prefix.ok()) return prefix.status();
  std::unique_ptr<Crypto> crypto;
  std::unique_ptr<rocksdb::Env> env;
  rocksdb::Env* read_with = rocksdb::Env::Default();
  if (prefix->encrypted) {
    auto loaded = Crypto::LoadKeyFile(key_file);
    if (!loaded.ok()) return loaded.status();
    crypto = std::move(*loaded);
    Status k = CheckFileKey(*prefix, *crypto, key_file, "the info log " + path + " needs");
    if (!k.ok()) return k;
    env = NewEncryptedFilesEnv(*crypto);
    read_with = env.get();
  }
  std::unique_ptr<rocksdb::SequentialFile> file;
  auto s = read_with->NewSequentialFile(path, &file, rocksdb::EnvOptions());
  std::string scratch(size_t{1} << 16, '\0');
  while (s.ok()) {
    rocksdb::Slice got;
    s = file->Read(scratch.size(), &got, scratch.data());
    if (!s.ok() || got.empty()) break;
    chunk(std::string_view(got.data(), got.size()));
  }
  if (!s.ok()) return Status::IOError("reading " + path + ": " + s.ToString());
  return Status::OK();
}

Status CheckDbFilesKey(const std::string& db_dir, const Crypto& crypto,
                       const std::string& key_file, bool* encrypted) {
  auto prefix = ReadFilePrefix(db_dir + "/CURRENT");
  if (!prefix.ok()) return prefix.status();
  *encrypted = prefix->encrypted;
  return CheckFileKey(*prefix, crypto, key_file, "database " + db_dir + " was created with");
}

}  // namespace cp
