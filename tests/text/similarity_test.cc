#include "index/similarity.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

#include "tests/text/readable.h"

namespace cp {
namespace {

using testing_util::Readable;

struct JaroWinklerCase {
  std::string a;
  std::string b;
  double expected;
};

void PrintTo(const JaroWinklerCase& c, std::ostream* os) {
  *os << Readable(c.a) << "_vs_" << Readable(c.b);
}

class JaroWinklerTest : public ::testing::TestWithParam<JaroWinklerCase> {};

// To three decimals, both ways round.
TEST_P(JaroWinklerTest, MatchesReference) {
  const JaroWinklerCase& c = GetParam();
  EXPECT_NEAR(JaroWinkler(c.a, c.b), c.expected, 0.0005) << c.a << " / " << c.b;
  EXPECT_NEAR(JaroWinkler(c.b, c.a), c.expected, 0.0005) << c.b << " / " << c.a;
}

INSTANTIATE_TEST_SUITE_P(Reference, JaroWinklerTest,
                         ::testing::Values(JaroWinklerCase{"MARTHA", "MARHTA", 0.961},
                                           JaroWinklerCase{"DWAYNE", "DUANE", 0.840},
                                           JaroWinklerCase{"DIXON", "DICKSONX", 0.813},
                                           JaroWinklerCase{"martha", "marhta", 0.961}));

INSTANTIATE_TEST_SUITE_P(
    Edges, JaroWinklerTest,
    ::testing::Values(JaroWinklerCase{"", "", 1.0}, JaroWinklerCase{"", "a", 0.0},
                      JaroWinklerCase{"a", "a", 1.0}, JaroWinklerCase{"smith", "smith", 1.0},
                      JaroWinklerCase{"abc", "xyz", 0.0},
                      // Matches must lie within max(len)/2 - 1 of each other: none here.
                      JaroWinklerCase{"ab", "ba", 0.0},
                      // Jaro 0.905 with six common leading characters: only four count.
                      JaroWinklerCase{"abcdefg", "abcdefh", 0.943},
                      // Jaro 0.556 is under 0.7, so the shared prefix earns no boost.
                      JaroWinklerCase{"abxxxx", "abyyyy", 0.556}));

TEST(JaroWinklerTest, VeryLongStringsStayInRange) {
  const std::string a(500, 'a');
  std::string b = a;
  b[250] = 'b';
  const double similarity = JaroWinkler(a, b);
  EXPECT_GT(similarity, 0.99);
  EXPECT_LT(similarity, 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler(a, a), 1.0);
  EXPECT_DOUBLE_EQ(JaroWinkler(a, std::string(500, 'z')), 0.0);
}

struct EditCase {
  std::string a;
  std::string b;
  size_t max_distance;
  size_t expected;
};

void PrintTo(const EditCase& c, std::ostream* os) {
  *os << Readable(c.a) << "_vs_" << Readable(c.b) << "_max" << c.max_distance;
}

class EditDistanceTest : public ::testing::TestWithParam<EditCase> {};

TEST_P(EditDistanceTest, Exact) {
  const EditCase& c = GetParam();
  EXPECT_EQ(EditDistance(c.a, c.b, c.max_distance), c.expected) << c.a << " / " << c.b;
  EXPECT_EQ(EditDistance(c.b, c.a, c.max_distance), c.expected) << c.b << " / " << c.a;
}

constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

INSTANTIATE_TEST_SUITE_P(
    All, EditDistanceTest,
    ::testing::Values(EditCase{"kitten", "sitting", 3, 3}, EditCase{"ca", "ac", 3, 1},
                      EditCase{"", "", 3, 0}, EditCase{"", "abc", 3, 3},
                      EditCase{"smith", "smith", 0, 0}, EditCase{"smith", "smyth", 1, 1},
                      EditCase{"martha", "marhta", 3, 1}, EditCase{"abcdef", "badcfe", 3, 3},
                      // Optimal string alignment edits a substring at most once, so this is 3
                      // (unrestricted Damerau-Levenshtein would give 2).
                      EditCase{"ca", "abc", 3, 3}, EditCase{"kitten", "sitting", kNoLimit, 3},
                      EditCase{"", "abcdefgh", kNoLimit, 8},
                      EditCase{"abcdefgh", "stuvwxyz", kNoLimit, 8}));

// Once the distance is known to exceed the limit the answer only has to say so.
TEST(EditDistanceTest, StopsEarlyAboveLimit) {
  EXPECT_GT(EditDistance("kitten", "sitting", 2), 2u);
  EXPECT_GT(EditDistance("abcdef", "uvwxyz", 2), 2u);
  EXPECT_GT(EditDistance("abcdef", "uvwxyz"), 3u);
  EXPECT_GT(EditDistance("a", "abcdefgh", 3), 3u);  // lengths alone decide
  EXPECT_GT(EditDistance("", "abcd", 3), 3u);
  EXPECT_GT(EditDistance("smith", "smyth", 0), 0u);
  EXPECT_EQ(EditDistance("smith", "smith", 0), 0u);
}

// With a limit the answer is the distance whenever it is within the limit, and above the
// limit otherwise: checked against the whole table (no limit) on random strings over a
// small alphabet, where most pairs are a few edits apart and shortcuts are tempted.
TEST(EditDistanceTest, ALimitChangesOnlyAnswersAboveIt) {
  std::mt19937 rng(11);
  auto random_string = [&rng](size_t max_len) {
    std::string s(rng() % (max_len + 1), ' ');
    for (char& c : s) c = "ABCDE-' "[rng() % 8];
    return s;
  };
  size_t within = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string a = random_string(9);
    std::string b = i % 2 ? random_string(9) : a;
    if (i % 2 == 0) {  // a few edits of a
      for (size_t k = rng() % 4; k > 0 && !b.empty(); --k)
        b[rng() % b.size()] = "ABCXYZ"[rng() % 6];
    }
    const size_t exact = EditDistance(a, b, kNoLimit);
    for (size_t limit : {0u, 1u, 2u, 3u}) {
      const size_t got = EditDistance(a, b, limit);
      if (exact <= limit) {
        ++within;
        ASSERT_EQ(got, exact) << a << " / " << b << " limit " << limit;
      } else {
        ASSERT_GT(got, limit) << a << " / " << b << " limit " << limit;
      }
    }
  }
  EXPECT_GT(within, 10000u);
}

TEST(EditDistanceTest, LongStringsUseFallback) {
  const std::string a(300, 'x');
  std::string b = a;
  b[10] = 'y';
  b[200] = 'z';
  std::swap(b[100], b[101]);  // equal characters: no change
  EXPECT_EQ(EditDistance(a, b, 5), 2u);
  std::string c = a;
  c[50] = 'p';
  c[51] = 'q';
  std::string d = a;
  d[50] = 'q';
  d[51] = 'p';
  EXPECT_EQ(EditDistance(c, d, 5), 1u);  // transposition
  EXPECT_GT(EditDistance(a, std::string(300, 'y'), 10), 10u);
  EXPECT_EQ(EditDistance(a, a + "abc", kNoLimit), 3u);
}

}  // namespace
}  // namespace cp
