// The daemon's daily retention run (server/retention_job.h): the London date rule, when a
// run is due, what it records, and — through the contactpointd binary — that a child past
// 18 is archived with no manual command.
#include "server/retention_job.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "server/accounts_adapter.h"
#include "storage/audit_log.h"
#include "tests/server/subprocess.h"
#include "tests/server/test_accounts.h"
#include "tests/server/test_store.h"

namespace cp::server::testing {
namespace {

TEST(LondonTimeTest, GmtInWinterBstInSummerChangingAtOneUtc) {
  EXPECT_EQ(LondonDate(Utc("2026-01-15", 23, 30)).ToString(), "2026-01-15");
  EXPECT_EQ(LondonMinuteOfDay(Utc("2026-01-15", 23, 30)), 23 * 60 + 30);
  // Summer time: 23:30 UTC is 00:30 the next day in London.
  EXPECT_EQ(LondonDate(Utc("2026-07-15", 23, 30)).ToString(), "2026-07-16");
  EXPECT_EQ(LondonMinuteOfDay(Utc("2026-07-15", 23, 30)), 30);
  // 2026: the clocks go forward on Sunday 29 March and back on Sunday 25 October, at 01:00 UTC.
  EXPECT_EQ(LondonMinuteOfDay(Utc("2026-03-29", 0, 59)), 59);
  EXPECT_EQ(LondonMinuteOfDay(Utc("2026-03-29", 1, 0)), 2 * 60);
  EXPECT_EQ(LondonMinuteOfDay(Utc("2026-10-25", 0, 59)), 60 + 59);
  EXPECT_EQ(LondonMinuteOfDay(Utc("2026-10-25", 1, 0)), 60);
  // A leap year's last Sunday of March: 2024-03-31.
  EXPECT_EQ(LondonMinuteOfDay(Utc("2024-03-30", 23, 0)), 23 * 60);
  EXPECT_EQ(LondonMinuteOfDay(Utc("2024-03-31", 1, 0)), 2 * 60);
  EXPECT_EQ(LondonDate(Utc("1969-12-31", 23, 0)).ToString(), "1969-12-31");
}

NewChild Child(const std::string& key, Date born) {
  NewChild c;
  c.record.given_name = "Test";
  c.record.family_name = "Child " + key;
  c.record.date_of_birth = born;
  c.hidden.address = "1 Test Street";
  c.source = SourceRef{"births", key};
  c.source_payload = key;
  return c;
}

class RetentionJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp_retention_job_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = OpenTestStore(dir_, true);
    ASSERT_NE(store_, nullptr);
    // 18 on 2026-03-10 (archived from 2026-03-11); 18 on 2026-03-11 (archived from 03-12).
    std::vector<NewChild> batch{Child("a", *ParseDate("2008-03-10")),
                                Child("b", *ParseDate("2008-03-11")),
                                Child("young", *ParseDate("2020-01-01"))};
    auto ids = store_->InsertChildren(batch);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    ids_ = *ids;
  }
  void TearDown() override {
    job_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  RetentionJob& Job(int at_minute = 150) {
    job_ = std::make_unique<RetentionJob>(
        at_minute, RetentionJob::Deps{store_.get(), &audit_, [this] { return now_s_ * 1000; }});
    return *job_;
  }
  bool Archived(ChildId id) { return store_->GetRecord(id)->lifecycle.archived(); }
  std::string LastRun() {
    auto s = store_->GetSetting(RetentionJob::kLastRunSetting);
    return s.ok() ? *s : "(none)";
  }

  std::string dir_;
  std::unique_ptr<ChildStore> store_;
  std::vector<ChildId> ids_;
  MemoryAudit audit_;
  int64_t now_s_ = 0;
  std::unique_ptr<RetentionJob> job_;
};

using RetentionOutcome = RetentionJob::Outcome;

TEST_F(RetentionJobTest, RunsAtTheConfiguredLondonTimeOncePerDay) {
  now_s_ = Utc("2026-03-11", 2, 29);  // GMT: 02:29 in London
  auto& job = Job(150);
  EXPECT_EQ(job.RunIfDue(false), RetentionOutcome::kNotDue);
  EXPECT_FALSE(Archived(ids_[0]));
  EXPECT_EQ(LastRun(), "(none)");
  now_s_ = Utc("2026-03-11", 2, 30);
  EXPECT_EQ(job.RunIfDue(false), RetentionOutcome::kRan);
  EXPECT_TRUE(Archived(ids_[0]));   // due 2026-03-11
  EXPECT_FALSE(Archived(ids_[1]));  // due 2026-03-12
  EXPECT_FALSE(Archived(ids_[2]));
  EXPECT_EQ(LastRun(), "2026-03-11");
  now_s_ = Utc("2026-03-11", 23, 0);
  EXPECT_EQ(job.RunIfDue(false), RetentionOutcome::kNotDue);  // once a day
  now_s_ = Utc("2026-03-12", 2, 30);
  EXPECT_EQ(job.RunIfDue(false), RetentionOutcome::kRan);
  EXPECT_TRUE(Archived(ids_[1]));
  EXPECT_EQ(LastRun(), "2026-03-12");
  ASSERT_EQ(audit_.events().size(), 2u);
}

TEST_F(RetentionJobTest, TheAsOfDateIsLondonsNotUtcs) {
  // 23:30 UTC on 10 March is still 10 March in London (GMT); in summer it would be the next day.
  now_s_ = Utc("2026-03-10", 23, 30);
  EXPECT_EQ(Job(0).RunIfDue(true), RetentionOutcome::kRan);
  EXPECT_FALSE(Archived(ids_[0]));
  EXPECT_EQ(LastRun(), "2026-03-10");
  // A summer boundary: 23:30 UTC on 2026-07-14 is 00:30 on the 15th in London.
  store_->PutSetting(RetentionJob::kLastRunSetting, "2026-07-14").PermitUnchecked();
  now_s_ = Utc("2026-07-14", 23, 30);
  EXPECT_EQ(Job(0).RunIfDue(false), RetentionOutcome::kRan);
  EXPECT_EQ(LastRun(), "2026-07-15");
}

TEST_F(RetentionJobTest, AtStartUpCatchesUpADayMissedWhateverTheTime) {
  store_->PutSetting(RetentionJob::kLastRunSetting, "2026-03-10").PermitUnchecked();
  now_s_ = Utc("2026-03-11", 0, 5);  // before 02:30
  EXPECT_EQ(Job(150).RunIfDue(false), RetentionOutcome::kNotDue);
  EXPECT_EQ(Job(150).RunIfDue(true), RetentionOutcome::kRan);
  EXPECT_TRUE(Archived(ids_[0]));
  // Started again the same day: the day's run is done.
  EXPECT_EQ(Job(150).RunIfDue(true), RetentionOutcome::kNotDue);
}

TEST_F(RetentionJobTest, AuditsASystemActionWithCountsOnly) {
  now_s_ = Utc("2026-03-12", 3, 0);
  ASSERT_EQ(Job().RunIfDue(true), RetentionOutcome::kRan);
  auto events = audit_.events();
  ASSERT_EQ(events.size(), 1u);
  const AuditEvent& e = events[0];
  EXPECT_EQ(e.action, "retention");
  EXPECT_EQ(e.user, "contactpointd");
  EXPECT_EQ(e.outcome, "ok");
  EXPECT_EQ(e.criteria,
            "as_of=2026-03-12 archived_age_18=2 archived_age_25_consent=0 archived_death=0 "
            "deleted=0 live=1 archived_readable=2 archived_kept=0");
  EXPECT_TRUE(e.children.empty());
  EXPECT_EQ(e.criteria.find("Child"), std::string::npos);
}

TEST_F(RetentionJobTest, AFailedAuditStillRecordsTheRunAndSaysSo) {
  audit_.fail_ = true;
  now_s_ = Utc("2026-03-12", 3, 0);
  EXPECT_EQ(Job().RunIfDue(true), RetentionOutcome::kRan);
  EXPECT_TRUE(Archived(ids_[0]));
  EXPECT_EQ(LastRun(), "2026-03-12");
}

TEST_F(RetentionJobTest, StopEndsARunBetweenChildrenAndItRunsAgainLater) {
  now_s_ = Utc("2026-03-12", 3, 0);
  auto& job = Job();
  job.Stop();  // as at a SIGTERM before the run reached the children
  EXPECT_EQ(job.RunIfDue(true), RetentionOutcome::kFailed);
  EXPECT_FALSE(Archived(ids_[0]));
  EXPECT_EQ(LastRun(), "(none)");
  ASSERT_EQ(audit_.events().size(), 1u);
  EXPECT_EQ(audit_.events()[0].outcome, "internal");
  EXPECT_EQ(Job().RunIfDue(true), RetentionOutcome::kRan);  // the next start
  EXPECT_TRUE(Archived(ids_[0]));
}

TEST_F(RetentionJobTest, TheThreadRunsAtStartAndStopsPromptly) {
  now_s_ = Utc("2026-03-12", 3, 0);
  auto& job = Job();
  job.Start();
  for (int i = 0; i < 200 && LastRun() == "(none)"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto before = std::chrono::steady_clock::now();
  job.Stop();  // does not wait out the 30 s check interval
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(LastRun(), "2026-03-12");
  EXPECT_TRUE(Archived(ids_[0]));
}

// The binary: no command, no injected clock; the start-up run archives a child past 18.
TEST(RetentionDaemonTest, ArchivesAChildPast18WithNoManualCommand) {
  char tmpl[] = "/tmp/cp_retention_daemon_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const Date today = LondonDate(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  // 18 some 40 days ago: archived, not yet due for deletion; and a young child.
  const Date born =
      Date::FromDays(Date{static_cast<int16_t>(today.year - 18), today.month, 1}.ToDays() - 40);
  const Date young{static_cast<int16_t>(today.year - 5), 1, 1};
  std::vector<ChildId> ids;
  {
    auto store = OpenTestStore(dir, true);
    ASSERT_NE(store, nullptr);
    std::vector<NewChild> batch{Child("old", born), Child("young", young)};
    auto inserted = store->InsertChildren(batch);
    ASSERT_TRUE(inserted.ok());
    ids = *inserted;
    auto services = AccountServices::Open(store.get(), AccountServices::Options());
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    ASSERT_TRUE(AddTestOrganisations(services->get()).ok());
  }
  const std::string config = dir + "/d.toml";
  std::ofstream(config) << "[server]\nplain_tcp = true\nport = 0\n[database]\ndir = \"" << dir
                        << "/db\"\n[retention]\nenabled = true\nat = \"02:30\"\n";
  const std::string err_path = dir + "/daemon.err";
  pid_t pid = Spawn({CP_CONTACTPOINTD_BIN, "--config", config}, dir + "/daemon.out", err_path);
  ASSERT_GT(pid, 0);
  std::string log;
  for (int i = 0; i < 600 && (log.find("retention: run as_of") == std::string::npos ||
                              log.find("serving on") == std::string::npos);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = Slurp(err_path);
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 0);
  log = Slurp(err_path);
  EXPECT_NE(log.find("retention: run as_of=" + today.ToString() + " archived_age_18=1 "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("drained and stopped"), std::string::npos) << log;
  EXPECT_EQ(log.find("Child old"), std::string::npos);  // no personal data in the log
  EXPECT_EQ(log.find(born.ToString()), std::string::npos);
  {
    auto store = OpenTestStore(dir, false);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->Get(ids[0], Clearance::Ordinary()).status().IsNotFound());
    EXPECT_TRUE(store->GetRecord(ids[0])->lifecycle.archived());
    EXPECT_TRUE(store->Get(ids[1], Clearance::Ordinary()).ok());
    EXPECT_EQ(*store->GetSetting(RetentionJob::kLastRunSetting), today.ToString());
    std::vector<AuditEntry> entries;
    bool complete = false;
    ASSERT_TRUE(AuditReader(store.get())
                    .QueryUser("contactpointd", AuditTimeRange{}, 10, &entries, &complete)
                    .ok());
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].action, AuditAction::kRetention);
    EXPECT_EQ(entries[0].outcome, AuditOutcome::kOk);
  }
  std::filesystem::remove_all(dir);
}

TEST(RetentionConfigTest, EnabledAndTimeOfDay) {
  const std::string base = "[server]\nplain_tcp = true\n[database]\ndir = \"x\"\n";
  auto c = ParseConfig(base);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->retention_enabled);
  EXPECT_EQ(c->retention_at_minute, 150);
  c = ParseConfig(base + "[retention]\nenabled = false\nat = \"23:59\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->retention_enabled);
  EXPECT_EQ(c->retention_at_minute, 23 * 60 + 59);
  for (const char* bad : {"24:00", "2:30", "02:60", "0230", "ab:cd", "02:30 ", ""}) {
    auto r = ParseConfig(base + "[retention]\nat = \"" + bad + "\"\n");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("retention.at"), std::string::npos) << bad;
  }
  EXPECT_FALSE(ParseConfig(base + "[retention]\nenabled = \"yes\"\n").ok());
}

}  // namespace
}  // namespace cp::server::testing
