// `contactpoint feed|review|explain` end to end, and the crash test: a feed process killed
// with SIGKILL mid-batch, restarted and resent, leaves exactly what one clean run leaves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "cli_runner.h"

namespace cp {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitKilled = 128 + 9;

class FeedCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-feed-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  CliResult Run(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    return RunContactpoint(dir_, args, env);
  }
  std::string Db(const std::string& name = "db") { return dir_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  void Init(const std::string& db) {
    CliResult r = Run({"init", "--db", db});
    ASSERT_EQ(r.code, kExitOk) << r;
  }
  CliResult Apply(const std::string& db, const std::string& source, int batch, const std::string& file,
                  const std::vector<std::string>& env = {}) {
    return Run({"feed", "apply", "--db", db, "--source", source, "--batch", std::to_string(batch), file}, env);
  }

  std::string dir_;
};

TEST_F(FeedCliTest, BatchesInSequenceIdempotentAndPausable) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  std::string b1 = Write("b1.csv", kFeedHeader +
                                       "b1,Olivia,Smith,2016-03-02,F,1 High St,LS1 4AB,,,\n"
                                       "b2,William,Jones,2015-07-09,M,2 Low Rd,LS2 7EF,,upsert,\n");
  CliResult r = Apply(Db(), "births", 1, b1);
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("batch 1 of births: linked 0, new 2"));
  r = Apply(Db(), "births", 1, b1);
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("was applied before: nothing changed"));
  r = Apply(Db(), "births", 3, b1);
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("out of sequence: the next batch is 2"));

  ASSERT_EQ(Run({"feed", "pause", "--db", Db(), "--source", "births"}).code, kExitOk);
  r = Apply(Db(), "births", 2, b1);
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("paused"));
  r = Run({"feed", "status", "--db", Db()});
  EXPECT_THAT(r.out, HasSubstr("births  last batch 1"));
  EXPECT_THAT(r.out, HasSubstr("PAUSED"));
  ASSERT_EQ(Run({"feed", "resume", "--db", Db(), "--source", "births"}).code, kExitOk);
  r = Apply(Db(), "births", 2, b1);
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("unchanged 2"));
  r = Run({"feed", "status", "--db", Db()});
  EXPECT_THAT(r.out, Not(HasSubstr("PAUSED")));
  EXPECT_THAT(r.out, HasSubstr("births  last batch 2"));
}

// Several files are batches N, N+1, ... applied by one process, as a source's backlog is
// after a pause. Each reports as a batch applied alone would; the first that fails stops
// the rest, and says which were applied; a missing file is refused before any is.
TEST_F(FeedCliTest, ABacklogOfBatchesIsAppliedInOrderByOneRun) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  const std::string b1 = Write("b1.csv", kFeedHeader +
                                             "b1,Olivia,Smith,2016-03-02,F,1 High St,LS1 4AB,,,\n"
                                             "b2,William,Jones,2015-07-09,M,2 Low Rd,LS2 7EF,,,\n");
  const std::string b2 =
      Write("b2.csv", kFeedHeader +
                          "b1,Olivia,Smith,2016-03-02,F,9 New St,LS1 4AB,,,\n"
                          "b3,Amelia,Okonkwo,2017-01-20,F,3 Side St,LS3 1AA,,,\n");
  const std::string bad = Write("bad.csv", "source_key,shoe_size\nb9,9\n");
  CliResult r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "1", b1,
                     Db() + "-nowhere.csv"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("cannot read"));
  EXPECT_THAT(Run({"feed", "status", "--db", Db()}).out,
              HasSubstr("no feed has applied a batch yet"));

  r = Run(
      {"feed", "apply", "--db", Db(), "--source", "births", "--batch", "1", "--timing", b1, b2});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("batch 1 of births: linked 0, new 2"));
  EXPECT_THAT(r.out, HasSubstr("batch 2 of births: linked 0, new 1, updated 1"));
  EXPECT_THAT(r.err, HasSubstr("batch 2: 2 rows in"));
  EXPECT_THAT(Run({"feed", "status", "--db", Db()}).out, HasSubstr("births  last batch 2"));

  // Sent again with the next: the applied one changes nothing, the bad one stops the run.
  r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "2", b2, bad, b1});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.out, HasSubstr("batch 2 of births was applied before: nothing changed"));
  EXPECT_THAT(r.err, HasSubstr("unknown column 'shoe_size'"));
  EXPECT_THAT(r.err, HasSubstr("stopped at batch 3; batches up to 2 are applied"));
  EXPECT_THAT(r.out, Not(HasSubstr("batch 4")));
  EXPECT_THAT(Run({"feed", "status", "--db", Db()}).out, HasSubstr("births  last batch 2"));

  // Out of sequence: refused at the first, nothing applied.
  r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "4", b1, b2});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("out of sequence: the next batch is 3"));
  EXPECT_THAT(Run({"feed", "status", "--db", Db()}).out, HasSubstr("births  last batch 2"));
}

