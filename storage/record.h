// The child record: what the engine stores about one child.
//
// A record splits in two. `ChildRecord` holds what any authorised user may see, shielded
// or not: names, date of birth, gender, identifiers and the shield state. `HiddenFields`
// holds everything that could reveal where a child is: address, postcode, parent/carer
// contact, and every service in contact (school, GP practice, others). Storage keeps
// HiddenFields only encrypted, and hands them out only as ChildStore's read path allows
// (see storage/child_store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/date.h"

namespace cp {

using ChildId = uint64_t;  // 1, 2, 3, ...; 0 is never a child

enum class Gender : uint8_t { kUnknown = 0, kMale = 1, kFemale = 2 };
// "M", "F", "" -> kMale, kFemale, kUnknown; anything else is nullopt.
std::optional<Gender> ParseGender(std::string_view text);
const char* GenderCode(Gender g);  // "M", "F", "U"

// Stored as one byte: never renumber.
enum class ServiceKind : uint8_t {
  kSchool = 0,
  kGpPractice = 1,
  kSocialCare = 2,
  kOther = 3,
  // Sensitive services: stored like any service (sealed with the hidden fields), released by
  // storage only where the child's consent is recorded (LifecycleState).
  kSexualHealth = 4,
  kMentalHealth = 5,
  kSubstanceMisuse = 6,
};
inline constexpr ServiceKind kLastServiceKind = ServiceKind::kSubstanceMisuse;
// "school", "gp_practice", "social_care", "other", "sexual_health", "mental_health",
// "substance_misuse".
const char* ServiceKindName(ServiceKind kind);
// The kind of a name ServiceKindName gives; nullopt for any other text.
std::optional<ServiceKind> ParseServiceKind(std::string_view name);
inline bool IsSensitiveService(ServiceKind kind) {
  return kind == ServiceKind::kSexualHealth || kind == ServiceKind::kMentalHealth ||
         kind == ServiceKind::kSubstanceMisuse;
}

struct ServiceContact {
  ServiceKind kind = ServiceKind::kOther;
  std::string name;           // "Hillside Primary School"
  std::string contact_point;  // a phone number or address for practitioners; may be empty
  friend bool operator==(const ServiceContact&, const ServiceContact&) = default;
};

// Fields that reveal where a child is. Never shown for a shielded child without elevated
// clearance; never indexed for a shielded child.
struct HiddenFields {
  std::string address;
  std::string postcode;  // canonical ("SW1A 1AA") or empty
  std::string parent_name;
  std::string parent_phone;
  std::vector<ServiceContact> services;

  bool empty() const {
    return address.empty() && postcode.empty() && parent_name.empty() && parent_phone.empty() &&
           services.empty();
  }
  friend bool operator==(const HiddenFields&, const HiddenFields&) = default;
};

// Which source supplied a field of the best view.
struct FieldSource {
  std::string field;   // column name, e.g. "date_of_birth", "address"
  std::string source;  // source name, e.g. "births"
  friend bool operator==(const FieldSource&, const FieldSource&) = default;
};

struct SourceRef {
  std::string source;  // "births", "school_census", "la_leeds"
  std::string key;     // the source's own key for its record
  friend bool operator==(const SourceRef&, const SourceRef&) = default;
};

struct ShieldState {
  bool shielded = false;
  std::string by;       // organisation that set the current state
  std::string reason;   // stated reason
  int64_t since_unix = 0;
  friend bool operator==(const ShieldState&, const ShieldState&) = default;
};

// Where a record is in its lifecycle (storage/retention.h, docs/operations.md). Not a
// source's field: feeds and the best view carry it over unchanged.
struct LifecycleState {
  bool consent_to_25 = false;  // consent to stay on the index until 25 is recorded
  Date archived_on;            // empty while live; else the first day the child was archived
  // Consent to show sensitive services (sexual health, mental health, substance misuse) is
  // recorded; recorded by a person (`contactpoint consent`), never by a feed.
  bool consent_sensitive_services = false;
  bool archived() const { return !archived_on.empty(); }
  friend bool operator==(const LifecycleState&, const LifecycleState&) = default;
};

struct ChildRecord {
  ChildId id = 0;
  std::string given_name;
  std::string middle_names;  // space separated
  std::string family_name;
  std::vector<std::string> former_family_names;  // earlier surnames, e.g. a birth surname
  Date date_of_birth;                            // empty when unknown
  Date date_of_death;                            // empty unless a death is recorded
  Gender gender = Gender::kUnknown;
  std::string nhs_number;    // 10 digits, check digit valid, or empty
  std::string pupil_number;  // 13 characters, check letter valid, or empty
  ShieldState shield;
  std::vector<SourceRef> sources;
  std::vector<FieldSource> provenance;
  LifecycleState lifecycle;
  friend bool operator==(const ChildRecord&, const ChildRecord&) = default;
};

// A child as one reader may see it. `hidden` is present only when the reader may see
// the hidden fields: the child is not shielded, or the reader holds elevated clearance.
struct ChildView {
  ChildRecord record;
  std::optional<HiddenFields> hidden;
};

}  // namespace cp
