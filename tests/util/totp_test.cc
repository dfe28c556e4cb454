// Tests for util/totp.h against the RFCs' own vectors: RFC 4648 section 10 (base32),
// RFC 4226 appendix D (HOTP) and RFC 6238 appendix B (TOTP, SHA-1 rows).
#include "util/totp.h"

#include <gtest/gtest.h>

#include <string>

namespace cp {
namespace {

const std::string kRfcKey = "12345678901234567890";  // the RFCs' 20-byte ASCII key

struct Base32Case {
  const char* plain;
  const char* encoded;
};

TEST(Base32Test, Rfc4648Vectors) {
  const Base32Case cases[] = {{"", ""},
                              {"f", "MY======"},
                              {"fo", "MZXQ===="},
                              {"foo", "MZXW6==="},
                              {"foob", "MZXW6YQ="},
                              {"fooba", "MZXW6YTB"},
                              {"foobar", "MZXW6YTBOI======"}};
  for (const auto& c : cases) {
    EXPECT_EQ(Base32Encode(c.plain), c.encoded) << c.plain;
    auto decoded = Base32Decode(c.encoded);
    ASSERT_TRUE(decoded.ok()) << c.encoded << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, c.plain);
  }
}

TEST(Base32Test, UnpaddedAndLowerCaseDecode) {
  EXPECT_EQ(Base32Encode("foobar", /*pad=*/false), "MZXW6YTBOI");
  auto d = Base32Decode("mzxw6ytboi");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "foobar");
}

TEST(Base32Test, TwentyByteSecretIs32CharactersWithoutPadding) {
  EXPECT_EQ(Base32Encode(kRfcKey, false), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32Test, RefusesBadInputWithoutEchoingIt) {
  for (const char* bad :
       {"MZXW6YTB1", "MZ XW", "M", "MZX", "MZXW6Y", "MY=", "MY=====", "MZXW6YQ=A", "MZ======"}) {
    auto d = Base32Decode(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_TRUE(d.status().IsInvalidArgument());
    EXPECT_EQ(d.status().message().find(bad), std::string::npos) << d.status().message();
  }
}

TEST(HotpTest, Rfc4226AppendixD) {
  const uint32_t expected[] = {755224, 287082, 359152, 969429, 338314,
                               254676, 287922, 162583, 399871, 520489};
  for (uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(HotpValue(kRfcKey, counter), expected[counter]) << counter;
  }
}

TEST(TotpTest, Rfc6238AppendixBSha1) {
  struct Row {
    int64_t time;
    const char* code;  // 8 digits, as the RFC prints them
  };
  const Row rows[] = {{59, "94287082"},         {1111111109, "07081804"},
                      {1111111111, "14050471"}, {1234567890, "89005924"},
                      {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& r : rows) {
    EXPECT_EQ(TotpCodeAt(kRfcKey, TotpStep(r.time), 8), r.code) << r.time;
    // The 6-digit code is the last six digits of the 8-digit one.
    EXPECT_EQ(TotpCodeAt(kRfcKey, TotpStep(r.time)), std::string(r.code).substr(2)) << r.time;
  }
}

TEST(TotpTest, StepsAreThirtySeconds) {
  EXPECT_EQ(TotpStep(0), 0u);
  EXPECT_EQ(TotpStep(29), 0u);
  EXPECT_EQ(TotpStep(30), 1u);
  EXPECT_EQ(TotpStep(1111111109), 37037036u);
}

TEST(TotpTest, CodesKeepLeadingZeros) {
  // 1111111109 gives 07081804: six digits "081804".
  EXPECT_EQ(TotpCodeAt(kRfcKey, TotpStep(1111111109)), "081804");
}

}  // namespace
}  // namespace cp
