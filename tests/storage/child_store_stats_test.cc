// ChildStore::GetEngineStats: RocksDB's figures for the daemon's metrics.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <vector>

#include "storage/child_store.h"
#include "storage/engine_listener.h"
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

// Flushes and compactions are counted, and reported to Options::engine_events with the
// column family, reason, duration and bytes.
TEST_F(EngineStatsTest, FlushesAndCompactionsAreCountedAndReported) {
  std::mutex mu;
  std::vector<EngineEvent> events;
  ChildStore::Options options = StoreOptions(/*create=*/true);
  options.engine_events = [&](const EngineEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
  };
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(*store);
  const ChildStore::EngineStats before = store_->GetEngineStats();
  EXPECT_EQ(before.flushes, 0u);
  EXPECT_EQ(before.compactions, 0u);
  InsertAndCompact();  // CompactAll flushes the memtables, then compacts every family
  const ChildStore::EngineStats after = store_->GetEngineStats();
  EXPECT_GE(after.flushes, 1u);
  EXPECT_GE(after.compactions, 1u);
  EXPECT_EQ(after.level0_files, 0u);  // all compacted out of level 0
  EXPECT_FALSE(after.write_stopped);
  EXPECT_EQ(after.stalls_delayed + after.stalls_stopped, 0u);

  std::lock_guard lock(mu);
  std::set<std::string> flushed;
  size_t flushes = 0, compactions = 0;
  for (const auto& e : events) {
    if (e.kind == EngineEvent::Kind::kFlush) {
      ++flushes;
      flushed.insert(e.family);
      EXPECT_GT(e.entries, 0u) << e.family;
      EXPECT_GT(e.bytes_written, 0u) << e.family;
      EXPECT_EQ(e.reason, "manual_compaction") << e.family;
    } else if (e.kind == EngineEvent::Kind::kCompaction) {
      ++compactions;
      EXPECT_EQ(e.reason, "manual") << e.family;
      EXPECT_GT(e.bytes_written, 0u) << e.family;
    }
  }
  EXPECT_EQ(flushes, after.flushes);
  EXPECT_EQ(compactions, after.compactions);
  // The child's record and its name postings were in memtables and were flushed.
  EXPECT_TRUE(flushed.count("children")) << flushed.size();
  EXPECT_TRUE(flushed.count("name_index")) << flushed.size();
}

// RocksDB's stall notifications are counted by condition and reported with the previous
// one (a stall cannot be provoked cheaply in a test: the listener is driven directly).
TEST(EngineListenerTest, StallsAreCountedByConditionAndReported) {
  std::vector<EngineEvent> events;
  EngineListener listener([&](const EngineEvent& e) { events.push_back(e); });
  rocksdb::WriteStallInfo info;
  info.cf_name = "name_index";
  info.condition.prev = rocksdb::WriteStallCondition::kNormal;
  info.condition.cur = rocksdb::WriteStallCondition::kDelayed;
  listener.OnStallConditionsChanged(info);
  info.condition.prev = rocksdb::WriteStallCondition::kDelayed;
  info.condition.cur = rocksdb::WriteStallCondition::kStopped;
  listener.OnStallConditionsChanged(info);
  info.condition.prev = rocksdb::WriteStallCondition::kStopped;
  info.condition.cur = rocksdb::WriteStallCondition::kNormal;
  listener.OnStallConditionsChanged(info);
  EXPECT_EQ(listener.stalls_delayed.load(), 1u);
  EXPECT_EQ(listener.stalls_stopped.load(), 1u);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].kind, EngineEvent::Kind::kStall);
  EXPECT_EQ(events[1].family, "name_index");
  EXPECT_EQ(events[1].condition, "stopped");
  EXPECT_EQ(events[1].previous, "delayed");
  EXPECT_EQ(events[2].condition, "normal");
  // Without a callback it still counts.
  EngineListener quiet(nullptr);
  quiet.OnStallConditionsChanged(info);
  EXPECT_EQ(quiet.stalls_delayed.load() + quiet.stalls_stopped.load(), 0u);
}

}  // namespace
}  // namespace cp
