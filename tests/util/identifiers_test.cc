#include "util/identifiers.h"

#include <gtest/gtest.h>

#include <string>

namespace cp {
namespace {

bool MessageHas(const Status& s, const std::string& part) {
  return s.message().find(part) != std::string::npos;
}

// --- NHS number ---------------------------------------------------------------------------

TEST(NhsNumberTest, KnownValidNumber) {
  Result<std::string> got = NormaliseNhsNumber("9434765919");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "9434765919");
  EXPECT_TRUE(IsValidNhsNumber("9434765919"));
  EXPECT_EQ(NhsCheckDigit("943476591"), 9);
  // Worked by hand: 4*10 + 0*9 + 1*8 + 0*7 + 2*6 + 3*5 + 2*4 + 1*3 + 3*2 = 92; 11 - 92%11 = 7.
  EXPECT_TRUE(IsValidNhsNumber("4010232137"));
}

TEST(NhsNumberTest, SpacesAndHyphensAreRemoved) {
  for (const char* text : {"943 476 5919", "943-476-5919", " 9434765919 ", "94 34 76 59 19"}) {
    Result<std::string> got = NormaliseNhsNumber(text);
    ASSERT_TRUE(got.ok()) << text << ": " << got.status().ToString();
    EXPECT_EQ(*got, "9434765919") << text;
  }
}

TEST(NhsNumberTest, WrongCheckDigit) {
  for (char last = '0'; last <= '9'; ++last) {
    if (last == '9') continue;
    const std::string text = std::string("943476591") + last;
    Result<std::string> got = NormaliseNhsNumber(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_TRUE(got.status().IsInvalidArgument());
    EXPECT_TRUE(MessageHas(got.status(), "check digit")) << got.status().message();
    // The number itself is personal data and is not echoed.
    EXPECT_FALSE(MessageHas(got.status(), "943476591"));
  }
}

TEST(NhsNumberTest, WrongLength) {
  for (const char* text : {"", "943476591", "94347659190", "943 476 591", "   ", "--"}) {
    Result<std::string> got = NormaliseNhsNumber(text);
    ASSERT_FALSE(got.ok()) << '"' << text << '"';
    EXPECT_TRUE(got.status().IsInvalidArgument());
    EXPECT_TRUE(MessageHas(got.status(), "digits")) << got.status().message();
    EXPECT_FALSE(IsValidNhsNumber(text));
  }
}

TEST(NhsNumberTest, NonDigits) {
  for (const char* text : {"94347659A9", "943476591O", "943\t476\t5919", "943.476.5919",
                           "+9434765919", "943_476_5919"}) {
    Result<std::string> got = NormaliseNhsNumber(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_TRUE(got.status().IsInvalidArgument());
    EXPECT_TRUE(MessageHas(got.status(), "digit, space or hyphen")) << got.status().message();
  }
}

// Nine digits whose weighted sum leaves remainder 1 need check digit 10, which does not exist:
// 0*10 + ... + 6*2 = 12, 12 % 11 = 1.
TEST(NhsNumberTest, RemainderTenHasNoValidNumber) {
  EXPECT_EQ(NhsCheckDigit("000000006"), -1);
  for (char last = '0'; last <= '9'; ++last) {
    const std::string text = std::string("000000006") + last;
    EXPECT_FALSE(IsValidNhsNumber(text)) << text;
    EXPECT_TRUE(MessageHas(NormaliseNhsNumber(text).status(), "check digit"));
  }
}

TEST(NhsNumberTest, RemainderZeroGivesCheckDigitZero) {
  // 11 - 0 = 11 is written as check digit 0.
  EXPECT_EQ(NhsCheckDigit("000000000"), 0);
  EXPECT_TRUE(IsValidNhsNumber("0000000000"));
  // 1*10 + 1*9 + 1*3 = 22.
  EXPECT_EQ(NhsCheckDigit("110000010"), 0);
  EXPECT_TRUE(IsValidNhsNumber("1100000100"));
}

// Against an independent statement of the rule, for a spread of prefixes: exactly one
// completion is valid when a check digit exists, none when it does not.
TEST(NhsNumberTest, ExactlyOneCompletionUnlessRemainderTen) {
  int without_check_digit = 0;
  for (int n = 0; n < 1000000000; n += 999983) {
    std::string prefix = std::to_string(n);
    prefix.insert(0, 9 - prefix.size(), '0');
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (prefix[i] - '0') * (10 - i);
    const int want = sum % 11 == 0 ? 0 : (sum % 11 == 1 ? -1 : 11 - sum % 11);
    ASSERT_EQ(NhsCheckDigit(prefix), want) << prefix;
    int valid = 0;
    for (char last = '0'; last <= '9'; ++last) valid += IsValidNhsNumber(prefix + last);
    ASSERT_EQ(valid, want < 0 ? 0 : 1) << prefix;
    without_check_digit += want < 0;
  }
  EXPECT_GT(without_check_digit, 0);
}

TEST(NhsNumberTest, CheckDigitOfMalformedPrefix) {
  EXPECT_EQ(NhsCheckDigit(""), -1);
  EXPECT_EQ(NhsCheckDigit("94347659"), -1);
  EXPECT_EQ(NhsCheckDigit("9434765919"), -1);
  EXPECT_EQ(NhsCheckDigit("94347659A"), -1);
  EXPECT_EQ(NhsCheckDigit("943 47659"), -1);
}

// --- Unique pupil number ------------------------------------------------------------------

// Independent statement of the DfE rule for building test UPNs.
char ReferenceUpnLetter(const std::string& twelve) {
  const std::string alphabet = "ABCDEFGHJKLMNPQRTUVWXYZ";
  int sum = 0;
  for (int i = 0; i < 12; ++i) {
    const char c = twelve[i];
    const int value = (c >= '0' && c <= '9') ? c - '0' : static_cast<int>(alphabet.find(c));
    sum += value * (i + 2);
  }
  return alphabet[sum % 23];
}

// Published examples. H801200001001 (valid), Z801200001001 (wrong check letter) and the
// temporary G80120000101A are the examples of the DfE "Unique Pupil Numbers - guidance" PDF,
// as quoted in DfE's own multiplication-tables-check tests (DFEAGILEDEVOPS/MTC). python-stdnum
// (stdnum.gb.upn) documents B801200005001 as valid and A801200005001 as a bad checksum.
TEST(UpnTest, PublishedExamples) {
  EXPECT_EQ(UpnCheckLetter("801200001001"), 'H');  // 8*2 + 1*4 + 2*5 + 1*10 + 1*13 = 53 -> 7
  EXPECT_TRUE(IsValidUpn("H801200001001"));
  EXPECT_FALSE(IsValidUpn("Z801200001001"));
  EXPECT_EQ(UpnCheckLetter("80120000101A"), 'G');  // 52 -> 6
  EXPECT_TRUE(IsValidUpn("G80120000101A"));
  EXPECT_TRUE(IsValidUpn("g80120000101a "));
  EXPECT_EQ(UpnCheckLetter("801200005001"), 'B');
  EXPECT_TRUE(IsValidUpn("B801200005001"));
  EXPECT_FALSE(IsValidUpn("A801200005001"));
}

// Census error 1510 help pages (e.g. Arbor, Pupil Asset) "correct" B207000016049 to
// Q207000016049, but their own products 4 + 28 + 9 + 60 + 48 + 117 sum to 266, not the 267
// they state; 266 % 23 = 13, which is P in their own table. The rule gives P.
TEST(UpnTest, VendorWorkedExampleHasAnArithmeticSlip) {
  EXPECT_EQ(UpnCheckLetter("207000016049"), 'P');
  EXPECT_TRUE(IsValidUpn("P207000016049"));
  EXPECT_FALSE(IsValidUpn("Q207000016049"));
  EXPECT_FALSE(IsValidUpn("B207000016049"));
}

TEST(UpnTest, ConstructedPermanentUpns) {
  for (const char* twelve : {"000000000000", "938123456789", "999999999999", "201300119001",
                             "123456789012", "850401812345"}) {
    const char letter = ReferenceUpnLetter(twelve);
    ASSERT_EQ(UpnCheckLetter(twelve), letter) << twelve;
    const std::string upn = letter + std::string(twelve);
    Result<std::string> got = NormaliseUpn(upn);
    ASSERT_TRUE(got.ok()) << upn << ": " << got.status().ToString();
    EXPECT_EQ(*got, upn);
  }
  EXPECT_TRUE(IsValidUpn("A000000000000"));
}

TEST(UpnTest, EveryOtherCheckLetterIsWrong) {
  const std::string twelve = "938123456789";
  const char right = UpnCheckLetter(twelve);
  for (char c = 'A'; c <= 'Z'; ++c) {
    Result<std::string> got = NormaliseUpn(c + twelve);
    EXPECT_EQ(got.ok(), c == right) << c;
    if (c != right && c != 'I' && c != 'O' && c != 'S') {
      EXPECT_TRUE(MessageHas(got.status(), "wrong check letter")) << got.status().message();
    }
  }
}

TEST(UpnTest, CheckLetterNeverIOrS) {
  for (const char* upn : {"I207000016049", "O207000016049", "S207000016049", "1207000016049"}) {
    Result<std::string> got = NormaliseUpn(upn);
    ASSERT_FALSE(got.ok()) << upn;
    EXPECT_TRUE(MessageHas(got.status(), "check letter")) << got.status().message();
  }
}

TEST(UpnTest, TemporaryUpnEndsInALetter) {
  // 2*2 + 7*4 + 1*9 + 6*10 + 4*12 = 149; A counts 0 -> 149 % 23 = 11 -> M.
  EXPECT_EQ(UpnCheckLetter("20700001604A"), 'M');
  EXPECT_TRUE(IsValidUpn("M20700001604A"));
  // B counts 1 -> 162 % 23 = 1 -> B.  Z counts 22 -> 435 % 23 = 21 -> Y.
  EXPECT_TRUE(IsValidUpn("B20700001604B"));
  EXPECT_TRUE(IsValidUpn("Y20700001604Z"));
  EXPECT_FALSE(IsValidUpn("A20700001604A"));
  for (const char* twelve : {"93812345678T", "00000000000X", "20130011900H"}) {
    ASSERT_EQ(UpnCheckLetter(twelve), ReferenceUpnLetter(twelve)) << twelve;
    EXPECT_TRUE(IsValidUpn(ReferenceUpnLetter(twelve) + std::string(twelve))) << twelve;
  }
}

TEST(UpnTest, TemporaryUpnLetterMustBeInAlphabet) {
  for (const char* twelve :
       {"20700001604I", "20700001604O", "20700001604S", "20700001604-", "20700001604a"}) {
    EXPECT_EQ(UpnCheckLetter(twelve), '\0') << twelve;
  }
  for (const char* upn : {"M20700001604I", "M20700001604O", "M20700001604S", "M20700001604*"}) {
    Result<std::string> got = NormaliseUpn(upn);
    ASSERT_FALSE(got.ok()) << upn;
    EXPECT_TRUE(MessageHas(got.status(), "character 13")) << got.status().message();
  }
}

TEST(UpnTest, LowerCaseAndSurroundingWhitespaceAccepted) {
  for (const char* text :
       {"h801200001001", " H801200001001", "H801200001001\t", "\r\nh801200001001 "}) {
    Result<std::string> got = NormaliseUpn(text);
    ASSERT_TRUE(got.ok()) << text << ": " << got.status().ToString();
    EXPECT_EQ(*got, "H801200001001");
  }
  Result<std::string> temporary = NormaliseUpn("m20700001604a");
  ASSERT_TRUE(temporary.ok()) << temporary.status().ToString();
  EXPECT_EQ(*temporary, "M20700001604A");
}

TEST(UpnTest, WrongLength) {
  for (const char* text : {"", "   ", "Q20700001604", "Q2070000160490", "Q20700001604 9"}) {
    Result<std::string> got = NormaliseUpn(text);
    ASSERT_FALSE(got.ok()) << '"' << text << '"';
    EXPECT_TRUE(got.status().IsInvalidArgument());
    EXPECT_TRUE(MessageHas(got.status(), "needs 13")) << got.status().message();
    EXPECT_FALSE(IsValidUpn(text));
  }
}

TEST(UpnTest, LettersInsideAreRejected) {
  for (const char* text : {"Q2070000A6049", "QA07000016049", "Q20700001604 ", "Q2070 0016049"}) {
    Result<std::string> got = NormaliseUpn(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_TRUE(got.status().IsInvalidArgument());
  }
  EXPECT_TRUE(MessageHas(NormaliseUpn("Q2070000A6049").status(), "2 to 12"));
  EXPECT_FALSE(MessageHas(NormaliseUpn("Q2070000A6049").status(), "2070000"));
}

TEST(UpnTest, CheckLetterOfMalformedInput) {
  EXPECT_EQ(UpnCheckLetter(""), '\0');
  EXPECT_EQ(UpnCheckLetter("20700001604"), '\0');
  EXPECT_EQ(UpnCheckLetter("2070000160490"), '\0');
  EXPECT_EQ(UpnCheckLetter("2070000A6049"), '\0');
  EXPECT_EQ(UpnCheckLetter("A07000016049"), '\0');
}

}  // namespace
}  // namespace cp
