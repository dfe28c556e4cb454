// ChildStore::GetEngineStats: RocksDB's figures for the daemon's metrics.
#include <gtest/gtest.h>

#include <vector>

#include "storage/child_store.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using testing_util::MakeChild;
using testing_util::TempDirTest;

class EngineStatsTest : public TempDirTest {
 protected:
  // One child, in an SST file (reads from the memtable never touch the block cache).
  ChildId InsertAndCompact() {
    std::vector<NewChild> batch;
    batch.push_back(MakeChild("Alice", "Smith", Date{2015, 3, 2}, "alice"));
    auto ids = store_->InsertChildren(batch);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    EXPECT_TRUE(store_->CompactAll().ok());
    return ids.ok() ? ids->front() : 0;
  }
};

TEST_F(EngineStatsTest, StatisticsCountBlockCacheHitsAndMisses) {
  CreateStore();
  const ChildId id = InsertAndCompact();
  store_.reset();
  ChildStore::Options options = StoreOptions(/*create=*/false);
  options.statistics = true;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(*store);
  const ChildStore::EngineStats before = store_->GetEngineStats();
  EXPECT_TRUE(before.statistics);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->GetRecord(id).ok());
  const ChildStore::EngineStats after = store_->GetEngineStats();
  // The first read misses (the data block is not cached yet), the later ones hit.
  EXPECT_GT(after.block_cache_misses, before.block_cache_misses);
  EXPECT_GE(after.block_cache_hits, before.block_cache_hits + 4);
  EXPECT_EQ(after.block_cache_capacity_bytes, options.block_cache_bytes);
  EXPECT_GT(after.block_cache_usage_bytes, 0u);
}

TEST_F(EngineStatsTest, WithoutStatisticsOnlyPropertiesAreReported) {
  CreateStore();
  const ChildId id = InsertAndCompact();
  ASSERT_TRUE(store_->GetRecord(id).ok());
  const ChildStore::EngineStats s = store_->GetEngineStats();
  EXPECT_FALSE(s.statistics);
  EXPECT_EQ(s.block_cache_hits, 0u);
  EXPECT_EQ(s.block_cache_misses, 0u);
  EXPECT_EQ(s.block_cache_capacity_bytes, StoreOptions(false).block_cache_bytes);
  // Everything is compacted: nothing is pending.
  EXPECT_EQ(s.pending_compaction_bytes, 0u);
}

}  // namespace
}  // namespace cp
