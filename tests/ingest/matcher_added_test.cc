// Matcher::MatchWithAdded: a match brought up to date with children created since it was
// made gives the outcome a fresh match gives (ingest/matcher.h). Each case inserts one
// kind of child after the first match, then compares candidates, totals and decision.
#include <memory>

#include "feed_test_util.h"

namespace cp::feed_test {
namespace {

const RowSpec kRecord{"h1", "Oliver", "Smith", "2015-04-12", "M", "1 Elm Road", "LS6 1AA", "9434765919"};

class MatcherAddedTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    // Namesakes around the record, so that the ranked list has more than it keeps.
    std::vector<RowSpec> rows;
    for (int i = 0; i < 30; ++i) {
      const std::string day = (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1);
      rows.push_back({"n" + std::to_string(i), i % 2 ? "Oliver" : "Jack", i % 3 ? "Smith" : "Jones",
                      "2015-0" + std::to_string(i % 9 + 1) + "-" + day, i % 4 ? "M" : "F",
                      std::to_string(i) + " Low St", "LS6 2BB"});
    }
    Insert(rows);
  }

  std::vector<ChildId> Insert(const std::vector<RowSpec>& specs) {
    std::vector<NewChild> children = AsNewChildren(specs);
    auto ids = store_->InsertChildren(children);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<ChildId>{};
  }

  static SourceRecord Record(const RowSpec& spec) {
    SourceRecord rec = MakeRow(spec).record;
    rec.ref.source = "health";
    return rec;
  }

  static void ExpectSame(const MatchOutcome& a, const MatchOutcome& b, const std::string& what) {
    EXPECT_EQ(a.decision, b.decision) << what;
    EXPECT_EQ(a.child, b.child) << what;
    EXPECT_EQ(a.shielded, b.shielded) << what;
    ASSERT_EQ(a.candidates.size(), b.candidates.size()) << what;
    for (size_t i = 0; i < a.candidates.size(); ++i) {
      EXPECT_EQ(a.candidates[i].child, b.candidates[i].child) << what << " #" << i;
      EXPECT_DOUBLE_EQ(a.candidates[i].total, b.candidates[i].total) << what << " #" << i;
      EXPECT_EQ(a.candidates[i].fields.size(), b.candidates[i].fields.size()) << what << " #" << i;
    }
  }
};

TEST_F(MatcherAddedTest, BroughtUpToDateEqualsMatchedAfresh) {
  const struct {
    const char* what;
    RowSpec child;
    bool shielded = false;
  } cases[] = {
      {"a sibling at the record's address", {"c", "Amelia", "Smith", "2017-09-30", "F", "1 Elm Road", "LS6 1AA"}},
      {"the same child again, another NHS number",
       {"c", "Oliver", "Smith", "2015-04-12", "M", "1 Elm Road", "LS6 1AA", "4010232137"}},
      {"the same child, no NHS number, elsewhere", {"c", "Oliver", "Smith", "2015-04-12", "M", "", "M1 1AE"}},
      {"both names agree, another date in the year", {"c", "Oliver", "Smith", "2015-11-03", "M"}},
      {"names swapped, a year digit wrong", {"c", "Smith", "Oliver", "2016-04-12", "M"}},
      {"a given-name namesake, the month one digit out", {"c", "Oliver", "Brown", "2015-05-12", "M"}},
      {"a given-name namesake, the same date", {"c", "Oliver", "Brown", "2015-04-12", "M"}},
      {"no date of birth", {"c", "Olly", "Smith", "", "M"}},
      {"unrelated", {"c", "Zoe", "Nowak", "2019-02-02", "F", "3 Far Rd", "YO1 7HH"}},
      {"sharing the record's NHS number", {"c", "Ollie", "Smyth", "2014-01-01", "M", "", "", "9434765919"}},
      {"shielded, the same child", {"c", "Oliver", "Smith", "2015-04-12", "M", "1 Elm Road", "LS6 1AA"}, true},
  };
  Matcher matcher(store_.get());
  int n = 0;
  for (const auto& c : cases) {
    const SourceRecord record = Record(kRecord);
    std::shared_ptr<const BlockingState> before;
    auto first = matcher.Match(record, &before);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_NE(before, nullptr);

    RowSpec spec = c.child;
    spec.key += std::to_string(n++);
    FeedRow row = MakeRow(spec);
    const std::vector<ChildId> ids = Insert({spec});
    ASSERT_EQ(ids.size(), 1u);
    if (c.shielded) {
      ASSERT_TRUE(store_->SetShield(ids[0], true, "test", "test").ok());
    }
    auto stored = store_->Get(ids[0], Clearance::Elevated(Clearance::Level::kShieldingManager, "t", "t"));
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    const std::vector<AddedChild> added{MakeAddedChild(ids[0], stored->record, *stored->hidden)};

    auto updated = matcher.MatchWithAdded(record, *before, added);
    auto fresh = matcher.Match(record);
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    ExpectSame(*updated, *fresh, c.what);
  }
}

TEST_F(MatcherAddedTest, NothingAddedChangesNothing) {
  Matcher matcher(store_.get());
  const SourceRecord record = Record(kRecord);
  std::shared_ptr<const BlockingState> before;
  auto first = matcher.Match(record, &before);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = matcher.MatchWithAdded(record, *before, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectSame(*again, *first, "nothing added");
}

// A sibling written a row before, in the same window: the row's match is brought up to
// date (the sibling is its candidate), and the outcome is a serial run's.
TEST_F(MatcherAddedTest, AFeedWindowGivesTheSerialOutcome) {
  const std::vector<RowSpec> rows{
      {"r1", "Amelia", "Smith", "2017-09-30", "F", "1 Elm Road", "LS6 1AA"},
      {"r2", "Amelia", "Smith", "2017-09-03", "F", "1 Elm Road", "LS6 1AA"},  // her slip
      {"r3", "Oliver", "Smith", "2015-04-12", "M", "1 Elm Road", "LS6 1AA"},  // a brother
      {"r4", "Olivia", "Smith", "2015-04-12", "F", "1 Elm Road", "LS6 1AA"},  // his twin
  };
  FeedOptions windowed;
  windowed.window = 16;
  windowed.threads = 2;
  FeedBatchResult w;
  ASSERT_TRUE(Apply("health", 1, rows, &w, windowed).ok());
  const auto windowed_children = Children();
  std::vector<ChildId> windowed_links;
  for (const auto& r : rows) windowed_links.push_back(LinkedChild("health", r.key));

  TearDown();  // a second database, the same children
  SetUp();
  FeedOptions serial;
  serial.window = 1;
  serial.threads = 1;
  FeedBatchResult s;
  Status st = Apply("health", 1, rows, &s, serial);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Children(), windowed_children);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(LinkedChild("health", rows[i].key), windowed_links[i]) << i;
  EXPECT_EQ(w.counts, s.counts);
}

}  // namespace
}  // namespace cp::feed_test
