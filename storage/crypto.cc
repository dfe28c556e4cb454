// Implementation of storage/crypto.h over OpenSSL 3 EVP.
//
// Key file format (version 1): exactly two text lines, ASCII, 85 bytes in all:
//
//   contactpoint-key v1\n
//   <64 hex digits: the 32-byte master key>\n
//
// CreateKeyFile writes lower-case hex; LoadKeyFile accepts either case and tolerates a
// missing final newline, but nothing else (no blank lines, no spaces, no CR). The first
// line names the format so that a later version can be told apart and refused clearly.
//
// Subkeys: HKDF-SHA256 (RFC 5869) over the master key, no salt (the master key is already
// uniformly random, so the extract step needs none), 32 bytes each, with the info labels
// kSealLabel, kHashLabel, kFileLabel, kRowLabel and kPlaceLabel below. Changing a label or the derivation makes every existing
// database unreadable: the labels are part of the on-disk format.
//
// Failure policy: Seal, KeyedHash and FromKey have no error channel. If OpenSSL fails inside
// them (no random bytes, allocation failure, a broken provider) the process aborts with a
// message rather than return bytes that would be stored as if they protected the data.
// These failures are not caused by input, only by a broken library or system.

#include "storage/crypto.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>
#include <vector>

#include "util/coding.h"

