#include "index/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/text/readable.h"

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using testing_util::Readable;

struct FoldCase {
  std::string input;
  std::string folded;
};

void PrintTo(const FoldCase& c, std::ostream* os) { *os << Readable(c.input); }

class FoldNameTest : public ::testing::TestWithParam<FoldCase> {};

TEST_P(FoldNameTest, Folds) { EXPECT_EQ(FoldName(GetParam().input), GetParam().folded); }

INSTANTIATE_TEST_SUITE_P(
    Ascii, FoldNameTest,
    ::testing::Values(FoldCase{"", ""}, FoldCase{"   ", ""}, FoldCase{"\t\n \r", ""},
                      FoldCase{"SMITH", "smith"}, FoldCase{"  Mary   Ann  ", "mary ann"},
                      FoldCase{"Anna\tMaria\n", "anna maria"}, FoldCase{"O'Brien", "obrien"},
                      FoldCase{"D'Arcy", "darcy"}, FoldCase{"Smith-Jones", "smith-jones"},
                      FoldCase{"J.R.R. Tolkien", "jrr tolkien"}, FoldCase{"St. John", "st john"},
                      FoldCase{"Baby 2", "baby 2"}, FoldCase{"'", ""}, FoldCase{"a ' b", "a b"},
                      FoldCase{std::string("a\0b", 3), "ab"}, FoldCase{"\x01x\x7f", "x"}));

INSTANTIATE_TEST_SUITE_P(
    Unicode, FoldNameTest,
    ::testing::Values(FoldCase{"Zoë", "zoe"}, FoldCase{"Łukasz", "lukasz"},
                      FoldCase{"Ólafsdóttir", "olafsdottir"}, FoldCase{"François", "francois"},
                      FoldCase{"Müller", "muller"}, FoldCase{"Dvořák", "dvorak"},
                      FoldCase{"Nguyễn", "nguyen"}, FoldCase{"Søren", "soren"},
                      FoldCase{"Straße", "strasse"}, FoldCase{"Ægir Þór", "aegir thor"},
                      FoldCase{"  Siobhán  O'Brien-Smith ", "siobhan obrien-smith"},
                      FoldCase{"O\u2019Neill", "oneill"},            // right single quote
                      FoldCase{"Seán\u00a0Murphy", "sean murphy"},   // no-break space
                      FoldCase{"Anna\u3000Li", "anna li"},           // ideographic space
                      FoldCase{"Smith\u2013Jones", "smith-jones"},   // en dash
                      FoldCase{"\uff2a\uff4f\uff48\uff4e", "john"},  // full-width letters
                      FoldCase{"Иван", "ivan"}, FoldCase{"ИВАН", "ivan"},
                      FoldCase{"Νίκος", "nikos"}, FoldCase{"张伟", "zhang wei"}));

// Invalid UTF-8 never crashes: each bad sequence is dropped and the rest still folds.
INSTANTIATE_TEST_SUITE_P(
    InvalidUtf8, FoldNameTest,
    ::testing::Values(FoldCase{"Zo\xc3", "zo"},  // truncated sequence at the end
                      FoldCase{"\xff\xfe", ""},  // bytes never valid in UTF-8
                      FoldCase{"Ann\x80"
                               "e",
                               "anne"},  // stray continuation byte
                      FoldCase{"\xc0\xaf"
                               "Bo",
                               "bo"},                          // overlong encoding
                      FoldCase{"\xed\xa0\x80x", "x"},          // encoded surrogate
                      FoldCase{"\xff Zoë \xc3\x28", "zoe"}));  // bad bytes around valid UTF-8

TEST(FoldNameTest, VeryLongAsciiAndUnicode) {
  const std::string ascii = "  " + std::string(100000, 'A') + "  ";
  EXPECT_EQ(FoldName(ascii), std::string(100000, 'a'));

  std::string unicode;
  for (int i = 0; i < 20000; ++i) unicode += "Zoë ";
  std::string expected;
  for (int i = 0; i < 20000; ++i) expected += i == 0 ? "zoe" : " zoe";
  EXPECT_EQ(FoldName(unicode), expected);
}

