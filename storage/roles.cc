// The role table. Reasoning behind the numbers:
// - Caps: a practitioner looking for one child needs a handful of results; 20 is the
//   engine's default, 10 for roles whose work concerns fewer children (probation, school
//   pastoral staff, voluntary organisations). None reaches kMaxResultCap.
// - Quotas: a day's searches for a busy practitioner of each kind, with headroom; well
//   below what trawling a region would need.
// - Separation of duties: administrators and feed suppliers do not search; only
//   shielding managers shield; only child-protection staff break glass. Review (feed
//   records that could not be matched, which may belong to a shielded child) goes to the
//   roles already trusted with shielded children: shielding managers and administrators.
// - Data managers keep the records: they read archived children for a year after archiving
//   (by id: archiving takes a child out of the search indexes) and search live ones like a
//   practitioner, with a small cap and quota — their work is checking records, not finding
//   children.
#include "storage/roles.h"

#include <initializer_list>
#include <iterator>

namespace cp {
namespace {

constexpr uint32_t Ops(std::initializer_list<Operation> ops) {
  uint32_t bits = 0;
  for (Operation op : ops) bits |= static_cast<uint32_t>(op);
  return bits;
}

using O = Operation;
constexpr uint32_t kLookUp = Ops({O::kSearch, O::kGetRecord});

constexpr RolePolicy kRoles[] = {
    {Role::kLocalAuthoritySocialCare, "la_social_care", "local-authority social care", kLookUp, 20,
     300},
    {Role::kLocalAuthorityEducation, "la_education", "local-authority education", kLookUp, 20, 200},
    {Role::kHealthProfessional, "health", "health professional", kLookUp, 20, 200},
    {Role::kPolice, "police", "police", kLookUp, 20, 200},
    {Role::kYouthOffendingTeam, "youth_offending", "youth offending team", kLookUp, 20, 100},
    {Role::kProbation, "probation", "probation", kLookUp, 10, 50},
    {Role::kSchoolPastoral, "school_pastoral", "school pastoral staff", kLookUp, 10, 50},
    {Role::kVoluntaryOrganisation, "voluntary", "voluntary organisation", kLookUp, 10, 30},
    {Role::kNationalPartner, "national_partner", "national partner", kLookUp, 20, 200},
    {Role::kShieldingManager, "shielding_manager", "local-authority shielding manager",
     Ops({O::kSearch, O::kGetRecord, O::kShield, O::kReview}), 20, 200},
    {Role::kChildProtection, "child_protection", "child protection (may break glass)",
     Ops({O::kSearch, O::kGetRecord, O::kBreakGlass}), 20, 200},
    {Role::kFeedSupplier, "feed_supplier", "feed supplier (system account)", Ops({O::kFeedBatch}),
     0, 0},
    {Role::kSystemAdministrator, "system_admin", "system administrator",
     Ops({O::kAccountAdmin, O::kReview}), 0, 0},
    {Role::kDataManager, "data_manager", "data manager (reads archived records for a year)",
     Ops({O::kSearch, O::kGetRecord, O::kReadArchived}), 10, 50},
};

static_assert(std::size(kRoles) == 14);

}  // namespace

std::span<const RolePolicy> AllRolePolicies() { return kRoles; }

const RolePolicy& PolicyFor(Role role) { return kRoles[static_cast<uint8_t>(role) - 1]; }

std::optional<Role> ParseRole(std::string_view name) {
  for (const auto& p : kRoles) {
    if (p.name == name) return p.role;
  }
  return std::nullopt;
}

std::optional<Role> RoleFromByte(uint8_t byte) {
  if (byte < 1 || byte > std::size(kRoles)) return std::nullopt;
  return static_cast<Role>(byte);
}

}  // namespace cp
