// The audit report (storage/audit_report.h).
#include "storage/audit_report.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "storage/accounts.h"
#include "storage/child_store.h"
#include "storage/roles.h"

namespace cp {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

int64_t DayOf(int64_t micros) { return micros / kMicrosPerDay; }

bool CountsAsVolume(AuditAction action) {
  return action == AuditAction::kSearch || action == AuditAction::kView ||
         action == AuditAction::kBreakGlass;
}

double Median(std::vector<uint64_t> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? static_cast<double>(values[n / 2])
                    : (static_cast<double>(values[n / 2 - 1]) + static_cast<double>(values[n / 2])) / 2;
}

// Per user: volume per day.
using Volumes = std::unordered_map<std::string, std::map<int64_t, uint64_t>>;

std::string RoleName(Accounts* accounts, const std::string& user) {
  if (accounts == nullptr || user.empty()) return "unknown";
  auto account = accounts->GetUser(user);
  if (!account.ok()) return "unknown";
  return std::string(PolicyFor(account->role).name);
}

std::vector<AuditReport::Outlier> FindOutliers(const Volumes& volumes,
                                               const std::map<std::string, std::string>& roles,
                                               const AuditReportOptions& o) {
  std::vector<AuditReport::Outlier> out;
  for (int64_t day = o.from_day; day <= o.to_day; ++day) {
    // The role's active user-days over the baseline window, gathered once per day.
    std::map<std::string, std::vector<uint64_t>> role_days;
    for (const auto& [user, days] : volumes) {
      auto& bucket = role_days[roles.at(user)];
      for (auto it = days.lower_bound(day - o.baseline_days); it != days.end() && it->first < day;
           ++it) {
        bucket.push_back(it->second);
      }
    }
    std::vector<std::string> users;
    for (const auto& [user, days] : volumes) users.push_back(user);
    std::sort(users.begin(), users.end());
    for (const auto& user : users) {
      const auto& days = volumes.at(user);
      auto today = days.find(day);
      if (today == days.end() || today->second < o.min_volume) continue;
      std::vector<uint64_t> own(static_cast<size_t>(o.baseline_days), 0);
      for (auto it = days.lower_bound(day - o.baseline_days); it != days.end() && it->first < day;
           ++it) {
        own[static_cast<size_t>(it->first - (day - o.baseline_days))] = it->second;
      }
      const std::string& role = roles.at(user);
      const double own_median = Median(own);
      const double role_median = Median(role_days[role]);
      const double volume = static_cast<double>(today->second);
      if (volume > o.factor * std::max(own_median, 1.0) &&
          volume > o.factor * std::max(role_median, 1.0)) {
        out.push_back({user, role, day, today->second, own_median, role_median});
      }
    }
  }
  return out;
}

}  // namespace

Result<AuditReport> BuildAuditReport(ChildStore* store, const AuditReportOptions& o) {
  if (o.from_day > o.to_day) return Status::InvalidArgument("the first day is after the last");
  if (o.from_day < 0) return Status::InvalidArgument("days before 1970 have no audit entries");
  if (o.baseline_days < 1 || o.baseline_days > 366) {
    return Status::InvalidArgument("the baseline is 1 to 366 days");
  }
  if (!(o.factor >= 1.0)) return Status::InvalidArgument("the volume factor is at least 1");

  AuditReport report;
  std::map<AuditRefusal, AuditReport::RefusalGroup> refusals;
  Volumes volumes;
  // Shield state as the trail records it, replayed in sequence order.
  std::unordered_map<ChildId, bool> shield_in_trail;
  struct Candidate {
    AuditEntry entry;
    std::vector<std::pair<ChildId, int>> children;  // child, shield by trail (-1: unknown)
  };
  std::vector<Candidate> candidates;
  const int64_t first_micros = o.from_day * kMicrosPerDay;
  const int64_t last_micros = (o.to_day + 1) * kMicrosPerDay - 1;
  const int64_t baseline_micros = std::max<int64_t>(0, o.from_day - o.baseline_days) * kMicrosPerDay;

  Status s = AuditReader(store).ForEach(AuditTimeRange{0, last_micros}, [&](const AuditEntry& e) {
    if (e.outcome == AuditOutcome::kOk &&
        (e.action == AuditAction::kShield || e.action == AuditAction::kUnshield)) {
      for (ChildId c : e.children) shield_in_trail[c] = e.action == AuditAction::kShield;
    }
    if (e.time_micros >= baseline_micros && CountsAsVolume(e.action)) {
      ++volumes[e.user][DayOf(e.time_micros)];
    }
    if (e.time_micros < first_micros) return true;
    ++report.entries;
    if (e.action == AuditAction::kBreakGlass) report.break_glass.push_back(e);
    if (e.outcome == AuditOutcome::kRefused) {
      auto& group = refusals[e.refusal];
      group.reason = e.refusal;
      ++group.count;
      ++group.by_user[e.user];
    }
    if (e.outcome == AuditOutcome::kOk && !e.children.empty() &&
        (e.action == AuditAction::kView || e.action == AuditAction::kBreakGlass)) {
      Candidate c{e, {}};
      for (ChildId id : e.children) {
        auto known = shield_in_trail.find(id);
        c.children.emplace_back(id, known == shield_in_trail.end() ? -1 : known->second ? 1 : 0);
      }
      candidates.push_back(std::move(c));
    }
    return true;
  });
  if (!s.ok()) return s;

  // Children the trail says nothing about: their shield state now.
  std::unordered_map<ChildId, bool> shielded_now;
  for (const auto& c : candidates) {
    for (const auto& [id, by_trail] : c.children) {
      if (by_trail >= 0 || shielded_now.count(id)) continue;
      bool shielded = false;
      auto resolved = store->Resolve(id);
      if (resolved.ok()) {
        auto record = store->GetRecord(*resolved);
        if (!record.ok() && !record.status().IsNotFound()) return record.status();
        shielded = record.ok() && record->shield.shielded;
      } else if (!resolved.status().IsNotFound()) {
        return resolved.status();
      }
      shielded_now[id] = shielded;
    }
  }
  for (auto& c : candidates) {
    AuditReport::ShieldedView view;
    for (const auto& [id, by_trail] : c.children) {
      if (by_trail == 1 || (by_trail < 0 && shielded_now[id])) view.shielded.push_back(id);
    }
    if (view.shielded.empty()) continue;
    view.entry = std::move(c.entry);
    report.shielded_views.push_back(std::move(view));
  }
  for (auto& [reason, group] : refusals) report.refusals.push_back(std::move(group));

  // Roles as the accounts say now.
  auto accounts = Accounts::Open(store);
  if (!accounts.ok()) return accounts.status();
  std::map<std::string, std::string> roles;
  for (const auto& [user, days] : volumes) roles[user] = RoleName(accounts->get(), user);
  report.outliers = FindOutliers(volumes, roles, o);
  return report;
}

}  // namespace cp
