// Who is reading: the only way to see the hidden fields of a shielded child.
//
// Ordinary clearance sees a shielded child's names, date of birth, gender, identifiers
// and the shield flag — never its hidden fields. Elevated clearance is a separate,
// explicit object: a local authority's shielding manager, a child-protection break-glass
// override, or the engine's own matching. Building one is a deliberate, searchable call
// (`Clearance::Elevated`) that names who holds it and why; the server wires it to roles
// and to the audit trail.
#pragma once

#include <string>

#include "util/date.h"

namespace cp {

class Clearance {
 public:
  enum class Level : uint8_t {
    kOrdinary = 0,
    kShieldingManager,  // the local authority that shields children
    kBreakGlass,        // child-protection override, raises an investigation flag
    kMatching,          // feed matching inside the engine; never shown to a user
    kDataManager,       // reads archived children for a year after archiving (not hidden fields)
  };

  static Clearance Ordinary() { return Clearance(Level::kOrdinary, "", ""); }
  static Clearance Elevated(Level level, std::string holder, std::string reason) {
    return Clearance(level, std::move(holder), std::move(reason));
  }

  // `as_of` is the day the reading happens on (the server passes today's date in
  // Europe/London, server/london_time.h): it decides which
  // archived children are still within their year.
  static Clearance DataManager(std::string holder, std::string reason, Date as_of) {
    Clearance c(Level::kDataManager, std::move(holder), std::move(reason));
    c.as_of_ = as_of;
    return c;
  }

  Level level() const { return level_; }
  // A shielded child's hidden fields. Sensitive services are a separate matter, decided by
  // the child's consent (storage/record.h): only kMatching reads them without it.
  bool SeesHiddenFields() const {
    return level_ != Level::kOrdinary && level_ != Level::kDataManager;
  }
  // Whether a child archived on `archived_on` is readable at all (storage/retention.cc).
  bool SeesArchived(const Date& archived_on) const;
  const std::string& holder() const { return holder_; }
  const std::string& reason() const { return reason_; }

 private:
  Clearance(Level level, std::string holder, std::string reason)
      : level_(level), holder_(std::move(holder)), reason_(std::move(reason)) {}

  Level level_;
  std::string holder_;
  std::string reason_;
  Date as_of_;  // kDataManager only
};

}  // namespace cp