// Transliterators are cloned per thread; many threads folding at once must all agree.
TEST(FoldNameTest, ConcurrentFoldingAgrees) {
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 500; ++i) {
        if (FoldName("Łukasz Müller") != "lukasz muller") ++failures[t];
        if (FoldName("Иван") != "ivan") ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

struct PartsCase {
  std::string input;
  std::vector<std::string> parts;
};

void PrintTo(const PartsCase& c, std::ostream* os) { *os << Readable(c.input); }

class NamePartsTest : public ::testing::TestWithParam<PartsCase> {};

TEST_P(NamePartsTest, Splits) { EXPECT_EQ(NameParts(GetParam().input), GetParam().parts); }

INSTANTIATE_TEST_SUITE_P(
    Basic, NamePartsTest,
    ::testing::Values(PartsCase{"", {}}, PartsCase{"   ", {}}, PartsCase{"-", {}},
                      PartsCase{" - - ", {}}, PartsCase{"'", {}},
                      PartsCase{"123", {}},  // letterless field
                      PartsCase{"Baby 2", {"baby", "2"}}, PartsCase{"Smith", {"smith"}},
                      PartsCase{"Mary Ann", {"mary", "ann"}},
                      PartsCase{"Smith-Jones", {"smith", "jones"}},
                      PartsCase{"Smith -- Jones", {"smith", "jones"}},
                      PartsCase{"Bowes-Lyon Smith-Jones", {"bowes", "lyon", "smith", "jones"}},
                      PartsCase{"O'Brien", {"obrien"}}, PartsCase{"D'Arcy", {"darcy"}},
                      PartsCase{"Zoë-Łukasz", {"zoe", "lukasz"}}));

INSTANTIATE_TEST_SUITE_P(
    Prefixes, NamePartsTest,
    ::testing::Values(
        PartsCase{"MacDonald", {"mcdonald"}}, PartsCase{"Mac Donald", {"mcdonald"}},
        PartsCase{"McDonald", {"mcdonald"}}, PartsCase{"Mc Donald", {"mcdonald"}},
        PartsCase{"MAC DONALD", {"mcdonald"}}, PartsCase{"Mac Kenzie", {"mckenzie"}},
        PartsCase{"Mackenzie", {"mckenzie"}}, PartsCase{"Mac-Donald", {"mcdonald"}},
        PartsCase{"Macy", {"macy"}}, PartsCase{"Mack", {"mack"}}, PartsCase{"Macey", {"macey"}},
        PartsCase{"Mac", {"mac"}}, PartsCase{"Mac Ng", {"mac", "ng"}},  // too short to join
        PartsCase{"Mc", {"mc"}}, PartsCase{"O'Neill", {"oneill"}},
        PartsCase{"O' Neill", {"oneill"}}, PartsCase{"ONeill", {"oneill"}},
        PartsCase{"O\u2019 Neill", {"oneill"}}, PartsCase{"Ó Briain", {"obriain"}},
        PartsCase{"Mary O", {"mary", "o"}}, PartsCase{"O J Smith", {"o", "j", "smith"}},
        PartsCase{"Anne-Marie Mac Donald-O'Neill", {"anne", "marie", "mcdonald", "oneill"}}));

TEST(NamePartsTest, PartsAreNeverEmpty) {
  for (const std::string& part : NameParts(" -a- -b- \xff - ")) EXPECT_FALSE(part.empty());
  EXPECT_THAT(NameParts(" -a- -b- \xff - "), ElementsAre("a", "b"));
  EXPECT_THAT(NameParts("\xff\xfe"), IsEmpty());
}

TEST(NamePartsTest, VeryLongField) {
  std::string field;
  for (int i = 0; i < 5000; ++i) field += "MacDonald-";
  const std::vector<std::string> parts = NameParts(field);
  ASSERT_EQ(parts.size(), 5000u);
  for (const std::string& part : parts) EXPECT_EQ(part, "mcdonald");
}

struct CanonicalCase {
  std::string input;
  std::string canonical;
};

void PrintTo(const CanonicalCase& c, std::ostream* os) { *os << Readable(c.input); }

class CanonicalNameTest : public ::testing::TestWithParam<CanonicalCase> {};

TEST_P(CanonicalNameTest, Joins) {
  EXPECT_EQ(CanonicalName(GetParam().input), GetParam().canonical);
}

INSTANTIATE_TEST_SUITE_P(
    All, CanonicalNameTest,
    ::testing::Values(CanonicalCase{"", ""}, CanonicalCase{"  \t ", ""},
                      CanonicalCase{"McDonald-Smith", "mcdonald smith"},
                      CanonicalCase{"Mac Donald Smith", "mcdonald smith"},
                      CanonicalCase{"  Siobhán  O'Brien-Smith ", "siobhan obrien smith"},
                      CanonicalCase{"Smith - Jones", "smith jones"},
                      CanonicalCase{"D'Arcy", "darcy"}, CanonicalCase{"Иван Петров", "ivan petrov"},
                      CanonicalCase{"Zo\xc3", "zo"}));

// Every spelling of one name gives one canonical form.
TEST(CanonicalNameTest, SpellingsAgree) {
  for (const char* spelling : {"MacDonald", "Mac Donald", "McDonald", "mc donald", "MACDONALD"}) {
    EXPECT_EQ(CanonicalName(spelling), "mcdonald") << spelling;
  }
  for (const char* spelling : {"O'Neill", "O' Neill", "ONeill", "O\u2019Neill", "o neill"}) {
    EXPECT_EQ(CanonicalName(spelling), "oneill") << spelling;
  }
}

}  // namespace
}  // namespace cp
