// The daemon's daily retention run: storage/retention.h's RunRetention, once a day, on its
// own thread, beside request serving.
//
// The date rule. The run's as-of date is the calendar date in Europe/London at the moment
// the run starts (the index serves England; a child's birthday is a London date). A run is
// due when the last recorded run (the database setting kLastRunSetting, "YYYY-MM-DD") is
// before today's London date and either
//   - the daemon has just started (a day missed while it was down is caught up at once), or
//   - the London time of day has reached the configured start (`[retention] at`, default
//     02:30: a quiet hour, and one that exists and happens once on both clock-change days —
//     the UK changes between 01:00 and 02:00 local time).
// So a child whose archive date is D stays readable by ordinary users until the run on D,
// at 02:30 London time on D at the latest while the daemon is up. A late run archives
// exactly what a timely one would have (the rules' dates, not the run's, are recorded).
//
// Each run writes a summary line to the log (counts only: never a name, a date of birth or
// an id) and appends one audit entry as a system action (action "retention", user
// "contactpointd", criteria holding the as-of date and the counts). The last-run date is
// recorded after the run, so a run cut short (shutdown, an error) is run again at the next
// start; runs are idempotent.
//
// Thread safety: Start and Stop are called from one thread (the daemon's main thread);
// RunIfDue is called by the job's thread, or by tests on a job that was not started.
// RetentionJob uses the store and the audit port from its own thread: both are
// thread-safe, and each change RunRetention makes takes the store's write lock for that
// child only, so searches and record views go on while it runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "server/handler.h"
#include "server/london_time.h"
#include "server/ports.h"
#include "storage/child_store.h"
#include "storage/retention.h"

namespace cp::server {

class RetentionJob {
 public:
  static constexpr const char* kLastRunSetting = "retention.last_run";
  static constexpr int64_t kCheckIntervalMs = 30'000;  // how often the thread looks at the clock

  struct Deps {
    ChildStore* store = nullptr;  // required; outlives the job
    AuditPort* audit = nullptr;   // required; outlives the job
    Clock clock = SystemNowMs;
  };
  // `at_minute`: the London time of day a daily run starts, in minutes after midnight.
  RetentionJob(int at_minute, Deps deps);
  ~RetentionJob();  // Stop()
  RetentionJob(const RetentionJob&) = delete;
  RetentionJob& operator=(const RetentionJob&) = delete;

  // Starts the thread: a start-up check at once, then one every kCheckIntervalMs.
  void Start();
  // Asks a run in progress to stop between children, and joins the thread. Idempotent.
  void Stop();

  enum class Outcome { kNotDue, kRan, kFailed };
  // One check: runs if due (see above). `at_start` marks the start-up check.
  Outcome RunIfDue(bool at_start);

 private:
  void Loop();

  const int at_minute_;
  Deps deps_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread thread_;
  Date failed_on_;  // a run as of this date failed: retried at the next start, not every check
};

}  // namespace cp::server
