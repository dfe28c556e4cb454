// Merge and unmerge: stable ids, links and indexes kept consistent, shields kept.
#include "feed_test_util.h"

namespace cp::feed_test {
namespace {

class MergeTest : public FeedTest {
 protected:
  // Two records of one child that matching kept apart (dates of birth too far apart).
  void TwoChildren() {
    ASSERT_TRUE(Apply("births", 1, {RowSpec{"b1", "Olivia", "Smith", "2016-03-02", "F", "1 High St", "LS1 4AB"}}).ok());
    ASSERT_TRUE(Apply("health", 1, {RowSpec{"h1", "Olivia", "Smith", "2012-08-19", "F", "9 New St", "LS9 9ZZ"}}).ok());
    std::vector<ReviewItem> items;
    ASSERT_TRUE(store_->ListReview(&items).ok());
    if (!items.empty()) {
      FeedApplier applier(store_.get(), {});
      FeedCounts counts;
      ASSERT_TRUE(applier.ResolveReview(items[0].id, 0, &counts).ok());
    }
    a_ = LinkedChild("births", "b1");
    b_ = LinkedChild("health", "h1");
    ASSERT_NE(a_, 0u);
    ASSERT_NE(b_, 0u);
    ASSERT_NE(a_, b_);
  }
  std::vector<ChildId> NameHits(const std::string& code, uint16_t year) {
    std::vector<ChildId> ids;
    bool complete = false;
    EXPECT_TRUE(store_->ScanName(TermKind::kPhonetic, code, year, std::nullopt, 100,
                                 [&](const Posting& p) { ids.push_back(p.id); }, &complete).ok());
    return ids;
  }
  std::vector<ChildId> PlaceHits(const std::string& postcode) {
    std::vector<ChildId> ids;
    bool complete = false;
    EXPECT_TRUE(store_->ScanPlace(postcode, 100, [&](const Posting& p) { ids.push_back(p.id); }, &complete).ok());
    return ids;
  }
  ChildId a_ = 0, b_ = 0;
};

TEST_F(MergeTest, MergeKeepsOneIdAndTheOtherResolvesToIt) {
  ASSERT_NO_FATAL_FAILURE(TwoChildren());
  FeedApplier applier(store_.get(), {});
  ASSERT_TRUE(applier.Merge(a_, b_).ok());
  EXPECT_EQ(Children(), 1u);
  EXPECT_EQ(*store_->Resolve(b_), a_);
  ChildView v = Full(b_);
  EXPECT_EQ(v.record.id, a_) << "the old id resolves to the kept child";
  EXPECT_EQ(v.record.sources.size(), 2u);
  EXPECT_EQ(v.record.date_of_birth.ToString(), "2016-03-02") << "births is authoritative";
  EXPECT_EQ(LinkedChild("health", "h1"), a_);
  EXPECT_TRUE(NameHits("SM0", 2012).empty()) << "the merged child's postings are gone";
  EXPECT_EQ(NameHits("SM0", 2016), std::vector<ChildId>{a_});
  EXPECT_TRUE(PlaceHits("LS1 4AB").empty());
  EXPECT_EQ(PlaceHits("LS9 9ZZ"), std::vector<ChildId>{a_}) << "the most recent address";
  EXPECT_TRUE(applier.Merge(a_, b_).IsInvalidArgument()) << "already one child";
  EXPECT_TRUE(applier.Merge(a_, 999).IsNotFound());
}

TEST_F(MergeTest, MergeWithAShieldedChildIsShielded) {
  ASSERT_NO_FATAL_FAILURE(TwoChildren());
  ASSERT_TRUE(store_->SetShield(b_, true, "la_leeds", "fleeing violence").ok());
  FeedApplier applier(store_.get(), {});
  ASSERT_TRUE(applier.Merge(a_, b_).ok());
  ChildView seen = Ordinary(a_);
  EXPECT_TRUE(seen.record.shield.shielded);
  EXPECT_FALSE(seen.hidden.has_value());
  EXPECT_TRUE(PlaceHits("LS1 4AB").empty());
  EXPECT_TRUE(PlaceHits("LS9 9ZZ").empty());
}

TEST_F(MergeTest, UnmergeDetachesARecordAndMatchingNeverJoinsThemAgain) {
  ASSERT_NO_FATAL_FAILURE(TwoChildren());
  FeedApplier applier(store_.get(), {});
  ASSERT_TRUE(applier.Merge(a_, b_).ok());
  auto made = applier.Unmerge(a_, {"health", "h1"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(Children(), 2u);
  EXPECT_EQ(LinkedChild("health", "h1"), *made);
  EXPECT_EQ(Full(a_).record.sources, (std::vector<SourceRef>{{"births", "b1"}}));
  EXPECT_EQ(Full(a_).hidden->postcode, "LS1 4AB");
  EXPECT_EQ(Full(*made).record.date_of_birth.ToString(), "2012-08-19");
  EXPECT_EQ(PlaceHits("LS9 9ZZ"), std::vector<ChildId>{*made});
  std::vector<PairDecision> decisions;
  ASSERT_TRUE(store_->GetDecisions({"health", "h1"}, &decisions).ok());
  ASSERT_FALSE(decisions.empty());
  EXPECT_FALSE(decisions.back().same);
  // The record sent again, changed, stays with its own child.
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 2, {RowSpec{"h1", "Olivia", "Smith", "2012-08-19", "F", "10 New St", "LS9 9ZZ"}}, &r).ok());
  EXPECT_EQ(r.counts.updated, 1u);
  EXPECT_EQ(LinkedChild("health", "h1"), *made);

  EXPECT_EQ(applier.Unmerge(a_, {"births", "b1"}).status().code(), Status::Code::kFailedPrecondition)
      << "the only source";
  EXPECT_TRUE(applier.Unmerge(a_, {"health", "nope"}).status().IsNotFound());
}

TEST_F(MergeTest, UnmergeOfAShieldedChildKeepsTheShieldOnBothParts) {
  ASSERT_NO_FATAL_FAILURE(TwoChildren());
  FeedApplier applier(store_.get(), {});
  ASSERT_TRUE(applier.Merge(a_, b_).ok());
  ASSERT_TRUE(store_->SetShield(a_, true, "la_leeds", "adoption").ok());
  auto made = applier.Unmerge(a_, {"health", "h1"});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(Ordinary(a_).record.shield.shielded);
  ChildView part = Ordinary(*made);
  EXPECT_TRUE(part.record.shield.shielded);
  EXPECT_FALSE(part.hidden.has_value());
  EXPECT_TRUE(PlaceHits("LS9 9ZZ").empty());
}

}  // namespace
}  // namespace cp::feed_test
