// KeyFingerprintSet: the 64-bit fingerprints of the source keys a BulkLoader has staged or
// ingested, so that a duplicate is found without asking the store once per row.
//
// The loader used to keep the keys themselves, in an std::unordered_set<std::string>:
// about 100 bytes a child (a node, a heap string), 1.2 GB of a 12M-child import's peak
// memory, and a malloc and a node per row. A fingerprint costs 8 bytes in an open-addressed
// table kept at most 3/4 full: 11 to 21 bytes a child, 128 MiB at 12M (2^24 slots).
//
// Contract: Contains(f) is true for every f inserted; it may be true for a fingerprint that
// was never inserted only when f collides with one that was (two different keys whose XXH3
// hashes agree: about 4e-6 over all pairs of 12M keys). A caller that refuses a row on a hit
// must confirm the hit with the key itself.
//
// Thread safety: none; the loader uses it under its own rules (one thread at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cp {

class KeyFingerprintSet {
 public:
  static uint64_t Fingerprint(std::string_view key);

  bool Contains(uint64_t fingerprint) const;
  // Adds the fingerprint; true when it was not there yet.
  bool Insert(uint64_t fingerprint);
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

 private:
  // 0 marks an empty slot; a fingerprint that is 0 is stored as 1 (one more collision in
  // 2^64).
  static uint64_t Stored(uint64_t fingerprint) { return fingerprint == 0 ? 1 : fingerprint; }
  void Grow();

  std::vector<uint64_t> slots_;  // a power of two in size, or empty
  size_t size_ = 0;
};

}  // namespace cp
