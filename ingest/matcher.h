// Matching a feed record against the children already held, Fellegi–Sunter style.
//
// Blocking: candidates come from the identifier index (an NHS or pupil number the record
// carries), from the name index and from the place index (the record's postcode). Under each
// of the record's family-name codes blocking reads what its birth year whole would give —
// its birth month, each other day of the year a slip in the date could give, and the
// children whose names both agree (name pairs) — and its month and day in every year one
// digit away; under each given-name and middle-name code only its birth month and the month
// its day would be were day and month swapped (docs/matching.md says which children that
// leaves out, and how databases without birth day postings are read). A name posting is a candidate
// when its date of birth plausibly is the record's (exact, swapped, one digit) or, under a family
// code, when both names agree phonetically whatever the date; a place posting when its date
// plausibly is the record's or a name agrees; candidates are pre-ranked by comparing what their
// postings carry (names, date, gender). Every shielded child that shares a code with the record is
// a candidate whatever its date of birth (storage files shielded children's codes once more,
// year-free), and so is every shielded child whose date of birth plausibly is the record's whatever
// its names (storage files each shielded child once more under its birth month and day, then year).
// These and the best kMaxCandidates others are candidates (a posting carries a digest of the
// child's NHS and pupil numbers: one that shows a number disagreeing ranks the candidate as that
// disagreement would). Each is read only as far as it can matter: one whose posting's score plus
// the best postcode and address levels falls short of `lower` (a shielded child: `shield_lower`) is
// not read (for a child the record's postcode scan did not list, the best postcode level is the
// district's: it lives elsewhere); the others are read in full — record and hidden fields, under
// matching clearance: matching sees shielded children whole. Where the posting cannot settle an
// identifier the record carries (its digest is the record's, or it carries none), and for
// candidates found by identifier or decided by a reviewer, the record is read first and the hidden
// fields only if they could lift it to the threshold. Every candidate of a record that waits in
// review is read in full.
//
// Pairwise score: each field compared gives an agreement level and a weight in bits,
// log2(m / u), where m is the chance of that level for two records of the same child and u
// for two different children (MatchWeights lists the values and where they come from).
// Agreeing on a family name is frequency-adjusted: u is that surname's share of the
// population, so agreeing on a rare surname counts for more than agreeing on Smith. The
// weights add up to the candidate's total.
//
// Decision (MatchOutcome): a total at or above `upper` links, unless a second candidate is
// also above it (review) or, with no identifier agreeing, a name or the date of birth
// disagrees outright (review: twins share everything but a given name, and a child born on
// another day is another child unless a person decides otherwise) — a total `strong_margin`
// above `upper` overrides a disagreeing family name or date, never a given name; below `lower` for
// every candidate a new child is made; anything in between goes to review. The shielding rule comes
// on top: a record that scores at or above `lower` against a shielded child, or shares an
// identifier with one, never becomes a separate child — it links to that child or waits in review,
// shielded; and a record that would be a new child waits in review, shielded, instead when it
// scores at or above `shield_lower` (below `lower`) against a shielded child. Reviewers' decisions
// are honoured: a pair decided "not the same" is never a candidate again, a pair decided "the same"
// links.
//
// Thread safety: immutable; Match may be called from many threads.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "storage/child_store.h"

namespace cp {

// Weights in bits (log2 m/u). The defaults are reasoned from the population (a child's
// date of birth is one of ~6,600 days in 18 years; a postcode holds ~15 households) and
// from the noise feeds carry (typos, nicknames, moves); docs/matching.md explains each.
struct MatchWeights {
  double upper = 15;  // at or above: link
  double lower = 7;   // below for every candidate: a new child
  // At or above against a shielded child: a record that would be a new child is plausibly
  // that child, and waits in review, shielded, instead. Below `lower`: a shielded child's
  // record can come back with two slips in its date and a common surname and score under
  // `lower` (docs/matching.md, "Shielded children"). A candidate above `upper` still links.
  double shield_lower = 0;
  // Evidence this far above `upper` links despite a family name or a date of birth that
  // disagrees outright (an adoptive surname, a mistyped date) — never despite a given name
  // that disagrees: that is what twins look like.
  double strong_margin = 6;

