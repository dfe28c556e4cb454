// KeyFingerprintSet: linear probing over a power-of-two table of fingerprints.
#include "storage/bulk_loader_key_set.h"

#include <xxhash.h>

namespace cp {

uint64_t KeyFingerprintSet::Fingerprint(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

bool KeyFingerprintSet::Contains(uint64_t fingerprint) const {
  if (slots_.empty()) return false;
  const uint64_t f = Stored(fingerprint);
  const size_t mask = slots_.size() - 1;
  // Fingerprints are hashes already: their low bits spread evenly over the table.
  for (size_t i = f & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return true;
    if (slots_[i] == 0) return false;
  }
}

bool KeyFingerprintSet::Insert(uint64_t fingerprint) {
  // At most 3/4 full, so that a probe for a new key ends within a few slots.
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  const uint64_t f = Stored(fingerprint);
  const size_t mask = slots_.size() - 1;
  for (size_t i = f & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return false;
    if (slots_[i] == 0) {
      slots_[i] = f;
      ++size_;
      return true;
    }
  }
}

void KeyFingerprintSet::Grow() {
  std::vector<uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const size_t mask = slots_.size() - 1;
  for (uint64_t f : old) {
    if (f == 0) continue;
    size_t i = f & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = f;
  }
}

}  // namespace cp