namespace cp {
namespace {

constexpr char kKeyFileHeader[] = "contactpoint-key v1";
constexpr size_t kKeyHexChars = 2 * Crypto::kKeyBytes;
// Header line + newline + hex line + newline.
constexpr size_t kKeyFileBytes = sizeof(kKeyFileHeader) - 1 + 1 + kKeyHexChars + 1;
// Anything larger than this is not a key file; refuse before reading it into memory.
constexpr off_t kKeyFileMaxBytes = 4096;

constexpr char kSealLabel[] = "contactpoint hidden-fields aes-256-gcm v1";
constexpr char kHashLabel[] = "contactpoint keyed-hash v1";
constexpr char kFileLabel[] = "contactpoint database-files aes-256-ctr v1";
constexpr char kRowLabel[] = "contactpoint row-fingerprint xxh3-aes v1";
constexpr char kPlaceLabel[] = "contactpoint place-hash xxh3-aes v1";

constexpr uint8_t kSealVersion = 0x01;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kSealOverhead = 1 + kNonceBytes + kTagBytes;
constexpr size_t kKeyedHashBytes = 16;
constexpr size_t kFingerprintBytes = 8;

// EVP update calls take int lengths; larger inputs are fed in pieces of this size.
constexpr size_t kMaxChunk = size_t{1} << 30;

[[noreturn]] void Fatal(const char* what) {
  unsigned long err = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  char buf[256] = "no OpenSSL error queued";
  if (err != 0) ERR_error_string_n(err, buf, sizeof(buf));
  std::fprintf(stderr, "contactpoint: fatal: crypto: %s failed (%s)\n", what, buf);
  std::abort();
}

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Appends lower-case hex. Callers that format key material reserve `out` first so that no
// reallocation leaves an uncleansed copy behind.
void AppendHex(std::string& out, const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Wipes a std::string's bytes before it is destroyed (for buffers that held key hex).
void CleanseString(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// Owns a file descriptor; closes it (ignoring errors) unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

int OpenRetrying(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("cannot write key file " + path + ": " + ErrnoText(errno));
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// Makes the new directory entry durable: fsync of the file alone does not persist its name.
Status SyncParentDirectory(const std::string& path) {
  std::string dir;
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    dir = ".";
  } else if (slash == 0) {
    dir = "/";
  } else {
    dir = path.substr(0, slash);
  }
  Fd fd(OpenRetrying(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Status::IOError("cannot open directory " + dir + " to sync key file " + path + ": " +
                           ErrnoText(errno));
  }
  if (::fsync(fd.get()) != 0) {
    return Status::IOError("cannot sync directory " + dir + " of key file " + path + ": " +
                           ErrnoText(errno));
  }
  return Status::OK();
}

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The checks that apply to the file itself, run on both stat() (for a clear message before
// opening) and fstat() of the opened descriptor (authoritative: the path may have changed).
Status CheckKeyFileStat(const struct stat& st, const std::string& path) {
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("key file " + path +
                                   " is not a regular file (a directory, device or socket?)");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::FailedPrecondition("key file " + path + " has mode " + ModeText(st.st_mode) +
                                      ", which lets group or others read it; restrict it with: "
                                      "chmod 600 " +
                                      path);
  }
  if (st.st_size > kKeyFileMaxBytes) {
    return Status::Corruption("key file " + path + " is " + std::to_string(st.st_size) +
                              " bytes; a key file is " + std::to_string(kKeyFileBytes) + " bytes");
  }
  return Status::OK();
}

// Parses the key file text into `key`. Messages never quote the content: it is a secret.
Status ParseKeyFile(const std::string& text, const std::string& path,
                    std::array<uint8_t, Crypto::kKeyBytes>& key) {
  const std::string_view header(kKeyFileHeader);
  std::string_view rest(text);
  if (rest.substr(0, header.size()) != header || rest.size() == header.size() ||
      rest[header.size()] != '\n') {
    return Status::Corruption("key file " + path + " is malformed: the first line is not '" +
                              std::string(header) + "'");
  }
  rest.remove_prefix(header.size() + 1);
  if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  if (rest.find('\n') != std::string_view::npos) {
    return Status::Corruption("key file " + path +
                              " is malformed: expected exactly two lines (header and key)");
  }
  if (rest.size() != kKeyHexChars) {
    return Status::Corruption("key file " + path + " is malformed: the key line has " +
                              std::to_string(rest.size()) + " characters, expected " +
                              std::to_string(kKeyHexChars) + " hex digits (" +
                              std::to_string(Crypto::kKeyBytes) + " bytes)");
  }
  for (size_t i = 0; i < Crypto::kKeyBytes; ++i) {
    int hi = HexValue(rest[2 * i]);
    int lo = HexValue(rest[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(key.data(), key.size());
      return Status::Corruption("key file " + path +
                                " is malformed: the key line has a character that is not a hex "
                                "digit at column " +
                                std::to_string(2 * i + (hi < 0 ? 1 : 2)));
    }
    key[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return Status::OK();
}

void Hkdf(const std::array<uint8_t, Crypto::kKeyBytes>& master, const char* label,
          std::array<uint8_t, Crypto::kKeyBytes>& out) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (kdf == nullptr) Fatal("EVP_KDF_fetch(HKDF)");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);  // the context holds its own reference
  if (ctx == nullptr) Fatal("EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(master.data()),
                                        master.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(label),
                                        std::strlen(label)),
      OSSL_PARAM_construct_end(),
  };
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);  // cleanses its copy of the key
  if (ok != 1) Fatal("EVP_KDF_derive(HKDF-SHA256)");
}

// Feeds associated data (out == nullptr) or text through EVP_{En,De}cryptUpdate in int-sized
// pieces. Returns false if OpenSSL refused a piece. GCM is a stream mode: output length
// equals input length for every piece.
template <typename UpdateFn>
bool UpdateChunked(UpdateFn update, EVP_CIPHER_CTX* ctx, uint8_t* out, const uint8_t* in,
                   size_t n) {
  while (n > 0) {
    int len = static_cast<int>(n < kMaxChunk ? n : kMaxChunk);
    int outl = 0;
    if (update(ctx, out, &outl, in, len) != 1) return false;
    if (out != nullptr) {
      if (outl != len) return false;
      out += len;
    }
    in += len;
    n -= static_cast<size_t>(len);
  }
  return true;
}

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

// Contexts keyed once with the seal key, one direction each, reused by Seal and Open with
// a new nonce: scheduling the AES key and GCM's hash key cost more than sealing a record
// (a search's audit entry and every result's hidden fields are sealed or opened). A call
// takes a context for itself, so threads never share one; the pool holds at most as many
// as calls ever ran at once. The expanded keys live as long as the Crypto, which holds the
// key anyway, and are cleansed with it (EVP_CIPHER_CTX_free).
class Crypto::CipherPool {
 public:
  // `cipher`: AES-256-GCM for sealing, AES-256-ECB without padding for row fingerprints
  // and place hashes (one block each, so a context carries nothing from one call to the
  // next).
  CipherPool(const std::array<uint8_t, kKeyBytes>& key, const EVP_CIPHER* cipher)
      : key_(key), cipher_(cipher) {}
  ~CipherPool() {
    for (EVP_CIPHER_CTX* c : free_[0]) EVP_CIPHER_CTX_free(c);
    for (EVP_CIPHER_CTX* c : free_[1]) EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(key_.data(), key_.size());
  }

  // A context keyed for encryption (or decryption) and ready for EVP_*Init_ex with only a
  // nonce; nullptr when OpenSSL cannot make one.
  EVP_CIPHER_CTX* Take(bool encrypt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& list = free_[encrypt ? 1 : 0];
      if (!list.empty()) {
        EVP_CIPHER_CTX* c = list.back();
        list.pop_back();
        return c;
      }
    }
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    if (c == nullptr) return nullptr;
    if (EVP_CipherInit_ex(c, cipher_, nullptr, key_.data(), nullptr, encrypt ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
      EVP_CIPHER_CTX_free(c);
      return nullptr;
    }
    return c;
  }
  void Give(EVP_CIPHER_CTX* c, bool encrypt) {
    std::lock_guard<std::mutex> lock(mu_);
    free_[encrypt ? 1 : 0].push_back(c);
  }

 private:
  std::array<uint8_t, kKeyBytes> key_;
  const EVP_CIPHER* cipher_;
  std::mutex mu_;
  std::vector<EVP_CIPHER_CTX*> free_[2];  // [0] decrypt, [1] encrypt
};

// One pooled context for the length of a call, back to the pool on every path out.
class PooledCipher {
 public:
  PooledCipher(Crypto::CipherPool* pool, bool encrypt)
      : pool_(pool), encrypt_(encrypt), ctx(pool->Take(encrypt)) {}
  ~PooledCipher() {
    if (ctx != nullptr) pool_->Give(ctx, encrypt_);
  }
  PooledCipher(const PooledCipher&) = delete;
  PooledCipher& operator=(const PooledCipher&) = delete;

 private:
  Crypto::CipherPool* pool_;
  bool encrypt_;

 public:
  EVP_CIPHER_CTX* ctx;
};

Result<std::unique_ptr<Crypto>> Crypto::CreateKeyFile(const std::string& path) {
  std::array<uint8_t, kKeyBytes> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    return Status::IOError("cannot create key file " + path +
                           ": the random number generator failed");
  }
  std::string text;
  text.reserve(kKeyFileBytes);
  text.append(kKeyFileHeader).append("\n");
  AppendHex(text, key.data(), key.size());
  text.push_back('\n');

  // O_EXCL: an existing key file protects existing data and must never be replaced.
  Fd fd(OpenRetrying(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) {
    int err = errno;
    CleanseString(text);
    OPENSSL_cleanse(key.data(), key.size());
    if (err == EEXIST) {
      return Status::AlreadyExists("key file " + path +
                                   " already exists; it is never overwritten (move it away "
                                   "first if you really mean to replace the key)");
    }
    return Status::IOError("cannot create key file " + path + ": " + ErrnoText(err));
  }
  // The umask may have cleared bits from 0600; set the mode exactly so that LoadKeyFile
  // (which requires no group/other access) and the owner can both use the file.
  Status s;
  if (::fchmod(fd.get(), 0600) != 0) {
    s = Status::IOError("cannot set mode 0600 on key file " + path + ": " + ErrnoText(errno));
  }
  if (s.ok()) s = WriteAll(fd.get(), text.data(), text.size(), path);
  CleanseString(text);
  if (s.ok() && ::fsync(fd.get()) != 0) {
    s = Status::IOError("cannot sync key file " + path + ": " + ErrnoText(errno));
  }
  if (s.ok() && ::close(fd.release()) != 0) {
    s = Status::IOError("cannot close key file " + path + ": " + ErrnoText(errno));
  }
  if (s.ok()) s = SyncParentDirectory(path);
  if (!s.ok()) {
    // We created the file exclusively, so it is ours to remove; leaving a partial file would
    // make the next attempt fail with AlreadyExists and loading it fail as malformed.
    ::unlink(path.c_str());
    OPENSSL_cleanse(key.data(), key.size());
    return s;
  }
  std::unique_ptr<Crypto> crypto = FromKey(key);
  OPENSSL_cleanse(key.data(), key.size());
  return crypto;
}

Result<std::unique_ptr<Crypto>> Crypto::LoadKeyFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return Status::NotFound("key file " + path +
                              " does not exist (create one with the init command, or pass the "
                              "path of the existing key file)");
    }
    return Status::IOError("cannot stat key file " + path + ": " + ErrnoText(err));
  }
  Status s = CheckKeyFileStat(st, path);
  if (!s.ok()) return s;