  double family_exact_m = 0.90;      // u = the surname's frequency (floor below)
  double family_rare_floor = 1e-5;   // u for a surname not in the table
  double family_exact_cap = 12;      // no surname alone is worth more
  double family_part = 5;            // one part of a double-barrelled name, or a former name
  double family_typo = 4;
  double family_phonetic = 3.5;
  double family_disagree = -6;
  double given_exact = 6.5;
  double given_nickname = 4;
  double given_typo = 4;
  double given_phonetic = 3.5;
  double given_initial = 1;
  double given_middle = 3;           // the record's given name is the child's middle name
  double given_disagree = -8;
  double swapped_penalty = 1;        // given and family names read the other way round
  double dob_exact = 12.6;
  double dob_swapped = 6;            // day and month swapped
  double dob_one_digit = 4;          // one digit or one component wrong
  double dob_disagree = -6;
  double gender_agree = 1;
  double gender_disagree = -4.6;
  double postcode_exact = 10;
  double postcode_district = 4;      // same outward code: a move within the area
  double postcode_disagree = -2;     // families move: weak evidence against
  double address_exact = 5;          // the same address, folded (on top of the postcode)
  double address_close = 3;          // Jaro-Winkler >= 0.9: a typo in the address
  double nhs_agree = 15;
  double nhs_disagree = -12;
  double upn_agree = 14;
  double upn_disagree = -10;
};

// Lines "name = number" ('#' starts a comment), names as the members above ("upper",
// "family_typo", ...); each replaces that default. InvalidArgument naming the line for an
// unknown name, a value that is not a number, lower above upper or shield_lower above
// lower. A `lower` below the default `shield_lower`, with no `shield_lower` given, lowers
// it to `lower`.
Result<MatchWeights> ParseMatchWeights(std::string_view text);

struct FieldComparison {
  std::string field;  // "family_name", "given_name", "date_of_birth", ...
  std::string level;  // "exact", "phonetic", "typo", "nickname", "swapped", "disagree", ...
  double weight = 0;
};

struct ScoredCandidate {
  ChildId child = 0;
  bool shielded = false;
  double total = 0;
  bool identifier_agrees = false;  // an NHS or pupil number agrees
  bool names_disagree = false;     // given or family name agree at no level
  bool given_disagrees = false;    // the given name agrees at no level
  bool dob_disagrees = false;      // the dates of birth agree at no level
  std::vector<FieldComparison> fields;
};

enum class MatchDecision { kLink, kNew, kReview };
const char* MatchDecisionName(MatchDecision d);  // "link", "new", "review"

struct MatchOutcome {
  MatchDecision decision = MatchDecision::kNew;
  ChildId child = 0;              // with kLink: the child linked to
  bool shielded = false;          // a shielded child is involved: the record is treated as shielded
  std::string reason;             // why, for explain and logs (no personal data)
  // Best first. A candidate left unread (it cannot reach `lower`) has a field "record" or
  // "postcode_address" at level "unread", and its total lacks what was not read; never in
  // an outcome of kReview, whose candidates are all read in full.
  std::vector<ScoredCandidate> candidates;
};

class NameCache;

// What blocking planned and found for one record, before the best candidates were taken
// (matcher.cc). Immutable once made.
struct BlockingState;
struct AddedChild;

class Matcher {
 public:
  static constexpr size_t kMaxCandidates = 20;
  // The most postings one of blocking's ordinary scans reads (a name code in a year or a
  // month, a postcode); past it the scan stops, and a child it did not reach is not a
  // candidate. The scans for shielded children (year-free, and by birth date) are never
  // cut short: every shielded child they find is compared, however many there are.
  static constexpr size_t kPostingLimit = 5000;

  // `store` must outlive the matcher. `posting_limit`: kPostingLimit but in tests.
  explicit Matcher(const ChildStore* store, MatchWeights weights = {},
                   size_t posting_limit = kPostingLimit);

  // Matches an unlinked source record (its hidden fields included) against the children.
  // With `blocking`, also what blocking found, for MatchWithAdded.
  Result<MatchOutcome> Match(const SourceRecord& incoming,
                             std::shared_ptr<const BlockingState>* blocking = nullptr) const;

  // The outcome Match(incoming) gives now, when the store has changed since `before` was
  // made (by Match of the same record) only by `added`: every child created since, as
  // stored (MakeAddedChild), and changes no blocking of `incoming` could see. Blocking's
  // scans are not run again: each added child's postings (the name index policy's
  // phonetic terms and features, as blocking itself assumes) are tested against their
  // plan and filter. Falls back to Match when an added child could change more than the
  // ranked list (shielded, archived, sharing an identifier, a scan near its limit). The
  // feed applier uses it for a row that a child created earlier in its window could
  // reach: mostly a sibling at the same address.
  Result<MatchOutcome> MatchWithAdded(const SourceRecord& incoming, const BlockingState& before,
                                      std::span<const AddedChild> added) const;

  // The pairwise comparison alone.
  ScoredCandidate Compare(const ChildRecord& record, const HiddenFields& hidden,
                          const ChildView& candidate) const;

