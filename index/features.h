// Candidate features: what a name or place posting carries so that a search can score a
// candidate from the index scan alone, without reading the record.
//
// Encoding (after storage's flags byte; docs/key_format.md):
//   gender (1) | birth year (2, big-endian) | birth month (1) | birth day (1) |
//   then one entry per name field, in order:
//     role (1) | name length (1) | canonical name (parts joined by ' ') |
//     code count (1) | per code: length (1) | Double Metaphone primary code
// Roles: given, middle, family, former family. Names longer than 255 bytes are cut.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/record.h"

namespace cp {

enum class NameRole : uint8_t { kGiven = 0, kMiddle = 1, kFamily = 2, kFormerFamily = 3 };

void EncodeCandidateFeatures(const ChildRecord& record, std::string* out);

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

  // Iterates name fields: `pos` starts at 0; returns false when there are no more.
  bool NextName(size_t* pos, NameField* field) const;
  // Iterates the codes of a field: `pos` starts at 0.
  static bool NextCode(std::string_view codes, size_t* pos, std::string_view* code);

 private:
  Gender gender_ = Gender::kUnknown;
  Date dob_;
  std::string_view names_;
};

}  // namespace cp
