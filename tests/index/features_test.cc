// Posting features (index/features.h): the identifier section after the names, and the
// earlier form without it.
#include "index/features.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cp {
namespace {

ChildRecord Child(std::string nhs, std::string upn) {
  ChildRecord r;
  r.given_name = "Amelia";
  r.middle_names = "Rose";
  r.family_name = "Whitfield";
  r.former_family_names = {"Okafor"};
  r.date_of_birth = Date{2016, 3, 2};
  r.gender = Gender::kFemale;
  r.nhs_number = std::move(nhs);
  r.pupil_number = std::move(upn);
  return r;
}

std::string Encode(const ChildRecord& r) {
  std::string out;
  EncodeCandidateFeatures(r, &out);
  return out;
}

std::vector<std::string> Names(const FeatureView& v) {
  std::vector<std::string> out;
  size_t pos = 0;
  FeatureView::NameField f;
  while (v.NextName(&pos, &f)) out.push_back(std::to_string(static_cast<int>(f.role)) + ":" + std::string(f.name));
  return out;
}

const std::vector<std::string> kNames = {"0:amelia", "1:rose", "2:whitfield", "3:okafor"};

TEST(FeaturesTest, CarryTheDigestsOfTheIdentifiersTheChildHolds) {
  const std::string both = Encode(Child("9434765919", "A123456789012"));
  FeatureView v;
  ASSERT_TRUE(v.Parse(both));
  EXPECT_TRUE(v.carries_identifiers());
  EXPECT_EQ(v.nhs_digest(), IdentifierDigest("9434765919"));
  EXPECT_EQ(v.upn_digest(), IdentifierDigest("A123456789012"));
  EXPECT_EQ(Names(v), kNames);
  EXPECT_EQ(v.date_of_birth(), (Date{2016, 3, 2}));
  EXPECT_EQ(v.gender(), Gender::kFemale);

  const std::string upn_only = Encode(Child("", "A123456789012"));
  ASSERT_TRUE(v.Parse(upn_only));
  EXPECT_TRUE(v.carries_identifiers());
  EXPECT_FALSE(v.nhs_digest().has_value());
  EXPECT_EQ(v.upn_digest(), IdentifierDigest("A123456789012"));
  EXPECT_EQ(Names(v), kNames);
}

TEST(FeaturesTest, SayAChildHoldsNoIdentifierWhenItHoldsNone) {
  const std::string bytes = Encode(Child("", ""));
  FeatureView v;
  ASSERT_TRUE(v.Parse(bytes));
  EXPECT_TRUE(v.carries_identifiers());
  EXPECT_FALSE(v.nhs_digest().has_value());
  EXPECT_FALSE(v.upn_digest().has_value());
  EXPECT_EQ(Names(v), kNames);
  EXPECT_EQ(FeatureView::WithoutIdentifiers(bytes).size(), bytes.size() - 1);
}

TEST(FeaturesTest, TheEarlierFormReadsAndSaysNothingOfIdentifiers) {
  const std::string bytes = Encode(Child("9434765919", "A123456789012"));
  const std::string_view earlier = FeatureView::WithoutIdentifiers(bytes);
  EXPECT_EQ(earlier.size(), bytes.size() - 3);
  FeatureView v;
  ASSERT_TRUE(v.Parse(earlier));
  EXPECT_FALSE(v.carries_identifiers());
  EXPECT_FALSE(v.nhs_digest().has_value());
  EXPECT_EQ(Names(v), kNames);
  // Already earlier: unchanged.
  EXPECT_EQ(FeatureView::WithoutIdentifiers(earlier), earlier);
}

TEST(FeaturesTest, AMalformedIdentifierSectionIsRefused) {
  const std::string good = Encode(Child("9434765919", ""));
  const std::string names = std::string(FeatureView::WithoutIdentifiers(good));
  const std::vector<std::pair<const char*, std::string>> bad = {
      {"unknown flag", names + "\x84"},
      {"digest missing", names + "\x81"},
      {"one digest of two", names + "\x83" + "x"},
      {"byte after the digests", names + "\x81" + "xy"},
      {"a second section", good + "\x80"},
      {"a role byte that is no role and no tag", names + "\x05"},
  };
  for (const auto& [what, bytes] : bad) {
    FeatureView v;
    EXPECT_FALSE(v.Parse(bytes)) << what;
    EXPECT_EQ(FeatureView::WithoutIdentifiers(bytes), bytes) << what;
  }
}

}  // namespace
}  // namespace cp
