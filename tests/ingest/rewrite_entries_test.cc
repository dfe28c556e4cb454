// A change to an existing child writes only the index entries that differ from the ones
// its stored record has (ChildStore::RewriteIndexEntries), and leaves the indexes exactly as
// deleting every old entry and putting every new one would. CheckConsistency, which derives
// each child's entries from its record and compares both ways (an entry the record does not
// yield, one it yields that is missing, one with another value), is the judge after every
// kind of change.
#include <gtest/gtest.h>

#include "storage/check.h"
#include "tests/ingest/feed_test_util.h"

namespace cp::feed_test {
namespace {

std::string Problems(const ConsistencyReport& report) {
  std::string out;
  for (const auto& p : report.problems) {
    out += p.family + " child " + std::to_string(p.child) + " " + p.detail + "\n";
  }
  return out;
}

class RewriteEntriesTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    // The statistics count the keys each change writes.
    store_.reset();
    ChildStore::Options o;
    o.db_dir = dir_ + "/db";
    o.key_file = dir_ + "/db.key";
    o.policy = &NameIndexPolicy::Instance();
    o.block_cache_bytes = size_t{8} << 20;
    o.statistics = true;
    auto s = ChildStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    std::vector<RowSpec> specs = {
        {"k1", "Olivia", "Smith", "2016-03-02", "F", "1 High St", "LS1 4AB", "9434765919"},
        {"k2", "William", "Jones", "2015-07-09", "M", "2 Low Rd", "LS2 7EF"},
        {"k3", "Amelia", "Okonkwo", "2017-01-20", "F", "3 Side St", "LS3 1AA"},
        {"k4", "Noah", "Brown", "2014-05-05", "M", "4 Top Rd", "LS4 2BB"},
    };
    auto children = AsNewChildren(specs);
    auto ids = store_->InsertChildren(children);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    ids_ = *ids;
  }

  void ExpectConsistent(const std::string& after) {
    ConsistencyReport report;
    ASSERT_TRUE(store_->CheckConsistency(&report).ok());
    EXPECT_TRUE(report.ok()) << "after " << after << ":\n" << Problems(report);
    EXPECT_EQ(report.children, Children());
  }

  // Keys written by one batch of `births`.
  uint64_t KeysWrittenBy(const std::vector<RowSpec>& rows) {
    const uint64_t before = store_->GetEngineStats().keys_written;
    FeedBatchResult result;
    Status s = Apply("births", ++batch_, rows, &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(result.counts.updated, rows.size());
    return store_->GetEngineStats().keys_written - before;
  }

  std::vector<ChildId> ids_;
  uint64_t batch_ = 0;
};

TEST_F(RewriteEntriesTest, EveryKindOfChangeLeavesTheIndexesAsTheRecordsYieldThem) {
  ExpectConsistent("the import");
  auto apply = [&](const std::vector<RowSpec>& rows, const std::string& what) {
    FeedBatchResult result;
    Status s = Apply("births", ++batch_, rows, &result);
    ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
    EXPECT_EQ(result.counts.updated, rows.size()) << what;
    ExpectConsistent(what);
  };
  apply({{"k1", "Olivia", "Smith", "2016-03-02", "F", "9 New St", "LS1 4AB", "9434765919"},
         {"k2", "William", "Jones", "2015-07-09", "M", "2 Low Rd", "LS9 9ZZ"}},
        "an address, and a postcode");
  RowSpec renamed{"k2", "William", "Jones-Hart", "2015-07-09", "M", "2 Low Rd", "LS9 9ZZ"};
  renamed.former = {"Jones"};
  apply({{"k1", "Livia", "Smith", "2016-03-02", "F", "9 New St", "LS1 4AB", "9434765919"},
         renamed,
         {"k3", "Amelia", "Okonkwo", "2017-02-20", "F", "3 Side St", "LS3 1AA"}},
        "a given name, a family name with the old one kept, a date of birth");
  apply({{"k1", "Livia", "Smith", "2016-03-02", "F", "9 New St", "LS1 4AB"},
         {"k3", "Amelia", "Okonkwo", "2017-02-20", "F", "3 Side St", "LS3 1AA", "9434765870"},
         {"k4", "Noah", "Brown", "2014-05-05", "F", "4 Top Rd", "LS4 2BB"}},
        "an NHS number removed, one added, a gender");
  apply({{"k4", "Noah", "Brown", "", "F", "4 Top Rd", ""}}, "a date and a postcode removed");

  ASSERT_TRUE(store_->SetShield(ids_[1], true, "la_leeds", "test").ok());
  ExpectConsistent("a shield");
  apply({{"k2", "Will", "Jones-Hart", "2015-07-09", "M", "7 Far Rd", "LS7 1CC"}},
        "a shielded child's name and address");

  FeedApplier applier(store_.get(), FeedOptions{});
  ASSERT_TRUE(applier.Merge(ids_[0], ids_[1]).ok());
  ExpectConsistent("a merge into an unshielded child of a shielded one");
  ASSERT_TRUE(applier.Merge(ids_[3], ids_[2]).ok());
  ExpectConsistent("a merge");
  auto split = applier.Unmerge(ids_[3], SourceRef{"births", "k3"});
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  ExpectConsistent("an unmerge");
}

// What makes an update cheap: a new address in the same postcode changes no posting, so
// none is written (before, each of the child's postings was deleted and put again).
TEST_F(RewriteEntriesTest, ANewAddressWritesNoPosting) {
  std::vector<IndexTerm> terms;
  NameIndexPolicy::Instance().NameTerms(Full(ids_[0]).record, &terms);
  ASSERT_GE(terms.size(), 10u);

  const uint64_t moved = KeysWrittenBy(
      {{"k1", "Olivia", "Smith", "2016-03-02", "F", "9 New St", "LS1 4AB", "9434765919"}});
  const uint64_t renamed = KeysWrittenBy(
      {{"k1", "Livia", "Smith", "2016-03-02", "F", "9 New St", "LS1 4AB", "9434765919"}});
  // The record, its hidden fields, the source link twice (written out, then replaced),
  // the feed's state and two counters: no posting (deleting and putting each was 2 x 19).
  EXPECT_LE(moved, 7u) << terms.size() << " terms";
  // A new given name replaces its codes' and trigrams' postings, and the features every
  // posting of the other names carries.
  EXPECT_GE(renamed, moved + 10) << terms.size() << " terms";
  ExpectConsistent("both");
}

}  // namespace
}  // namespace cp::feed_test
