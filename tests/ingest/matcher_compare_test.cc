// Matcher::Compare's name levels for names of more than one part: a double-barrelled
// family name agrees with either of its parts ("part"), as a two-part given name does
// with one of its own.
#include <gtest/gtest.h>

#include <string>

#include "ingest/matcher.h"

namespace cp {
namespace {

std::string LevelOf(const ScoredCandidate& c, const std::string& field) {
  for (const auto& f : c.fields) {
    if (f.field == field) return f.level;
  }
  return "";
}

ScoredCandidate CompareNames(const std::string& record_given, const std::string& record_family,
                             const std::string& child_given, const std::string& child_family) {
  const Matcher matcher(nullptr);
  ChildRecord record;
  record.given_name = record_given;
  record.family_name = record_family;
  ChildView child;
  child.record.id = 7;
  child.record.given_name = child_given;
  child.record.family_name = child_family;
  return matcher.Compare(record, HiddenFields{}, child);
}

TEST(MatcherCompareTest, APartOfATwoPartNameAgreesAsPart) {
  EXPECT_EQ(LevelOf(CompareNames("Amelia", "Okafor", "Amelia", "Okafor-Whitfield"), "family_name"),
            "part");
  EXPECT_EQ(
      LevelOf(CompareNames("Amelia", "Okafor Whitfield", "Amelia", "Whitfield"), "family_name"),
      "part");
  EXPECT_EQ(LevelOf(CompareNames("Amelia", "Okafor Whitfield", "Amelia", "Whitfield Okafor"),
                    "family_name"),
            "part");
  EXPECT_EQ(LevelOf(CompareNames("Rose Amelia", "Okafor", "Amelia", "Okafor"), "given_name"),
            "part");
  // Two one-part names that differ share no part: the level comes from elsewhere.
  EXPECT_NE(LevelOf(CompareNames("Amelia", "Okafor", "Amelia", "Okafar"), "family_name"), "part");
  EXPECT_EQ(LevelOf(CompareNames("Amelia", "Okafor", "Amelia", "Okafor"), "family_name"), "exact");
}

}  // namespace
}  // namespace cp
