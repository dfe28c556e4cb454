#include "tools/json_output.h"

#include <cmath>
#include <utility>

namespace cp {

using nlohmann::json;

json RecordJson(const ChildView& view) {
  const ChildRecord& r = view.record;
  json j;
  j["given_name"] = r.given_name;
  j["middle_names"] = r.middle_names;
  j["family_name"] = r.family_name;
  j["former_family_names"] = r.former_family_names;
  j["date_of_birth"] = r.date_of_birth.empty() ? "" : r.date_of_birth.ToString();
  j["gender"] = GenderCode(r.gender);
  j["nhs_number"] = r.nhs_number;
  j["pupil_number"] = r.pupil_number;
  j["shielded"] = r.shield.shielded;
  if (view.hidden) {
    const HiddenFields& h = *view.hidden;
    j["address"] = h.address;
    j["postcode"] = h.postcode;
    j["parent_name"] = h.parent_name;
    j["parent_phone"] = h.parent_phone;
    j["school"] = "";
    j["gp_practice"] = "";
    json services = json::array();
    for (const auto& s : h.services) {
      if (s.kind == ServiceKind::kSchool && j["school"] == "") j["school"] = s.name;
      if (s.kind == ServiceKind::kGpPractice && j["gp_practice"] == "") j["gp_practice"] = s.name;
      services.push_back({{"kind", ServiceKindName(s.kind)}, {"name", s.name}, {"contact_point", s.contact_point}});
    }
    j["services"] = std::move(services);
  }
  json provenance = json::object();
  for (const auto& p : r.provenance) provenance[p.field] = p.source;
  j["provenance"] = std::move(provenance);
  return j;
}

json ChildJson(const ChildView& view, double score) {
  json j;
  j["child_id"] = view.record.id;
  if (score >= 0) j["score"] = std::round(score * 10000) / 10000;
  j["shielded"] = view.record.shield.shielded;
  j["record"] = RecordJson(view);
  json sources = json::array();
  for (const auto& s : view.record.sources) sources.push_back({{"source", s.source}, {"key", s.key}});
  j["sources"] = std::move(sources);
  return j;
}

json SearchJson(const SearchResponse& response) {
  json j;
  json results = json::array();
  if (response.outcome == SearchOutcome::kTooManyMatches) {
    j["status"] = "too_many_matches";
    j["message"] = "too many matches (" + std::to_string(response.matches) +
                   " or more) — refine the search";
  } else {
    j["status"] = "ok";
    for (const auto& hit : response.hits) results.push_back(ChildJson(hit.view, hit.score));
  }
  j["results"] = std::move(results);
  return j;
}

json InvalidCriteriaJson(const std::string& message) {
  return json{{"status", "invalid_criteria"}, {"message", message}, {"results", json::array()}};
}

}  // namespace cp
