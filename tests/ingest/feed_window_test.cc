// Rows matched ahead in parallel, a window at a time, give exactly what one row after
// another gives: the same children with the same ids, links, counts and review queue.
#include <random>
#include <sstream>

#include "feed_test_util.h"

namespace cp::feed_test {
namespace {

// Rows that collide on purpose: few names and dates, so that rows of one window are
// candidates for one another; a record sent twice in one batch (the second an update);
// and twins of an earlier row with a slip, which should link to the child that row made.
std::vector<RowSpec> CollidingRows(uint32_t seed, size_t n) {
  const char* given[] = {"Olivia", "Amelia", "Isla", "Ava", "Jack", "Harry", "Oliver", "Noah"};
  const char* family[] = {"Smith", "Jones", "Taylor", "Brown", "Okonkwo", "Nowak"};
  const char* postcodes[] = {"LS1 4AB", "LS2 7EF", "LS3 1AA", "M1 1AE"};
  std::mt19937 rng(seed);
  auto pick = [&rng](size_t k) { return static_cast<size_t>(rng() % k); };
  std::vector<RowSpec> rows;
  for (size_t i = 0; i < n; ++i) {
    if (i >= 4 && pick(4) == 0) {
      // A second record of someone a few rows back: a slip in the given name, or the same
      // key again with a new address.
      RowSpec again = rows[i - 1 - pick(std::min<size_t>(i, 6))];
      if (pick(2) == 0) {
        again.key = "k" + std::to_string(i);
        if (again.given.size() > 3) again.given.erase(again.given.size() - 2, 1);
      } else {
        again.address = std::to_string(i) + " Moved Road";
        again.postcode = postcodes[pick(4)];
      }
      rows.push_back(again);
      continue;
    }
    char dob[16];
    std::snprintf(dob, sizeof dob, "201%zu-0%zu-1%zu", 5 + pick(2), 1 + pick(3), pick(10));
    rows.push_back(RowSpec{"k" + std::to_string(i), given[pick(8)], family[pick(6)], dob,
                           pick(2) == 0 ? "F" : "M", std::to_string(1 + pick(9)) + " High St",
                           postcodes[pick(4)]});
  }
  return rows;
}

// Everything a batch decides, as text: children (ids, names, date, postcode, sources,
// shield), the review queue and the source links.
std::string State(ChildStore* store) {
  std::ostringstream out;
  const Clearance all = Clearance::Elevated(Clearance::Level::kShieldingManager, "test", "test");
  EXPECT_TRUE(store->ForEachChild(all, [&](const ChildView& v) {
    out << v.record.id << " " << v.record.given_name << " " << v.record.family_name << " "
        << v.record.date_of_birth.ToString() << " " << (v.hidden ? v.hidden->postcode : "-") << " "
        << (v.hidden ? v.hidden->address : "-") << (v.record.shield.shielded ? " S" : "");
    for (const auto& s : v.record.sources) out << " " << s.source << "/" << s.key;
    out << "\n";
    return true;
  }).ok());
  std::vector<ReviewItem> items;
  EXPECT_TRUE(store->ListReview(&items).ok());
  for (const auto& item : items) out << "review " << item.id << " " << item.ref.key << "\n";
  EXPECT_TRUE(store->ForEachSourceLink("la_x", [&](const std::string& key, const SourceLink& link) {
    out << "link " << key << " " << link.child << "\n";
    return true;
  }).ok());
  return out.str();
}

class FeedWindowTest : public FeedTest {
 protected:
  // Applies `rows` as two batches (half each) to a fresh store with `threads` and `window`.
  std::string ApplyAll(const std::vector<RowSpec>& rows, size_t threads, size_t window,
                       FeedCounts* counts) {
    TearDown();
    SetUp();
    FeedOptions options;
    options.threads = threads;
    options.window = window;
    const size_t half = rows.size() / 2;
    std::vector<RowSpec> first(rows.begin(), rows.begin() + half), second(rows.begin() + half, rows.end());
    FeedBatchResult r1, r2;
    EXPECT_TRUE(Apply("la_x", 1, first, &r1, options).ok());
    EXPECT_TRUE(Apply("la_x", 2, second, &r2, options).ok());
    counts->linked = r1.counts.linked + r2.counts.linked;
    counts->created = r1.counts.created + r2.counts.created;
    counts->updated = r1.counts.updated + r2.counts.updated;
    counts->unchanged = r1.counts.unchanged + r2.counts.unchanged;
    counts->review = r1.counts.review + r2.counts.review;
    return State(store_.get());
  }
};

TEST_F(FeedWindowTest, ParallelWindowsDecideExactlyAsOneRowAfterAnother) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<RowSpec> rows = CollidingRows(seed, 240);
    FeedCounts serial_counts, parallel_counts, wide_counts;
    const std::string serial = ApplyAll(rows, 1, 1, &serial_counts);
    const std::string parallel = ApplyAll(rows, 4, 16, &parallel_counts);
    const std::string wide = ApplyAll(rows, 3, 500, &wide_counts);
    // The data does collide: rows link, update and wait in review, not only create.
    EXPECT_GT(serial_counts.linked + serial_counts.review, 10u) << "seed " << seed;
    EXPECT_GT(serial_counts.updated, 5u) << "seed " << seed;
    EXPECT_EQ(parallel, serial) << "seed " << seed;
    EXPECT_EQ(wide, serial) << "seed " << seed;
    for (const FeedCounts* c : {&parallel_counts, &wide_counts}) {
      EXPECT_EQ(c->linked, serial_counts.linked);
      EXPECT_EQ(c->created, serial_counts.created);
      EXPECT_EQ(c->updated, serial_counts.updated);
      EXPECT_EQ(c->review, serial_counts.review);
    }
  }
}

}  // namespace
}  // namespace cp::feed_test
