#include "storage/record.h"

namespace cp {

std::optional<Gender> ParseGender(std::string_view text) {
  if (text.empty() || text == "U" || text == "u") return Gender::kUnknown;
  if (text == "M" || text == "m") return Gender::kMale;
  if (text == "F" || text == "f") return Gender::kFemale;
  return std::nullopt;
}

const char* GenderCode(Gender g) {
  switch (g) {
    case Gender::kMale: return "M";
    case Gender::kFemale: return "F";
    case Gender::kUnknown: break;
  }
  return "U";
}

const char* ServiceKindName(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::kSchool: return "school";
    case ServiceKind::kGpPractice: return "gp_practice";
    case ServiceKind::kSocialCare: return "social_care";
    case ServiceKind::kSexualHealth: return "sexual_health";
    case ServiceKind::kMentalHealth: return "mental_health";
    case ServiceKind::kSubstanceMisuse: return "substance_misuse";
    case ServiceKind::kOther: break;
  }
  return "other";
}

std::optional<ServiceKind> ParseServiceKind(std::string_view name) {
  for (int k = 0; k <= static_cast<int>(kLastServiceKind); ++k) {
    if (name == ServiceKindName(static_cast<ServiceKind>(k))) return static_cast<ServiceKind>(k);
  }
  return std::nullopt;
}

}  // namespace cp
