#include "query/searcher.h"

#include <algorithm>
#include <unordered_map>

#include "index/features.h"
#include "index/trigrams.h"

namespace cp {
namespace {

struct Candidate {
  double score;
  bool hidden_criterion_ok;  // false: shielded, and the query used a hidden field
};

// Collects scored candidates, each child scored once.
class CandidateSet {
 public:
  CandidateSet(const PreparedQuery& query, bool uses_hidden_field)
      : query_(query), uses_hidden_field_(uses_hidden_field) {}

  void Offer(const Posting& p, bool postcode_agrees) {
    ++scanned_;
    if (uses_hidden_field_ && p.shielded) return;
    auto [it, inserted] = scores_.try_emplace(p.id, 0.0);
    if (!inserted && !postcode_agrees) return;
    FeatureView features;
    if (!features.Parse(p.features)) {
      malformed_ = true;
      return;
    }
    // Cheap bound first: most postings of a list disagree on the date of birth.
    if (query_.DateBound(features.date_of_birth()) < kMatchThreshold) return;
    it->second = std::max(it->second, query_.Score(features, postcode_agrees));
  }

  void OfferRecordFeatures(ChildId id, bool shielded, std::string_view features_bytes) {
    Posting p{id, 0, 0, shielded, features_bytes};
    Offer(p, false);
  }

