// Encryption at rest of every database file: SST, write-ahead log, MANIFEST, OPTIONS,
// CURRENT, IDENTITY, the info LOG, ingested SST files, and backups (storage/backup.h).
//
// RocksDB's EncryptedFileSystem calls an EncryptionProvider for each file it creates or
// opens; ours is AES-256-CTR over OpenSSL EVP under the master key's file subkey
// (Crypto::FileKey, an HKDF label of its own, distinct from the hidden-field key). Every
// file starts with a 4096-byte prefix, in clear (byte layout in docs/key_format.md,
// "Database files"):
//
//   magic "cp-aes256ctr-v1\n" (16) | key fingerprint, hex (16) | IV (16) | zeros
//
// The IV is 16 random bytes per file; the byte at file offset o (o >= 4096: RocksDB counts
// offsets from the start of the file, prefix included) is XORed with keystream byte o of
// AES-256-CTR from that IV (the 128-bit counter block is IV + o / 16, big-endian,
// carrying), so any offset is read without the bytes before it. The fingerprint (Crypto::KeyFingerprint) tells "encrypted under another key" from
// "damaged" before a byte is decrypted. CTR has no integrity of its own: RocksDB's block
// checksums and the WAL and MANIFEST record checksums catch altered bytes.
//
// Thread safety: the Env is safe to share as RocksDB's Env is; the provider holds only
// immutable key material.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace rocksdb {
class Env;
class Logger;
}

namespace cp {

class Crypto;

// Length of the clear prefix of every encrypted file.
inline constexpr size_t kFilePrefixBytes = 4096;

// An Env whose files are encrypted under `crypto`'s file key. The Env copies the key: it
// does not hold `crypto`. It must outlive every DB, SstFileWriter or BackupEngine using it.
std::unique_ptr<rocksdb::Env> NewEncryptedFilesEnv(const Crypto& crypto);

// RocksDB's info log for the database at `db_dir`, written through `env` (an encrypted
// Env): `db_dir`/LOG, the previous one kept as LOG.old (RocksDB's own logger would write
// it in clear). Creates `db_dir` when missing. IOError when the file cannot be created.
Result<std::shared_ptr<rocksdb::Logger>> NewEncryptedInfoLog(rocksdb::Env* env,
                                                             const std::string& db_dir);

// RocksDB's info log of the database at `db_dir` (LOG, or with `previous` LOG.old), given
// to `chunk` piece by piece: a daemon's log is never rotated while it runs, so it is not
// read whole into memory. It says when RocksDB flushed, compacted or held writes back. An
// encrypted one is read with the key in `key_file` (the log is encrypted because RocksDB
// may write keys into it, and the name index's keys hold name codes); one written without
// file encryption is read as it is. A log a running daemon is writing is read as far as it
// goes. NotFound when there is no such log; PermissionDenied when it is encrypted under
// another key (both before `chunk` is called).
Status ReadInfoLog(const std::string& db_dir, const std::string& key_file, bool previous,
                   const std::function<void(std::string_view)>& chunk);

// What the clear prefix of a file says. `encrypted` false: the file does not start with
// the magic (written without encryption, or not a contactpoint file).
struct FilePrefix {
  bool encrypted = false;
  std::string key_fingerprint;  // when encrypted: the fingerprint of the key it needs
};
// Reads the first bytes of `path` directly (no Env). IOError when it cannot be read.
Result<FilePrefix> ReadFilePrefix(const std::string& path);

// Whether the files of the database at `db_dir` can be read with `crypto`, judged from
// its CURRENT file. `*encrypted` says whether the directory is encrypted at rest. Refused
// (PermissionDenied) when it is encrypted under another key; IOError when CURRENT cannot
// be read (a missing or foreign directory: RocksDB then says what is wrong).
Status CheckDbFilesKey(const std::string& db_dir, const Crypto& crypto,
                       const std::string& key_file, bool* encrypted);

}  // namespace cp
