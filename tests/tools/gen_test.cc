#include "tools/gen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "util/csv.h"
#include "util/date.h"
#include "util/identifiers.h"
#include "util/postcode.h"

namespace cp {
namespace {

constexpr char kGenHeader[] =
    "source_key,given_name,middle_names,family_name,former_family_names,date_of_birth,gender,"
    "address,postcode,nhs_number,pupil_number,parent_name,parent_phone,school,gp_practice";
constexpr char kQueriesHeader[] =
    "query_id,given_name,family_name,date_of_birth,dob_from,dob_to,gender,postcode,"
    "nhs_number,pupil_number,expected_source_key,noise";

// Column indices of the children file.
enum {
  kKey,
  kGiven,
  kMiddle,
  kFamily,
  kFormer,
  kDob,
  kGender,
  kAddress,
  kPostcode,
  kNhs,
  kUpn,
  kParent,
  kPhone,
  kSchool,
  kGp,
  kChildColumns
};
// Column indices of the query file.
enum {
  kQId,
  kQGiven,
  kQFamily,
  kQDob,
  kQFrom,
  kQTo,
  kQGender,
  kQPostcode,
  kQNhs,
  kQUpn,
  kQExpected,
  kQNoise,
  kQueryColumns
};

const Date kAsOf{2024, 6, 1};

std::string Children(uint64_t n, uint64_t seed = 1, Date as_of = kAsOf) {
  GenOptions options;
  options.children = n;
  options.seed = seed;
  options.as_of = as_of;
  std::ostringstream out;
  const Status s = GenerateChildren(options, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out.str();
}

std::string Queries(const std::string& children, uint64_t n, uint64_t seed = 1,
                    double fuzzy_share = 0.5) {
  QueryGenOptions options;
  options.queries = n;
  options.seed = seed;
  options.fuzzy_share = fuzzy_share;
  std::istringstream in(children);
  std::ostringstream out;
  const Status s = GenerateQueries(options, in, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out.str();
}

// Every record of a CSV text, header first; fails the test on a malformed record.
std::vector<std::vector<std::string>> ParseGeneratedCsv(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(&in);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> fields;
  std::string error;
  while (reader.Next(&fields, &error)) {
    EXPECT_EQ(error, "") << "record at line " << reader.record_line();
    rows.push_back(fields);
  }
  return rows;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// 20k children and 4k queries, made once: the checks below only read them.
class GenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    children_text_ = new std::string(Children(20000));
    children_ = new std::vector<std::vector<std::string>>(ParseGeneratedCsv(*children_text_));
    queries_ =
        new std::vector<std::vector<std::string>>(ParseGeneratedCsv(Queries(*children_text_, 4000, 7, 0.5)));
    by_key_ = new std::unordered_map<std::string, const std::vector<std::string>*>();
    for (size_t i = 1; i < children_->size(); ++i)
      (*by_key_)[(*children_)[i][kKey]] = &(*children_)[i];
  }
  static void TearDownTestSuite() {
    delete children_text_;
    delete children_;
    delete queries_;
    delete by_key_;
  }

  static const std::vector<std::string>& Child(const std::string& key) { return *by_key_->at(key); }

  static std::string* children_text_;
  static std::vector<std::vector<std::string>>* children_;  // header first
  static std::vector<std::vector<std::string>>* queries_;   // header first
  static std::unordered_map<std::string, const std::vector<std::string>*>* by_key_;
};
std::string* GenTest::children_text_ = nullptr;
std::vector<std::vector<std::string>>* GenTest::children_ = nullptr;
std::vector<std::vector<std::string>>* GenTest::queries_ = nullptr;
std::unordered_map<std::string, const std::vector<std::string>*>* GenTest::by_key_ = nullptr;

// ----- children ------------------------------------------------------------------------

TEST(GenChildrenTest, SameOptionsGiveSameBytes) {
  EXPECT_EQ(Children(3000, 42), Children(3000, 42));
}

TEST(GenChildrenTest, DifferentSeedsGiveDifferentBytes) {
  EXPECT_NE(Children(3000, 1), Children(3000, 2));
}

TEST(GenChildrenTest, HeaderComesFirstEvenWithNoChildren) {
  EXPECT_EQ(FirstLine(Children(10)), kGenHeader);
  EXPECT_EQ(Children(0), std::string(kGenHeader) + "\n");
}

TEST(GenChildrenTest, RejectsAnImpossibleAsOf) {
  GenOptions options;
  options.as_of = Date{2023, 2, 30};
  std::ostringstream out;
  EXPECT_TRUE(GenerateChildren(options, out).IsInvalidArgument());
}

TEST(GenChildrenTest, EmptyAsOfMeansToday) {
  const auto rows = ParseGeneratedCsv(Children(500, 3, Date{}));
  const Date today = TodayUtc();
  for (size_t i = 1; i < rows.size(); ++i) {
    const Result<Date> dob = ParseDate(rows[i][kDob]);
    ASSERT_TRUE(dob.ok()) << rows[i][kDob];
    const int age = AgeInYears(*dob, today);
    EXPECT_GE(age, 0);
    EXPECT_LE(age, 17);
  }
}

TEST_F(GenTest, HeaderAndRowCount) {
  EXPECT_EQ(FirstLine(*children_text_), kGenHeader);
  ASSERT_EQ(children_->size(), 20001u);
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    ASSERT_EQ(row.size(), static_cast<size_t>(kChildColumns)) << "row " << i;
    EXPECT_EQ(row[kKey], "gen-" + std::to_string(i));
    EXPECT_FALSE(row[kGiven].empty());
    EXPECT_FALSE(row[kFamily].empty());
  }
}

TEST_F(GenTest, NhsNumbersAreValidAndUnique) {
  std::unordered_set<std::string> seen;
  for (size_t i = 1; i < children_->size(); ++i) {
    const std::string& nhs = (*children_)[i][kNhs];
    if (nhs.empty()) continue;
    EXPECT_TRUE(IsValidNhsNumber(nhs)) << nhs;
    EXPECT_TRUE(seen.insert(nhs).second) << "duplicate " << nhs;
  }
  EXPECT_GT(seen.size(), 19000u);  // nearly every child has one
}

TEST_F(GenTest, PupilNumbersAreValidUniqueAndOnlyForSchoolAge) {
  std::unordered_set<std::string> seen;
  size_t school_age = 0;
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    const int age = AgeInYears(*ParseDate(row[kDob]), kAsOf);
    school_age += age >= 4;
    if (row[kUpn].empty()) continue;
    EXPECT_GE(age, 4) << row[kKey];
    EXPECT_TRUE(IsValidUpn(row[kUpn])) << row[kUpn];
    EXPECT_EQ(row[kUpn].size(), 13u);
    EXPECT_TRUE(seen.insert(row[kUpn]).second) << "duplicate " << row[kUpn];
  }
  EXPECT_GT(seen.size(), school_age * 9 / 10);
}

TEST_F(GenTest, DatesOfBirthGiveAges0To17AndGenderIsMOrF) {
  std::set<int> ages;
  size_t female = 0;
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    const Result<Date> dob = ParseDate(row[kDob]);
    ASSERT_TRUE(dob.ok()) << row[kDob];
    ages.insert(AgeInYears(*dob, kAsOf));
    ASSERT_TRUE(row[kGender] == "M" || row[kGender] == "F") << row[kGender];
    female += row[kGender] == "F";
  }
  EXPECT_EQ(*ages.begin(), 0);
  EXPECT_EQ(*ages.rbegin(), 17);
  EXPECT_EQ(ages.size(), 18u);
  EXPECT_NEAR(static_cast<double>(female) / 20000, 0.5, 0.03);
}

