// Backups taken by the daemon (server/backup_job.h): on request, daily at the configured
// London time, keeping the newest `keep`, verified, audited; a failure is counted and
// audited; the [backup] configuration; and, through the contactpointd binary, SIGUSR1.
#include "server/backup_job.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "server/accounts_adapter.h"
#include "server/config.h"
#include "storage/audit_log.h"
#include "storage/backup.h"
#include "tests/server/subprocess.h"
#include "tests/server/test_accounts.h"
#include "tests/server/test_store.h"

namespace cp::server::testing {
namespace {

class BackupJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp_backup_job_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = OpenTestStore(dir_, true);
    ASSERT_NE(store_, nullptr);
    NewChild c;
    c.record.given_name = "Test";
    c.record.family_name = "Child";
    c.record.date_of_birth = *ParseDate("2020-01-01");
    c.hidden.address = "1 Test Street";
    c.source = SourceRef{"births", "k1"};
    c.source_payload = "k1";
    std::vector<NewChild> batch{c};
    ASSERT_TRUE(store_->InsertChildren(batch).ok());
  }
  void TearDown() override {
    job_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  BackupJob& Job(int at_minute, uint32_t keep = 7, std::string backup_dir = "") {
    BackupJob::Options o;
    o.dir = backup_dir.empty() ? dir_ + "/backups" : backup_dir;
    o.at_minute = at_minute;
    o.keep = keep;
    job_ = std::make_unique<BackupJob>(
        o, BackupJob::Deps{store_.get(), &audit_, dir_ + "/db.key", [this] { return now_s_ * 1000; }});
    return *job_;
  }
  std::vector<uint32_t> Ids() {
    auto list = ListBackups(dir_ + "/backups", dir_ + "/db.key");
    std::vector<uint32_t> ids;
    if (list.ok()) {
      for (const auto& b : *list) ids.push_back(b.id);
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<ChildStore> store_;
  MemoryAudit audit_;
  int64_t now_s_ = Utc("2026-03-11", 12, 0);
  std::unique_ptr<BackupJob> job_;
};

using BackupOutcome = BackupJob::Outcome;

TEST_F(BackupJobTest, ARequestedBackupIsMadeVerifiedAndAudited) {
  auto& job = Job(-1);
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kNotDue);  // no daily time: only on request
  EXPECT_TRUE(Ids().empty());
  EXPECT_EQ(job.RunIfDue(true), BackupOutcome::kRan);
  EXPECT_EQ(Ids(), std::vector<uint32_t>{1});
  EXPECT_TRUE(VerifyBackup(dir_ + "/backups", dir_ + "/db.key", 1).ok());
  EXPECT_EQ(job.succeeded(), 1u);
  EXPECT_EQ(job.failed(), 0u);
  EXPECT_EQ(job.last_success_unix_s(), now_s_);
  auto events = audit_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, "backup");
  EXPECT_EQ(events[0].user, "contactpointd");
  EXPECT_EQ(events[0].outcome, "ok");
  EXPECT_NE(events[0].criteria.find("id=1 verified"), std::string::npos) << events[0].criteria;
  // A request does not count as the day's backup.
  EXPECT_TRUE(store_->GetSetting(BackupJob::kLastRunSetting).status().IsNotFound());
}

TEST_F(BackupJobTest, DailyAtTheLondonTimeOncePerDayAndKeepsTheNewest) {
  auto& job = Job(90, /*keep=*/2);  // 01:30 London
  now_s_ = Utc("2026-07-10", 0, 29);  // BST: 01:29 in London
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kNotDue);
  now_s_ = Utc("2026-07-10", 0, 30);
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kRan);
  EXPECT_EQ(*store_->GetSetting(BackupJob::kLastRunSetting), "2026-07-10");
  now_s_ = Utc("2026-07-10", 22, 0);
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kNotDue);  // once a day
  EXPECT_EQ(job.RunIfDue(true), BackupOutcome::kRan);      // a request still runs
  now_s_ = Utc("2026-07-11", 3, 0);                  // the next day, caught up when checked
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kRan);
  EXPECT_EQ(Ids(), (std::vector<uint32_t>{2, 3}));    // keep = 2: backup 1 purged
  EXPECT_EQ(job.succeeded(), 3u);
}

