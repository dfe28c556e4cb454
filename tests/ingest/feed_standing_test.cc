// What no feed decides about a child (its archive date, consents and shield) is changed by
// other callers beside a feed batch: the daemon's daily run archives, a person records
// consent or sets a shield. A feed write computed from the child as read before such a
// change must not undo it.
#include "feed_test_util.h"
#include "storage/retention.h"

namespace cp::feed_test {
namespace {

const RowSpec kCara{"b1", "Cara", "Lund", "2006-01-10", "F", "1 Old Road", "LS1 4AB"};

class FeedStandingTest : public FeedTest {
 protected:
  ChildId Born() {
    EXPECT_TRUE(Apply("births", 1, {kCara}).ok());
    return LinkedChild("births", "b1");
  }
  // The child as the engine's matching sees it (archived children included).
  ChildView Engine(ChildId id) {
    auto v = store_->Get(id, Clearance::Elevated(Clearance::Level::kMatching, "test", "test"));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ChildView{};
  }
  void Archive(ChildId id) {
    auto record = store_->GetRecord(id);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    auto due = ArchiveDueFor(*record);
    ASSERT_TRUE(due.has_value());
    ASSERT_TRUE(store_->ArchiveChild(id, due->on).ok());
  }
};

// The daily run archives Cara after her births record's update was decided (read from her
// live record) and before it is written. The update is decided again and applied to the
// archived child, who stays archived, out of every search index.
TEST_F(FeedStandingTest, AnUpdateDecidedBeforeAnArchiveLeavesTheChildArchived) {
  const ChildId cara = Born();
  RowSpec moved = kCara;
  moved.address = "7 New Street";
  moved.postcode = "LS2 9XY";
  FeedOptions options;
  int calls = 0;
  options.before_apply = [&](uint64_t row) {
    if (row == 0 && calls++ == 0) Archive(cara);
  };
  FeedBatchResult r;
  Status s = Apply("births", 2, {moved}, &r, options);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, 2) << "the row is decided again after the refused write";
  EXPECT_EQ(r.counts.updated, 1u);
  ChildView seen = Engine(cara);
  EXPECT_TRUE(seen.record.lifecycle.archived());
  ASSERT_TRUE(seen.hidden.has_value());
  EXPECT_EQ(seen.hidden->postcode, "LS2 9XY") << "the update is kept";
  EXPECT_TRUE(PlaceHits("LS2 9XY").empty()) << "an archived child has no place posting";
  EXPECT_TRUE(PlaceHits("LS1 4AB").empty());
  EXPECT_TRUE(store_->Get(cara, Clearance::Ordinary()).status().IsNotFound());
}

// A consent recorded between an update's decision and its write is kept.
TEST_F(FeedStandingTest, AConsentRecordedWhileAnUpdateWaitsIsKept) {
  const ChildId cara = Born();
  RowSpec moved = kCara;
  moved.postcode = "LS2 9XY";
  FeedOptions options;
  options.before_apply = [&](uint64_t) {
    if (!store_->GetRecord(cara)->lifecycle.consent_sensitive_services) {
      EXPECT_TRUE(store_->SetSensitiveServicesConsent(cara, true).ok());
    }
  };
  ASSERT_TRUE(Apply("births", 2, {moved}, nullptr, options).ok());
  ChildView seen = Engine(cara);
  EXPECT_TRUE(seen.record.lifecycle.consent_sensitive_services);
  EXPECT_EQ(seen.hidden->postcode, "LS2 9XY");
}

// A shield lifted while an update waits stays lifted: the update, decided on the shielded
// child, is decided again on the child as it is.
TEST_F(FeedStandingTest, AShieldLiftedWhileAnUpdateWaitsStaysLifted) {
  const ChildId cara = Born();
  ASSERT_TRUE(store_->SetShield(cara, true, "la_leeds", "fleeing violence").ok());
  RowSpec moved = kCara;
  moved.postcode = "LS2 9XY";
  FeedOptions options;
  options.before_apply = [&](uint64_t) {
    if (store_->GetRecord(cara)->shield.shielded) {
      EXPECT_TRUE(store_->SetShield(cara, false, "la_leeds", "safe now").ok());
    }
  };
  ASSERT_TRUE(Apply("births", 2, {moved}, nullptr, options).ok());
  EXPECT_FALSE(Engine(cara).record.shield.shielded);
  EXPECT_EQ(PlaceHits("LS2 9XY"), std::vector<ChildId>{cara});
}

// Storage's half: a child write whose standing as read differs from the stored child's is
// refused whole, and accepted once decided on the child as it is.
TEST_F(FeedStandingTest, ApplyChangeRefusesAWriteReadBeforeTheChildsStandingChanged) {
  const ChildId cara = Born();
  ChildView before = Engine(cara);
  Archive(cara);
  FeedChange change;
  FeedChange::ChildWrite w{before.record, *before.hidden, StandingOf(before.record)};
  w.hidden.postcode = "LS2 9XY";
  change.children.push_back(w);
  auto refused = store_->ApplyChange(change);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsChangedSince(refused.status())) << refused.status().ToString();
  EXPECT_EQ(Engine(cara).hidden->postcode, "LS1 4AB") << "nothing written";
  EXPECT_TRUE(Engine(cara).record.lifecycle.archived());

  ChildView now = Engine(cara);
  change.children[0] = {now.record, *now.hidden, StandingOf(now.record)};
  change.children[0].hidden.postcode = "LS2 9XY";
  auto applied = store_->ApplyChange(change);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(Engine(cara).hidden->postcode, "LS2 9XY");
  EXPECT_TRUE(Engine(cara).record.lifecycle.archived());
  EXPECT_TRUE(PlaceHits("LS2 9XY").empty());
}

}  // namespace
}  // namespace cp::feed_test
