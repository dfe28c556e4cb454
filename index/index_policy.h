// The engine's index policy: what a child is findable by.
//
// Every name part of the given, middle, family and former family names is indexed by its
// Double Metaphone primary and alternate codes (kPhonetic). Given, family and former
// family parts are also indexed by their trigrams (kTrigram), and given and middle parts
// by their nickname groups (kNickname), so that "Bill" finds a "William". Given, family
// and former family parts of a child with a date of birth are indexed by their codes once
// more under the birth month and day (kBirthday), for feed matching. Name fields are
// not told apart in the index, which is what lets a search with given and family names
// swapped still find the child; the scorer decides which field matched.
//
// Thread safety: stateless; one instance may serve any number of stores and threads.
#pragma once

#include "storage/index_policy.h"

namespace cp {

class NameIndexPolicy : public IndexPolicy {
 public:
  void NameTerms(const ChildRecord& record, std::vector<IndexTerm>* terms) const override;
  void EncodeFeatures(const ChildRecord& record, std::string* out) const override;
  // Features without the identifier digests (written before 2026-11-29).
  bool IsEarlierForm(std::string_view stored, std::string_view current) const override;

  // The shared instance.
  static const NameIndexPolicy& Instance();
};

}  // namespace cp
