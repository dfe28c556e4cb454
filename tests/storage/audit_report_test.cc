// The audit report (storage/audit_report.h) over a constructed trail: break-glass events,
// refusals by reason and user, views of shielded children (shield state at the view), and
// the volume rule against the user's own usual and the role's.
#include "storage/audit_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/accounts.h"
#include "storage/audit_log.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using testing_util::MakeChild;
using ::testing::ElementsAre;

constexpr int64_t kOneDay = int64_t{86400} * 1000000;
constexpr int64_t kDay0 = 20400;  // 2025-11-08: the report's first day

class AuditReportTest : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    CreateStore();
    Accounts::Options fast;
    fast.argon2_memory_kib = 64;
    fast.argon2_passes = 1;
    auto accounts = Accounts::Open(store_.get(), fast);
    ASSERT_TRUE(accounts.ok());
    ASSERT_TRUE((*accounts)->AddOrganisation("la_leeds", "Leeds City Council").ok());
    for (const char* user : {"alice", "bob", "carol", "dave"}) {
      ASSERT_TRUE((*accounts)->AddUser(user, "la_leeds", Role::kLocalAuthoritySocialCare,
                                       "a long enough password").ok());
    }
    ASSERT_TRUE((*accounts)->AddUser("pc_evans", "la_leeds", Role::kPolice, "a long enough password").ok());
    accounts->reset();  // the report opens its own
    std::vector<NewChild> children{MakeChild("Ann", "Shaw", Date{2015, 1, 2}, "a"),
                                   MakeChild("Ben", "Shaw", Date{2016, 1, 2}, "b"),
                                   MakeChild("Cat", "Shaw", Date{2017, 1, 2}, "c")};
    auto ids = store_->InsertChildren(children);
    ASSERT_TRUE(ids.ok());
    plain_ = (*ids)[0];
    shielded_ = (*ids)[1];      // shielded through the store only: the trail has no shield entry
    later_shielded_ = (*ids)[2];  // shielded in the trail during the report range
    ASSERT_TRUE(store_->SetShield(shielded_, true, "la_leeds", "fleeing violence").ok());
    auto log = AuditLog::Open(store_.get());
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
  }
  void TearDown() override {
    log_.reset();
    TempDirTest::TearDown();
  }

  void Add(const std::string& user, int64_t day, AuditAction action,
           AuditOutcome outcome = AuditOutcome::kOk, AuditRefusal refusal = AuditRefusal::kNone,
           std::vector<ChildId> children = {}, int64_t second = 3600) {
    AuditEntry e;
    e.time_micros = day * kOneDay + second * 1000000;
    e.user = user;
    e.organisation = "la_leeds";
    e.source_address = "10.0.0.7";
    e.action = action;
    e.outcome = outcome;
    e.refusal = refusal;
    e.children = std::move(children);
    if (outcome != AuditOutcome::kRefused) e.reason = "s47 enquiry";
    if (action == AuditAction::kSearch && outcome == AuditOutcome::kOk) e.criteria = "name=Shaw";
    auto seq = log_->Append(e);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  }

  AuditReport Report(int64_t from, int64_t to, int baseline_days = 28) {
    AuditReportOptions o;
    o.from_day = from;
    o.to_day = to;
    o.baseline_days = baseline_days;
    log_.reset();  // nothing in the report needs the writer; reopen it after
    auto report = BuildAuditReport(store_.get(), o);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    auto log = AuditLog::Open(store_.get());
    EXPECT_TRUE(log.ok());
    log_ = std::move(*log);
    return report.ok() ? *report : AuditReport{};
  }

  std::unique_ptr<AuditLog> log_;
  ChildId plain_ = 0, shielded_ = 0, later_shielded_ = 0;
};

