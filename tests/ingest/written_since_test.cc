// WrittenSince finds exactly what testing every child written with CouldBeCandidate finds,
// as children are added and the oldest forgotten window by window.
#include "ingest/written_since.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>

namespace cp {
namespace {

BlockingProfile RandomProfile(std::mt19937& rng) {
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  const char* codes[] = {"SM0", "XMT", "JNS", "ALFR", "AML", "NX", "TLR", "PRN"};
  const char* postcodes[] = {"", "", "LS1 4AB", "LS2 7EF", "M1 1AE"};
  const char* nhs[] = {"", "", "", "9434765919", "4010232137"};
  BlockingProfile p;
  for (auto* field : {&p.given, &p.family, &p.middle}) {
    const size_t n = field == &p.middle ? pick(2) : 1 + pick(2);
    for (size_t i = 0; i < n; ++i) field->push_back(codes[pick(8)]);
  }
  p.postcode = postcodes[pick(5)];
  p.nhs = nhs[pick(5)];
  if (pick(6) == 0) p.upn = "A12345678901" + std::to_string(pick(2));
  if (pick(8) != 0) {
    p.date_of_birth = Date{static_cast<int16_t>(2014 + pick(3)), static_cast<uint8_t>(1 + pick(3)),
                           static_cast<uint8_t>(10 + pick(3))};
  }
  p.shielded = pick(10) == 0;
  return p;
}

TEST(WrittenSinceTest, FindsWhatTestingEveryChildFinds) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    WrittenSince index;
    std::deque<std::pair<BlockingProfile, bool>> all;  // what index holds, oldest first
    size_t created_reached = 0, rewritten_reached = 0, tests = 0;
    for (int window = 0; window < 12; ++window) {
      const size_t rows = 1 + rng() % 40;
      for (size_t i = 0; i < rows; ++i) {
        const BlockingProfile record = RandomProfile(rng);
        WrittenSince::Reach want;
        for (const auto& [child, created] : all) {
          if (CouldBeCandidate(record, child)) (created ? want.created : want.rewritten) = true;
        }
        const WrittenSince::Reach got = index.Test(record);
        ASSERT_EQ(got.created, want.created)
            << "seed " << seed << " window " << window << " row " << i;
        ASSERT_EQ(got.rewritten, want.rewritten)
            << "seed " << seed << " window " << window << " row " << i;
        created_reached += want.created;
        rewritten_reached += want.rewritten;
        ++tests;
        const bool created = rng() % 3 != 0;
        BlockingProfile child = RandomProfile(rng);
        all.emplace_back(child, created);
        index.Add(std::move(child), created);
      }
      // As the applier at a window's end: what the window before wrote is forgotten.
      const size_t drop = all.size() - rows;
      index.DropFront(drop);
      all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(drop));
      ASSERT_EQ(index.size(), all.size());
    }
    // The data reach both ways and miss too, so the comparison means something.
    EXPECT_GT(created_reached, 0u) << "seed " << seed;
    EXPECT_GT(rewritten_reached, 0u) << "seed " << seed;
    EXPECT_LT(created_reached, tests) << "seed " << seed;
  }
}

TEST(WrittenSinceTest, AShieldedChildIsFoundWithoutASharedKey) {
  WrittenSince index;
  BlockingProfile child;
  child.given = {"NX"};
  child.family = {"TLR"};
  child.date_of_birth = Date{2015, 4, 12};
  child.shielded = true;
  index.Add(child, true);
  BlockingProfile record;
  record.given = {"ALFR"};
  record.family = {"SM0"};
  record.date_of_birth = Date{2015, 4, 21};  // day digits swapped: plausible
  EXPECT_TRUE(index.Test(record).created);
  record.date_of_birth = Date{2011, 9, 3};
  EXPECT_FALSE(index.Test(record).created);
  index.DropFront(1);
  record.date_of_birth = Date{2015, 4, 21};
  EXPECT_FALSE(index.Test(record).created);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace cp
