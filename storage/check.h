// A database's consistency check (`contactpoint check`, ChildStore::CheckConsistency):
// that every index entry, source link and merge record agrees with the children's records.
//
// What is checked:
//   - every name, identifier and place posting names a child that exists, and is one the
//     child's record yields under the index policy (same key, same value);
//   - every child has every posting its record yields (recomputed with the index policy,
//     exactly as a write computes them);
//   - no shielded child has a place posting;
//   - an archived child has no posting a search reads (only a shielded one's shielded
//     phonetic postings);
//   - every child has its sealed hidden fields, and every hidden entry a record;
//   - every source link names a child that exists (live or archived) or resolves through
//     merge records to one; every merge record resolves.
//
// A problem names its kind, the column family and child ids — never a name, a key's
// token or an address.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/record.h"

namespace cp {

enum class ProblemKind : uint8_t {
  kPostingForMissingChild,  // an index entry names no child
  kPostingNotFromRecord,    // an index entry the child's record does not yield (or another value)
  kPostingMissing,          // the child's record yields an entry the index lacks
  kShieldedChildInPlaceIndex,
  kArchivedChildSearchable,  // an archived child has a posting a search reads
  kRecordWithoutHidden,
  kHiddenWithoutRecord,
  kSourceLinkToMissingChild,
  kMergeToMissingChild,
  kUnreadable,  // a record or hidden fields that do not decode or open
};
const char* ProblemKindName(ProblemKind kind);  // "posting_for_missing_child", ...

struct ConsistencyProblem {
  ProblemKind kind;
  std::string family;  // the column family where it is: "name_index", "sources", ...
  ChildId child = 0;   // the child named
  std::string detail;  // ids and kinds only (e.g. "source births", "posting kind P")
};

struct ConsistencyReport {
  uint64_t children = 0;
  uint64_t postings = 0;  // index entries read
  uint64_t source_links = 0;
  uint64_t merge_records = 0;
  // Index entries looked up one by one: 0 when every index held exactly what the records
  // yield (their digests agreed); otherwise every entry the records yield.
  uint64_t looked_up = 0;
  std::vector<ConsistencyProblem> problems;  // the first kMaxProblems, in the order found
  uint64_t problem_count = 0;                // all of them
  static constexpr size_t kMaxProblems = 1000;

  bool ok() const { return problem_count == 0; }
};

}  // namespace cp