  // O_NONBLOCK: if the path was swapped for a FIFO after stat(), open must not hang.
  Fd fd(OpenRetrying(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("key file " + path + " does not exist");
    return Status::IOError("cannot open key file " + path + ": " + ErrnoText(err));
  }
  // Re-check on the opened file: the path could have been replaced since stat().
  if (::fstat(fd.get(), &st) != 0) {
    return Status::IOError("cannot stat key file " + path + ": " + ErrnoText(errno));
  }
  s = CheckKeyFileStat(st, path);
  if (!s.ok()) return s;

  // Read at most kKeyFileMaxBytes + 1 so that a file that grew after fstat is still caught.
  std::string text(static_cast<size_t>(kKeyFileMaxBytes) + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t r = ::read(fd.get(), text.data() + got, text.size() - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      CleanseString(text);
      return Status::IOError("cannot read key file " + path + ": " + ErrnoText(err));
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  if (got > static_cast<size_t>(kKeyFileMaxBytes)) {
    CleanseString(text);
    return Status::Corruption("key file " + path + " is too large to be a key file");
  }
  text.resize(got);

  std::array<uint8_t, kKeyBytes> key{};
  s = ParseKeyFile(text, path, key);
  CleanseString(text);
  if (!s.ok()) return s;
  std::unique_ptr<Crypto> crypto = FromKey(key);
  OPENSSL_cleanse(key.data(), key.size());
  return crypto;
}

std::unique_ptr<Crypto> Crypto::FromKey(const std::array<uint8_t, kKeyBytes>& key) {
  std::unique_ptr<Crypto> crypto(new Crypto());
  Hkdf(key, kSealLabel, crypto->seal_key_);
  crypto->ciphers_ = std::make_unique<CipherPool>(crypto->seal_key_, EVP_aes_256_gcm());
  Hkdf(key, kHashLabel, crypto->hash_key_);
  Hkdf(key, kFileLabel, crypto->file_key_);
  std::array<uint8_t, kKeyBytes> row_key{};
  Hkdf(key, kRowLabel, row_key);
  crypto->row_ciphers_ = std::make_unique<CipherPool>(row_key, EVP_aes_256_ecb());
  Hkdf(key, kPlaceLabel, row_key);
  crypto->place_ciphers_ = std::make_unique<CipherPool>(row_key, EVP_aes_256_ecb());
  OPENSSL_cleanse(row_key.data(), row_key.size());
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) Fatal("EVP_MAC_fetch(HMAC)");
  crypto->hash_mac_ = EVP_MAC_CTX_new(hmac);
  EVP_MAC_free(hmac);  // the context holds its own reference
  char sha256[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256, 0),
                               OSSL_PARAM_construct_end()};
  if (crypto->hash_mac_ == nullptr ||
      EVP_MAC_init(crypto->hash_mac_, crypto->hash_key_.data(), crypto->hash_key_.size(), params) != 1) {
    Fatal("EVP_MAC_init(HMAC-SHA256)");
  }
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &digest_len, EVP_sha256(), nullptr) != 1 ||
      digest_len < kFingerprintBytes) {
    Fatal("EVP_Digest(SHA-256)");
  }
  AppendHex(crypto->fingerprint_, digest, kFingerprintBytes);
  OPENSSL_cleanse(digest, sizeof(digest));
  return crypto;
}

