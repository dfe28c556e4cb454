#include "ingest/best_view.h"

#include <algorithm>
#include <functional>

#include "index/normalize.h"
#include "index/similarity.h"

namespace cp {
namespace {

const ServiceContact* Service(const HiddenFields& h, ServiceKind kind) {
  for (const auto& s : h.services) {
    if (s.kind == kind) return &s;
  }
  return nullptr;
}

// One field of the best view: its value in a record (empty: not supplied), and how to copy
// it from a source record. `hidden` says it is a hidden field.
struct FieldRule {
  const char* name;
  bool hidden;
  std::function<std::string(const ChildRecord&, const HiddenFields&)> value;
  std::function<void(const SourceRecord&, ChildRecord*, HiddenFields*)> copy;
  bool sensitive = false;  // a sensitive service: in no source's discrepancy report
};

std::string ServiceName(const HiddenFields& h, ServiceKind kind) {
  const ServiceContact* c = Service(h, kind);
  return c ? c->name : std::string();
}

void CopyService(ServiceKind kind, const SourceRecord& s, HiddenFields* h) {
  for (const auto& c : s.hidden.services) {
    if (c.kind == kind) h->services.push_back(c);
  }
}

std::string DateText(const Date& d) { return d.empty() ? std::string() : d.ToString(); }

const std::vector<FieldRule>& FieldRules() {
  using R = const ChildRecord&;
  using H = const HiddenFields&;
  static const std::vector<FieldRule> rules = {
      {"given_name", false, [](R r, H) { return r.given_name; },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->given_name = s.record.given_name; }},
      {"middle_names", false, [](R r, H) { return r.middle_names; },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->middle_names = s.record.middle_names; }},
      {"family_name", false, [](R r, H) { return r.family_name; },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->family_name = s.record.family_name; }},
      {"date_of_birth", false, [](R r, H) { return DateText(r.date_of_birth); },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->date_of_birth = s.record.date_of_birth; }},
      {"date_of_death", false, [](R r, H) { return DateText(r.date_of_death); },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->date_of_death = s.record.date_of_death; }},
      {"gender", false, [](R r, H) { return r.gender == Gender::kUnknown ? std::string() : GenderCode(r.gender); },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->gender = s.record.gender; }},
      {"nhs_number", false, [](R r, H) { return r.nhs_number; },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->nhs_number = s.record.nhs_number; }},
      {"pupil_number", false, [](R r, H) { return r.pupil_number; },
       [](const SourceRecord& s, ChildRecord* r, HiddenFields*) { r->pupil_number = s.record.pupil_number; }},
      // Address and postcode travel together: a postcode from one source beside an address
      // from another would describe no real place.
      {"address", true, [](R, H h) { return h.address.empty() && h.postcode.empty() ? std::string() : h.address + ", " + h.postcode; },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) {
         h->address = s.hidden.address;
         h->postcode = s.hidden.postcode;
       }},
      {"parent", true, [](R, H h) { return h.parent_name.empty() && h.parent_phone.empty() ? std::string() : h.parent_name + ", " + h.parent_phone; },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) {
         h->parent_name = s.hidden.parent_name;
         h->parent_phone = s.hidden.parent_phone;
       }},
      {"school", true, [](R, H h) { return ServiceName(h, ServiceKind::kSchool); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kSchool, s, h); }},
      {"gp_practice", true, [](R, H h) { return ServiceName(h, ServiceKind::kGpPractice); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kGpPractice, s, h); }},
      {"social_care", true, [](R, H h) { return ServiceName(h, ServiceKind::kSocialCare); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kSocialCare, s, h); }},
      {"other_services", true, [](R, H h) { return ServiceName(h, ServiceKind::kOther); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kOther, s, h); }},
      // Sensitive services (storage/record.h): kept like any service; storage decides who sees them.
      {"sexual_health", true, [](R, H h) { return ServiceName(h, ServiceKind::kSexualHealth); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kSexualHealth, s, h); },
       true},
      {"mental_health", true, [](R, H h) { return ServiceName(h, ServiceKind::kMentalHealth); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kMentalHealth, s, h); },
       true},
      {"substance_misuse", true, [](R, H h) { return ServiceName(h, ServiceKind::kSubstanceMisuse); },
       [](const SourceRecord& s, ChildRecord*, HiddenFields* h) { CopyService(ServiceKind::kSubstanceMisuse, s, h); },
       true},
  };
  return rules;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r") - b + 1));
}

}  // namespace

const std::vector<std::string> kBestViewFields = [] {
  std::vector<std::string> names;
  for (const auto& r : FieldRules()) names.push_back(r.name);
  return names;
}();

