// Sensitive services (sexual health, mental health, substance misuse) through the
// `contactpoint` CLI: imported and fed like any service, shown by `get`, `search` and
// `dump` only where consent is recorded, which no feed can record.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "cli_runner.h"

namespace cp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;


class SensitiveServicesCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-sensitive-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
    ASSERT_EQ(Run({"init", "--db", db_}).code, kExitOk);
    std::ofstream(dir_ + "/import.csv", std::ios::binary)
        << "source_key,given_name,family_name,date_of_birth,gender,address,postcode,school,"
           "mental_health,sexual_health,substance_misuse\n"
           "h1,Maisie,Thornton,2010-04-04,F,5 Park Lane,LS6 2AB,Hillside Academy,"
           "Leeds CAMHS,Leeds Sexual Health,Forward Leeds\n"
           "h2,Noah,Thornton,2012-06-06,M,5 Park Lane,LS6 2AB,Hillside Primary,,,\n";
    CliResult r = Run({"import", "--db", db_, "--source", "health", dir_ + "/import.csv"});
    ASSERT_EQ(r.code, kExitOk) << r;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  CliResult Run(const std::vector<std::string>& args) { return RunContactpoint(dir_, args); }
  CliResult Get(bool json = false) {
    std::vector<std::string> args = {"get", "--db", db_, "1"};
    if (json) args.push_back("--json");
    return Run(args);
  }
  CliResult Consent(const std::string& yes_no) {
    return Run({"consent", "--db", db_, "--child", "1", "--sensitive-services", yes_no});
  }
  void ExpectHidden(const CliResult& r) {
    EXPECT_EQ(r.code, kExitOk) << r;
    EXPECT_THAT(r.out, HasSubstr("Hillside"));  // the other services stay
    for (const char* s : {"CAMHS", "Sexual Health", "Forward Leeds", "mental_health",
                          "sexual_health", "substance_misuse"}) {
      EXPECT_THAT(r.out, Not(HasSubstr(s))) << s;
    }
  }
  void ExpectShown(const CliResult& r) {
    EXPECT_EQ(r.code, kExitOk) << r;
    EXPECT_THAT(r.out, HasSubstr("mental_health: Leeds CAMHS"));
    EXPECT_THAT(r.out, HasSubstr("sexual_health: Leeds Sexual Health"));
    EXPECT_THAT(r.out, HasSubstr("substance_misuse: Forward Leeds"));
  }

  std::string dir_, db_;
};

TEST_F(SensitiveServicesCliTest, HiddenWithoutConsentInGetSearchAndDump) {
  ExpectHidden(Get());
  ExpectHidden(Get(/*json=*/true));
  ExpectHidden(Run({"dump", "--db", db_}));
  ExpectHidden(Run(
      {"search", "--db", db_, "--given", "Maisie", "--family", "Thornton", "--dob", "2010-04-04"}));
}

TEST_F(SensitiveServicesCliTest, ShownWithConsentAndHiddenAgainOnWithdrawal) {
  CliResult r = Consent("yes");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("consent to show sensitive services recorded"));
  ExpectShown(Get());
  ExpectShown(Run(
      {"search", "--db", db_, "--given", "Maisie", "--family", "Thornton", "--dob", "2010-04-04"}));
  CliResult json = Get(/*json=*/true);
  EXPECT_THAT(json.out, HasSubstr("\"kind\": \"mental_health\""));
  // The consent is the child's: her brother's record is unchanged.
  ExpectHidden(Run({"get", "--db", db_, "2"}));
  r = Consent("no");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("not recorded"));
  ExpectHidden(Get());
}

TEST_F(SensitiveServicesCliTest, AFeedUpdateKeepsTheConsentAndCannotRecordIt) {
  // A feed naming a consent column is refused whole: consent is no source's field.
  std::ofstream(dir_ + "/bad.csv", std::ios::binary)
      << "source_key,given_name,consent_sensitive_services\nh1,Maisie,yes\n";
  CliResult r =
      Run({"feed", "apply", "--db", db_, "--source", "health", "--batch", "1", dir_ + "/bad.csv"});
  EXPECT_NE(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("unknown column 'consent_sensitive_services'"));
  ExpectHidden(Get());

  ASSERT_EQ(Consent("yes").code, kExitOk);
  std::ofstream(dir_ + "/move.csv", std::ios::binary)
      << "source_key,given_name,family_name,date_of_birth,gender,address,postcode,school,"
         "mental_health,sexual_health,substance_misuse\n"
         "h1,Maisie,Thornton,2010-04-04,F,9 New Road,LS7 3CD,Hillside Academy,"
         "Leeds CAMHS,Leeds Sexual Health,Forward Leeds\n";
  r = Run({"feed", "apply", "--db", db_, "--source", "health", "--batch", "1", dir_ + "/move.csv"});
  ASSERT_EQ(r.code, kExitOk) << r;
  r = Get();
  EXPECT_THAT(r.out, HasSubstr("9 New Road"));
  ExpectShown(r);  // the update kept the consent
  ASSERT_EQ(Consent("no").code, kExitOk);
  ExpectHidden(Get());
}

TEST_F(SensitiveServicesCliTest, ConsentNeedsAChoiceAndAKnownChild) {
  EXPECT_EQ(Run({"consent", "--db", db_, "--child", "1"}).code, kExitUsage);
  EXPECT_EQ(Consent("maybe").code, kExitUsage);
  CliResult r = Run({"consent", "--db", db_, "--child", "99", "--sensitive-services", "yes"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  ExpectHidden(Get());  // nothing changed
}

}  // namespace
}  // namespace cp
