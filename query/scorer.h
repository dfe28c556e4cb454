// Scoring a candidate against search criteria, from the features its posting carries.
//
// Each criterion given contributes an agreement in [0, 1] with a weight; the score is the
// weighted mean over the criteria given, so it lies in [0, 1] whatever the combination.
//
//   family name 0.35   exact 1; one part of a double-barrelled name 0.95; a former
//                      family name 0.95 x; phonetic (Double Metaphone) agreement 0.9;
//                      otherwise Jaro–Winkler; below 0.75 counts as 0
//   given name  0.25   as family, plus nickname groups 0.9, a middle name 0.9 x, and an
//                      initial that agrees 0.8
//   date of birth 0.30 exact or within the range 1; day and month swapped 0.85; one
//                      digit wrong 0.8; the child's date unknown 0.5; otherwise 0
//   gender      0.10   agree 1, unknown 0.5, disagree 0
//   postcode    0.20   agree 1, otherwise 0
//
// Given and family names swapped are scored both ways, the swapped reading at 0.95 x.
// kMatchThreshold is set so that agreeing names with a date of birth that is wrong
// beyond a swap or one digit (a sibling, a namesake) stay below it, and a twin (same
// family name and date, different given name) does too.
#pragma once

#include <string>
#include <vector>

#include "index/features.h"
#include "query/criteria.h"

namespace cp {

inline constexpr double kMatchThreshold = 0.8;

// Criteria prepared once per search: folded names, their codes, nickname groups.
class PreparedQuery {
 public:
  explicit PreparedQuery(const SearchCriteria& criteria);

  // Score in [0, 1]. `postcode_agrees` says whether the candidate came from the place
  // posting list of the query's postcode.
  double Score(const FeatureView& candidate, bool postcode_agrees) const;

  // Score(candidate, postcode_agrees) when that is at least `floor`; otherwise some value
  // below `floor`, not the score. A search needs exact scores only at or above the match
  // threshold, and most candidates of a posting list fall short of it: this skips each
  // name comparison whose best outcome could not lift the score to `floor` (the swapped
  // reading's, mostly). Exactly the value Score computes, when at or above `floor`.
  double ScoreAtLeast(const FeatureView& candidate, bool postcode_agrees, double floor) const;

  // An upper bound on Score from the date of birth alone; lets the searcher skip name
  // comparisons for candidates that cannot reach the threshold.
  double DateBound(const Date& candidate_dob) const;

  struct Name {
    std::string canonical;            // "smith jones"
    std::vector<std::string> parts;   // "smith", "jones"
    std::vector<std::string> codes;   // primary and alternate codes of every part
    std::vector<std::string> primary_codes;    // the primary code of every part
    std::vector<std::string> alternate_codes;  // alternates that differ from the primary
    std::vector<std::string> groups;  // nickname groups (given names only)
    bool initial = false;             // a single letter
    bool empty() const { return parts.empty(); }
  };
  const Name& given() const { return given_; }
  const Name& family() const { return family_; }
  const SearchCriteria& criteria() const { return criteria_; }

 private:
  double DateAgreement(const Date& candidate) const;
  double GenderAgreement(Gender candidate) const;
  double GivenAgreement(const Name& q, const FeatureView& c) const;
  double FamilyAgreement(const Name& q, const FeatureView& c) const;
  double Combine(double given, double family, double dob, double gender, double place) const;

  SearchCriteria criteria_;
  Name given_;
  Name family_;
  double weight_sum_ = 0;
};

}  // namespace cp