  const MatchWeights& weights() const { return weights_; }

  // The decision on scored candidates (the rules docs/matching.md gives), with the
  // candidates best first.
  MatchOutcome Decide(std::vector<ScoredCandidate> scored) const;
  // What Decide would decide on `scored`, without copying or reordering it: Finish asks
  // this before reading more, of a list that may hold hundreds of shielded namesakes.
  MatchDecision DecisionOf(const std::vector<ScoredCandidate>& scored) const;

 private:
  // Runs blocking's scans into `state` (empty on entry).
  Status Block(const ChildRecord& record, const HiddenFields& hidden, BlockingState* state) const;
  // Candidate ids, and for each the most its names, date, gender and identifiers can score
  // (what its posting carries, compared as the record would be; an identifier counts only
  // where the posting's digest shows it disagrees): +infinity for those that must be
  // read whatever they score (found by identifier; a name a posting may have cut); and the
  // most its postcode and address can add (less for a candidate the record's postcode scan
  // shows lives elsewhere, and for a shielded one whose postings show another district).
  // Every shielded child blocking found, then the best
  // kMaxCandidates others.
  struct CutCandidate {
    ChildId id;
    double light;   // +infinity: read whatever it scores
    double bound;   // the most its postcode and address can add
    bool shielded;  // judged against shield_lower
    bool settled;   // `light` is what its record scores without the hidden fields
  };
  void Cut(const BlockingState& state, const HiddenFields& hidden, std::vector<CutCandidate>* out) const;
  // Reads the candidates Cut leaves as far as they matter, and decides.
  Result<MatchOutcome> Finish(const SourceRecord& incoming, const BlockingState& blocked) const;
  struct Verdict {
    MatchDecision decision = MatchDecision::kNew;
    ChildId child = 0;      // with kLink: the best candidate
    bool shielded = false;  // the outcome's `shielded`
    const char* reason = "";
  };
  // Decide's rules, given its best two candidates (null: none) and whether any candidate
  // involves (`shielded`) or plausibly is (`plausible`) a shielded child.
  Verdict Judge(const ScoredCandidate* best, const ScoredCandidate* second, bool shielded,
                bool plausible) const;
  // The verdict on `scored` in any order: one pass finds the best two and the shield flags
  // for Judge. Decide and DecisionOf both decide by it.
  Verdict Weigh(const std::vector<ScoredCandidate>& scored) const;

  const ChildStore* store_;
  MatchWeights weights_;
  size_t posting_limit_;
  std::shared_ptr<NameCache> names_;  // prepared names by spelling; thread-safe
};

// What blocking needs to know of a record, or of a child, to tell whether the child could
// be one of the record's candidates: the Double Metaphone codes of its names (given; family
// and former family; middle), identifiers, postcode, date of birth and shield.
struct BlockingProfile {
  std::vector<std::string> given, family, middle;
  std::string nhs, upn, postcode;
  Date date_of_birth;
  bool shielded = false;
};
BlockingProfile MakeBlockingProfile(const ChildRecord& r, const HiddenFields& h);

// A child written after a record's match was made, as blocking would meet it: its
// codes, identifiers, postcode, date and shield (`profile`), and the features its postings
// carry. MakeAddedChild makes one from the child as stored.
struct AddedChild {
  ChildId id = 0;
  BlockingProfile profile;
  std::string features;
  bool archived = false;
};
AddedChild MakeAddedChild(ChildId id, const ChildRecord& r, const HiddenFields& h);

// Whether Matcher blocking, matching `record`, could reach `child` at all: they share an
// identifier; or `child` is shielded and shares a name code; or they share a name code or
// the postcode and their dates of birth plausibly agree or both names agree (either way
// round). Errs towards true. A child written after a record was matched can change that
// match only if this holds or the child was one of the match's candidates: the feed
// applier matches a batch's rows in parallel on this basis. WrittenSince
// (ingest/written_since.h) files children by what this needs them to share with a record:
// a rule added here that needs none of those must be added there too.
bool CouldBeCandidate(const BlockingProfile& record, const BlockingProfile& child);

// The dates of `d`'s own birth year that plausibly are `d` (its date of birth level is
// not "disagree"), as (month, day), month 1..12 and day 1..31, in that order; none for no
// date. Blocking seeks each in the birth day lists.
std::vector<std::pair<uint8_t, uint8_t>> PlausibleDays(const Date& d);

// Share of the population with this folded surname (UK surname frequencies), or 0 when
// the name is not in the table.
double SurnameFrequency(std::string_view folded);

}  // namespace cp
