// Durable audit appends per second: group commit against one sync per append, with 1, 4
// and 16 appending threads (a server answering many sessions at once).
//
//   build/release/bench/audit_bench [--benchmark_min_time=2]
//
// Each benchmark gets a fresh database in $TMPDIR (default /tmp); items_per_second is the
// appends per second of all threads together. The figure is bounded by how fast the disk
// syncs: run it on the disk the database will live on.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "index/index_policy.h"
#include "storage/audit_log.h"
#include "storage/child_store.h"

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<cp::ChildStore> store;
  std::unique_ptr<cp::AuditLog> log;
};
Fixture* fixture = nullptr;

bool SetUp(bool group_commit, std::string* error) {
  std::string pattern = (std::filesystem::temp_directory_path() / "cp-audit-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    *error = "mkdtemp failed";
    return false;
  }
  fixture = new Fixture;
  fixture->dir = pattern;
  cp::ChildStore::Options o;
  o.db_dir = pattern + "/db";
  o.key_file = pattern + "/db.key";
  o.create = true;
  o.policy = &cp::NameIndexPolicy::Instance();
  auto store = cp::ChildStore::Open(o);
  if (!store.ok()) {
    *error = store.status().ToString();
    return false;
  }
  fixture->store = std::move(*store);
  auto log =
      cp::AuditLog::Open(fixture->store.get(), cp::AuditLog::Options{.group_commit = group_commit});
  if (!log.ok()) {
    *error = log.status().ToString();
    return false;
  }
  fixture->log = std::move(*log);
  return true;
}

void TearDown() {
  if (fixture == nullptr) return;
  fixture->log.reset();
  fixture->store.reset();
  std::error_code ec;
  std::filesystem::remove_all(fixture->dir, ec);
  delete fixture;
  fixture = nullptr;
}

// A typical search entry: three children returned, a reason and criteria to seal.
cp::AuditEntry TypicalSearch(int thread) {
  cp::AuditEntry e;
  e.user = "user" + std::to_string(thread);
  e.organisation = "la_leeds";
  e.source_address = "192.0.2.10";
  e.action = cp::AuditAction::kSearch;
  e.children = {101, 2002, 30003};
  e.reason = "section 47 enquiry, strategy meeting today";
  e.criteria = "given=Olivia family=Smith dob=2016-03-02 postcode=LS6 9QT";
  return e;
}

void BM_Append(benchmark::State& state, bool group_commit) {
  std::string error;
  // Thread 0 builds the fixture before the loop; every thread waits at the loop's start
  // barrier, so the others see it ready.
  if (state.thread_index() == 0 && !SetUp(group_commit, &error)) {
    state.SkipWithError(error.c_str());
  }
  const cp::AuditEntry entry = TypicalSearch(state.thread_index());
  for (auto _ : state) {
    if (fixture == nullptr || !fixture->log) break;
    auto seq = fixture->log->Append(entry);
    if (!seq.ok()) {
      state.SkipWithError(seq.status().ToString().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) TearDown();
}

BENCHMARK_CAPTURE(BM_Append, group_commit, true)
    ->Threads(1)
    ->Threads(4)
    ->Threads(16)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, sync_each, false)->Threads(1)->Threads(4)->Threads(16)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
