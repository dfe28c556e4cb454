// ChildStore::GetEngineStats: RocksDB's figures for the daemon's metrics.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "storage/child_store_internal.h"

namespace cp {

ChildStore::EngineStats ChildStore::GetEngineStats() const {
  EngineStats out;
  if (h_->statistics) {
    out.statistics = true;
    out.block_cache_hits = h_->statistics->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    out.block_cache_misses = h_->statistics->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    out.keys_written = h_->statistics->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN);
    out.stall_micros = h_->statistics->getTickerCount(rocksdb::STALL_MICROS);
  }
  if (h_->cache) {
    out.block_cache_usage_bytes = h_->cache->GetUsage();
    out.block_cache_capacity_bytes = h_->cache->GetCapacity();
  }
  uint64_t pending = 0;
  if (h_->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimatePendingCompactionBytes,
                                       &pending)) {
    out.pending_compaction_bytes = pending;
  }
  if (h_->listener) {
    const auto& l = *h_->listener;
    out.flushes = l.flushes.load(std::memory_order_relaxed);
    out.flush_micros = l.flush_micros.load(std::memory_order_relaxed);
    out.compactions = l.compactions.load(std::memory_order_relaxed);
    out.compaction_micros = l.compaction_micros.load(std::memory_order_relaxed);
    out.stalls_delayed = l.stalls_delayed.load(std::memory_order_relaxed);
    out.stalls_stopped = l.stalls_stopped.load(std::memory_order_relaxed);
  }
  for (auto* cf : h_->all) {
    std::string files;
    if (h_->db->GetProperty(cf, rocksdb::DB::Properties::kNumFilesAtLevelPrefix + "0", &files)) {
      out.level0_files =
          std::max<uint64_t>(out.level0_files, std::strtoull(files.c_str(), nullptr, 10));
    }
  }
  uint64_t stopped = 0;
  if (h_->db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped)) {
    out.write_stopped = stopped != 0;
  }
  return out;
}

}  // namespace cp
