// What the index makes of one name field: its parts and, per part, its Double Metaphone
// codes, trigrams and nickname groups. NameIndexPolicy::NameTerms and the posting features
// (EncodeCandidateFeatures) both need it for every name of every child written.
//
// The same few thousand given names and surnames come back again and again (an import of
// 100,000 children splits, folds and encodes some 300,000 name fields, far fewer of them
// distinct), so AnalyzeName keeps the analyses it made in a per-thread memo. Analysis is
// a pure function of the field's bytes, so a remembered one is the one computing it again
// would give.
//
// Thread safety: every thread has its own memo; no locks.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cp {

struct NamePartAnalysis {
  std::string part;       // folded, as NameParts gives it
  std::string primary;    // Double Metaphone codes (default length); either may be empty
  std::string alternate;  // empty when equal to primary
  std::vector<std::string> trigrams;         // Trigrams(part)
  std::span<const std::string> nickname_groups;  // NameVariants::Default().Groups(part)
};

struct NameAnalysis {
  std::vector<NamePartAnalysis> parts;  // NameParts order; empty for a letterless field
};

// The analysis of `raw` (a name field as stored, any UTF-8). Computed on first sight and
// remembered by the calling thread. The reference stays valid for at least this thread's
// next kNameMemoValidCalls calls, ample for the names of one record.
inline constexpr size_t kNameMemoValidCalls = 32767;
const NameAnalysis& AnalyzeName(std::string_view raw);

// The analysis of `raw` computed afresh, never remembered: what AnalyzeName must equal.
NameAnalysis ComputeNameAnalysis(std::string_view raw);

}  // namespace cp
