#include "storage/engine_listener.h"

namespace cp {

const char* FlushReasonName(rocksdb::FlushReason r) {
  using R = rocksdb::FlushReason;
  switch (r) {
    case R::kGetLiveFiles:
      return "get_live_files";
    case R::kShutDown:
      return "shutdown";
    case R::kExternalFileIngestion:
      return "file_ingestion";
    case R::kManualCompaction:
      return "manual_compaction";
    case R::kWriteBufferManager:
      return "write_buffer_manager";
    case R::kWriteBufferFull:
      return "write_buffer_full";
    case R::kDeleteFiles:
      return "delete_files";
    case R::kAutoCompaction:
      return "auto_compaction";
    case R::kManualFlush:
      return "manual_flush";
    case R::kErrorRecovery:
    case R::kErrorRecoveryRetryFlush:
      return "error_recovery";
    case R::kWalFull:
      return "wal_full";
    default:
      return "other";
  }
}

const char* CompactionReasonName(rocksdb::CompactionReason r) {
  using R = rocksdb::CompactionReason;
  switch (r) {
    case R::kLevelL0FilesNum:
      return "level0_files";
    case R::kLevelMaxLevelSize:
      return "level_size";
    case R::kManualCompaction:
      return "manual";
    case R::kFilesMarkedForCompaction:
      return "files_marked";
    case R::kBottommostFiles:
      return "bottommost_files";
    case R::kTtl:
      return "ttl";
    case R::kFlush:
      return "flush";
    case R::kExternalSstIngestion:
      return "file_ingestion";
    case R::kPeriodicCompaction:
      return "periodic";
    default:
      return "other";
  }
}

const char* StallConditionName(rocksdb::WriteStallCondition c) {
  switch (c) {
    case rocksdb::WriteStallCondition::kDelayed:
      return "delayed";
    case rocksdb::WriteStallCondition::kStopped:
      return "stopped";
    default:
      return "normal";
  }
}

void EngineListener::OnFlushBegin(rocksdb::DB*, const rocksdb::FlushJobInfo& info) {
  std::lock_guard lock(mu_);
  flush_began_[info.job_id] = std::chrono::steady_clock::now();
}

void EngineListener::OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo& info) {
  uint64_t micros = 0;
  {
    std::lock_guard lock(mu_);
    auto it = flush_began_.find(info.job_id);
    if (it != flush_began_.end()) {
      micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - it->second)
                                         .count());
      flush_began_.erase(it);
    }
  }
  flushes.fetch_add(1, std::memory_order_relaxed);
  flush_micros.fetch_add(micros, std::memory_order_relaxed);
  EngineEvent e;
  e.kind = EngineEvent::Kind::kFlush;
  e.family = info.cf_name;
  e.reason = FlushReasonName(info.flush_reason);
  e.micros = micros;
  const auto& t = info.table_properties;
  e.bytes_written = t.data_size + t.index_size + t.filter_size;
  e.entries = t.num_entries;
  Report(e);
}

void EngineListener::OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo& info) {
  compactions.fetch_add(1, std::memory_order_relaxed);
  compaction_micros.fetch_add(info.stats.elapsed_micros, std::memory_order_relaxed);
  EngineEvent e;
  e.kind = EngineEvent::Kind::kCompaction;
  e.family = info.cf_name;
  e.reason = CompactionReasonName(info.compaction_reason);
  e.micros = info.stats.elapsed_micros;
  e.bytes_written = info.stats.total_output_bytes;
  e.output_level = info.output_level;
  Report(e);
}

void EngineListener::OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) {
  if (info.condition.cur == rocksdb::WriteStallCondition::kDelayed) {
    stalls_delayed.fetch_add(1, std::memory_order_relaxed);
  } else if (info.condition.cur == rocksdb::WriteStallCondition::kStopped) {
    stalls_stopped.fetch_add(1, std::memory_order_relaxed);
  }
  EngineEvent e;
  e.kind = EngineEvent::Kind::kStall;
  e.family = info.cf_name;
  e.condition = StallConditionName(info.condition.cur);
  e.previous = StallConditionName(info.condition.prev);
  Report(e);
}

}  // namespace cp
