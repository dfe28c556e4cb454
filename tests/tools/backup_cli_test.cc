// `contactpoint backup create | list | verify | restore` and `contactpoint audit report`
// end to end, as ops run them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli_runner.h"
#include "index/index_policy.h"
#include "storage/accounts.h"
#include "storage/audit_log.h"
#include "storage/child_store.h"
#include "storage/file_encryption.h"

namespace cp {
namespace {

using ::testing::HasSubstr;

namespace fs = std::filesystem;

std::set<std::string> FilesUnder(const std::string& dir) {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.insert(fs::relative(entry.path(), dir).string());
  }
  return files;
}

class BackupCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-backup-cli-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
    key_ = dir_ + "/db.key";
    backups_ = dir_ + "/backups";
    ASSERT_EQ(Run({"init", "--db", db_}).code, kExitOk);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CliResult Run(const std::vector<std::string>& args) { return RunContactpoint(dir_, args); }
  void Feed(int batch, const std::string& rows) {
    std::ofstream(dir_ + "/feed.csv", std::ios::binary) << kFeedHeader << rows;
    CliResult r = Run({"feed", "apply", "--db", db_, "--source", "births", "--batch",
                       std::to_string(batch), dir_ + "/feed.csv"});
    ASSERT_EQ(r.code, kExitOk) << r;
  }
  std::string Dump(const std::string& db, const std::string& key) {
    CliResult r = Run({"dump", "--db", db, "--key-file", key});
    EXPECT_EQ(r.code, kExitOk) << r;
    return r.out;
  }

  std::string dir_, db_, key_, backups_;
};

TEST_F(BackupCliTest, CreateTwiceListVerifyCorruptRestoreTheFirst) {
  Feed(1, "b1,Olivia,Smith,2015-05-10,F,1 High St,LS1 4AB,,,\n"
          "b2,William,Jones,2015-07-09,M,2 Low Rd,LS2 7EF,,,\n");
  CliResult r = Run({"backup", "create", "--db", db_, "--to", backups_});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("backup 1 of"));
  EXPECT_THAT(r.out, HasSubstr("not in the backup"));
  const std::string dump_at_first = Dump(db_, key_);
  ASSERT_THAT(dump_at_first, HasSubstr("Olivia"));
  const auto files_of_first = FilesUnder(backups_);

  Feed(2, "b3,Amelia,Okonkwo,2016-05-10,F,3 Mid Way,LS3 1AA,,,\n");
  r = Run({"backup", "create", "--db", db_, "--key", key_, "--to", backups_});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("backup 2 of"));

  r = Run({"backup", "list", "--backup-dir", backups_, "--key", key_});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("2 backups"));
  r = Run({"backup", "list", "--backup-dir", backups_, "--key", key_, "--json"});
  ASSERT_EQ(r.code, kExitOk) << r;
  auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list["backups"].size(), 2u);
  EXPECT_EQ(list["backups"][1]["id"], 2);
  r = Run({"backup", "verify", "--backup-dir", backups_, "--key", key_});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("backup 1: ok"));
  EXPECT_THAT(r.out, HasSubstr("backup 2: ok"));
  // The key file is in no backup.
  const std::string key_text = ReadFile(key_);
  for (const auto& name : FilesUnder(backups_)) {
    EXPECT_EQ(ReadFile(backups_ + "/" + name).find(key_text.substr(20, 64)), std::string::npos);
  }

  // Damage a table file only the second backup has.
  std::string damaged;
  for (const auto& name : FilesUnder(backups_)) {
    if (!files_of_first.count(name) && name.ends_with(".sst")) damaged = name;
  }
  ASSERT_FALSE(damaged.empty());
  {
    // A byte of the table past the encryption prefix, flipped, not overwritten: a byte
    // written as a constant is already that byte once in 256 runs, and the backup is then
    // not damaged at all.
    const auto at = static_cast<std::streamoff>(kFilePrefixBytes + 50);
    ASSERT_GT(fs::file_size(backups_ + "/" + damaged), static_cast<uintmax_t>(at));
    std::fstream f(backups_ + "/" + damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char c = 0;
    f.read(&c, 1);
    f.seekp(at);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  r = Run({"backup", "verify", "--backup-dir", backups_, "--key", key_});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.out, HasSubstr("backup 1: ok"));
  EXPECT_THAT(r.out, HasSubstr("backup 2: FAILED"));
  EXPECT_THAT(r.out, HasSubstr(fs::path(damaged).filename().string()));

  // Restore the first: exactly the state it was taken in.
  const std::string restored = dir_ + "/restored";
  r = Run({"backup", "restore", "--backup-dir", backups_, "--key", key_, "--id", "1", "--to", restored});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(Dump(restored, key_), dump_at_first);
  EXPECT_THAT(Dump(restored, key_), ::testing::Not(HasSubstr("Amelia")));
  // Without its key it does not open, and says why.
  r = Run({"dump", "--db", restored});  // default key: restored.key, which does not exist
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("restored.key"));

  // Restoring with another key fails clearly and creates nothing.
  ASSERT_EQ(Run({"init", "--db", dir_ + "/other"}).code, kExitOk);
  r = Run({"backup", "restore", "--backup-dir", backups_, "--key", dir_ + "/other.key", "--id", "1",
           "--to", dir_ + "/r2"});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("is not the key the backups"));
  EXPECT_FALSE(fs::exists(dir_ + "/r2"));
  // Without --key it is a usage error.
  r = Run({"backup", "restore", "--backup-dir", backups_, "--to", dir_ + "/r3"});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_FALSE(fs::exists(dir_ + "/r3"));
  // Over an existing directory: refused.
  r = Run({"backup", "restore", "--backup-dir", backups_, "--key", key_, "--to", db_});
  EXPECT_EQ(r.code, kExitFailure) << r;
  EXPECT_THAT(r.err, HasSubstr("exists"));
}