  size_t CountAtThreshold() const {
    size_t n = 0;
    for (const auto& [id, score] : scores_) n += score >= kMatchThreshold;
    return n;
  }
  bool Seen(ChildId id) const { return scores_.count(id) != 0; }
  std::vector<std::pair<double, ChildId>> Matches() const {
    std::vector<std::pair<double, ChildId>> out;
    for (const auto& [id, score] : scores_) {
      if (score >= kMatchThreshold) out.emplace_back(score, id);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    return out;
  }
  size_t scanned() const { return scanned_; }
  bool malformed() const { return malformed_; }

 private:
  const PreparedQuery& query_;
  bool uses_hidden_field_;
  std::unordered_map<ChildId, double> scores_;
  size_t scanned_ = 0;
  bool malformed_ = false;
};

std::vector<std::pair<TermKind, std::string>> NameTokens(const PreparedQuery& q) {
  std::vector<std::pair<TermKind, std::string>> tokens;
  for (const auto* name : {&q.given(), &q.family()}) {
    if (name->initial) continue;  // an initial is scored, never scanned
    for (const auto& code : name->codes) tokens.emplace_back(TermKind::kPhonetic, code);
    for (const auto& group : name->groups) tokens.emplace_back(TermKind::kNickname, group);
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

class Plan {
 public:
  Plan(const ChildStore* store, const PreparedQuery& query, CandidateSet* set)
      : store_(store), query_(query), set_(set) {}

  Status Scan(TermKind kind, const std::string& token, int year, std::optional<uint8_t> month) {
    if (year < 0 || year > 65535) return Status::OK();
    bool complete = true;
    Status s = store_->ScanName(kind, token, static_cast<uint16_t>(year), month,
                                Searcher::kPostingLimit,
                                [this](const Posting& p) { set_->Offer(p, false); }, &complete);
    if (!complete) too_broad_ = true;
    return s;
  }

  Status ScanPlace(const std::string& postcode) {
    bool complete = true;
    Status s = store_->ScanPlace(postcode, Searcher::kPostingLimit,
                                 [this](const Posting& p) { set_->Offer(p, true); }, &complete);
    if (!complete) too_broad_ = true;
    return s;
  }

  // Tier 1 for an exact date of birth: the birth month, the swapped month, and the
  // bucket of children whose date of birth is unknown.
  Status ExactDateTier(const Date& dob) {
    std::vector<uint8_t> months = {dob.month};
    if (dob.day <= 12 && dob.day != dob.month) months.push_back(dob.day);
    for (const auto& [kind, token] : NameTokens(query_)) {
      for (uint8_t m : months) {
        Status s = Scan(kind, token, dob.year, m);
        if (!s.ok()) return s;
      }
      Status s = Scan(kind, token, 0, std::nullopt);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status YearsTier(int from_year, int to_year) {
    for (const auto& [kind, token] : NameTokens(query_)) {
      for (int y = from_year; y <= to_year; ++y) {
        Status s = Scan(kind, token, y, std::nullopt);
        if (!s.ok()) return s;
      }
    }
    return Status::OK();
  }

  // Trigram postings carry no features: count how many of the query's trigrams each
  // child shares, then read and score the children sharing at least half of a name's.
  Status TrigramTier(int year) {
    std::unordered_map<ChildId, std::pair<int, bool>> shared;  // id -> (count, shielded)
    size_t total = 0;
    for (const auto* name : {&query_.given(), &query_.family()}) {
      if (name->initial) continue;
      for (const auto& part : name->parts) {
        for (const auto& gram : Trigrams(part)) {
          ++total;
          bool complete = true;
          Status s = store_->ScanName(TermKind::kTrigram, gram, static_cast<uint16_t>(year),
                                      std::nullopt, Searcher::kPostingLimit,
                                      [&shared](const Posting& p) {
                                        auto& e = shared[p.id];
                                        ++e.first;
                                        e.second = p.shielded;
                                      },
                                      &complete);
          if (!s.ok()) return s;
          if (!complete) too_broad_ = true;
        }
      }
    }
    const int needed = static_cast<int>((total + 1) / 2);
    std::vector<ChildId> ids;
    for (const auto& [id, e] : shared) {
      if (e.first >= needed && !set_->Seen(id)) ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    if (ids.size() > kMaxTrigramReads) {
      too_broad_ = true;
      ids.resize(kMaxTrigramReads);
    }
    for (ChildId id : ids) {
      auto record = store_->GetRecord(id);
      if (!record.ok()) return record.status();
      std::string features;
      EncodeCandidateFeatures(*record, &features);
      set_->OfferRecordFeatures(id, record->shield.shielded, features);
    }
    return Status::OK();
  }

  bool too_broad() const { return too_broad_; }

 private:
  static constexpr size_t kMaxTrigramReads = 500;
  const ChildStore* store_;
  const PreparedQuery& query_;
  CandidateSet* set_;
  bool too_broad_ = false;
};

Status GatherByName(Plan* plan, const PreparedQuery& q, const CandidateSet& set) {
  const SearchCriteria& c = q.criteria();
  if (!c.postcode.empty()) {
    Status s = plan->ScanPlace(c.postcode);
    if (!s.ok()) return s;
  }
  if (c.dob_from) return plan->YearsTier(c.dob_from->year, c.dob_to->year);
  const Date& dob = *c.date_of_birth;
  Status s = plan->ExactDateTier(dob);
  if (!s.ok() || set.CountAtThreshold() > 0) return s;
  s = plan->YearsTier(dob.year - 1, dob.year + 1);
  if (s.ok() && set.CountAtThreshold() == 0) s = plan->TrigramTier(dob.year);
  return s;
}

}  // namespace

Result<SearchResponse> Searcher::Search(SearchCriteria criteria, const Clearance& clearance) const {
  auto kind = ValidateCriteria(&criteria);
  if (!kind.ok()) return kind.status();
  SearchResponse response;
  response.kind = *kind;

  std::vector<std::pair<double, ChildId>> matches;
  if (*kind == CriteriaKind::kIdentifier) {
    std::vector<ChildId> ids;
    Status s;
    if (!criteria.nhs_number.empty()) s = store_->FindByIdentifier(keys::IdKind::kNhsNumber, criteria.nhs_number, &ids);
    if (s.ok() && !criteria.pupil_number.empty()) {
      s = store_->FindByIdentifier(keys::IdKind::kPupilNumber, criteria.pupil_number, &ids);
    }
    if (!s.ok()) return s;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (ChildId id : ids) matches.emplace_back(1.0, id);
  } else {
    PreparedQuery query(criteria);
    CandidateSet set(query, /*uses_hidden_field=*/!criteria.postcode.empty());
    Plan plan(store_, query, &set);
    Status s = GatherByName(&plan, query, set);
    if (!s.ok()) return s;
    if (set.malformed()) return Status::Corruption("a name posting holds malformed features");
    response.postings_scanned = set.scanned();
    matches = set.Matches();
    if (plan.too_broad()) {
      response.outcome = SearchOutcome::kTooManyMatches;
      response.matches = matches.size();
      return response;
    }
  }

  response.matches = matches.size();
  if (matches.size() > criteria.limit) {
    response.outcome = SearchOutcome::kTooManyMatches;
    return response;
  }
  std::vector<ChildId> ids;
  for (const auto& m : matches) ids.push_back(m.second);
  auto views = store_->MultiGet(ids, clearance);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!views[i].ok()) return views[i].status();
    response.hits.push_back(SearchHit{ids[i], matches[i].first, std::move(*views[i])});
  }
  return response;
}

}  // namespace cp