TEST_F(GenTest, PostcodesAreCanonicalAndSharedLikeRealOnes) {
  std::map<std::string, int> per_postcode;
  for (size_t i = 1; i < children_->size(); ++i) {
    const std::string& postcode = (*children_)[i][kPostcode];
    const Result<std::string> canonical = NormalisePostcode(postcode);
    ASSERT_TRUE(canonical.ok()) << postcode;
    EXPECT_EQ(*canonical, postcode);
    ++per_postcode[postcode];
  }
  std::vector<int> counts;
  for (const auto& [postcode, n] : per_postcode) counts.push_back(n);
  std::sort(counts.begin(), counts.end());
  const int median = counts[counts.size() / 2];
  EXPECT_GE(median, 8);
  EXPECT_LE(median, 30);
}

TEST_F(GenTest, AddressesPhonesAndServicesLookBritish) {
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    EXPECT_NE(row[kAddress].find(", "), std::string::npos) << row[kAddress];
    ASSERT_EQ(row[kPhone].size(), 12u) << row[kPhone];
    EXPECT_EQ(row[kPhone].substr(0, 2), "07");
    EXPECT_EQ(row[kPhone][5], ' ');
    const std::string& school = row[kSchool];
    const int age = AgeInYears(*ParseDate(row[kDob]), kAsOf);
    EXPECT_EQ(school.empty(), age < 4) << row[kKey] << " " << school;
    if (!school.empty()) {
      EXPECT_TRUE(school.ends_with("School") || school.ends_with("Academy")) << school;
    }
  }
}

