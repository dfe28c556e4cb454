#include "index/index_policy.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "index/features.h"
#include "index/name_analysis.h"

namespace cp {
namespace {

// A term by reference into the thread's name memo (valid for the record's few fields):
// sorting these moves 16 bytes, where sorting IndexTerms moved a string each time.
struct TermRef {
  TermKind kind;
  const std::string* token;
};

// The analyses a record's terms point into: the thread's memo, which keeps them valid for
// kNameMemoValidCalls calls, or for a record with more name fields than that (thousands of
// former names in one CSV field), analyses of its own.
class FieldAnalyses {
 public:
  explicit FieldAnalyses(const ChildRecord& r) {
    if (3 + r.former_family_names.size() > kNameMemoValidCalls) owned_.emplace();
  }
  const NameAnalysis& Get(std::string_view raw) {
    if (!owned_) return AnalyzeName(raw);
    return owned_->emplace_back(ComputeNameAnalysis(raw));
  }

 private:
  // A deque, so that references survive later additions; made only when needed, since an
  // empty deque allocates.
  std::optional<std::deque<NameAnalysis>> owned_;
};

void AddField(FieldAnalyses& analyses, std::string_view raw, bool trigrams, bool nicknames,
              std::vector<TermRef>* refs) {
  for (const NamePartAnalysis& part : analyses.Get(raw).parts) {
    if (!part.primary.empty()) refs->push_back({TermKind::kPhonetic, &part.primary});
    if (!part.alternate.empty()) refs->push_back({TermKind::kPhonetic, &part.alternate});
    if (trigrams) {
      for (const auto& t : part.trigrams) refs->push_back({TermKind::kTrigram, &t});
    }
    if (nicknames) {
      for (const auto& group : part.nickname_groups) refs->push_back({TermKind::kNickname, &group});
    }
  }
}

}  // namespace

void NameIndexPolicy::NameTerms(const ChildRecord& r, std::vector<IndexTerm>* terms) const {
  thread_local std::vector<TermRef> refs;
  refs.clear();
  FieldAnalyses analyses(r);
  AddField(analyses, r.given_name, /*trigrams=*/true, /*nicknames=*/true, &refs);
  AddField(analyses, r.middle_names, /*trigrams=*/false, /*nicknames=*/true, &refs);
  AddField(analyses, r.family_name, /*trigrams=*/true, /*nicknames=*/false, &refs);
  for (const auto& former : r.former_family_names) AddField(analyses, former, true, false, &refs);
  std::sort(refs.begin(), refs.end(), [](const TermRef& a, const TermRef& b) {
    return a.kind != b.kind ? a.kind < b.kind : *a.token < *b.token;
  });
  terms->clear();
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i > 0 && refs[i].kind == refs[i - 1].kind && *refs[i].token == *refs[i - 1].token) continue;
    terms->push_back({refs[i].kind, *refs[i].token});
  }
}

void NameIndexPolicy::EncodeFeatures(const ChildRecord& r, std::string* out) const {
  EncodeCandidateFeatures(r, out);
}

const NameIndexPolicy& NameIndexPolicy::Instance() {
  static const NameIndexPolicy policy;
  return policy;
}

}  // namespace cp
