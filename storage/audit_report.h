// The audit report for the team that watches for misuse (`contactpoint audit report`):
// over a range of UTC days, every break-glass event, refusals by reason (with who), views
// of shielded children, and users whose daily volume stands far above both their own
// usual and their role's (docs/accounts_and_audit.md, "Audit report", states the rule).
//
// Thread safety: a pure read of one store; run it beside the server's writers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "storage/audit_log.h"
#include "util/status.h"

namespace cp {

class ChildStore;

struct AuditReportOptions {
  int64_t from_day = 0;  // first UTC day (days since 1970-01-01), inclusive
  int64_t to_day = 0;    // last UTC day, inclusive
  // The volume rule. A user's volume on a day is their searches, record views and
  // break-glass requests that day, whatever the outcome. A user-day is flagged when the
  // volume is at least `min_volume` and more than `factor` times both
  //   - the user's own median daily volume over the `baseline_days` days before it (days
  //     without activity count as 0), and
  //   - the role's median volume per active user-day over the same days (every user of the
  //     role who did anything that day counts once),
  // each median taken as at least 1.
  double factor = 3.0;
  uint64_t min_volume = 20;
  int baseline_days = 28;
};

struct AuditReport {
  struct RefusalGroup {
    AuditRefusal reason = AuditRefusal::kOther;
    uint64_t count = 0;
    std::map<std::string, uint64_t> by_user;  // user -> refusals of this reason
  };
  struct ShieldedView {
    AuditEntry entry;               // the view (or break-glass) that returned them
    std::vector<ChildId> shielded;  // those of its children shielded when it happened
  };
  struct Outlier {
    std::string user;
    std::string role;  // the account's role name now; "unknown" for no such account
    int64_t day = 0;
    uint64_t volume = 0;
    double own_median = 0;
    double role_median = 0;
  };
  std::vector<AuditEntry> break_glass;  // every break-glass entry, any outcome, in order
  std::vector<RefusalGroup> refusals;   // by reason code
  std::vector<ShieldedView> shielded_views;
  std::vector<Outlier> outliers;  // by day, then user
  uint64_t entries = 0;           // entries in the range
};

// Builds the report from the store's audit trail, its accounts (roles) and its children
// (shield state). Whether a child was shielded at a view: the last shield or unshield the
// trail records for it before the view decides; for a child the trail never shielded or
// unshielded (shielded by a feed, or before the trail began), its shield state now.
// InvalidArgument for from_day > to_day or options out of range; Corruption for a
// damaged audit entry (run `contactpoint audit verify`).
Result<AuditReport> BuildAuditReport(ChildStore* store, const AuditReportOptions& options);

}  // namespace cp