TEST_F(AuditReportTest, BreakGlassRefusalsAndShieldedViews) {
  Add("alice", kDay0 - 1, AuditAction::kBreakGlass, AuditOutcome::kOk, AuditRefusal::kNone,
      {shielded_});  // before the range: not reported
  Add("alice", kDay0, AuditAction::kBreakGlass, AuditOutcome::kOk, AuditRefusal::kNone, {shielded_});
  Add("bob", kDay0, AuditAction::kBreakGlass, AuditOutcome::kRefused, AuditRefusal::kNotPermitted);
  Add("bob", kDay0, AuditAction::kSearch, AuditOutcome::kRefused, AuditRefusal::kQuotaExceeded);
  Add("bob", kDay0 + 1, AuditAction::kSearch, AuditOutcome::kRefused, AuditRefusal::kQuotaExceeded);
  Add("carol", kDay0 + 1, AuditAction::kLogin, AuditOutcome::kRefused, AuditRefusal::kBadCredentials);
  Add("carol", kDay0 + 1, AuditAction::kSearch, AuditOutcome::kRefused, AuditRefusal::kQuotaExceeded);
  // Views: of a plain child (not reported), of the store-shielded child, and of a child
  // before and after the trail shields it.
  Add("dave", kDay0, AuditAction::kView, AuditOutcome::kOk, AuditRefusal::kNone, {plain_});
  Add("dave", kDay0, AuditAction::kView, AuditOutcome::kOk, AuditRefusal::kNone, {shielded_});
  Add("dave", kDay0, AuditAction::kView, AuditOutcome::kOk, AuditRefusal::kNone, {later_shielded_});
  Add("pc_evans", kDay0 + 1, AuditAction::kShield, AuditOutcome::kOk, AuditRefusal::kNone,
      {later_shielded_});
  Add("dave", kDay0 + 2, AuditAction::kView, AuditOutcome::kOk, AuditRefusal::kNone, {later_shielded_});
  // A refused view of a shielded child is a refusal, not a view.
  Add("carol", kDay0 + 2, AuditAction::kView, AuditOutcome::kRefused, AuditRefusal::kNotFound);
  Add("alice", kDay0 + 5, AuditAction::kBreakGlass, AuditOutcome::kOk, AuditRefusal::kNone,
      {shielded_});  // after the range

  AuditReport r = Report(kDay0, kDay0 + 2);
  EXPECT_EQ(r.entries, 12u);
  ASSERT_EQ(r.break_glass.size(), 2u);
  EXPECT_EQ(r.break_glass[0].user, "alice");
  EXPECT_EQ(r.break_glass[0].reason, "s47 enquiry");
  EXPECT_EQ(r.break_glass[1].outcome, AuditOutcome::kRefused);

  ASSERT_EQ(r.refusals.size(), 4u);  // bad credentials, not permitted, quota, not found
  EXPECT_EQ(r.refusals[0].reason, AuditRefusal::kBadCredentials);
  EXPECT_EQ(r.refusals[1].reason, AuditRefusal::kNotPermitted);
  EXPECT_EQ(r.refusals[2].reason, AuditRefusal::kQuotaExceeded);
  EXPECT_EQ(r.refusals[2].count, 3u);
  EXPECT_EQ(r.refusals[2].by_user, (std::map<std::string, uint64_t>{{"bob", 2}, {"carol", 1}}));
  EXPECT_EQ(r.refusals[3].reason, AuditRefusal::kNotFound);

  std::vector<std::pair<std::string, ChildId>> views;
  for (const auto& v : r.shielded_views) {
    for (ChildId c : v.shielded) views.emplace_back(v.entry.user, c);
  }
  // alice's break-glass and dave's view of the store-shielded child; dave's view of the
  // other child only after the trail shielded it.
  EXPECT_THAT(views, ElementsAre(std::pair<std::string, ChildId>{"alice", shielded_},
                                 std::pair<std::string, ChildId>{"dave", shielded_},
                                 std::pair<std::string, ChildId>{"dave", later_shielded_}));
  EXPECT_EQ(r.shielded_views.back().entry.time_micros / kOneDay, kDay0 + 2);
  EXPECT_TRUE(r.outliers.empty());
}

