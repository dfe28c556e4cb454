#include "storage/retention.h"

#include <algorithm>

#include "storage/child_store.h"

namespace cp {

const char* ArchiveRuleName(ArchiveRule rule) {
  switch (rule) {
    case ArchiveRule::kAge18:
      return "age_18";
    case ArchiveRule::kAge25WithConsent:
      return "age_25_consent";
    case ArchiveRule::kDeath:
      return "death";
  }
  return "unknown";
}

// 29 February's anniversary in a common year is 1 March (AgeInYears counts it so).
Date DayAfterAnniversary(const Date& from, int years) {
  Date anniversary{static_cast<int16_t>(from.year + years), from.month, from.day};
  if (!IsValidDate(anniversary.year, anniversary.month, anniversary.day)) {
    anniversary = Date{anniversary.year, 3, 1};
  }
  return Date::FromDays(anniversary.ToDays() + 1);
}

std::optional<ArchiveDue> ArchiveDueFor(const ChildRecord& r) {
  std::optional<ArchiveDue> due;
  if (!r.date_of_birth.empty()) {
    const bool consent = r.lifecycle.consent_to_25;
    due = ArchiveDue{DayAfterAnniversary(r.date_of_birth, consent ? 25 : 18),
                     consent ? ArchiveRule::kAge25WithConsent : ArchiveRule::kAge18};
  }
  if (!r.date_of_death.empty()) {
    Date after_death = DayAfterAnniversary(r.date_of_death, 1);
    if (!due || after_death < due->on) due = ArchiveDue{after_death, ArchiveRule::kDeath};
  }
  return due;
}

Date LastDayReadableByDataManager(const Date& archived_on) {
  return Date::FromDays(DayAfterAnniversary(archived_on, 1).ToDays() - 1);
}

Date DeletionDueFor(const Date& archived_on) { return DayAfterAnniversary(archived_on, 6); }

bool Clearance::SeesArchived(const Date& archived_on) const {
  if (level_ == Level::kMatching) return true;
  if (level_ != Level::kDataManager || as_of_.empty()) return false;
  return as_of_ <= LastDayReadableByDataManager(archived_on);
}

Result<RetentionReport> RunRetention(ChildStore* store, const Date& as_of,
                                     const RetentionOptions& options) {
  if (as_of.empty()) return Status::InvalidArgument("retention needs the date it runs as of");
  RetentionReport report;
  report.as_of = as_of;
  report.dry_run = options.dry_run;
  std::vector<std::pair<ChildId, ArchiveDue>> to_archive;
  std::vector<ChildId> to_delete;
  // Decide from one snapshot, then write: a write inside the scan would run under the
  // scan's callback.
  const Clearance engine =
      Clearance::Elevated(Clearance::Level::kMatching, "retention", "lifecycle");
  auto stopping = [&options] { return options.stop != nullptr && options.stop->load(); };
  const Status stopped =
      Status::FailedPrecondition("the retention run was stopped before it finished");
  Status s = store->ForEachChild(engine, [&](const ChildView& v) {
    if (stopping()) return false;
    const ChildRecord& r = v.record;
    if (r.lifecycle.archived()) {
      const Date& on = r.lifecycle.archived_on;
      if (DeletionDueFor(on) <= as_of) {
        to_delete.push_back(r.id);
      } else if (as_of <= LastDayReadableByDataManager(on)) {
        ++report.archived_readable;
      } else {
        ++report.archived_kept;
      }
      return true;
    }
    auto due = ArchiveDueFor(r);
    if (!due) {
      ++report.live;
      ++report.no_rule;
    } else if (due->on > as_of) {
      ++report.live;
    } else if (DeletionDueFor(due->on) <= as_of) {
      to_delete.push_back(r.id);  // archived and deleted by now, had the job run daily
    } else {
      to_archive.emplace_back(r.id, *due);
    }
    return true;
  });
  if (!s.ok()) return s;
  if (stopping()) return stopped;

  for (const auto& [id, due] : to_archive) {
    if (stopping()) return stopped;
    if (!options.dry_run) {
      s = store->ArchiveChild(id, due.on);
      if (s.code() == Status::Code::kFailedPrecondition) {  // a feed changed its dates meanwhile
        ++report.live;
        continue;
      }
      if (!s.ok()) return s;
    }
    const auto rule = static_cast<size_t>(due.rule);
    ++report.archived[rule];
    if (options.dry_run) report.archive_ids[rule].push_back(id);
    if (as_of <= LastDayReadableByDataManager(due.on)) {
      ++report.archived_readable;
    } else {
      ++report.archived_kept;
    }
  }
  if (options.dry_run) {
    report.delete_ids = to_delete;
    report.deleted = to_delete.size();
    return report;
  }
  if (stopping()) return stopped;
  if (!to_delete.empty()) {
    s = store->DeleteChildren(to_delete, &report.deleted);
    if (s.ok() && options.compact) s = store->CompactAll();
    if (!s.ok()) return s;
  }
  return report;
}

}  // namespace cp
