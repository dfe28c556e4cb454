// Rows matched ahead in parallel, a window at a time, give exactly what one row after
// another gives: the same children with the same ids, links, counts and review queue.
#include <algorithm>
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
  // Applies `rows` to a fresh store with `threads` and `window`: as two batches (half
  // each), or with `window` 0 one batch per row, which is one row after another (nothing
  // is looked up before the row before it is written).
  std::string ApplyAll(const std::vector<RowSpec>& rows, size_t threads, size_t window,
                       FeedCounts* counts) {
    TearDown();
    SetUp();
    FeedOptions options;
    options.threads = threads;
    options.window = std::max<size_t>(window, 1);
    std::vector<std::vector<RowSpec>> batches;
    if (window == 0) {
      for (const auto& r : rows) batches.push_back({r});
    } else {
      const size_t half = rows.size() / 2;
      batches.emplace_back(rows.begin(), rows.begin() + half);
      batches.emplace_back(rows.begin() + half, rows.end());
    }
    *counts = {};
    for (size_t b = 0; b < batches.size(); ++b) {
      FeedBatchResult r;
      EXPECT_TRUE(Apply("la_x", b + 1, batches[b], &r, options).ok());
      counts->linked += r.counts.linked;
      counts->created += r.counts.created;
      counts->updated += r.counts.updated;
      counts->unchanged += r.counts.unchanged;
      counts->review += r.counts.review;
    }
    return State(store_.get());
  }
};

// Windows are looked up while the window before is applied, so a row's lookup may have
// seen any part of the previous window's writes: small windows cross that boundary often.
TEST_F(FeedWindowTest, ParallelWindowsDecideExactlyAsOneRowAfterAnother) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<RowSpec> rows = CollidingRows(seed, 240);
    FeedCounts serial_counts;
    const std::string serial = ApplyAll(rows, 1, 0, &serial_counts);
    // The data does collide: rows link, update and wait in review, not only create.
    EXPECT_GT(serial_counts.linked + serial_counts.review, 10u) << "seed " << seed;
    EXPECT_GT(serial_counts.updated, 5u) << "seed " << seed;
    const std::vector<std::pair<size_t, size_t>> runs = {{1, 1}, {2, 1}, {2, 3}, {4, 16}, {3, 500}};
    for (const auto& [threads, window] : runs) {
      FeedCounts c;
      const std::string state = ApplyAll(rows, threads, window, &c);
      const std::string what = "seed " + std::to_string(seed) + ", " + std::to_string(threads) +
                               " threads, window " + std::to_string(window);
      EXPECT_EQ(state, serial) << what;
      EXPECT_EQ(c.linked, serial_counts.linked) << what;
      EXPECT_EQ(c.created, serial_counts.created) << what;
      EXPECT_EQ(c.updated, serial_counts.updated) << what;
      EXPECT_EQ(c.review, serial_counts.review) << what;
    }
  }
}

// An update's change is built while its window is looked up (the child and its other
// source records as read then). A row before it in the window that rewrites the child (here
// a second record of the same source linked to it) makes that change out of date: it is
// built again at its turn, so the child keeps every source record.
TEST_F(FeedWindowTest, AnUpdateBuiltAheadIsBuiltAgainWhenItsChildWasRewrittenMeanwhile) {
  const RowSpec olivia{"h1", "Olivia", "Nowak", "2015-03-14", "F", "1 High St", "LS1 4AB"};
  ASSERT_TRUE(Apply("health", 1, {olivia}).ok());
  const ChildId child = LinkedChild("health", "h1");
  ASSERT_NE(child, 0u);
  ASSERT_TRUE(Apply("la_x", 1,
                    {RowSpec{"x1", "Olivia", "Nowak", "2015-03-14", "F", "1 High St", "LS1 4AB"}})
                  .ok());
  ASSERT_EQ(LinkedChild("la_x", "x1"), child);

  RowSpec twin = olivia;
  twin.key = "h2";
  RowSpec moved = olivia;
  moved.address = "2 Low Road";
  moved.postcode = "LS2 7EF";
  FeedOptions options;
  options.threads = 2;
  options.window = 8;
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 2, {twin, moved}, &r, options).ok());
  EXPECT_EQ(r.counts.linked, 1u);
  EXPECT_EQ(r.counts.updated, 1u);
  EXPECT_EQ(LinkedChild("health", "h2"), child);

  const ChildView v = Full(child);
  std::vector<std::string> sources;
  for (const auto& s : v.record.sources) sources.push_back(s.source + "/" + s.key);
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(sources, (std::vector<std::string>{"health/h1", "health/h2", "la_x/x1"}));
  ASSERT_TRUE(v.hidden.has_value());
  EXPECT_EQ(v.hidden->address, "2 Low Road");
  EXPECT_EQ(v.hidden->postcode, "LS2 7EF");
}

}  // namespace
}  // namespace cp::feed_test
