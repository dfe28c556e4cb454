#include "util/postcode.h"

#include <gtest/gtest.h>

#include <string>

namespace cp {
namespace {

TEST(NormalisePostcodeTest, CanonicalFormOfEveryOutwardShape) {
  const struct {
    const char* text;
    const char* want;
  } cases[] = {
      {"M1 1AE", "M1 1AE"},      // A9
      {"B33 8TH", "B33 8TH"},    // A99
      {"CR2 6XH", "CR2 6XH"},    // AA9
      {"DN55 1PT", "DN55 1PT"},  // AA99
      {"W1A 0AX", "W1A 0AX"},    // A9A
      {"EC1A 1BB", "EC1A 1BB"},  // AA9A
      {"SW1A 1AA", "SW1A 1AA"},  // AA9A
  };
  for (const auto& c : cases) {
    Result<std::string> got = NormalisePostcode(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want);
  }
}

TEST(NormalisePostcodeTest, CaseAndSpacingAreNormalised) {
  const struct {
    const char* text;
    const char* want;
  } cases[] = {
      {"sw1a1aa", "SW1A 1AA"}, {"SW1A1AA", "SW1A 1AA"},    {"  sw1a  1aa ", "SW1A 1AA"},
      {"m11ae", "M1 1AE"},     {"b 3 3 8 t h", "B33 8TH"}, {"Ec1a\t1bB", "EC1A 1BB"},
      {"w1a0ax", "W1A 0AX"},
  };
  for (const auto& c : cases) {
    Result<std::string> got = NormalisePostcode(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(NormalisePostcodeTest, RejectsWhatIsNotPostcodeShaped) {
  for (const char* text : {"",
                           "   ",
                           "12345",
                           "SW1A",
                           "SW1A 1A",
                           "SW1A 1AAA",
                           "SW1A 11A",
                           "SW1A 1A1",
                           "SW1A AAA",
                           "1W1A 1AA",
                           "SWA1 1AA",
                           "ABC1 1AA",
                           "A123 1AA",
                           "S 1AA",
                           "1AA",
                           "SW1A-1AA",
                           "SW1A.1AA",
                           "SW1A 1AA,",
                           "SW\xC3\x85"
                           "1A 1AA",
                           "SW1AA 1AA",
                           "AA9AA 1AA"}) {
    Result<std::string> got = NormalisePostcode(text);
    ASSERT_FALSE(got.ok()) << '"' << text << "\" gave " << (got.ok() ? *got : "");
    EXPECT_TRUE(got.status().IsInvalidArgument());
    EXPECT_EQ(got.status().message(), "not a UK postcode");
  }
}

TEST(PostcodeOutwardTest, DistrictOfCanonicalPostcode) {
  EXPECT_EQ(PostcodeOutward("SW1A 1AA"), "SW1A");
  EXPECT_EQ(PostcodeOutward("M1 1AE"), "M1");
  EXPECT_EQ(PostcodeOutward("DN55 1PT"), "DN55");
  for (const char* text : {"B33 8TH", "sw1a1aa", "W1A 0AX"}) {
    Result<std::string> canonical = NormalisePostcode(text);
    ASSERT_TRUE(canonical.ok());
    EXPECT_EQ(PostcodeOutward(*canonical), canonical->substr(0, canonical->size() - 4));
  }
}

TEST(PostcodeOutwardTest, NonCanonicalGivesEmpty) {
  EXPECT_EQ(PostcodeOutward(""), "");
  EXPECT_EQ(PostcodeOutward("SW1A1AA"), "");
  EXPECT_EQ(PostcodeOutward("SW1A 1A"), "");
  EXPECT_EQ(PostcodeOutward("SW1A 1AAA"), "");
}

}  // namespace
}  // namespace cp