// A row is parsed only as far as its key until its fingerprint says it changed. One found
// unchanged when looked up, which an earlier row of its batch then changed, is parsed in
// full at its turn; a changed row with a fault is rejected and its record kept as it was.
TEST_F(FeedCliTest, ARowSentAgainIsParsedInFullWhenItHasChanged) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  const std::string first = "b1,Olivia,Smith,2016-03-02,F,1 High St,LS1 4AB,,,\n";
  CliResult r = Apply(
      Db(), "births", 1,
      Write("b1.csv", kFeedHeader + first + "b2,William,Jones,2015-07-09,M,2 Low Rd,LS2 7EF,,,\n"));
  ASSERT_EQ(r.code, kExitOk) << r;
  r = Apply(Db(), "births", 2,
            Write("b2.csv", kFeedHeader + "b1,Olivia,Smith,2016-03-02,F,9 New St,LS9 9ZZ,,,\n" +
                                first + "b2,William,Jones,2015-02-30,M,2 Low Rd,LS2 7EF,,,\n"));
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.out, HasSubstr("updated 2, unchanged 0"));
  EXPECT_THAT(r.out, HasSubstr("rejected 1"));
  EXPECT_THAT(r.err, HasSubstr("line 4: date_of_birth: not a date"));
  r = Run({"dump", "--db", Db()});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("1 High St"));
  EXPECT_THAT(r.out, Not(HasSubstr("9 New St")));
  EXPECT_THAT(r.out, HasSubstr("\"given_name\":\"Olivia\""));
  EXPECT_THAT(r.out, HasSubstr("2015-07-09"));
  EXPECT_THAT(r.out, Not(HasSubstr("2015-02-30")));

  r = Apply(Db(), "births", 3, Write("b3.csv", kFeedHeader + first));
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("updated 0, unchanged 1"));
}

TEST_F(FeedCliTest, BadHeaderRefusesTheFileAndBadRowsAreReportedWithoutValues) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  CliResult r = Apply(Db(), "births", 1, Write("bad.csv", "source_key,shoe_size\nb1,9\n"));
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("unknown column 'shoe_size'"));
  EXPECT_THAT(r.err, HasSubstr("action, date_of_death"));
  EXPECT_THAT(Run({"feed", "status", "--db", Db()}).out, HasSubstr("no feed has applied a batch yet"));

  r = Apply(Db(), "births", 1,
            Write("rows.csv", kFeedHeader +
                                  "b1,Olivia,Smith,2016-03-02,F,,,,delete,\n"
                                  "b2,William,Jones,2015-07-09,M,,,,,2099-13-01\n"
                                  "b3,Amelia,Okonkwo,2017-01-20,F,,,,,\n"
                                  "b4,Noah,Brown,2014-05-05,M,,,,withdraw,\n"));
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("line 2: action: must be upsert, withdraw or empty"));
  EXPECT_THAT(r.err, HasSubstr("line 3: date_of_death: not a date"));
  EXPECT_THAT(r.err, Not(HasSubstr("2099-13-01")));
  EXPECT_THAT(r.err, HasSubstr("line 5: withdraw: source_key not held"));
  EXPECT_THAT(r.out, HasSubstr("new 1"));
  EXPECT_THAT(r.out, HasSubstr("rejected 3"));
}

TEST_F(FeedCliTest, WeightsAndRulesAreKeptInTheDatabaseForEveryLaterCommand) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  const std::string b = Write("b.csv", kFeedHeader + "b1,Olivia,Smith,2016-03-02,F,1 High St,LS1 4AB,,,\n");
  CliResult r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "1",
                     "--weights", Write("bad.txt", "upper = 40\nlower = lots\n"), b});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("weights line 2: 'lower' needs a number"));
  r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "1",
           "--weights", Write("bad2.txt", "lower = 5\nshield_lower = 6\n"), b});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("shield_lower is above lower"));
  r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "1",
           "--rules", Write("bad_rules.txt", "shoe_size = births\n"), b});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("unknown field 'shoe_size'"));
  EXPECT_THAT(Run({"feed", "status", "--db", Db()}).out, HasSubstr("no feed has applied a batch yet"));

  r = Run({"feed", "apply", "--db", Db(), "--source", "births", "--batch", "1",
           "--weights", Write("w.txt", "# stricter\nupper = 60\nlower = 55\n"), b});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.err, HasSubstr("stored match weights in the database"));
  // No --weights from here on: the stored ones apply. The same child from health scores
  // below 55, so it is a new child, and explain says what it was judged by.
  ASSERT_EQ(Apply(Db(), "health", 1, Write("h.csv", kFeedHeader + "h1,Olivia,Smith,2016-03-02,F,,,,,\n")).code,
            kExitOk);
  r = Run({"explain", "--db", Db(), "--source", "health", "--key", "h1"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("linked to child 2"));
  EXPECT_THAT(r.out, HasSubstr("link at 60, review from 55, from 0 against a shielded child"));
}

