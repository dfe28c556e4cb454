#include "server/backup_job.h"

#include <chrono>

#include "server/london_time.h"
#include "server/log.h"
#include "storage/backup.h"

namespace cp::server {

BackupJob::BackupJob(Options options, Deps deps)
    : options_(std::move(options)), deps_(std::move(deps)) {}

BackupJob::~BackupJob() { Stop(); }

void BackupJob::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void BackupJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackupJob::RequestNow() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  wake_.notify_all();
}

void BackupJob::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    const bool requested = requested_;
    requested_ = false;
    lock.unlock();
    RunIfDue(requested);
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(kCheckIntervalMs),
                   [this] { return stop_ || requested_; });
  }
}

bool BackupJob::Daily(int64_t now_ms, Date* today) const {
  *today = LondonDate(now_ms / 1000);
  if (options_.at_minute < 0 || LondonMinuteOfDay(now_ms / 1000) < options_.at_minute) return false;
  if (failed_on_ == *today) return false;
  auto last = deps_.store->GetSetting(kLastRunSetting);
  if (last.ok()) {
    auto last_date = ParseDate(*last);
    if (last_date.ok() && !(*last_date < *today)) return false;
  }
  // Unreadable: better a backup too many than none.
  return true;
}

BackupJob::Outcome BackupJob::RunIfDue(bool requested) {
  Date today;
  const bool daily = Daily(deps_.clock(), &today);
  if (!requested && !daily) return Outcome::kNotDue;
  const char* why = requested ? "requested" : "daily";
  LogInfo(std::string("backup: ") + why + " backup to " + options_.dir + " started",
          {{"event", "backup_started"}});
  const auto started = std::chrono::steady_clock::now();
  auto id = deps_.store->CreateBackup(options_.dir, options_.keep);
  Status verified = Status::OK();
  if (id.ok() && options_.verify) verified = VerifyBackup(options_.dir, deps_.key_file, *id);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  AuditEvent e;
  e.unix_ms = deps_.clock();
  e.user = "contactpointd";
  e.action = "backup";
  e.reason = std::string(why) + " backup";
  const Status outcome = !id.ok() ? id.status() : verified;
  if (!outcome.ok()) {
    failed_.fetch_add(1);
    if (daily) failed_on_ = today;
    // The message names files and directories, never personal data.
    LogError("backup: " + std::string(why) + " backup to " + options_.dir +
                 " failed: " + outcome.ToString(),
             {{"event", "backup_failed"}});
    e.outcome = "internal";
    e.criteria = "dir=" + options_.dir + (id.ok() ? " id=" + std::to_string(*id) + " verify failed" : " failed");
    if (!deps_.audit->Append(e).ok()) LogError("backup: the audit trail is unavailable");
    return Outcome::kFailed;
  }
  succeeded_.fetch_add(1);
  last_success_s_.store(e.unix_ms / 1000);
  e.outcome = "ok";
  e.criteria = "dir=" + options_.dir + " id=" + std::to_string(*id) +
               (options_.verify ? " verified" : "") + " keep=" + std::to_string(options_.keep);
  if (!deps_.audit->Append(e).ok()) {
    LogError("backup: the audit trail is unavailable; the backup is not audited");
  }
  if (daily) {
    Status recorded = deps_.store->PutSetting(kLastRunSetting, today.ToString());
    if (!recorded.ok()) {
      LogError("backup: cannot record the daily backup's date (it runs again): " + recorded.ToString());
    }
  }
  LogInfo("backup: " + std::string(why) + " backup " + std::to_string(*id) + " made in " +
              std::to_string(static_cast<int64_t>(seconds * 1000)) + " ms" +
              (options_.verify ? " and verified" : ""),
          {{"event", "backup_done"}, {"id", static_cast<uint64_t>(*id)}, {"seconds", seconds}});
  return Outcome::kRan;
}

}  // namespace cp::server
