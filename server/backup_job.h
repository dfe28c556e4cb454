// Backups taken by the daemon: the process that holds the database is the only one that
// can back it up while it serves (the CLI's `contactpoint backup create` needs the RocksDB
// lock). docs/operations.md, "Backups".
//
// A backup runs on the job's own thread, beside request serving (ChildStore::CreateBackup
// is safe alongside reads and writes), when
//   - it is requested (SIGUSR1 to the daemon: RequestNow), or
//   - a daily time is configured (`[backup] at`, Europe/London, as server/retention_job.h),
//     that time of day has been reached, and the last daily backup (the database setting
//     kLastRunSetting, "YYYY-MM-DD") is before today's London date. A day missed while the
//     daemon was down is caught up at the first check after it starts, if that day's time
//     has passed.
// After each backup the newest `keep` are kept (older ones purged) and, with `verify`, the
// new one is read back and checked against its recorded checksums. Each attempt writes one
// log line (the backup id, its files and bytes, never personal data) and appends one audit
// entry as a system action (action "backup", user "contactpointd"). A failed daily backup
// is retried at the next start, not every check; a request is always attempted.
//
// Thread safety: Start, Stop and RequestNow may be called from any thread (RequestNow from
// a signal handler's thread too); RunIfDue is called by the job's thread, or by tests on a
// job that was not started; the counters may be read from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "server/handler.h"
#include "server/ports.h"
#include "storage/child_store.h"

namespace cp::server {

class BackupJob {
 public:
  static constexpr const char* kLastRunSetting = "backup.last_daily";
  static constexpr int64_t kCheckIntervalMs = 30'000;

  struct Options {
    std::string dir;       // required
    int at_minute = -1;    // London time of day of the daily backup; -1: on request only
    uint32_t keep = 7;     // >= 1
    bool verify = true;
  };
  struct Deps {
    ChildStore* store = nullptr;  // required; outlives the job
    AuditPort* audit = nullptr;   // required; outlives the job
    std::string key_file;         // the database's key file, for verifying
    Clock clock = SystemNowMs;
  };
  BackupJob(Options options, Deps deps);
  ~BackupJob();  // Stop()
  BackupJob(const BackupJob&) = delete;
  BackupJob& operator=(const BackupJob&) = delete;

  void Start();
  // Waits for a backup in progress to finish (RocksDB's copy is not interruptible), then
  // joins the thread. Idempotent.
  void Stop();
  // A backup as soon as the thread wakes (at once when idle).
  void RequestNow();

  enum class Outcome { kNotDue, kRan, kFailed };
  // One check: a backup if requested or due (above).
  Outcome RunIfDue(bool requested);

  // For metrics: backups made and failed since start, and when the last one succeeded
  // (Unix seconds, 0: none yet).
  uint64_t succeeded() const { return succeeded_.load(); }
  uint64_t failed() const { return failed_.load(); }
  int64_t last_success_unix_s() const { return last_success_s_.load(); }

 private:
  void Loop();
  bool Daily(int64_t now_ms, Date* today) const;

  const Options options_;
  Deps deps_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;       // guarded by mu_
  bool requested_ = false;  // guarded by mu_
  std::thread thread_;
  Date failed_on_;  // a daily backup of this date failed: retried at the next start
  std::atomic<uint64_t> succeeded_{0}, failed_{0};
  std::atomic<int64_t> last_success_s_{0};
};

}  // namespace cp::server
