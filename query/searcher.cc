#include "query/searcher.h"

#include <algorithm>
#include <unordered_map>

#include "index/features.h"
#include "index/trigrams.h"
#include "util/date.h"

namespace cp {
namespace {

// A score at which the cheap tier's answer stands without looking wider: names agreeing
// with at most a small typo and the date exact.
constexpr double kStrongMatch = 0.9;
// Names agreeing and the date's day and month swapped score 0.95.
constexpr double kSwapTierMatch = 0.95;

// Child id -> best score so far, by open addressing. A search meets from a few dozen to
// a few thousand candidates; a node-based map allocated and freed one node per candidate,
// which cost more than scoring most of them.
class ScoreTable {
 public:
  // The score slot of `id`, added with score 0 when absent; `*added` says which.
  double* FindOrAdd(ChildId id, bool* added) {
    if (id == kFree) {
      *added = !has_free_id_;
      has_free_id_ = true;
      return &free_id_score_;
    }
    if (2 * (size_ + 1) > slots_.size()) Grow();
    Slot* slot = Probe(id);
    *added = slot->id == kFree;
    if (*added) {
      *slot = Slot{id, 0.0};
      ++size_;
    }
    return &slot->score;
  }
  bool Contains(ChildId id) const {
    if (id == kFree) return has_free_id_;
    return !slots_.empty() && Probe(id)->id == id;
  }
  template <typename Fn>
  void ForEach(const Fn& fn) const {
    for (const Slot& slot : slots_) {
      if (slot.id != kFree) fn(slot.id, slot.score);
    }
    if (has_free_id_) fn(kFree, free_id_score_);
  }

 private:
  // Marks a free slot; a child with this id (there is none in practice) is kept aside.
  static constexpr ChildId kFree = ~ChildId{0};
  // 16 bytes: the first table (32 slots) is small enough for malloc's per-thread cache.
  struct Slot {
    ChildId id = kFree;
    double score = 0;
  };

  // The slot holding `id`, or the free slot where it belongs. Requires a free slot.
  Slot* Probe(ChildId id) const {
    const size_t mask = slots_.size() - 1;
    size_t i = static_cast<size_t>((id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (slots_[i].id != kFree && slots_[i].id != id) i = (i + 1) & mask;
    return const_cast<Slot*>(&slots_[i]);
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 32 : 2 * old.size(), Slot{});
    for (const Slot& slot : old) {
      if (slot.id != kFree) *Probe(slot.id) = slot;
    }
  }

  std::vector<Slot> slots_;  // a power of two in size, at most half used
  size_t size_ = 0;
  bool has_free_id_ = false;
  double free_id_score_ = 0;
};

// Collects scored candidates, each child scored once. Scores below kMatchThreshold are
// only known to be below it (PreparedQuery::ScoreAtLeast): nothing reads them but as
// "below the threshold".
class CandidateSet {
 public:
  CandidateSet(const PreparedQuery& query, bool uses_hidden_field)
      : query_(query), uses_hidden_field_(uses_hidden_field) {}

  void Offer(const Posting& p, bool postcode_agrees) {
    ++scanned_;
    if (uses_hidden_field_ && p.shielded) return;
    bool added = false;
    double* score = scores_.FindOrAdd(p.id, &added);
    if (!added && !postcode_agrees) return;
    FeatureView features;
    if (!features.Parse(p.features)) {
      malformed_ = true;
      return;
    }
    // Cheap bound first: most postings of a list disagree on the date of birth.
    if (query_.DateBound(features.date_of_birth()) < kMatchThreshold) return;
    const double before = *score;
    *score = std::max(*score, query_.ScoreAtLeast(features, postcode_agrees, kMatchThreshold));
    if (before < kMatchThreshold && *score >= kMatchThreshold) ++matches_;
    best_ = std::max(best_, *score);
  }

  // Candidates at or above the threshold so far.
  size_t matches() const { return matches_; }

  void OfferRecordFeatures(ChildId id, bool shielded, std::string_view features_bytes) {
    Posting p{id, 0, 0, shielded, features_bytes};
    Offer(p, false);
  }

