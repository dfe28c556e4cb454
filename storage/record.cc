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
    case ServiceKind::kOther: break;
  }
  return "other";
}

}  // namespace cp
