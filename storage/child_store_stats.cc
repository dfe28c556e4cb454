// ChildStore::GetEngineStats: RocksDB's figures for the daemon's metrics.
#include "storage/child_store_internal.h"

namespace cp {

ChildStore::EngineStats ChildStore::GetEngineStats() const {
  EngineStats out;
  if (h_->statistics) {
    out.statistics = true;
    out.block_cache_hits = h_->statistics->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
    out.block_cache_misses = h_->statistics->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
    out.keys_written = h_->statistics->getTickerCount(rocksdb::NUMBER_KEYS_WRITTEN);
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
  return out;
}

}  // namespace cp
