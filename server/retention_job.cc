#include "server/retention_job.h"

#include <chrono>

#include "server/log.h"

namespace cp::server {
namespace {

// Counts only: what the log and the audit trail say of a run.
std::string Summary(const RetentionReport& r) {
  std::string out = "as_of=" + r.as_of.ToString();
  for (size_t i = 0; i < kArchiveRuleCount; ++i) {
    out += std::string(" archived_") + ArchiveRuleName(static_cast<ArchiveRule>(i)) + "=" +
           std::to_string(r.archived[i]);
  }
  out += " deleted=" + std::to_string(r.deleted) + " live=" + std::to_string(r.live) +
         " archived_readable=" + std::to_string(r.archived_readable) +
         " archived_kept=" + std::to_string(r.archived_kept);
  return out;
}

}  // namespace

RetentionJob::RetentionJob(int at_minute, Deps deps)
    : at_minute_(at_minute), deps_(std::move(deps)) {}

RetentionJob::~RetentionJob() { Stop(); }

void RetentionJob::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RetentionJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionJob::Loop() {
  bool at_start = true;
  while (!stop_.load()) {
    RunIfDue(at_start);
    at_start = false;
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(kCheckIntervalMs),
                   [this] { return stop_.load(); });
  }
}

RetentionJob::Outcome RetentionJob::RunIfDue(bool at_start) {
  const int64_t now_ms = deps_.clock();
  const Date today = LondonDate(now_ms / 1000);
  if (!at_start && (LondonMinuteOfDay(now_ms / 1000) < at_minute_ || failed_on_ == today)) {
    return Outcome::kNotDue;
  }
  auto last = deps_.store->GetSetting(kLastRunSetting);
  if (!last.ok() && !last.status().IsNotFound()) {
    LogError("retention: cannot read the last run's date: " + last.status().ToString());
    failed_on_ = today;
    return Outcome::kFailed;
  }
  if (last.ok()) {
    auto last_date = ParseDate(*last);
    if (last_date.ok() && !(*last_date < today)) return Outcome::kNotDue;
  }
  LogInfo("retention: run as of " + today.ToString() + " started");
  RetentionOptions options;
  options.stop = &stop_;
  auto report = RunRetention(deps_.store, today, options);
  AuditEvent e;
  e.unix_ms = deps_.clock();
  e.user = "contactpointd";
  e.action = "retention";
  e.reason = "daily retention run";
  if (!report.ok()) {
    // The message names a child id at most, never personal data.
    const bool stopped = stop_.load();
    LogError("retention: run as of " + today.ToString() +
             (stopped ? " stopped by shutdown; it runs again at the next start"
                      : " failed: " + report.status().ToString()));
    e.outcome = "internal";
    e.criteria = "as_of=" + today.ToString() + (stopped ? " stopped" : " failed");
    if (!deps_.audit->Append(e).ok()) LogError("retention: the audit trail is unavailable");
    failed_on_ = today;
    return Outcome::kFailed;
  }
  e.outcome = "ok";
  e.criteria = Summary(*report);
  const Status audited = deps_.audit->Append(e);
  if (!audited.ok()) LogError("retention: the audit trail is unavailable; the run is not audited");
  Status recorded = deps_.store->PutSetting(kLastRunSetting, today.ToString());
  if (!recorded.ok()) {
    LogError("retention: cannot record the run's date (it runs again): " + recorded.ToString());
  }
  LogInfo("retention: run " + Summary(*report));
  return Outcome::kRan;
}

}  // namespace cp::server
