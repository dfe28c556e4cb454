// Candidate features: what a name or place posting carries so that a search can score a
// candidate from the index scan alone, without reading the record.
//
// Encoding (after storage's flags byte; docs/key_format.md):
//   gender (1) | birth year (2, big-endian) | birth month (1) | birth day (1) |
//   then one entry per name field, in order:
//     role (1) | name length (1) | canonical name (parts joined by ' ') |
//     code count (1) | per code: length (1) | Double Metaphone primary code
//   then (postings written since 2026-11-29) the identifiers the child holds:
//     0x80 | 1 if an NHS number | 2 if a pupil number (1) | per number held: its digest (1)
// Roles: given, middle, family, former family. Names longer than 255 bytes are cut.
//
// The digests let feed matching tell, from a posting alone, that a candidate's identifier
// disagrees with the record's (different digests) or that it has none: most candidates of
// a new record are then never read. Equal digests say nothing (1 in 256 of different
// numbers share one). A posting without the trailing section (written before) says
// nothing about identifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/record.h"

namespace cp {

enum class NameRole : uint8_t { kGiven = 0, kMiddle = 1, kFamily = 2, kFormerFamily = 3 };

void EncodeCandidateFeatures(const ChildRecord& record, std::string* out);

// One byte of an identifier's XXH3 hash: what features carry of an NHS or pupil number.
uint8_t IdentifierDigest(std::string_view identifier);

// A zero-copy view over encoded features. Valid while the bytes it was made from are.
class FeatureView {
 public:
  struct NameField {
    NameRole role;
    std::string_view name;   // canonical, e.g. "smith jones"
    std::string_view codes;  // raw code list: (length, bytes)*; iterate with NextCode
    uint8_t code_count;
  };

  // False when the bytes are malformed (the view is then unusable).
  bool Parse(std::string_view bytes);

  Gender gender() const { return gender_; }
  Date date_of_birth() const { return dob_; }

  // Whether the features say which identifiers the child holds (written since 2026-11-29);
  // when they do, an absent digest means the child holds no such number.
  bool carries_identifiers() const { return carries_identifiers_; }
  const std::optional<uint8_t>& nhs_digest() const { return nhs_digest_; }
  const std::optional<uint8_t>& upn_digest() const { return upn_digest_; }

  // `bytes` without the identifier section, as features written before it existed: what
  // `check` accepts from an older posting. `bytes` itself when it has none or is malformed.
  static std::string_view WithoutIdentifiers(std::string_view bytes);

  // Iterates name fields: `pos` starts at 0; returns false when there are no more.
  bool NextName(size_t* pos, NameField* field) const;
  // Iterates the codes of a field: `pos` starts at 0.
  static bool NextCode(std::string_view codes, size_t* pos, std::string_view* code);

 private:
  Gender gender_ = Gender::kUnknown;
  Date dob_;
  std::string_view names_;
  bool carries_identifiers_ = false;
  std::optional<uint8_t> nhs_digest_, upn_digest_;
};

}  // namespace cp