BestViewRules BestViewRules::Defaults() {
  BestViewRules r;
  for (const char* f : {"date_of_birth", "given_name", "middle_names", "family_name", "gender"}) {
    r.preferred_[f] = {"births"};
  }
  r.preferred_["nhs_number"] = {"health", "births"};
  r.preferred_["gp_practice"] = {"health"};
  r.preferred_["pupil_number"] = {"school_census"};
  r.preferred_["school"] = {"school_census"};
  return r;
}

Result<BestViewRules> BestViewRules::Parse(std::string_view text) {
  BestViewRules rules = Defaults();
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (Trim(line).empty()) continue;
    size_t eq = line.find('=');
    std::string where = "rules line " + std::to_string(line_no) + ": ";
    if (eq == std::string_view::npos) return Status::InvalidArgument(where + "expected 'field = source, ...'");
    std::string field = Trim(line.substr(0, eq));
    if (std::find(kBestViewFields.begin(), kBestViewFields.end(), field) == kBestViewFields.end()) {
      return Status::InvalidArgument(where + "unknown field '" + field + "'");
    }
    std::vector<std::string> sources;
    std::string_view rest = line.substr(eq + 1);
    while (true) {
      size_t comma = rest.find(',');
      std::string s = Trim(rest.substr(0, comma));
      if (!s.empty()) sources.push_back(s);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    rules.preferred_[field] = std::move(sources);
  }
  return rules;
}

const std::vector<std::string>& BestViewRules::For(const std::string& field) const {
  static const std::vector<std::string> none;
  auto it = preferred_.find(field);
  return it == preferred_.end() ? none : it->second;
}

void BuildBestView(const BestViewRules& rules, const std::vector<SourceRecord>& sources,
                   ChildRecord* record, HiddenFields* hidden) {
  ChildRecord r;
  r.id = record->id;
  r.shield = record->shield;
  r.lifecycle = record->lifecycle;
  HiddenFields h;
  for (const auto& s : sources) r.sources.push_back(s.ref);
  for (const auto& field : FieldRules()) {
    const std::vector<std::string>& preferred = rules.For(field.name);
    const SourceRecord* best = nullptr;
    size_t best_rank = preferred.size();
    for (const auto& s : sources) {
      if (field.value(s.record, s.hidden).empty()) continue;
      size_t rank = std::find(preferred.begin(), preferred.end(), s.ref.source) - preferred.begin();
      if (best == nullptr || rank < best_rank || (rank == best_rank && s.seq > best->seq)) {
        best = &s;
        best_rank = rank;
      }
    }
    // A record that names earlier family names says its own is the current one (an
    // adoptive surname, the birth surname kept): it outranks the rules for family_name.
    if (std::string_view(field.name) == "family_name") {
      for (const auto& s : sources) {
        if (!s.record.former_family_names.empty() && !s.record.family_name.empty() &&
            (best == nullptr || best->record.former_family_names.empty() || s.seq > best->seq)) {
          best = &s;
        }
      }
    }
    if (best == nullptr) continue;
    field.copy(*best, &r, &h);
    r.provenance.push_back({field.name, best->ref.source});
  }
  // Former family names: every source's, plus any family name a source gives that the
  // best view does not use (a birth surname after adoption stays searchable).
  const std::string current = CanonicalName(r.family_name);
  auto add_former = [&](const std::string& name) {
    if (name.empty() || CanonicalName(name) == current) return;
    for (const auto& f : r.former_family_names) {
      if (CanonicalName(f) == CanonicalName(name)) return;
    }
    r.former_family_names.push_back(name);
  };
  for (const auto& s : sources) {
    for (const auto& f : s.record.former_family_names) add_former(f);
  }
  // Another source's family name is kept as a former one only when it is another name,
  // not a slip of this one ("Dlaton" for "Dalton" would show as a name the child had).
  for (const auto& s : sources) {
    const std::string other = CanonicalName(s.record.family_name);
    if (!other.empty() && EditDistance(other, current, 2) > 2) add_former(s.record.family_name);
  }
  *record = std::move(r);
  *hidden = std::move(h);
}

std::vector<Discrepancy> FindDiscrepancies(const SourceRecord& theirs, const ChildRecord& best,
                                           const HiddenFields& best_hidden) {
  std::vector<Discrepancy> out;
  for (const auto& field : FieldRules()) {
    // A shielded child's location is for no source's report: the source's own value is
    // theirs, but the index's value may be where the child now is.
    if (field.hidden && best.shield.shielded) continue;
    // Which sensitive service sees a child is for no other source to learn, consent or not.
    if (field.sensitive) continue;
    std::string mine = field.value(theirs.record, theirs.hidden);
    std::string index = field.value(best, best_hidden);
    if (mine.empty() || index.empty() || mine == index) continue;
    std::string supplier;
    for (const auto& p : best.provenance) {
      if (p.field == field.name) supplier = p.source;
    }
    if (supplier == theirs.ref.source) continue;
    out.push_back({field.name, std::move(mine), std::move(index), std::move(supplier)});
  }
  return out;
}

}  // namespace cp
