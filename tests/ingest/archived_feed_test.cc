// Feeds and the record lifecycle: a feed keeps a child's consent and archive date, never
// puts an archived child back in a searched index, and a record of an archived shielded
// child still finds it rather than becoming an unshielded child (storage/retention.h).
#include "feed_test_util.h"
#include "storage/retention.h"

namespace cp::feed_test {
namespace {

const RowSpec kArchivedAva{"b1", "Ava",       "Whitfield", "2006-03-02",
                   "F",  "1 High St", "LS1 4AB",   "9434765919"};
const Date kAfter18{2024, 3, 3};

class ArchivedFeedTest : public FeedTest {
 protected:
  void Archive(Date as_of) {
    auto report = RunRetention(store_.get(), as_of, RetentionOptions{});
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }
  LifecycleState Lifecycle(ChildId id) {
    auto r = store_->GetRecord(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->lifecycle : LifecycleState{};
  }
  size_t PlaceHits(const std::string& postcode) {
    size_t n = 0;
    bool complete = false;
    EXPECT_TRUE(store_
                    ->ScanPlace(
                        postcode, 100, [&](const Posting&) { ++n; }, &complete)
                    .ok());
    return n;
  }
};

TEST_F(ArchivedFeedTest, AnUpdateKeepsConsentAndTheArchiveDate) {
  ASSERT_TRUE(Apply("births", 1, {kArchivedAva}).ok());
  const ChildId ava = LinkedChild("births", "b1");
  ASSERT_TRUE(store_->SetConsentTo25(ava, true).ok());
  RowSpec moved = kArchivedAva;
  moved.address = "2 New Rd";
  moved.postcode = "LS2 7EF";
  ASSERT_TRUE(Apply("births", 2, {moved}).ok());
  EXPECT_TRUE(Lifecycle(ava).consent_to_25) << "a feed update must not drop recorded consent";

  ASSERT_TRUE(store_->SetConsentTo25(ava, false).ok());
  ASSERT_NO_FATAL_FAILURE(Archive(kAfter18));
  ASSERT_EQ(Lifecycle(ava).archived_on, kAfter18);
  moved.postcode = "LS3 1AA";
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 3, {moved}, &r).ok());
  EXPECT_EQ(r.counts.updated, 1u);
  EXPECT_EQ(Lifecycle(ava).archived_on, kAfter18);
  EXPECT_EQ(PlaceHits("LS3 1AA"), 0u) << "an archived child is in no searched index";
  EXPECT_TRUE(store_->Get(ava, Clearance::Ordinary()).status().IsNotFound());
}

TEST_F(ArchivedFeedTest, ARecordOfAnArchivedShieldedChildNeverMakesAnUnshieldedChild) {
  ASSERT_TRUE(Apply("births", 1, {kArchivedAva}).ok());
  const ChildId ava = LinkedChild("births", "b1");
  ASSERT_TRUE(store_->SetShield(ava, true, "la_leeds", "fleeing violence").ok());
  ASSERT_NO_FATAL_FAILURE(Archive(kAfter18));
  ASSERT_TRUE(Lifecycle(ava).archived());

  // Another source, unlinked: a surname typo, day and month swapped, a refuge's address.
  RowSpec refuge{"la9", "Ava", "Whitfeild", "2006-02-03", "F", "Refuge House", "BD7 1AA"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("la_bradford", 1, {refuge}, &r).ok());
  EXPECT_EQ(r.counts.created, 0u);
  EXPECT_EQ(Children(), 1u) << "no unshielded duplicate of an archived shielded child";
  EXPECT_EQ(PlaceHits("BD7 1AA"), 0u);
  if (LinkedChild("la_bradford", "la9") == 0) {
    auto waiting = store_->FindReview({"la_bradford", "la9"}, Clearance::Ordinary());
    ASSERT_TRUE(waiting.ok()) << "neither linked nor waiting in review";
    EXPECT_TRUE(waiting->shielded);
  } else {
    EXPECT_EQ(LinkedChild("la_bradford", "la9"), ava);
    EXPECT_TRUE(Lifecycle(ava).archived());
  }
}

}  // namespace
}  // namespace cp::feed_test
