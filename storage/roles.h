// Who may use the index, and what each kind of user may do: one table, in roles.cc, that
// the server consults for every request. docs/accounts_and_audit.md shows it to ops.
//
// A role's result cap bounds one search (at most kMaxResultCap, the engine's ceiling); its
// daily quota bounds searches per user per UTC day (anti-trawling). A role with quota 0
// may not search at all.
//
// Thread safety: the table is immutable; every function may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace cp {

// Stored as one byte in an account record: values are part of the on-disk format, never
// renumber them.
enum class Role : uint8_t {
  kLocalAuthoritySocialCare = 1,
  kLocalAuthorityEducation = 2,
  kHealthProfessional = 3,
  kPolice = 4,
  kYouthOffendingTeam = 5,
  kProbation = 6,
  kSchoolPastoral = 7,
  kVoluntaryOrganisation = 8,
  kNationalPartner = 9,
  kShieldingManager = 10,
  kChildProtection = 11,  // may break glass
  kFeedSupplier = 12,
  kSystemAdministrator = 13,
  kDataManager = 14,  // records management: reads archived children for their year
};

// Operations a request may need. Bit flags so that a role's permissions are one word.
enum class Operation : uint32_t {
  kSearch = 1u << 0,
  kGetRecord = 1u << 1,
  kShield = 1u << 2,  // shield and unshield
  kBreakGlass = 1u << 3,
  kFeedBatch = 1u << 4,
  kReview = 1u << 5,
  kAccountAdmin = 1u << 6,
  // Reads run under Clearance::DataManager: an archived child is readable by id through the
  // first anniversary of archiving (storage/retention.h). Never hidden fields of a shielded
  // child, never more than an ordinary reader sees of a live one.
  kReadArchived = 1u << 7,
};

inline constexpr uint32_t kMaxResultCap = 50;

struct RolePolicy {
  Role role;
  std::string_view name;         // "la_social_care": CLI and config spelling
  std::string_view description;  // for people: "local-authority social care"
  uint32_t operations;           // Operation bits
  uint32_t result_cap;           // 0 for roles that may not search; else 1..kMaxResultCap
  uint32_t daily_searches;       // per user per UTC day; 0 for roles that may not search
};

// Every role, in Role order.
std::span<const RolePolicy> AllRolePolicies();
// The policy of a role. Every Role value has one.
const RolePolicy& PolicyFor(Role role);
// By name ("police"); nullopt for an unknown name.
std::optional<Role> ParseRole(std::string_view name);
// By stored byte; nullopt for a byte that is no Role.
std::optional<Role> RoleFromByte(uint8_t byte);

inline bool Permits(Role role, Operation op) {
  return (PolicyFor(role).operations & static_cast<uint32_t>(op)) != 0;
}

}  // namespace cp
