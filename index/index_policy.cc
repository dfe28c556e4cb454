#include "index/index_policy.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "index/features.h"
#include "index/name_analysis.h"
#include "storage/keys.h"

namespace cp {
namespace {

// A term by reference into the thread's name memo: sorting these moves 24 bytes, where
// sorting IndexTerms moved a string each time.
struct TermRef {
  TermKind kind;
  std::string_view token;
};

// Collects a record's terms. The memo keeps what AnalyzeName returns valid for
// kNameMemoValidCalls calls; a record with more name fields than that (thousands of former
// names in one CSV field) has its tokens copied out instead.
class TermCollector {
 public:
  TermCollector(const ChildRecord& r, std::vector<TermRef>* refs) : refs_(refs) {
    if (3 + r.former_family_names.size() > kNameMemoValidCalls) copies_.emplace();
  }
  void Add(TermKind kind, std::string_view token) {
    if (copies_) token = copies_->emplace_back(token);
    refs_->push_back({kind, token});
  }
  // `primaries`: where the parts' primary codes go (for the name pairs), or null.
  void AddField(std::string_view raw, bool trigrams, bool nicknames, bool birthdays, bool dated,
                std::vector<std::string>* primaries) {
    AnalyzeName(raw).ForEachPart([&](const NamePartView& part) {
      if (!part.primary.empty()) Add(TermKind::kPhonetic, part.primary);
      if (!part.alternate.empty()) Add(TermKind::kPhonetic, part.alternate);
      if (birthdays && !part.primary.empty()) Add(TermKind::kBirthday, part.primary);
      if (birthdays && !part.alternate.empty()) Add(TermKind::kBirthday, part.alternate);
      if (dated && !part.primary.empty()) Add(TermKind::kBirthDay, part.primary);
      if (dated && !part.alternate.empty()) Add(TermKind::kBirthDay, part.alternate);
      if (dated && primaries != nullptr && !part.primary.empty())
        primaries->emplace_back(part.primary);
      if (trigrams) part.ForEachTrigram([&](std::string_view t) { Add(TermKind::kTrigram, t); });
      if (nicknames) {
        for (const auto& group : part.nickname_groups) Add(TermKind::kNickname, group);
      }
    });
  }

 private:
  std::vector<TermRef>* refs_;
  // A deque, so that views survive later additions; made only when needed, since an empty
  // deque allocates.
  std::optional<std::deque<std::string>> copies_;
};

}  // namespace

void NameIndexPolicy::NameTerms(const ChildRecord& r, std::vector<IndexTerm>* terms) const {
  thread_local std::vector<TermRef> refs;
  // Primary codes of the given and middle parts, and of the family and former family
  // parts; then the pairs of one of each (kNamePair), which the refs view.
  thread_local std::vector<std::string> given_side, family_side, pairs;
  refs.clear();
  given_side.clear();
  family_side.clear();
  pairs.clear();
  TermCollector collect(r, &refs);
  const bool dated = !r.date_of_birth.empty();
  collect.AddField(r.given_name, /*trigrams=*/true, /*nicknames=*/true, dated, dated, &given_side);
  collect.AddField(r.middle_names, /*trigrams=*/false, /*nicknames=*/true, /*birthdays=*/false,
                   dated, &given_side);
  collect.AddField(r.family_name, /*trigrams=*/true, /*nicknames=*/false, dated, dated,
                   &family_side);
  for (const auto& former : r.former_family_names) {
    collect.AddField(former, true, false, dated, dated, &family_side);
  }
  for (const auto& g : given_side) {
    for (const auto& f : family_side) pairs.push_back(keys::NamePairToken(g, f));
  }
  for (const auto& pair : pairs) refs.push_back({TermKind::kNamePair, pair});
  std::sort(refs.begin(), refs.end(), [](const TermRef& a, const TermRef& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.token < b.token;
  });
  terms->clear();
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i > 0 && refs[i].kind == refs[i - 1].kind && refs[i].token == refs[i - 1].token) continue;
    terms->push_back({refs[i].kind, std::string(refs[i].token)});
  }
}

void NameIndexPolicy::EncodeFeatures(const ChildRecord& r, std::string* out) const {
  EncodeCandidateFeatures(r, out);
}

bool NameIndexPolicy::IsEarlierForm(std::string_view stored, std::string_view current) const {
  const std::string_view earlier = FeatureView::WithoutIdentifiers(current);
  return earlier.size() < current.size() && stored == earlier;
}

const NameIndexPolicy& NameIndexPolicy::Instance() {
  static const NameIndexPolicy policy;
  return policy;
}

}  // namespace cp
