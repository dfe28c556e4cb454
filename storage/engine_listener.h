// RocksDB's background work counted and reported (ChildStore::Options::engine_events,
// ChildStore::EngineStats). Internal to storage.
//
// Thread safety: RocksDB calls it from its background threads; the counters may be read
// from any thread.
#pragma once

#include <rocksdb/listener.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "storage/child_store.h"

namespace cp {

class EngineListener : public rocksdb::EventListener {
 public:
  explicit EngineListener(std::function<void(const EngineEvent&)> report)
      : report_(std::move(report)) {}

  const char* Name() const override { return "cp.EngineListener"; }
  void OnFlushBegin(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override;
  void OnFlushCompleted(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override;
  void OnCompactionCompleted(rocksdb::DB* db, const rocksdb::CompactionJobInfo& info) override;
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override;

  std::atomic<uint64_t> flushes{0}, flush_micros{0};
  std::atomic<uint64_t> compactions{0}, compaction_micros{0};
  std::atomic<uint64_t> stalls_delayed{0}, stalls_stopped{0};

 private:
  void Report(const EngineEvent& e) const {
    if (report_) report_(e);
  }
  std::function<void(const EngineEvent&)> report_;
  std::mutex mu_;
  // When each running flush began, by RocksDB's job id: FlushJobInfo has no duration.
  std::unordered_map<int, std::chrono::steady_clock::time_point> flush_began_;
};

// RocksDB's reasons and conditions as the snake_case words EngineEvent carries.
const char* FlushReasonName(rocksdb::FlushReason r);
const char* CompactionReasonName(rocksdb::CompactionReason r);
const char* StallConditionName(rocksdb::WriteStallCondition c);

}  // namespace cp
