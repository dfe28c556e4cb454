#include "query/criteria.h"

#include "index/normalize.h"
#include "util/identifiers.h"
#include "util/postcode.h"

namespace cp {

const char* const kAcceptedCriteria =
    "accepted criteria: (1) an NHS number or a pupil number alone; (2) family name + given "
    "name (an initial is enough) + date of birth or a date-of-birth range of at most 2 years; "
    "(3) family name + date of birth + gender + postcode; (4) given name + date of birth + "
    "gender + postcode";

namespace {

Status Refuse(const std::string& why) {
  return Status::InvalidArgument(why + "; " + kAcceptedCriteria);
}

Status CheckDates(const SearchCriteria& c) {
  for (const auto* d : {&c.date_of_birth, &c.dob_from, &c.dob_to}) {
    if (*d && !IsValidDate((*d)->year, (*d)->month, (*d)->day)) {
      return Status::InvalidArgument("a date of birth is not a valid date");
    }
  }
  if (c.date_of_birth && (c.dob_from || c.dob_to)) {
    return Status::InvalidArgument("give a date of birth or a date-of-birth range, not both");
  }
  if (c.dob_from.has_value() != c.dob_to.has_value()) {
    return Status::InvalidArgument("a date-of-birth range needs both a start and an end");
  }
  if (c.dob_from) {
    if (*c.dob_to < *c.dob_from) {
      return Status::InvalidArgument("the date-of-birth range ends before it starts");
    }
    Date limit = *c.dob_from;
    limit.year += 2;
    if (limit.month == 2 && limit.day == 29) limit.day = 28;
    if (limit < *c.dob_to) {
      return Status::InvalidArgument("a date-of-birth range may span at most 2 years");
    }
  }
  return Status::OK();
}

}  // namespace

namespace {

Result<CriteriaKind> CheckCriteria(SearchCriteria* c) {
  if (c->limit == 0 || c->limit > kMaxResultCap) {
    return Status::InvalidArgument("the result limit must be between 1 and " +
                                   std::to_string(kMaxResultCap));
  }
  Status s = CheckDates(*c);
  if (!s.ok()) return s;
  if (!c->nhs_number.empty()) {
    auto nhs = NormaliseNhsNumber(c->nhs_number);
    if (!nhs.ok()) return nhs.status();
    c->nhs_number = *nhs;
  }
  if (!c->pupil_number.empty()) {
    auto upn = NormaliseUpn(c->pupil_number);
    if (!upn.ok()) return upn.status();
    c->pupil_number = *upn;
  }
  if (!c->postcode.empty()) {
    auto pc = NormalisePostcode(c->postcode);
    if (!pc.ok()) return pc.status();
    c->postcode = *pc;
  }
  if (!c->nhs_number.empty() || !c->pupil_number.empty()) return CriteriaKind::kIdentifier;

  // An initial is enough only for the given name, and only with both names and a date.
  const auto given_parts = NameParts(c->given_name);
  const auto family_parts = NameParts(c->family_name);
  const bool given = !given_parts.empty();
  const bool given_full = given && !(given_parts.size() == 1 && given_parts[0].size() == 1);
  const bool family = !family_parts.empty() && !(family_parts.size() == 1 && family_parts[0].size() == 1);
  if (!family_parts.empty() && !family) return Refuse("a family name must be more than an initial");
  const bool dob = c->date_of_birth.has_value();
  const bool range = c->dob_from.has_value();
  const bool gender = c->gender != Gender::kUnknown;
  const bool place = !c->postcode.empty();
  if (family && given && (dob || range)) return CriteriaKind::kNamesAndBirth;
  if (family && dob && gender && place) return CriteriaKind::kFamilyBirthGenderPlace;
  if (given_full && dob && gender && place) return CriteriaKind::kGivenBirthGenderPlace;
  if (!given && !family && !dob && !range && !gender && !place) {
    return Refuse("no search criteria given");
  }
  return Refuse("these criteria are not enough to search on");
}

}  // namespace

Result<CriteriaKind> ValidateCriteria(SearchCriteria* c) {
  auto kind = CheckCriteria(c);
  // Every refusal names the accepted combinations, so a person can correct the search
  // whatever was wrong with it.
  if (!kind.ok() && kind.status().message().find(kAcceptedCriteria) == std::string::npos) {
    return Status::InvalidArgument(kind.status().message() + "; " + kAcceptedCriteria);
  }
  return kind;
}

}  // namespace cp
