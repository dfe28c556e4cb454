// `contactpoint retention run`, `check` and `consent` end to end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "cli_runner.h"

namespace cp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;


const std::string kFeed =
    "source_key,given_name,family_name,date_of_birth,gender,address,postcode,nhs_number,action,"
    "date_of_death\n"
    "b1,Olivia,Smith,2008-05-10,F,1 High St,LS1 4AB,,,\n"
    "b2,William,Jones,2015-07-09,M,2 Low Rd,LS2 7EF,,,2025-01-31\n"
    "b3,Amelia,Okonkwo,2008-05-10,F,3 Mid Way,LS3 1AA,,,\n"
    "b4,Noah,Brown,2016-05-05,M,4 End Rd,LS4 2BB,,,\n";

class RetentionCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-retention-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
    ASSERT_EQ(Run({"init", "--db", db_}).code, kExitOk);
    std::ofstream(dir_ + "/b.csv", std::ios::binary) << kFeed;
    CliResult r =
        Run({"feed", "apply", "--db", db_, "--source", "births", "--batch", "1", dir_ + "/b.csv"});
    ASSERT_EQ(r.code, kExitOk) << r;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  CliResult Run(const std::vector<std::string>& args) { return RunContactpoint(dir_, args); }
  CliResult Retention(const std::string& as_of, bool dry_run = false) {
    std::vector<std::string> args = {"retention", "run", "--db", db_, "--as-of", as_of};
    if (dry_run) args.push_back("--dry-run");
    return Run(args);
  }

  std::string dir_, db_;
};

TEST_F(RetentionCliTest, ABadAsOfDateIsAUsageError) {
  for (const char* bad : {"2026-13-01", "yesterday", "2026-02-30", ""}) {
    CliResult r = Retention(bad);
    EXPECT_EQ(r.code, kExitUsage) << bad << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("--as-of")) << bad;
  }
  EXPECT_THAT(Retention("yesterday").err, HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(Retention("2026-02-30").err, HasSubstr("does not exist"));
  CliResult r = Run({"retention", "run", "--db", db_});
  EXPECT_EQ(r.code, kExitUsage) << r;
}

TEST_F(RetentionCliTest, DryRunPrintsIdsAndCountsButNoPersonalDataAndWritesNothing) {
  // Olivia and Amelia turned 18 on 2026-05-10; William died on 2025-01-31.
  ASSERT_EQ(Run({"consent", "--db", db_, "--child", "3", "--until-25", "yes"}).code, kExitOk);
  CliResult r = Retention("2026-05-11", /*dry_run=*/true);
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("dry run: nothing written"));
  EXPECT_THAT(r.out, HasSubstr("would archive 2: age_18 1, age_25_consent 0, death 1"));
  EXPECT_THAT(r.out, HasSubstr("age_18: 1\n"));
  EXPECT_THAT(r.out, HasSubstr("death: 2\n"));
  for (const char* personal : {"Olivia", "Smith", "William", "High St", "LS1 4AB", "2008-05-10"}) {
    EXPECT_THAT(r.out + r.err, Not(HasSubstr(personal)));
  }
  r = Run({"get", "--db", db_, "1"});
  EXPECT_EQ(r.code, kExitOk) << "a dry run archived nothing\n" << r;

  r = Retention("2026-05-11");
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("archived 2: age_18 1, age_25_consent 0, death 1"));
  EXPECT_THAT(r.out, Not(HasSubstr("age_18: 1\n")));  // ids only in a dry run
  EXPECT_EQ(Run({"get", "--db", db_, "1"}).code, kExitFailure);
  EXPECT_EQ(Run({"get", "--db", db_, "3"}).code, kExitOk);
  r = Run({"search", "--db", db_, "--given", "Olivia", "--family", "Smith", "--dob", "2008-05-10",
           "--json"});
  EXPECT_THAT(r.out, Not(HasSubstr("\"child_id\"")));

  r = Run({"check", "--db", db_});
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("consistent"));

  r = Retention("2026-05-11");  // again: nothing to do
  EXPECT_THAT(r.out, HasSubstr("archived 0:"));
  EXPECT_THAT(r.out, HasSubstr("deleted 0"));
}

TEST_F(RetentionCliTest, ConsentNeedsYesOrNoAndAKnownLiveChild) {
  EXPECT_EQ(Run({"consent", "--db", db_, "--child", "1", "--until-25", "maybe"}).code, kExitUsage);
  EXPECT_EQ(Run({"consent", "--db", db_, "--child", "x", "--until-25", "yes"}).code, kExitUsage);
  EXPECT_EQ(Run({"consent", "--db", db_, "--child", "99", "--until-25", "yes"}).code, kExitFailure);
  CliResult r = Run({"consent", "--db", db_, "--child", "1", "--until-25", "no"});
  EXPECT_EQ(r.code, kExitOk) << r;
  ASSERT_EQ(Retention("2026-05-11").code, kExitOk);
  r = Run({"consent", "--db", db_, "--child", "1", "--until-25", "yes"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("archived"));
}

// Each kind of damage is written and named in tests/storage/check_test.cc; here, the exit codes.
TEST_F(RetentionCliTest, CheckPassesAConsistentDatabaseAndFailsWithoutOne) {
  CliResult r = Run({"check", "--db", db_});
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("4 children"));
  EXPECT_THAT(r.out, HasSubstr("consistent"));
  r = Run({"check", "--db", dir_ + "/nowhere"});
  EXPECT_EQ(r.code, kExitFailure) << r;
}

}  // namespace
}  // namespace cp
