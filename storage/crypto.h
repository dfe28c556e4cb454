// Encryption of hidden fields at rest, and the key file that holds the master key.
//
// The master key is 32 random bytes kept in a key file outside the RocksDB directory
// (created 0600). From it three subkeys are derived (HKDF-SHA256, distinct labels): one for
// AES-256-GCM sealing of hidden fields, one for HMAC-SHA256 keyed hashes (postcode index
// keys), one for AES-256-CTR encryption of every database file
// (storage/file_encryption.h), one for row fingerprints and one for place-index hashes, so
// that no use can be turned against another.
//
// Thread safety: a Crypto object is immutable after Load/Create; Seal, Open and KeyedHash
// may be called from many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX

namespace cp {

class Crypto {
 public:
  static constexpr size_t kKeyBytes = 32;

  // Writes a new key file at `path` (mode 0600, created exclusively: an existing file is
  // AlreadyExists, never overwritten) and returns the Crypto for it.
  static Result<std::unique_ptr<Crypto>> CreateKeyFile(const std::string& path);
  // Reads the key file. A missing file, a file of the wrong size or format, or a file
  // readable by group or others is refused with a message naming the path and the fault.
  static Result<std::unique_ptr<Crypto>> LoadKeyFile(const std::string& path);
  // For tests: a Crypto over the given master key.
  static std::unique_ptr<Crypto> FromKey(const std::array<uint8_t, kKeyBytes>& key);

  Crypto(const Crypto&) = delete;
  Crypto& operator=(const Crypto&) = delete;
  ~Crypto();

  // AES-256-GCM with a fresh random 96-bit nonce. `associated` (e.g. the child id) is
  // authenticated but not stored: Open must be given the same bytes.
  // Output: version byte | nonce (12) | ciphertext | tag (16).
  std::string Seal(std::string_view plaintext, std::string_view associated) const;
  // Corruption when the bytes were altered, were sealed under another key, or the
  // associated data differs.
  Result<std::string> Open(std::string_view sealed, std::string_view associated) const;

  // HMAC-SHA256 under the keyed-hash subkey, truncated to 16 bytes.
  std::string KeyedHash(std::string_view data) const;

  // A 64-bit fingerprint of a source row, for "has this record changed?": XXH3-128 of the
  // row, enciphered as one AES-256 block under the row subkey, first 8 bytes. Keyed, as
  // KeyedHash is (a row holds an address: an unkeyed hash on disk would confirm a guess),
  // at about a tenth of its cost: an unchanged feed row spent a fifth of its CPU in HMAC.
  uint64_t RowFingerprint(std::string_view data) const;

  // 16 bytes for a postcode's place-index key: XXH3-128 of the postcode, enciphered as one
  // AES-256 block under the place-hash subkey. Keyed like KeyedHash (postcodes never appear
  // in clear in a key) at a fifteenth of its cost.
  std::string PlaceHash(std::string_view data) const;

  // A short fingerprint of the master key (first 8 bytes of SHA-256 over it, hex), stored
  // in the database so that opening it with the wrong key file is refused clearly.
  std::string KeyFingerprint() const;

  // The subkey that encrypts database files (AES-256-CTR, storage/file_encryption.h). Only
  // the file encryption provider may hold it; it opens nothing else.
  const std::array<uint8_t, kKeyBytes>& FileKey() const { return file_key_; }

 public:
  // Cipher contexts keyed once, for reuse (crypto.cc).
  class CipherPool;

 private:
  friend class PooledCipher;

  Crypto();
  std::unique_ptr<CipherPool> ciphers_;      // AES-256-GCM under seal_key_
  std::unique_ptr<CipherPool> row_ciphers_;    // AES-256-ECB under the row subkey
  std::unique_ptr<CipherPool> place_ciphers_;  // AES-256-ECB under the place-hash subkey
  std::array<uint8_t, kKeyBytes> seal_key_{};
  std::array<uint8_t, kKeyBytes> hash_key_{};
  std::array<uint8_t, kKeyBytes> file_key_{};
  // HMAC-SHA256 initialised with hash_key_, never updated: each KeyedHash duplicates it.
  // One-shot HMAC() fetches the algorithm and schedules the key on every call, which was
  // a third of the CPU an unchanged feed record costs.
  evp_mac_ctx_st* hash_mac_ = nullptr;
  std::string fingerprint_;
};

}  // namespace cp