TEST_F(GenTest, SomeChildrenHaveSiblingsAtTheSameAddress) {
  std::map<std::string, int> households;  // family + address + postcode + parent
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    ++households[row[kFamily] + "|" + row[kAddress] + "|" + row[kPostcode] + "|" + row[kParent]];
  }
  int with_sibling = 0;
  for (const auto& [household, n] : households) with_sibling += n > 1 ? n : 0;
  const double share = with_sibling / 20000.0;
  EXPECT_GT(share, 0.15);
  EXPECT_LT(share, 0.6);
}

TEST_F(GenTest, FormerNamesMiddleNamesAndDoubleBarrels) {
  int former = 0, middle = 0, hyphenated = 0;
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    if (!row[kFormer].empty()) {
      ++former;
      EXPECT_NE(row[kFormer], row[kFamily]);
    }
    middle += !row[kMiddle].empty();
    hyphenated += row[kFamily].find('-') != std::string::npos;
  }
  EXPECT_NEAR(former / 20000.0, 0.03, 0.015);
  EXPECT_NEAR(middle / 20000.0, 0.6, 0.05);
  EXPECT_GT(hyphenated, 100);
}

TEST_F(GenTest, NamesAreTitleCaseLetters) {
  bool saw_mc = false, saw_o = false;
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    for (const std::string& name : {row[kGiven], row[kFamily]}) {
      ASSERT_GE(name.size(), 2u);
      EXPECT_TRUE(name[0] >= 'A' && name[0] <= 'Z') << name;
      EXPECT_TRUE((name[1] >= 'a' && name[1] <= 'z') || name[1] == '\'') << name;
      for (char c : name) {
        EXPECT_TRUE(std::isalpha(static_cast<unsigned char>(c)) || c == '-' || c == '\'') << name;
      }
    }
    const std::string& family = row[kFamily];
    if (family.starts_with("Mc") && family.size() > 4) {
      saw_mc = true;
      EXPECT_TRUE(family[2] >= 'A' && family[2] <= 'Z') << family;
    }
    if (family.starts_with("O'")) {
      saw_o = true;
      EXPECT_TRUE(family[2] >= 'A' && family[2] <= 'Z') << family;
    }
  }
  EXPECT_TRUE(saw_mc);
  EXPECT_TRUE(saw_o);
}

// A statistical check on a fixed seed: Smith (1.30% of the table) leads Jones (1.03%) by
// about two standard deviations at 20k children, so it may tie but should not lose.
TEST_F(GenTest, SmithIsTheMostCommonSurname) {
  std::map<std::string, int> counts;
  for (size_t i = 1; i < children_->size(); ++i) ++counts[(*children_)[i][kFamily]];
  const int smith = counts["Smith"];
  for (const auto& [surname, n] : counts) EXPECT_LE(n, smith) << surname;
  EXPECT_GT(smith, 150);
}

TEST_F(GenTest, RecentBirthYearsHaveRecentPopularNames) {
  std::map<std::string, int> counts;
  int recent = 0;
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    if (row[kDob] < "2015") continue;
    ++recent;
    ++counts[row[kGiven]];
  }
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [name, n] : counts) ranked.emplace_back(-n, name);
  std::sort(ranked.begin(), ranked.end());
  std::set<std::string> top20;
  for (size_t i = 0; i < 20 && i < ranked.size(); ++i) top20.insert(ranked[i].second);
  EXPECT_TRUE(top20.count("Olivia")) << "recent children: " << recent;
  EXPECT_TRUE(top20.count("Oliver"));
  // Names come from the baby-name tables by birth year and sex: girls' names for girls.
  for (size_t i = 1; i < children_->size(); ++i) {
    const auto& row = (*children_)[i];
    if (row[kGiven] == "Olivia") {
      EXPECT_EQ(row[kGender], "F");
    }
    if (row[kGiven] == "Oliver") {
      EXPECT_EQ(row[kGender], "M");
    }
  }
}