TEST_F(BackupCliTest, AuditReportListsBreakGlassRefusalsAndShieldedViews) {
  ChildId shielded = 0;
  {
    ChildStore::Options options;
    options.db_dir = db_;
    options.key_file = key_;
    options.policy = &NameIndexPolicy::Instance();
    auto store = ChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::vector<NewChild> children(1);
    children[0].record.given_name = "Ann";
    children[0].record.family_name = "Shaw";
    children[0].record.date_of_birth = Date{2015, 1, 2};
    children[0].source = SourceRef{"births", "x1"};
    auto ids = (*store)->InsertChildren(children);
    ASSERT_TRUE(ids.ok());
    shielded = ids->front();
    ASSERT_TRUE((*store)->SetShield(shielded, true, "la_leeds", "fleeing violence").ok());
    auto log = AuditLog::Open(store->get());
    ASSERT_TRUE(log.ok());
    const int64_t day = Date{2026, 3, 2}.ToDays() * int64_t{86400} * 1000000;
    AuditEntry e;
    e.time_micros = day + 1000;
    e.user = "alice";
    e.action = AuditAction::kBreakGlass;
    e.reason = "child missing overnight";
    e.children = {shielded};
    ASSERT_TRUE((*log)->Append(e).ok());
    e.action = AuditAction::kSearch;
    e.outcome = AuditOutcome::kRefused;
    e.refusal = AuditRefusal::kQuotaExceeded;
    e.reason.clear();
    e.children.clear();
    e.user = "bob";
    ASSERT_TRUE((*log)->Append(e).ok());
  }
  CliResult r = Run({"audit", "report", "--db", db_, "--from", "2026-03-01", "--to", "2026-03-02", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["entries"], 2);
  ASSERT_EQ(j["break_glass"].size(), 1u);
  EXPECT_EQ(j["break_glass"][0]["user"], "alice");
  ASSERT_EQ(j["refusals"].size(), 1u);
  EXPECT_EQ(j["refusals"][0]["count"], 1);
  EXPECT_EQ(j["refusals"][0]["users"]["bob"], 1);
  ASSERT_EQ(j["shielded_views"].size(), 1u);
  EXPECT_EQ(j["shielded_views"][0]["shielded"][0], shielded);
  r = Run({"audit", "report", "--db", db_, "--from", "2026-03-01", "--to", "2026-03-02"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("break-glass events: 1"));
  EXPECT_THAT(r.out, HasSubstr("quota-exceeded: 1 (bob 1)"));
  // Another range has none of it.
  r = Run({"audit", "report", "--db", db_, "--from", "2026-03-03", "--to", "2026-03-09", "--json"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(nlohmann::json::parse(r.out)["entries"], 0);
  // Bad ranges are usage errors.
  EXPECT_EQ(Run({"audit", "report", "--db", db_, "--from", "2026-03-05", "--to", "2026-03-01"}).code,
            kExitUsage);
  EXPECT_EQ(Run({"audit", "report", "--db", db_, "--from", "March", "--to", "2026-03-01"}).code,
            kExitUsage);
  EXPECT_EQ(Run({"audit", "report", "--db", db_, "--from", "2026-03-01"}).code, kExitUsage);
}

}  // namespace
}  // namespace cp