  // The best score so far when at or above kMatchThreshold; below it, only that.
  double BestScore() const { return best_; }
  bool Seen(ChildId id) const { return scores_.Contains(id); }
  std::vector<std::pair<double, ChildId>> Matches() const {
    std::vector<std::pair<double, ChildId>> out;
    scores_.ForEach([&out](ChildId id, double score) {
      if (score >= kMatchThreshold) out.emplace_back(score, id);
    });
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
  ScoreTable scores_;
  double best_ = 0;
  size_t scanned_ = 0;
  size_t matches_ = 0;
  bool malformed_ = false;
};

using Tokens = std::vector<std::pair<TermKind, std::string>>;

// The phonetic codes of one name, primary codes or alternates. An initial has none.
Tokens Codes(const PreparedQuery::Name& name, bool alternates) {
  Tokens tokens;
  if (name.initial) return tokens;
  for (const auto& c : alternates ? name.alternate_codes : name.primary_codes) {
    tokens.emplace_back(TermKind::kPhonetic, c);
  }
  return tokens;
}

// Posting lists in the order a search reads them: the family name's primary codes, its
// alternates, then the given name's. A candidate reaches the threshold only if both its
// names agree with the query's (a date agreeing fully is worth less than either name), so
// one name's postings suffice to find it unless a typo changed that name's code; and a
// name's alternate code (XMT for Smith) mostly adds other spellings (Schmidt). Reading
// stops at the first group after which a strong match is known.
std::vector<Tokens> CodeGroups(const PreparedQuery& q) {
  std::vector<Tokens> groups;
  for (const auto* name : {&q.family(), &q.given()}) {
    for (bool alternates : {false, true}) {
      Tokens t = Codes(*name, alternates);
      if (!t.empty()) groups.push_back(std::move(t));
    }
  }
  return groups;
}

// The phonetic codes of the query's name parts, and with `nicknames` their nickname
// groups. An initial is scored, never scanned.
Tokens NameTokens(const PreparedQuery& q, bool nicknames) {
  Tokens tokens;
  for (const auto* name : {&q.family(), &q.given()}) {
    if (name->initial) continue;
    for (const auto& code : name->codes) tokens.emplace_back(TermKind::kPhonetic, code);
    if (!nicknames) continue;
    for (const auto& group : name->groups) tokens.emplace_back(TermKind::kNickname, group);
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

class Plan {
 public:
  Plan(const ChildStore* store, const PreparedQuery& query, CandidateSet* set)
      : store_(store), scanner_(store), query_(query), set_(set) {}

  // More candidates than the cap at the threshold: the answer is "too many matches"
  // whatever the remaining scans find, so they are skipped.
  bool over_cap() const { return set_->matches() > query_.criteria().limit; }

  Status Scan(TermKind kind, const std::string& token, int year, std::optional<uint8_t> month) {
    if (year < 0 || year > 65535 || over_cap()) return Status::OK();
    bool complete = true;
    Status s = scanner_.ScanName(kind, token, static_cast<uint16_t>(year), month,
                                 Searcher::kPostingLimit,
                                 [this](const Posting& p) { set_->Offer(p, false); }, &complete);
    if (!complete) too_broad_ = true;
    return s;
  }

  Status ScanPlace(const std::string& postcode) {
    bool complete = true;
    Status s = scanner_.ScanPlace(postcode, Searcher::kPostingLimit,
                                  [this](const Posting& p) { set_->Offer(p, true); }, &complete);
    if (!complete) too_broad_ = true;
    return s;
  }

  // Every token in each (year, month); a month of nullopt scans the whole year.
  Status ScanAll(const Tokens& tokens, const std::vector<int>& years,
                 const std::vector<std::optional<uint8_t>>& months) {
    for (const auto& [kind, token] : tokens) {
      for (int y : years) {
        for (const auto& m : months) {
          Status s = Scan(kind, token, y, m);
          if (!s.ok()) return s;
        }
      }
    }
    return Status::OK();
  }

  // Trigram postings carry no features: count how many of the query's trigrams each
  // child shares in the birth month, then read and score the children sharing at least a
  // third of them (with a typo in each name, short names keep little more than that).
  Status TrigramTier(int year, uint8_t month) {
    std::unordered_map<ChildId, int> shared;
    size_t total = 0;
    for (const auto* name : {&query_.given(), &query_.family()}) {
      if (name->initial) continue;
      for (const auto& part : name->parts) {
        for (const auto& gram : Trigrams(part)) {
          ++total;
          bool complete = true;
          Status s = scanner_.ScanName(TermKind::kTrigram, gram, static_cast<uint16_t>(year),
                                       month, Searcher::kPostingLimit,
                                       [&shared](const Posting& p) { ++shared[p.id]; }, &complete);
          if (!s.ok()) return s;
          if (!complete) too_broad_ = true;
        }
      }
    }
    const int needed = std::max<int>(1, static_cast<int>(total / 3));
    std::vector<std::pair<int, ChildId>> ranked;  // (-shared, id): most shared first
    for (const auto& [id, count] : shared) {
      if (count >= needed && !set_->Seen(id)) ranked.emplace_back(-count, id);
    }
    // Only the children sharing the most trigrams are read: a record read costs what
    // scanning a few hundred postings does, and the best-sharing are the likely matches.
    const size_t reads = std::min(ranked.size(), kMaxTrigramReads);
    std::partial_sort(ranked.begin(), ranked.begin() + reads, ranked.end());
    std::vector<ChildId> ids;
    for (size_t i = 0; i < reads; ++i) ids.push_back(ranked[i].second);
    auto records = store_->MultiGetRecords(ids);
    std::string features;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!records[i].ok()) return records[i].status();
      features.clear();
      EncodeCandidateFeatures(*records[i], &features);
      set_->OfferRecordFeatures(ids[i], records[i]->shield.shielded, features);
    }
    return Status::OK();
  }

  bool too_broad() const { return too_broad_; }
  int tiers = 0;

 private:
  static constexpr size_t kMaxTrigramReads = 64;
  const ChildStore* store_;
  PostingScanner scanner_;
  const PreparedQuery& query_;
  CandidateSet* set_;
  bool too_broad_ = false;
};

// Birth years a query year may stand for: one either side, and every year one digit away
// (2016 typed for 2010..2019, 2006, 2026) within the ages the index holds.
std::vector<int> NearbyYears(int year) {
  const int today = TodayUtc().year;
  std::vector<int> years;
  auto add = [&](int y) {
    if (y != year && y >= today - 26 && y <= today + 1 &&
        std::find(years.begin(), years.end(), y) == years.end()) {
      years.push_back(y);
    }
  };
  add(year - 1);
  add(year + 1);
  for (int place = 1; place <= 1000; place *= 10) {
    const int digit = (year / place) % 10;
    for (int d = 0; d <= 9; ++d) add(year + (d - digit) * place);
  }
  std::sort(years.begin(), years.end());
  return years;
}

// Keys do not tell name fields apart, so a query with given and family names swapped
// still meets the child's postings.
//
// Tiers for an exact date of birth, cheapest first; each runs only while no candidate
// has reached kStrongMatch, so a weaker match (an unknown date, a namesake a digit away)
// does not hide a better one further out. A tier's cost is its number of seeks times
// the postings each yields: a birth month holds a twelfth of a year's.
//   1. each CodeGroups group in turn, in the birth month and among children whose date
//      of birth is unknown (few, and a plausible match beside any other);
//   2. the month the day names, for a day and month swapped;
//   3. the whole birth year, for a wrong month digit;
//   4. the birth month (and swapped month) of the years one digit or one year away;
//   5. nickname groups and trigrams in the birth month, for a nickname or typos in both
//      names when neither name's code survived.
Status GatherByExactDate(Plan* plan, const PreparedQuery& q, const CandidateSet& set) {
  const Date& dob = *q.criteria().date_of_birth;
  const Tokens codes = NameTokens(q, /*nicknames=*/false);
  const bool swappable = dob.day <= 12 && dob.day != dob.month;
  // `enough`: the score that makes the next tier unnecessary. The swapped-month tier is a
  // few seeks, so it runs unless a match is as good as a swapped date scores (0.95);
  // a namesake a day-digit away (0.933) must not hide a child whose day and month were
  // swapped.
  auto tier = [&](int n, auto&& scan, double enough = kStrongMatch) -> std::optional<Status> {
    plan->tiers = n;
    Status s = scan();
    if (!s.ok() || set.BestScore() >= enough) return s;
    return std::nullopt;
  };
  const double before_swap = swappable ? kSwapTierMatch : kStrongMatch;
  for (const Tokens& part : CodeGroups(q)) {
    if (auto done = tier(
            1,
            [&] {
              Status s = plan->ScanAll(part, {dob.year}, {dob.month});
              return s.ok() ? plan->ScanAll(part, {0}, {std::nullopt}) : s;
            },
            before_swap)) {
      return *done;
    }
  }
  if (swappable) {
    if (auto done = tier(2, [&] { return plan->ScanAll(codes, {dob.year}, {dob.day}); })) {
      return *done;
    }
  }
  if (auto done = tier(3, [&] { return plan->ScanAll(codes, {dob.year}, {std::nullopt}); })) {
    return *done;
  }
  std::vector<std::optional<uint8_t>> months = {dob.month};
  if (swappable) months.push_back(dob.day);
  if (auto done = tier(4, [&] { return plan->ScanAll(codes, NearbyYears(dob.year), months); })) {
    return *done;
  }
  plan->tiers = 5;
  Tokens groups;
  for (const auto& t : NameTokens(q, /*nicknames=*/true)) {
    if (t.first == TermKind::kNickname) groups.push_back(t);
  }
  Status s = plan->ScanAll(groups, {dob.year}, {dob.month});
  return s.ok() ? plan->TrigramTier(dob.year, dob.month) : s;
}

Status GatherByName(Plan* plan, const PreparedQuery& q, const CandidateSet& set) {
  const SearchCriteria& c = q.criteria();
  if (!c.postcode.empty()) {
    Status s = plan->ScanPlace(c.postcode);
    if (!s.ok()) return s;
  }
  if (!c.dob_from) return GatherByExactDate(plan, q, set);
  // A range: whole years; each CodeGroups group, then nickname groups, each only while
  // no strong match has been found.
  std::vector<int> years = {0};  // with the children whose date of birth is unknown
  for (int y = c.dob_from->year; y <= c.dob_to->year; ++y) years.push_back(y);
  plan->tiers = 1;
  for (const Tokens& part : CodeGroups(q)) {
    Status s = plan->ScanAll(part, years, {std::nullopt});
    if (!s.ok() || set.BestScore() >= kStrongMatch) return s;
  }
  plan->tiers = 2;
  Tokens groups;
  for (const auto& t : NameTokens(q, /*nicknames=*/true)) {
    if (t.first == TermKind::kNickname) groups.push_back(t);
  }
  return plan->ScanAll(groups, years, {std::nullopt});
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
    if (!criteria.postcode.empty()) {
      // A postcode given beside an identifier is still a hidden-field criterion: the
      // answer must not include a shielded child.
      std::vector<std::pair<double, ChildId>> kept;
      for (const auto& m : matches) {
        auto record = store_->GetRecord(m.second);
        if (!record.ok()) return record.status();
        if (!record->shield.shielded) kept.push_back(m);
      }
      matches.swap(kept);
    }
  } else {
    PreparedQuery query(criteria);
    CandidateSet set(query, /*uses_hidden_field=*/!criteria.postcode.empty());
    Plan plan(store_, query, &set);
    Status s = GatherByName(&plan, query, set);
    if (!s.ok()) return s;
    if (set.malformed()) return Status::Corruption("a name posting holds malformed features");
    response.postings_scanned = set.scanned();
    response.tiers = std::max(plan.tiers, 1);
    matches = set.Matches();
    if (plan.too_broad() || plan.over_cap()) {
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