// ----- queries -------------------------------------------------------------------------

bool Present(const std::vector<std::string>& q, int column) { return !q[column].empty(); }

// The minimum search criteria: an identifier alone; family + given (or initial) + dob or a
// dob range of at most two years; family + dob + gender + postcode; given + dob + gender +
// postcode.
bool MeetsCriteria(const std::vector<std::string>& q) {
  if (Present(q, kQNhs) || Present(q, kQUpn)) return true;
  bool dob = Present(q, kQDob) && ParseDate(q[kQDob]).ok();
  const bool has_range = Present(q, kQFrom) && Present(q, kQTo);
  if (has_range) {
    const Result<Date> from = ParseDate(q[kQFrom]), to = ParseDate(q[kQTo]);
    if (!from.ok() || !to.ok()) return false;
    const int32_t span = to->ToDays() - from->ToDays();
    if (span < 0 || span > 731) return false;
  }
  const bool place = Present(q, kQGender) && Present(q, kQPostcode);
  if (Present(q, kQFamily) && Present(q, kQGiven) && (dob || has_range)) return true;
  if (Present(q, kQFamily) && dob && place) return true;
  return Present(q, kQGiven) && dob && place;
}

TEST_F(GenTest, QueryHeaderAndShape) {
  ASSERT_EQ(queries_->size(), 4001u);
  std::string header;
  for (const std::string& f : (*queries_)[0]) header += (header.empty() ? "" : ",") + f;
  EXPECT_EQ(header, kQueriesHeader);
  for (size_t i = 1; i < queries_->size(); ++i) {
    ASSERT_EQ((*queries_)[i].size(), static_cast<size_t>(kQueryColumns));
    EXPECT_EQ((*queries_)[i][kQId], "q-" + std::to_string(i));
  }
}

TEST_F(GenTest, EveryQueryMeetsTheCriteriaAndTargetsAChild) {
  std::set<std::string> targets;
  for (size_t i = 1; i < queries_->size(); ++i) {
    const auto& q = (*queries_)[i];
    EXPECT_TRUE(MeetsCriteria(q)) << "query " << q[kQId];
    ASSERT_TRUE(by_key_->count(q[kQExpected])) << q[kQExpected];
    targets.insert(q[kQExpected]);
  }
  EXPECT_GT(targets.size(), 3500u);  // drawn at random, mostly distinct
}

TEST_F(GenTest, QueryMixCoversCriteriaAndNoise) {
  std::map<std::string, int> noise;
  int identifier = 0, place = 0, range = 0;
  for (size_t i = 1; i < queries_->size(); ++i) {
    const auto& q = (*queries_)[i];
    ++noise[q[kQNoise]];
    identifier += Present(q, kQNhs) || Present(q, kQUpn);
    place += Present(q, kQPostcode);
    range += Present(q, kQFrom);
  }
  EXPECT_NEAR(noise["exact"] / 4000.0, 0.5, 0.04);
  for (const char* kind : {"typo", "nickname", "swap", "initial", "double_barrel_part", "dob_swap",
                           "dob_digit", "dob_range", "phonetic", "former_name"}) {
    EXPECT_GT(noise[kind], 10) << kind;
  }
  int known = 0;
  for (const auto& [kind, n] : noise) known += n;
  EXPECT_EQ(known, 4000);
  EXPECT_GT(identifier, 150);
  EXPECT_GT(place, 300);
  EXPECT_GT(range, 50);
}

TEST_F(GenTest, ExactQueriesCopyTheChild) {
  const std::pair<int, int> kPairs[] = {{kQGiven, kGiven},   {kQFamily, kFamily},     {kQDob, kDob},
                                        {kQGender, kGender}, {kQPostcode, kPostcode}, {kQNhs, kNhs},
                                        {kQUpn, kUpn}};
  for (size_t i = 1; i < queries_->size(); ++i) {
    const auto& q = (*queries_)[i];
    if (q[kQNoise] != "exact") continue;
    const auto& child = Child(q[kQExpected]);
    for (const auto& [qc, cc] : kPairs) {
      if (Present(q, qc)) {
        EXPECT_EQ(q[qc], child[cc]) << q[kQId];
      }
    }
    EXPECT_FALSE(Present(q, kQFrom));
  }
}

