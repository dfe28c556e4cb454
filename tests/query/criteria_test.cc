// Tests for query/criteria.h: the minimum-criteria rule and the form of every field.
//
// The accepted combinations (issue text):
//   (1) an identifier alone (NHS number or pupil number, check digit valid);
//   (2) family name + given name (an initial is enough) + date of birth or a
//       date-of-birth range of at most 2 years;
//   (3) family name + date of birth + gender + postcode;
//   (4) given name + date of birth + gender + postcode.
// Anything else is refused with an error that lists the accepted combinations.

#include "query/criteria.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace cp {
namespace {

constexpr char kNhs[] = "9434765919";        // valid check digit
constexpr char kNhsBad[] = "9434765918";     // check digit wrong
constexpr char kUpn[] = "H801200001001";     // valid check letter
constexpr char kUpnBad[] = "Z801200001001";  // check letter wrong
constexpr Date kDate{2015, 3, 14};

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Fluent builder so that each table row reads as the criteria it holds.
struct C {
  SearchCriteria c;
  C& Given(std::string v) {
    c.given_name = std::move(v);
    return *this;
  }
  C& Family(std::string v) {
    c.family_name = std::move(v);
    return *this;
  }
  C& Dob(Date d) {
    c.date_of_birth = d;
    return *this;
  }
  C& Range(Date from, Date to) {
    c.dob_from = from;
    c.dob_to = to;
    return *this;
  }
  C& From(Date from) {
    c.dob_from = from;
    return *this;
  }
  C& To(Date to) {
    c.dob_to = to;
    return *this;
  }
  C& Sex(Gender g) {
    c.gender = g;
    return *this;
  }
  C& Postcode(std::string v) {
    c.postcode = std::move(v);
    return *this;
  }
  C& Nhs(std::string v) {
    c.nhs_number = std::move(v);
    return *this;
  }
  C& Upn(std::string v) {
    c.pupil_number = std::move(v);
    return *this;
  }
  C& Limit(size_t n) {
    c.limit = n;
    return *this;
  }
};

// ---- Accepted combinations -------------------------------------------------------------

struct AcceptCase {
  const char* name;
  SearchCriteria criteria;
  CriteriaKind kind;
};

std::ostream& operator<<(std::ostream& os, const AcceptCase& c) { return os << c.name; }

std::vector<AcceptCase> AcceptCases() {
  using G = Gender;
  return {
      {"NhsAlone", C().Nhs(kNhs).c, CriteriaKind::kIdentifier},
      {"NhsWithSpaces", C().Nhs("943 476 5919").c, CriteriaKind::kIdentifier},
      {"NhsWithHyphens", C().Nhs("943-476-5919").c, CriteriaKind::kIdentifier},
      {"UpnAlone", C().Upn(kUpn).c, CriteriaKind::kIdentifier},
      {"UpnLowerCase", C().Upn("h801200001001").c, CriteriaKind::kIdentifier},
      {"TemporaryUpn", C().Upn("G80120000101A").c, CriteriaKind::kIdentifier},
      {"NhsAndUpn", C().Nhs(kNhs).Upn(kUpn).c, CriteriaKind::kIdentifier},
      {"NamesAndDob", C().Given("Oliver").Family("Smith").Dob(kDate).c,
       CriteriaKind::kNamesAndBirth},
      {"InitialAndDob", C().Given("O").Family("Smith").Dob(kDate).c, CriteriaKind::kNamesAndBirth},
      {"InitialWithDotAndDob", C().Given("O.").Family("Smith").Dob(kDate).c,
       CriteriaKind::kNamesAndBirth},
      {"NamesAndOneDayRange",
       C().Given("Oliver").Family("Smith").Range({2015, 3, 14}, {2015, 3, 14}).c,
       CriteriaKind::kNamesAndBirth},
      {"NamesAndOneYearRange",
       C().Given("Oliver").Family("Smith").Range({2015, 1, 1}, {2015, 12, 31}).c,
       CriteriaKind::kNamesAndBirth},
      {"NamesAndExactlyTwoYearRange",
       C().Given("Oliver").Family("Smith").Range({2014, 6, 1}, {2016, 6, 1}).c,
       CriteriaKind::kNamesAndBirth},
      {"NamesAndLeapDayTwoYearRange",
       C().Given("Oliver").Family("Smith").Range({2016, 2, 29}, {2018, 2, 28}).c,
       CriteriaKind::kNamesAndBirth},
      {"InitialAndRange", C().Given("O").Family("Smith").Range({2015, 1, 1}, {2016, 12, 31}).c,
       CriteriaKind::kNamesAndBirth},
      {"NamesDobGenderPostcode",
       C().Given("Oliver").Family("Smith").Dob(kDate).Sex(G::kMale).Postcode("LS1 4AP").c,
       CriteriaKind::kNamesAndBirth},
      {"FamilyDobGenderPostcode", C().Family("Smith").Dob(kDate).Sex(G::kMale).Postcode("LS1 4AP").c,
       CriteriaKind::kFamilyBirthGenderPlace},
      {"FamilyDobFemalePostcode",
       C().Family("Smith").Dob(kDate).Sex(G::kFemale).Postcode("ls14ap").c,
       CriteriaKind::kFamilyBirthGenderPlace},
      {"GivenDobGenderPostcode", C().Given("Oliver").Dob(kDate).Sex(G::kMale).Postcode("LS1 4AP").c,
       CriteriaKind::kGivenBirthGenderPlace},
      {"DoubleBarrelledFamily", C().Given("Charlotte").Family("Taylor-Brown").Dob(kDate).c,
       CriteriaKind::kNamesAndBirth},
      {"NonAsciiNames", C().Given("Zoë").Family("Ólafsdóttir").Dob(kDate).c,
       CriteriaKind::kNamesAndBirth},
      {"LimitOne", C().Given("Oliver").Family("Smith").Dob(kDate).Limit(1).c,
       CriteriaKind::kNamesAndBirth},
      {"LimitFifty", C().Given("Oliver").Family("Smith").Dob(kDate).Limit(50).c,
       CriteriaKind::kNamesAndBirth},
      {"IdentifierLimitFifty", C().Nhs(kNhs).Limit(kMaxResultCap).c, CriteriaKind::kIdentifier},
  };
}

class AcceptedCriteriaTest : public testing::TestWithParam<AcceptCase> {};

TEST_P(AcceptedCriteriaTest, IsAcceptedAsTheRightKind) {
  SearchCriteria criteria = GetParam().criteria;
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, GetParam().kind);
}