TEST_F(AuditReportTest, VolumeFarAboveOwnUsualAndRolesIsFlagged) {
  // A week of baseline (each append is synced: a short baseline keeps the test quick):
  // social care users search 8 a day; pc_evans (police) 30 a day.
  constexpr int kBaseline = 7;
  for (int64_t d = kDay0 - kBaseline; d < kDay0; ++d) {
    for (const char* user : {"alice", "bob", "carol"}) {
      for (int i = 0; i < 8; ++i) Add(user, d, AuditAction::kSearch, AuditOutcome::kOk, AuditRefusal::kNone, {}, i);
    }
    for (int i = 0; i < 30; ++i) Add("pc_evans", d, AuditAction::kSearch, AuditOutcome::kOk, AuditRefusal::kNone, {}, i);
  }
  // The report's day: alice 40 (5x her usual, 5x the role's): flagged. pc_evans 40 (above
  // the social care median, but not above his own): not flagged. dave, new, 40: above the
  // role's and his own (no history: median 0, taken as 1): flagged. carol 20: 2.5x, not.
  // bob 23: below the minimum volume? No: 23 >= 20 and 23 < 3 x 8 = 24: not flagged.
  for (int i = 0; i < 40; ++i) {
    Add("alice", kDay0, AuditAction::kView, AuditOutcome::kOk, AuditRefusal::kNone, {plain_}, i);
    Add("pc_evans", kDay0, AuditAction::kSearch, AuditOutcome::kOk, AuditRefusal::kNone, {}, i);
    Add("dave", kDay0, AuditAction::kSearch, AuditOutcome::kRefused, AuditRefusal::kQuotaExceeded, {}, i);
  }
  for (int i = 0; i < 20; ++i) Add("carol", kDay0, AuditAction::kSearch, AuditOutcome::kOk, AuditRefusal::kNone, {}, i);
  for (int i = 0; i < 23; ++i) Add("bob", kDay0, AuditAction::kSearch, AuditOutcome::kOk, AuditRefusal::kNone, {}, i);

  AuditReport r = Report(kDay0, kDay0, kBaseline);
  ASSERT_EQ(r.outliers.size(), 2u);
  EXPECT_EQ(r.outliers[0].user, "alice");
  EXPECT_EQ(r.outliers[0].role, "la_social_care");
  EXPECT_EQ(r.outliers[0].day, kDay0);
  EXPECT_EQ(r.outliers[0].volume, 40u);
  EXPECT_DOUBLE_EQ(r.outliers[0].own_median, 8.0);
  EXPECT_DOUBLE_EQ(r.outliers[0].role_median, 8.0);
  EXPECT_EQ(r.outliers[1].user, "dave");
  EXPECT_DOUBLE_EQ(r.outliers[1].own_median, 0.0);

  // Below the minimum volume nothing is flagged, however far above the usual.
  AuditReportOptions o;
  o.from_day = kDay0;
  o.to_day = kDay0;
  o.min_volume = 41;
  o.baseline_days = kBaseline;
  log_.reset();
  auto quiet = BuildAuditReport(store_.get(), o);
  ASSERT_TRUE(quiet.ok());
  EXPECT_TRUE(quiet->outliers.empty());
}

TEST_F(AuditReportTest, BadRangesAndOptionsAreRefused) {
  log_.reset();
  AuditReportOptions o;
  o.from_day = kDay0 + 1;
  o.to_day = kDay0;
  EXPECT_TRUE(BuildAuditReport(store_.get(), o).status().IsInvalidArgument());
  o.from_day = kDay0;
  o.baseline_days = 0;
  EXPECT_TRUE(BuildAuditReport(store_.get(), o).status().IsInvalidArgument());
  o.baseline_days = 28;
  o.factor = 0.5;
  EXPECT_TRUE(BuildAuditReport(store_.get(), o).status().IsInvalidArgument());
  o.factor = 3;
  auto empty = BuildAuditReport(store_.get(), o);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->entries, 0u);
}

}  // namespace
}  // namespace cp