TEST_F(GenTest, FuzzyQueriesDoWhatTheirNoiseSays) {
  for (size_t i = 1; i < queries_->size(); ++i) {
    const auto& q = (*queries_)[i];
    const auto& c = Child(q[kQExpected]);
    const std::string& noise = q[kQNoise];
    if (noise == "swap") {
      EXPECT_EQ(q[kQGiven], c[kFamily]);
      EXPECT_EQ(q[kQFamily], c[kGiven]);
    } else if (noise == "initial") {
      EXPECT_EQ(q[kQGiven], c[kGiven].substr(0, 1));
    } else if (noise == "former_name") {
      EXPECT_EQ(q[kQFamily], c[kFormer]);
    } else if (noise == "double_barrel_part") {
      EXPECT_TRUE(c[kFamily].starts_with(q[kQFamily] + "-") ||
                  c[kFamily].ends_with("-" + q[kQFamily]))
          << q[kQFamily] << " of " << c[kFamily];
    } else if (noise == "dob_swap") {
      EXPECT_EQ(q[kQDob], c[kDob].substr(0, 5) + c[kDob].substr(8, 2) + "-" + c[kDob].substr(5, 2));
      EXPECT_NE(q[kQDob], c[kDob]);
    } else if (noise == "dob_digit") {
      ASSERT_TRUE(ParseDate(q[kQDob]).ok()) << q[kQDob];
      int differing = 0;
      for (size_t k = 0; k < 10; ++k) differing += q[kQDob][k] != c[kDob][k];
      EXPECT_EQ(differing, 1) << q[kQDob] << " vs " << c[kDob];
    } else if (noise == "dob_range") {
      EXPECT_FALSE(Present(q, kQDob));
      EXPECT_LE(q[kQFrom], c[kDob]);
      EXPECT_GE(q[kQTo], c[kDob]);
    } else if (noise == "typo" || noise == "phonetic" || noise == "nickname") {
      const bool given_changed = Present(q, kQGiven) && q[kQGiven] != c[kGiven];
      const bool family_changed = Present(q, kQFamily) && q[kQFamily] != c[kFamily];
      EXPECT_TRUE(given_changed != family_changed) << q[kQId] << " " << noise;
      if (noise == "typo") {
        const std::string& was = given_changed ? c[kGiven] : c[kFamily];
        const std::string& now = given_changed ? q[kQGiven] : q[kQFamily];
        EXPECT_LE(std::abs(static_cast<int>(was.size()) - static_cast<int>(now.size())), 2);
      }
      if (noise == "nickname") {
        EXPECT_TRUE(given_changed);
      }
      if (Present(q, kQDob)) {
        EXPECT_EQ(q[kQDob], c[kDob]);
      }
    }
  }
}

TEST(GenQueriesTest, SameInputAndSeedGiveSameBytes) {
  const std::string children = Children(2000);
  EXPECT_EQ(Queries(children, 500, 3), Queries(children, 500, 3));
  EXPECT_NE(Queries(children, 500, 3), Queries(children, 500, 4));
}

TEST(GenQueriesTest, FuzzyShareZeroAndOne) {
  const std::string children = Children(2000);
  const auto exact = ParseGeneratedCsv(Queries(children, 300, 1, 0.0));
  for (size_t i = 1; i < exact.size(); ++i) EXPECT_EQ(exact[i][kQNoise], "exact");
  const auto fuzzy = ParseGeneratedCsv(Queries(children, 300, 1, 1.0));
  for (size_t i = 1; i < fuzzy.size(); ++i) EXPECT_NE(fuzzy[i][kQNoise], "exact");
}

TEST(GenQueriesTest, MoreQueriesThanChildrenReuseChildren) {
  const auto rows = ParseGeneratedCsv(Queries(Children(5), 50));
  EXPECT_EQ(rows.size(), 51u);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_TRUE(MeetsCriteria(rows[i]));
}

TEST(GenQueriesTest, RejectsBadInput) {
  QueryGenOptions options;
  std::ostringstream out;
  std::istringstream no_dob("source_key,given_name,family_name\ngen-1,Amy,Smith\n");
  EXPECT_TRUE(GenerateQueries(options, no_dob, out).IsInvalidArgument());
  std::istringstream no_children(std::string(kGenHeader) + "\n");
  EXPECT_TRUE(GenerateQueries(options, no_children, out).IsInvalidArgument());
  options.fuzzy_share = 1.5;
  std::istringstream children(Children(10));
  EXPECT_TRUE(GenerateQueries(options, children, out).IsInvalidArgument());
}

}  // namespace
}  // namespace cp