Crypto::Crypto() = default;

Crypto::~Crypto() {
  EVP_MAC_CTX_free(hash_mac_);  // cleanses the keyed state
  OPENSSL_cleanse(seal_key_.data(), seal_key_.size());
  OPENSSL_cleanse(hash_key_.data(), hash_key_.size());
  OPENSSL_cleanse(file_key_.data(), file_key_.size());
}

namespace {

// Bumped in a forked child, so that it never hands out nonces its parent also holds.
std::atomic<uint64_t> fork_generation{0};

// Random nonces, drawn from OpenSSL's generator a few hundred at a time: one RAND_bytes
// call per nonce cost 6,700 instructions, 3% of a bulk import. Each thread has its own
// buffer; every nonce is still 96 fresh random bits, used once. A forked child starts
// afresh (pthread_atfork), since its copy of the buffer is its parent's.
void TakeNonce(uint8_t* nonce) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
  struct Buffer {
    uint8_t bytes[kNonceBytes * 341];
    size_t next = sizeof(bytes);
    uint64_t generation = 0;
  };
  thread_local Buffer buffer;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (buffer.next + kNonceBytes > sizeof(buffer.bytes) || buffer.generation != generation) {
    // A repeated nonce under one key breaks GCM; a failing generator must not be papered over.
    if (RAND_bytes(buffer.bytes, static_cast<int>(sizeof(buffer.bytes))) != 1) Fatal("RAND_bytes(nonce)");
    buffer.next = 0;
    buffer.generation = generation;
  }
  std::memcpy(nonce, buffer.bytes + buffer.next, kNonceBytes);
  buffer.next += kNonceBytes;
}

}  // namespace

