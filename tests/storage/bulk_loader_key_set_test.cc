// Tests for storage/bulk_loader_key_set.h.
#include "storage/bulk_loader_key_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace cp {
namespace {

TEST(KeyFingerprintSetTest, EmptyContainsNothing) {
  KeyFingerprintSet set;
  EXPECT_FALSE(set.Contains(0));
  EXPECT_FALSE(set.Contains(42));
  EXPECT_EQ(set.size(), 0u);
}

TEST(KeyFingerprintSetTest, InsertReportsWhetherNewAndContainsEveryInsertedValue) {
  KeyFingerprintSet set;
  EXPECT_TRUE(set.Insert(7));
  EXPECT_FALSE(set.Insert(7));
  EXPECT_TRUE(set.Contains(7));
  EXPECT_FALSE(set.Contains(8));
  EXPECT_EQ(set.size(), 1u);
}

// 0 marks an empty slot inside the table: a fingerprint of 0 must still be found.
TEST(KeyFingerprintSetTest, ZeroIsAValueLikeAnyOther) {
  KeyFingerprintSet set;
  EXPECT_FALSE(set.Contains(0));
  EXPECT_TRUE(set.Insert(0));
  EXPECT_TRUE(set.Contains(0));
  EXPECT_FALSE(set.Insert(0));
}

// Growing rehashes every value; values that share their low bits probe past each other.
TEST(KeyFingerprintSetTest, KeepsEveryValueAcrossGrowthAndCollidingSlots) {
  KeyFingerprintSet set;
  std::mt19937_64 rng(1);
  std::set<uint64_t> inserted;
  for (int i = 0; i < 100000; ++i) {
    // A third share the same low 20 bits: long probe runs.
    uint64_t v = rng();
    if (i % 3 == 0) v = (v << 20) | 0x5a5a5;
    EXPECT_EQ(set.Insert(v), inserted.insert(v).second);
  }
  EXPECT_EQ(set.size(), inserted.size());
  EXPECT_LE(set.size() * 4, set.capacity() * 3) << "at most 3/4 full";
  for (uint64_t v : inserted) ASSERT_TRUE(set.Contains(v)) << v;
  size_t false_hits = 0;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng();
    if (!inserted.count(v) && set.Contains(v)) ++false_hits;
  }
  EXPECT_EQ(false_hits, 0u) << "only equal values are found";
}

TEST(KeyFingerprintSetTest, FingerprintDependsOnEveryByteOfTheKey) {
  const std::string a("\x06" "birthsgen-1", 12);
  const std::string b("\x06" "birthsgen-2", 12);
  const std::string c("\x07" "birthsgen-1", 12);
  EXPECT_EQ(KeyFingerprintSet::Fingerprint(a), KeyFingerprintSet::Fingerprint(a));
  EXPECT_NE(KeyFingerprintSet::Fingerprint(a), KeyFingerprintSet::Fingerprint(b));
  EXPECT_NE(KeyFingerprintSet::Fingerprint(a), KeyFingerprintSet::Fingerprint(c));
}

}  // namespace
}  // namespace cp
