// Record lifecycle: when a child's record is archived, who may still read it, and when it
// is deleted for good (docs/operations.md, "Record lifecycle").
//
// One reading of "N years after a date" throughout: the state holds through the Nth
// anniversary and changes on the day after it. An anniversary of 29 February in a common
// year is 1 March, as util/date.h's AgeInYears counts a birthday (and as the law of England
// and Wales does), so its day after is 2 March.
//
//   archived   the day after the 18th birthday; the day after the 25th when consent to
//              stay until 25 is recorded; the day after the first anniversary of a
//              recorded death — whichever comes first. No date of birth and no death: no
//              rule applies and the child stays live.
//   readable   by a data manager (Clearance::DataManager) through the first anniversary of
//              archiving; by no user after that.
//   deleted    the day after the sixth anniversary of archiving.
//
// The archive date is the rule's date, not the day the job happened to run: a late run
// archives (or deletes) exactly what a daily run would have, and re-running changes nothing.
//
// RunRetention is the entry point for an operator (`contactpoint retention run`) and for
// the daemon, which calls it once a day with the date in Europe/London
// (server/retention_job.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/record.h"
#include "util/date.h"
#include "util/status.h"

namespace cp {

class ChildStore;

// Why a child is archived. Stable names: they appear in reports.
enum class ArchiveRule : uint8_t { kAge18 = 0, kAge25WithConsent = 1, kDeath = 2 };
inline constexpr size_t kArchiveRuleCount = 3;
const char* ArchiveRuleName(ArchiveRule rule);  // "age_18", "age_25_consent", "death"

// The day `years` after `from`: the day after the anniversary.
Date DayAfterAnniversary(const Date& from, int years);

struct ArchiveDue {
  Date on;  // the first day the child is archived
  ArchiveRule rule;
};
// When the rules archive this record; nullopt when none applies (no date of birth, no death).
std::optional<ArchiveDue> ArchiveDueFor(const ChildRecord& record);

// The last day a data manager reads a child archived on `archived_on`.
Date LastDayReadableByDataManager(const Date& archived_on);
// The first day a child archived on `archived_on` is deleted.
Date DeletionDueFor(const Date& archived_on);

struct RetentionOptions {
  bool dry_run = false;  // decide and report; write nothing
  bool compact = false;  // after deleting, compact every family so the data leaves disk now
  // When set and it becomes true, the run stops between children and returns
  // FailedPrecondition (the daemon's shutdown). What was already written stays: each
  // child's change is whole, and a later run finishes the rest.
  const std::atomic<bool>* stop = nullptr;
};

struct RetentionReport {
  Date as_of;
  bool dry_run = false;
  // Children archived (or, dry run, that would be), by rule.
  std::array<uint64_t, kArchiveRuleCount> archived{};
  uint64_t deleted = 0;            // archived children deleted for good
  uint64_t live = 0;               // children left live
  uint64_t no_rule = 0;            // of those, with no date of birth and no death
  uint64_t archived_readable = 0;  // archived, within the data managers' year
  uint64_t archived_kept = 0;      // archived, past that year, not yet due for deletion
  // Dry run only: the ids behind each count, ascending.
  std::array<std::vector<ChildId>, kArchiveRuleCount> archive_ids;
  std::vector<ChildId> delete_ids;

  uint64_t ArchivedTotal() const { return archived[0] + archived[1] + archived[2]; }
};

// Applies the lifecycle rules to every child as of `as_of`: archives those due (each one
// WriteBatch), deletes archived children due for deletion (each one WriteBatch). A child due
// for deletion when first seen live is deleted directly. Safe to re-run: a second run with the
// same date does nothing. Runs beside feeds and searches: children are read from one
// snapshot, and each change takes the store's write lock. InvalidArgument for an empty date;
// FailedPrecondition when options.stop asked it to stop.
Result<RetentionReport> RunRetention(ChildStore* store, const Date& as_of,
                                     const RetentionOptions& options);

}  // namespace cp