INSTANTIATE_TEST_SUITE_P(Table, AcceptedCriteriaTest, testing::ValuesIn(AcceptCases()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- Refused: not enough criteria (the message lists the accepted combinations) --------

struct RefuseCase {
  const char* name;
  SearchCriteria criteria;
};

std::ostream& operator<<(std::ostream& os, const RefuseCase& c) { return os << c.name; }

std::vector<RefuseCase> MissingCriteriaCases() {
  using G = Gender;
  return {
      {"Nothing", C().c},
      {"FamilyAlone", C().Family("Smith").c},
      {"GivenAlone", C().Given("Oliver").c},
      {"PostcodeAlone", C().Postcode("LS1 4AP").c},
      {"GenderAlone", C().Sex(G::kFemale).c},
      {"DobAlone", C().Dob(kDate).c},
      {"RangeAlone", C().Range({2015, 1, 1}, {2015, 12, 31}).c},
      {"FamilyAndDobWithoutGiven", C().Family("Smith").Dob(kDate).c},
      {"GivenAndFamilyWithoutDob", C().Given("Oliver").Family("Smith").c},
      {"GivenAndDob", C().Given("Oliver").Dob(kDate).c},
      {"FamilyAndRange", C().Family("Smith").Range({2015, 1, 1}, {2015, 12, 31}).c},
      {"FamilyDobGender", C().Family("Smith").Dob(kDate).Sex(G::kMale).c},
      {"FamilyDobPostcode", C().Family("Smith").Dob(kDate).Postcode("LS1 4AP").c},
      {"FamilyGenderPostcode", C().Family("Smith").Sex(G::kMale).Postcode("LS1 4AP").c},
      {"FamilyRangeGenderPostcode",
       C().Family("Smith").Range({2015, 1, 1}, {2015, 12, 31}).Sex(G::kMale).Postcode("LS1 4AP").c},
      {"GivenDobGender", C().Given("Oliver").Dob(kDate).Sex(G::kMale).c},
      {"GivenDobPostcode", C().Given("Oliver").Dob(kDate).Postcode("LS1 4AP").c},
      {"GivenRangeGenderPostcode",
       C().Given("Oliver").Range({2015, 1, 1}, {2015, 12, 31}).Sex(G::kMale).Postcode("LS1 4AP").c},
      {"NamesGenderPostcodeWithoutDob",
       C().Given("Oliver").Family("Smith").Sex(G::kMale).Postcode("LS1 4AP").c},
      {"DobGenderPostcode", C().Dob(kDate).Sex(G::kMale).Postcode("LS1 4AP").c},
      {"BlankNames", C().Given("   ").Family(" ").Dob(kDate).c},
      {"PunctuationOnlyGiven", C().Given("-").Family("Smith").Dob(kDate).c},
      {"PunctuationOnlyFamily", C().Given("Oliver").Family("'").Dob(kDate).c},
  };
}

class MissingCriteriaTest : public testing::TestWithParam<RefuseCase> {};

TEST_P(MissingCriteriaTest, IsRefusedListingTheAcceptedCombinations) {
  SearchCriteria criteria = GetParam().criteria;
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  ASSERT_FALSE(kind.ok());
  EXPECT_TRUE(kind.status().IsInvalidArgument()) << kind.status().ToString();
  EXPECT_TRUE(Contains(kind.status().message(), kAcceptedCriteria)) << kind.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, MissingCriteriaTest, testing::ValuesIn(MissingCriteriaCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(AcceptedCriteriaTextTest, NamesEveryCombination) {
  const std::string text = kAcceptedCriteria;
  for (const char* part : {"NHS number", "pupil number", "family name", "given name", "initial",
                           "date of birth", "2 years", "gender", "postcode"}) {
    EXPECT_TRUE(Contains(text, part)) << part;
  }
}

// ---- Refused: a field of the wrong form or out of range ---------------------------------

struct FormCase {
  const char* name;
  SearchCriteria criteria;
  const char* says;  // a fragment the message must contain (case-sensitive)
};

std::ostream& operator<<(std::ostream& os, const FormCase& c) { return os << c.name; }

std::vector<FormCase> FormCases() {
  using G = Gender;
  const auto names = [] { return C().Given("Oliver").Family("Smith"); };
  return {
      {"RangeOverTwoYears", names().Range({2014, 6, 1}, {2016, 6, 2}).c, "2 years"},
      {"RangeThreeYears", names().Range({2012, 1, 1}, {2014, 12, 31}).c, "2 years"},
      {"LeapDayRangeOneDayOver", names().Range({2016, 2, 29}, {2018, 3, 1}).c, "2 years"},
      {"RangeEndBeforeStart", names().Range({2015, 6, 1}, {2015, 5, 31}).c, "before"},
      {"RangeWithoutEnd", names().From({2015, 1, 1}).c, "range"},
      {"RangeWithoutStart", names().To({2015, 1, 1}).c, "range"},
      {"DobAndRangeBoth", names().Dob(kDate).Range({2015, 1, 1}, {2015, 12, 31}).c, "not both"},
      {"NhsCheckDigitWrong", C().Nhs(kNhsBad).c, "check"},
      {"NhsTooShort", C().Nhs("943476591").c, ""},
      {"NhsLetters", C().Nhs("94347659AB").c, ""},
      {"NhsRemainderTen", C().Nhs("0000000060").c, ""},
      {"UpnCheckLetterWrong", C().Upn(kUpnBad).c, ""},
      {"UpnTooShort", C().Upn("H80120000100").c, ""},
      {"ValidNhsButInvalidUpn", C().Nhs(kNhs).Upn(kUpnBad).c, ""},
      {"PostcodeNotAPostcode", C().Family("Smith").Dob(kDate).Sex(G::kMale).Postcode("LS1").c, ""},
      {"PostcodeGarbage", C().Family("Smith").Dob(kDate).Sex(G::kMale).Postcode("not a postcode").c,
       ""},
      {"PostcodeInvalidEvenWithNames", names().Dob(kDate).Postcode("12345").c, ""},
      {"LimitZero", names().Dob(kDate).Limit(0).c, "limit"},
      {"LimitFiftyOne", names().Dob(kDate).Limit(51).c, "limit"},
      {"LimitHuge", names().Dob(kDate).Limit(1000000).c, "limit"},
      {"IdentifierLimitZero", C().Nhs(kNhs).Limit(0).c, "limit"},
  };
}

class FormRefusalTest : public testing::TestWithParam<FormCase> {};

TEST_P(FormRefusalTest, IsRefusedSayingWhatIsWrong) {
  SearchCriteria criteria = GetParam().criteria;
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  ASSERT_FALSE(kind.ok());
  EXPECT_TRUE(kind.status().IsInvalidArgument()) << kind.status().ToString();
  EXPECT_FALSE(kind.status().message().empty());
  EXPECT_TRUE(Contains(kind.status().message(), GetParam().says)) << kind.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, FormRefusalTest, testing::ValuesIn(FormCases()),
                         [](const auto& info) { return std::string(info.param.name); });

// The issue: "Anything else is refused with an error that lists the accepted
// combinations." A range longer than 2 years or an identifier whose check digit fails is
// not one of the accepted combinations, so its refusal should list them too.
// (criteria.h only promises the list for "missing criteria"; see the report.)
class OutsideCombinationRefusalTest : public testing::TestWithParam<FormCase> {};

TEST_P(OutsideCombinationRefusalTest, ListsTheAcceptedCombinations) {
  SearchCriteria criteria = GetParam().criteria;
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  ASSERT_FALSE(kind.ok());
  EXPECT_TRUE(Contains(kind.status().message(), kAcceptedCriteria)) << kind.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, OutsideCombinationRefusalTest,
    testing::Values(
        FormCase{"RangeOverTwoYears",
                 C().Given("Oliver").Family("Smith").Range({2012, 1, 1}, {2014, 12, 31}).c, ""},
        FormCase{"NhsCheckDigitWrong", C().Nhs(kNhsBad).c, ""},
        FormCase{"UpnCheckLetterWrong", C().Upn(kUpnBad).c, ""}),
    [](const auto& info) { return std::string(info.param.name); });

// "Checks ... the form of every field": a date of birth that is no date at all.
class MalformedDateTest : public testing::TestWithParam<FormCase> {};

TEST_P(MalformedDateTest, IsRefused) {
  SearchCriteria criteria = GetParam().criteria;
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  ASSERT_FALSE(kind.ok()) << "accepted as kind " << static_cast<int>(*kind);
  EXPECT_TRUE(kind.status().IsInvalidArgument()) << kind.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedDateTest,
    testing::Values(
        FormCase{"EmptyDateAsDob", C().Given("Oliver").Family("Smith").Dob(Date{}).c, ""},
        FormCase{"February30", C().Given("Oliver").Family("Smith").Dob({2015, 2, 30}).c, ""},
        FormCase{"Month13", C().Given("Oliver").Family("Smith").Dob({2015, 13, 1}).c, ""},
        FormCase{"RangeStartNotADate",
                 C().Given("Oliver").Family("Smith").Range({2015, 0, 0}, {2015, 12, 31}).c, ""}),
    [](const auto& info) { return std::string(info.param.name); });

// The issue allows an initial for the given name in combination (2) only ("family name +
// given name (an initial is enough) + date of birth ..."). A family name of one letter,
// or a given-name initial in combination (4), is not one of the accepted combinations.
class InitialOutsideCombinationTwoTest : public testing::TestWithParam<FormCase> {};

TEST_P(InitialOutsideCombinationTwoTest, IsRefused) {
  SearchCriteria criteria = GetParam().criteria;
  Result<CriteriaKind> kind = ValidateCriteria(&criteria);
  ASSERT_FALSE(kind.ok()) << "accepted as kind " << static_cast<int>(*kind);
  EXPECT_TRUE(kind.status().IsInvalidArgument()) << kind.status().ToString();
  EXPECT_TRUE(Contains(kind.status().message(), kAcceptedCriteria)) << kind.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, InitialOutsideCombinationTwoTest,
    testing::Values(
        FormCase{"FamilyInitialGivenDob", C().Given("Oliver").Family("S").Dob(kDate).c, ""},
        FormCase{"FamilyInitialGivenRange",
                 C().Given("Oliver").Family("S.").Range({2015, 1, 1}, {2015, 12, 31}).c, ""},
        FormCase{"BothInitialsDob", C().Given("O").Family("S").Dob(kDate).c, ""},
        FormCase{"FamilyInitialDobGenderPostcode",
                 C().Family("S").Dob(kDate).Sex(Gender::kMale).Postcode("LS1 4AP").c, ""},
        FormCase{"GivenInitialDobGenderPostcode",
                 C().Given("O").Dob(kDate).Sex(Gender::kMale).Postcode("LS1 4AP").c, ""}),
    [](const auto& info) { return std::string(info.param.name); });

// ---- Canonicalisation -------------------------------------------------------------------

TEST(CanonicaliseTest, NhsNumberLosesSpacesAndHyphens) {
  for (const char* text : {"943 476 5919", "943-476-5919", " 9434765919 ", "9434765919"}) {
    SearchCriteria c = C().Nhs(text).c;
    ASSERT_TRUE(ValidateCriteria(&c).ok()) << text;
    EXPECT_EQ(c.nhs_number, kNhs) << text;
  }
}

TEST(CanonicaliseTest, PupilNumberIsUpperCasedAndTrimmed) {
  for (const char* text : {"h801200001001", " H801200001001 ", "H801200001001"}) {
    SearchCriteria c = C().Upn(text).c;
    ASSERT_TRUE(ValidateCriteria(&c).ok()) << text;
    EXPECT_EQ(c.pupil_number, kUpn) << text;
  }
}

TEST(CanonicaliseTest, PostcodeIsUpperCasedWithOneSpace) {
  for (const char* text : {"ls14ap", "LS14AP", "ls1 4ap", "LS1 4AP"}) {
    SearchCriteria c = C().Family("Smith").Dob(kDate).Sex(Gender::kMale).Postcode(text).c;
    ASSERT_TRUE(ValidateCriteria(&c).ok()) << text;
    EXPECT_EQ(c.postcode, "LS1 4AP") << text;
  }
  SearchCriteria c = C().Family("Smith").Dob(kDate).Sex(Gender::kMale).Postcode("sw1a1aa").c;
  ASSERT_TRUE(ValidateCriteria(&c).ok());
  EXPECT_EQ(c.postcode, "SW1A 1AA");
}

TEST(CanonicaliseTest, BothIdentifiersAndPostcodeAreCanonicalisedTogether) {
  SearchCriteria c = C().Nhs("943 476 5919").Upn("h801200001001").c;
  c.postcode = "ls14ap";
  Result<CriteriaKind> kind = ValidateCriteria(&c);
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, CriteriaKind::kIdentifier);
  EXPECT_EQ(c.nhs_number, kNhs);
  EXPECT_EQ(c.pupil_number, kUpn);
  EXPECT_EQ(c.postcode, "LS1 4AP");
}

TEST(CanonicaliseTest, OtherFieldsAreLeftAsGiven) {
  SearchCriteria c = C().Given(" Oliver ").Family("Smith-Jones").Dob(kDate).Limit(7).c;
  ASSERT_TRUE(ValidateCriteria(&c).ok());
  EXPECT_EQ(c.given_name, " Oliver ");
  EXPECT_EQ(c.family_name, "Smith-Jones");
  EXPECT_EQ(c.date_of_birth, kDate);
  EXPECT_EQ(c.limit, 7u);
}

TEST(CriteriaDefaultsTest, DefaultLimitIsTwentyAndMaximumFifty) {
  EXPECT_EQ(SearchCriteria().limit, 20u);
  EXPECT_EQ(kDefaultResultCap, 20u);
  EXPECT_EQ(kMaxResultCap, 50u);
}

TEST(CriteriaDefaultsTest, ValidationIsIdempotent) {
  SearchCriteria c = C().Family("Smith").Dob(kDate).Sex(Gender::kMale).Postcode("ls14ap").c;
  c.nhs_number.clear();
  ASSERT_TRUE(ValidateCriteria(&c).ok());
  SearchCriteria again = c;
  Result<CriteriaKind> kind = ValidateCriteria(&again);
  ASSERT_TRUE(kind.ok());
  EXPECT_EQ(*kind, CriteriaKind::kFamilyBirthGenderPlace);
  EXPECT_EQ(again.postcode, c.postcode);
}

}  // namespace
}  // namespace cp
