// Bounded search over the child index.
//
// A search (1) checks the minimum criteria before touching any index; (2) gathers
// candidates from posting lists, scoring each from the features its posting carries;
// (3) applies the cap to the candidates scoring at or above kMatchThreshold: more than the
// cap is "too many matches — refine the search" with no records at all; (4) reads the
// records of the results only, under the caller's clearance.
//
// Candidates come in tiers, cheapest first; a later tier runs only while no candidate
// has reached a strong score (query/searcher.cc lists them): the birth month, the swapped
// month, the whole birth year, the years one digit away, then nickname groups and
// trigrams. A date-of-birth range scans whole years.
//
// When a criterion is a hidden field (postcode), shielded children are never returned,
// not even one that matches: a search must not confirm where a shielded child lives.
//
// Thread safety: a Searcher is immutable; Search may be called from many threads.
#pragma once

#include <vector>

#include "query/criteria.h"
#include "query/scorer.h"
#include "storage/child_store.h"

namespace cp {

enum class SearchOutcome { kOk, kTooManyMatches };

struct SearchHit {
  ChildId id = 0;
  double score = 0;
  ChildView view;
};

struct SearchResponse {
  SearchOutcome outcome = SearchOutcome::kOk;
  CriteriaKind kind = CriteriaKind::kNamesAndBirth;
  std::vector<SearchHit> hits;  // best first; empty when too many matches
  size_t matches = 0;           // candidates at or above the threshold
  size_t postings_scanned = 0;
  int tiers = 0;                // candidate tiers run (see above); 0 for identifiers
};

class Searcher {
 public:
  // `store` must outlive the Searcher.
  explicit Searcher(const ChildStore* store) : store_(store) {}

  // InvalidArgument (nothing touched) when the criteria are refused; other errors come
  // from storage.
  Result<SearchResponse> Search(SearchCriteria criteria, const Clearance& clearance) const;

  // Most postings one posting list may yield before the search gives up on it as too
  // broad and answers "too many matches".
  static constexpr size_t kPostingLimit = 50000;

 private:
  const ChildStore* store_;
};

}  // namespace cp