std::string Crypto::Seal(std::string_view plaintext, std::string_view associated) const {
  std::string out(kSealOverhead + plaintext.size(), '\0');
  uint8_t* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kSealVersion;
  uint8_t* nonce = p + 1;
  uint8_t* ciphertext = nonce + kNonceBytes;
  uint8_t* tag = ciphertext + plaintext.size();
  TakeNonce(nonce);

  PooledCipher c(ciphers_.get(), true);
  if (c.ctx == nullptr) Fatal("EVP_CIPHER_CTX_new");
  // The default GCM IV length is 12 bytes, which is kNonceBytes. Setting the nonce starts a
  // new message under the context's key.
  if (EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, nullptr, nonce) != 1) {
    Fatal("EVP_EncryptInit_ex(aes-256-gcm)");
  }
  if (!UpdateChunked(EVP_EncryptUpdate, c.ctx, nullptr, Bytes(associated), associated.size()) ||
      !UpdateChunked(EVP_EncryptUpdate, c.ctx, ciphertext, Bytes(plaintext), plaintext.size())) {
    Fatal("EVP_EncryptUpdate");
  }
  int final_len = 0;
  if (EVP_EncryptFinal_ex(c.ctx, tag, &final_len) != 1 || final_len != 0) {
    Fatal("EVP_EncryptFinal_ex");
  }
  if (EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag) != 1) {
    Fatal("EVP_CTRL_GCM_GET_TAG");
  }
  return out;
}

