#include "index/index_policy.h"

#include <algorithm>

#include "index/double_metaphone.h"
#include "index/features.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/trigrams.h"

namespace cp {
namespace {

void AddPhonetic(const std::string& part, std::vector<IndexTerm>* terms) {
  PhoneticCodes codes = DoubleMetaphone(part);
  if (!codes.primary.empty()) terms->push_back({TermKind::kPhonetic, codes.primary});
  if (!codes.alternate.empty() && codes.alternate != codes.primary) {
    terms->push_back({TermKind::kPhonetic, codes.alternate});
  }
}

void AddField(std::string_view raw, bool trigrams, bool nicknames, std::vector<IndexTerm>* terms) {
  for (const auto& part : NameParts(raw)) {
    AddPhonetic(part, terms);
    if (trigrams) {
      for (auto& t : Trigrams(part)) terms->push_back({TermKind::kTrigram, std::move(t)});
    }
    if (nicknames) {
      for (const auto& group : NameVariants::Default().Groups(part)) {
        terms->push_back({TermKind::kNickname, group});
      }
    }
  }
}

}  // namespace

void NameIndexPolicy::NameTerms(const ChildRecord& r, std::vector<IndexTerm>* terms) const {
  terms->clear();
  AddField(r.given_name, /*trigrams=*/true, /*nicknames=*/true, terms);
  AddField(r.middle_names, /*trigrams=*/false, /*nicknames=*/true, terms);
  AddField(r.family_name, /*trigrams=*/true, /*nicknames=*/false, terms);
  for (const auto& former : r.former_family_names) AddField(former, true, false, terms);
  std::sort(terms->begin(), terms->end(), [](const IndexTerm& a, const IndexTerm& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.token < b.token;
  });
  terms->erase(std::unique(terms->begin(), terms->end()), terms->end());
}

void NameIndexPolicy::EncodeFeatures(const ChildRecord& r, std::string* out) const {
  EncodeCandidateFeatures(r, out);
}

const NameIndexPolicy& NameIndexPolicy::Instance() {
  static const NameIndexPolicy policy;
  return policy;
}

}  // namespace cp
