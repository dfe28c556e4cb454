// The database of a daemon or job test: DIR/db with its key file DIR/db.key, as a
// contactpointd.toml written by these tests names them, under the default name index;
// the clock times the job tests schedule against, and the audit trail they write to.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "index/index_policy.h"
#include "server/ports.h"
#include "storage/child_store.h"
#include "util/date.h"

namespace cp::server::testing {

// Creates (create = true) or opens the store; null, with a test failure, when it cannot.
inline std::unique_ptr<ChildStore> OpenTestStore(const std::string& dir, bool create) {
  ChildStore::Options options;
  options.db_dir = dir + "/db";
  options.key_file = dir + "/db.key";
  options.create = create;
  options.policy = &NameIndexPolicy::Instance();
  auto store = ChildStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// Unix seconds of a UTC wall-clock time.
inline int64_t Utc(const char* date, int hour, int minute) {
  return int64_t{ParseDate(date)->ToDays()} * 86400 + hour * 3600 + minute * 60;
}

// An audit trail in memory; with fail_ set, every append fails as a full disk would.
class MemoryAudit : public AuditPort {
 public:
  Status Append(const AuditEvent& e) override {
    std::lock_guard lock(mu_);
    if (fail_) return Status::IOError("audit disk full");
    events_.push_back(e);
    return Status::OK();
  }
  std::vector<AuditEvent> events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  bool fail_ = false;

 private:
  std::mutex mu_;
  std::vector<AuditEvent> events_;
};

}  // namespace cp::server::testing