Result<std::string> Crypto::Open(std::string_view sealed, std::string_view associated) const {
  if (sealed.size() < kSealOverhead) {
    return Status::Corruption("sealed value is " + std::to_string(sealed.size()) +
                              " bytes, shorter than the " + std::to_string(kSealOverhead) +
                              "-byte minimum");
  }
  const uint8_t* p = Bytes(sealed);
  if (p[0] != kSealVersion) {
    return Status::Corruption("sealed value has unknown format version " +
                              std::to_string(static_cast<unsigned>(p[0])));
  }
  const uint8_t* nonce = p + 1;
  const uint8_t* ciphertext = nonce + kNonceBytes;
  const size_t ciphertext_len = sealed.size() - kSealOverhead;
  const uint8_t* tag = ciphertext + ciphertext_len;

  PooledCipher c(ciphers_.get(), false);
  if (c.ctx == nullptr) return Status::IOError("cannot allocate a cipher context");
  if (EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, nullptr, nonce) != 1) {
    return Status::IOError("cannot initialise AES-256-GCM");
  }
  std::string plaintext(ciphertext_len, '\0');
  uint8_t* out = reinterpret_cast<uint8_t*>(plaintext.data());
  bool ok =
      UpdateChunked(EVP_DecryptUpdate, c.ctx, nullptr, Bytes(associated), associated.size()) &&
      UpdateChunked(EVP_DecryptUpdate, c.ctx, out, ciphertext, ciphertext_len) &&
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                          const_cast<uint8_t*>(tag)) == 1;
  int final_len = 0;
  // Final verifies the tag; only after it succeeds may the plaintext be used.
  ok = ok && EVP_DecryptFinal_ex(c.ctx, out + ciphertext_len, &final_len) == 1 && final_len == 0;
  if (!ok) {
    // Unauthenticated plaintext must not linger in freed memory.
    CleanseString(plaintext);
    return Status::Corruption(
        "sealed value failed authentication: it was altered, sealed under another key, or "
        "opened with different associated data");
  }
  return plaintext;
}

std::string Crypto::KeyedHash(std::string_view data) const {
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  // A duplicate per call: the keyed template is only read, so threads share it safely.
  static const uint8_t kEmpty = 0;
  const uint8_t* in = data.empty() ? &kEmpty : Bytes(data);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(hash_mac_);
  const bool ok = ctx != nullptr && EVP_MAC_update(ctx, in, data.size()) == 1 &&
                  EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1 && mac_len >= kKeyedHashBytes;
  EVP_MAC_CTX_free(ctx);
  if (!ok) Fatal("HMAC-SHA256");
  return std::string(reinterpret_cast<const char*>(mac), kKeyedHashBytes);
}

namespace {

// XXH3-128 compresses the data to one AES block; the block enciphered under a subkey is a
// pseudo-random function of the data that only the key holder can compute. XXH3 is not
// collision-resistant against someone choosing inputs, but the inputs that meet here are
// one source's successive versions of one record, or postcodes.
void Xxh3Aes(Crypto::CipherPool* pool, std::string_view data, uint8_t out[16]) {
  // The canonical form: the high half, then the low, each big-endian.
  XXH128_canonical_t block;
  XXH128_canonicalFromHash(&block, XXH3_128bits(data.data(), data.size()));
  uint8_t enciphered[16 + 16];
  PooledCipher c(pool, true);
  int out_len = 0;
  if (c.ctx == nullptr ||
      EVP_EncryptUpdate(c.ctx, enciphered, &out_len, block.digest, sizeof(block.digest)) != 1 ||
      out_len != static_cast<int>(sizeof(block.digest))) {
    Fatal("AES-256-ECB (XXH3 + AES keyed hash)");
  }
  std::memcpy(out, enciphered, 16);
}

}  // namespace

uint64_t Crypto::RowFingerprint(std::string_view data) const {
  uint8_t out[16];
  Xxh3Aes(row_ciphers_.get(), data, out);
  return DecodeBigEndian64(reinterpret_cast<const char*>(out));
}

std::string Crypto::PlaceHash(std::string_view data) const {
  uint8_t out[16];
  Xxh3Aes(place_ciphers_.get(), data, out);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

std::string Crypto::KeyFingerprint() const { return fingerprint_; }

}  // namespace cp
