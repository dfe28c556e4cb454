// Tests for query/scorer.h: scores from encoded candidate features.
//
// Each test builds a ChildRecord, encodes it with EncodeCandidateFeatures (what a
// posting carries) and scores it with a PreparedQuery built from validated criteria.

#include "query/scorer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "index/features.h"
#include "query/criteria.h"

namespace cp {
namespace {

constexpr Date kDob{2015, 3, 14};

ChildRecord Child(std::string given, std::string family, Date dob, Gender gender = Gender::kMale) {
  ChildRecord r;
  r.id = 1;
  r.given_name = std::move(given);
  r.family_name = std::move(family);
  r.date_of_birth = dob;
  r.gender = gender;
  return r;
}

SearchCriteria Names(std::string given, std::string family, Date dob) {
  SearchCriteria c;
  c.given_name = std::move(given);
  c.family_name = std::move(family);
  c.date_of_birth = dob;
  return c;
}

// Scores `record` against `criteria` as the searcher does: criteria validated first.
double ScoreOf(SearchCriteria criteria, const ChildRecord& record, bool postcode_agrees = false) {
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  EXPECT_TRUE(kind.ok()) << kind.status().ToString();
  std::string bytes;
  EncodeCandidateFeatures(record, &bytes);
  FeatureView view;
  EXPECT_TRUE(view.Parse(bytes));
  PreparedQuery query(criteria);
  return query.Score(view, postcode_agrees);
}

const ChildRecord kOliver = [] {
  ChildRecord r = Child("Oliver", "Smith", kDob);
  r.middle_names = "James";
  return r;
}();

// ---- Exact, range, bounds ---------------------------------------------------------------

TEST(ScorerTest, ExactNamesAndDobScoreOne) {
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Oliver", "Smith", kDob), kOliver), 1.0);
}

TEST(ScorerTest, ExactMatchIsCaseAndAccentAndPunctuationInsensitive) {
  EXPECT_DOUBLE_EQ(ScoreOf(Names("OLIVER", "smith", kDob), kOliver), 1.0);
  ChildRecord zoe = Child("Zoë", "O'Brien", {2016, 7, 19}, Gender::kFemale);
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Zoe", "OBrien", {2016, 7, 19}), zoe), 1.0);
  ChildRecord mary = Child("Mary", "McDonald", {2014, 11, 30}, Gender::kFemale);
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Mary", "Mac Donald", {2014, 11, 30}), mary), 1.0);
}

TEST(ScorerTest, DobInsideRangeScoresOneAndOutsideBelowThreshold) {
  SearchCriteria c = Names("Oliver", "Smith", kDob);
  c.date_of_birth.reset();
  c.dob_from = Date{2015, 1, 1};
  c.dob_to = Date{2015, 12, 31};
  EXPECT_DOUBLE_EQ(ScoreOf(c, kOliver), 1.0);
  c.dob_from = Date{2015, 3, 14};
  c.dob_to = Date{2015, 3, 14};
  EXPECT_DOUBLE_EQ(ScoreOf(c, kOliver), 1.0);
  c.dob_from = Date{2015, 3, 15};
  c.dob_to = Date{2016, 3, 14};
  EXPECT_LT(ScoreOf(c, kOliver), kMatchThreshold);
}

TEST(ScorerTest, AllCriteriaExactScoreOne) {
  SearchCriteria c = Names("Oliver", "Smith", kDob);
  c.gender = Gender::kMale;
  c.postcode = "LS1 4AP";
  EXPECT_DOUBLE_EQ(ScoreOf(c, kOliver, /*postcode_agrees=*/true), 1.0);

  SearchCriteria family_place;
  family_place.family_name = "Smith";
  family_place.date_of_birth = kDob;
  family_place.gender = Gender::kMale;
  family_place.postcode = "LS1 4AP";
  EXPECT_DOUBLE_EQ(ScoreOf(family_place, kOliver, true), 1.0);

  SearchCriteria given_place = family_place;
  given_place.family_name.clear();
  given_place.given_name = "Oliver";
  EXPECT_DOUBLE_EQ(ScoreOf(given_place, kOliver, true), 1.0);
}

TEST(ScorerTest, PostcodeThatDoesNotAgreeKeepsFamilyDobGenderBelowThreshold) {
  SearchCriteria c;
  c.family_name = "Smith";
  c.date_of_birth = kDob;
  c.gender = Gender::kMale;
  c.postcode = "LS1 4AP";
  EXPECT_LT(ScoreOf(c, kOliver, /*postcode_agrees=*/false), kMatchThreshold);
}

TEST(ScorerTest, ScoreIsAlwaysWithinZeroAndOne) {
  // A deterministic sweep over query and candidate variations.
  const std::vector<std::string> givens = {"Oliver", "O",     "Olivr", "Ollie", "Smith",
                                           "Amelia", "James", "Bill",  "Zz",    "Oliver James"};
  // A one-letter family name is refused by ValidateCriteria, so it is not swept here.
  const std::vector<std::string> families = {"Smith",  "Smyth", "Oliver",     "Taylor-Brown",
                                             "Brown",  "Walker", "Xyzzy", "Smith Jones"};
  const std::vector<Date> dobs = {kDob, {2015, 2, 3}, {2015, 3, 15}, {2009, 11, 20}, {2016, 3, 14}};
  std::vector<ChildRecord> candidates = {kOliver,
                                         Child("Amelia", "Smith", kDob, Gender::kFemale),
                                         Child("Smith", "Oliver", kDob),
                                         Child("William", "Jones", {2014, 5, 9}),
                                         Child("Charlotte", "Taylor-Brown", {2013, 8, 21}),
                                         Child("Jack", "Thompson", Date{}, Gender::kUnknown)};
  candidates.back().former_family_names = {"Smith", "Walker"};
  int checked = 0;
  for (const auto& g : givens) {
    for (const auto& f : families) {
      for (const Date& d : dobs) {
        for (Gender gender : {Gender::kUnknown, Gender::kMale, Gender::kFemale}) {
          for (bool place : {false, true}) {
            SearchCriteria c = Names(g, f, d);
            c.gender = gender;
            if (place) c.postcode = "LS1 4AP";
            for (const auto& cand : candidates) {
              for (bool agrees : {false, true}) {
                double s = ScoreOf(c, cand, agrees && place);
                ASSERT_GE(s, 0.0) << g << " " << f << " " << d.ToString();
                ASSERT_LE(s, 1.0) << g << " " << f << " " << d.ToString();
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

// The searcher scores candidates with ScoreAtLeast: at or above the floor it must be the
// score to the last bit, below it only ever below the floor.
TEST(ScorerTest, ScoreAtLeastIsTheScoreAtOrAboveTheFloorAndBelowItOtherwise) {
  const std::vector<std::string> givens = {"Oliver", "O", "Olivr", "Ollie", "Smith", "Amelia",
                                           "James", "Bill", "Oliver James", ""};
  const std::vector<std::string> families = {"Smith", "Smyth", "Oliver", "Taylor-Brown",
                                             "Jones", "Smith Jones", "Thompson"};
  const std::vector<Date> dobs = {kDob, {2015, 14, 3}, {2015, 3, 15}, {2016, 3, 14}, {2009, 11, 20}};
  std::vector<ChildRecord> candidates = {kOliver,
                                         Child("Amelia", "Smith", kDob, Gender::kFemale),
                                         Child("Smith", "Oliver", kDob),
                                         Child("Olivia", "Smyth", {2015, 3, 15}),
                                         Child("William", "Jones", {2014, 5, 9}),
                                         Child("Charlotte", "Taylor-Brown", {2015, 3, 14}),
                                         Child("Jack", "Thompson", Date{}, Gender::kUnknown)};
  candidates.back().former_family_names = {"Smith", "Walker"};
  int above = 0, below = 0;
  for (const auto& g : givens) {
    for (const auto& f : families) {
      for (const Date& d : dobs) {
        for (bool place : {false, true}) {
          SearchCriteria c = Names(g, f, d);
          c.gender = Gender::kMale;
          if (place) c.postcode = "LS1 4AP";
          if (!ValidateCriteria(&c).ok()) continue;
          PreparedQuery q(c);
          for (const auto& cand : candidates) {
            std::string bytes;
            EncodeCandidateFeatures(cand, &bytes);
            FeatureView v;
            ASSERT_TRUE(v.Parse(bytes));
            for (double floor : {kMatchThreshold, 0.9, 0.95}) {
              for (bool agrees : {false, true}) {
                const double score = q.Score(v, agrees && place);
                const double at_least = q.ScoreAtLeast(v, agrees && place, floor);
                if (score >= floor) {
                  ASSERT_EQ(at_least, score) << g << "/" << f << " " << d.ToString();
                  ++above;
                } else {
                  ASSERT_LT(at_least, floor) << g << "/" << f << " " << d.ToString();
                  ++below;
                }
              }
            }
          }
        }
      }
    }
  }
  // The sweep reaches both sides of every floor.
  EXPECT_GT(above, 100);
  EXPECT_GT(below, 1000);
}

TEST(ScorerTest, DateBoundIsAnUpperBoundOnScore) {
  const std::vector<Date> dobs = {kDob, {2015, 3, 15}, {2015, 2, 3}, {2012, 7, 2}, Date{}};
  for (const char* given : {"Oliver", "O", "Olivr", "Amelia"}) {
    for (const Date& d : dobs) {
      SearchCriteria c = Names(given, "Smith", kDob);
      c.gender = Gender::kFemale;
      c.postcode = "LS1 4AP";
      ASSERT_TRUE(ValidateCriteria(&c).ok());
      PreparedQuery q(c);
      ChildRecord r = kOliver;
      r.date_of_birth = d;
      std::string bytes;
      EncodeCandidateFeatures(r, &bytes);
      FeatureView v;
      ASSERT_TRUE(v.Parse(bytes));
      EXPECT_LE(q.Score(v, true), q.DateBound(d) + 1e-12) << given << " " << d.ToString();
      EXPECT_LE(q.Score(v, false), q.DateBound(d) + 1e-12) << given << " " << d.ToString();
    }
  }
}

// ---- Ranking ----------------------------------------------------------------------------

TEST(ScorerTest, ExactRanksAboveOneTypoAboveTwoTypos) {
  const double exact = ScoreOf(Names("Oliver", "Smith", kDob), kOliver);
  const double one = ScoreOf(Names("Olivr", "Smith", kDob), kOliver);
  const double two = ScoreOf(Names("Olivr", "Smiht", kDob), kOliver);
  EXPECT_GT(exact, one);
  EXPECT_GT(one, two);
  EXPECT_GE(two, kMatchThreshold);
  // Also when both typos fall in one name.
  const double two_in_one = ScoreOf(Names("Olvr", "Smith", kDob), kOliver);
  EXPECT_GT(one, two_in_one);
  EXPECT_GE(two_in_one, kMatchThreshold);
}

TEST(ScorerTest, ExactRanksAboveEveryFuzzyKind) {
  const double exact = ScoreOf(Names("Oliver", "Smith", kDob), kOliver);
  for (const SearchCriteria& c :
       {Names("Ollie", "Smith", kDob), Names("Smith", "Oliver", kDob),
        Names("Oliver", "Smyth", kDob), Names("O", "Smith", kDob), Names("James", "Smith", kDob),
        Names("Oliver", "Smith", {2015, 3, 15}), Names("Oliver", "Smith", {2016, 3, 14})}) {
    EXPECT_LT(ScoreOf(c, kOliver), exact) << c.given_name << " " << c.family_name;
  }
}

// ---- Fuzzy kinds above the threshold ----------------------------------------------------

TEST(ScorerTest, OneAndTwoTyposAboveThreshold) {
  for (const auto& [given, family] :
       std::vector<std::pair<std::string, std::string>>{{"Olivr", "Smith"},
                                                        {"Oliver", "Smiht"},
                                                        {"Olvier", "Smith"},
                                                        {"Oliver", "Smtih"},
                                                        {"Olivr", "Smiht"},
                                                        {"Oliverr", "Smithh"}}) {
    EXPECT_GE(ScoreOf(Names(given, family, kDob), kOliver), kMatchThreshold)
        << given << " " << family;
  }
}

TEST(ScorerTest, PhoneticVariantAboveThreshold) {
  // Smyth/Smith share a Double Metaphone code; Jaro-Winkler alone is below 0.9.
  const double s = ScoreOf(Names("Oliver", "Smyth", kDob), kOliver);
  EXPECT_GE(s, kMatchThreshold);
  ChildRecord thompson = Child("Jack", "Thompson", {2013, 10, 17});
  EXPECT_GE(ScoreOf(Names("Jack", "Tomson", {2013, 10, 17}), thompson), kMatchThreshold);
}

TEST(ScorerTest, NicknameAboveThreshold) {
  ChildRecord william = Child("William", "Jones", {2014, 5, 9});
  const double bill = ScoreOf(Names("Bill", "Jones", {2014, 5, 9}), william);
  EXPECT_GE(bill, kMatchThreshold);
  EXPECT_LT(bill, 1.0);
  // And the other way round: a child registered by the nickname.
  ChildRecord billy = Child("Bill", "Jones", {2014, 5, 9});
  EXPECT_GE(ScoreOf(Names("William", "Jones", {2014, 5, 9}), billy), kMatchThreshold);
  ChildRecord elizabeth = Child("Elizabeth", "Jones", {2016, 10, 1}, Gender::kFemale);
  EXPECT_GE(ScoreOf(Names("Beth", "Jones", {2016, 10, 1}), elizabeth), kMatchThreshold);
  EXPECT_GE(ScoreOf(Names("Ollie", "Smith", kDob), kOliver), kMatchThreshold);
}

TEST(ScorerTest, SwappedNamesAboveThreshold) {
  const double swapped = ScoreOf(Names("Smith", "Oliver", kDob), kOliver);
  EXPECT_GE(swapped, kMatchThreshold);
  EXPECT_LT(swapped, 1.0);
  // The straight reading of a child registered the wrong way round scores 1.
  ChildRecord reversed = Child("Smith", "Oliver", kDob);
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Smith", "Oliver", kDob), reversed), 1.0);
  EXPECT_GE(ScoreOf(Names("Oliver", "Smith", kDob), reversed), kMatchThreshold);
}

TEST(ScorerTest, SwappedNamesWithATypoAboveThreshold) {
  EXPECT_GE(ScoreOf(Names("Smiht", "Oliver", kDob), kOliver), kMatchThreshold);
}

TEST(ScorerTest, PartOfDoubleBarrelledSurnameAboveThreshold) {
  ChildRecord c = Child("Charlotte", "Taylor-Brown", {2013, 8, 21}, Gender::kFemale);
  const Date d{2013, 8, 21};
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Charlotte", "Taylor-Brown", d), c), 1.0);
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Charlotte", "Taylor Brown", d), c), 1.0);
  const double brown = ScoreOf(Names("Charlotte", "Brown", d), c);
  const double taylor = ScoreOf(Names("Charlotte", "Taylor", d), c);
  EXPECT_GE(brown, kMatchThreshold);
  EXPECT_GE(taylor, kMatchThreshold);
  EXPECT_LT(brown, 1.0);
  // The query double-barrelled, the child registered under one part.
  ChildRecord single = Child("Charlotte", "Brown", d, Gender::kFemale);
  const double reverse = ScoreOf(Names("Charlotte", "Taylor-Brown", d), single);
  EXPECT_GE(reverse, kMatchThreshold);
  EXPECT_LT(reverse, 1.0);
}

TEST(ScorerTest, FormerFamilyNameAboveThreshold) {
  ChildRecord ella = Child("Ella", "Robinson", {2016, 1, 30}, Gender::kFemale);
  ella.former_family_names = {"Walker"};
  const double former = ScoreOf(Names("Ella", "Walker", {2016, 1, 30}), ella);
  EXPECT_GE(former, kMatchThreshold);
  EXPECT_LT(former, 1.0);
  EXPECT_DOUBLE_EQ(ScoreOf(Names("Ella", "Robinson", {2016, 1, 30}), ella), 1.0);
  // A typo in the former family name still finds her.
  EXPECT_GE(ScoreOf(Names("Ella", "Walkr", {2016, 1, 30}), ella), kMatchThreshold);
  // Several former names: each one counts.
  ella.former_family_names = {"Walker", "Hughes"};
  EXPECT_GE(ScoreOf(Names("Ella", "Hughes", {2016, 1, 30}), ella), kMatchThreshold);
}

TEST(ScorerTest, MiddleNameAsGivenNameAboveThreshold) {
  const double s = ScoreOf(Names("James", "Smith", kDob), kOliver);
  EXPECT_GE(s, kMatchThreshold);
  EXPECT_LT(s, 1.0);
}

TEST(ScorerTest, DobDayMonthSwapAboveThreshold) {
  ChildRecord william = Child("William", "Jones", {2014, 5, 9});
  const double swapped = ScoreOf(Names("William", "Jones", {2014, 9, 5}), william);
  EXPECT_GE(swapped, kMatchThreshold);
  EXPECT_LT(swapped, 1.0);
}

TEST(ScorerTest, DobOneDigitWrongAboveThreshold) {
  ChildRecord william = Child("William", "Jones", {2014, 5, 9});
  for (Date d : {Date{2014, 5, 8}, Date{2014, 5, 19}, Date{2014, 6, 9}, Date{2013, 5, 9},
                 Date{2024, 5, 9}}) {
    const double s = ScoreOf(Names("William", "Jones", d), william);
    EXPECT_GE(s, kMatchThreshold) << d.ToString();
    EXPECT_LT(s, 1.0) << d.ToString();
  }
}

TEST(ScorerTest, DobSwapRanksAboveOneDigitWrong) {
  ChildRecord william = Child("William", "Jones", {2014, 5, 9});
  EXPECT_GT(ScoreOf(Names("William", "Jones", {2014, 9, 5}), william),
            ScoreOf(Names("William", "Jones", {2014, 5, 8}), william));
}

TEST(ScorerTest, InitialMatches) {
  const double initial = ScoreOf(Names("O", "Smith", kDob), kOliver);
  EXPECT_GE(initial, kMatchThreshold);
  EXPECT_LT(initial, 1.0);
  EXPECT_GE(ScoreOf(Names("o.", "Smith", kDob), kOliver), kMatchThreshold);
  // A different initial does not.
  EXPECT_LT(ScoreOf(Names("A", "Smith", kDob), kOliver), kMatchThreshold);
  // A full name ranks above an initial.
  EXPECT_GT(ScoreOf(Names("Oliver", "Smith", kDob), kOliver), initial);
}

TEST(ScorerTest, UnknownDobOfChildIsNeitherAgreementNorDisagreement) {
  ChildRecord nodob = Child("Jack", "Thompson", Date{});
  const double s = ScoreOf(Names("Jack", "Thompson", {2014, 2, 2}), nodob);
  EXPECT_GE(s, kMatchThreshold);
  EXPECT_LT(s, 1.0);
  EXPECT_LT(ScoreOf(Names("Jack", "Thompsen", {2014, 2, 2}), nodob), s);
}

// ---- Below the threshold ----------------------------------------------------------------

TEST(ScorerTest, TwinBelowThreshold) {
  ChildRecord amelia = Child("Amelia", "Smith", kDob, Gender::kFemale);
  EXPECT_LT(ScoreOf(Names("Oliver", "Smith", kDob), amelia), kMatchThreshold);
  EXPECT_LT(ScoreOf(Names("Amelia", "Smith", kDob), kOliver), kMatchThreshold);
  // Nor does the swapped reading lift a twin over it.
  EXPECT_LT(ScoreOf(Names("Smith", "Oliver", kDob), amelia), kMatchThreshold);
}

TEST(ScorerTest, SameNamesUnrelatedDobBelowThreshold) {
  for (Date d : {Date{2009, 11, 20}, Date{2018, 9, 5}, Date{2015, 7, 2}, Date{2011, 7, 22}}) {
    EXPECT_LT(ScoreOf(Names("Oliver", "Smith", d), kOliver), kMatchThreshold) << d.ToString();
  }
}

TEST(ScorerTest, SiblingBelowThreshold) {
  ChildRecord harry = Child("Harry", "Smith", {2012, 7, 2});
  EXPECT_LT(ScoreOf(Names("Oliver", "Smith", kDob), harry), kMatchThreshold);
  SearchCriteria place;
  place.family_name = "Smith";
  place.date_of_birth = kDob;
  place.gender = Gender::kMale;
  place.postcode = "LS1 4AP";
  EXPECT_LT(ScoreOf(place, harry, /*postcode_agrees=*/true), kMatchThreshold);
}

TEST(ScorerTest, UnrelatedNamesBelowThreshold) {
  EXPECT_LT(ScoreOf(Names("Zachary", "Okonkwo", kDob), kOliver), kMatchThreshold);
  EXPECT_LT(ScoreOf(Names("Oliver", "Okonkwo", kDob), kOliver), kMatchThreshold);
}

TEST(ScorerTest, ScoreIsDeterministic) {
  SearchCriteria c = Names("Olivr", "Smiht", kDob);
  EXPECT_DOUBLE_EQ(ScoreOf(c, kOliver), ScoreOf(c, kOliver));
}

}  // namespace
}  // namespace cp