TEST_F(FeedCliTest, ReviewAndExplainShowWeightsButNoLocation) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  ASSERT_EQ(Apply(Db(), "births", 1,
                  Write("b.csv", kFeedHeader + "b1,Olivia,Smith,2016-03-02,F,1 High St,LS1 4AB,,,\n"))
                .code,
            kExitOk);
  ASSERT_EQ(Apply(Db(), "health", 1,
                  Write("h.csv", kFeedHeader +
                                     "h1,Olivia,Smith,2016-02-03,F,9 Refuge Rd,BD7 1AA,,,\n"
                                     "h2,Olivia,Smith,2013-11-25,F,4 Refuge Rd,BD7 1AA,,,\n"))
                .code,
            kExitOk);
  CliResult r = Run({"explain", "--db", Db(), "--source", "health", "--key", "h1"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("linked to child 1"));
  EXPECT_THAT(r.out, HasSubstr("date_of_birth  swapped"));
  EXPECT_THAT(r.out, HasSubstr("family_name    exact"));
  EXPECT_THAT(r.out, Not(HasSubstr("BD7")));

  r = Run({"review", "list", "--db", Db()});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("health  h2"));
  EXPECT_THAT(r.out, HasSubstr("1 waiting"));
  r = Run({"explain", "--db", Db(), "--source", "health", "--key", "h2"});
  EXPECT_THAT(r.out, HasSubstr("waiting in review (item 1)"));
  r = Run({"review", "show", "--db", Db(), "1"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("Olivia Smith  born 2013-11-25"));
  EXPECT_THAT(r.out, HasSubstr("date_of_birth  disagree"));
  EXPECT_THAT(r.out, Not(HasSubstr("BD7")));
  EXPECT_THAT(r.out, Not(HasSubstr("Refuge")));

  EXPECT_EQ(Run({"review", "link", "--db", Db(), "1", "abc"}).code, kExitUsage);
  EXPECT_EQ(Run({"review", "link", "--db", Db(), "7", "1"}).code, kExitFailure);
  r = Run({"review", "link", "--db", Db(), "1", "1"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(Run({"review", "list", "--db", Db()}).out, HasSubstr("0 waiting"));
  EXPECT_THAT(Run({"explain", "--db", Db(), "--source", "health", "--key", "h2"}).out, HasSubstr("linked to child 1"));
  r = Run({"discrepancies", "--db", Db(), "--source", "health"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("source_key,child_id,field,your_value,index_value,index_source\n"));
  EXPECT_THAT(r.out, HasSubstr("h1,1,date_of_birth,2016-02-03,2016-03-02,births"));
  r = Run({"explain", "--db", Db(), "--source", "health", "--key", "nope"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("neither linked nor in review"));
}

// A queued record can hold hundreds of candidates (every shielded namesake is compared).
// `review show` and `explain` list those at or above a threshold and the best five, then
// say how many more there are; --all lists every one.
TEST_F(FeedCliTest, ReviewShowListsTheCandidatesThatMatterAndAllOnRequest) {
  ASSERT_NO_FATAL_FAILURE(Init(Db()));
  // Eight Olivia Smiths born in 2016 at other postcodes than the record's: child 1 with its
  // date one digit out and its gender disagreeing (between the thresholds), children 2..7
  // born on dates no slip explains (5.61, below `lower`), child 8 as those but a boy
  // (0.01): shielded below, it is at or above `shield_lower` (0).
  std::string births =
      "source_key,given_name,family_name,date_of_birth,gender,address,postcode\n"
      "b1,Olivia,Smith,2016-03-12,M,1 High St,LS1 4AB\n";
  for (int i = 2; i <= 8; ++i) {
    births += "b" + std::to_string(i) + ",Olivia,Smith,2016-0" + std::to_string(i) + "-2" +
              std::to_string(i) + (i == 8 ? ",M," : ",F,") + std::to_string(i) + " Low St,LS2 " +
              std::to_string(i) + "EF\n";
  }
  CliResult r = Run({"import", "--db", Db(), "--source", "births", Write("b.csv", births)});
  ASSERT_EQ(r.code, kExitOk) << r;
  r = Run({"shield", "--db", Db(), "--by", "test", "--reason", "test", "8"});
  ASSERT_EQ(r.code, kExitOk) << r;
  r = Apply(Db(), "health", 1,
            Write("h.csv", kFeedHeader + "h1,Olivia,Smith,2016-03-02,F,9 Refuge Rd,BD7 1AA,,,\n"));
  ASSERT_EQ(r.code, kExitOk) << r;
  ASSERT_THAT(r.out, HasSubstr("review 1"));

  auto listed = [](const std::string& out) {
    std::vector<std::string> ids;
    for (const auto& line : Lines(out)) {
      if (line.starts_with("  child ")) ids.push_back(line.substr(8, line.find(' ', 8) - 8));
    }
    return ids;
  };
  r = Run({"review", "show", "--db", Db(), "1"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(listed(r.out), ::testing::ElementsAre("1", "2", "3", "4", "5", "8")) << r;
  EXPECT_THAT(r.out, HasSubstr("child 8 [SHIELDED]  total 0.01"));
  EXPECT_THAT(
      r.out,
      HasSubstr("and 2 more candidates below the thresholds (review from 7, from 0 against a "
                "shielded child; the best of them 5.61): --all lists them"));
  r = Run({"review", "show", "--db", Db(), "1", "--all"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(listed(r.out), ::testing::ElementsAre("1", "2", "3", "4", "5", "6", "7", "8")) << r;
  EXPECT_THAT(r.out, Not(HasSubstr("more candidate")));

  r = Run({"explain", "--db", Db(), "--source", "health", "--key", "h1"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(listed(r.out), ::testing::ElementsAre("1", "2", "3", "4", "5", "8")) << r;
  EXPECT_THAT(r.out, HasSubstr("and 2 more candidates"));
  r = Run({"explain", "--db", Db(), "--source", "health", "--key", "h1", "--all"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(listed(r.out).size(), 8u) << r;
  EXPECT_THAT(r.out, Not(HasSubstr("BD7")));
}

TEST_F(FeedCliTest, KilledMidBatchThenResentEqualsOneCleanRun) {
  const int n = 600;
  // Generated children: the import columns are feed columns too.
  const std::string children = dir_ + "/children.csv";
  CliResult gen = Run({"gen", "--children", std::to_string(n), "--seed", "7", "--as-of", "2026-11-01",
                       "--out", children});
  ASSERT_EQ(gen.code, kExitOk) << gen;
  // A second source holding the same children (they link) to exercise the update path too.
  const std::string again = Write("again.csv", ReadFile(children));

  ASSERT_NO_FATAL_FAILURE(Init(Db("clean")));
  ASSERT_EQ(Apply(Db("clean"), "births", 1, children).code, kExitOk);
  ASSERT_EQ(Apply(Db("clean"), "health", 1, again).code, kExitOk);
  CliResult clean = Run({"dump", "--db", Db("clean")});
  ASSERT_EQ(clean.code, kExitOk) << clean;
  // A few generated siblings look alike enough to wait in review rather than be children.
  ASSERT_GT(Lines(clean.out).size(), static_cast<size_t>(n * 9 / 10));

  for (int kill_after : {1, 250, n - 1}) {
    SCOPED_TRACE("killed after " + std::to_string(kill_after) + " writes");
    const std::string db = Db("crash" + std::to_string(kill_after));
    ASSERT_NO_FATAL_FAILURE(Init(db));
    const std::string env = "CP_FEED_KILL_AFTER_WRITES=" + std::to_string(kill_after);
    CliResult r = Apply(db, "births", 1, children, {env});
    ASSERT_EQ(r.code, kExitKilled) << r;
    r = Run({"feed", "status", "--db", db});
    EXPECT_THAT(r.out, HasSubstr("batch 1 interrupted after row " + std::to_string(kill_after)));
    r = Apply(db, "births", 1, children);
    ASSERT_EQ(r.code, kExitOk) << r;
    EXPECT_THAT(r.out, HasSubstr("resumed an interrupted run after row " + std::to_string(kill_after)));
    r = Apply(db, "health", 1, again, {env});
    ASSERT_EQ(r.code, kExitKilled) << r;
    r = Apply(db, "health", 1, again);
    ASSERT_EQ(r.code, kExitOk) << r;
    CliResult dump = Run({"dump", "--db", db});
    ASSERT_EQ(dump.code, kExitOk);
    EXPECT_TRUE(dump.out == clean.out) << "the dump differs from a clean run's";
    EXPECT_EQ(Run({"feed", "status", "--db", db}).out.find("interrupted"), std::string::npos);
  }
}

}  // namespace
}  // namespace cp
