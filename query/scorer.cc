#include "query/scorer.h"

#include <algorithm>
#include <cstdlib>

#include "index/double_metaphone.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/similarity.h"

namespace cp {
namespace {

constexpr double kFamilyWeight = 0.35;
constexpr double kGivenWeight = 0.25;
constexpr double kDobWeight = 0.30;
constexpr double kGenderWeight = 0.10;
constexpr double kPlaceWeight = 0.20;
constexpr double kNameFloor = 0.75;  // weaker name agreement counts as none
constexpr double kSwapFactor = 0.95;
constexpr double kSecondaryFactor = 0.9;  // a middle name or a former family name

PreparedQuery::Name Prepare(std::string_view raw, bool given) {
  PreparedQuery::Name n;
  n.parts = NameParts(raw);
  for (const auto& p : n.parts) {
    if (!n.canonical.empty()) n.canonical.push_back(' ');
    n.canonical += p;
    PhoneticCodes codes = DoubleMetaphone(p);
    if (!codes.primary.empty()) {
      n.codes.push_back(codes.primary);
      n.primary_codes.push_back(codes.primary);
    }
    if (!codes.alternate.empty() && codes.alternate != codes.primary) {
      n.codes.push_back(codes.alternate);
      n.alternate_codes.push_back(codes.alternate);
    }
    if (given) {
      for (const auto& g : NameVariants::Default().Groups(p)) n.groups.push_back(g);
    }
  }
  n.initial = n.parts.size() == 1 && n.parts[0].size() == 1;
  return n;
}

bool CodesAgree(const PreparedQuery::Name& q, std::string_view candidate_codes) {
  size_t pos = 0;
  std::string_view code;
  while (FeatureView::NextCode(candidate_codes, &pos, &code)) {
    for (const auto& c : q.codes) {
      if (c == code) return true;
    }
  }
  return false;
}

bool IsPartOf(std::string_view part, std::string_view canonical) {
  size_t start = 0;
  while (start <= canonical.size()) {
    size_t end = canonical.find(' ', start);
    if (end == std::string_view::npos) end = canonical.size();
    if (canonical.substr(start, end - start) == part) return true;
    start = end + 1;
  }
  return false;
}

// Agreement of a query name with one candidate name field, before the floor.
double FieldAgreement(const PreparedQuery::Name& q, const FeatureView::NameField& f, bool given) {
  if (q.initial) return (!f.name.empty() && f.name[0] == q.parts[0][0]) ? 0.8 : 0.0;
  if (q.canonical == f.name) return 1.0;
  double best = JaroWinkler(q.canonical, f.name);
  // One part of a double-barrelled or multi-part name, either way round.
  if (f.name.find(' ') != std::string_view::npos && q.parts.size() == 1 && IsPartOf(q.canonical, f.name)) {
    best = std::max(best, 0.95);
  }
  if (q.parts.size() > 1 && f.name.find(' ') == std::string_view::npos && IsPartOf(f.name, q.canonical)) {
    best = std::max(best, 0.95);
  }
  if (best < 0.9 && CodesAgree(q, f.codes)) best = std::max(best, 0.9);
  if (given && best < 0.9 && !q.groups.empty()) {
    // Some query part and the candidate's name share a group (AreVariants) exactly when
    // one of the candidate's groups is among the query parts' groups: one table lookup
    // per candidate name instead of two per query part.
    for (const auto& group : NameVariants::Default().Groups(f.name)) {
      if (std::find(q.groups.begin(), q.groups.end(), group) != q.groups.end()) {
        best = std::max(best, 0.9);
        break;
      }
    }
  }
  return best;
}

double Floor(double agreement) { return agreement < kNameFloor ? 0.0 : agreement; }

bool OneDigitApart(uint32_t a, uint32_t b) {
  int differing = 0;
  for (int i = 0; i < 8; ++i, a /= 10, b /= 10) differing += (a % 10) != (b % 10);
  return differing == 1;
}

}  // namespace

PreparedQuery::PreparedQuery(const SearchCriteria& criteria)
    : criteria_(criteria), given_(Prepare(criteria.given_name, true)),
      family_(Prepare(criteria.family_name, false)) {
  weight_sum_ = kDobWeight;
  if (!given_.empty()) weight_sum_ += kGivenWeight;
  if (!family_.empty()) weight_sum_ += kFamilyWeight;
  if (criteria_.gender != Gender::kUnknown) weight_sum_ += kGenderWeight;
  if (!criteria_.postcode.empty()) weight_sum_ += kPlaceWeight;
}

double PreparedQuery::DateAgreement(const Date& c) const {
  if (c.empty()) return 0.5;
  if (criteria_.dob_from) return (*criteria_.dob_from <= c && c <= *criteria_.dob_to) ? 1.0 : 0.0;
  if (!criteria_.date_of_birth) return 0.0;
  const Date& q = *criteria_.date_of_birth;
  if (q == c) return 1.0;
  if (q.year == c.year && q.month == c.day && q.day == c.month) return 0.85;
  if (OneDigitApart(q.Packed(), c.Packed())) return 0.8;
  return 0.0;
}

double PreparedQuery::GenderAgreement(Gender c) const {
  if (criteria_.gender == Gender::kUnknown) return 0.0;  // not weighted
  if (c == Gender::kUnknown) return 0.5;
  return c == criteria_.gender ? 1.0 : 0.0;
}

double PreparedQuery::GivenAgreement(const Name& q, const FeatureView& c) const {
  if (q.empty()) return 0.0;
  double best = 0.0;
  size_t pos = 0;
  FeatureView::NameField f;
  while (c.NextName(&pos, &f)) {
    if (f.role == NameRole::kGiven) best = std::max(best, FieldAgreement(q, f, true));
    if (f.role == NameRole::kMiddle) {
      best = std::max(best, kSecondaryFactor * FieldAgreement(q, f, true));
    }
  }
  return Floor(best);
}

double PreparedQuery::FamilyAgreement(const Name& q, const FeatureView& c) const {
  if (q.empty()) return 0.0;
  double best = 0.0;
  size_t pos = 0;
  FeatureView::NameField f;
  while (c.NextName(&pos, &f)) {
    if (f.role == NameRole::kFamily) best = std::max(best, FieldAgreement(q, f, false));
    if (f.role == NameRole::kFormerFamily) {
      best = std::max(best, 0.95 * FieldAgreement(q, f, false));
    }
  }
  return Floor(best);
}

double PreparedQuery::Combine(double given, double family, double dob, double gender,
                              double place) const {
  double sum = kDobWeight * dob + kGivenWeight * given + kFamilyWeight * family;
  if (criteria_.gender != Gender::kUnknown) sum += kGenderWeight * gender;
  if (!criteria_.postcode.empty()) sum += kPlaceWeight * place;
  return sum / weight_sum_;
}

double PreparedQuery::DateBound(const Date& candidate_dob) const {
  double dob = DateAgreement(candidate_dob);
  return Combine(given_.empty() ? 0 : 1, family_.empty() ? 0 : 1, dob, 1, 1);
}

double PreparedQuery::Score(const FeatureView& c, bool postcode_agrees) const {
  const double dob = DateAgreement(c.date_of_birth());
  const double gender = GenderAgreement(c.gender());
  const double place = postcode_agrees ? 1.0 : 0.0;
  double straight = Combine(GivenAgreement(given_, c), FamilyAgreement(family_, c), dob, gender, place);
  if (straight >= 0.999 || given_.empty() || family_.empty()) return straight;
  // Given and family names swapped: the query's family name read as a given name.
  double swapped = kSwapFactor * Combine(GivenAgreement(family_, c), FamilyAgreement(given_, c), dob,
                                         gender, place);
  return std::max(straight, swapped);
}

double PreparedQuery::ScoreAtLeast(const FeatureView& c, bool postcode_agrees,
                                   double floor) const {
  const double dob = DateAgreement(c.date_of_birth());
  const double gender = GenderAgreement(c.gender());
  const double place = postcode_agrees ? 1.0 : 0.0;
  // Combine is monotone in each agreement (positive weights; rounding is monotone), and a
  // name agrees at most 1: a reading whose bound with the one name compared so far is
  // below `floor` scores below it, and that bound is what is returned for it.
  const double given_max = given_.empty() ? 0.0 : 1.0;
  const double family_max = family_.empty() ? 0.0 : 1.0;
  const double family = FamilyAgreement(family_, c);
  double straight = Combine(given_max, family, dob, gender, place);
  if (straight >= floor) straight = Combine(GivenAgreement(given_, c), family, dob, gender, place);
  if (straight >= 0.999 || given_.empty() || family_.empty()) return straight;
  const double swapped_family = FamilyAgreement(given_, c);
  double swapped = kSwapFactor * Combine(family_max, swapped_family, dob, gender, place);
  if (swapped >= floor) {
    swapped = kSwapFactor *
              Combine(GivenAgreement(family_, c), swapped_family, dob, gender, place);
  }
  return std::max(straight, swapped);
}

}  // namespace cp
