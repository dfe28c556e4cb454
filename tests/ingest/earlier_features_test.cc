// A database whose postings were written before features carried identifier digests
// (2026-11-29): `check` accepts them as the records' own, and a digest that is not the
// record's number's is still another value.
#include <functional>

#include "../storage/raw_db_util.h"
#include "feed_test_util.h"
#include "index/features.h"
#include "storage/check.h"
#include "util/coding.h"

namespace cp::feed_test {
namespace {

class EarlierFeaturesTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    std::vector<NewChild> children = AsNewChildren({
        {"c1", "Amelia", "Whitfield", "2016-03-02", "F", "1 High St", "LS1 4AB", "9434765919"},
        {"c2", "Zoe", "Nowak", "2015-07-22", "F", "3 Other Rd", "LS9 9ZZ", ""},
    });
    auto ids = store_->InsertChildren(children);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    with_nhs_ = ids->at(0);
  }
  // Closes the store, edits the feature-bearing postings through raw RocksDB, reopens.
  void Rewrite(const std::function<bool(std::string_view key, std::string* value)>& edit) {
    store_.reset();
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      auto dump = raw.Dump();
      for (const char* family : {"name_index", "place_index"}) {
        for (auto [key, value] : dump[family]) {
          if (value.size() < 2) continue;  // trigram postings carry no features
          if (edit(key, &value)) raw.Put(family, key, value);
        }
      }
    }
    Open(false);
  }
  // Damages one feature-bearing posting of the child with an NHS number: the check finds
  // it, and only it.
  void ExpectOneDamagedPostingFound(const std::function<void(std::string*)>& damage) {
    bool changed = false;
    Rewrite([&](std::string_view key, std::string* value) {
      if (changed || DecodeBigEndian64(key.data() + key.size() - 8) != with_nhs_) return false;
      damage(value);
      changed = true;
      return true;
    });
    ASSERT_TRUE(changed);
    ConsistencyReport report = Check();
    ASSERT_EQ(report.problems.size(), 1u);
    EXPECT_EQ(report.problems[0].kind, ProblemKind::kPostingNotFromRecord);
    EXPECT_EQ(report.problems[0].child, with_nhs_);
  }
  ConsistencyReport Check() {
    ConsistencyReport report;
    Status s = store_->CheckConsistency(&report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }
  ChildId with_nhs_ = 0;
};

TEST_F(EarlierFeaturesTest, PostingsWithoutIdentifierDigestsPassTheCheck) {
  size_t rewritten = 0;
  Rewrite([&](std::string_view, std::string* value) {
    const std::string earlier = value->substr(0, 1) + std::string(FeatureView::WithoutIdentifiers(value->substr(1)));
    EXPECT_LT(earlier.size(), value->size());
    *value = earlier;
    ++rewritten;
    return true;
  });
  EXPECT_GT(rewritten, 4u);
  ConsistencyReport report = Check();
  for (const auto& p : report.problems) ADD_FAILURE() << ProblemKindName(p.kind) << " child " << p.child;
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.children, 2u);
}

TEST_F(EarlierFeaturesTest, APostingWithAnotherIdentifierDigestIsFound) {
  ExpectOneDamagedPostingFound([](std::string* value) {
    value->back() = static_cast<char>(value->back() ^ 1);  // the NHS number's digest
  });
}

TEST_F(EarlierFeaturesTest, APostingCutShortOfItsDigestIsFound) {
  // The earlier form drops the whole section; a posting that keeps the tag but loses the
  // digest is neither form.
  ExpectOneDamagedPostingFound([](std::string* value) { value->pop_back(); });
}

}  // namespace
}  // namespace cp::feed_test
