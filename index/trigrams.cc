#include "index/trigrams.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace cp {
namespace {

constexpr char kPad = '$';

// Above this length duplicates are found with a hash set instead of a linear scan.
constexpr size_t kShortPart = 64;

// Character `k` of the part padded with one '$' at each end.
char PaddedAt(std::string_view part, size_t k) {
  return (k == 0 || k == part.size() + 1) ? kPad : part[k - 1];
}

// A part of n >= 1 characters has n trigrams.
std::string TrigramAt(std::string_view part, size_t i) {
  return {PaddedAt(part, i), PaddedAt(part, i + 1), PaddedAt(part, i + 2)};
}

uint32_t TrigramCode(std::string_view part, size_t i) {
  uint32_t code = 0;
  for (size_t k = i; k < i + 3; ++k)
    code = (code << 8) | static_cast<unsigned char>(PaddedAt(part, k));
  return code;
}

// Writes the part's trigram codes to `out` (room for part.size()), sorted without
// duplicates; returns how many.
size_t SortedCodes(std::string_view part, uint32_t* out) {
  for (size_t i = 0; i < part.size(); ++i) out[i] = TrigramCode(part, i);
  std::sort(out, out + part.size());
  return static_cast<size_t>(std::unique(out, out + part.size()) - out);
}

size_t CommonCount(std::span<const uint32_t> a, std::span<const uint32_t> b) {
  size_t common = 0;
  for (size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++common, ++i, ++j;
    }
  }
  return common;
}

double Dice(std::string_view a, std::string_view b, uint32_t* a_codes, uint32_t* b_codes) {
  const size_t na = SortedCodes(a, a_codes);
  const size_t nb = SortedCodes(b, b_codes);
  const size_t common = CommonCount({a_codes, na}, {b_codes, nb});
  return 2.0 * static_cast<double>(common) / static_cast<double>(na + nb);
}

}  // namespace

std::vector<std::string> Trigrams(std::string_view part) {
  std::vector<std::string> out;
  out.reserve(part.size());
  std::unordered_set<std::string> seen;  // only used for long input
  for (size_t i = 0; i < part.size(); ++i) {
    std::string trigram = TrigramAt(part, i);
    const bool duplicate = part.size() <= kShortPart
                               ? std::find(out.begin(), out.end(), trigram) != out.end()
                               : !seen.insert(trigram).second;
    if (!duplicate) out.push_back(std::move(trigram));
  }
  return out;
}

// Both empty count as identical (1), as in JaroWinkler; one empty shares nothing (0).
double TrigramSimilarity(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return a.empty() && b.empty() ? 1.0 : 0.0;
  if (a.size() <= kShortPart && b.size() <= kShortPart) {
    std::array<uint32_t, kShortPart> a_codes, b_codes;
    return Dice(a, b, a_codes.data(), b_codes.data());
  }
  std::vector<uint32_t> a_codes(a.size()), b_codes(b.size());
  return Dice(a, b, a_codes.data(), b_codes.data());
}

}  // namespace cp
