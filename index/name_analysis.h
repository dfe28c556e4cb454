// What the index makes of one name field: its parts and, per part, its Double Metaphone
// codes, trigrams and nickname groups. NameIndexPolicy::NameTerms and the posting features
// (EncodeCandidateFeatures) both need it for every name of every child written.
//
// The same few thousand given names and surnames come back again and again (at 1M children,
// 124,612 distinct name fields among 4M), so AnalyzeName keeps the analyses it made in a
// per-thread memo. Analysis is a pure function of the field's bytes, so a remembered one is
// the one computing it again would give.
//
// A remembered analysis is one block of bytes, read through NameView: a look-up is a probe
// into a flat table and then that block. (Kept as maps of strings and vectors, a look-up
// chased five or six pointers, each a likely cache miss: 4.75% of a 3M import's time.)
//
// Thread safety: every thread has its own memo; no locks.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cp {

struct NamePartAnalysis {
  std::string part;       // folded, as NameParts gives it
  std::string primary;    // Double Metaphone codes (default length); either may be empty
  std::string alternate;  // empty when equal to primary
  std::vector<std::string> trigrams;             // Trigrams(part)
  std::span<const std::string> nickname_groups;  // NameVariants::Default().Groups(part)
};

struct NameAnalysis {
  std::vector<NamePartAnalysis> parts;  // NameParts order; empty for a letterless field
};

// The analysis of `raw` computed afresh, never remembered: what AnalyzeName must equal.
NameAnalysis ComputeNameAnalysis(std::string_view raw);

// A 4-byte length in a remembered analysis's block (host order, any alignment).
inline uint32_t LoadBlockU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// One part of a remembered analysis. Its views point into the memo's block.
struct NamePartView {
  std::string_view part, primary, alternate;
  std::span<const std::string> nickname_groups;
  // The trigrams, each a 4-byte length then its bytes; ForEachTrigram walks them.
  std::string_view trigram_bytes;

  template <typename Fn>
  void ForEachTrigram(Fn&& fn) const {
    for (size_t at = 0; at < trigram_bytes.size();) {
      const uint32_t n = LoadBlockU32(trigram_bytes.data() + at);
      fn(trigram_bytes.substr(at + 4, n));
      at += 4 + n;
    }
  }
};

// A remembered analysis: one block of bytes, parts one after another.
class NameView {
 public:
  explicit NameView(const char* block) : block_(block) {}

  bool empty() const { return part_count() == 0; }
  uint32_t part_count() const { return LoadBlockU32(block_); }

  // Calls fn(const NamePartView&) for each part, in order.
  template <typename Fn>
  void ForEachPart(Fn&& fn) const {
    const char* p = block_ + 4;
    for (uint32_t i = 0, n = part_count(); i < n; ++i) {
      NamePartView part;
      part.part = String(&p);
      part.primary = String(&p);
      part.alternate = String(&p);
      const std::string* groups;
      std::memcpy(&groups, p, sizeof(groups));
      p += sizeof(groups);
      const uint32_t group_count = LoadBlockU32(p);
      p += 4;
      part.nickname_groups = std::span<const std::string>(groups, group_count);
      part.trigram_bytes = String(&p);
      fn(part);
    }
  }

  // The same analysis as a NameAnalysis (for tests and diagnostics).
  NameAnalysis ToAnalysis() const;

 private:
  static std::string_view String(const char** p) {
    const uint32_t n = LoadBlockU32(*p);
    std::string_view s(*p + 4, n);
    *p += 4 + n;
    return s;
  }
  const char* block_;
};

// The analysis of `raw` (a name field as stored, any UTF-8). Computed on first sight and
// remembered by the calling thread. The view stays valid for at least this thread's next
// kNameMemoValidCalls calls, ample for the names of one record.
inline constexpr size_t kNameMemoValidCalls = 32767;
NameView AnalyzeName(std::string_view raw);

}  // namespace cp
