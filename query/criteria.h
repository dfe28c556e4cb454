// Search criteria and the minimum-criteria rule, checked before any index is touched.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "storage/record.h"
#include "storage/roles.h"  // kMaxResultCap, the engine's ceiling on one search's results
#include "util/date.h"
#include "util/status.h"

namespace cp {

inline constexpr size_t kDefaultResultCap = 20;

struct SearchCriteria {
  std::string given_name;
  std::string family_name;
  std::optional<Date> date_of_birth;
  std::optional<Date> dob_from;  // with dob_to: a range of at most two years
  std::optional<Date> dob_to;
  Gender gender = Gender::kUnknown;  // kUnknown: not a criterion
  std::string postcode;              // any accepted spelling; canonicalised by Validate
  std::string nhs_number;
  std::string pupil_number;
  size_t limit = kDefaultResultCap;  // 1..kMaxResultCap
};

enum class CriteriaKind {
  kIdentifier,              // NHS number or pupil number alone
  kNamesAndBirth,           // family + given (an initial is enough) + dob or dob range
  kFamilyBirthGenderPlace,  // family + dob + gender + postcode
  kGivenBirthGenderPlace,   // given + dob + gender + postcode
};

// The accepted combinations, as a person reads them (part of every refusal message).
extern const char* const kAcceptedCriteria;

// Checks the minimum criteria and the form of every field. On success, canonicalises
// the identifiers and postcode in *criteria and returns which combination it met. Every
// refusal is InvalidArgument with a message that says what is wrong; a refusal for
// missing criteria lists the accepted combinations.
Result<CriteriaKind> ValidateCriteria(SearchCriteria* criteria);

}  // namespace cp
