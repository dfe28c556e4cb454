#include "index/trigrams.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/text/readable.h"

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using testing_util::Readable;

struct TrigramCase {
  std::string part;
  std::vector<std::string> trigrams;
};

void PrintTo(const TrigramCase& c, std::ostream* os) { *os << Readable(c.part); }

class TrigramsTest : public ::testing::TestWithParam<TrigramCase> {};

TEST_P(TrigramsTest, InOrderWithoutDuplicates) {
  EXPECT_EQ(Trigrams(GetParam().part), GetParam().trigrams);
}

INSTANTIATE_TEST_SUITE_P(
    All, TrigramsTest,
    ::testing::Values(TrigramCase{"", {}}, TrigramCase{"a", {"$a$"}},
                      TrigramCase{"ab", {"$ab", "ab$"}},
                      TrigramCase{"smith", {"$sm", "smi", "mit", "ith", "th$"}},
                      TrigramCase{"anana", {"$an", "ana", "nan", "na$"}},
                      TrigramCase{"aaaa", {"$aa", "aaa", "aa$"}},
                      TrigramCase{"mcdonald",
                                  {"$mc", "mcd", "cdo", "don", "ona", "nal", "ald", "ld$"}}));

TEST(TrigramsTest, VeryLongPartDeduplicates) {
  EXPECT_THAT(Trigrams(std::string(10000, 'a')), ElementsAre("$aa", "aaa", "aa$"));
  std::string long_part;
  for (int i = 0; i < 100; ++i) long_part += "abc";
  EXPECT_THAT(Trigrams(long_part), ElementsAre("$ab", "abc", "bca", "cab", "bc$"));
}

// The set Dice coefficient, computed the slow way from Trigrams().
double ReferenceDice(const std::string& a, const std::string& b) {
  const std::vector<std::string> ta = Trigrams(a), tb = Trigrams(b);
  if (ta.empty() && tb.empty()) return 1.0;
  const std::set<std::string> sa(ta.begin(), ta.end());
  size_t common = 0;
  for (const std::string& t : tb) common += sa.count(t);
  return 2.0 * common / (ta.size() + tb.size());
}

struct SimilarityCase {
  std::string a;
  std::string b;
  double expected;
};

void PrintTo(const SimilarityCase& c, std::ostream* os) {
  *os << Readable(c.a) << "_vs_" << Readable(c.b);
}

class TrigramSimilarityTest : public ::testing::TestWithParam<SimilarityCase> {};

TEST_P(TrigramSimilarityTest, Dice) {
  const SimilarityCase& c = GetParam();
  EXPECT_DOUBLE_EQ(TrigramSimilarity(c.a, c.b), c.expected);
  EXPECT_DOUBLE_EQ(TrigramSimilarity(c.b, c.a), c.expected);
  EXPECT_DOUBLE_EQ(TrigramSimilarity(c.a, c.b), ReferenceDice(c.a, c.b));
}

INSTANTIATE_TEST_SUITE_P(
    All, TrigramSimilarityTest,
    ::testing::Values(SimilarityCase{"", "", 1.0},  // both empty count as identical
                      SimilarityCase{"", "smith", 0.0}, SimilarityCase{"smith", "smith", 1.0},
                      SimilarityCase{"a", "a", 1.0}, SimilarityCase{"a", "b", 0.0},
                      SimilarityCase{"smith", "smyth", 0.4},      // $sm, th$ of 5 + 5
                      SimilarityCase{"anana", "ana", 6.0 / 7.0},  // sets, not multisets
                      SimilarityCase{"jon", "john", 2.0 / 7.0},   // $jo of 3 + 4
                      SimilarityCase{"abc", "xyz", 0.0}));

TEST(TrigramSimilarityTest, VeryLongPartsUseFallback) {
  std::string a;
  for (int i = 0; i < 40; ++i) a += "smith";
  std::string b = a;
  b[100] = 'y';
  EXPECT_DOUBLE_EQ(TrigramSimilarity(a, a), 1.0);
  EXPECT_DOUBLE_EQ(TrigramSimilarity(a, b), ReferenceDice(a, b));
  EXPECT_DOUBLE_EQ(TrigramSimilarity(a, "smith"), ReferenceDice(a, "smith"));
}

}  // namespace
}  // namespace cp