TEST_F(BackupJobTest, AFailureIsCountedAuditedAndNotRetriedEveryCheck) {
  // A regular file where the backup directory should be.
  const std::string blocked = dir_ + "/not_a_dir";
  std::ofstream(blocked) << "x";
  auto& job = Job(60, 7, blocked);
  now_s_ = Utc("2026-01-05", 2, 0);
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kFailed);
  EXPECT_EQ(job.failed(), 1u);
  EXPECT_EQ(job.last_success_unix_s(), 0);
  auto events = audit_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].outcome, "internal");
  EXPECT_TRUE(store_->GetSetting(BackupJob::kLastRunSetting).status().IsNotFound());
  now_s_ += 60;
  EXPECT_EQ(job.RunIfDue(false), BackupOutcome::kNotDue);  // the day's failure waits for a restart
  EXPECT_EQ(job.RunIfDue(true), BackupOutcome::kFailed);   // a request is always tried
  EXPECT_EQ(job.failed(), 2u);
}

TEST_F(BackupJobTest, TheThreadAnswersARequestPromptly) {
  auto& job = Job(-1);
  job.Start();
  job.RequestNow();
  for (int i = 0; i < 400 && job.succeeded() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  job.Stop();
  EXPECT_EQ(job.succeeded(), 1u);
  EXPECT_EQ(Ids(), std::vector<uint32_t>{1});
}

TEST(BackupConfigTest, DirTimeKeepAndVerify) {
  const std::string base = "[server]\nplain_tcp = true\n[database]\ndir = \"/srv/cp/db\"\n";
  auto c = ParseConfig(base);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->backup_dir.empty());
  EXPECT_EQ(c->backup_at_minute, -1);
  c = ParseConfig(base + "[backup]\ndir = \"/srv/cp/backups/\"\nat = \"01:30\"\nkeep = 3\nverify = false\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->backup_dir, "/srv/cp/backups");
  EXPECT_EQ(c->backup_at_minute, 90);
  EXPECT_EQ(c->backup_keep, 3);
  EXPECT_FALSE(c->backup_verify);
  auto refused = [&](const std::string& section, const char* says) {
    auto r = ParseConfig(base + "[backup]\n" + section);
    ASSERT_FALSE(r.ok()) << section;
    EXPECT_NE(r.status().message().find(says), std::string::npos) << r.status().message();
  };
  refused("dir = \"/b\"\nkeep = 0\n", "backup.keep");
  refused("dir = \"/b\"\nkeep = 1001\n", "backup.keep");
  refused("at = \"01:30\"\n", "backup.at needs backup.dir");
  refused("dir = \"/b\"\nat = \"25:00\"\n", "backup.at");
  refused("dir = \"/srv/cp/db/backups\"\n", "outside database.dir");
  refused("dir = \"/srv/cp/db\"\n", "outside database.dir");
}

TEST(BackupDaemonTest, SigUsr1MakesABackupWhileServing) {
  char tmpl[] = "/tmp/cp_backup_daemon_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto store = OpenTestStore(dir, true);
    ASSERT_NE(store, nullptr);
    auto services = AccountServices::Open(store.get(), AccountServices::Options());
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    ASSERT_TRUE(AddTestOrganisations(services->get()).ok());
  }
  const std::string config = dir + "/d.toml";
  std::ofstream(config) << "[server]\nplain_tcp = true\nport = 0\n[database]\ndir = \"" << dir
                        << "/db\"\n[retention]\nenabled = false\n[backup]\ndir = \"" << dir
                        << "/backups\"\nkeep = 2\n";
  const std::string err_path = dir + "/daemon.err";
  pid_t pid = Spawn({CP_CONTACTPOINTD_BIN, "--config", config}, dir + "/daemon.out", err_path);
  ASSERT_GT(pid, 0);
  std::string log;
  for (int i = 0; i < 600 && log.find("serving on") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = Slurp(err_path);
  }
  for (int n = 1; n <= 3; ++n) {
    ASSERT_EQ(kill(pid, SIGUSR1), 0);
    const std::string done = "backup: requested backup " + std::to_string(n) + " made";
    for (int i = 0; i < 600 && log.find(done) == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      log = Slurp(err_path);
    }
    ASSERT_NE(log.find(done), std::string::npos) << log;
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 0);
  log = Slurp(err_path);
  EXPECT_NE(log.find("and verified"), std::string::npos) << log;
  EXPECT_NE(log.find("drained and stopped"), std::string::npos) << log;
  auto list = ListBackups(dir + "/backups", dir + "/db.key");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);  // keep = 2
  EXPECT_EQ((*list)[1].id, 3u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cp::server::testing
